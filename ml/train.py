"""Training: stratified validation split, augmentation, class weights, early stopping, resume."""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ml import artifact
from ml.data import Dataset
from ml.recognizers import Recognizer

Progress = Callable[[dict], None]
BATCH_REPORT_S = 2.0  # how often progress is reported within an epoch


@dataclass
class TrainConfig:
    """Everything that decides a training run; stored in the artifact's metadata."""

    arch: str = "cnn"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    val_fraction: float = 0.1
    patience: int = 8
    class_weight: str = "sqrt"  # none | balanced | sqrt (balanced, softened: keeps overall accuracy)
    label_smoothing: float = 0.1
    seed: int = 1234
    split_seed: int | None = None  # seed of the validation split, when it differs from `seed` (ensemble members)
    weights: str | None = None  # weights file for transfer:<backbone>
    init: str | None = None  # artifact to fine-tune from (same recognizer), e.g. the champion
    optimizer: str = "adam"  # adam | sgd (Nesterov momentum 0.9)
    schedule: str = "plateau"  # plateau (halve on plateaus, stop early) | cosine (to zero over `epochs`)
    warmup_epochs: int = 0  # linear warm-up to `learning_rate` before the cosine
    weight_decay: float = 0.0  # decoupled weight decay
    augment: str = "basic"  # ml.augment.for_recipe: basic | strong
    freeze: float = 0.0  # the first share of the layers is not trained (fine-tuning keeps those features)
    freeze_norm: bool = False  # batch-norm layers keep the old data's statistics (fine-tuning on a new domain)

    @property
    def validation_seed(self) -> int:
        """The validation split's seed: members of one ensemble share a split but not their initial weights."""
        return self.seed if self.split_seed is None else self.split_seed


