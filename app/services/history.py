"""A user's past detections with filters, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import exists, func, select
from sqlalchemy.orm import contains_eager, selectinload

from app.extensions import db
from app.models import Detection, Prediction, Result, Status, User
from ml.recognizers import get

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # the day after LAST_DAY still exists


@dataclass
class Filters:
    """What the history page narrows down to; None means any."""

    recognizer: str | None = None
    label: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    status: str | None = None  # a Status value


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _matching(user: User, filters: Filters):
    query = select(Detection).join(Detection.result).join(Result.prediction).where(Prediction.user_id == user.id)
    return _narrowed(query, filters)


def _narrowed(query, filters: Filters):
    if filters.recognizer:
        query = query.where(Result.recognizer == filters.recognizer)
    if filters.label:
        query = query.where(Detection.label == filters.label)
    if filters.status:
        query = query.where(Detection.status == Status(filters.status))
    if filters.since:
        query = query.where(Prediction.created_at >= _start_of(filters.since))
    if filters.until:
        query = query.where(Prediction.created_at < _start_of(filters.until + timedelta(days=1)))
    return query


def detections(user: User, filters: Filters, page: int, per_page: int):
    """One page of the user's detections matching `filters` (dates are UTC days), boxes marked not a face too."""
    query = (_matching(user, filters)
             .options(contains_eager(Detection.result).contains_eager(Result.prediction))
             .order_by(Prediction.created_at.desc(), Detection.result_id, Detection.position))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def not_faces(user: User, filters: Filters) -> dict[str, int]:
    """How many of the matching detections are boxes marked not a face, or not a digit, by what they are not (the
    page's count leaves them out)."""
    query = (_matching(user, filters).where(Detection.status == Status.NOT_A_FACE)
             .with_only_columns(Result.recognizer, func.count(Detection.id)).group_by(Result.recognizer))
    counts: dict[str, int] = {}
    for recognizer, n in db.session.execute(query):
        thing = get(recognizer).thing
        counts[thing] = counts.get(thing, 0) + n
    return counts


def predictions(user: User, filters: Filters, page: int, per_page: int):
    """One page of the user's predictions, newest first, that hold a detection matching `filters` (the API list);
    with no recognizer, label or status filter a prediction without detections matches too."""
    query = select(Prediction).where(Prediction.user_id == user.id)
    if filters.recognizer or filters.label or filters.status:
        inner = _narrowed(select(Detection.id).join(Detection.result).where(Result.prediction_id == Prediction.id),
                          Filters(filters.recognizer, filters.label, status=filters.status))
        query = query.where(exists(inner))
    query = _narrowed(query, Filters(since=filters.since, until=filters.until))
    query = (query.order_by(Prediction.created_at.desc(), Prediction.id.desc())
             .options(selectinload(Prediction.results).selectinload(Result.detections)))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
