"""Keep a signed-in user's classification (SQL rows plus stored photo and crops), find and delete it."""
from __future__ import annotations

import logging
import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app import imaging, storage
from app.extensions import db
from app.models import NOT_A_FACE, Detection, Prediction, Result, Status, User
from app.services.classification import Classification
from app.storage import StorageError
from ml.recognizers import get

log = logging.getLogger(__name__)
MAX_PER_PAGE = 100  # the API's per_page cap, as its OpenAPI document states


class StorageUnavailable(RuntimeError):
    """Storage failed, so nothing was kept or deleted; the message is safe to show."""


class Gone(LookupError):
    """What a request was about was deleted by another request meanwhile; the message is safe to show."""

    MESSAGE = "It was deleted meanwhile, perhaps in another tab."


def lock(prediction_id: int, detection_id: int | None = None) -> None:
    """Hold the prediction's row lock (on SQLite: the database's write lock) until the next commit or rollback, then
    read its rows afresh; Gone when it, or the detection, was deleted meanwhile.

    Deleting, labelling and moving a detection's files all take it first, so none of them acts on rows another has
    just changed, and stored files are never left behind by one racing another."""
    table = Prediction.__table__
    touched = db.session.execute(update(table).where(table.c.id == prediction_id).values(width=table.c.width))
    db.session.expire_all()  # what was read before the lock may be out of date
    if touched.rowcount == 0 or (detection_id is not None and db.session.scalar(
            select(Detection.id).where(Detection.id == detection_id)) is None):
        db.session.rollback()
        raise Gone(Gone.MESSAGE)


def photo_key() -> str:
    """A new key for an upload's stored photo, kept until its prediction is deleted. Named before the row
    exists, so storing a result is one INSERT per row and no UPDATE."""
    return f"photos/{uuid.uuid4().hex}.jpg"


def inbox_key(recognizer: str, name: str | int | None = None) -> str:
    """Where a crop waits until someone confirms or corrects its label (a new unique name unless given)."""
    return f"inbox/{recognizer}/{name if name is not None else uuid.uuid4().hex}.png"


def class_folder(recognizer: str, label: str) -> str:
    """The folder of a label: the label itself, or the recognizer's rejected folder (`_not_a_face`, `_not_a_digit`)
    for a box marked as holding no face or digit."""
    return get(recognizer).rejected_folder if label == NOT_A_FACE else label


def labelled_key(kind: str, recognizer: str, label: str, detection_id: int, suffix: str = ".png") -> str:
    """Class-folder key `<kind>/<recognizer>/<folder>/<id><suffix>`; kind is "crops" or "originals"."""
    return f"{kind}/{recognizer}/{class_folder(recognizer, label)}/{detection_id}{suffix}"


def consented_location(consent: bool, browser: tuple[float, float] | None,
                       gps: tuple[float, float] | None) -> tuple[float, float, str] | None:
    """(latitude, longitude, source) kept only with consent: the browser's position, else the photo's EXIF GPS."""
    if not consent:
        return None
    if browser:
        return (*browser, "browser")
    if gps:
        return (*gps, "exif")
    return None


