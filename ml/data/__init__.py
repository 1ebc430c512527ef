"""Dataset readers: every supported layout becomes a list of samples, then a `Dataset` for one recognizer."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ml.preprocess import prepare
from ml.recognizers import Recognizer


class DataFormatError(ValueError):
    """A dataset whose layout or format is not what a reader expects; the message names the file."""


@dataclass
class Sample:
    """One labelled image as a reader found it: its key (path or row), split, class name and image."""

    key: str
    split: str
    label: str
    image: Image.Image


@dataclass
class Dataset:
    """Prepared arrays for one recognizer: N×H×W×C uint8 images, int labels, and provenance."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    keys: list[str]
    source: str
    split: str | None
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def digest(self) -> str:
        """A content hash over the prepared pixels and labels."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.images).tobytes())
        h.update(np.asarray(self.labels, np.int64).tobytes())
        return h.hexdigest()

    def counts(self) -> dict[str, int]:
        """Number of images per class, in class order."""
        found = Counter(int(i) for i in self.labels)
        return {name: found.get(i, 0) for i, name in enumerate(self.classes)}

    def manifest(self) -> dict:
        """What this dataset is, for a model's metadata: source, split, counts and hash."""
        return {"source": self.source, "split": self.split, "n": len(self), "counts": self.counts(),
                "sha256": self.digest, "skipped": self.skipped}

    def subset(self, index: np.ndarray) -> "Dataset":
        """The dataset restricted to the rows in `index`."""
        return Dataset(self.images[index], self.labels[index], self.classes,
                       [self.keys[i] for i in index], self.source, self.split, dict(self.skipped))


def read_samples(path: str | Path) -> list[Sample]:
    """Read every sample under `path`, choosing the reader from the file type or folder layout."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"{path}: no such file or folder")
    if path.is_dir():
        from ml.data import folders  # noqa: PLC0415 - readers import this module

        return folders.read(path)
    from ml.data import readers  # noqa: PLC0415

    return readers.read_file(path)


def to_dataset(samples: list[Sample], recognizer: Recognizer, split: str | None, source: str) -> Dataset:
    """Prepare the samples of one split for `recognizer`; classes it does not know are counted as skipped."""
    chosen = [s for s in samples if split is None or s.split == split]
    if split is not None and not chosen:
        splits = sorted({s.split for s in samples})
        raise DataFormatError(f"{source}: no split {split!r}; found {', '.join(splits) or 'none'}")
    index = {name: i for i, name in enumerate(recognizer.classes)}
    kept = [s for s in chosen if s.label in index]
    skipped = dict(Counter(s.label for s in chosen if s.label not in index))
    images = np.stack([prepare(s.image, recognizer) for s in kept]) if kept else np.zeros(
        (0, *recognizer.input_shape), np.uint8)
    labels = np.array([index[s.label] for s in kept], dtype=np.int64)
    return Dataset(images, labels, recognizer.classes, [s.key for s in kept], source, split, skipped)


def load(path: str | Path, recognizer: Recognizer, split: str | None = None) -> Dataset:
    """Read `path` and prepare its `split` (all samples when None) for `recognizer`."""
    return to_dataset(read_samples(path), recognizer, split, str(path))



def combine(parts: list[Dataset], source: str, repeats: list[int] | None = None) -> Dataset:
    """Concatenate datasets of one recognizer; `repeats` oversamples parts (small feedback sets weigh more)."""
    repeats = repeats or [1] * len(parts)
    chosen = [(p, r) for p, r in zip(parts, repeats) if len(p) and r]
    if not chosen:
        return parts[0].subset(np.arange(0))
    images = np.concatenate([np.repeat(p.images, r, axis=0) if r > 1 else p.images for p, r in chosen])
    labels = np.concatenate([np.repeat(p.labels, r) if r > 1 else p.labels for p, r in chosen])
    keys = [k for p, r in chosen for k in p.keys for _ in range(r)]
    skipped: Counter = Counter()
    for part, _ in chosen:
        skipped.update(part.skipped)
    return Dataset(images, labels, parts[0].classes, keys, source, "train", dict(skipped))


def load_many(paths: list[str | Path], recognizer: Recognizer, split: str | None = None) -> Dataset:
    """`load` each path and concatenate them in order (e.g. FER-2013 and RAF-DB for one expression model)."""
    parts = [load(path, recognizer, split) for path in paths]
    if len(parts) == 1:
        return parts[0]
    data = combine(parts, " + ".join(p.source for p in parts))
    data.split = split
    return data
