"""Model artifact directories: `model.keras`, the lean `model.tflite` that serving uses, `metadata.json`."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from ml.recognizers import Recognizer, get

KERAS_FILE = "model.keras"
LITE_FILE = "model.tflite"
EXPORT = "LiteRT flatbuffer: int8 weights (dynamic-range quantization), float32 activations"
METADATA_FILE = "metadata.json"
# The images training held out, one content id a line (ml.train.image_ids): `ml calibrate` refits on them (on
# those that occur once in the data: ml.train.held_out_rows), and a model on this one's features holds them out.
VALIDATION_FILE = "validation.txt"
PREPROCESSING = ("ml.preprocess.prepare: EXIF orientation, convert to {mode} (alpha over white, "
                 "16-bit rescaled), bilinear resize to {size}x{size}, uint8; the model scales to [0, 1]")


class ArtifactError(ValueError):
    """A model artifact that is missing or unreadable; the message says which file."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries that made an artifact."""
    import keras  # noqa: PLC0415 - only training-side callers need TensorFlow
    import numpy
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


def export_lite(model, path: Path, quantize: bool = True) -> None:
    """Convert a Keras model to a LiteRT flatbuffer, the lean format serving loads: weights stored as int8 unless
    `quantize` is false."""
    import tensorflow as tf  # noqa: PLC0415

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        # Dynamic-range quantization: int8 weights, float activations. A quarter of the file and ~7 MB less worker
        # RSS per loaded model, at the same speed; emotion7's FER-2013 test accuracy moved by no image.
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    # The converter's SavedModel step prints every captured tensor (~40 lines) into training's progress output.
    with contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = converter.convert()
    path.write_bytes(flatbuffer)


def reexport(artifact_dir: str | Path) -> int:
    """Rewrite an artifact's LiteRT file from its Keras model, as export_lite now makes it; the new size in bytes."""
    directory = Path(artifact_dir)
    export_lite(load_keras(directory), directory / LITE_FILE)
    write_metadata(directory, {**read_metadata(directory), "export": EXPORT})
    return (directory / LITE_FILE).stat().st_size


def save_weights_only_model(model, path: Path) -> None:
    """Save architecture and weights without optimizer state: a third of the size, and fine-tuning
    starts a fresh optimizer anyway."""
    bare = model.__class__.from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)


def save(model, recognizer: Recognizer, out_dir: str | Path, **metadata) -> Path:
    """Write model, lean export and metadata into `out_dir` and return it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_weights_only_model(model, out / KERAS_FILE)
    export_lite(model, out / LITE_FILE)
    meta = {
        "recognizer": recognizer.name,
        "classes": list(recognizer.classes),
        "input": {"size": recognizer.size, "mode": recognizer.mode, "channels": recognizer.channels,
                  "faces": recognizer.faces, "dtype": "float32 values 0..255"},
        "preprocessing": PREPROCESSING.format(mode=recognizer.mode, size=recognizer.size),
        "export": EXPORT,
        "parameters": int(model.count_params()),
        "libraries": library_versions(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **metadata,
    }
    write_metadata(out, meta)
    return out


def write_validation_ids(artifact_dir: str | Path, ids) -> None:
    """Record which images an artifact's training held out (their content ids)."""
    (Path(artifact_dir) / VALIDATION_FILE).write_text("".join(f"{i}\n" for i in sorted(ids)))


def validation_ids(artifact_dir: str | Path) -> set[str] | None:
    """The content ids of the images an artifact's training held out; None when it did not record them."""
    path = Path(artifact_dir) / VALIDATION_FILE
    return set(path.read_text().split()) if path.is_file() else None


def version(artifact_dir: str | Path) -> str:
    """A short hash of what decides the served outputs: the LiteRT file and, when fitted, its temperature."""
    directory = Path(artifact_dir)
    digest = hashlib.sha256((directory / LITE_FILE).read_bytes())
    calibration = read_metadata(directory).get("calibration")
    if calibration:  # uncalibrated artifacts keep the versions they were registered under
        digest.update(json.dumps({"temperature": calibration["temperature"]}, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def read_metadata(artifact_dir: str | Path) -> dict:
    """Read and check an artifact's metadata.json."""
    path = Path(artifact_dir) / METADATA_FILE
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing; not a model artifact directory") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from None
    if "recognizer" not in meta or "classes" not in meta:
        raise ArtifactError(f"{path}: expected keys 'recognizer' and 'classes'")
    return meta


def write_metadata(artifact_dir: str | Path, meta: dict) -> None:
    """Write metadata.json, pretty-printed so diffs of shipped models stay readable."""
    (Path(artifact_dir) / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def recognizer_of(artifact_dir: str | Path) -> Recognizer:
    """The recognizer an artifact was trained for."""
    return get(read_metadata(artifact_dir)["recognizer"])


def load_keras(artifact_dir: str | Path):
    """Load the full Keras model of an artifact (training side; imports TensorFlow)."""
    import keras  # noqa: PLC0415

    path = Path(artifact_dir) / KERAS_FILE
    if not path.is_file():
        raise ArtifactError(f"{path}: missing")
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # keras raises many types for a damaged zip or config
        raise ArtifactError(f"{path}: cannot be loaded ({exc})") from None


def resolve(model: str | Path) -> Path:
    """Accept a recognizer name (its shipped model) or an artifact directory; return the directory."""
    path = Path(model)
    if path.is_dir():
        return path
    try:
        return get(str(model)).shipped_dir
    except KeyError:
        raise ArtifactError(f"{model}: neither an artifact directory nor a recognizer name") from None
