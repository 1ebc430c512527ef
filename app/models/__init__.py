"""SQL models: accounts and API tokens, predictions with their detections and feedback events, the model registry,
saved live sessions."""
from app.models.accounts import ApiToken, User
from app.models.live import LiveSession
from app.models.predictions import Detection, FeedbackEvent, Prediction, Result, Status
from app.models.registry import ModelVersion, RetrainRun, Reviewer, RunStatus, VersionStatus

__all__ = ["ApiToken", "Detection", "FeedbackEvent", "LiveSession", "ModelVersion", "Prediction", "Result",
           "RetrainRun", "Reviewer", "RunStatus", "Status", "User", "VersionStatus"]
