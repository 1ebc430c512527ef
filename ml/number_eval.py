"""Scoring the number reader on photos with a box per digit (the layout of ../shared/datasets/svhn)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ml.data.folders import IMAGE_SUFFIXES
from ml.data.svhn_boxes import photo_boxes
from ml.face_eval import match
from ml.numbers import NumberReader
from ml.preprocess import open_image

DIGIT_IOU = 0.5


def match_digits(found: list[tuple[float, ...]], truth: list[tuple[float, ...]]) -> dict[int, int]:
    """One-to-one pairs truth index -> found index at IoU >= DIGIT_IOU."""
    return match(found, truth, DIGIT_IOU)


def evaluate_numbers(data: str | Path, split: str, reader: NumberReader, negatives: str | Path | None = None,
                     negatives_limit: int = 1000) -> dict:
    """Whole-number accuracy (overall and by length), digit recall and precision (box at IoU >= 0.5 with the right
    label), ms per photo (p50, one thread); with `negatives`, numbers read on photos that hold none."""
    root = Path(data)
    labels_csv = root / "labels.csv" if root.is_dir() else root
    right = digits_right = digits_found = digits_true = 0
    by_length: dict[str, list[int]] = {}
    ms = []
    for path, boxes, labels in photo_boxes(labels_csv, split):
        image = open_image(path)
        started = time.perf_counter()
        reading = reader.read(image)
        ms.append((time.perf_counter() - started) * 1000)
        pairs = match_digits([d.box for d in reading.digits], boxes)
        digits_right += sum(reading.digits[j].label == labels[i] for i, j in pairs.items())
        digits_found += len(reading.digits)
        digits_true += len(labels)
        correct = reading.number == "".join(labels)
        right += correct
        by_length.setdefault(str(min(len(labels), 4)) + ("+" if len(labels) >= 4 else ""), []).append(correct)
    n = len(ms)
    report = {"n": n, "split": split, "sequence_accuracy": round(right / max(1, n), 4),
              "digit_recall": round(digits_right / max(1, digits_true), 4),
              "digit_precision": round(digits_right / max(1, digits_found), 4),
              "ms_per_photo_p50": round(float(np.median(ms)), 2) if ms else None,
              "by_length": {k: {"n": len(v), "sequence_accuracy": round(sum(v) / len(v), 4)}
                            for k, v in sorted(by_length.items())}}
    if negatives:
        paths = sorted(p for p in Path(negatives).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        # Evenly spread over the sorted files, so every class folder of a face set is in the sample.
        paths = [paths[i] for i in np.unique(np.linspace(0, len(paths) - 1, min(negatives_limit, len(paths))).astype(int))]
        numbers_read = sum(bool(reader.read(open_image(p)).digits) for p in paths)
        report.update({"negatives": len(paths), "false_numbers_per_photo": round(numbers_read / max(1, len(paths)), 4)})
    return report
