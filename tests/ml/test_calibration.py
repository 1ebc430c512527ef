"""Temperature scaling: it finds the temperature that made the labels, keeps every prediction's class."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from ml import artifact
from ml.calibration import fit_temperature, negative_log_likelihood, scale
from ml.cli import main


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("true_temperature", [0.5, 2.0])
def test_the_fit_recovers_the_temperature_behind_the_labels(true_temperature):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (6000, 5))
    # Labels drawn from softmax(z / T): a model reporting softmax(z) is miscalibrated by exactly T.
    truth = _softmax(logits / true_temperature)
    labels = np.array([rng.choice(5, p=p) for p in truth])
    reported = _softmax(logits)
    fitted = fit_temperature(labels, reported)
    assert fitted == pytest.approx(true_temperature, rel=0.1)
    assert negative_log_likelihood(labels, scale(reported, fitted)) < negative_log_likelihood(labels, reported)


def test_scaling_keeps_the_predicted_class_and_sums_to_one():
    probs = _softmax(np.random.default_rng(1).normal(0, 2, (50, 7)))
    for temperature in (0.3, 1.0, 3.0):
        scaled = scale(probs, temperature)
        assert np.array_equal(scaled.argmax(axis=1), probs.argmax(axis=1))
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0, atol=1e-5)
    assert scale(probs, 1.0) is probs
    assert scale(probs, 3.0).max() < probs.max() < scale(probs, 0.3).max()


def test_calibrate_command_refits_an_artifact_on_its_validation_split(trained, folders, tmp_path, capsys):
    copy = shutil.copytree(trained, tmp_path / "model")
    meta = artifact.read_metadata(copy)
    del meta["calibration"]
    artifact.write_metadata(copy, meta)
    assert main(["calibrate", str(copy), str(folders)]) == 0
    refitted = artifact.read_metadata(copy)["calibration"]
    assert refitted == {**artifact.read_metadata(trained)["calibration"], "fitted_on": refitted["fitted_on"]}
    assert f"temperature {refitted['temperature']}" in capsys.readouterr().out


def test_calibrate_records_the_held_out_images_of_an_artifact_made_before_artifacts_did(trained, folders, tmp_path):
    copy = shutil.copytree(trained, tmp_path / "old")
    (copy / artifact.VALIDATION_FILE).unlink()
    assert main(["calibrate", str(copy), str(folders)]) == 0  # the split its training seed carves
    assert artifact.validation_ids(copy) == artifact.validation_ids(trained)
    assert artifact.read_metadata(copy)["calibration"]["n"] == 4


def test_calibrate_on_data_without_the_held_out_images_says_so(trained, folders, tmp_path, capsys):
    copy = shutil.copytree(trained, tmp_path / "model")
    artifact.write_validation_ids(copy, {"0123456789abcdef"})
    assert main(["calibrate", str(copy), str(folders)]) == 2
    assert "none of the 1 images" in capsys.readouterr().err
