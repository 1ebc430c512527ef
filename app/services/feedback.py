"""Confirm or correct a detection's label or mark its box not a face, undo that, and keep its stored crop and photo
in the matching class folder."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import select

from app import storage
from app.extensions import db
from app.models import NOT_A_FACE, Detection, FeedbackEvent, Status, User
from app.models.base import utcnow
from app.services.predictions import Gone, inbox_key, labelled_key, lock
from app.storage import StorageError
from ml.recognizers import get

log = logging.getLogger(__name__)


class FeedbackError(ValueError):
    """A label the detection's recognizer does not have."""


class UndoError(ValueError):
    """Nothing to undo; the message is safe to show."""


@dataclass
class Outcome:
    """The recorded event, and whether the stored images still have to follow the label."""

    event: FeedbackEvent
    images_pending: bool


def give(user: User, detection: Detection, label: str, source: str, seen_ms: int | None = None) -> Outcome:
    """Record the feedback (a class label, or NOT_A_FACE for a box that holds no face or digit) in SQL first, then
    move the images; a storage failure leaves them pending. `seen_ms`: how long the item was on screen, when known.
    Gone when the detection was deleted meanwhile."""
    lock(detection.result.prediction_id, detection.id)
    recognizer = get(detection.result.recognizer)
    # Labels compare without case or surrounding spaces: "Surprise" is surprise.
    label = next((c for c in recognizer.classes if c == label.strip().lower()), label)
    if label != NOT_A_FACE and label not in recognizer.classes:
        raise FeedbackError(f"{label!r} is not a {recognizer.name} label; choose one of {', '.join(recognizer.classes)}.")
    event = FeedbackEvent(detection=detection, user=user, from_label=detection.label, to_label=label, source=source,
                          seen_ms=seen_ms)
    detection.label = label
    detection.status = detection.labelled_status()
    detection.reviewed_at = utcnow()
    db.session.add(event)
    db.session.commit()
    return Outcome(event, not _placed(detection))


def undo(user: User, detection: Detection) -> bool:
    """Take back the user's latest feedback on `detection`, if nobody gave any since; False when its images are
    left for later (storage failed)."""
    lock(detection.result.prediction_id, detection.id)
    event = db.session.scalar(select(FeedbackEvent).where(FeedbackEvent.detection_id == detection.id)
                              .order_by(FeedbackEvent.id.desc()).limit(1))
    if event is None:
        raise UndoError("Nothing to undo.")
    if event.user_id != user.id:
        raise UndoError("Someone else labelled it since, so it cannot be undone.")
    detection.label = event.from_label
    db.session.delete(event)
    db.session.flush()
    earlier = db.session.scalar(select(FeedbackEvent).where(FeedbackEvent.detection_id == detection.id)
                                .order_by(FeedbackEvent.id.desc()).limit(1))
    if earlier is None:
        detection.status, detection.reviewed_at = Status.UNREVIEWED, None
    else:
        detection.status, detection.reviewed_at = detection.labelled_status(), earlier.created_at
    db.session.commit()
    return _placed(detection)


def _placed(detection: Detection) -> bool:
    try:
        place_images(detection)
    except Gone:
        return True  # deleted since the label was saved: no files left to move
    except StorageError as exc:  # the SQL label is what counts; the files follow from the queue
        log.warning("detection %s: images left for later: %s", detection.id, exc)
        return False
    return True


def place_images(detection: Detection) -> None:
    """Move the crop, and copy or move the photo, to the class folders of the current label (NOT_A_FACE: the
    detector's negative folder), or back to the inbox when unreviewed (idempotent). Gone when deleted meanwhile."""
    # Under the lock a racing label or delete waits, so the files follow the latest label once and none is orphaned.
    lock(detection.result.prediction_id, detection.id)
    try:
        _move(detection, storage.current())
    finally:
        db.session.commit()  # where each file is now, as far as it got; the lock ends


def _move(detection: Detection, store) -> None:
    recognizer = detection.result.recognizer
    if detection.status == Status.UNREVIEWED:
        _unplace(detection, store)
        return
    crop = labelled_key("crops", recognizer, detection.label, detection.id)
    if detection.crop_key and detection.crop_key != crop:
        store.move(detection.crop_key, crop)
        detection.crop_key = crop
    source = detection.original_key or detection.result.prediction.photo_key
    original = labelled_key("originals", recognizer, detection.label, detection.id, PurePosixPath(source).suffix)
    if detection.original_key != original:
        if detection.original_key:
            store.move(detection.original_key, original)
        else:
            store.copy(detection.result.prediction.photo_key, original)
        detection.original_key = original


def _unplace(detection: Detection, store) -> None:
    inbox = inbox_key(detection.result.recognizer, detection.id)
    if detection.crop_key and detection.crop_key != inbox:
        store.move(detection.crop_key, inbox)
        detection.crop_key = inbox
    if detection.original_key:  # a copy of the photo made when it was labelled
        store.delete(detection.original_key)
        detection.original_key = None
