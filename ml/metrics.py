"""Classification metrics: accuracy, macro-F1, per-class scores, confusion matrix, calibration error."""
from __future__ import annotations

import numpy as np


def expected_calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    if len(labels) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def summary(labels: np.ndarray, probs: np.ndarray, classes) -> dict:
    """All metrics of one evaluation as a JSON-ready dict."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # noqa: PLC0415

    labels = np.asarray(labels, dtype=np.int64)
    predicted = probs.argmax(axis=1)
    every = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=every, zero_division=0)
    present = support > 0  # macro-F1 over the classes that occur, as sklearn does for y_true
    return {
        "n": int(len(labels)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "ece": expected_calibration_error(labels, probs),
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]),
                             "f1": float(f1[i]), "support": int(support[i])}
                      for i, name in enumerate(classes)},
        "confusion": confusion_matrix(labels, predicted, labels=every).tolist(),
        "classes": list(classes),
    }
