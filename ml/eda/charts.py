"""The EDA report's PNG charts (matplotlib, no display needed)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ml.data import Sample

SAMPLES_PER_CLASS = 10


def _pyplot():
    import matplotlib  # noqa: PLC0415 - only the report needs matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path.name


def class_counts(counts: dict[str, dict[str, int]], path: Path) -> str:
    """Grouped bar chart of images per class, one colour per split."""
    plt = _pyplot()
    classes = list(next(iter(counts.values())))
    x = np.arange(len(classes))
    width = 0.8 / len(counts)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(classes) + 2), 3.8))
    for i, (split, per_class) in enumerate(counts.items()):
        ax.bar(x + (i - (len(counts) - 1) / 2) * width, [per_class[c] for c in classes], width, label=split)
    ax.set_xticks(x, classes, rotation=45 if len(classes) > 10 else 0, ha="right" if len(classes) > 10 else "center")
    ax.set_ylabel("images")
    ax.set_title("Images per class")
    ax.legend()
    return _save(fig, path)


def sample_grid(samples: list[Sample], path: Path, seed: int = 0) -> str:
    """A row of randomly chosen images per class, drawn at their own pixels (no model preprocessing)."""
    plt = _pyplot()
    by_class: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_class[s.label].append(s)
    rng = np.random.default_rng(seed)
    classes = sorted(by_class)
    fig, axes = plt.subplots(len(classes), SAMPLES_PER_CLASS, squeeze=False,
                             figsize=(SAMPLES_PER_CLASS * 0.9, len(classes) * 0.95))
    for row, label in zip(axes, classes):
        members = by_class[label]
        chosen = rng.choice(len(members), size=min(SAMPLES_PER_CLASS, len(members)), replace=False)
        for ax, index in zip(row, [*chosen, *[None] * SAMPLES_PER_CLASS]):
            ax.axis("off")
            if index is not None:
                image = members[index].image
                gray = image.mode in ("L", "1")
                ax.imshow(np.asarray(image.convert("L" if gray else "RGB")), cmap="gray" if gray else None,
                          vmin=0, vmax=255)
        row[0].set_title(label, fontsize=8, loc="left")
    return _save(fig, path)


def histograms(values: dict[str, np.ndarray], path: Path, title: str, xlabel: str) -> str:
    """Overlaid histograms, one per split."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    every = np.concatenate(list(values.values()))
    bins = np.linspace(every.min(), every.max() + 1e-9, 40)
    for split, v in values.items():
        ax.hist(v, bins=bins, alpha=0.55, label=split, weights=np.full(len(v), 1 / len(v)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of images")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def sizes(samples: list[Sample], path: Path) -> str:
    """Scatter of image width against height; marker area grows with how many images share a size."""
    plt = _pyplot()
    pairs, counts = np.unique(np.array([s.image.size for s in samples]), axis=0, return_counts=True)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(pairs[:, 0], pairs[:, 1], s=12 + 200 * counts / counts.max(), alpha=0.5)
    ax.set_xlabel("width (px)")
    ax.set_ylabel("height (px)")
    ax.set_title("Image sizes")
    return _save(fig, path)
