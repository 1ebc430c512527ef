"""Retraining runs: one at a time per recognizer (a SQL lock), stale-run detection, and the due check."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LABELLED, Detection, Result, RetrainRun, RunStatus, User
from app.models.base import as_utc, utcnow

log = logging.getLogger(__name__)

FINISHED_OK = (RunStatus.PROMOTED, RunStatus.REJECTED)


def active_run(recognizer: str) -> RetrainRun | None:
    """The queued or running run of `recognizer`, if any."""
    return db.session.scalar(select(RetrainRun).where(RetrainRun.lock == recognizer))


def latest_runs(recognizer: str | None = None, limit: int = 20) -> list[RetrainRun]:
    """The most recent runs, newest first."""
    query = select(RetrainRun).order_by(RetrainRun.created_at.desc(), RetrainRun.id.desc()).limit(limit)
    if recognizer:
        query = query.where(RetrainRun.recognizer == recognizer)
    return list(db.session.scalars(query))


def request(recognizer: str, trigger: str, user: User | None = None) -> tuple[RetrainRun, bool]:
    """Take the recognizer's lock with a new queued run; (the active run, False) when one holds it."""
    reap_stale(recognizer)
    now = utcnow()
    run = RetrainRun(recognizer=recognizer, lock=recognizer, trigger=trigger, requested_by=user,
                     status=RunStatus.QUEUED, created_at=now, heartbeat_at=now, progress={"stage": "queued"})
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = active_run(recognizer)
        if existing is None:  # it finished between our insert and this look-up: try once more
            return request(recognizer, trigger, user)
        return existing, False
    return run, True


def finish(run: RetrainRun, status: RunStatus, reason: str | None) -> None:
    """Close a run with its outcome and release the recognizer's lock."""
    run.status = status
    run.reason = reason
    run.lock = None
    run.finished_at = utcnow()
    run.progress = {"stage": status.value}  # a finished run shows its outcome, never its last phase
    db.session.commit()


def fail(run_id: int, reason: str) -> None:
    """Mark a run failed (after an error) unless it already finished; the champion is untouched."""
    db.session.rollback()
    run = db.session.get(RetrainRun, run_id)
    if run is not None and run.status.active:
        finish(run, RunStatus.FAILED, reason)


def reap_stale(recognizer: str | None = None) -> list[RetrainRun]:
    """Fail runs whose worker stopped beating (crashed or killed), releasing their locks."""
    config, now = current_app.config, utcnow()
    query = select(RetrainRun).where(RetrainRun.lock.is_not(None))
    if recognizer:
        query = query.where(RetrainRun.recognizer == recognizer)
    reaped = []
    for run in db.session.scalars(query):
        limit = config["RETRAIN_STALE_S"] if run.status == RunStatus.RUNNING else config["RETRAIN_QUEUED_TIMEOUT_S"]
        last = as_utc(run.heartbeat_at or run.created_at)
        if now - last > timedelta(seconds=limit):
            what = "worker stopped responding" if run.status == RunStatus.RUNNING else "no worker picked it up"
            run.status, run.lock, run.finished_at = RunStatus.FAILED, None, now
            run.progress = {"stage": RunStatus.FAILED.value}
            run.reason = f"{what}: no heartbeat for {int((now - last).total_seconds())} s; the champion is unchanged"
            reaped.append(run)
    if reaped:
        db.session.commit()
        for run in reaped:
            log.warning("retrain run %s of %s failed: %s", run.id, run.recognizer, run.reason)
    return reaped


def beat(run_id: int, progress: dict | None = None) -> None:
    """Record that a run is alive, with its latest progress; done in one UPDATE from any thread."""
    values = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    with db.engine.begin() as connection:
        # Only while the run holds its lock: a run closed meanwhile keeps its final stage.
        connection.execute(update(RetrainRun).where(RetrainRun.id == run_id, RetrainRun.lock.is_not(None))
                           .values(**values))


def labelled_query(recognizer: str):
    """Detections of `recognizer` that someone confirmed or corrected (boxes marked not a face train no class)."""
    return (select(Detection).join(Detection.result)
            .where(Result.recognizer == recognizer, Detection.status.in_(LABELLED)))


def new_labels(recognizer: str) -> int:
    """Labels given since the data of the last completed run was frozen (all of them before any run)."""
    since = db.session.scalar(select(func.max(RetrainRun.labels_until))
                              .where(RetrainRun.recognizer == recognizer, RetrainRun.status.in_(FINISHED_OK)))
    query = labelled_query(recognizer).with_only_columns(func.count(Detection.id))
    if since is not None:
        query = query.where(Detection.reviewed_at > since)
    return db.session.scalar(query) or 0


def due(recognizer: str) -> bool:
    """Whether enough new labels arrived for the schedule to start a run."""
    return new_labels(recognizer) >= current_app.config["RETRAIN_MIN_NEW_LABELS"]
