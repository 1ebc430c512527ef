"""Temperature scaling: confidences that mean what they say, fitted on the validation split.

softmax(z / T) equals p^(1/T) renormalised, so the temperature applies to the probabilities the LiteRT export
already gives; T > 1 softens over-confident models, T < 1 sharpens under-confident ones (label smoothing
leaves models under-confident). The predicted class never changes, so accuracy does not either.
"""
from __future__ import annotations

import numpy as np

TEMPERATURES = np.geomspace(0.25, 4.0, 161)  # a 1.8% step: finer than the fit can tell apart


def scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities at a temperature (1.0 returns them unchanged)."""
    if temperature == 1.0 or len(probs) == 0:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean -log p(true class)."""
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())


def fit_temperature(labels: np.ndarray, probs: np.ndarray) -> float:
    """The temperature with the lowest validation negative log-likelihood; 1.0 without data."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return 1.0
    losses = [negative_log_likelihood(labels, scale(probs, t)) for t in TEMPERATURES]
    return round(float(TEMPERATURES[int(np.argmin(losses))]), 4)


def calibrate_artifact(artifact_dir, images: np.ndarray, labels: np.ndarray, source: str) -> dict:
    """Fit the temperature of an artifact on held-out prepared images (through the serving path, mirror
    averaging included) and record it, with the validation metrics it gives, in the metadata."""
    from ml import artifact, metrics  # noqa: PLC0415 - serving imports this module
    from ml.evaluate import predict_dataset
    from ml.serving import Classifier

    classifier = Classifier(artifact_dir, threads=None)
    raw = predict_dataset(classifier, images, calibrated=False)
    temperature = fit_temperature(labels, raw)
    calibrated = scale(raw, temperature)
    meta = artifact.read_metadata(artifact_dir)
    meta["calibration"] = {
        "temperature": temperature, "fitted_on": source, "n": int(len(labels)),
        "nll": [round(negative_log_likelihood(labels, p), 4) for p in (raw, calibrated)],
        "ece": [round(metrics.expected_calibration_error(labels, p), 4) for p in (raw, calibrated)]}
    meta.setdefault("metrics", {})["validation"] = metrics.summary(labels, calibrated, classifier.classes)
    artifact.write_metadata(artifact_dir, meta)
    return meta["calibration"]
