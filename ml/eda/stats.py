"""Dataset statistics for the EDA report: counts, sizes and modes, pixel mean/std, exact duplicates."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import numpy as np

from ml.data import Sample
from ml.preprocess import to_mode

# Splits in reading order (train before test); others follow alphabetically.
SPLIT_ORDER = ("train", "training", "val", "valid", "validation", "test", "public_test", "private_test", "extra")
# Enough examples to see what is duplicated without drowning the page.
SHOWN_GROUPS = 25


def counts(samples: list[Sample]) -> dict[str, dict[str, int]]:
    """Images per split and class: {split: {class: n}}, classes sorted."""
    found: dict[str, Counter] = defaultdict(Counter)
    for s in samples:
        found[s.split][s.label] += 1
    classes = sorted({s.label for s in samples})
    splits = sorted(found, key=lambda x: (SPLIT_ORDER.index(x) if x in SPLIT_ORDER else len(SPLIT_ORDER), x))
    return {split: {c: found[split][c] for c in classes} for split in splits}


def sizes_and_modes(samples: list[Sample]) -> dict:
    """How big the raw images are and which PIL modes they come in."""
    widths = np.array([s.image.width for s in samples])
    heights = np.array([s.image.height for s in samples])
    return {"modes": dict(Counter(s.image.mode for s in samples).most_common()),
            "sizes": {f"{w}x{h}": n for (w, h), n in Counter(zip(widths.tolist(), heights.tolist())).most_common(10)},
            "distinct_sizes": len(set(zip(widths.tolist(), heights.tolist()))),
            "width": {"min": int(widths.min()), "median": float(np.median(widths)), "max": int(widths.max())},
            "height": {"min": int(heights.min()), "median": float(np.median(heights)), "max": int(heights.max())}}


def pixel_stats(samples: list[Sample]) -> dict[str, dict]:
    """Per split, per channel mean and standard deviation of the pixels (0..255), as the model sees colour."""
    mode = "L" if all(s.image.mode in ("L", "1", "I;16", "I") for s in samples) else "RGB"
    totals: dict[str, list] = {}
    for s in samples:
        pixels = np.asarray(to_mode(s.image, mode), dtype=np.float64).reshape(-1, len(mode))
        acc = totals.setdefault(s.split, [0, np.zeros(len(mode)), np.zeros(len(mode))])
        acc[0] += len(pixels)
        acc[1] += pixels.sum(axis=0)
        acc[2] += (pixels ** 2).sum(axis=0)
    found = {}
    for split, (n, total, squares) in totals.items():
        mean = total / n
        std = np.sqrt(np.maximum(squares / n - mean ** 2, 0.0))
        found[split] = {"channels": list(mode), "mean": np.round(mean, 2).tolist(), "std": np.round(std, 2).tolist()}
    return found


def brightness(samples: list[Sample]) -> dict[str, np.ndarray]:
    """Mean grey level of each image, per split (for the brightness histogram)."""
    found: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        found[s.split].append(float(np.asarray(to_mode(s.image, "L")).mean()))
    return {split: np.array(values) for split, values in found.items()}


def pixel_hash(sample: Sample) -> str:
    """Hash of the decoded pixels with mode and size: equal for the same picture however it was encoded."""
    image = sample.image
    h = hashlib.sha1(f"{image.mode}:{image.width}x{image.height}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def _spans(group: list[Sample], attribute: str) -> bool:
    return len({getattr(s, attribute) for s in group}) > 1


def duplicates(samples: list[Sample]) -> dict:
    """Exact duplicate groups, those that leak across splits, and those whose copies disagree on the label."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[pixel_hash(s)].append(s)
    dup = [g for g in groups.values() if len(g) > 1]
    leaks = [g for g in dup if _spans(g, "split")]
    conflicts = [g for g in dup if _spans(g, "label")]
    leak_pairs = Counter(" / ".join(sorted({s.split for s in g})) for g in leaks)
    # Leaks and label conflicts first: they change measured accuracy, plain copies only waste time.
    ranked = sorted(dup, key=lambda g: (not _spans(g, "split"), not _spans(g, "label"), -len(g)))
    return {
        "groups": len(dup),
        "extra_copies": sum(len(g) - 1 for g in dup),
        "cross_split_groups": len(leaks),
        "cross_split": dict(leak_pairs),
        "label_conflicts": len(conflicts),
        "examples": [[{"key": s.key, "split": s.split, "label": s.label} for s in g] for g in ranked[:SHOWN_GROUPS]],
    }
