"""`python -m ml ensemble`: members averaged into one served model, validated on the split they share."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ml import artifact
from ml.cli import main


def _member(folders, out, *seeds):
    assert main(["train", "emotion4", str(folders), "--arch", "cnn_tiny", "--epochs", "1", *seeds,
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def second(folders, tmp_path_factory):
    """A member of another seed on the default member's validation split."""
    return _member(folders, tmp_path_factory.mktemp("runs") / "b", "--seed", "7", "--split-seed", "1234")


def test_the_ensemble_serves_the_mean_of_its_members(trained, second, folders, tmp_path):
    from ml.data import load  # noqa: PLC0415
    from ml.recognizers import get  # noqa: PLC0415
    from ml.serving import Classifier  # noqa: PLC0415

    out = tmp_path / "ensemble"
    assert main(["ensemble", str(folders), "--members", str(trained), str(second), "--out", str(out)]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["architecture"] == "ensemble of cnn_tiny + cnn_tiny" and len(meta["training"]["members"]) == 2
    assert meta["calibration"]["n"] == meta["dataset"]["val_rows"] > 0
    assert artifact.validation_ids(out) == artifact.validation_ids(trained)
    images = load(folders, get("emotion4"), "test").images
    members = [Classifier(d).probabilities(images) for d in (trained, second)]
    np.testing.assert_allclose(Classifier(out).probabilities(images), np.mean(members, axis=0), atol=2e-3)


def test_members_with_their_own_validation_splits_are_refused(trained, folders, tmp_path, capsys):
    other = _member(folders, tmp_path / "c", "--seed", "7")
    assert main(["ensemble", str(folders), "--members", str(trained), str(other), "--out", str(tmp_path / "e")]) == 2
    assert "share one validation split" in capsys.readouterr().err


def test_a_student_learns_from_the_ensembles_probabilities(trained, second, folders, tmp_path):
    teacher = tmp_path / "teacher"
    assert main(["ensemble", str(folders), "--members", str(trained), str(second), "--out", str(teacher)]) == 0
    student = tmp_path / "student"
    assert main(["train", "emotion4", str(folders), "--arch", "cnn_tiny", "--epochs", "1", "--teacher", str(teacher),
                 "--distill", "0.7", "--out", str(student)]) == 0
    meta = json.loads((student / "metadata.json").read_text())
    assert meta["distillation"] == {"teacher": str(teacher), "teacher_version": artifact.version(teacher),
                                    "weight": 0.7}
    assert meta["architecture"] == "cnn_tiny"


def test_soft_targets_blend_the_label_with_the_teachers_probabilities(trained, folders):
    from ml.data import load  # noqa: PLC0415
    from ml.evaluate import predict_dataset  # noqa: PLC0415
    from ml.finetune import distillation_targets  # noqa: PLC0415
    from ml.recognizers import get  # noqa: PLC0415
    from ml.serving import Classifier  # noqa: PLC0415

    data = load(folders, get("emotion4"), "train")
    targets = distillation_targets(trained, data, len(data), 0.7)
    teacher = predict_dataset(Classifier(trained), data.images)
    np.testing.assert_allclose(targets, 0.3 * np.eye(4)[data.labels] + 0.7 * teacher, atol=1e-6)
