"""The learning loop's face-domain benchmark (`python scripts/bench_loop.py --mode faces`).

A new face domain: the Taiwanese posed expressions (29 performers; `subjects.csv` names each photo's performer),
split by performer. Each performer of one half is a user who sends their photos through the JSON API and
confirms the right answers and corrects the wrong ones (at most --max-corrections in all); then the schedule's
due check starts one retrain with the app's default settings. Measured independently of the gate: accuracy on
the other half's performers (through the API, before and after) and on the untouched FER-2013 test split
(through the serving path), paired; ECE on FER-2013 after; labels lost; the retrain's time. Repeated
--repeats times with other performer splits, to see whether the gate's decision agrees with the measurement.
"""
from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path

import numpy as np

from app import create_app
from app.config import DATASETS
from app.extensions import db
from app.services import accounts, registry, retraining
from bench_loop import FEEDBACK_PARTS, PASSWORD, Api, serve
from ml import artifact, finetune, metrics, paired
from ml.recognizers import get

TAIWANESE, FER = DATASETS / "taiwanese", DATASETS / "fer2013"
RECOGNIZER = "emotion7"


def performers() -> dict[str, list[tuple[Path, str]]]:
    """Each performer's photos with their posed expression."""
    found: dict[str, list] = {}
    with open(TAIWANESE / "subjects.csv", newline="") as rows:
        for row in csv.DictReader(rows):
            found.setdefault(row["subject"], []).append((TAIWANESE / row["file"], row["class"]))
    return found


def answer(response: dict) -> tuple[int, str] | None:
    """The index and label of the largest face found, or None when no face was found."""
    found = response["results"][0]["detections"]
    if not found:
        return None
    biggest = max(found, key=lambda d: d["box"][2] * d["box"][3])
    return biggest["index"], biggest["label"]


def measure(api: Api, photos: list[tuple[Path, str]]) -> np.ndarray:
    """Per photo: whether the served model is right (a photo without a face found counts as wrong)."""
    right = []
    for path, label in photos:
        said = answer(api.classify(path.read_bytes(), RECOGNIZER))
        right.append(said is not None and said[1] == label)
    return np.array(right)


def fer_answers(app, fer_test) -> tuple[np.ndarray, np.ndarray]:
    """The champion's probabilities on the FER-2013 test split, through the serving path."""
    with app.app_context():
        directory = registry.materialize(registry.champion(RECOGNIZER))
    return finetune.predict(directory, {"test": fer_test})["test"]


