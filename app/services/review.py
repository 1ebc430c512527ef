"""The review queue: unreviewed detections of every user, least confident (smallest top-2 margin) first."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Detection, Result, Status, User
from app.services import feedback


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


def label(reviewer: User, detection: Detection, chosen: str, seen_ms: int | None = None) -> feedback.Outcome:
    """Record a reviewer's label (confirm, correct or not a face) through the same path as the owner's feedback."""
    return feedback.give(reviewer, detection, chosen, "review", seen_ms)
