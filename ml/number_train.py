"""Training the digit detector of ml.numbers on photos with a box per digit (SVHN format 1: labels.csv + photos).

Each training example is a WINDOW×WINDOW cut of a photo scaled as serving scales it (ml.numbers.detector_scale),
times a random factor, with its digits' centres, sizes and offsets as targets on the stride-4 grid. Windows are
made in numpy from a generator seeded by (seed, epoch, index), so a resumed run sees the same data; a share of
windows come from photos without digits (faces, say) so that such photos read as no number.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ml import numbers
from ml.data import DataFormatError
from ml.data.folders import IMAGE_SUFFIXES
from ml.data.svhn_boxes import photo_boxes
from ml.preprocess import ImageError, open_image

WINDOW = 160
GRID = WINDOW // numbers.STRIDE
PRIOR = 0.01  # the centre logit starts at this probability, as in CenterNet and RetinaNet


@dataclass
class DetectorConfig:
    """Everything that decides a detector training run; stored in the artifact's metadata."""

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_epochs: int = 1
    weight_decay: float = 1e-4
    val_fraction: float = 0.05
    negative_share: float = 0.1
    seed: int = 1234
    init: str | None = None  # a detector artifact to start from


def build_model(shape=(None, None, 3)):
    """The detector: a small fully convolutional network, stride-4 output of 5 channels (centre logit, log width,
    log height, x offset, y offset)."""
    import keras  # noqa: PLC0415
    from keras import layers

    def conv(x, filters, stride=1, dilation=1):
        x = layers.Conv2D(filters, 3, strides=stride, dilation_rate=dilation, padding="same", use_bias=False)(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    inputs = keras.Input(shape=shape, name="canvas")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = conv(x, 16, 2)
    x = conv(x, 32, 2)
    fine = conv(x, 32)
    x = conv(fine, 64, 2)
    x = conv(x, 64)
    x = conv(x, 64, dilation=2)
    x = conv(x, 64, dilation=4)  # a receptive field of ~150 px: the tallest digits
    x = layers.Concatenate()([layers.UpSampling2D(2, interpolation="bilinear")(x), fine])
    x = conv(x, 48)
    bias = np.array([math.log(PRIOR / (1 - PRIOR)), 3.0, 3.5, 0.5, 0.5], np.float32)  # sizes ~20×33 px
    outputs = layers.Conv2D(5, 1, name="digits", bias_initializer=keras.initializers.Constant(bias))(x)
    return keras.Model(inputs, outputs, name="digit_detector")


def detector_loss(target, output):
    """CenterNet's penalty-reduced focal loss on the centre scores plus L1 on sizes and offsets at the centres."""
    import tensorflow as tf  # noqa: PLC0415

    heat, sizes, offsets, centre = target[..., 0], target[..., 1:3], target[..., 3:5], target[..., 5]
    p = tf.clip_by_value(tf.sigmoid(output[..., 0]), 1e-4, 1 - 1e-4)
    positive = -tf.pow(1 - p, 2) * tf.math.log(p) * centre
    negative = -tf.pow(1 - heat, 4) * tf.pow(p, 2) * tf.math.log(1 - p) * (1 - centre)
    count = tf.maximum(tf.reduce_sum(centre, axis=[1, 2]), 1.0)
    focal = tf.reduce_sum(positive + negative, axis=[1, 2]) / count
    mask = centre[..., None]
    size = tf.reduce_sum(tf.abs(output[..., 1:3] - sizes) * mask, axis=[1, 2, 3]) / count
    offset = tf.reduce_sum(tf.abs(output[..., 3:5] - offsets) * mask, axis=[1, 2, 3]) / count
    return focal + size + offset


def targets(boxes: np.ndarray) -> np.ndarray:
    """GRID×GRID×6 targets for boxes (x, y, w, h) on a window: centre heat (a Gaussian per digit), log size,
    offset, and 1 at each centre cell."""
    out = np.zeros((GRID, GRID, 6), np.float32)
    ys, xs = np.mgrid[0:GRID, 0:GRID]
    for x, y, w, h in boxes:
        cx, cy = (x + w / 2) / numbers.STRIDE, (y + h / 2) / numbers.STRIDE
        col, row = int(cx), int(cy)
        if not (0 <= col < GRID and 0 <= row < GRID):
            continue
        sx, sy = max(0.5, w / numbers.STRIDE / 6), max(0.5, h / numbers.STRIDE / 6)
        heat = np.exp(-((xs - col) ** 2 / (2 * sx ** 2) + (ys - row) ** 2 / (2 * sy ** 2)))
        out[..., 0] = np.maximum(out[..., 0], heat)
        out[row, col] = (1.0, math.log(max(w, 1)), math.log(max(h, 1)), cx - col, cy - row, 1.0)
    return out


def scaled(photo: Image.Image, boxes: np.ndarray, rng: np.random.Generator):
    """The photo's pixels scaled as serving scales it times a random factor (0.45 to 1.3), and its boxes."""
    scale = numbers.detector_scale(*photo.size) * math.exp(rng.uniform(math.log(0.45), math.log(1.3)))
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    return np.asarray(photo.resize(size, Image.BILINEAR), np.uint8), boxes * scale


def cut(pixels: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """The WINDOW×WINDOW part of the pixels from (x0, y0), outside them the pixels' mean colour (as ml.numbers.place
    fills the canvas)."""
    out = np.empty((WINDOW, WINDOW, 3), np.uint8)
    out[:] = pixels.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    height, width = pixels.shape[:2]
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x0 + WINDOW), min(height, y0 + WINDOW)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = pixels[sy0:sy1, sx0:sx1]
    return out


def window(photo: Image.Image, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A WINDOW×WINDOW RGB cut of the photo scaled as serving scales it times a random factor, placed so the number
    lies in it (shifted at random), photometrically jittered; and its digits' boxes in the window's pixels."""
    pixels, boxes = scaled(photo, boxes, rng)
    if len(boxes):
        left, top = boxes[:, 0].min(), boxes[:, 1].min()
        right, bottom = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
        cx, cy = (left + right) / 2, (top + bottom) / 2
    else:
        cx, cy = pixels.shape[1] / 2, pixels.shape[0] / 2
    x0 = round(cx - WINDOW / 2 + rng.uniform(-0.35, 0.35) * WINDOW)
    y0 = round(cy - WINDOW / 2 + rng.uniform(-0.35, 0.35) * WINDOW)
    shifted = boxes - np.array([x0, y0, 0, 0]) if len(boxes) else boxes.reshape(0, 4)
    return jitter(cut(pixels, x0, y0), rng), shifted


def jitter(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour and sharpness changes that keep every digit readable (never a flip)."""
    image = Image.fromarray(pixels)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    array = np.asarray(image, np.float32)
    if rng.random() < 0.2:
        array = np.repeat(array.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.3:
        array = array[..., rng.permutation(3)]
    if rng.random() < 0.15:
        array = 255 - array
    mean = array.mean()
    array = (array - mean) * rng.uniform(0.6, 1.4) + mean + rng.uniform(-30, 30)
    return np.clip(array, 0, 255).astype(np.uint8)


def load_photos(labels_csv: str | Path, split: str) -> list[tuple[Image.Image, np.ndarray]]:
    """Every photo of a split with its digit boxes (N×4 x, y, w, h), decoded once (RGB)."""
    return [(open_image(path).convert("RGB"), np.array(boxes, np.float64))
            for path, boxes, _ in photo_boxes(labels_csv, split)]


def load_negatives(folder: str | Path | None, limit: int = 4000, seed: int = 0) -> list[Image.Image]:
    """Up to `limit` photos without digits from a folder tree (e.g. face photos), the same ones every time."""
    if not folder:
        return []
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataFormatError(f"{folder}: no images for negatives")
    chosen = np.random.default_rng(seed).permutation(len(paths))[:limit]
    images = []
    for i in sorted(chosen):
        try:
            images.append(open_image(paths[i]).convert("RGB"))
        except ImageError:
            continue
    return images


class Windows:
    """Batches of (windows, targets) for one epoch, made from (seed, epoch, batch index) alone."""

    def __init__(self, photos, negatives, batch_size: int, seed: int, negative_share: float):
        import keras  # noqa: PLC0415

        outer = self

        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return math.ceil(len(outer.photos) / outer.batch_size)

            def __getitem__(self, index):
                return outer.batch(index)

        self.photos, self.negatives, self.batch_size = photos, negatives, batch_size
        self.seed, self.negative_share, self.epoch = seed, negative_share, 0
        self.dataset = Batches()

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch `index` of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.photos))
        rows = order[index * self.batch_size:(index + 1) * self.batch_size]
        images, goals = [], []
        for row in rows:
            if self.negatives and rng.random() < self.negative_share:
                photo, boxes = self.negatives[rng.integers(len(self.negatives))], np.zeros((0, 4))
            else:
                photo, boxes = self.photos[row]
            pixels, placed = window(photo, boxes, rng)
            images.append(pixels)
            goals.append(targets(placed))
        return np.stack(images).astype(np.float32), np.stack(goals)

    def callback(self):
        """Sets the epoch as each begins (a resumed run starts past zero)."""
        import keras  # noqa: PLC0415

        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: setattr(self, "epoch", epoch))


