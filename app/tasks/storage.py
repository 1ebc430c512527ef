"""Background storage work: images that could not follow their label during the request."""
from __future__ import annotations

from celery import shared_task

from app.extensions import db
from app.models import Detection
from app.services import feedback
from app.services.predictions import Gone
from app.storage import StorageError


@shared_task(autoretry_for=(StorageError,), retry_backoff=30, retry_backoff_max=3600, max_retries=12)
def place_images(detection_id: int) -> None:
    """Move a detection's stored images to its label's class folders, retrying while storage is down."""
    detection = db.session.get(Detection, detection_id)
    if detection is None:
        return  # deleted meanwhile: nothing left to move
    try:
        feedback.place_images(detection)
    except Gone:
        pass  # deleted while this ran
