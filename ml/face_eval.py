"""Scoring the face detector on photos with a box per face: the layout of `../shared/datasets/faces_real`.

A set is a folder with `images/`, `images.csv` (image, width, height, faces) and `annotations.csv` (image, x, y,
w, h, ignore). Faces marked `ignore` count neither as found nor as missed, and a box on one is no false alarm.
"""
from __future__ import annotations

import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ml.data import DataFormatError
from ml.faces import FaceDetector, iou, opencv
from ml.preprocess import ImageError, open_image

SIZES = {"all": 0, "40px": 40, "80px": 80}  # recall of faces at least this many pixels high
IOUS = (0.5, 0.3)
FALSE_ALARM_IOU = 0.3  # a box that overlaps no face this much is a false alarm


def face_sets(root: str | Path) -> list[Path]:
    """The set folders under `root`: itself when it holds images.csv, else each subfolder that does."""
    root = Path(root)
    if (root / "images.csv").is_file():
        return [root]
    sets = sorted(p for p in root.iterdir() if (p / "images.csv").is_file()) if root.is_dir() else []
    if not sets:
        raise DataFormatError(f"{root}: no images.csv here or in a subfolder (expected the faces_real layout)")
    return sets


def read_set(folder: Path) -> list[tuple[Path, list[tuple[tuple[float, ...], bool]]]]:
    """Each photo of a set with its faces: ((x, y, w, h), ignore)."""
    faces = defaultdict(list)
    try:
        with open(folder / "annotations.csv", newline="") as f:
            for row in csv.DictReader(f):
                box = tuple(float(row[k]) for k in ("x", "y", "w", "h"))
                faces[row["image"]].append((box, row.get("ignore", "0") == "1"))
        with open(folder / "images.csv", newline="") as f:
            names = [row["image"] for row in csv.DictReader(f)]
    except (OSError, KeyError, ValueError) as exc:
        raise DataFormatError(f"{folder}: unreadable images.csv or annotations.csv ({exc})") from None
    return [(folder / "images" / name, faces[name]) for name in names]


def match(found: list[tuple[float, ...]], truth: list[tuple[float, ...]], threshold: float) -> dict[int, int]:
    """One-to-one pairs truth index -> found index, best overlaps first, each at least `threshold` IoU."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    matched, used = {}, set()
    for overlap, i, j in pairs:
        if overlap < threshold:
            break
        if i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched


def evaluate_faces(root: str | Path, detector: FaceDetector) -> dict:
    """Recall by face size and IoU, false alarms per photo, precision and ms per photo (one thread)."""
    opencv().setNumThreads(1)  # the time one web request's search takes
    report = {"sets": {}}
    totals = _Tally()
    for folder in face_sets(root):
        tally = _Tally()
        for path, faces in read_set(folder):
            try:
                image = open_image(path)
            except ImageError as exc:
                raise DataFormatError(str(exc)) from None
            started = time.perf_counter()
            found = [face.box for face in detector.detect(image)]
            elapsed = (time.perf_counter() - started) * 1000
            for t in (tally, totals):
                t.add(found, faces, elapsed)
        report["sets"][folder.name] = tally.summary()
    report.update(totals.summary())
    report["settings"] = {"detect_side": detector.side, "score_threshold": detector.score_threshold,
                          "nms_threshold": detector.nms_threshold}
    return report


class _Tally:
    """Counts over photos for `evaluate_faces`."""

    def __init__(self):
        self.photos = self.detections = self.false_alarms = self.true_positives = 0
        self.found = {(size, t): 0 for size in SIZES for t in IOUS}
        self.faces = dict.fromkeys(SIZES, 0)
        self.ms: list[float] = []

    def add(self, found, faces, ms: float) -> None:
        self.photos += 1
        self.ms.append(ms)
        counted = [box for box, ignore in faces if not ignore]
        for size, least in SIZES.items():
            self.faces[size] += sum(box[3] >= least for box in counted)
        for threshold in IOUS:
            pairs = match(found, counted, threshold)
            for size, least in SIZES.items():
                self.found[size, threshold] += sum(counted[i][3] >= least for i in pairs)
            if threshold == 0.5:
                self.true_positives += len(pairs)
        everything = [box for box, _ in faces]
        on_ignored = [j for j, box in enumerate(found) if max((iou(box, t) for t in everything), default=0) >=
                      FALSE_ALARM_IOU and max((iou(box, t) for t in counted), default=0) < FALSE_ALARM_IOU]
        self.false_alarms += sum(max((iou(box, t) for t in everything), default=0) < FALSE_ALARM_IOU for box in found)
        self.detections += len(found) - len(on_ignored)

    def summary(self) -> dict:
        recall = {f"recall_{size}_iou{t}": round(self.found[size, t] / self.faces[size], 4) if self.faces[size]
                  else None for size in SIZES for t in IOUS}
        return {"photos": self.photos, "faces": self.faces, **recall,
                "false_alarms_per_photo": round(self.false_alarms / max(1, self.photos), 4),
                "precision_iou0.5": round(self.true_positives / self.detections, 4) if self.detections else None,
                "ms_per_photo_p50": round(float(np.median(self.ms)), 2) if self.ms else None}