def evaluation_score(model, photos) -> float:
    """Digit F1 at IoU >= 0.5 over validation photos, through the serving geometry (the monitored score)."""
    from ml.number_eval import match_digits  # noqa: PLC0415

    scales = [numbers.detector_scale(*photo.size) for photo, _ in photos]
    canvases = np.stack([numbers.place(photo, scale) for (photo, _), scale in zip(photos, scales)])
    outputs = model.predict(canvases.astype(np.float32), batch_size=32, verbose=0)
    hits = found = truth = 0
    for (_, boxes), scale, output in zip(photos, scales, outputs):
        predicted = [tuple(v / scale for v in box) for box, _ in numbers.decode(output)]
        hits += len(match_digits(predicted, [tuple(b) for b in boxes]))
        found += len(predicted)
        truth += len(boxes)
    return 2 * hits / max(1, found + truth)


def split_photos(photos: list, config: DetectorConfig) -> tuple[list, list]:
    """Training and validation photos, the validation ones drawn by the config's seed (by photo, never by digit)."""
    order = np.random.default_rng(config.seed).permutation(len(photos))
    n_val = max(1, round(len(photos) * config.val_fraction))
    return [photos[i] for i in sorted(order[n_val:])], [photos[i] for i in sorted(order[:n_val])]


