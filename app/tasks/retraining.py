"""Retraining in the worker: the run itself, and the periodic check that starts runs when labels piled up."""
from __future__ import annotations

import logging

from celery import shared_task
from flask import Flask
from kombu.exceptions import OperationalError

from app.extensions import db
from app.models import RetrainRun, User
from app.services import retraining, training
from ml.recognizers import RECOGNIZERS

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def retrain(run_id: int) -> None:
    """Fine-tune, evaluate and maybe promote; the run row carries progress and outcome."""
    training.execute(run_id)


@shared_task(ignore_result=True)
def retrain_due() -> list[int]:
    """Fail stale runs, then queue a run for each recognizer with enough new labels."""
    retraining.reap_stale()
    started = []
    for name in RECOGNIZERS:
        if retraining.due(name):
            run, created = start(name, "schedule")
            if created and run.status.active:
                started.append(run.id)
    return started


def start(recognizer: str, trigger: str, user: User | None = None) -> tuple[RetrainRun, bool]:
    """Take the lock and queue the task: (new run, True), or (the active run, False) when one holds the lock.

    When the broker is unreachable the new run is closed as failed with that reason.
    """
    run, created = retraining.request(recognizer, trigger, user)
    if not created:
        return run, False
    try:
        run.task_id = retrain.delay(run.id).id
    except OperationalError as exc:
        log.error("could not queue retraining of %s: %s", recognizer, exc)
        retraining.fail(run.id, "the task queue (broker) is unreachable; nothing was retrained")
        return db.session.get(RetrainRun, run.id), True
    db.session.commit()
    return run, True


def init_app(app: Flask) -> None:
    """Make workers load these tasks and have beat run the due check every RETRAIN_INTERVAL_S."""
    celery = app.extensions["celery"]
    celery.conf.include = [*celery.conf.include, __name__]
    celery.conf.beat_schedule = {
        **(celery.conf.beat_schedule or {}),
        "retrain-when-due": {"task": f"{__name__}.retrain_due", "schedule": float(app.config["RETRAIN_INTERVAL_S"])},
    }
