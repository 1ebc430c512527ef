"""Paired comparison of two models on the same images: the accuracy difference, its interval and McNemar's test.

Only the images where the two models disagree carry information about which is better. `b` counts images only
the first (the champion) got right, `c` those only the second (the candidate) got right; the difference is
(c - b) / n. The interval comes from a paired bootstrap, drawn as multinomial counts over the four
right/wrong cells (the same as resampling images, without the loop); the p-value is McNemar's exact mid-p.
"""
from __future__ import annotations

import numpy as np

BOOTSTRAP_DRAWS = 4000


def mcnemar_mid_p(b: int, c: int) -> float:
    """One-sided McNemar mid-p that the candidate is better (c > b happened by chance if they are equal)."""
    from scipy.stats import binom  # noqa: PLC0415

    n = b + c
    if n == 0:
        return 1.0
    return float(binom.sf(c, n, 0.5) + 0.5 * binom.pmf(c, n, 0.5))


def compare(first_correct, second_correct, confidence: float = 0.95, seed: int = 0) -> dict:
    """Accuracy of each model, their difference (second - first) with one-sided bounds at `confidence`
    (so [low, high] is a central interval at 2 * confidence - 1), and the discordant counts."""
    first, second = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    if first.shape != second.shape:
        raise ValueError("both models must be measured on the same images")
    n = len(first)
    b, c = int(np.sum(first & ~second)), int(np.sum(~first & second))
    if n == 0:
        return {"n": 0, "before": None, "after": None, "difference": None, "low": None, "high": None,
                "b": 0, "c": 0, "p_better": 1.0, "p_worse": 1.0, "confidence": confidence}
    draws = np.random.default_rng(seed).multinomial(n, [b / n, c / n, 1 - (b + c) / n], size=BOOTSTRAP_DRAWS)
    differences = (draws[:, 1] - draws[:, 0]) / n
    tail = 100 * (1 - confidence)
    low, high = np.percentile(differences, [tail, 100 - tail])
    return {"n": n, "before": float(first.mean()), "after": float(second.mean()), "difference": (c - b) / n,
            "low": float(low), "high": float(high), "b": b, "c": c,
            "p_better": mcnemar_mid_p(b, c), "p_worse": mcnemar_mid_p(c, b), "confidence": confidence}


def per_class(labels, first_correct, second_correct, classes, confidence: float = 0.95) -> dict[str, dict]:
    """`compare` within each class (the difference in recall), for classes present in `labels`."""
    labels = np.asarray(labels)
    first, second = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    return {name: compare(first[labels == i], second[labels == i], confidence)
            for i, name in enumerate(classes) if np.any(labels == i)}