def train_detector(labels_csv: str | Path, out_dir: str | Path, config: DetectorConfig,
                   negatives: str | Path | None = None, command: str = "") -> Path:
    """Train the digit detector on a split's photos (validation carved by photo), write its artifact; rerun with
    the same arguments to resume."""
    import keras  # noqa: PLC0415

    from ml import artifact  # noqa: PLC0415
    from ml.train import TrainConfig, best_so_far, learning_rate_at, progress_callback  # noqa: PLC0415

    out = Path(out_dir)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    train, val = split_photos(load_photos(labels_csv, "train"), config)
    negative_images = load_negatives(negatives, seed=config.seed)
    print(f"digit detector: {len(train)} training photos, {len(val)} validation photos, "
          f"{len(negative_images)} negatives", file=sys.stderr)
    data = Windows(train, negative_images, config.batch_size, config.seed, config.negative_share)
    model = build_model()
    if config.init:
        model.set_weights(keras.models.load_model(Path(config.init) / artifact.KERAS_FILE, compile=False).get_weights())
    model.compile(optimizer=keras.optimizers.AdamW(config.learning_rate, weight_decay=config.weight_decay),
                  loss=detector_loss)
    schedule = TrainConfig(epochs=config.epochs, learning_rate=config.learning_rate,
                           warmup_epochs=config.warmup_epochs)
    best = work / "best.keras"

    class Validate(keras.callbacks.Callback):
        """Scores the validation photos after each epoch and keeps the best model (and its score, for a resume)."""

        def on_epoch_end(self, epoch, logs=None):
            logs["val_f1"] = evaluation_score(self.model, val)
            before = best_so_far(best)
            if before is None or logs["val_f1"] > before:
                self.model.save(best)
                best.with_suffix(".json").write_text(json.dumps({"best": logs["val_f1"]}))

    callbacks = [data.callback(), keras.callbacks.BackupAndRestore(str(work / "resume")),
                 keras.callbacks.LearningRateScheduler(lambda epoch, lr: learning_rate_at(epoch, schedule)),
                 Validate(), progress_callback(None, config.epochs, "val_f1", best_so_far(best))]
    started = time.monotonic()
    history = model.fit(data.dataset, epochs=config.epochs, callbacks=callbacks,
                        verbose=1 if sys.stdout.isatty() else 2)
    trained = keras.models.load_model(best, custom_objects={"detector_loss": detector_loss}) if best.exists() \
        else model
    save_detector(trained, out, {"config": asdict(config), "seconds_this_run": round(time.monotonic() - started, 1),
                                 "history": {k: [round(float(v), 4) for v in vals]
                                             for k, vals in history.history.items()}},
                  {"source": str(labels_csv), "train_photos": len(train), "val_photos": len(val),
                   "negatives": str(negatives) if negatives else None, "negative_images": len(negative_images)},
                  best_so_far(best), command)
    for path in sorted(work.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    work.rmdir()
    return out


PREPROCESSING = (f"ml.numbers.place: photo scaled by ml.numbers.detector_scale, top left on a {numbers.CANVAS}x"
                 f"{numbers.CANVAS} canvas of its mean colour (4:3 or 3:4 when it fits, ml.numbers.canvas_for); "
                 f"a large photo also scaled by ml.numbers.fine_scale on a canvas of side {numbers.FINE_CANVAS}")


def export_detector(model, out: Path) -> None:
    """The detector's LiteRT files, one per canvas serving uses (LiteRT needs fixed sizes here)."""
    from ml import artifact  # noqa: PLC0415

    for side in (numbers.CANVAS, numbers.FINE_CANVAS):
        for width, height in numbers.canvases(side):
            fixed = build_model((height, width, 3))
            fixed.set_weights(model.get_weights())
            artifact.export_lite(fixed, out / numbers.lite_file((width, height)))


def save_detector(model, out: Path, training: dict, dataset: dict, val_f1: float | None, command: str) -> None:
    """Write the detector artifact: model.keras, the LiteRT files at the serving canvas sizes, metadata.json."""
    from ml import artifact  # noqa: PLC0415

    artifact.save_weights_only_model(model, out / artifact.KERAS_FILE)
    export_detector(model, out)
    artifact.write_metadata(out, {
        "recognizer": "digit_detector", "classes": ["digit"],
        "input": {"size": numbers.CANVAS, "mode": "RGB", "channels": 3, "dtype": "float32 values 0..255"},
        "preprocessing": PREPROCESSING,
        "output": f"stride {numbers.STRIDE} grid x 5: centre logit, log width, log height, x and y offset",
        "export": artifact.EXPORT, "parameters": int(model.count_params()),
        "score_threshold": numbers.SCORE_THRESHOLD,
        "number_threshold": numbers.NUMBER_THRESHOLD, "single_threshold": numbers.SINGLE_THRESHOLD,
        "libraries": artifact.library_versions(),
        "training": training, "dataset": dataset, "metrics": {"validation_digit_f1": val_f1}, "command": command,
    })
