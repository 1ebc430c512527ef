"""Base data that travels with a deployment: imported into storage once, read back by retraining on any machine.

A recognizer's base dataset lives under `base/<recognizer>/` in the configured storage (local folder or S3):
the dataset's files at their relative paths (class folders `train/<class>/...`, `test/<class>/...`, or a box
CSV with its photos) and `base/<recognizer>/manifest.json`, which lists every file with its SHA-256 and hashes
that list. Retraining downloads it once per machine into BASE_DATA_CACHE_DIR, checking every hash; without an
import it reads the TRAIN_DATA_* folder instead.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

from app import storage
from app.storage import NotFound
from ml.data.folders import IMAGE_SUFFIXES

SUFFIXES = {*IMAGE_SUFFIXES, ".csv"}
MANIFEST = "manifest.json"


class MissingBaseData(RuntimeError):
    """No base data for a recognizer, in storage or on disk; the message says what to do."""


class SourceError(ValueError):
    """An import source that cannot be read; the message is for a person."""


def prefix(recognizer: str) -> str:
    """The storage prefix of a recognizer's base data."""
    return f"base/{recognizer}/"


def _local_files(root: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        yield path.relative_to(root).as_posix(), path.read_bytes


def _s3_files(url: str) -> Iterator[tuple[str, Callable[[], bytes]]]:
    import boto3  # noqa: PLC0415 - only an S3 source needs it

    bucket, _, key_prefix = url.removeprefix("s3://").partition("/")
    key_prefix = key_prefix.strip("/") + "/" if key_prefix.strip("/") else ""
    client = boto3.client("s3", endpoint_url=current_app.config.get("S3_ENDPOINT_URL"))
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(key_prefix):]
            if Path(relative).suffix.lower() in SUFFIXES:
                yield relative, lambda key=item["Key"]: client.get_object(Bucket=bucket, Key=key)["Body"].read()


def import_dataset(recognizer: str, source: str, echo: Callable[[str], None] = lambda _: None) -> dict:
    """Copy a dataset (a folder, or s3://bucket/prefix) into storage under `base/<recognizer>/`, with its
    manifest; returns the manifest. Files left from an earlier import that the new one lacks are removed."""
    if source.startswith("s3://"):
        files = _s3_files(source)
    elif Path(source).is_dir():
        files = _local_files(Path(source))
    else:
        raise SourceError(f"{source}: no such folder (give a dataset folder or s3://bucket/prefix)")
    store, base, entries = storage.current(), prefix(recognizer), []
    for relative, read in files:
        data = read()
        storage.check_key(base + relative)
        store.put(base + relative, data)
        entries.append({"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        if len(entries) % 1000 == 0:
            echo(f"{len(entries)} files copied")
    if not entries:
        raise SourceError(f"{source}: no images or box CSV found")
    kept = {base + e["path"] for e in entries} | {base + MANIFEST}
    for stale in [k for k in store.keys(base) if k not in kept]:
        store.delete(stale)
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()
    manifest = {"recognizer": recognizer, "source": source, "files": entries,
                "sha256": hashlib.sha256(canonical).hexdigest(),
                "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    store.put(base + MANIFEST, json.dumps(manifest, indent=1).encode())
    return manifest


def stored_manifest(recognizer: str) -> dict | None:
    """The manifest of the base data imported for `recognizer`, if any."""
    try:
        return json.loads(storage.current().get(prefix(recognizer) + MANIFEST))
    except NotFound:
        return None


def _materialize(recognizer: str, manifest: dict) -> Path:
    """A local copy of the imported base data, downloaded once per machine and checked file by file."""
    target = Path(current_app.config["BASE_DATA_CACHE_DIR"]) / recognizer / manifest["sha256"][:16]
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".download-"))
    try:
        store, base = storage.current(), prefix(recognizer)
        for entry in manifest["files"]:
            data = store.get(base + entry["path"])
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise MissingBaseData(f"the stored base data of {recognizer} is damaged: {base}{entry['path']} "
                                      "does not match its manifest hash; import it again")
            path = work / entry["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            work.rename(target)
        except OSError:
            if not target.is_dir():  # another worker finished the same download first: use theirs
                raise
    except NotFound as exc:
        raise MissingBaseData(f"the stored base data of {recognizer} is incomplete ({exc} is missing); "
                              "import it again") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def root(recognizer: str) -> tuple[Path, str]:
    """Where retraining reads `recognizer`'s base data, and how to name it: storage first, then TRAIN_DATA_*."""
    manifest = stored_manifest(recognizer)
    if manifest is not None:
        return (_materialize(recognizer, manifest),
                f"storage {prefix(recognizer)} (manifest {manifest['sha256'][:12]}, from {manifest['source']})")
    path = Path(current_app.config["TRAIN_DATA"][recognizer])
    if not path.exists():
        raise MissingBaseData(
            f"Retraining needs {recognizer}'s base data, and there is none: nothing was imported into storage "
            f"under {prefix(recognizer)} and TRAIN_DATA_{recognizer.upper()} points at {path}, which does not "
            f"exist. Import it once with `flask data import {recognizer} DIR` (see the README's Deploy section).")
    return path, str(path)
