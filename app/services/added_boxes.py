"""Faces or digits the detectors missed: a box a user draws on a kept photo is cropped, classified and kept like any
other (a digit then joins the number, in reading order)."""
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
# Photo pixels: a smaller box holds too little of a face to classify; a "1" in a small photo is only a few px wide.
MIN_SIDE = {"face": 8, "digit": 4}
NO_PHOTO = "This photo is not stored, so no {thing} can be added to it."
STORAGE_DOWN = "Storage is unavailable, so the {thing} was not added. Try again later."
FACE_RECOGNIZERS = [name for name, r in RECOGNIZERS.items() if r.faces]

Box = tuple[int, int, int, int]


class BoxError(ValueError):
    """A box (face or digit) that cannot be added; the message is safe to show and `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def min_side(recognizer: str) -> int:
    """The least width and height of a box drawn for `recognizer`."""
    return MIN_SIDE[RECOGNIZERS[recognizer].thing]


def box_result(prediction: Prediction, recognizer: str) -> Result:
    """The prediction's result of `recognizer`; BoxError (400 or 404) otherwise."""
    if recognizer not in RECOGNIZERS:
        raise BoxError(f"Unknown recognizer “{recognizer}”; known: {', '.join(RECOGNIZERS)}.", 400)
    found = [r for r in prediction.results if r.recognizer == recognizer]
    if not found:
        raise BoxError(f"This photo has no {recognizer} result.", 404)
    return found[0]


def check_box(box: Box, width: int, height: int, least: int) -> Box:
    """`box` (x, y, w, h) when it lies inside a width×height photo with at least `least` px on each side."""
    x, y, w, h = box
    if w < least or h < least:
        raise BoxError(f"The box must be at least {least} px wide and high; this one is {w}×{h} px.")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise BoxError(f"The box must lie inside the photo ({width}×{height} px).")
    return box


def add(prediction: Prediction, recognizer: str, box: Box) -> Detection:
    """Classify `box` on the stored photo with the recognizer's champion and keep it as a new detection drawn by the
    user; BoxError, classification.ModelUnavailable or StorageUnavailable leave everything as it was."""
    result = box_result(prediction, recognizer)
    box = check_box(box, prediction.width, prediction.height, min_side(recognizer))
    thing = RECOGNIZERS[recognizer].thing
    image = _photo(prediction, thing)
    version, found = classification.classify_box(image, recognizer, box)
    detection = Detection(position=max((d.position for d in result.detections), default=-1) + 1,
                          x=box[0], y=box[1], w=box[2], h=box[3], predicted_label=found.label, label=found.label,
                          confidence=found.confidence, probabilities=found.probabilities, source=USER,
                          model_version=version, crop_key=inbox_key(recognizer))
    try:
        storage.current().put(detection.crop_key, imaging.png_bytes(found.crop))
    except StorageError as exc:
        log.warning("drawn %s not kept: %s", thing, exc)
        raise StorageUnavailable(STORAGE_DOWN.format(thing=thing)) from None
    result.detections.append(detection)
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        forget([detection.crop_key])  # the row is not there: neither is its crop
        raise
    return detection


def summary(detection: Detection) -> str:
    """What a drawn box was read as, for the page's message (a digit: with the number it is now part of)."""
    reads = f" The number reads {detection.result.number}." if detection.thing == "digit" else ""
    return f"Added {detection.thing} #{detection.number}: “{detection.label}” at {detection.confidence:.0%}.{reads}"


def _photo(prediction: Prediction, thing: str):
    if not prediction.photo_key:
        raise BoxError(NO_PHOTO.format(thing=thing), 404)
    try:
        data = storage.current().get(prediction.photo_key)
        image, _ = imaging.decode(data, current_app.config["MAX_IMAGE_PIXELS"])
    except NotFound:
        raise BoxError(NO_PHOTO.format(thing=thing), 404) from None
    except StorageError as exc:
        log.warning("photo %s unreadable: %s", prediction.photo_key, exc)
        raise StorageUnavailable(STORAGE_DOWN.format(thing=thing)) from None
    except ImageError as exc:
        raise BoxError(f"The stored photo cannot be read ({exc}).", 422) from None
    return image
