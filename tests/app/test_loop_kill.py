"""A retraining process killed mid-run: the run is failed by its stale heartbeat, the champion keeps serving,
and the next run succeeds."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from app.config import ROOT
from app.extensions import db
from app.models import RetrainRun, RunStatus
from app.services import registry, retraining, training
from loop_support import add_labelled, base_data, pattern_image, with_loop_settings  # noqa: F401


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811
    return with_loop_settings(app_settings, base_data, tmp_path)


def _environment(app) -> dict:
    """The child process gets the test app's settings through the same env vars production uses."""
    config = app.config
    return {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "STORAGE_DIR": config["STORAGE_DIR"],
            "MODELS_DIR": config["MODELS_DIR"], "MODEL_CACHE_DIR": config["MODEL_CACHE_DIR"],
            "RETRAIN_DIR": config["RETRAIN_DIR"], "TRAIN_DATA_DIGITS": config["TRAIN_DATA"]["digits"],
            "RETRAIN_EPOCHS": "200", "RETRAIN_BATCH_SIZE": "8", "RETRAIN_HEARTBEAT_S": "0.5",
            "TF_CPP_MIN_LOG_LEVEL": "3", "S3_BUCKET": "", "REDIS_URL": ""}


def test_killed_retraining_fails_by_heartbeat_and_the_next_run_succeeds(app):
    rng = np.random.default_rng(4)
    with app.app_context():
        champion = registry.ensure_baseline("digits").version
        add_labelled([pattern_image(rng) for _ in range(6)], "3")
    child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "retrain", "digits", "--wait"],
                             cwd=ROOT, env=_environment(app), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with app.app_context():
                run = db.session.scalar(db.select(RetrainRun))
                if run is not None and (run.progress or {}).get("epoch", 0) >= 1:
                    break
            assert child.poll() is None, "the retraining process ended before it could be killed"
            time.sleep(0.3)
        else:
            pytest.fail("the retraining never reached its first epoch")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    app.config["RETRAIN_STALE_S"] = 2
    with app.app_context():
        assert db.session.get(RetrainRun, run.id).status == RunStatus.RUNNING  # nobody said it ended
        assert retraining.active_run("digits").id == run.id
    time.sleep(2.5)
    with app.app_context():
        reaped = retraining.reap_stale()
        assert [r.id for r in reaped] == [run.id]
        dead = db.session.get(RetrainRun, run.id)
        assert dead.status == RunStatus.FAILED and "worker stopped responding" in dead.reason and dead.lock is None
        assert registry.champion("digits").version == champion
        app.config["RETRAIN_STALE_S"] = 180
        app.config["RETRAIN_HOLDOUT_PERCENT"] = 0
        again, created = retraining.request("digits", "cli")
        assert created
        assert training.execute(again.id).status == RunStatus.REJECTED  # finished; no held-out feedback to gain on
