"""`flask models ...`, `flask retrain ...` and `flask reviewers ...`: the learning loop from the command line."""
from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup, with_appcontext

from app.extensions import db
from app.models import ModelVersion, RetrainRun, RunStatus
from app.models.base import as_utc
from app.services import registry, retraining, training
from app.services import reviewers as reviewer_roles
from app.tasks.retraining import start
from ml.recognizers import RECOGNIZERS

models = AppGroup("models", help="List, promote and roll back model versions.")
reviewers = AppGroup("reviewers", help="Grant or revoke the reviewer role.")


def version_json(v: ModelVersion) -> dict:
    """A version as the CLI and the dashboard's JSON show it."""
    def brief(part: str) -> dict | None:
        found = (v.metrics or {}).get(part)
        return {k: found.get(k) for k in ("n", "accuracy", "macro_f1")} if found else None

    return {"id": v.id, "recognizer": v.recognizer, "number": v.number, "version": v.version,
            "status": v.status.value, "source": v.source, "parent": v.parent.version if v.parent else None,
            "created_at": as_utc(v.created_at).isoformat(timespec="seconds"),
            "promoted_at": as_utc(v.promoted_at).isoformat(timespec="seconds") if v.promoted_at else None,
            "metrics": {"base_test": brief("base_test"), "feedback": brief("feedback")},
            "manifest_sha256": v.manifest_sha256, "artifact_key": v.artifact_key, "note": v.note}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@models.command("list")
@click.argument("recognizer", required=False, type=click.Choice(list(RECOGNIZERS)))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_versions(recognizer: str | None, as_json: bool) -> None:
    """List model versions with status, metrics and creation time (shipped baselines are registered first)."""
    registry.ensure_baselines()
    found = registry.versions(recognizer)
    if as_json:
        click.echo(json.dumps([version_json(v) for v in found], indent=2))
        return
    click.echo(f"{'recognizer':<10} {'#':>3} {'version':<12} {'status':<9} {'base acc':>8} {'base F1':>8} "
               f"{'fb acc':>7}  created")
    for v in found:
        click.echo(f"{v.recognizer:<10} {v.number:>3} {v.version:<12} {v.status.value:<9} "
                   f"{_pct(v.score('base_test')):>8} {_pct(v.score('base_test', 'macro_f1')):>8} "
                   f"{_pct(v.score('feedback')):>7}  {as_utc(v.created_at):%Y-%m-%d %H:%M}")


@models.command("promote")
@click.argument("version")
def promote(version: str) -> None:
    """Make VERSION (version string or id) the champion of its recognizer."""
    found = registry.find(version)
    if found is None:
        raise click.ClickException(f"no model version {version!r}; see `flask models list`")
    try:
        previous = registry.promote(found)
    except registry.RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    was = f" (was {previous.label} {previous.version})" if previous else ""
    click.echo(f"{found.label} {found.version} is now the {found.recognizer} champion{was}")


@models.command("rollback")
@click.argument("recognizer", type=click.Choice(list(RECOGNIZERS)))
def rollback(recognizer: str) -> None:
    """Bring back the champion before the current one."""
    try:
        restored = registry.rollback(recognizer)
    except registry.RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{restored.label} {restored.version} is the {recognizer} champion again")


def describe(progress: dict) -> str:
    """One line of progress: stage, epoch, percent and ETA when known."""
    parts = [progress.get("stage", "")]
    if progress.get("epochs"):
        parts.append(f"epoch {progress.get('epoch', 0)}/{progress['epochs']}")
    if "percent" in progress:
        parts.append(f"{progress['percent']:.0f}%")
    if progress.get("eta_s"):
        parts.append(f"ETA {progress['eta_s']:.0f} s")
    return "  ".join(p for p in parts if p)


def _outcome(run: RetrainRun) -> None:
    click.echo(f"run {run.id}: {run.status.value}: {run.reason or ''}")
    if run.candidate is not None:
        click.echo(f"candidate {run.candidate.label} {run.candidate.version} ({run.candidate.status.value})")
    if run.status == RunStatus.FAILED:
        raise SystemExit(1)


def _follow(run_id: int) -> RetrainRun:
    last = None
    while True:
        db.session.expire_all()
        retraining.reap_stale()
        run = db.session.get(RetrainRun, run_id)
        if run.progress != last:
            last = run.progress
            click.echo(describe(run.progress or {}))
        if not run.status.active:
            return run
        time.sleep(1)


@click.command("retrain")
@click.argument("recognizer", type=click.Choice(list(RECOGNIZERS)))
@click.option("--wait", is_flag=True, help="Run here and wait, printing progress; exit 1 if the run fails.")
@with_appcontext
def retrain(recognizer: str, wait: bool) -> None:
    """Retrain RECOGNIZER on base data plus feedback: queue a run, or run it here with --wait."""
    if not wait:
        run, created = start(recognizer, "cli")
        if run.status == RunStatus.FAILED:
            raise click.ClickException(f"run {run.id} failed: {run.reason}")
        click.echo(f"queued run {run.id}" if created else
                   f"run {run.id} is already {run.status.value}: {describe(run.progress or {})}")
        return
    run, created = retraining.request(recognizer, "cli")
    if not created:
        click.echo(f"run {run.id} is already {run.status.value}; following it")
        _outcome(_follow(run.id))
        return
    click.echo(f"run {run.id} started")
    _outcome(training.execute(run.id, echo=lambda p: click.echo(describe(p))))


@reviewers.command("grant")
@click.argument("email")
def grant(email: str) -> None:
    """Let EMAIL label other people's unreviewed predictions."""
    try:
        reviewer_roles.grant(email, None)
    except reviewer_roles.RoleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{email} is a reviewer")


@reviewers.command("revoke")
@click.argument("email")
def revoke(email: str) -> None:
    """Take the reviewer role away from EMAIL."""
    try:
        reviewer_roles.revoke(email)
    except reviewer_roles.RoleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{email} is no longer a reviewer")
