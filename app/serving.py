"""Per-process cache of loaded models: each artifact is loaded once, lazily, after any fork."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ml.artifact import LITE_FILE, ArtifactError, version
from ml.serving import Classifier


@dataclass(frozen=True)
class Model:
    """A loaded classifier and the version string recorded with each of its predictions."""

    classifier: Classifier
    version: str
    path: Path


_lock = threading.Lock()
_cache: dict[tuple[str, int], Model] = {}
_pid = os.getpid()


def load(artifact_dir: str | os.PathLike) -> Model:
    """The model in `artifact_dir`, loaded on first use; ArtifactError when it is missing or broken."""
    global _pid
    path = Path(artifact_dir).resolve()
    try:
        stamp = (path / LITE_FILE).stat().st_mtime_ns
    except OSError:
        raise ArtifactError(f"{path / LITE_FILE}: missing") from None
    key = (str(path), stamp)  # a rewritten file at the same path is a new model
    with _lock:
        if os.getpid() != _pid:
            # Interpreters made before a fork belong to the parent: start afresh in the child.
            _cache.clear()
            _pid = os.getpid()
        model = _cache.get(key)
        if model is None:
            classifier = Classifier(path)
            model = Model(classifier, version(path), path)
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = model
        return model


def forget(artifact_dir: str | os.PathLike) -> None:
    """Drop a model that no longer serves (a replaced champion), so its memory can be freed."""
    path = str(Path(artifact_dir).resolve())
    with _lock:
        for key in [k for k in _cache if k[0] == path]:
            del _cache[key]
