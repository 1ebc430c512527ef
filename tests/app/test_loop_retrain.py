"""Retraining: the gate both ways, the lock, stale and crashed runs, the CLI, and the schedule's due check."""
import json
import re
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ModelVersion, RetrainRun, RunStatus, VersionStatus
from app.models.base import utcnow
from app.services import registry, retraining, training
from loop_support import DIGITS, add_labelled, base_data, pattern_image, with_loop_settings  # noqa: F401


@pytest.fixture
def app_settings(app_settings, base_data, tmp_path):  # noqa: F811
    return with_loop_settings(app_settings, base_data, tmp_path)


def test_one_run_at_a_time_per_recognizer(app):
    with app.app_context():
        first, created = retraining.request("digits", "admin")
        second, created_again = retraining.request("digits", "cli")
        assert created and not created_again and second.id == first.id
        other, other_created = retraining.request("emotion7", "cli")
        assert other_created and other.id != first.id
        db.session.add(RetrainRun(recognizer="digits", lock="digits", trigger="cli"))
        with pytest.raises(IntegrityError):
            db.session.commit()  # the lock holds even against a writer that skips request()
        db.session.rollback()
        retraining.finish(db.session.get(RetrainRun, first.id), RunStatus.REJECTED, "test")
        third, created = retraining.request("digits", "cli")
        assert created and third.id != first.id


def test_a_run_whose_worker_stopped_beating_is_failed_and_the_lock_freed(app):
    with app.app_context():
        champion = registry.ensure_baseline("digits").version
        old = utcnow() - timedelta(seconds=app.config["RETRAIN_STALE_S"] + 5)
        dead = RetrainRun(recognizer="digits", lock="digits", trigger="cli", status=RunStatus.RUNNING,
                          started_at=old, heartbeat_at=old)
        db.session.add(dead)
        db.session.commit()
        run, created = retraining.request("digits", "cli")
        assert created and run.id != dead.id
        dead = db.session.get(RetrainRun, dead.id)
        assert dead.status == RunStatus.FAILED and dead.lock is None
        assert "worker stopped responding" in dead.reason
        assert registry.champion("digits").version == champion


def test_a_crash_marks_the_run_failed_and_keeps_the_champion(app, tmp_path):
    app.config["TRAIN_DATA"] = {**app.config["TRAIN_DATA"], "digits": str(tmp_path / "gone")}
    with app.app_context():
        champion = registry.ensure_baseline("digits").version
        run, _ = retraining.request("digits", "cli")
        run = training.execute(run.id)
        assert run.status == RunStatus.FAILED and run.lock is None and "gone" in run.reason
        assert registry.champion("digits").version == champion
        assert db.session.query(ModelVersion).count() == 1
        assert retraining.request("digits", "cli")[1]  # the lock is free again


def test_cli_retrain_wait_prints_progress_and_rejects_without_gate_feedback(app, runner, stored):
    app.config.update(RETRAIN_HOLDOUT_PERCENT=0, RETRAIN_VALIDATION_PERCENT=0)
    rng = np.random.default_rng(3)
    with app.app_context():
        champion = registry.ensure_baseline("digits")
        shipped_metrics, version = dict(champion.metrics), champion.version
        add_labelled([pattern_image(rng) for _ in range(6)], "3")
    result = runner.invoke(args=["retrain", "digits", "--wait"])
    assert result.exit_code == 0, result.output
    assert "epoch 1/3" in result.output and "epoch 3/3" in result.output and "ETA" in result.output
    assert re.search(r"training  epoch 1/3  ([1-9]|[12][0-9])(\.[0-9])?%", result.output)  # from the first batch
    assert "evaluating the champion" in result.output and "evaluating the candidate" in result.output
    assert "rejected" in result.output and "not enough evidence yet: 0 feedback images" in result.output
    with app.app_context():
        run = db.session.query(RetrainRun).one()
        assert run.status == RunStatus.REJECTED and run.started_at and run.finished_at and run.lock is None
        assert run.progress == {"stage": "rejected"}  # no stale phase once finished
        assert run.gate["decision"] == "not enough evidence" and run.gate["base_test"]["n"] == 40
        candidate = run.candidate
        assert candidate.status == VersionStatus.CANDIDATE and "not enough evidence" in candidate.note
        assert candidate.parent.version == version == registry.champion("digits").version
        assert candidate.metrics["feedback"]["n"] == 0 and candidate.metrics["base_test"]["n"] == 40
        # The shipped baseline's own test figures are kept; only what it lacked is added.
        assert all(candidate.parent.metrics[k] == v for k, v in shipped_metrics.items())
        meta = json.loads((registry.materialize(candidate) / "metadata.json").read_text())
        assert meta["architecture"] == "cnn_tiny" and meta["fine_tuned"]["parent_version"] == version
        body = json.loads(app.extensions["storage"].get(candidate.manifest_key))
    assert body["sha256"] == candidate.manifest_sha256
    assert len(body["parts"]["feedback_train"]) == 6
    assert len(body["parts"]["base_train"]) + len(body["parts"]["base_validation"]) == 80
    assert {e["label"] for e in body["parts"]["feedback_train"]} == {"3"}
    assert all(e["key"].startswith("crops/digits/3/") for e in body["parts"]["feedback_train"])


