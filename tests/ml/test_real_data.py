"""Checks on the real datasets in ../shared/datasets (slow; run with `pytest -m slow`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.data import load, read_samples
from ml.recognizers import get

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not DATASETS.is_dir(), reason=f"real datasets not found at {DATASETS}")]

# The targets on each test split: (recognizer, dataset folder, minimum accuracy).
TARGETS = [("emotion7", "fer2013", 0.68), ("emotion4", "fer2013", 0.85), ("digits", "svhn/crops", 0.93)]


def test_fer2013_folders_have_the_documented_counts():
    test = load(DATASETS / "fer2013", get("emotion7"), "test")
    assert test.counts() == {"angry": 467, "disgust": 56, "fear": 496, "happy": 895, "neutral": 607, "sad": 653,
                             "surprise": 415}


def test_svhn_box_csv_crops_match_the_shared_crops_pixel_for_pixel():
    samples = read_samples(DATASETS / "svhn" / "labels.csv")
    assert len(samples) == 3757  # only the test split's photos are shared
    for sample in samples:
        photo, index = sample.key.rsplit("#", 1)
        shared = DATASETS / "svhn" / "crops" / sample.split / sample.label / f"{Path(photo).stem}_{index}.png"
        assert np.array_equal(np.asarray(sample.image), np.asarray(Image.open(shared).convert("RGB"))), shared


@pytest.mark.parametrize("name, folder, target", TARGETS, ids=[t[0] for t in TARGETS])
def test_shipped_model_meets_its_target(name, folder, target, tmp_path):
    from ml.evaluate import evaluate_artifact  # noqa: PLC0415

    if not (get(name).shipped_dir / "metadata.json").is_file():
        pytest.skip(f"no shipped {name} model at {get(name).shipped_dir}")
    report = evaluate_artifact(name, str(DATASETS / folder), "test", out=str(tmp_path))
    assert report["accuracy"] >= target, report["text"]