def record(user: User, outcome: Classification, location: tuple[float, float] | None, *,
           consent: bool = False, use_gps: bool = True) -> Prediction:
    """Store the photo and every crop, commit the rows; StorageUnavailable leaves nothing behind.

    A location (the browser's `location`, else the photo's EXIF GPS unless `use_gps` is false) is kept only when
    `consent` is true.
    """
    gps = outcome.gps if use_gps else None
    lat, lon, source = consented_location(consent, location, gps) or (None, None, None)
    prediction = Prediction(user=user, width=outcome.image.width, height=outcome.image.height,
                            latitude=lat, longitude=lon, location_source=source)
    crops = []
    for found in outcome.results:
        result = Result(recognizer=found.recognizer, model_version=found.model_version,
                        duration_ms=found.duration_ms)
        prediction.results.append(result)
        for position, d in enumerate(found.detections):
            detection = Detection(position=position, x=d.box[0], y=d.box[1], w=d.box[2], h=d.box[3],
                                  predicted_label=d.label, label=d.label, confidence=d.confidence,
                                  probabilities=d.probabilities)
            result.detections.append(detection)
            crops.append((detection, found.recognizer, d.crop))
    written = []
    try:
        prediction.photo_key = photo_key()
        storage.current().put(prediction.photo_key, imaging.photo_bytes(outcome.upload, outcome.image))
        written.append(prediction.photo_key)
        for detection, recognizer, crop in crops:
            detection.crop_key = inbox_key(recognizer)
            storage.current().put(detection.crop_key, imaging.png_bytes(crop))
            written.append(detection.crop_key)
    except StorageError as exc:
        forget(written)
        log.warning("prediction not kept: %s", exc)
        raise StorageUnavailable("Storage is unavailable, so the result was not kept. Try again later.") from None
    session = db.session()
    session.add(prediction)
    # The caller shows what was just written: keep the objects as they are rather than read all three tables back.
    session.expire_on_commit = False
    try:
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        forget(written)  # the rows are not there (a locked database is retried by the view): neither are the files
        raise
    finally:
        session.expire_on_commit = True
    return prediction


def forget(keys: list[str]) -> None:
    """Remove files written for rows that were not kept; a failure is only logged."""
    for key in keys:
        try:
            storage.current().delete(key)
        except StorageError as exc:
            log.warning("could not remove %s after a failed save: %s", key, exc)


def owned_prediction(user: User, prediction_id: int) -> Prediction | None:
    """The user's prediction with this id; None for other users' records too."""
    return db.session.scalar(select(Prediction).where(Prediction.id == prediction_id, Prediction.user_id == user.id)
                             .options(selectinload(Prediction.results).selectinload(Result.detections)))


def owned_detection(user: User, detection_id: int) -> Detection | None:
    """The user's detection with this id; None for other users' records too."""
    return db.session.scalar(select(Detection).join(Result).join(Prediction)
                             .where(Detection.id == detection_id, Prediction.user_id == user.id))


def next_unreviewed(detection: Detection) -> Detection:
    """The next detection of the same photo still waiting for a label, in page order (wrapping round), else
    `detection` itself: where the page puts the focus after a label."""
    ordered = [d for r in detection.result.prediction.results for d in r.page_order]
    i = ordered.index(detection)
    return next((d for d in ordered[i + 1:] + ordered[:i] if d.status == Status.UNREVIEWED), detection)


def stored_keys(detection: Detection) -> list[str]:
    """Every stored file that belongs to one detection."""
    return [k for k in (detection.crop_key, detection.original_key) if k]


def delete_prediction(prediction: Prediction) -> None:
    """Delete the stored files first, then the rows; StorageUnavailable keeps everything."""
    lock(prediction.id)
    keys = [k for d in prediction.detections for k in stored_keys(d)]
    keys += [prediction.photo_key] if prediction.photo_key else []
    _delete_files(keys)
    db.session.delete(prediction)
    db.session.commit()


def delete_detection(detection: Detection) -> None:
    """Delete one detection and its files; the whole prediction goes with its last detection."""
    prediction = detection.result.prediction
    lock(prediction.id, detection.id)  # two of the last detections deleted at once: the second sees it is the last
    if all(d.id == detection.id for d in prediction.detections):
        delete_prediction(prediction)
        return
    _delete_files(stored_keys(detection))
    db.session.delete(detection)
    db.session.commit()


def _delete_files(keys: list[str]) -> None:
    try:
        for key in keys:
            storage.current().delete(key)
    except StorageError as exc:
        log.warning("delete failed: %s", exc)
        db.session.rollback()  # let go of the lock at once
        raise StorageUnavailable("Storage is unavailable, so nothing was deleted. Try again later.") from None
