"""Which model serves each recognizer in this process: the registry's champion, re-checked every few seconds.

Web processes pick up a promotion or rollback without a restart: the champion's version is looked up
at most every CHAMPION_CHECK_S seconds (one indexed query), and a new one is downloaded and loaded once.
When the new champion cannot be loaded, the previous one keeps serving and the error is kept for admins.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app import serving
from app.services import registry
from app.storage import StorageError
from ml.artifact import ArtifactError

log = logging.getLogger(__name__)
_lock = threading.Lock()


@dataclass
class _Serving:
    version: str
    path: Path
    checked: float  # time.monotonic() of the last registry look-up


def _state() -> dict:
    # Per app object: tests build several apps (several databases) in one process.
    return current_app.extensions.setdefault("champions", {"serving": {}, "errors": {}, "synced": set()})


def model_for(recognizer: str) -> serving.Model:
    """The loaded champion of `recognizer`; ArtifactError or StorageError when none can be served."""
    state = _state()
    with _lock:
        current = state["serving"].get(recognizer)
        if current is None or time.monotonic() - current.checked >= current_app.config["CHAMPION_CHECK_S"]:
            current = _refresh(recognizer, current, state)
    return serving.load(current.path)


def _refresh(recognizer: str, current: _Serving | None, state: dict) -> _Serving:
    now = time.monotonic()
    if recognizer in state["synced"]:
        best = registry.champion(recognizer)
    else:  # once per process: a newer release may ship a new baseline
        best = registry.ensure_baseline(recognizer)
        state["synced"].add(recognizer)
    if best is None:
        raise ArtifactError(f"{recognizer}: no champion registered")
    if current is not None and current.version == best.version:
        current.checked = now
        return current
    try:
        path = registry.materialize(best)
        serving.load(path)  # load now, so a broken artifact is caught before it replaces a working one
    except (ArtifactError, StorageError, OSError) as exc:
        message = f"{best.label} ({best.version}) cannot be served: {exc}"
        state["errors"][recognizer] = message
        if current is None:
            raise ArtifactError(message) from None
        log.error("%s; %s keeps serving", message, current.version)
        current.checked = now
        return current
    state["errors"].pop(recognizer, None)
    if current is not None:
        serving.forget(current.path)
        log.info("%s: now serving %s (was %s)", recognizer, best.version, current.version)
    fresh = _Serving(best.version, path, now)
    state["serving"][recognizer] = fresh
    return fresh


def errors() -> dict[str, str]:
    """Champions this process could not load, by recognizer (shown to admins)."""
    return dict(_state()["errors"])
