"""Class-folder datasets: `<root>/<split>/<class>/*.png|jpg` or `<root>/<class>/*`."""
from __future__ import annotations

from pathlib import Path


from ml.data import DataFormatError, Sample
from ml.preprocess import ImageError, open_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
KNOWN_SPLITS = {"train", "training", "val", "valid", "validation", "test", "public_test", "private_test"}


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_class_dirs(root: Path, split: str) -> list[Sample]:
    samples = []
    for class_dir in _subdirs(root):
        for path in _images_in(class_dir):
            try:
                image = open_image(path)
            except ImageError as exc:
                raise DataFormatError(f"{path}: expected a JPEG or PNG image ({exc})") from None
            samples.append(Sample(str(path), split, class_dir.name, image))
    return samples


def read(root: Path) -> list[Sample]:
    """Read a class-folder tree, with or without a split level (split 'all' when there is none)."""
    top = _subdirs(root)
    if not top:
        raise DataFormatError(f"{root}: expected class folders <class>/*.png or <split>/<class>/*.png")
    has_splits = all(d.name.lower() in KNOWN_SPLITS for d in top) or all(
        _subdirs(d) and not _images_in(d) for d in top)
    if has_splits:
        samples = [s for d in top for s in _read_class_dirs(d, d.name.lower())]
    else:
        samples = _read_class_dirs(root, "all")
    if not samples:
        raise DataFormatError(f"{root}: no .jpg/.jpeg/.png images found in class folders")
    return samples
