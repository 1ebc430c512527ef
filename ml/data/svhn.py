"""SVHN as arrays: format 2 `.mat` files (`X` 32×32×3×N, `y` 1..10) and the course's `.h5` splits."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ml.data import DataFormatError, Sample

SPLIT_NAMES = ("train", "test", "extra")
# The course file stores each split as X_<split>, y_<split>.
H5_SPLITS = ("train", "val", "test")
H5_EXPECTED = "datasets X_train, y_train, X_val, y_val, X_test, y_test (X: N×32×32 or N×32×32×3)"
MAT_EXPECTED = "SVHN format 2 variables X (32×32×3×N) and y (N×1, 10 meaning digit 0)"


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


def split_from_name(path: Path) -> str:
    """train, test or extra from a file name like train_32x32.mat or a folder named so; else 'all'."""
    stem, folder = path.stem.lower(), path.parent.name.lower()
    for split in SPLIT_NAMES:
        if folder == split or stem == split or stem.startswith(f"{split}_"):
            return split
    return "all"


def read_mat(path: Path) -> list[Sample]:
    """Read an SVHN format 2 .mat file (MATLAB ≤ 7.2, as the official files are)."""
    import scipy.io  # noqa: PLC0415 - only .mat files need SciPy

    try:
        content = scipy.io.loadmat(path, variable_names=["X", "y"])
    except (scipy.io.matlab.MatReadError, ValueError, TypeError, OSError) as exc:
        raise DataFormatError(f"{path}: not a readable MATLAB file ({exc}); expected {MAT_EXPECTED}") from None
    if "X" not in content or "y" not in content:
        found = ", ".join(k for k in content if not k.startswith("__")) or "none"
        raise DataFormatError(f"{path}: expected {MAT_EXPECTED}; found variables {found}")
    images, labels = content["X"], content["y"]
    if images.ndim != 4 or images.shape[2] != 3:
        raise DataFormatError(f"{path}: expected X of shape 32×32×3×N, found {images.shape}")
    images = to_uint8(np.moveaxis(images, 3, 0), str(path))
    return samples(images, digit_names(labels, str(path)), split_from_name(path), str(path))


def read_h5(path: Path, handle) -> list[Sample]:
    """Read the course's SVHN .h5 (an open h5py file): X_*/y_* pairs, grayscale or colour."""
    found = []
    for name in H5_SPLITS:
        if f"X_{name}" not in handle and f"y_{name}" not in handle:
            continue
        if f"X_{name}" not in handle or f"y_{name}" not in handle:
            raise DataFormatError(f"{path}: X_{name} and y_{name} must come together; expected {H5_EXPECTED}")
        source = f"{path}:X_{name}"
        images = to_uint8(np.asarray(handle[f"X_{name}"]), source)
        found += samples(images, digit_names(np.asarray(handle[f"y_{name}"]), f"{path}:y_{name}"), name, source)
    if not found:
        raise DataFormatError(f"{path}: expected {H5_EXPECTED}; found {', '.join(handle) or 'nothing'}")
    return found
