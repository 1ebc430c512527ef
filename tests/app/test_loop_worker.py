"""A real Celery worker retrains a tiny model end to end: on the embedded broker, and on Redis when REDIS_URL is set."""
import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from app.extensions import db
from app.models import RetrainRun, RunStatus, VersionStatus
from app.services import registry
from app.tasks.retraining import start
from loop_support import add_labelled, base_data, corrections_the_champion_gets_wrong, with_loop_settings  # noqa: F401


@pytest.fixture(params=["embedded", "redis"])
def broker(request, tmp_path) -> str:
    """The embedded SQLite broker, or Redis at REDIS_URL."""
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is not set; .ci/run sets it to test the Redis broker")
        return os.environ["REDIS_URL"]
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path, broker):  # noqa: F811
    settings = with_loop_settings(app_settings, base_data, tmp_path)
    # This test is about the worker path, not the gate's judgement: give the tiny model enough steps
    # to learn the corrections every time (3 epochs were sometimes too few to gain on the slice).
    settings.update(RETRAIN_EPOCHS=6, RETRAIN_FEEDBACK_REPEAT=8)
    settings["CELERY"] = {"broker_url": broker, "task_ignore_result": True,
                          "task_default_queue": f"test-{uuid.uuid4().hex}"}  # nothing left over in a shared Redis
    return settings


def _wait(app, run_id: int, timeout: float) -> tuple[RetrainRun, list[dict]]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            run = db.session.get(RetrainRun, run_id)
            if run.progress and run.progress not in seen:
                seen.append(dict(run.progress))
            if not run.status.active:
                db.session.expunge(run)
                return run, seen
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {run.status} after {timeout} s; progress {seen}")


def test_worker_retrains_promotes_and_the_site_serves_the_new_champion(
        app, artifacts, token_for, upload, plain_png):
    images, label = corrections_the_champion_gets_wrong(artifacts, 16)
    with app.app_context():
        baseline = registry.ensure_baseline("digits").version
        add_labelled(images, label)
    headers = token_for()
    with start_worker(app.extensions["celery"], pool="solo", perform_ping_check=False, shutdown_timeout=60):
        with app.app_context():
            run, created = start("digits", "admin")
            assert created and run.task_id
            again, created_again = start("digits", "admin")
            assert not created_again and again.id == run.id  # a second request points at this run
        run, progress = _wait(app, run.id, timeout=400)
    assert run.status == RunStatus.PROMOTED, run.reason
    training = [p for p in progress if p.get("stage") == "training" and p.get("epoch")]
    assert training and all({"epoch", "epochs", "percent", "eta_s"} <= set(p) for p in training)
    with app.app_context():
        champion = registry.champion("digits")
        assert champion.id == run.candidate_id and champion.parent.version == baseline
        assert champion.score("feedback") > db.session.get(RetrainRun, run.id).champion_metrics["feedback"]["accuracy"]
        assert registry.find(baseline).status == VersionStatus.ARCHIVED
        assert "better on the gate slice" in champion.note
        new_version = champion.version
    served = upload(plain_png, ["digits"], api=headers).get_json()
    assert served["results"][0]["model_version"] == new_version != baseline
