"""`python -m ml ...`: train, evaluate, calibrate, export, compare, eda and predict from the command line."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ml import recognizers
from ml.architectures import describe
from ml.compare import DEFAULT_ARCHS, compare


def _train(args) -> int:
    from ml import data  # noqa: PLC0415 - each command imports only what it needs
    from ml.train import TrainConfig, threads_from_env, train

    threads_from_env()
    if args.recognizer == "numbers":
        return _train_detector(args)
    recognizer = recognizers.get(args.recognizer)
    dataset = data.load_many(args.data, recognizer, args.split)
    print(f"{recognizer.name}: {len(dataset)} training images from {dataset.source} [{args.split}] "
          f"{dataset.counts()}" + (f"; skipped classes {dataset.skipped}" if dataset.skipped else ""))
    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.lr, patience=args.patience, class_weight=args.class_weight,
                         seed=args.seed, split_seed=args.split_seed, weights=args.weights, init=args.init,
                         optimizer=args.optimizer,
                         schedule=args.schedule, warmup_epochs=args.warmup, weight_decay=args.weight_decay,
                         augment=args.augment, label_smoothing=args.label_smoothing)
    extra, targets = {"command": "python -m ml " + shlex.join(args.argv)}, None
    if args.teacher:
        from ml import artifact  # noqa: PLC0415
        from ml.finetune import distillation_targets

        targets = distillation_targets(args.teacher, dataset, len(dataset), args.distill)
        extra["distillation"] = {"teacher": args.teacher, "teacher_version": artifact.version(args.teacher),
                                 "weight": args.distill}
    out = train(recognizer, dataset, args.out or Path("instance/runs") / recognizer.name, config,
                extra_metadata=extra, targets=targets)
    print(f"artifact written to {out}")
    return 0


def _train_detector(args) -> int:
    from ml.number_train import DetectorConfig, train_detector  # noqa: PLC0415

    if len(args.data) != 1:
        raise ValueError("the digit detector trains on one box list (SVHN format 1: labels.csv beside photos/)")
    data = Path(args.data[0])
    config = DetectorConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                            warmup_epochs=args.warmup, seed=args.seed, init=args.init)
    out = train_detector(data / "labels.csv" if data.is_dir() else data,
                         args.out or Path("instance/runs/digit_detector"), config, args.negatives,
                         "python -m ml " + shlex.join(args.argv))
    print(f"artifact written to {out}")
    return 0


def _ensemble(args) -> int:
    from ml.ensemble import make_ensemble  # noqa: PLC0415

    out = make_ensemble(args.members, args.data, args.out, args.split, "python -m ml " + shlex.join(args.argv))
    print(f"ensemble of {len(args.members)} written to {out}")
    return 0


def _reader(args):
    from ml import artifact  # noqa: PLC0415
    from ml.numbers import NumberReader
    from ml.recognizers import SHIPPED_DIR
    from ml.serving import Classifier

    classifier = Classifier(artifact.resolve(args.classifier))
    return NumberReader(args.detector or SHIPPED_DIR / "digit_detector", classifier)


def _detector(args):
    from ml.faces import FaceDetector  # noqa: PLC0415

    return FaceDetector(args.detect_side, args.score_threshold)


def _evaluate(args) -> int:
    from ml.evaluate import evaluate_artifact  # noqa: PLC0415

    if args.model == "faces":
        from ml.face_eval import evaluate_faces  # noqa: PLC0415

        report = evaluate_faces(args.data, _detector(args))
        print(json.dumps(report) if args.json else json.dumps(report, indent=2))
        return 0
    if args.model == "numbers":
        from ml.number_eval import evaluate_numbers  # noqa: PLC0415

        report = evaluate_numbers(args.data, args.split, _reader(args), args.negatives)
        print(json.dumps(report) if args.json else json.dumps(report, indent=2))
        return 0
    report = evaluate_artifact(args.model, args.data, args.split, args.out, save=args.save)
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "confusion"}))
    else:
        print(report["text"])
    return 0


def _calibrate(args) -> int:
    import numpy as np  # noqa: PLC0415

    from ml import artifact, data
    from ml.calibration import calibrate_artifact
    from ml.train import TrainConfig, held_out_rows, image_ids, split_validation

    directory = artifact.resolve(args.model)
    meta = artifact.read_metadata(directory)
    dataset = data.load(args.data, recognizers.get(meta["recognizer"]), args.split)
    held_out = artifact.validation_ids(directory)
    if held_out is None:  # made before artifacts recorded it: the split training carved with its seed
        config = TrainConfig(**((meta.get("training") or {}).get("config") or {}))
        _, val_idx = split_validation(dataset.labels, config.val_fraction, config.validation_seed)
        artifact.write_validation_ids(directory, image_ids(dataset.images[val_idx]))
    else:
        val_idx = np.flatnonzero(held_out_rows(image_ids(dataset.images), held_out))
        if not len(val_idx):
            raise ValueError(f"none of the {len(held_out)} images {directory} held out in training are in "
                             f"{args.data} [{args.split}]")
    fitted = calibrate_artifact(directory, dataset.images[val_idx], dataset.labels[val_idx],
                                f"validation images of {args.data} [{args.split}] that training held out")
    print(f"{directory}: temperature {fitted['temperature']} on {fitted['n']} validation images; "
          f"NLL {fitted['nll'][0]} -> {fitted['nll'][1]}, ECE {fitted['ece'][0]} -> {fitted['ece'][1]}")
    return 0


def _export(args) -> int:
    from ml import artifact  # noqa: PLC0415

    directory = artifact.resolve(args.model)
    size = artifact.reexport(directory)
    print(f"{directory / artifact.LITE_FILE}: {size / 1e6:.2f} MB, {artifact.EXPORT}")
    return 0


def _compare(args) -> int:
    from ml.train import TrainConfig, threads_from_env  # noqa: PLC0415

    threads_from_env()
    archs = [a for item in args.archs for a in item.split(",") if a]
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, patience=args.patience, seed=args.seed,
                         weights=args.weights)
    out = Path(args.out or Path("instance/compare") / args.recognizer)
    report = compare(recognizers.get(args.recognizer), args.data, archs, out, config,
                     args.train_split, args.test_split, args.limit)
    print((out / "comparison.md").read_text())
    print(f"written: {out / 'comparison.md'} and {out / 'comparison.json'}; best: {report['best']['arch']}")
    return 0


def _eda(args) -> int:
    from ml.eda import run  # noqa: PLC0415

    report = run(args.data, args.out)
    dup = report["duplicates"]
    print(f"{report['n']} images, {len(report['classes'])} classes; {dup['groups']} duplicate groups, "
          f"{dup['cross_split_groups']} across splits; report: {Path(args.out) / 'index.html'}")
    return 0


def _predict(args) -> int:
    from ml import artifact  # noqa: PLC0415
    from ml.preprocess import ImageError, open_image
    from ml.serving import Classifier, classify

    classifier = Classifier(artifact.resolve(args.model))
    failed = 0
    for path in args.images:
        try:
            found = classify(classifier, open_image(path))
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"image": path, "detections": [
                {"box": d.box, "label": d.label, "confidence": d.confidence, "probabilities": d.probabilities}
                for d in found]}))
            continue
        print(f"{path}: " + ("no faces found" if not found else f"{len(found)} detection(s)"))
        for d in found:
            runners_up = sorted(d.probabilities.items(), key=lambda kv: -kv[1])[1:3]
            print(f"  box {d.box}: {d.label} {d.confidence:.1%} ("
                  + ", ".join(f"{label} {p:.1%}" for label, p in runners_up) + ")")
    return 2 if failed else 0


def _faces(args) -> int:
    from ml.preprocess import ImageError, open_image  # noqa: PLC0415

    detector, failed = _detector(args), 0
    for path in args.photos:
        try:
            image = open_image(path)
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        found = detector.detect(image)
        if args.json:
            print(json.dumps({"image": path, "width": image.width, "height": image.height, "faces": [
                {"box": list(f.box), "score": f.score, "landmarks": [list(p) for p in f.landmarks]} for f in found]}))
            continue
        print(f"{path} ({image.width}x{image.height}): {len(found)} face(s)")
        for f in found:
            print(f"  box {list(f.box)} score {f.score:.3f}")
    return 2 if failed else 0


def _detector_options(command: argparse.ArgumentParser) -> None:
    from ml import faces  # noqa: PLC0415 - cheap: OpenCV loads only when a detector is made

    command.add_argument("--detect-side", type=int, default=faces.DETECT_SIDE,
                         help=f"long side the photo is searched at (default {faces.DETECT_SIDE})")
    command.add_argument("--score-threshold", type=float, default=faces.SCORE_THRESHOLD,
                         help=f"least detector score of a face (default {faces.SCORE_THRESHOLD})")


def _training_options(command: argparse.ArgumentParser, epochs: int, patience: int) -> None:
    command.add_argument("--epochs", type=int, default=epochs)
    command.add_argument("--patience", type=int, default=patience)
    command.add_argument("--batch-size", type=int, default=64)
    command.add_argument("--seed", type=int, default=1234)
    command.add_argument("--weights", help="weights file for transfer:<backbone> architectures")


def parser() -> argparse.ArgumentParser:
    """The command-line interface of the ml package."""
    p = argparse.ArgumentParser(prog="python -m ml", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a recognizer and write a model artifact")
    t.add_argument("recognizer", choices=[*recognizers.RECOGNIZERS, "numbers"],
                   help="a recognizer, or 'numbers': the digit detector of the number reader, from SVHN photos with "
                        "a box per digit")
    t.add_argument("data", nargs="+", help="datasets, trained on together: class folders, FER-2013 CSV, SVHN "
                                           ".mat/.h5, digitStruct or a box CSV")
    t.add_argument("--split", default="train", help="split to train on (default: train)")
    t.add_argument("--arch", default="cnn", help="architecture (see `python -m ml compare --help`)")
    _training_options(t, epochs=30, patience=8)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--class-weight", default="sqrt", choices=["none", "balanced", "sqrt"])
    t.add_argument("--optimizer", default="adam", choices=["adam", "sgd"], help="sgd: Nesterov momentum 0.9")
    t.add_argument("--schedule", default="plateau", choices=["plateau", "cosine"],
                   help="plateau: halve the LR on plateaus and stop early; cosine: decay to zero over --epochs")
    t.add_argument("--warmup", type=int, default=0, help="epochs of linear warm-up before the cosine")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--label-smoothing", type=float, default=0.1)
    t.add_argument("--split-seed", type=int, help="seed of the validation split (default: --seed); ensemble members "
                                                  "share one split so their average is validated honestly")
    t.add_argument("--augment", default="basic", choices=["basic", "strong"],
                   help="strong: larger shifts, scale and rotation, brightness, random erasing (long schedules)")
    t.add_argument("--init", help="artifact directory to fine-tune from")
    t.add_argument("--teacher", help="artifact directory (e.g. an ensemble) whose probabilities the targets blend in")
    t.add_argument("--distill", type=float, default=0.5, help="with --teacher: the teacher's share of each target")
    t.add_argument("--negatives", help="numbers: a folder of photos without digits (e.g. faces) for 10%% of windows")
    t.add_argument("--out", help="artifact directory (default instance/runs/<recognizer>); rerun to resume")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="evaluate a model artifact on a dataset split, or the face detector")
    e.add_argument("model", help="recognizer name (its shipped model), artifact directory, 'faces': the face "
                                 "detector on a folder of photos with face boxes (the faces_real layout), or "
                                 "'numbers': the number reader on SVHN photos (labels.csv and photos/<split>/)")
    e.add_argument("data")
    e.add_argument("--split", default="test")
    e.add_argument("--out", help="folder for the confusion-matrix PNG (default: the artifact's)")
    e.add_argument("--save", action="store_true", help="record the figures in the artifact's metadata")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    _detector_options(e)
    e.add_argument("--negatives", help="numbers: a folder of photos without digits; reports false_numbers_per_photo")
    e.add_argument("--detector", help="numbers: the digit detector artifact (default: the shipped one)")
    e.add_argument("--classifier", default="digits", help="numbers: the digit classifier (default: the shipped one)")
    e.set_defaults(func=_evaluate)

    f = sub.add_parser("faces", help="find the faces in photos: box [x, y, w, h] in the photo's pixels (after EXIF "
                                     "orientation), score and five landmarks")
    f.add_argument("photos", nargs="+")
    f.add_argument("--json", action="store_true", help="print one JSON object per photo")
    _detector_options(f)
    f.set_defaults(func=_faces)

    k = sub.add_parser("calibrate", help="fit a model's temperature on the validation split training carved")
    k.add_argument("model", help="recognizer name (its shipped model) or artifact directory")
    k.add_argument("data", help="the dataset the model was trained on")
    k.add_argument("--split", default="train", help="the split training used (default: train)")
    k.set_defaults(func=_calibrate)

    n = sub.add_parser("ensemble", help="average trained models of one recognizer into one artifact, calibrated on "
                                        "the validation split they share")
    n.add_argument("data", nargs="+", help="the datasets the members were trained on")
    n.add_argument("--members", nargs="+", required=True, help="artifact directories (two or more)")
    n.add_argument("--split", default="train", help="the split training used (default: train)")
    n.add_argument("--out", required=True, help="artifact directory to write")
    n.set_defaults(func=_ensemble)

    x = sub.add_parser("export", help="rewrite a model's LiteRT file from its Keras model (after an export change)")
    x.add_argument("model", help="recognizer name (its shipped model) or artifact directory")
    x.set_defaults(func=_export)

    c = sub.add_parser("compare", help="train several architectures and compare them on the test split")
    c.add_argument("data")
    c.add_argument("--recognizer", required=True, choices=list(recognizers.RECOGNIZERS))
    c.add_argument("--archs", nargs="+", default=[",".join(DEFAULT_ARCHS)], metavar="ARCH",
                   help=f"architectures, space or comma separated (default {','.join(DEFAULT_ARCHS)}); "
                        f"known: {', '.join(describe())}")
    _training_options(c, epochs=10, patience=4)
    c.add_argument("--limit", type=int, help="use at most N images of each split (stratified), for quick runs")
    c.add_argument("--train-split", default="train")
    c.add_argument("--test-split", default="test")
    c.add_argument("--out", help="folder for the runs and comparison.md/.json (default instance/compare/<recognizer>)")
    c.set_defaults(func=_compare)

    d = sub.add_parser("eda", help="exploratory data analysis: HTML page with charts")
    d.add_argument("data", help="any dataset the readers accept")
    d.add_argument("--out", required=True, help="folder for index.html, report.json and the PNG charts")
    d.set_defaults(func=_eda)

    r = sub.add_parser("predict", help="classify images (faces first for face recognizers)")
    r.add_argument("model", help="recognizer name (its shipped model) or artifact directory")
    r.add_argument("images", nargs="+")
    r.add_argument("--json", action="store_true", help="print one JSON object per image")
    r.set_defaults(func=_predict)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors in the input become a one-line message and exit status 2."""
    from ml.artifact import ArtifactError  # noqa: PLC0415
    from ml.data import DataFormatError

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.argv = argv  # recorded in the artifact's metadata as the command that made it
    try:
        return args.func(args)
    except (DataFormatError, ArtifactError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
