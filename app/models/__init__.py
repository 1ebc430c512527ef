"""SQL models: accounts and API tokens, predictions with their detections and feedback events, the model registry,
saved live sessions."""
from app.models.accounts import ApiToken, User
from app.models.live import LiveSession
from app.models.predictions import (DETECTOR, LABELLED, NOT_A_FACE, QUICK_MS, USER, Detection, FeedbackEvent,
                                    Prediction, Result, Status)
from app.models.registry import ModelVersion, RetrainRun, Reviewer, RunStatus, VersionStatus

__all__ = ["DETECTOR", "LABELLED", "NOT_A_FACE", "USER", "ApiToken", "Detection", "FeedbackEvent", "LiveSession",
           "ModelVersion", "Prediction", "QUICK_MS", "Result", "RetrainRun", "Reviewer", "RunStatus", "Status", "User",
           "VersionStatus"]
