"""An ensemble of trained artifacts as one model: the mean of its members' probabilities, served like any model.

The members must share their validation split (train them with one `--split-seed`), so the ensemble is validated
and calibrated on images none of them trained on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ml import artifact, calibration, data, recognizers
from ml.train import held_out_rows, image_ids


def average(members: list, name: str = "ensemble"):
    """One Keras model giving the mean of the members' outputs for one input."""
    import keras  # noqa: PLC0415

    inputs = keras.Input(shape=members[0].input_shape[1:], name="image")
    renamed = [keras.Model(m.inputs, m.outputs[0], name=f"member_{i}") for i, m in enumerate(members)]
    return keras.Model(inputs, keras.layers.Average(name="mean")([m(inputs) for m in renamed]), name=name)


def make_ensemble(member_dirs: list[str | Path], sources: list[str], out_dir: str | Path, split: str = "train",
                  command: str = "") -> Path:
    """Write an artifact averaging the member artifacts of one recognizer, its temperature fitted on their shared
    validation images of `sources` [split]."""
    if len(member_dirs) < 2:
        raise ValueError("an ensemble needs at least two members")
    metas = [artifact.read_metadata(d) for d in member_dirs]
    if len({(m["recognizer"], tuple(m["classes"])) for m in metas}) != 1:
        raise ValueError("ensemble members must be models of one recognizer with the same classes")
    held = [artifact.validation_ids(d) for d in member_dirs]
    if held[0] is None or any(h != held[0] for h in held):
        raise ValueError("ensemble members must share one validation split (train them with one --split-seed)")
    recognizer = recognizers.get(metas[0]["recognizer"])
    dataset = data.load_many(sources, recognizer, split)
    rows = np.flatnonzero(held_out_rows(image_ids(dataset.images), held[0]))
    if not len(rows):
        raise ValueError(f"none of the members' validation images are in {dataset.source} [{split}]")
    model = average([artifact.load_keras(d) for d in member_dirs])
    out = Path(out_dir)
    artifact.save(model, recognizer, out, architecture="ensemble of " + " + ".join(m["architecture"] for m in metas),
                  training={"members": [{"artifact": str(d), "version": artifact.version(d), "command": m.get("command"),
                                         "validation_accuracy": ((m.get("metrics") or {}).get("validation") or {})
                                         .get("accuracy")} for d, m in zip(member_dirs, metas)]},
                  dataset={**dataset.manifest(), "val_rows": int(len(rows))}, metrics={"validation": None},
                  command=command)
    artifact.write_validation_ids(out, held[0])
    calibration.calibrate_artifact(out, dataset.images[rows], dataset.labels[rows],
                                   f"the members' validation images of {dataset.source} [{split}]")
    return out
