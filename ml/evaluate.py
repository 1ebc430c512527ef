"""Evaluate an artifact on a dataset split through the serving path, with a confusion-matrix picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ml import artifact, data, metrics
from ml.serving import Classifier


def predict_dataset(classifier: Classifier, images: np.ndarray, batch_size: int = 256,
                    calibrated: bool = True) -> np.ndarray:
    """Probabilities for every prepared image (N×H×W×C uint8), batch by batch."""
    parts = [classifier.predict(images[i:i + batch_size], calibrated)
             for i in range(0, len(images), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, len(classifier.classes)), np.float32)


def plot_confusion(confusion, classes, path: Path, title: str) -> Path:
    """Save a row-normalised confusion matrix with counts as a PNG."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion, dtype=np.float64)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.6 + 0.55 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=8,
                    color="white" if rates[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_text(report: dict) -> str:
    """A human-readable report: headline figures and a per-class table."""
    lines = [f"{report['model']} on {report['data']} [{report['split']}]: n={report['n']}",
             f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  ECE {report['ece']:.4f}"]
    if report["skipped"]:
        lines.append("skipped class folders the model does not know: "
                     + ", ".join(f"{k} ({v})" for k, v in sorted(report["skipped"].items())))
    lines.append(f"{'class':>10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for name, row in report["per_class"].items():
        lines.append(f"{name:>10} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1']:6.3f} {row['support']:7d}")
    lines.append(f"confusion matrix: {report['confusion_png']}")
    return "\n".join(lines)


def evaluate_artifact(model: str, data_path: str, split: str | None = "test", out: str | None = None,
                      save: bool = False) -> dict:
    """Evaluate MODEL (recognizer name or artifact dir) on a split; optionally record it in the metadata."""
    directory = artifact.resolve(model)
    classifier = Classifier(directory, threads=None)
    dataset = data.load(data_path, classifier.recognizer, split)
    probs = predict_dataset(classifier, dataset.images)
    report = metrics.summary(dataset.labels, probs, classifier.classes)
    out_dir = Path(out) if out else directory
    out_dir.mkdir(parents=True, exist_ok=True)
    png = plot_confusion(report["confusion"], classifier.classes, out_dir / f"confusion_{split or 'all'}.png",
                         f"{classifier.recognizer.name} on {split or 'all'}: accuracy {report['accuracy']:.1%}")
    report.update(model=str(directory), data=str(data_path), split=split, skipped=dataset.skipped,
                  dataset_sha256=dataset.digest, confusion_png=str(png))
    if save:
        meta = artifact.read_metadata(directory)
        meta.setdefault("metrics", {})[split or "all"] = {
            k: report[k] for k in ("n", "accuracy", "macro_f1", "ece", "per_class", "dataset_sha256")}
        meta["metrics"][split or "all"]["data"] = str(data_path)
        artifact.write_metadata(directory, meta)
    report["text"] = format_text(report)
    return report