def test_cli_retrain_fails_with_nonzero_exit(app, runner, tmp_path):
    app.config["TRAIN_DATA"] = {**app.config["TRAIN_DATA"], "digits": str(tmp_path / "gone")}
    result = runner.invoke(args=["retrain", "digits", "--wait"])
    assert result.exit_code == 1 and "failed" in result.output


def test_schedule_starts_a_run_only_after_enough_new_labels(app_settings, app):
    from app.tasks.retraining import retrain_due  # noqa: PLC0415

    app.extensions["celery"].conf.task_always_eager = False  # queue only: no worker in this test
    rng = np.random.default_rng(5)
    with app.app_context():
        registry.ensure_baselines()
        add_labelled([pattern_image(rng) for _ in range(4)], "1")
        assert retraining.new_labels("digits") == 4 and retrain_due() == []
        add_labelled([pattern_image(rng)], "2")
        started = retrain_due()
        assert len(started) == 1 and db.session.get(RetrainRun, started[0]).trigger == "schedule"
        assert retrain_due() == []  # the lock: still queued
        run = db.session.get(RetrainRun, started[0])
        run.labels_until = utcnow()
        retraining.finish(run, RunStatus.REJECTED, "test")
        assert retraining.new_labels("digits") == 0 and retrain_due() == []


def test_unreachable_broker_fails_the_run_with_a_reason(app_settings, request):
    from app.tasks.retraining import start  # noqa: PLC0415

    app_settings["CELERY"] = {"broker_url": "redis://127.0.0.1:9/0", "task_ignore_result": True,
                              "broker_connection_timeout": 0.5}
    app = request.getfixturevalue("app")
    with app.app_context():
        run, created = start("digits", "admin")
        assert created and run.status == RunStatus.FAILED and "broker" in run.reason
        assert retraining.active_run("digits") is None


def test_frozen_feature_layers_keep_the_champions_weights(app):
    app.config["RETRAIN_FREEZE"] = 0.5
    rng = np.random.default_rng(8)
    with app.app_context():
        registry.ensure_baseline("digits")
        add_labelled([pattern_image(rng) for _ in range(6)], "5")
        run = training.execute(retraining.request("digits", "cli")[0].id)
        assert run.candidate is not None, run.reason
        from ml.artifact import load_keras  # noqa: PLC0415

        parent, candidate = (load_keras(registry.materialize(v)) for v in (run.parent, run.candidate))
    half = len(parent.layers) // 2
    frozen = [w for layer in parent.layers[:half] for w in layer.get_weights()]
    assert frozen and all(np.array_equal(a, b) for a, b in zip(
        frozen, [w for layer in candidate.layers[:half] for w in layer.get_weights()]))
    assert not all(np.array_equal(a, b) for a, b in zip(parent.layers[-1].get_weights(),
                                                         candidate.layers[-1].get_weights()))
