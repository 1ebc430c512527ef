"""The review queue: unreviewed detections of every user, least confident (smallest top-2 margin) first."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from app import storage
from app.extensions import db
from app.models import Detection, FeedbackEvent, Result, Status, User
from app.services import feedback
from app.services.predictions import inbox_key
from app.storage import StorageError

log = logging.getLogger(__name__)


def margin(detection: Detection) -> float:
    """Top-1 minus top-2 probability: near 0 when the model could not decide between two classes."""
    top = sorted(detection.probabilities.values(), reverse=True)
    return top[0] - top[1] if len(top) > 1 else top[0] if top else 0.0


def _unreviewed(recognizer: str | None, exclude: set[int]):
    query = (select(Detection).join(Detection.result)
             .where(Detection.status == Status.UNREVIEWED, Detection.crop_key.is_not(None)))
    if recognizer:
        query = query.where(Result.recognizer == recognizer)
    if exclude:
        query = query.where(Detection.id.not_in(exclude))
    return query


def pending(recognizer: str | None, exclude: set[int] = frozenset()) -> int:
    """How many detections wait for review."""
    query = _unreviewed(recognizer, set(exclude)).with_only_columns(func.count(Detection.id))
    return db.session.scalar(query) or 0


def queue(recognizer: str | None, exclude: set[int] = frozenset(), limit: int = 1) -> list[Detection]:
    """The `limit` unreviewed detections with the smallest margins, exactly, without reading them all.

    Probabilities sum to 1, so margin >= 2 * top1 - 1: once a window ordered by top-1 confidence ends at
    confidence c, nothing outside it has a margin below 2c - 1, and the window's items under that bound
    are certainly first. The window grows until enough items are certain.
    """
    window = max(64, limit * 8)
    while True:
        rows = list(db.session.scalars(_unreviewed(recognizer, set(exclude))
                                       .order_by(Detection.confidence, Detection.id).limit(window)))
        ranked = sorted(rows, key=lambda d: (margin(d), d.id))
        if len(rows) < window:
            return ranked[:limit]
        bound = 2 * rows[-1].confidence - 1
        certain = [d for d in ranked if margin(d) <= bound]
        if len(certain) >= limit:
            return certain[:limit]
        window *= 4


def label(reviewer: User, detection: Detection, chosen: str) -> feedback.Outcome:
    """Record a reviewer's label (confirm or correct) through the same path as the owner's feedback."""
    return feedback.give(reviewer, detection, chosen, "review")


class UndoError(ValueError):
    """Nothing to undo; the message is safe to show."""


def undo(reviewer: User, detection: Detection) -> None:
    """Take back the reviewer's latest label on `detection`, if nobody labelled it since."""
    event = db.session.scalar(select(FeedbackEvent).where(FeedbackEvent.detection_id == detection.id)
                              .order_by(FeedbackEvent.id.desc()).limit(1))
    if event is None or event.user_id != reviewer.id:
        raise UndoError("Someone else labelled it since, so it cannot be undone.")
    detection.label = event.from_label
    db.session.delete(event)
    db.session.flush()
    earlier = db.session.scalar(select(FeedbackEvent).where(FeedbackEvent.detection_id == detection.id)
                                .order_by(FeedbackEvent.id.desc()).limit(1))
    if earlier is None:
        detection.status, detection.reviewed_at = Status.UNREVIEWED, None
    else:
        detection.status = Status.CONFIRMED if detection.label == detection.predicted_label else Status.CORRECTED
        detection.reviewed_at = earlier.created_at
    db.session.commit()
    try:
        _restore_images(detection)
    except StorageError as exc:  # the SQL label is what counts; the files follow on the next change
        log.warning("detection %s: images not moved back: %s", detection.id, exc)


def _restore_images(detection: Detection) -> None:
    if detection.status != Status.UNREVIEWED:
        feedback.place_images(detection)
        return
    store = storage.current()
    inbox = inbox_key(detection.result.recognizer, detection.id)
    if detection.crop_key and detection.crop_key != inbox:
        store.move(detection.crop_key, inbox)
        detection.crop_key = inbox
    if detection.original_key:  # a copy of the photo made when it was labelled
        store.delete(detection.original_key)
        detection.original_key = None
    db.session.commit()
