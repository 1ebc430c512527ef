"""Shared fixtures for the ml tests: a tiny class-folder dataset and one model trained on it once per session."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any test imports TensorFlow

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

CLASSES = ("happy", "neutral", "sad", "surprise")


def face_like(label: int, seed: int, size: int = 48) -> np.ndarray:
    """A grayscale picture whose bright band's height depends on the class, so a model can tell them apart."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (size, size)).astype(np.uint8)
    row = 6 + label * 10
    image[row:row + 8] = 200 + rng.integers(0, 40)
    return image


@pytest.fixture(scope="session")
def folders(tmp_path_factory) -> Path:
    """`<root>/<split>/<class>/` with PNGs and JPEGs; the test split also holds a class emotion4 does not know."""
    root = tmp_path_factory.mktemp("faces")
    for split, per_class in (("train", 10), ("test", 3)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                image = face_like(label, seed=1000 * (split == "test") + 100 * label + i)
                Image.fromarray(image).save(folder / f"{i}{'.png' if i % 2 else '.jpg'}")
    (root / "test" / "angry").mkdir()
    Image.fromarray(face_like(0, seed=99)).save(root / "test" / "angry" / "0.png")
    return root


@pytest.fixture(scope="session")
def trained(folders, tmp_path_factory) -> Path:
    """One cnn_tiny artifact for emotion4, trained for one epoch through the CLI."""
    from ml.cli import main  # noqa: PLC0415 - keeps collection free of TensorFlow

    out = tmp_path_factory.mktemp("runs") / "emotion4"
    assert main(["train", "emotion4", str(folders), "--arch", "cnn_tiny", "--epochs", "1", "--out", str(out)]) == 0
    return out
