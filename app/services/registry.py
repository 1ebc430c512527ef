"""The model registry: register artifacts in storage, find the champion, promote and roll back."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import storage
from app.extensions import db
from app.models import ModelVersion, VersionStatus
from app.models.base import utcnow
from app.storage import StorageError
from ml import artifact
from ml.recognizers import RECOGNIZERS

log = logging.getLogger(__name__)

FILES = (artifact.KERAS_FILE, artifact.LITE_FILE, artifact.METADATA_FILE)
# Kept with a version when its artifact has it: the images its training held out, which retraining calibrates on.
OPTIONAL_FILES = (artifact.VALIDATION_FILE,)


class RegistryError(ValueError):
    """A registry operation that cannot be done; the message is safe to show."""


def versions(recognizer: str | None = None) -> list[ModelVersion]:
    """Every registered version, per recognizer, newest first."""
    query = select(ModelVersion).order_by(ModelVersion.recognizer, ModelVersion.number.desc())
    if recognizer:
        query = query.where(ModelVersion.recognizer == recognizer)
    return list(db.session.scalars(query))


def champion(recognizer: str) -> ModelVersion | None:
    """The version serving `recognizer`, if any."""
    return db.session.scalar(select(ModelVersion).where(ModelVersion.recognizer == recognizer,
                                                        ModelVersion.status == VersionStatus.CHAMPION))


def find(ref: str) -> ModelVersion | None:
    """A version by its version string, or by its numeric id."""
    ref = ref.strip()
    found = db.session.scalar(select(ModelVersion).where(ModelVersion.version == ref))
    if found is None and ref.isdigit():
        found = db.session.get(ModelVersion, int(ref))
    return found


def register(recognizer: str, directory: Path, source: str, *, parent: ModelVersion | None = None,
             metrics: dict | None = None, manifest: tuple[str, str, dict] | None = None,
             champion_now: bool = False, note: str | None = None) -> ModelVersion:
    """Copy an artifact directory to storage and record it; `manifest` is (key, sha256, summary)."""
    meta = artifact.read_metadata(directory)
    if meta["recognizer"] != recognizer:
        raise RegistryError(f"{directory} is a {meta['recognizer']} model, not {recognizer}")
    version = artifact.version(directory)
    prefix = f"models/{recognizer}/{version}"
    store = storage.current()
    for name in FILES + tuple(n for n in OPTIONAL_FILES if (directory / n).is_file()):
        store.put(f"{prefix}/{name}", (directory / name).read_bytes())
    number = (db.session.scalar(select(func.max(ModelVersion.number))
                                .where(ModelVersion.recognizer == recognizer)) or 0) + 1
    key, sha, summary = manifest or (None, None, {})
    row = ModelVersion(recognizer=recognizer, number=number, version=version, artifact_key=prefix,
                       source=source, parent=parent, metrics=metrics or {}, manifest_key=key,
                       manifest_sha256=sha, manifest_summary=summary, note=note,
                       status=VersionStatus.CHAMPION if champion_now else VersionStatus.CANDIDATE,
                       promoted_at=utcnow() if champion_now else None)
    db.session.add(row)
    db.session.commit()
    return row


def ensure_baseline(recognizer: str) -> ModelVersion | None:
    """Register the shipped model if it is new: the champion on first start; after an upgrade that ships a
    different one, a candidate that takes over only from an earlier shipped baseline (a retrained champion,
    or a baseline someone rolled back to, stays). Returns the champion."""
    current = champion(recognizer)
    directory = Path(current_app.config["MODELS_DIR"]) / recognizer
    try:
        meta = artifact.read_metadata(directory)
        shipped_version = artifact.version(directory)
    except (artifact.ArtifactError, OSError):
        if current is not None:
            return current  # nothing (readable) shipped: keep serving what the registry has
        raise
    if db.session.scalar(select(ModelVersion.id).where(ModelVersion.recognizer == recognizer,
                                                       ModelVersion.version == shipped_version)):
        return current
    shipped = (meta.get("metrics") or {}).get("test")
    trained_on = meta.get("dataset") or {}
    # The baseline's manifest is its training set's hash and counts, as the artifact recorded them.
    manifest = (None, trained_on.get("sha256"),
                {"counts": {"base_train": trained_on.get("counts", {})}, "base_data": trained_on.get("source")})
    first = current is None and not versions(recognizer)
    try:
        added = register(recognizer, directory, "baseline", champion_now=current is None, manifest=manifest,
                         metrics={"base_test": shipped} if shipped else {},
                         note="shipped baseline, registered on first start" if first
                         else "shipped baseline of a newer release")
    except IntegrityError:
        db.session.rollback()  # another process registered it first
        return champion(recognizer)
    if current is not None and current.source == "baseline" and _never_rolled_back_to(current):
        promote(added)
    return champion(recognizer)


def _never_rolled_back_to(version: ModelVersion) -> bool:
    """Whether `version` is the champion only because it came first, not because an admin chose it again."""
    return not db.session.scalar(select(ModelVersion.id).where(
        ModelVersion.recognizer == version.recognizer, ModelVersion.status == VersionStatus.ARCHIVED,
        ModelVersion.promoted_at > version.promoted_at).limit(1))


def ensure_baselines() -> None:
    """Register every shipped baseline that is not registered yet; missing artifacts are skipped."""
    for name in RECOGNIZERS:
        try:
            ensure_baseline(name)
        except (artifact.ArtifactError, StorageError) as exc:
            log.info("no baseline for %s: %s", name, exc)


def promote(version: ModelVersion, keep_promoted_at: bool = False) -> ModelVersion | None:
    """Make `version` the champion and archive the previous one; returns the previous champion."""
    previous = champion(version.recognizer)
    if previous is not None and previous.id == version.id:
        return None
    if previous is not None:
        previous.status = VersionStatus.ARCHIVED
        db.session.flush()  # the partial unique index allows one champion at a time
    version.status = VersionStatus.CHAMPION
    if not keep_promoted_at or version.promoted_at is None:
        version.promoted_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RegistryError("Another promotion happened at the same time; try again.") from None
    return previous


def rollback(recognizer: str) -> ModelVersion:
    """Bring back the champion before the current one; returns the restored version."""
    current = champion(recognizer)
    if current is None:
        raise RegistryError(f"{recognizer} has no champion to roll back from.")
    query = select(ModelVersion).where(ModelVersion.recognizer == recognizer,
                                       ModelVersion.id != current.id,
                                       ModelVersion.promoted_at.is_not(None))
    if current.promoted_at is not None:
        query = query.where(ModelVersion.promoted_at <= current.promoted_at)
    earlier = db.session.scalar(query.order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc()))
    if earlier is None:
        raise RegistryError(f"{recognizer} has no earlier champion to roll back to.")
    # Keep its old promotion time, so a second rollback steps further back instead of flipping back.
    promote(earlier, keep_promoted_at=True)
    return earlier


def materialize(version: ModelVersion) -> Path:
    """A local directory holding the version's artifact, downloaded once per machine and checked."""
    target = Path(current_app.config["MODEL_CACHE_DIR"]) / version.recognizer / version.version
    if all((target / name).is_file() for name in FILES):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".download-"))
    try:
        store = storage.current()
        for name in FILES + tuple(n for n in OPTIONAL_FILES if store.exists(f"{version.artifact_key}/{n}")):
            (work / name).write_bytes(store.get(f"{version.artifact_key}/{name}"))
        if artifact.version(work) != version.version:
            raise artifact.ArtifactError(f"{version.artifact_key}: stored model does not match its version "
                                         f"{version.version} (damaged upload?)")
        try:
            work.rename(target)
        except OSError:
            if not target.is_dir():  # another process finished the same download first: use theirs
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
