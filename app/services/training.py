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
from app.models import Detection, Prediction, Result, RetrainRun, RunStatus
from app.models.base import utcnow
from app.services import base_data, gate, registry, retraining
from app.storage import NotFound
from ml import finetune, grouping
from ml.data import DataFormatError
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
    except (base_data.MissingBaseData, DataFormatError) as exc:  # said in words: the admin can fix these
        log.error("retrain run %s failed: %s", run_id, exc)
        retraining.fail(run_id, str(exc))
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


def feedback_examples(recognizer: str, until) -> tuple[dict[str, list], list[str]]:
    """Labelled crops up to `until`, split into train / validation / gate slices by group (ml.grouping);
    keys whose image is gone are listed."""
    config = current_app.config
    rows = db.session.execute(retraining.labelled_query(recognizer)
                              .add_columns(Prediction.id, Prediction.user_id, Prediction.created_at)
                              .join(Detection.result).join(Result.prediction)
                              .where(Detection.reviewed_at <= until, Detection.crop_key.is_not(None))
                              .order_by(Detection.id))
    found, missing = [], []
    store = storage.current()
    for detection, photo, user, uploaded_at in rows:
        try:
            data = store.get(detection.crop_key)
        except NotFound:
            missing.append(detection.crop_key)
            continue
        found.append((grouping.Row(detection.id, photo, user, uploaded_at, data),
                      finetune.Example(detection.crop_key, detection.label, data)))
    slices = grouping.split([row for row, _ in found], config["RETRAIN_HOLDOUT_PERCENT"],
                            config["RETRAIN_VALIDATION_PERCENT"], config["RETRAIN_SESSION_GAP_S"],
                            config["RETRAIN_SIMILAR_BITS"])
    parts = {grouping.TRAIN: [], grouping.VALIDATION: [], grouping.GATE: []}
    for row, example in found:
        parts[slices[row.id]].append(example)
    return parts, missing


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
    root, where = base_data.root(run.recognizer)
    feedback, missing = feedback_examples(run.recognizer, run.labels_until)
    base, base_unseen = finetune.unseen_by(parent_dir, finetune.sample_folder(root, "train", recognizer,
                                                                              config["RETRAIN_BASE_PER_CLASS"]))
    base_train, base_val = finetune.carve(base, config["RETRAIN_VALIDATION_PERCENT"] / 100)
    parts = {
        "base_train": base_train,
        "base_validation": base_val,
        "base_unseen": base_unseen,
        "feedback_train": finetune.feedback_dataset(feedback[grouping.TRAIN], recognizer, "feedback_train"),
        "feedback_validation": finetune.feedback_dataset(feedback[grouping.VALIDATION], recognizer,
                                                         "feedback_validation"),
        "base_test": finetune.sample_folder(root, "test", recognizer, config["RETRAIN_TEST_PER_CLASS"]),
        "feedback_gate": finetune.feedback_dataset(feedback[grouping.GATE], recognizer, "feedback_gate"),
    }
    body, sha = finetune.manifest(parts)
    body.update(recognizer=run.recognizer, base_data=where, missing=missing, parent=parent.version)
    manifest_key = f"manifests/{run.recognizer}/{sha[:16]}.json"
    storage.current().put(manifest_key, json.dumps(body, indent=1).encode())
    summary = {"counts": body["counts"], "missing": len(missing), "base_data": where}

    # Feedback is repeated only now, after the grouped split: no copy of a training row validates or gates.
    data = finetune.combine([parts["base_train"], parts["feedback_train"]], "base+feedback",
                            [1, config["RETRAIN_FEEDBACK_REPEAT"]])
    validation = finetune.combine([parts["base_validation"], parts["feedback_validation"]],
                                  "base and feedback validation slices")
    validation.split = "validation"
    _stage(run_id, echo, "training", epoch=0, epochs=config["RETRAIN_EPOCHS"], percent=0.0)
    targets = finetune.distillation_targets(parent_dir, data, len(parts["base_train"]), config["RETRAIN_DISTILL"])
    freeze_norm = run.recognizer in config["RETRAIN_FREEZE_NORM"]
    out = finetune.fine_tune(recognizer, data, parent_dir, work / "candidate", validation=validation,
                             epochs=config["RETRAIN_EPOCHS"], learning_rate=config["RETRAIN_LEARNING_RATE"],
                             batch_size=config["RETRAIN_BATCH_SIZE"], targets=targets,
                             # Only images the champion never trained on can say how sure the candidate should
                             # be: the grouped feedback validation slice and the base images its training held out.
                             calibrate_on=finetune.combine([parts["feedback_validation"], parts["base_unseen"]],
                                                           "unseen feedback and base images"),
                             freeze=config["RETRAIN_FREEZE"], freeze_norm=freeze_norm,
                             progress=lambda p: _stage(run_id, echo, "training", **p),
                             extra_metadata={"manifest_sha256": sha, "parent_version": parent.version,
                                             "fine_tuned": {"parent_version": parent.version,
                                                            "distillation": config["RETRAIN_DISTILL"],
                                                            "freeze": config["RETRAIN_FREEZE"],
                                                            "freeze_norm": freeze_norm,
                                                            "feedback_repeat": config["RETRAIN_FEEDBACK_REPEAT"]}})

    fixed = {"base_test": parts["base_test"], "feedback": parts["feedback_gate"]}
    probs = {}
    for step, (who, directory) in enumerate((("champion", parent_dir), ("candidate", out))):
        probs[who] = finetune.predict(directory, fixed, progress=lambda done, total, step=step: _stage(
            run_id, echo, f"evaluating the {who}", percent=round(100 * (step + done / max(1, total)) / 2, 1)))
    verdict = gate.decide(*(gate.Evidence(fixed[part].labels, probs["champion"][part], probs["candidate"][part])
                            for part in ("base_test", "feedback")), recognizer.classes,
                          gate.Rules.from_config(config))
    champion_metrics = {part: finetune.report(fixed[part], probs["champion"][part]) for part in fixed}
    candidate_metrics = {part: finetune.report(fixed[part], probs["candidate"][part]) for part in fixed}

    db.session.expire_all()
    run = db.session.get(RetrainRun, run_id)
    if run.status != RunStatus.RUNNING:
        log.warning("run %s was closed meanwhile (%s); its candidate is dropped", run_id, run.reason)
        return
    _stage(run_id, echo, "registering", percent=100.0)
    candidate = registry.register(run.recognizer, out, "retrain", parent=parent, metrics=candidate_metrics,
                                  manifest=(manifest_key, sha, summary), note=verdict.reason)
    # Figures the parent lacks are added; the ones it has (a shipped baseline's whole test split) stay.
    parent.metrics = {**champion_metrics, **(parent.metrics or {})}
    run.candidate, run.champion_metrics, run.gate = candidate, champion_metrics, verdict.figures
    if verdict.promote:
        registry.promote(candidate)
    retraining.finish(run, RunStatus.PROMOTED if verdict.promote else RunStatus.REJECTED, verdict.reason)
    echo({"stage": "done", "status": run.status.value, "reason": verdict.reason, "candidate": candidate.version})
