"""Everything a user has, as one zip in a documented layout, and deleting the account with all of it."""
from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
import zipfile

from sqlalchemy import or_, select

from app import storage
from app.extensions import db
from app.models import Detection, FeedbackEvent, LiveSession, Prediction, Result, User
from app.models.base import as_utc, utcnow
from app.services import accounts, export
from app.storage import NotFound

log = logging.getLogger(__name__)

FEEDBACK_COLUMNS = ("event_id", "created_at", "detection_id", "prediction_id", "recognizer", "from_label",
                    "to_label", "source", "seen_ms", "by_you", "on_your_photo")
README = """VisionLoop: everything kept for {email}, exported {when}

account.json          your account: email, when it was made, roles
predictions.json      every photo you classified: size, time, location (latitude, longitude, where it came from),
                      photo path, and per recognizer the model version and each detection (index, box, source,
                      the model's label, confidence and every class probability, the label now, review status,
                      crop path)
feedback.csv          every label given on your photos and every label you gave (as a reviewer too), oldest first,
                      with how long the item was on screen before it (seen_ms; empty when not measured)
live_sessions.json    saved live sessions: times, recognizer, frames, faces, label counts, 5-second buckets,
                      snapshot paths (a digits session counts the number shown in each frame as its label)
photos/<prediction id>.jpg                      the stored photos (JPEG, without EXIF)
crops/<recognizer>/<detection id>.png           what each model saw
live/<session id>/<seconds>.jpg                 live snapshots you chose to keep
Files missing from storage are listed with an empty path.
"""


def _iso(value) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value else None


class _Archive:
    """A zip being written, copying stored objects in and noting the ones storage no longer has."""

    def __init__(self, out):
        self.zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
        self.store = storage.current()

    def copy(self, key: str | None, path: str) -> str:
        """Copy the stored object `key` to `path`; the path, or "" when there is nothing there."""
        if not key:
            return ""
        try:
            self.zip.writestr(path, self.store.get(key), compress_type=zipfile.ZIP_STORED)  # images are compressed
        except NotFound:
            log.warning("account export: %s is missing", key)
            return ""
        return path

    def json(self, path: str, value) -> None:
        self.zip.writestr(path, json.dumps(value, indent=2, ensure_ascii=False))


def _detection(archive: _Archive, d: Detection) -> dict:
    return {"id": d.id, "index": d.position, "box": list(d.box), "source": d.source,
            "predicted_label": d.predicted_label, "confidence": d.confidence, "probabilities": d.probabilities,
            "label": d.label, "status": d.status.value, "reviewed_at": _iso(d.reviewed_at),
            "crop": archive.copy(d.crop_key, f"crops/{d.result.recognizer}/{d.id}.png")}


def _prediction(archive: _Archive, p: Prediction) -> dict:
    location = {"latitude": p.latitude, "longitude": p.longitude, "source": p.location_source} if p.location else None
    return {"id": p.id, "created_at": _iso(p.created_at), "width": p.width, "height": p.height, "location": location,
            "photo": archive.copy(p.photo_key, f"photos/{p.id}.jpg"),
            "results": [{"recognizer": r.recognizer, "model_version": r.model_version, "duration_ms": r.duration_ms,
                         "detections": [_detection(archive, d) for d in r.detections]} for r in p.results]}


def _session(archive: _Archive, s: LiveSession) -> dict:
    return {"id": s.id, "started_at": _iso(s.started_at), "ended_at": _iso(s.ended_at), "recognizer": s.recognizer,
            "model_version": s.model_version, "bucket_s": s.bucket_s, "frames": s.frames, "faces": s.faces,
            "peak_faces": s.peak_faces, "counts": s.counts, "buckets": s.buckets,
            "snapshots": [archive.copy(key, f"live/{s.id}/{key.rsplit('/', 1)[-1]}") for key in s.frame_keys]}


def _feedback(user: User) -> str:
    query = (select(FeedbackEvent, Result.recognizer, Result.prediction_id, Prediction.user_id)
             .join(FeedbackEvent.detection).join(Detection.result).join(Result.prediction)
             .where(or_(FeedbackEvent.user_id == user.id, Prediction.user_id == user.id))
             .order_by(FeedbackEvent.id))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(FEEDBACK_COLUMNS)
    for event, recognizer, prediction_id, owner in db.session.execute(query):
        writer.writerow([event.id, _iso(event.created_at), event.detection_id, prediction_id, recognizer,
                         event.from_label, event.to_label, event.source,
                         "" if event.seen_ms is None else event.seen_ms, str(event.user_id == user.id).lower(),
                         str(owner == user.id).lower()])
    return table.getvalue()


def write_zip(user: User, roles: list[str]):
    """A temporary file with everything `user` has, laid out as README says."""
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    archive = _Archive(out)
    with archive.zip:
        archive.zip.writestr("README.txt", README.format(email=user.email, when=_iso(utcnow())))
        archive.json("account.json", {"email": user.email, "created_at": _iso(user.created_at), "roles": roles})
        owned = db.session.scalars(select(Prediction).where(Prediction.user_id == user.id).order_by(Prediction.id))
        archive.json("predictions.json", [_prediction(archive, p) for p in owned])
        archive.zip.writestr("feedback.csv", _feedback(user))
        sessions = db.session.scalars(select(LiveSession).where(LiveSession.user_id == user.id)
                                      .order_by(LiveSession.id))
        archive.json("live_sessions.json", [_session(archive, s) for s in sessions])
    out.seek(0)
    return out


def delete_account(user: User, password: str) -> None:
    """After checking the password: delete the user's photos, crops, live sessions (with their stored files),
    API tokens and the account itself. Labels they gave on other people's photos stay, without their name.

    AccountError for a wrong password; StorageUnavailable keeps the account (and what could not be deleted)."""
    if not user.check_password(password):
        raise accounts.AccountError("The password is not right, so the account was kept.")
    export.delete_all(user)  # with tokens.revoke_all_tokens: no API token outlives the data
    db.session.delete(user)
    db.session.commit()
