"""Model families by name: ANNs (MLPs), CNNs, and transfer learning from a weights file or our own model."""
from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from ml.architectures import ARCHITECTURES, TRANSFER_APPS, describe
from ml.recognizers import Recognizer


def _inputs(recognizer: Recognizer):
    inputs = keras.Input(shape=recognizer.input_shape, name="image")
    return inputs, layers.Rescaling(1.0 / 255, name="scale")(inputs)


def _head(x, recognizer: Recognizer, dropout: float):
    x = layers.Dropout(dropout)(x)
    return layers.Dense(len(recognizer.classes), activation="softmax", name="probabilities")(x)


def _mlp(recognizer: Recognizer, widths: tuple[int, ...]) -> keras.Model:
    inputs, x = _inputs(recognizer)
    x = layers.Flatten()(x)
    for width in widths:
        x = layers.Dense(width, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(0.3)(x)
    return keras.Model(inputs, _head(x, recognizer, 0.0))


def _cnn(recognizer: Recognizer, blocks: tuple[tuple[int, int], ...]) -> keras.Model:
    inputs, x = _inputs(recognizer)
    for filters, convs in blocks:
        for _ in range(convs):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.SpatialDropout2D(0.1)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _head(x, recognizer, 0.4))


def _transfer(recognizer: Recognizer, app: str, weights: str | None) -> keras.Model:
    """A keras.applications backbone, started from a user-supplied weights file (never a download)."""
    if app not in TRANSFER_APPS:
        raise ValueError(f"unknown transfer backbone {app!r}; known: {', '.join(TRANSFER_APPS)}")
    if weights and not Path(weights).is_file():
        raise FileNotFoundError(f"{weights}: weights file not found")
    size = max(recognizer.size, 75 if app == "inceptionv3" else 32)
    backbone = getattr(keras.applications, TRANSFER_APPS[app])(
        include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
    if weights:
        backbone.load_weights(weights)
    inputs = keras.Input(shape=recognizer.input_shape, name="image")
    x = layers.Resizing(size, size)(inputs) if size != recognizer.size else inputs
    if recognizer.channels == 1:
        x = layers.Concatenate()([x, x, x])
    # Backbones from keras.applications expect inputs scaled to [-1, 1].
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(x)
    return keras.Model(inputs, _head(backbone(x), recognizer, 0.3))


def _from_artifact(recognizer: Recognizer, artifact_dir: str) -> keras.Model:
    """Reuse another of our models' features (all but its classifier) under a new head."""
    from ml.artifact import load_keras  # noqa: PLC0415 - avoids a cycle with artifact -> models

    source = load_keras(artifact_dir)
    if source.input_shape[1:] != recognizer.input_shape:
        raise ValueError(f"{artifact_dir}: input {source.input_shape[1:]} does not fit {recognizer.name}")
    # Branch off below the old head (its dropout and softmax), so no layer name is used twice.
    head = source.layers[-2] if isinstance(source.layers[-2], layers.Dropout) else source.layers[-1]
    features = head.input
    return keras.Model(source.inputs, _head(features, recognizer, 0.3))


def build(name: str, recognizer: Recognizer, weights: str | None = None) -> keras.Model:
    """Build the architecture `name` for `recognizer` (see `describe()` for the names)."""
    if name.startswith("transfer:"):
        model = _transfer(recognizer, name.split(":", 1)[1], weights)
    elif name.startswith("from:"):
        model = _from_artifact(recognizer, name.split(":", 1)[1])
    elif name in ARCHITECTURES:
        kind, settings = ARCHITECTURES[name]
        model = _mlp(recognizer, settings) if kind == "mlp" else _cnn(recognizer, settings)
    else:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(describe())}")
    return model
