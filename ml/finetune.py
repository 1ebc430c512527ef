"""Fine-tuning on base data plus user feedback: bounded samples, a fixed evaluation set, frozen manifests.

Framework-free like the rest of ml/: callers pass folders, image bytes and labels, and get datasets,
manifests, artifacts and metrics back. TensorFlow is imported only when training starts.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.data import DataFormatError, Dataset, Sample, combine, to_dataset  # noqa: F401 - combine: callers' API
from ml.data.folders import IMAGE_SUFFIXES
from ml.preprocess import ImageError, open_image
from ml.recognizers import Recognizer


# Fewer images than this cannot fit a temperature worth having.
MIN_CALIBRATION = 30


@dataclass(frozen=True)
class Example:
    """One labelled feedback image: its storage key, label and encoded bytes."""

    key: str
    label: str
    data: bytes


def carve(data: Dataset, fraction: float, seed: int = 1234) -> tuple[Dataset, Dataset]:
    """A stratified (train, validation) split of a base sample (distinct files, so rows may be split)."""
    from ml.train import split_validation  # noqa: PLC0415

    train_idx, val_idx = split_validation(data.labels, fraction, seed)
    train, validation = data.subset(train_idx), data.subset(val_idx)
    validation.split = "validation"
    return train, validation


def unseen_by(artifact_dir: str | Path, data: Dataset) -> tuple[Dataset, Dataset]:
    """`data` split into the rows the artifact may have trained on and the rows its training held out (by content
    id; none when it did not record them): images it never learned from, so they can say how sure it is."""
    from ml import artifact  # noqa: PLC0415
    from ml.train import held_out_rows, image_ids

    held = artifact.validation_ids(artifact_dir)
    unseen = held_out_rows(image_ids(data.images), held) if held and len(data) else np.zeros(len(data), bool)
    return data.subset(np.flatnonzero(~unseen)), data.subset(np.flatnonzero(unseen))


def sample_folder(root: str | Path, split: str, recognizer: Recognizer, per_class: int = 0,
                  seed: int = 1234) -> Dataset:
    """Up to `per_class` images per class of a split (0: all), the same ones every time: from class folders
    `<root>/<split>/<class>/`, or digits cut from photos with a box CSV (SVHN format 1, e.g. svhn/labels.csv)."""
    root = Path(root)
    if root.suffix.lower() == ".csv" or (root / "labels.csv").is_file() and not (root / split).is_dir():
        return _sample_boxes(root if root.suffix.lower() == ".csv" else root / "labels.csv", split, recognizer,
                             per_class, seed)
    base = root / split
    if not base.is_dir():
        raise DataFormatError(f"{base}: no such folder; expected <root>/{split}/<class>/*.png or a box CSV")
    rng = np.random.default_rng(seed)
    samples = []
    for name in recognizer.classes:
        folder = base / name
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        if per_class and len(files) > per_class:
            files = [files[i] for i in sorted(rng.choice(len(files), per_class, replace=False))]
        for path in files:
            try:
                samples.append(Sample(str(path), split, name, open_image(path)))
            except ImageError as exc:
                raise DataFormatError(f"{path}: expected a JPEG or PNG image ({exc})") from None
    if not samples:
        raise DataFormatError(f"{base}: no images of any {recognizer.name} class")
    return to_dataset(samples, recognizer, split, str(root))


def _sample_boxes(path: Path, split: str, recognizer: Recognizer, per_class: int, seed: int) -> Dataset:
    """`sample_folder` for a box CSV: the boxes are chosen first, so only their photos are opened."""
    from ml.data import svhn_boxes  # noqa: PLC0415
    from ml.data.svhn import digit_names

    if not path.is_file():
        raise DataFormatError(f"{path}: no such box CSV")
    boxes = [b for b in svhn_boxes.read_boxes(path) if b["split"] == split]
    names = digit_names(np.array([b["label"] for b in boxes], dtype=np.float64), str(path)) if boxes else []
    rng = np.random.default_rng(seed)
    chosen = []
    for name in recognizer.classes:
        rows = [b for b, label in zip(boxes, names) if label == name]
        if per_class and len(rows) > per_class:
            rows = [rows[i] for i in sorted(rng.choice(len(rows), per_class, replace=False))]
        chosen += rows
    if not chosen:
        raise DataFormatError(f"{path}: no boxes of split {split!r}")
    chosen.sort(key=lambda b: (b["image"], b["index"]))  # a photo's boxes together: each photo opened once
    return to_dataset(svhn_boxes.read_csv(path, chosen), recognizer, split, str(path))


def feedback_dataset(examples: list[Example], recognizer: Recognizer, split: str) -> Dataset:
    """Prepare feedback crops; an unreadable one is counted under skipped["unreadable"], not fatal."""
    samples, unreadable = [], 0
    for example in examples:
        try:
            samples.append(Sample(example.key, split, example.label, open_image(example.data)))
        except ImageError:
            unreadable += 1
    data = to_dataset(samples, recognizer, None, "feedback")
    data.split = split
    if unreadable:
        data.skipped["unreadable"] = unreadable
    return data


def manifest(parts: dict[str, Dataset]) -> tuple[dict, str]:
    """The exact image keys and labels of every part, and a SHA-256 over them (the run's frozen data)."""
    body = {name: [{"key": k, "label": data.classes[int(l)]} for k, l in zip(data.keys, data.labels)]
            for name, data in parts.items()}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    sha = hashlib.sha256(canonical).hexdigest()
    return {"sha256": sha, "parts": body, "counts": {name: data.counts() for name, data in parts.items()}}, sha


def fine_tune(recognizer: Recognizer, data: Dataset, init_dir: str | Path, out_dir: str | Path, *,
              validation: Dataset, epochs: int, learning_rate: float, batch_size: int = 32, progress=None,
              targets: np.ndarray | None = None, calibrate_on: Dataset | None = None, freeze: float = 0.0,
              freeze_norm: bool = False, extra_metadata: dict | None = None) -> Path:
    """Continue training the model in `init_dir` on `data`; the best epoch on `validation` becomes an artifact
    in `out_dir`, its temperature fitted on `calibrate_on` when that holds MIN_CALIBRATION images or more
    (else on `validation`); the first `freeze` share of the layers stays as it was, and with `freeze_norm` every
    batch-norm layer keeps the statistics it had."""
    from ml import artifact  # noqa: PLC0415
    from ml.calibration import calibrate_artifact
    from ml.train import TrainConfig, image_ids, train  # noqa: PLC0415 - imports TensorFlow

    # No class weights: the base sample is already near class-balanced, and weighting it again moves the
    # candidate's class priors away from the champion's (measured: it costs base-test accuracy).
    config = TrainConfig(epochs=epochs, learning_rate=learning_rate, patience=max(2, epochs), class_weight="none",
                         batch_size=batch_size, init=str(init_dir), freeze=freeze,
                         freeze_norm=freeze_norm)
    out = train(recognizer, data, out_dir, config, progress=progress, extra_metadata=extra_metadata,
                validation=validation, targets=targets)
    if calibrate_on is not None and len(calibrate_on) >= MIN_CALIBRATION:
        calibrate_artifact(out, calibrate_on.images, calibrate_on.labels,
                           f"{calibrate_on.source} [{calibrate_on.split}]")
        # What the candidate never learned from (its validation slices hold base images its parent trained on).
        artifact.write_validation_ids(out, image_ids(calibrate_on.images))
    return out


def distillation_targets(teacher_dir: str | Path, data: Dataset, n_base: int, weight: float) -> np.ndarray:
    """Training targets for `data` whose first `n_base` rows (the base sample) blend the one-hot label with the
    teacher's probabilities by `weight`: learning without forgetting, the champion's answers on the old domain
    pull the candidate back towards them. Feedback rows keep their one-hot labels."""
    from ml.evaluate import predict_dataset  # noqa: PLC0415
    from ml.serving import Classifier

    targets = np.eye(len(data.classes), dtype=np.float32)[data.labels]
    if weight > 0 and n_base:
        teacher = predict_dataset(Classifier(teacher_dir, threads=None), data.images[:n_base])
        targets[:n_base] = (1 - weight) * targets[:n_base] + weight * teacher
    return targets


def predict(artifact_dir: str | Path, parts: dict[str, Dataset], progress=None) -> dict[str, np.ndarray]:
    """Calibrated probabilities of an artifact on each dataset through the serving path (LiteRT);
    `progress(done, total)` after each batch."""
    from ml.serving import Classifier  # noqa: PLC0415

    classifier = Classifier(artifact_dir, threads=None)
    total, done, found = sum(len(d) for d in parts.values()), 0, {}
    for name, data in parts.items():
        batches = []
        for i in range(0, len(data), 256):
            batches.append(classifier.predict(data.images[i:i + 256]))
            done += len(batches[-1])
            if progress:
                progress(done, total)
        found[name] = np.concatenate(batches) if batches else np.zeros((0, len(classifier.classes)), np.float32)
    return found


def report(data: Dataset, probs: np.ndarray) -> dict:
    """The metric summary of predictions on one dataset, with its digest."""
    from ml import metrics  # noqa: PLC0415

    if len(data):
        found = metrics.summary(data.labels, probs, data.classes)
    else:  # nothing to measure yet (no gate feedback): say so instead of dividing by zero
        found = {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "ece": 0.0, "per_class": {},
                 "confusion": [], "classes": list(data.classes)}
    return {**found, "dataset_sha256": data.digest}


def evaluate(artifact_dir: str | Path, parts: dict[str, Dataset]) -> dict[str, dict]:
    """Metrics of an artifact on each prepared dataset, through the serving path (LiteRT)."""
    probs = predict(artifact_dir, parts)
    return {name: report(data, probs[name]) for name, data in parts.items()}
