"""`python -m ml compare`: an MLP from scratch against a transfer from the session's CNN, on the tiny dataset."""
from __future__ import annotations

import json

import numpy as np

from ml.cli import main
from ml.compare import choose, mcnemar_p, run_name


def test_compare_writes_table_picks_best_and_judges_transfer(trained, folders, tmp_path, capsys):
    out = tmp_path / "compare"
    assert main(["compare", str(folders), "--recognizer", "emotion4", "--archs", f"mlp_small,from:{trained}",
                 "--epochs", "1", "--out", str(out)]) == 0
    report = json.loads((out / "comparison.json").read_text())
    assert [r["arch"] for r in report["runs"]] == ["mlp_small", f"from:{trained}"]
    for row in report["runs"]:
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["macro_f1"] <= 1 and row["parameters"] > 0
        assert row["latency_ms"] > 0 and row["train_seconds"] > 0 and row["lite_kb"] > 0
    assert report["test_n"] == 12 and report["train_n"] == 40
    assert report["best"] == choose(report["runs"])
    [verdict] = report["transfer"]
    assert verdict["arch"] == f"from:{trained}" and verdict["versus"] == "mlp_small"
    assert 0 <= verdict["mcnemar_p"] <= 1
    table = (out / "comparison.md").read_text()
    assert "| mlp_small |" in table and "Best (highest validation accuracy" in table and "McNemar" in table
    assert (out / "from-emotion4" / "model.tflite").is_file()
    assert "best:" in capsys.readouterr().out


def test_choose_prefers_validation_then_fewer_parameters():
    rows = [{"arch": "a", "val_accuracy": 0.8, "parameters": 10}, {"arch": "b", "val_accuracy": 0.9, "parameters": 99},
            {"arch": "c", "val_accuracy": 0.9, "parameters": 50}, {"arch": "d", "val_accuracy": None, "parameters": 1}]
    assert choose(rows)["arch"] == "c"


def test_mcnemar_counts_only_disagreements():
    same = np.array([True, False, True])
    assert mcnemar_p(same, same) == 1.0
    better, worse = np.ones(20, bool), np.zeros(20, bool)
    assert mcnemar_p(better, worse) < 1e-5


def test_run_names_are_folder_safe():
    assert run_name("from:instance/runs/emotion7") == "from-emotion7"
    assert run_name("transfer:mobilenetv2") == "transfer-mobilenetv2"


def test_unknown_architectures_are_refused_before_training(folders, tmp_path, capsys):
    assert main(["compare", str(folders), "--recognizer", "emotion4", "--archs", "cnn_tiny,cnn_huge",
                 "--out", str(tmp_path)]) == 2
    assert "unknown architecture 'cnn_huge'" in capsys.readouterr().err
    assert main(["compare", str(folders), "--recognizer", "emotion4", "--archs", f"from:{tmp_path}",
                 "--out", str(tmp_path)]) == 2
    assert "metadata.json: missing" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
