"""Carry out one retraining run: freeze the data, fine-tune the champion, judge the candidate, register it.

Runs in a Celery worker (or `flask retrain --wait`); it imports TensorFlow through ml.finetune only when
training starts, so web processes that import this module stay lean.
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app

from app import storage
from app.extensions import db
from app.models import Detection, RetrainRun, RunStatus
from app.models.base import utcnow
from app.services import gate, registry, retraining
from app.storage import NotFound
from ml import finetune
from ml.recognizers import get

log = logging.getLogger(__name__)

Echo = Callable[[dict], None]


def execute(run_id: int, echo: Echo | None = None) -> RetrainRun | None:
    """Run a queued run to its end; any error marks it failed and leaves the champion serving."""
    run = db.session.get(RetrainRun, run_id)
    if run is None or run.status != RunStatus.QUEUED:
        return run  # already taken, finished, or reaped as stale
    run.status, run.started_at, run.heartbeat_at = RunStatus.RUNNING, utcnow(), utcnow()
    run.progress = {"stage": "loading data"}
    db.session.commit()
    stop = threading.Event()
    pulse = threading.Thread(target=_heartbeat, args=(current_app._get_current_object(), run_id, stop),
                             daemon=True, name=f"retrain-{run_id}-heartbeat")
    pulse.start()
    work = Path(current_app.config["RETRAIN_DIR"]) / f"run-{run_id}"
    try:
        _train_and_judge(run_id, work, echo or (lambda _: None))
    except Exception as exc:  # any failure at all must release the lock and leave a reason
        log.exception("retrain run %s failed", run_id)
        retraining.fail(run_id, f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        pulse.join()
        shutil.rmtree(work, ignore_errors=True)
    db.session.expire_all()
    return db.session.get(RetrainRun, run_id)


def _heartbeat(app: Flask, run_id: int, stop: threading.Event) -> None:
    # Beats while loading data and evaluating too, when no epoch ends for a long time.
    with app.app_context():
        while not stop.wait(app.config["RETRAIN_HEARTBEAT_S"]):
            try:
                retraining.beat(run_id)
            except Exception as exc:  # a busy database must not kill the beat; the next one may pass
                log.warning("heartbeat of run %s failed: %s", run_id, exc)


def _stage(run_id: int, echo: Echo, stage: str, **extra) -> None:
    progress = {"stage": stage, **extra}
    retraining.beat(run_id, progress)
    echo(progress)


def feedback_examples(recognizer: str, until, holdout_percent: int):
    """Labelled crops up to `until`, split into (train, holdout) by id; keys whose image is gone are listed."""
    rows = db.session.scalars(retraining.labelled_query(recognizer)
                              .where(Detection.reviewed_at <= until, Detection.crop_key.is_not(None))
                              .order_by(Detection.id))
    train, holdout, missing = [], [], []
    store = storage.current()
    for detection in rows:
        try:
            data = store.get(detection.crop_key)
        except NotFound:
            missing.append(detection.crop_key)
            continue
        example = finetune.Example(detection.crop_key, detection.label, data)
        (holdout if finetune.in_holdout(detection.id, holdout_percent) else train).append(example)
    return train, holdout, missing


def _train_and_judge(run_id: int, work: Path, echo: Echo) -> None:
    config = current_app.config
    run = db.session.get(RetrainRun, run_id)
    recognizer = get(run.recognizer)
    parent = registry.champion(run.recognizer) or registry.ensure_baseline(run.recognizer)
    if parent is None:
        raise RuntimeError(f"{run.recognizer} has no champion to fine-tune from")
    run.parent, run.labels_until = parent, utcnow()
    db.session.commit()
    parent_dir = registry.materialize(parent)

    _stage(run_id, echo, "loading data")
    train_fb, holdout_fb, missing = feedback_examples(run.recognizer, run.labels_until,
                                                      config["RETRAIN_HOLDOUT_PERCENT"])
    root = config["TRAIN_DATA"][run.recognizer]
    parts = {
        "base_train": finetune.sample_folder(root, "train", recognizer, config["RETRAIN_BASE_PER_CLASS"]),
        "feedback_train": finetune.feedback_dataset(train_fb, recognizer, "feedback_train"),
        "base_test": finetune.sample_folder(root, "test", recognizer, config["RETRAIN_TEST_PER_CLASS"]),
        "feedback_holdout": finetune.feedback_dataset(holdout_fb, recognizer, "feedback_holdout"),
    }
    body, sha = finetune.manifest(parts)
    body.update(recognizer=run.recognizer, base_data=str(root), missing=missing, parent=parent.version)
    manifest_key = f"manifests/{run.recognizer}/{sha[:16]}.json"
    storage.current().put(manifest_key, json.dumps(body, indent=1).encode())
    summary = {"counts": body["counts"], "missing": len(missing), "base_data": str(root)}

    data = finetune.combine([parts["base_train"], parts["feedback_train"]], "base+feedback",
                            [1, config["RETRAIN_FEEDBACK_REPEAT"]])
    _stage(run_id, echo, "training", epoch=0, epochs=config["RETRAIN_EPOCHS"], percent=0.0)
    out = finetune.fine_tune(recognizer, data, parent_dir, work / "candidate", epochs=config["RETRAIN_EPOCHS"],
                             learning_rate=config["RETRAIN_LEARNING_RATE"], batch_size=config["RETRAIN_BATCH_SIZE"],
                             progress=lambda p: _stage(run_id, echo, "training", **p),
                             extra_metadata={"manifest_sha256": sha, "parent_version": parent.version})

    _stage(run_id, echo, "evaluating", percent=100.0)
    fixed = {"base_test": parts["base_test"], "feedback": parts["feedback_holdout"]}
    champion_metrics = finetune.evaluate(parent_dir, fixed)
    candidate_metrics = finetune.evaluate(out, fixed)
    verdict = gate.decide(champion_metrics, candidate_metrics, config["PROMOTION_MARGIN"])

    db.session.expire_all()
    run = db.session.get(RetrainRun, run_id)
    if run.status != RunStatus.RUNNING:
        log.warning("run %s was closed meanwhile (%s); its candidate is dropped", run_id, run.reason)
        return
    _stage(run_id, echo, "registering", percent=100.0)
    candidate = registry.register(run.recognizer, out, "retrain", parent=parent, metrics=candidate_metrics,
                                  manifest=(manifest_key, sha, summary), note=verdict.reason)
    if not parent.metrics.get("feedback"):
        parent.metrics = champion_metrics  # its first measurement on the fixed evaluation set
    run.candidate, run.champion_metrics = candidate, champion_metrics
    if verdict.promote:
        registry.promote(candidate)
    retraining.finish(run, RunStatus.PROMOTED if verdict.promote else RunStatus.REJECTED, verdict.reason)
    echo({"stage": "done", "status": run.status.value, "reason": verdict.reason, "candidate": candidate.version})

