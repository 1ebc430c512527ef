"""Exploratory data analysis: `python -m ml eda DATA --out DIR` writes index.html, report.json and PNG charts."""
from __future__ import annotations

import json
from pathlib import Path

from ml.data import read_samples
from ml.eda import charts, page, stats


def run(data_path: str | Path, out_dir: str | Path) -> dict:
    """Analyse every sample of a dataset and write the report into `out_dir`; return the report."""
    samples = read_samples(data_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = stats.counts(samples)
    report = {
        "data": str(data_path),
        "n": len(samples),
        "classes": sorted({s.label for s in samples}),
        "counts": counts,
        "sizes_and_modes": stats.sizes_and_modes(samples),
        "pixels": stats.pixel_stats(samples),
        "duplicates": stats.duplicates(samples),
        "charts": {
            "class_counts": charts.class_counts(counts, out / "class_counts.png"),
            "samples": charts.sample_grid(samples, out / "samples.png"),
            "sizes": charts.sizes(samples, out / "sizes.png"),
            "brightness": charts.histograms(stats.brightness(samples), out / "brightness.png",
                                            "Mean brightness per image", "mean grey level (0..255)"),
        },
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "index.html").write_text(page.render(report))
    return report
