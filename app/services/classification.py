"""Run one or more recognizers on an uploaded photo, or one on a box a user drew (nothing is stored here): face
recognizers classify every face found, digits reads the whole number with the number reader."""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from PIL import Image

from app import imaging, serving
from app.services import champions
from app.storage import StorageError
from ml.artifact import ArtifactError
from ml.numbers import Digit, NumberReader
from ml.preprocess import ImageError
from ml.recognizers import RECOGNIZERS
from ml.serving import Detection, classify as run_classifier, classify_faces


NO_FACE = "No face found in the photo."
NO_DIGITS = "No digits found in the photo."


class UploadError(ValueError):
    """Input that cannot be classified; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class ModelUnavailable(RuntimeError):
    """A recognizer whose model artifact is missing or cannot be loaded."""


@dataclass
class RecognizerResult:
    """What one recognizer found, with the model version that found it and the time it took."""

    recognizer: str
    model_version: str
    duration_ms: float
    detections: list[Detection]

    @property
    def number(self) -> str:
        """What the digits spell (their labels in reading order); only meaningful for digits."""
        return "".join(d.label for d in self.detections)

    @property
    def number_confidence(self) -> float:
        """How likely the whole number is right: the product of its digits' confidences (0 for no digit)."""
        return math.prod(d.confidence for d in self.detections) if self.detections else 0.0


@dataclass
class Classification:
    """A decoded upload and every recognizer's result on it."""

    image: Image.Image
    gps: tuple[float, float] | None
    results: list[RecognizerResult] = field(default_factory=list)
    upload: bytes = b""  # the file as sent (none for a live frame): kept without its metadata when it is a JPEG

    @property
    def duration_ms(self) -> float:
        """Time taken by all recognizers together."""
        return sum(r.duration_ms for r in self.results)

    @property
    def found_nothing(self) -> bool:
        """Whether no recognizer found anything (face recognizers found no face, digits no digit)."""
        return not any(r.detections for r in self.results)

    @property
    def things(self) -> str:
        """What the recognizers look for, in words: "face", "digit" or "digit or face"."""
        return " or ".join(sorted({RECOGNIZERS[r.recognizer].thing for r in self.results}))

    @property
    def nothing_found(self) -> str:
        """What was not found, in words: NO_FACE, NO_DIGITS or both (call when found_nothing)."""
        return " ".join(text for thing, text in (("face", NO_FACE), ("digit", NO_DIGITS)) if thing in self.things)


class FacesOnce:
    """Finds faces once per photo, searched at `side` px, however many face recognizers run on it."""

    def __init__(self, side: int):
        self.side = side
        self._boxes = None

    def find(self, image: Image.Image) -> list[tuple[int, int, int, int]]:
        """The face boxes of `image`, searched for on the first call only."""
        if self._boxes is None:
            from ml import faces  # noqa: PLC0415 - OpenCV loads on the first face recognizer

            self._boxes = faces.default_detector(self.side).find(image)
        return self._boxes


def parse_recognizers(names: Iterable[str]) -> list[str]:
    """Known recognizer names in request order, without repeats; UploadError(400) otherwise."""
    chosen = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not chosen:
        raise UploadError(f"Choose at least one recognizer: {', '.join(RECOGNIZERS)}.", 400)
    unknown = [n for n in chosen if n not in RECOGNIZERS]
    if unknown:
        raise UploadError(f"Unknown recognizer {', '.join(unknown)}; known: {', '.join(RECOGNIZERS)}.", 400)
    return chosen


def model_for(name: str) -> serving.Model:
    """The registry's champion for a recognizer; ModelUnavailable with a readable reason when there is none."""
    try:
        return champions.model_for(name)
    except (ArtifactError, StorageError) as exc:
        raise ModelUnavailable(f"The {name} model is not available yet ({exc}).") from None


def reader_for(model: serving.Model, second_look: bool = True) -> NumberReader:
    """The number reader that reads digits with `model` (the digits champion); ModelUnavailable without a detector."""
    try:
        return serving.number_reader(current_app.config["NUMBER_DETECTOR_DIR"], model, second_look)
    except ArtifactError as exc:
        raise ModelUnavailable(f"The digit detector is not available ({exc}).") from None


def _detection(digit: Digit) -> Detection:
    return Detection(digit.box, digit.label, digit.confidence, digit.probabilities, digit.crop)


def find(model: serving.Model, image: Image.Image, faces: FacesOnce, second_look: bool = True) -> list[Detection]:
    """What the champion `model` finds in a decoded photo: every face classified, or the number's digits read in
    reading order (with the reader's second look at a large photo unless `second_look` is false)."""
    if model.classifier.recognizer.faces:
        return run_classifier(model.classifier, image, face_detector=faces)
    return [_detection(d) for d in reader_for(model, second_look).read(image).digits]


def availability() -> dict[str, str | None]:
    """For each recognizer: None when its model is ready, else why it is not."""
    problems = {}
    for name in RECOGNIZERS:
        try:
            model = model_for(name)
            if not model.classifier.recognizer.faces:
                reader_for(model)
            problems[name] = None
        except ModelUnavailable as exc:
            problems[name] = str(exc)
    return problems


def classify(data: bytes, names: Iterable[str]) -> Classification:
    """Decode `data` once and run each named recognizer on it; UploadError for unusable input."""
    chosen = parse_recognizers(names)
    models = {name: model_for(name) for name in chosen}
    try:
        image, gps = imaging.decode(data, current_app.config["MAX_IMAGE_PIXELS"])
    except ImageError as exc:
        raise UploadError(str(exc)) from None
    outcome = Classification(image, gps, upload=data)
    faces = FacesOnce(current_app.config["FACE_DETECT_SIDE"])
    for name, model in models.items():
        started = time.perf_counter()
        detections = find(model, image, faces)
        elapsed = (time.perf_counter() - started) * 1000
        outcome.results.append(RecognizerResult(name, model.version, round(elapsed, 1), detections))
    return outcome


def classify_box(image: Image.Image, name: str, box: tuple[int, int, int, int]) -> tuple[str, Detection]:
    """Classify the face or digit in `box` of a decoded photo with the recognizer's champion, through the crop its
    detector's boxes go through: (model version, detection)."""
    model = model_for(name)
    if not model.classifier.recognizer.faces:
        return model.version, _detection(reader_for(model).classify(image, [(box, None)])[0])
    from ml.faces import Face  # noqa: PLC0415 - OpenCV loads on the first face

    return model.version, classify_faces(model.classifier, image, [Face(box)])[0]
