"""Array-backed datasets (FER-2013 CSV, SVHN .mat and .h5): pixels and labels become samples."""
from __future__ import annotations

import numpy as np
from PIL import Image

from ml.data import DataFormatError, Sample


def to_uint8(images: np.ndarray, source: str) -> np.ndarray:
    """Pixels as uint8 0..255; floats in 0..1 are scaled up, anything else out of range is refused."""
    if images.dtype == np.uint8:
        return images
    if images.size == 0:
        return images.astype(np.uint8)
    low, high = float(images.min()), float(images.max())
    if np.issubdtype(images.dtype, np.floating) and high <= 1.0 and low >= 0.0:
        images = images * 255.0
    elif low < 0 or high > 255:
        raise DataFormatError(f"{source}: expected pixel values 0..255 (or 0..1 floats), found {low:g}..{high:g}")
    return np.rint(images).astype(np.uint8)


def digit_names(labels: np.ndarray, source: str) -> list[str]:
    """SVHN digit labels as class names '0'..'9' (SVHN writes digit 0 as 10)."""
    labels = np.asarray(labels).reshape(-1)
    if not np.issubdtype(labels.dtype, np.number) or np.any(labels != np.round(labels)):
        raise DataFormatError(f"{source}: expected integer digit labels")
    bad = labels[(labels < 0) | (labels > 10)]
    if len(bad):
        raise DataFormatError(f"{source}: expected digit labels 0..10 (10 meaning 0), found {bad[0]:g}")
    return [str(int(v) % 10) for v in labels]


def samples(images: np.ndarray, labels: list[str], split: str, key: str) -> list[Sample]:
    """One sample per N×H×W or N×H×W×3 uint8 image; keys are `key[i]`."""
    if len(images) != len(labels):
        raise DataFormatError(f"{key}: {len(images)} images but {len(labels)} labels")
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)):
        raise DataFormatError(f"{key}: expected N×H×W grayscale or N×H×W×3 colour images, "
                              f"found shape {images.shape}")
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    return [Sample(f"{key}[{i}]", split, label, Image.fromarray(np.ascontiguousarray(image)))
            for i, (image, label) in enumerate(zip(images, labels))]
