"""The FER-2013 CSV: `emotion,pixels,Usage`, one 48×48 grayscale face per row."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from ml.data import DataFormatError, Sample

# FER-2013's own label order, which is not alphabetical.
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
USAGE_SPLITS = {"Training": "train", "PublicTest": "test", "PrivateTest": "private_test"}
SIDE = 48
HEADER = "emotion,pixels,Usage"


def is_fer_header(columns: list[str]) -> bool:
    """Whether a CSV header is FER-2013's (the Usage column is optional, as in Kaggle's train.csv)."""
    return {"emotion", "pixels"} <= set(columns)


def _row(path: Path, line: int, row: dict) -> tuple[np.ndarray, str, str]:
    where = f"{path}, line {line}"
    try:
        emotion = EMOTIONS[int(row["emotion"])]
    except (ValueError, IndexError, TypeError):
        raise DataFormatError(f"{where}: expected emotion 0..6, found {row['emotion']!r}") from None
    try:
        pixels = np.array(row["pixels"].split(), dtype=np.int64)
    except (ValueError, AttributeError):
        raise DataFormatError(f"{where}: expected {SIDE * SIDE} space-separated pixel values 0..255") from None
    if pixels.size != SIDE * SIDE:
        raise DataFormatError(f"{where}: expected {SIDE * SIDE} pixel values, found {pixels.size}")
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataFormatError(f"{where}: expected pixel values 0..255, found {pixels.min()}..{pixels.max()}")
    usage = (row.get("Usage") or "").strip()
    if usage and usage not in USAGE_SPLITS:
        raise DataFormatError(f"{where}: expected Usage {', '.join(USAGE_SPLITS)}, found {usage!r}")
    return pixels.astype(np.uint8).reshape(SIDE, SIDE), emotion, USAGE_SPLITS.get(usage, "all")


def read(path: Path) -> list[Sample]:
    """Read every row; Usage Training/PublicTest/PrivateTest become splits train/test/private_test."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        # Some copies (icml_face_data.csv) write ", Usage" with a space after the comma.
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        if not is_fer_header(reader.fieldnames):
            raise DataFormatError(f"{path}: expected FER-2013 header {HEADER}, found {','.join(reader.fieldnames)}")
        found = []
        for line, row in enumerate(reader, start=2):
            image, emotion, split = _row(path, line, row)
            found.append(Sample(f"{path}:{line}", split, emotion, Image.fromarray(image)))
    if not found:
        raise DataFormatError(f"{path}: no rows after the {HEADER} header")
    return found
