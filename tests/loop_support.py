"""Helpers for the learning-loop tests: a tiny base dataset, loop settings, labelled feedback rows."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import imaging, storage
from app.extensions import db
from app.models import Detection, Prediction, Result, Status
from app.models.base import utcnow
from app.services import accounts
from ml.recognizers import get
from ml.serving import Classifier

DIGITS = get("digits")


def stripes_image(label: int, rng: np.random.Generator) -> np.ndarray:
    """Base data: stripes whose direction (odd/even) and period (by label // 2) tell the class."""
    period = (2, 3, 4, 6, 8)[label // 2]
    line = np.where(((np.arange(32) + rng.integers(0, period)) // max(1, period // 2)) % 2 == 0, 230, 25)
    image = np.broadcast_to(line[None, :, None] if label % 2 else line[:, None, None], DIGITS.input_shape)
    return np.clip(image + rng.integers(-20, 21, DIGITS.input_shape), 0, 255).astype(np.uint8)


def pattern_image(rng: np.random.Generator) -> np.ndarray:
    """A checkerboard unlike any base image: the 'new domain' that users correct."""
    y, x = np.indices((32, 32))
    board = ((y // 4 + x // 4) % 2) * 205 + 25
    image = np.broadcast_to(board[..., None], DIGITS.input_shape)
    return np.clip(image + rng.integers(-20, 21, DIGITS.input_shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def base_data(tmp_path_factory) -> Path:
    """A class-folder digits dataset of stripes: train/<d>/ (8 each) and test/<d>/ (4 each)."""
    root = tmp_path_factory.mktemp("base-digits")
    rng = np.random.default_rng(7)
    for split, n in (("train", 8), ("test", 4)):
        for label, name in enumerate(DIGITS.classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(stripes_image(label, rng)).save(folder / f"{i}.png")
    return root


def with_loop_settings(settings: dict, base_data: Path, tmp_path: Path) -> dict:
    """`settings` changed for fast retraining on the tiny base data, with a champion check on every request."""
    settings.update(
        TRAIN_DATA={"digits": str(base_data), "emotion7": str(base_data), "emotion4": str(base_data)},
        MODEL_CACHE_DIR=str(tmp_path / "model-cache"), RETRAIN_DIR=str(tmp_path / "retrain"),
        RETRAIN_EPOCHS=3, RETRAIN_LEARNING_RATE=0.003, RETRAIN_BATCH_SIZE=16, RETRAIN_BASE_PER_CLASS=8, RETRAIN_TEST_PER_CLASS=0,
        RETRAIN_FEEDBACK_REPEAT=4, RETRAIN_HOLDOUT_PERCENT=50, RETRAIN_MIN_NEW_LABELS=5,
        RETRAIN_HEARTBEAT_S=0.2, PROMOTION_MARGIN=1.0, CHAMPION_CHECK_S=0.0, RETRAIN_MIN_GATE=1,
        RETRAIN_MAX_ECE_INCREASE=1.0, BASE_DATA_CACHE_DIR=str(tmp_path / "base-data"),
        # Test rows are made a moment apart by one user, of one checkerboard: no sessions, no look-alikes.
        RETRAIN_SESSION_GAP_S=0, RETRAIN_SIMILAR_BITS=-1)
    return settings


def add_labelled(images: list[np.ndarray], label: str, email: str = "feedback@example.com",
                 predicted: str | None = None) -> list[int]:
    """Store each image as a reviewed digits detection labelled `label` (crop in its class folder)."""
    user = accounts.find_user(email) or accounts.create_user(email, "correct horse")
    ids = []
    for image in images:
        prediction = Prediction(user=user, width=32, height=32)
        result = Result(recognizer="digits", model_version="test", duration_ms=1.0)
        guess = predicted or label
        detection = Detection(position=0, x=0, y=0, w=32, h=32, predicted_label=guess, label=label,
                              confidence=0.5, probabilities={guess: 0.5},
                              status=Status.CONFIRMED if guess == label else Status.CORRECTED,
                              reviewed_at=utcnow())
        result.detections.append(detection)
        prediction.results.append(result)
        db.session.add(prediction)
        db.session.flush()
        detection.crop_key = f"crops/digits/{label}/{detection.id}.png"
        storage.current().put(detection.crop_key, imaging.png_bytes(image))
        ids.append(detection.id)
    db.session.commit()
    return ids


@pytest.fixture(scope="session")
def other_digits(tmp_path_factory) -> Path:
    """A second tiny digits artifact (another seed), different from the shipped one."""
    from ml.data import Dataset  # noqa: PLC0415 - imports TensorFlow
    from ml.train import TrainConfig, train

    rng = np.random.default_rng(11)
    labels = np.repeat(np.arange(len(DIGITS.classes)), 3)
    images = np.stack([stripes_image(int(label), rng) for label in labels])
    data = Dataset(images, labels, DIGITS.classes, [f"other/{i}" for i in range(len(labels))], "synthetic", "train")
    out = tmp_path_factory.mktemp("other-digits") / "digits"
    return train(DIGITS, data, out, TrainConfig(arch="cnn_tiny", epochs=1, batch_size=16, patience=1, seed=99))


def champion_guess(artifact_dir, image) -> str:
    """What a model says about one image."""
    classifier = Classifier(artifact_dir)
    return classifier.classes[int(classifier.probabilities(image[None]).argmax())]


def corrections_the_champion_gets_wrong(artifacts, n: int, seed: int = 1) -> tuple[list, str]:
    """Striped images labelled with a digit the champion does not answer for them."""
    rng = np.random.default_rng(seed)
    images = [pattern_image(rng) for _ in range(n)]
    guess = champion_guess(artifacts / "digits", images[0])
    label = DIGITS.classes[(DIGITS.classes.index(guess) + 1) % len(DIGITS.classes)]
    return images, label


def add_history(rows: list[tuple], email: str = "owner@example.com") -> list[int]:
    """Digits detections from (predicted, label, status, confidence, days_ago) tuples, crops stored."""
    user = accounts.find_user(email) or accounts.create_user(email, "correct horse")
    rng, ids = np.random.default_rng(len(rows)), []
    for predicted, label, status, confidence, days_ago in rows:
        when = utcnow() - timedelta(days=days_ago)
        prediction = Prediction(user=user, width=32, height=32, created_at=when)
        result = Result(recognizer="digits", model_version="v", duration_ms=1.0)
        rest = (1 - confidence) / (len(DIGITS.classes) - 1)
        detection = Detection(position=0, x=0, y=0, w=32, h=32, predicted_label=predicted, label=label,
                              status=status, confidence=confidence,
                              probabilities={c: confidence if c == predicted else rest for c in DIGITS.classes},
                              reviewed_at=None if status == Status.UNREVIEWED else when)
        result.detections.append(detection)
        prediction.results.append(result)
        db.session.add(prediction)
        db.session.flush()
        folder = f"inbox/digits/{detection.id}.png" if status == Status.UNREVIEWED else f"crops/digits/{label}/{detection.id}.png"
        prediction.photo_key, detection.crop_key = f"photos/{prediction.id}.png", folder
        png = imaging.png_bytes(stripes_image(int(label), rng))
        storage.current().put(prediction.photo_key, png)
        storage.current().put(detection.crop_key, png)
        ids.append(detection.id)
    db.session.commit()
    return ids
