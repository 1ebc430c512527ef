"""Per-process cache of loaded models and number readers: each artifact is loaded once, lazily, after any fork."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ml.artifact import LITE_FILE, ArtifactError, version
from ml.numbers import NumberReader
from ml.serving import Classifier


@dataclass(frozen=True)
class Model:
    """A loaded classifier and the version string recorded with each of its predictions."""

    classifier: Classifier
    version: str
    path: Path


_lock = threading.Lock()
_cache: dict[tuple[str, int], Model] = {}
_readers: dict[tuple[str, int, str, bool], NumberReader] = {}
_pid = os.getpid()


def _stamp(path: Path) -> int:
    try:
        return (path / LITE_FILE).stat().st_mtime_ns
    except OSError:
        raise ArtifactError(f"{path / LITE_FILE}: missing") from None


def _after_fork() -> None:
    global _pid
    if os.getpid() != _pid:
        # Interpreters made before a fork belong to the parent: start afresh in the child.
        _cache.clear()
        _readers.clear()
        _pid = os.getpid()


def load(artifact_dir: str | os.PathLike) -> Model:
    """The model in `artifact_dir`, loaded on first use; ArtifactError when it is missing or broken."""
    path = Path(artifact_dir).resolve()
    key = (str(path), _stamp(path))  # a rewritten file at the same path is a new model
    with _lock:
        _after_fork()
        model = _cache.get(key)
        if model is None:
            classifier = Classifier(path)
            model = Model(classifier, version(path), path)
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = model
        return model


def number_reader(detector_dir: str | os.PathLike, model: Model, second_look: bool = True) -> NumberReader:
    """The number reader of the digit detector in `detector_dir` that reads each digit with `model` (the digits
    champion), made once per process, detector file, champion and `second_look` (live frames read without it)."""
    path = Path(detector_dir).resolve()
    key = (str(path), _stamp(path), str(model.path), second_look)
    with _lock:
        _after_fork()
        reader = _readers.get(key)
        if reader is None:
            try:
                reader = NumberReader(path, model.classifier, second_look=second_look)
            except (OSError, ValueError, RuntimeError) as exc:
                raise ArtifactError(f"{path}: the digit detector cannot be loaded ({exc})") from None
            # A new champion or detector file replaces the reader with the same look.
            for old in [k for k in _readers if (k[0], k[3]) == (key[0], key[3])]:
                del _readers[old]
            _readers[key] = reader
        return reader


def forget(artifact_dir: str | os.PathLike) -> None:
    """Drop a model that no longer serves (a replaced champion), so its memory can be freed."""
    path = str(Path(artifact_dir).resolve())
    with _lock:
        for key in [k for k in _cache if k[0] == path]:
            del _cache[key]