def split_validation(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation indices carved from the training split."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(len(rows) * fraction)) if len(rows) > 1 else 0
        val_idx.append(rows[:n_val])
        train_idx.append(rows[n_val:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))


def image_ids(images: np.ndarray) -> np.ndarray:
    """A content id per prepared image: the same picture has the same id in any dataset or recognizer."""
    return np.array([hashlib.blake2b(image.tobytes(), digest_size=8).hexdigest() for image in images])


def held_out_rows(ids: np.ndarray, held_out: set[str]) -> np.ndarray:
    """A mask of the rows whose image is in `held_out`, leaving out pictures that occur more than once in the
    data (FER-2013 has 1,273 such groups): another copy may have been trained on."""
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    return np.isin(ids, list(held_out)) & (counts[inverse] == 1)


def carve_validation(data: Dataset, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation rows. A model built on another artifact's features (`from:`) holds out what that
    artifact held out, in each class it held images out of: the features were fitted to everything else
    (emotion4 from emotion7 would otherwise validate on 90% images emotion7 trained on). Other classes, and
    every other model, get the stratified split of `split_validation`."""
    train_idx, val_idx = split_validation(data.labels, config.val_fraction, config.validation_seed)
    source = config.arch.removeprefix("from:") if config.arch.startswith("from:") and not config.init else None
    held_out = artifact.validation_ids(source) if source else None
    if not held_out:
        return train_idx, val_idx
    seen = held_out_rows(image_ids(data.images), held_out)
    covered = np.isin(data.labels, np.unique(data.labels[seen]))
    val = seen | (~covered & np.isin(np.arange(len(data)), val_idx))
    return np.flatnonzero(~val), np.flatnonzero(val)


def class_weights(labels: np.ndarray, n_classes: int, how: str) -> dict[int, float] | None:
    """Per-class loss weights against imbalance: 'balanced', its square root 'sqrt', or 'none'."""
    if how == "none":
        return None
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = len(labels) / (n_classes * np.maximum(counts, 1))
    if how == "sqrt":
        weights = np.sqrt(weights)
    elif how != "balanced":
        raise ValueError(f"class_weight must be none, balanced or sqrt, not {how!r}")
    return {i: float(w) for i, w in enumerate(weights)}


def learning_rate_at(epoch: int, config: TrainConfig) -> float:
    """The cosine schedule's learning rate for an epoch (0-based): a function of the epoch alone, so a resumed run
    continues it exactly."""
    if epoch < config.warmup_epochs:
        return config.learning_rate * (epoch + 1) / (config.warmup_epochs + 1)
    span = max(1, config.epochs - config.warmup_epochs)
    return 0.5 * config.learning_rate * (1 + math.cos(math.pi * (epoch - config.warmup_epochs) / span))


class EpochData:
    """Training batches for one epoch at a time, shuffled and augmented as a function of (seed, epoch): set
    `epoch` before each epoch's iterator is made (Keras makes a new one every epoch)."""

    def __init__(self, images: np.ndarray, onehot: np.ndarray, batch_size: int, seed: int, augmentation):
        import tensorflow as tf  # noqa: PLC0415

        from ml.augment import augment_batch  # noqa: PLC0415

        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        n = len(images)
        pixels, targets = tf.constant(images), tf.constant(onehot)

        def batches(_):
            epoch = self.epoch.value()
            order = tf.argsort(tf.random.stateless_uniform([n], seed=tf.stack([tf.constant(seed, tf.int64), epoch])))
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate().map(
                lambda step, rows: (tf.cast(tf.gather(pixels, rows), tf.float32), tf.gather(targets, rows),
                                    tf.stack([epoch * 1_000_003 + step, tf.constant(seed, tf.int64)])))

        def augmented(x, y, batch_seed):
            return augment_batch(tf, x, augmentation, batch_seed), y

        steps = -(-n // batch_size)  # flat_map hides the length from Keras, which then warns at each epoch's end
        self.dataset = (tf.data.Dataset.range(1).flat_map(batches).apply(tf.data.experimental.assert_cardinality(steps))
                        .map(augmented, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    def callback(self):
        """The Keras callback that moves the data to each epoch as it begins."""
        import keras  # noqa: PLC0415

        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: self.epoch.assign(epoch))


def _pipeline(images, onehot, batch_size: int):
    import tensorflow as tf  # noqa: PLC0415

    data = tf.data.Dataset.from_tensor_slices((images, onehot))
    return data.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y)).prefetch(tf.data.AUTOTUNE)


def progress_callback(progress: Progress | None, epochs: int, monitor: str, best: float | None):
    """The callback that reports each finished epoch (see Report)."""
    import keras  # noqa: PLC0415

    class Report(keras.callbacks.Callback):
        """After each epoch: epoch, percent done, ETA and the best validation score so far, to `progress` (the web
        page's live progress) or else as one line on stderr (Keras' own bar shows only the epoch in progress)."""

        def on_train_begin(self, logs=None):
            self.start, self.first, self.best, self.shown = time.monotonic(), None, best, None

        def on_epoch_begin(self, epoch, logs=None):
            self.first = epoch if self.first is None else self.first  # a resumed run starts past zero
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            # The first report comes after the first batch, then every few seconds: an epoch can take minutes.
            now = time.monotonic()
            if not progress or (self.shown is not None and now - self.shown < BATCH_REPORT_S):
                return
            self.shown = now
            steps = max(1, int(self.params.get("steps") or 1))
            done = self.epoch - self.first + (batch + 1) / steps
            eta = (now - self.start) / done * (epochs - self.epoch - (batch + 1) / steps)
            progress({"epoch": self.epoch + 1, "epochs": epochs, "batch": batch + 1, "batches": steps,
                      "percent": round(100 * (self.epoch + (batch + 1) / steps) / epochs, 1),
                      "eta_s": round(eta, 1), "best": self.best})

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            logs = {k: round(float(v), 4) for k, v in (logs or {}).items()}
            if monitor in logs and (self.best is None or logs[monitor] > self.best):
                self.best = logs[monitor]
            eta = (time.monotonic() - self.start) / (done - self.first) * (epochs - done)
            report = {"epoch": done, "epochs": epochs, "percent": round(100 * done / epochs, 1),
                      "eta_s": round(eta, 1), "best": self.best, **logs}
            if progress:
                progress(report)
            else:
                print(f"epoch {done}/{epochs} ({report['percent']}%)  {monitor} {logs.get(monitor)}  best "
                      f"{self.best}  lr {float(self.model.optimizer.learning_rate):.2e}  ETA "
                      f"{time.strftime('%H:%M:%S', time.gmtime(eta))}", file=sys.stderr, flush=True)

    return Report()


def checkpoint_callbacks(best: Path, monitor: str) -> list:
    """Save the best model, and its score beside it so a resumed run only replaces it with a better one."""
    import keras  # noqa: PLC0415

    checkpoint = keras.callbacks.ModelCheckpoint(str(best), monitor=monitor, mode="max", save_best_only=True,
                                                 initial_value_threshold=best_so_far(best))

    def remember(epoch, logs):
        if checkpoint.best is not None and best.exists():
            best.with_suffix(".json").write_text(json.dumps({"best": float(checkpoint.best)}))

    return [checkpoint, keras.callbacks.LambdaCallback(on_epoch_end=remember)]


def best_so_far(best: Path) -> float | None:
    """The score of the best checkpoint an interrupted run saved, if any."""
    score = best.with_suffix(".json")
    return json.loads(score.read_text())["best"] if best.exists() and score.exists() else None


def optimizer_for(config: TrainConfig):
    """The optimizer a config names, with its decoupled weight decay."""
    import keras  # noqa: PLC0415

    decay = config.weight_decay or None
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(config.learning_rate, momentum=0.9, nesterov=True, weight_decay=decay)
    if config.optimizer == "adam":
        return keras.optimizers.AdamW(config.learning_rate, weight_decay=decay) if decay else \
            keras.optimizers.Adam(config.learning_rate)
    raise ValueError(f"optimizer must be adam or sgd, not {config.optimizer!r}")


def schedule_callbacks(config: TrainConfig, monitor: str) -> list:
    """Plateau halving with early stopping, or the cosine schedule run to its end."""
    import keras  # noqa: PLC0415

    if config.schedule == "cosine":
        return [keras.callbacks.LearningRateScheduler(lambda epoch, lr: learning_rate_at(epoch, config))]
    if config.schedule != "plateau":
        raise ValueError(f"schedule must be plateau or cosine, not {config.schedule!r}")
    return [keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, mode="max"),
            keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=0.5,
                                              patience=max(1, config.patience // 3), min_lr=1e-5)]


def train(recognizer: Recognizer, data: Dataset, out_dir: str | Path, config: TrainConfig,
          progress: Progress | None = None, extra_metadata: dict | None = None,
          validation: Dataset | None = None, targets: np.ndarray | None = None) -> Path:
    """Train on `data` (validation carved from it unless `validation` is given), save the best model as an
    artifact in `out_dir`. `targets` replaces the one-hot targets row by row (soft targets, for distillation).
    Rerun with the same arguments after an interruption to resume from the last finished epoch."""
    import keras  # noqa: PLC0415

    from ml import augment, calibration, models  # noqa: PLC0415

    if len(data) < 2:
        raise ValueError("need at least two training images")
    out = Path(out_dir)
    work = out / "work"  # checkpoints and the resume state; removed once the artifact is written
    work.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    n_classes = len(recognizer.classes)
    onehot = np.eye(n_classes, dtype=np.float32)[data.labels] if targets is None else targets.astype(np.float32)
    if validation is None:
        train_idx, val_idx = carve_validation(data, config)
        val_images, val_labels = data.images[val_idx], data.labels[val_idx]
    else:
        train_idx, val_idx = np.arange(len(data)), np.arange(0)
        val_images, val_labels = validation.images, validation.labels

    if config.init:
        model = artifact.load_keras(config.init)
    else:
        model = models.build(config.arch, recognizer, config.weights)
    for layer in model.layers[:int(len(model.layers) * config.freeze)]:
        layer.trainable = False  # frozen batch-norm layers also keep their statistics of the old data
    for layer in model.layers:
        if config.freeze_norm and isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=optimizer_for(config),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"])
    fit_data = EpochData(data.images[train_idx], onehot[train_idx], config.batch_size, config.seed,
                         augment.for_recipe(recognizer.flip, config.augment))
    has_val = len(val_labels) > 0
    val_data = _pipeline(val_images, np.eye(n_classes, dtype=np.float32)[val_labels], 256) if has_val else None
    monitor = "val_accuracy" if has_val else "accuracy"
    best = work / "best.keras"
    callbacks = [
        fit_data.callback(),
        # Weights, optimizer state and the epoch; with the epoch the schedule and the data's randomness resume.
        keras.callbacks.BackupAndRestore(str(work / "resume")),
        *checkpoint_callbacks(best, monitor),
        *schedule_callbacks(config, monitor),
        progress_callback(progress, config.epochs, monitor, best_so_far(best)),
    ]
    started = time.monotonic()
    history = model.fit(fit_data.dataset, validation_data=val_data, epochs=config.epochs,
                        class_weight=class_weights(data.labels[train_idx], n_classes, config.class_weight),
                        callbacks=callbacks, verbose=1 if sys.stdout.isatty() else 2,
                        shuffle=False)  # EpochData shuffles, seeded by the epoch
    seconds = time.monotonic() - started
    model = keras.models.load_model(best) if best.exists() else model
    # A fine-tuned model keeps its parent's architecture (the path it started from is not a name of one).
    architecture = artifact.read_metadata(config.init).get("architecture", config.arch) if config.init else config.arch
    artifact.save(model, recognizer, out, architecture=architecture,
                  # After a resume, this call's history starts at the restored epoch (history.epoch).
                  training={"config": asdict(config), "seconds_this_run": round(seconds, 1),
                            "epochs_run": history.epoch[-1] + 1 if history.epoch else 0,
                            "resumed_from_epoch": history.epoch[0] if history.epoch else None,
                            "history": {k: [round(float(v), 4) for v in vals]
                                        for k, vals in history.history.items()}},
                  dataset={**data.manifest(), "train_rows": int(len(train_idx)), "val_rows": int(len(val_labels))},
                  metrics={"validation": None}, **(extra_metadata or {}))
    artifact.write_validation_ids(out, image_ids(val_images))
    if has_val:  # the validation figures come from the serving path, at the fitted temperature
        where = f"{validation.source} [{validation.split}]" if validation is not None else \
            f"validation split of {data.source} [{data.split}]"
        calibration.calibrate_artifact(out, val_images, val_labels, where)
    for path in sorted(work.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    work.rmdir()
    return out


def threads_from_env() -> None:
    """Honour ML_THREADS so background training can leave a core free."""
    import tensorflow as tf  # noqa: PLC0415

    threads = int(os.environ.get("ML_THREADS", "0"))
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
