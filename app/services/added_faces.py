"""Faces the detector missed: a box a user draws on a kept photo is cropped, classified and kept like any other."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from app import imaging, storage
from app.extensions import db
from app.models import USER, Detection, Prediction, Result
from app.services import classification
from app.services.predictions import StorageUnavailable, forget, inbox_key
from app.storage import NotFound, StorageError
from ml.preprocess import ImageError
from ml.recognizers import RECOGNIZERS

log = logging.getLogger(__name__)
MIN_SIDE = 8  # photo pixels: a smaller box holds too little of a face to classify
NO_PHOTO = "This photo is not stored, so no face can be added to it."
STORAGE_DOWN = "Storage is unavailable, so the face was not added. Try again later."
FACE_RECOGNIZERS = [name for name, r in RECOGNIZERS.items() if r.faces]

Box = tuple[int, int, int, int]


class BoxError(ValueError):
    """A face that cannot be added; the message is safe to show and `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def face_result(prediction: Prediction, recognizer: str) -> Result:
    """The prediction's result of a face recognizer; BoxError (400 or 404) otherwise."""
    if recognizer not in FACE_RECOGNIZERS:
        raise BoxError(f"Faces can be added for {' and '.join(FACE_RECOGNIZERS)} only.", 400)
    found = [r for r in prediction.results if r.recognizer == recognizer]
    if not found:
        raise BoxError(f"This photo has no {recognizer} result.", 404)
    return found[0]


def check_box(box: Box, width: int, height: int) -> Box:
    """`box` (x, y, w, h) when it lies inside a width×height photo with at least MIN_SIDE px on each side."""
    x, y, w, h = box
    if w < MIN_SIDE or h < MIN_SIDE:
        raise BoxError(f"The box must be at least {MIN_SIDE} px wide and high; this one is {w}×{h} px.")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise BoxError(f"The box must lie inside the photo ({width}×{height} px).")
    return box


def add(prediction: Prediction, recognizer: str, box: Box) -> Detection:
    """Classify `box` on the stored photo with the recognizer's champion and keep it as a new detection drawn by the
    user; BoxError, classification.ModelUnavailable or StorageUnavailable leave everything as it was."""
    result = face_result(prediction, recognizer)
    box = check_box(box, prediction.width, prediction.height)
    image = _photo(prediction)
    version, found = classification.classify_box(image, recognizer, box)
    detection = Detection(position=max((d.position for d in result.detections), default=-1) + 1,
                          x=box[0], y=box[1], w=box[2], h=box[3], predicted_label=found.label, label=found.label,
                          confidence=found.confidence, probabilities=found.probabilities, source=USER,
                          model_version=version, crop_key=inbox_key(recognizer))
    try:
        storage.current().put(detection.crop_key, imaging.png_bytes(found.crop))
    except StorageError as exc:
        log.warning("drawn face not kept: %s", exc)
        raise StorageUnavailable(STORAGE_DOWN) from None
    result.detections.append(detection)
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        forget([detection.crop_key])  # the row is not there: neither is its crop
        raise
    return detection


def _photo(prediction: Prediction):
    if not prediction.photo_key:
        raise BoxError(NO_PHOTO, 404)
    try:
        data = storage.current().get(prediction.photo_key)
        image, _ = imaging.decode(data, current_app.config["MAX_IMAGE_PIXELS"])
    except NotFound:
        raise BoxError(NO_PHOTO, 404) from None
    except StorageError as exc:
        log.warning("photo %s unreadable: %s", prediction.photo_key, exc)
        raise StorageUnavailable(STORAGE_DOWN) from None
    except ImageError as exc:
        raise BoxError(f"The stored photo cannot be read ({exc}).", 422) from None
    return image
