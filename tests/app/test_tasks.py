"""Celery wiring: tasks run in an app context, pages survive a dead broker, a real worker moves images."""
import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from app.extensions import db
from app.models import Detection
from app.storage import StorageError
from app.tasks import queue
from app.tasks.storage import place_images


def test_tasks_are_registered_and_configured(app):
    celery = app.extensions["celery"]
    assert "app.tasks.storage.place_images" in celery.tasks
    assert celery.conf.task_always_eager is True  # tests run tasks inline unless they start a worker


@pytest.fixture
def dead_broker(app_settings):
    app_settings["CELERY"] = {"broker_url": "redis://127.0.0.1:1/0", "broker_connection_timeout": 1,
                              "task_publish_retry": False}


def test_queue_reports_an_unreachable_broker(dead_broker, app):
    with app.app_context():
        assert queue(place_images, 1) is False


@pytest.fixture(params=["embedded", "redis"])
def real_broker(request, app_settings, tmp_path):
    """The embedded SQLite broker `make run` uses, or Redis at REDIS_URL."""
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is not set; .ci/run sets it to test the Redis broker")
        broker = os.environ["REDIS_URL"]
    else:
        broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    app_settings["CELERY"] = {"broker_url": broker, "task_ignore_result": True,
                              "task_default_queue": f"test-{uuid.uuid4().hex}"}  # nothing shared in Redis


def test_a_worker_moves_images_queued_by_a_request(real_broker, app, login, upload, plain_png, monkeypatch):
    client = login()
    upload(plain_png, ["digits"])
    inner = app.extensions["storage"]

    def unreachable(*args):
        raise StorageError("down")

    monkeypatch.setattr(inner, "move", unreachable)
    client.post("/detections/1/feedback", data={"label": "2"})  # the request queues the move
    monkeypatch.undo()
    with start_worker(app.extensions["celery"], pool="solo", perform_ping_check=False, shutdown_timeout=30):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.app_context():
                if db.session.get(Detection, 1).crop_key == "crops/digits/2/1.png":
                    break
            time.sleep(0.2)
    with app.app_context():
        detection = db.session.get(Detection, 1)
        assert (detection.crop_key, detection.original_key) == ("crops/digits/2/1.png", "originals/digits/2/1.jpg")
