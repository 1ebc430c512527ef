"""`python -m ml eda`: the HTML report, its charts, and duplicates that leak across splits."""
from __future__ import annotations

import json
import shutil

from ml.cli import main


def test_eda_report_with_a_leak_across_splits(folders, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(folders, data)
    shutil.copy(data / "train" / "sad" / "1.png", data / "test" / "sad" / "copy.png")
    shutil.copy(data / "train" / "sad" / "1.png", data / "train" / "happy" / "mislabelled.png")
    out = tmp_path / "eda"
    assert main(["eda", str(data), "--out", str(out)]) == 0
    assert "1 across splits" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["n"] == 55
    assert report["counts"]["train"]["happy"] == 11 and report["counts"]["test"]["angry"] == 1
    assert report["sizes_and_modes"]["modes"] == {"L": 55} and report["sizes_and_modes"]["sizes"] == {"48x48": 55}
    assert report["pixels"]["train"]["channels"] == ["L"] and 0 < report["pixels"]["train"]["mean"][0] < 255
    dup = report["duplicates"]
    assert (dup["groups"], dup["extra_copies"], dup["cross_split_groups"], dup["label_conflicts"]) == (1, 2, 1, 1)
    assert {m["split"] for m in dup["examples"][0]} == {"train", "test"}
    page = (out / "index.html").read_text()
    assert "span splits" in page and "carry different labels" in page
    for name in report["charts"].values():
        assert (out / name).stat().st_size > 1000 and f"src='{name}'" in page
