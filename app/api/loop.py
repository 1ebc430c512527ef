"""The learning loop's JSON API for admins: versions and runs, start and follow a run, promote, roll back."""
from functools import wraps

from flask import abort, g, request, url_for

from app.api import bp
from app.api.auth import token_required
from app.extensions import db
from app.guards import known_recognizer
from app.loop_cli import describe, version_json
from app.models import ModelVersion, RetrainRun
from app.models.base import as_utc
from app.services import registry, retraining
from app.tasks.retraining import start
from ml.recognizers import RECOGNIZERS


def admin_token_required(view):
    """`token_required`, and the token's owner must be an admin (403 otherwise)."""

    @token_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not g.user.is_admin:
            abort(403, "The learning loop's API is for admins.")
        return view(*args, **kwargs)

    return wrapper


def _when(value) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value else None


def run_json(run: RetrainRun) -> dict:
    """A run as the API shows it: status, phase and progress, the gate's figures and its reason."""
    progress = run.progress or {}
    return {"id": run.id, "recognizer": run.recognizer, "status": run.status.value, "active": run.status.active,
            "trigger": run.trigger, "created_at": _when(run.created_at), "started_at": _when(run.started_at),
            "finished_at": _when(run.finished_at), "duration_s": run.duration_s, "phase": progress.get("stage"),
            "progress": progress, "text": describe(progress), "reason": run.reason,
            "parent": run.parent.version if run.parent else None,
            "candidate": run.candidate.version if run.candidate else None, "gate": run.gate or {},
            "url": url_for("api.loop_run", run_id=run.id, _external=True)}


def _recognizer_arg() -> str | None:
    name = request.args.get("recognizer")
    if name is not None and name not in RECOGNIZERS:
        abort(400, f"Unknown recognizer {name!r}; known: {', '.join(RECOGNIZERS)}.")
    return name


@bp.get("/loop/versions")
@admin_token_required
def loop_versions():
    """Every model version (optionally of one `recognizer`), newest first."""
    name = _recognizer_arg()
    registry.ensure_baselines()
    return {"items": [version_json(v) for v in registry.versions(name)]}


@bp.get("/loop/runs")
@admin_token_required
def loop_runs():
    """The latest retraining runs (optionally of one `recognizer`), newest first."""
    name = _recognizer_arg()
    retraining.reap_stale(name)
    return {"items": [run_json(r) for r in retraining.latest_runs(name)]}


@bp.post("/loop/runs")
@admin_token_required
def loop_start():
    """`{"recognizer"}`: queue a retraining run; 409 with the active run when one holds the lock."""
    body = request.get_json(silent=True)
    name = body.get("recognizer") if isinstance(body, dict) else None
    if name not in RECOGNIZERS:
        abort(400, f'Send {{"recognizer": ...}} with one of {", ".join(RECOGNIZERS)}.')
    run, created = start(name, "api", g.user)
    if not created:
        abort(409, f"Run {run.id} of {name} is already {run.status.value}; follow it at "
                   f"{url_for('api.loop_run', run_id=run.id, _external=True)}.")
    return run_json(run), 202, {"Location": url_for("api.loop_run", run_id=run.id)}


@bp.get("/loop/runs/<int:run_id>")
@admin_token_required
def loop_run(run_id: int):
    """One run: its phase, progress, gate figures and outcome."""
    run = db.session.get(RetrainRun, run_id) or abort(404, "No such run.")
    retraining.reap_stale(run.recognizer)
    db.session.refresh(run)
    return run_json(run)


@bp.post("/loop/versions/<int:version_id>/promote")
@admin_token_required
def loop_promote(version_id: int):
    """Make a version the champion of its recognizer."""
    version = db.session.get(ModelVersion, version_id) or abort(404, "No such model version.")
    try:
        registry.promote(version)
    except registry.RegistryError as exc:
        abort(409, str(exc))
    return version_json(version)


@bp.post("/loop/<recognizer>/rollback")
@admin_token_required
def loop_rollback(recognizer: str):
    """Bring back the champion before the current one."""
    known_recognizer(recognizer)
    try:
        restored = registry.rollback(recognizer)
    except registry.RegistryError as exc:
        abort(409, str(exc))
    return version_json(restored)
