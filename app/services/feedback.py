"""Confirm or correct a detection's label, and keep its stored crop and photo in the matching class folder."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from app import storage
from app.extensions import db
from app.models import Detection, FeedbackEvent, Status, User
from app.models.base import utcnow
from app.services.predictions import labelled_key
from app.storage import StorageError
from ml.recognizers import get

log = logging.getLogger(__name__)


class FeedbackError(ValueError):
    """A label the detection's recognizer does not have."""


@dataclass
class Outcome:
    """The recorded event, and whether the stored images still have to follow the label."""

    event: FeedbackEvent
    images_pending: bool


def give(user: User, detection: Detection, label: str, source: str) -> Outcome:
    """Record the feedback in SQL first, then move the images; a storage failure leaves them pending."""
    recognizer = get(detection.result.recognizer)
    if label not in recognizer.classes:
        raise FeedbackError(f"{label!r} is not a {recognizer.name} label; choose one of {', '.join(recognizer.classes)}.")
    event = FeedbackEvent(detection=detection, user=user, from_label=detection.label, to_label=label, source=source)
    detection.label = label
    detection.status = Status.CONFIRMED if label == detection.predicted_label else Status.CORRECTED
    detection.reviewed_at = utcnow()
    db.session.add(event)
    db.session.commit()
    try:
        place_images(detection)
    except StorageError as exc:
        log.warning("detection %s: images left for later: %s", detection.id, exc)
        return Outcome(event, True)
    return Outcome(event, False)


def place_images(detection: Detection) -> None:
    """Move the crop, and copy or move the photo, to the class folders of the current label (idempotent)."""
    if detection.status == Status.UNREVIEWED:
        return
    recognizer, store = detection.result.recognizer, storage.current()
    crop = labelled_key("crops", recognizer, detection.label, detection.id)
    if detection.crop_key and detection.crop_key != crop:
        store.move(detection.crop_key, crop)
        detection.crop_key = crop
        db.session.commit()
    source = detection.original_key or detection.result.prediction.photo_key
    original = labelled_key("originals", recognizer, detection.label, detection.id, PurePosixPath(source).suffix)
    if detection.original_key != original:
        if detection.original_key:
            store.move(detection.original_key, original)
        else:
            store.copy(detection.result.prediction.photo_key, original)
        detection.original_key = original
        db.session.commit()
