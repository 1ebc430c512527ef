"""Lean inference: a LiteRT model plus the shared preprocessing, with no TensorFlow import."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml import artifact, calibration
from ml.lite import LiteModel
from ml.preprocess import prepare
from ml.recognizers import Recognizer, get


@dataclass
class Detection:
    """One classified region: its box in the photo (x, y, w, h), label, confidence and all probabilities."""

    box: tuple[int, int, int, int]
    label: str
    confidence: float
    probabilities: dict[str, float]
    crop: np.ndarray  # the prepared input the model saw (H×W×C uint8)


class Classifier:
    """A loaded artifact that turns prepared images into class probabilities."""

    def __init__(self, artifact_dir: str | Path, threads: int | None = 1):
        self.path = Path(artifact_dir)
        self.metadata = artifact.read_metadata(self.path)
        self.recognizer: Recognizer = get(self.metadata["recognizer"])
        self.classes: list[str] = list(self.metadata["classes"])
        self.temperature = float((self.metadata.get("calibration") or {}).get("temperature", 1.0))
        self._model = LiteModel(self.path / artifact.LITE_FILE, threads)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities for an N×H×W×C uint8 batch, in one inference call."""
        if len(batch) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        return self._model.run(batch)

    def predict(self, batch: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """Probabilities to act on: for flip-safe recognizers (faces), the mean over each image and its
        mirror image, still one inference call (about +1 point on FER-2013 test); then, unless told not to,
        at the temperature fitted on the validation split (ml.calibration)."""
        if not self.recognizer.flip or len(batch) == 0:
            probs = self.probabilities(batch)
        else:
            both = self.probabilities(np.concatenate([batch, batch[:, :, ::-1]]))
            probs = (both[:len(batch)] + both[len(batch):]) / 2
        return calibration.scale(probs, self.temperature) if calibrated else probs

    def detections(self, crops: list[np.ndarray], boxes: list[tuple[int, int, int, int]]) -> list[Detection]:
        """Classify prepared crops in one batch and pair each with its box."""
        probs = self.predict(np.stack(crops) if crops else np.zeros((0, *self.recognizer.input_shape)))
        found = []
        for crop, box, p in zip(crops, boxes, probs):
            best = int(p.argmax())
            found.append(Detection(tuple(int(v) for v in box), self.classes[best], float(p[best]),
                                   {c: float(v) for c, v in zip(self.classes, p)}, crop))
        return found


def classify(classifier: Classifier, image, face_detector=None) -> list[Detection]:
    """Classify a decoded PIL image: every face first when the recognizer needs faces, else the whole image."""
    recognizer = classifier.recognizer
    if recognizer.faces:
        from ml import faces  # noqa: PLC0415

        return classify_faces(classifier, image, (face_detector or faces.default_detector()).find(image))
    return classifier.detections([prepare(image, recognizer)], [(0, 0, image.width, image.height)])


def classify_faces(classifier: Classifier, image, found) -> list[Detection]:
    """Classify the given faces (ml.faces.Face) of a decoded PIL image, each through the one face crop."""
    from ml import faces  # noqa: PLC0415

    crops = [prepare(faces.crop(image, face), classifier.recognizer) for face in found]
    return classifier.detections(crops, [face.box for face in found])
