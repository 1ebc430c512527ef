"""The labelled dataset as a zip (class folders plus a CSV manifest; house numbers also as SVHN format 1), and
deleting all of a user's data."""
from __future__ import annotations

import csv
import io
import logging
import tempfile
import zipfile

from sqlalchemy import select

from app import storage
from app.extensions import db
from app.models import LABELLED, Detection, Prediction, Result, Status, User
from app.models.base import as_utc
from app.services import live_sessions, predictions, tokens
from app.services.numbers import DIGITS
from app.storage import NotFound

log = logging.getLogger(__name__)

COLUMNS = ("path", "recognizer", "label", "predicted_label", "status", "confidence", "model_version",
           "predicted_at", "reviewed_at", "detection_id", "storage_key", "source", "not_a_face",
           "box_x", "box_y", "box_w", "box_h")
# SVHN's format 1 (../shared/datasets/svhn/labels.csv), which ml.data reads: digit 0 is written 10.
BOX_COLUMNS = ("image", "split", "box_index", "label", "left", "top", "width", "height", "status")


def labelled(user: User | None, recognizer: str | None = None) -> list[Detection]:
    """Confirmed, corrected and not-a-face detections (the detector's negatives, label NOT_A_FACE), of one user or
    (None) everyone, oldest first."""
    query = (select(Detection).join(Detection.result).join(Result.prediction)
             .where(Detection.status != Status.UNREVIEWED).order_by(Detection.id))
    if user is not None:
        query = query.where(Prediction.user_id == user.id)
    if recognizer:
        query = query.where(Result.recognizer == recognizer)
    return list(db.session.scalars(query))


def write_zip(detections: list[Detection]):
    """A temporary file holding `<recognizer>/<label>/<id>.png` per crop and manifest.csv (with where each box came
    from and where it lies in its photo; missing crops get no path), and the house numbers as format 1."""
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(COLUMNS)
    store = storage.current()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for d in detections:
            folder = predictions.class_folder(d.result.recognizer, d.label)
            path = f"{d.result.recognizer}/{folder}/{d.id}.png" if d.crop_key else ""
            if path:
                try:
                    archive.writestr(path, store.get(d.crop_key))
                except NotFound:
                    log.warning("export: %s is missing", d.crop_key)
                    path = ""
            writer.writerow([path, d.result.recognizer, d.label, d.predicted_label, d.status.value,
                             f"{d.confidence:.6f}", d.version,
                             as_utc(d.result.prediction.created_at).isoformat(timespec="seconds"),
                             as_utc(d.reviewed_at).isoformat(timespec="seconds") if d.reviewed_at else "",
                             d.id, d.crop_key or "", d.source, str(d.not_a_face).lower(), *d.box])
        archive.writestr("manifest.csv", table.getvalue())
        _write_numbers(archive, detections, store)
    out.seek(0)
    return out


def _write_numbers(archive: zipfile.ZipFile, detections: list[Detection], store) -> None:
    """`digits/labels.csv` and `digits/photos/train/<prediction id>.jpg`: every photo whose boxes all got feedback,
    with its digits' corrected boxes and labels (boxes marked not a digit left out), so the number reader can be
    retrained from what people fixed."""
    results = {d.result.id: d.result for d in detections if d.result.recognizer == DIGITS}
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(BOX_COLUMNS)
    rows = 0
    for result in results.values():
        photo = result.prediction.photo_key
        if not photo or any(d.status == Status.UNREVIEWED for d in result.detections):
            continue  # an unfinished number would teach the detector that its missing digits are background
        name = f"{result.prediction.id}.jpg"
        try:
            archive.writestr(f"digits/photos/train/{name}", store.get(photo))
        except NotFound:
            log.warning("export: %s is missing", photo)
            continue
        digits = [d for d in result.in_reading_order if d.status in LABELLED]
        for index, d in enumerate(digits):
            writer.writerow([name, "train", index, int(d.label) or 10, *d.box, d.status.value])
            rows += 1
    if rows:
        archive.writestr("digits/labels.csv", table.getvalue())


def delete_all(user: User) -> int:
    """Delete the user's predictions and live sessions with their files (StorageUnavailable keeps the rest), and
    revoke their API tokens, so a leaked one cannot add new data."""
    owned = list(db.session.scalars(select(Prediction).where(Prediction.user_id == user.id)))
    for prediction in owned:
        try:
            predictions.delete_prediction(prediction)
        except predictions.Gone:
            continue  # deleted by another request meanwhile
    live_sessions.delete_all(user)
    tokens.revoke_all_tokens(user)
    return len(owned)
