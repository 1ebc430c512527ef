"""Celery bound to Flask: tasks run inside an app context; views only queue them."""
from __future__ import annotations

import logging

from celery import Celery, Task
from flask import Flask
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from app.config["CELERY"] and store it in app.extensions["celery"]."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask, include=["app.tasks.storage"])
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def queue(task, *args) -> bool:
    """Queue `task`; False (and a log line) when the broker is unreachable, so pages keep working."""
    try:
        task.delay(*args)
    except OperationalError as exc:
        log.error("could not queue %s%s: %s", task.name, args, exc)
        return False
    return True
