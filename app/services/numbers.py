"""House numbers on kept results: confirm a whole number at once, and how often the number reader read it right.

Each digit is a detection of the `digits` result (its box, label and feedback); the number is what the digits spell
in reading order (`Result.number`). Correcting, deleting (NOT_A_FACE) or adding one digit goes through the feedback
and added-box services like a face does.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Prediction, Result, Status, User
from app.models.base import utcnow
from app.services import feedback

DIGITS = "digits"


class NumberError(ValueError):
    """A number that cannot be confirmed; the message is safe to show and `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def digits_result(prediction: Prediction) -> Result:
    """The prediction's digits result; NumberError(404) when digits did not run on the photo."""
    found = [r for r in prediction.results if r.recognizer == DIGITS]
    if not found:
        raise NumberError("This photo has no digits result.", 404)
    return found[0]


def confirm(user: User, result: Result, number: str, source: str,
            seen_ms: int | None = None) -> list[feedback.Outcome]:
    """Confirm every digit not yet labelled with its label (a corrected or deleted digit stays as it is), so the
    whole number `number` is confirmed; NumberError when the digits spell something else now (a stale page).
    `seen_ms`: how long the number was on screen, kept with each digit's label."""
    if not result.number:
        raise NumberError("There is no number to confirm: draw a box around each digit first.")
    if number != result.number:
        raise NumberError(f"The number now reads “{result.number}”, not “{number}”: look again and confirm that.", 409)
    return [feedback.give(user, d, d.label, source, seen_ms) for d in result.in_reading_order
            if d.status == Status.UNREVIEWED]


def agreement(days: int = 90, quick: set[int] = frozenset()) -> dict:
    """Numbers of the last `days` whose every box got feedback: how many, and how many the reader read exactly
    right (no digit corrected, deleted or added); a number with a digit in `quick` (detection ids confirmed too
    fast to have been looked at) is only counted as quick."""
    query = (select(Result).join(Result.prediction)
             .where(Result.recognizer == DIGITS, Prediction.created_at >= utcnow() - timedelta(days=days))
             .options(selectinload(Result.detections)))
    reviewed = agreed = glanced = 0
    for result in db.session.scalars(query):
        if not result.detections or any(d.status == Status.UNREVIEWED for d in result.detections):
            continue
        if any(d.id in quick for d in result.detections):
            glanced += 1
            continue
        reviewed += 1
        agreed += result.number == result.read_number
    return {"reviewed": reviewed, "agreed": agreed, "agreement": agreed / reviewed if reviewed else None,
            "quick": glanced}
