"""`flask data ...`: base datasets that travel with a deployment (copied into the configured storage)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services import base_data
from app.storage import StorageError
from ml.recognizers import RECOGNIZERS

data = AppGroup("data", help="Import base datasets into storage for retraining.")


@data.command("import")
@click.argument("recognizer", type=click.Choice(list(RECOGNIZERS)))
@click.argument("source")
def import_command(recognizer: str, source: str) -> None:
    """Copy SOURCE (a dataset folder or s3://bucket/prefix) into storage under base/RECOGNIZER/, with a manifest
    of every file's SHA-256; retraining then reads it from there on any machine."""
    try:
        manifest = base_data.import_dataset(recognizer, source, echo=click.echo)
    except (base_data.SourceError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    size = sum(f["bytes"] for f in manifest["files"]) / 1e6
    click.echo(f"imported {len(manifest['files'])} files ({size:.1f} MB) into {base_data.prefix(recognizer)}; "
               f"manifest {manifest['sha256'][:12]}")


@data.command("status")
def status() -> None:
    """Say where each recognizer's base data comes from."""
    for name in RECOGNIZERS:
        manifest = base_data.stored_manifest(name)
        if manifest:
            click.echo(f"{name}: storage {base_data.prefix(name)}, {len(manifest['files'])} files, manifest "
                       f"{manifest['sha256'][:12]} (from {manifest['source']}, {manifest['imported_at']})")
        else:
            click.echo(f"{name}: nothing imported; TRAIN_DATA_{name.upper()} is used")
