"""SQL models: accounts and API tokens, predictions with their detections and feedback events."""
from app.models.accounts import ApiToken, User
from app.models.predictions import Detection, FeedbackEvent, Prediction, Result, Status

__all__ = ["ApiToken", "Detection", "FeedbackEvent", "Prediction", "Result", "Status", "User"]
