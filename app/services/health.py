"""Model health per recognizer (versions over time, live agreement, feedback confusion, confidence, drift) and the
face detector's mistakes that people fixed."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import QUICK_MS, USER, Detection, FeedbackEvent, ModelVersion, Prediction, Result, Status
from app.models.base import as_utc, utcnow
from app.services import numbers, registry
from app.services.added_boxes import FACE_RECOGNIZERS
from ml.recognizers import get

BINS = 10
MIN_SAMPLE = 30  # below this many labels a rate is shown with a warning: 3 of 3 is not 100%


@dataclass
class Row:
    """What the dashboard needs of one detection."""

    predicted: str
    label: str
    status: Status
    confidence: float
    created: date
    reviewed: date | None
    quick: bool = False  # confirmed sooner than QUICK_MS after it appeared: not looked at, so left out of the rates
    detection_id: int = 0


def _rows(recognizer: str, since) -> list[Row]:
    latest = (select(FeedbackEvent.detection_id, func.max(FeedbackEvent.id).label("event_id"))
              .group_by(FeedbackEvent.detection_id).subquery())
    query = (select(Detection.predicted_label, Detection.label, Detection.status, Detection.confidence,
                    Prediction.created_at, Detection.reviewed_at, FeedbackEvent.seen_ms, Detection.id)
             .join(Detection.result).join(Result.prediction)
             .outerjoin(latest, latest.c.detection_id == Detection.id)
             .outerjoin(FeedbackEvent, FeedbackEvent.id == latest.c.event_id)
             .where(Result.recognizer == recognizer, Prediction.created_at >= since,
                    Detection.status != Status.NOT_A_FACE))  # a box that is no face says nothing of the model
    return [Row(p, lab, s, c, as_utc(t).date(), as_utc(r).date() if r else None,
                s == Status.CONFIRMED and seen is not None and seen < QUICK_MS, i)
            for p, lab, s, c, t, r, seen, i in db.session.execute(query)]


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def agreement(rows: list[Row], bucket) -> list[dict]:
    """Confirmed and corrected counts per period of review time, with the share confirmed."""
    counts: dict[date, Counter] = defaultdict(Counter)
    for row in rows:
        if row.reviewed is not None and not row.quick:
            counts[bucket(row.reviewed)][row.status.value] += 1
    out = []
    for period in sorted(counts):
        c = counts[period]
        total = c["confirmed"] + c["corrected"]
        out.append({"period": period.isoformat(), "confirmed": c["confirmed"], "corrected": c["corrected"],
                    "agreement": c["confirmed"] / total if total else None})
    return out


def confusion(rows: list[Row], classes: tuple[str, ...]) -> dict:
    """Feedback confusion (true = the reviewed label, predicted = the model's), with per-class scores."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for row in rows:
        if row.status != Status.UNREVIEWED and not row.quick and row.label in index and row.predicted in index:
            matrix[index[row.label]][index[row.predicted]] += 1
    per_class = {}
    for i, name in enumerate(classes):
        hit, actual, said = matrix[i][i], sum(matrix[i]), sum(r[i] for r in matrix)
        per_class[name] = {"precision": hit / said if said else None, "recall": hit / actual if actual else None,
                           "support": actual, "predicted": said}
    shares = [[round(10 * v / sum(r)) if sum(r) else 0 for v in r] for r in matrix]
    return {"matrix": matrix, "heat": shares, "per_class": per_class}


def confidence(rows: list[Row], low: float) -> dict:
    """Histogram of confidences, and mean confidence and the low-confidence share per day."""
    histogram = [0] * BINS
    daily: dict[date, list[float]] = defaultdict(list)
    for row in rows:
        histogram[min(int(row.confidence * BINS), BINS - 1)] += 1
        daily[row.created].append(row.confidence)
    return {
        "histogram": histogram,
        "edges": [round(i / BINS, 2) for i in range(BINS + 1)],
        "daily": [{"period": d.isoformat(), "mean": sum(v) / len(v), "low_share": sum(x < low for x in v) / len(v),
                   "n": len(v)} for d, v in sorted(daily.items())],
        "low_share": sum(r.confidence < low for r in rows) / len(rows) if rows else None,
        "mean": sum(r.confidence for r in rows) / len(rows) if rows else None,
    }


def training_distribution(version: ModelVersion | None, classes: tuple[str, ...]) -> dict[str, float]:
    """The champion's training data per class as shares (base plus feedback, from its manifest)."""
    summary = (version.manifest_summary or {}) if version else {}
    counts = Counter()
    for part in ("base_train", "feedback_train"):
        counts.update((summary.get("counts") or {}).get(part) or {})
    total = sum(counts[c] for c in classes)
    return {c: counts[c] / total for c in classes} if total else {}


def predicted_distribution(rows: list[Row], classes: tuple[str, ...]) -> list[dict]:
    """Shares of each predicted class per week."""
    weekly: dict[date, Counter] = defaultdict(Counter)
    for row in rows:
        weekly[_week(row.created)][row.predicted] += 1
    return [{"period": w.isoformat(), "n": sum(c.values()),
             "shares": {k: c[k] / sum(c.values()) for k in classes}} for w, c in sorted(weekly.items())]


def versions(recognizer: str) -> list[dict]:
    """The versions timeline, oldest first, with their scores on the fixed evaluation set."""
    return [{"label": f"v{v.number}", "version": v.version, "status": v.status.value,
             "created_at": as_utc(v.created_at).isoformat(timespec="seconds"),
             "accuracy": v.score("base_test"), "macro_f1": v.score("base_test", "macro_f1"),
             "feedback_accuracy": v.score("feedback")}
            for v in reversed(registry.versions(recognizer))]


def report(recognizer: str, days: int = 90) -> dict:
    """Everything the model-health page draws for one recognizer, JSON-ready."""
    classes = get(recognizer).classes
    rows = _rows(recognizer, utcnow() - timedelta(days=days))
    reviewed = [r for r in rows if r.status != Status.UNREVIEWED and not r.quick]
    confirmed = sum(r.status == Status.CONFIRMED for r in reviewed)
    # digits: agreement per digit (the totals) and per whole number, which is right only when every digit is.
    quick = {r.detection_id for r in rows if r.quick}
    per_number = numbers.agreement(days, quick) if get(recognizer).thing == "digit" else None
    return {
        "recognizer": recognizer, "classes": list(classes), "days": days,
        "totals": {"detections": len(rows), "reviewed": len(reviewed),
                   "agreement": confirmed / len(reviewed) if reviewed else None,
                   "quick": sum(r.quick for r in rows)},
        "numbers": per_number,
        "versions": versions(recognizer),
        "agreement": {"day": agreement(rows, lambda d: d), "week": agreement(rows, _week)},
        "confusion": confusion(rows, classes),
        "confidence": confidence(rows, current_app.config["LOW_CONFIDENCE"]),
        "low_confidence": current_app.config["LOW_CONFIDENCE"], "min_sample": MIN_SAMPLE,
        "distribution": {"weekly": predicted_distribution(rows, classes),
                         "training": training_distribution(registry.champion(recognizer), classes)},
    }


def detector(days: int = 90) -> dict:
    """Boxes of the face recognizers over the last `days`: found by the detector, drawn by people (faces it
    missed) and marked not a face (false alarms), per day and in total, JSON-ready."""
    since = utcnow() - timedelta(days=days)
    query = (select(Detection.source, Detection.status, Detection.created_at, Detection.reviewed_at)
             .join(Detection.result)
             .where(Result.recognizer.in_(FACE_RECOGNIZERS),
                    or_(Detection.created_at >= since, Detection.reviewed_at >= since)))
    daily: dict[date, Counter] = defaultdict(Counter)
    totals = Counter()
    for source, status, created, reviewed in db.session.execute(query):
        if as_utc(created) >= since:
            kind = "added" if source == USER else "found"
            daily[as_utc(created).date()][kind] += 1
            totals[kind] += 1
        if status == Status.NOT_A_FACE and reviewed is not None and as_utc(reviewed) >= since:
            daily[as_utc(reviewed).date()]["rejected"] += 1
            totals["rejected"] += 1
    return {"days": days, "recognizers": FACE_RECOGNIZERS,
            "totals": {k: totals[k] for k in ("found", "added", "rejected")},
            "daily": [{"period": d.isoformat(), "added": c["added"], "rejected": c["rejected"]}
                      for d, c in sorted(daily.items()) if c["added"] or c["rejected"]]}
