"""Model-health pages (reviewers and admins) and the admin actions on versions and runs."""
from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.dashboard import bp
from app.extensions import db
from app.guards import known_recognizer
from app.loop_cli import describe
from app.models import ModelVersion, RetrainRun, RunStatus
from app.services import champions, health, registry, retraining, reviewers
from app.tasks.retraining import start
from ml.recognizers import RECOGNIZERS


def _require_viewer() -> None:
    if not reviewers.is_reviewer(current_user):
        abort(403, "Model health is for reviewers and admins.")


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only admins can change models or start retraining.")


@bp.route("")
@login_required
def index():
    """Every recognizer's champion, labels waiting for a run, the latest run, and the face detector's fixed mistakes."""
    _require_viewer()
    retraining.reap_stale()
    registry.ensure_baselines()
    rows = [{"name": name, "champion": registry.champion(name), "new_labels": retraining.new_labels(name),
             "run": next(iter(retraining.latest_runs(name, 1)), None)} for name in RECOGNIZERS]
    return render_template("dashboard/index.html", rows=rows, errors=champions.errors(),
                           min_labels=current_app.config["RETRAIN_MIN_NEW_LABELS"], detector=health.detector(),
                           min_sample=health.MIN_SAMPLE)


@bp.route("/<name>")
@login_required
def recognizer(name: str):
    """The health dashboard of one recognizer."""
    _require_viewer()
    name = known_recognizer(name)
    retraining.reap_stale(name)
    registry.ensure_baselines()
    runs = retraining.latest_runs(name)
    return render_template("dashboard/recognizer.html", name=name, data=health.report(name),
                           versions=registry.versions(name), champion=registry.champion(name),
                           runs=runs, judged=next((r for r in runs if r.gate), None),
                           active=retraining.active_run(name),
                           new_labels=retraining.new_labels(name), error=champions.errors().get(name),
                           form=FlaskForm(), describe=describe)


@bp.route("/runs/<int:run_id>")
@login_required
def run_status(run_id: int):
    """A run's status and live progress, for the page to poll."""
    _require_viewer()
    run = db.session.get(RetrainRun, run_id) or abort(404)
    retraining.reap_stale(run.recognizer)
    db.session.refresh(run)
    return jsonify(id=run.id, recognizer=run.recognizer, status=run.status.value, active=run.status.active,
                   progress=run.progress or {}, text=describe(run.progress or {}), reason=run.reason)


@bp.post("/<name>/retrain")
@login_required
def retrain(name: str):
    """Retrain now: queue a run, or point at the one already running."""
    _require_admin()
    name = known_recognizer(name)
    if FlaskForm().validate_on_submit():
        run, created = start(name, "admin", current_user)
        if run.status == RunStatus.FAILED:
            flash(f"Retraining is unavailable: {run.reason}", "error")
        elif created:
            flash(f"Retraining {name} queued as run {run.id}.", "success")
        else:
            flash(f"Run {run.id} is already {run.status.value}; follow it below.", "info")
    return redirect(url_for("dashboard.recognizer", name=name))


@bp.post("/versions/<int:version_id>/promote")
@login_required
def promote(version_id: int):
    """Make any version the champion."""
    _require_admin()
    version = db.session.get(ModelVersion, version_id) or abort(404)
    if FlaskForm().validate_on_submit():
        try:
            registry.promote(version)
        except registry.RegistryError as exc:
            flash(str(exc), "error")
        else:
            flash(f"{version.label} ({version.version}) is now the champion.", "success")
    return redirect(url_for("dashboard.recognizer", name=version.recognizer))


@bp.post("/<name>/rollback")
@login_required
def rollback(name: str):
    """Bring back the previous champion."""
    _require_admin()
    name = known_recognizer(name)
    if FlaskForm().validate_on_submit():
        try:
            restored = registry.rollback(name)
        except registry.RegistryError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Rolled back: {restored.label} ({restored.version}) is the champion again.", "success")
    return redirect(url_for("dashboard.recognizer", name=name))