def one_run(repeat: int, args, work: Path, people: dict, fer_test) -> dict:
    """One repetition on its own database and storage: feedback, one automatic retrain, the measurements."""
    from app.tasks.retraining import retrain_due  # noqa: PLC0415

    names = sorted(people)
    order = np.random.default_rng(args.seed + repeat).permutation(len(names))
    teach, unseen = [names[i] for i in order[:len(names) // 2]], [names[i] for i in order[len(names) // 2:]]
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite'}", "STORAGE_DIR": str(work / "storage"),
                "S3_BUCKET": None, "MODEL_CACHE_DIR": str(work / "model-cache"), "RETRAIN_DIR": str(work / "retrain"),
                "CHAMPION_CHECK_S": 0.0, "RETRAIN_MIN_NEW_LABELS": 1, "TRAIN_DATA": {RECOGNIZER: str(FER)},
                # Simulated users all come from one address: the per-address limits would stop the bench.
                "RATELIMIT_ENABLED": False,
                "CELERY": {"broker_url": "memory://", "task_always_eager": True, "task_ignore_result": True}}
    if args.epochs:
        settings["RETRAIN_EPOCHS"] = args.epochs
    if args.base_per_class:
        settings["RETRAIN_BASE_PER_CLASS"] = args.base_per_class
    app = create_app(settings)
    with app.app_context():
        from app.schema import upgrade  # noqa: PLC0415

        upgrade()
        accounts.create_user("admin@example.com", PASSWORD, is_admin=True)
        for name in teach:
            accounts.create_user(f"{name.lower()}@example.com", PASSWORD)
        baseline = registry.ensure_baseline(RECOGNIZER).version
    base = serve(app)
    admin = Api(base, "admin@example.com")
    held_out = [photo for name in unseen for photo in people[name]]
    unseen_before = measure(admin, held_out)
    fer_before = fer_answers(app, fer_test)

    given, corrections, confirmations, faceless = {}, 0, 0, 0
    for name in teach:
        user = Api(base, f"{name.lower()}@example.com")  # each performer sends their own photos
        for path, label in people[name]:
            response = user.classify(path.read_bytes(), RECOGNIZER)
            said = answer(response)
            if said is None:
                faceless += 1
                continue
            if said[1] != label and corrections >= args.max_corrections:
                continue  # the users' patience for corrections ran out; wrong answers stay unreviewed
            user.correct(response["id"], label, RECOGNIZER, said[0])
            given[response["id"]] = label
            corrections += said[1] != label
            confirmations += said[1] == label

    with app.app_context():
        started = time.monotonic()
        retrain_due()  # the schedule's check, as beat runs it: due, so one run starts (eagerly here)
        seconds = time.monotonic() - started
        run = retraining.latest_runs(RECOGNIZER, 1)[0]
        manifest = json.loads(app.extensions["storage"].get(run.candidate.manifest_key)) if run.candidate else {}
        frozen = {e["key"]: e["label"] for part in FEEDBACK_PARTS for e in manifest.get("parts", {}).get(part, [])}
        from app.models import Detection, Prediction, Result  # noqa: PLC0415

        keys = dict(db.session.execute(db.select(Prediction.id, Detection.crop_key).join(Result, Result.prediction_id == Prediction.id)
                                       .join(Detection, Detection.result_id == Result.id)
                                       .where(Prediction.id.in_(list(given)), Detection.status.in_(["confirmed", "corrected"]))).all())
        lost = sum(1 for pid, label in given.items() if frozen.get(keys.get(pid)) != label)
        status, reason, gate = run.status.value, run.reason, run.gate
        made = run.candidate.version if run.candidate else None
        fitted = artifact.read_metadata(registry.materialize(run.candidate)).get("calibration") if made else None
    with app.app_context():  # the candidate is measured whatever the gate said: served for a moment
        temporary = made is not None and registry.champion(RECOGNIZER).version != made
        if temporary:
            registry.promote(registry.find(made))
    unseen_after = measure(admin, held_out)
    fer_after = fer_answers(app, fer_test)
    with app.app_context():
        if temporary:
            registry.rollback(RECOGNIZER)  # the gate's decision stands
    fer_right = [p.argmax(axis=1) == fer_test.labels for p in (fer_before, fer_after)]
    unseen = paired.compare(unseen_before, unseen_after)
    fer = paired.compare(*fer_right)
    margin = app.config["PROMOTION_MARGIN"]
    should = unseen["p_better"] < 0.05 and fer["low"] >= -margin
    return {"repeat": repeat, "teach": teach, "unseen": unseen, "fer": fer, "baseline": baseline,
            "ece_before": metrics.expected_calibration_error(fer_test.labels, fer_before),
            "ece_after": metrics.expected_calibration_error(fer_test.labels, fer_after),
            "status": status, "reason": reason, "gate": gate, "seconds": seconds, "lost": lost,
            "given": len(given), "corrections": corrections, "confirmations": confirmations, "faceless": faceless,
            "should_promote": should, "agrees": (status == "promoted") == should,
            "gate_n": (gate.get("gate") or {}).get("n"), "calibration": fitted}


def _pts(found: dict) -> str:
    return (f"{found['before']:.1%} -> {found['after']:.1%} ({100 * found['difference']:+.1f} pt, "
            f"[{100 * found['low']:+.1f}, {100 * found['high']:+.1f}], b={found['b']} c={found['c']}, "
            f"McNemar p(better)={found['p_better']:.3f} p(worse)={found['p_worse']:.3f})")


def run_faces(args, work: Path) -> int:
    """Every repetition, then the report against the targets; 0 when all are met."""
    for noisy in ("werkzeug", "alembic"):  # one line per request or migration would bury the report
        logging.getLogger(noisy).setLevel(logging.WARNING)
    people = performers()
    fer_test = finetune.sample_folder(FER, "test", get(RECOGNIZER))
    print(f"bench_loop faces: {sum(map(len, people.values()))} Taiwanese photos of {len(people)} performers; "
          f"FER-2013 test {len(fer_test)} images; {args.repeats} repeats")
    results = []
    for repeat in range(args.repeats):
        folder = work / f"repeat-{repeat}"
        folder.mkdir()
        r = one_run(repeat, args, folder, people, fer_test)
        results.append(r)
        print(f"\nrepeat {repeat}: users {', '.join(r['teach'])} gave {r['given']} labels "
              f"({r['corrections']} corrections, {r['confirmations']} confirmations; {r['faceless']} photos without "
              f"a face found); gate slice n={r['gate_n']}")
        print(f"  run: {r['status']} after {r['seconds']:.0f} s: {r['reason']}")
        print(f"  unseen performers ({r['unseen']['n']} photos via the API): {_pts(r['unseen'])}")
        print(f"  FER-2013 test (serving path): {_pts(r['fer'])}")
        print(f"  FER-2013 ECE {r['ece_before']:.3f} -> {r['ece_after']:.3f}; labels lost {r['lost']} of {r['given']}; "
              f"independent verdict: {'promote' if r['should_promote'] else 'keep'}; gate "
              f"{'agrees' if r['agrees'] else 'DISAGREES'}")
        if r["calibration"]:
            print(f"  candidate temperature {r['calibration']['temperature']} fitted on {r['calibration']['fitted_on']} "
                  f"(n={r['calibration']['n']})")
    promoted = [r for r in results if r["status"] == "promoted"]
    checks = {
        "unseen people +15 points (promoted runs)": bool(promoted) and all(r["unseen"]["difference"] >= 0.15 for r in promoted),
        "old domain no significant loss (<= 0.5 pt, p(worse) >= 0.05)": all(
            r["fer"]["difference"] >= -0.005 and r["fer"]["p_worse"] >= 0.05 for r in results),
        "ECE on FER-2013 <= 0.04 after": all(r["ece_after"] <= 0.04 for r in results),
        f"gate agrees {len(results)}/{len(results)}": all(r["agrees"] for r in results),
        "0 labels lost": all(r["lost"] == 0 for r in results),
        "retrain <= 10 minutes": all(r["seconds"] <= 600 for r in results),
    }
    print()
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0 if all(checks.values()) else 1
