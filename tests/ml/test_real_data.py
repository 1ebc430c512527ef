"""Checks on the real datasets in ../shared/datasets (slow; run with `pytest -m slow`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ml.data import load
from ml.recognizers import get

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not DATASETS.is_dir(), reason=f"real datasets not found at {DATASETS}")]

# The targets on each test split: (recognizer, dataset folder, minimum accuracy).
TARGETS = [("emotion7", "fer2013", 0.68), ("emotion4", "fer2013", 0.85), ("digits", "svhn/labels.csv", 0.93)]


def test_fer2013_folders_have_the_documented_counts():
    test = load(DATASETS / "fer2013", get("emotion7"), "test")
    assert test.counts() == {"angry": 467, "disgust": 56, "fear": 496, "happy": 895, "neutral": 607, "sad": 653,
                             "surprise": 415}


def test_svhn_box_csv_gives_the_documented_digit_counts_of_each_split():
    # The crops/ folder these once matched pixel for pixel is gone; the README's counts per class remain.
    train = load(DATASETS / "svhn" / "labels.csv", get("digits"), "train")
    test = load(DATASETS / "svhn" / "labels.csv", get("digits"), "test")
    assert list(train.counts().values()) == [991, 2917, 2330, 1676, 1502, 1387, 1187, 1209, 965, 942]
    assert list(test.counts().values()) == [265, 731, 603, 409, 349, 361, 290, 303, 215, 231]


def test_retraining_samples_digits_from_the_box_csv():
    from ml.finetune import sample_folder  # noqa: PLC0415

    sample = sample_folder(DATASETS / "svhn" / "labels.csv", "test", get("digits"), per_class=5)
    assert list(sample.counts().values()) == [5] * 10


@pytest.mark.parametrize("name, folder, target", TARGETS, ids=[t[0] for t in TARGETS])
def test_shipped_model_meets_its_target(name, folder, target, tmp_path):
    from ml.evaluate import evaluate_artifact  # noqa: PLC0415

    if not (get(name).shipped_dir / "metadata.json").is_file():
        pytest.skip(f"no shipped {name} model at {get(name).shipped_dir}")
    report = evaluate_artifact(name, str(DATASETS / folder), "test", out=str(tmp_path))
    assert report["accuracy"] >= target, report["text"]
