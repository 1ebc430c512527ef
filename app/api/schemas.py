"""JSON bodies of the API; openapi.py describes exactly these shapes."""
from __future__ import annotations

from datetime import datetime

from app.models import ApiToken, Detection, Prediction, Result, Status
from app.models.base import as_utc
from ml.recognizers import get


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z."""
    return as_utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def feedback(d: Detection) -> dict | None:
    """The feedback a detection got: null before any, no label once its box was marked not a face (or digit)."""
    if d.status == Status.UNREVIEWED:
        return None
    return {"status": f"not_a_{d.thing}" if d.not_a_face else d.status.value, "label": None if d.not_a_face else d.label}


def detection(d: Detection) -> dict:
    """One face or digit: where its box came from, the model's answer, and the feedback it got."""
    return {
        "index": d.position,
        "box": list(d.box),
        "source": d.source,
        "label": d.predicted_label,
        "confidence": round(d.confidence, 6),
        "probabilities": {k: round(v, 6) for k, v in d.probabilities.items()},
        "feedback": feedback(d),
    }


def number(r: Result) -> dict:
    """A digits result's house number: what its digits spell now, what the reader read and its confidence in that,
    and the digits in reading order (each with the model's confidence in its current label)."""
    return {"number": r.number, "read_number": r.read_number, "confidence": round(r.number_confidence, 6),
            "digits": [{"index": d.position, "box": list(d.box), "label": d.label,
                        "confidence": round(d.probabilities.get(d.label, d.confidence), 6)}
                       for d in r.number_digits]}


def result(r: Result) -> dict:
    """One recognizer's output on the photo; digits add the number they spell."""
    body = {"recognizer": r.recognizer, "model_version": r.model_version, "duration_ms": r.duration_ms,
            "detections": [detection(d) for d in r.detections]}
    if get(r.recognizer).thing == "digit":
        body.update(number(r))
    return body


def prediction(p: Prediction) -> dict:
    """The body of 201 on create, of each list item, and of GET by id."""
    location = None
    if p.location:
        location = {"latitude": p.latitude, "longitude": p.longitude, "source": p.location_source}
    return {"id": p.id, "created_at": timestamp(p.created_at), "width": p.width, "height": p.height,
            "location": location, "results": [result(r) for r in p.results]}


def token(t: ApiToken, current: bool) -> dict:
    """One API token as the token list shows it; `current` marks the one the request came with."""
    return {"id": t.id, "created_at": timestamp(t.created_at), "expires_at": timestamp(t.expires_at),
            "last_used_at": timestamp(t.last_used_at) if t.last_used_at else None, "current": current}
