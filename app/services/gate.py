"""The promotion gate: candidate and champion compared on the same images, paired, with the statistics to say so.

On the base test the candidate must be non-inferior: the lower bound of the paired accuracy difference (one-sided,
at PROMOTION_CONFIDENCE) may lose at most PROMOTION_MARGIN. On the feedback gate slice it must be superior:
McNemar's one-sided mid-p below 1 - PROMOTION_CONFIDENCE. Fewer gate images than RETRAIN_MIN_GATE is not enough
evidence yet, and a candidate whose base-test calibration error grows by more than RETRAIN_MAX_ECE_INCREASE is
not promoted either.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml import metrics, paired


@dataclass(frozen=True)
class Rules:
    """The gate's settings, from the app config."""

    margin: float
    confidence: float
    min_gate: int
    max_ece_increase: float

    @classmethod
    def from_config(cls, config) -> Rules:
        """The rules the app is configured with."""
        return cls(config["PROMOTION_MARGIN"], config["PROMOTION_CONFIDENCE"], config["RETRAIN_MIN_GATE"],
                   config["RETRAIN_MAX_ECE_INCREASE"])


@dataclass(frozen=True)
class Evidence:
    """Both models' probabilities on one set of images, with the true labels."""

    labels: np.ndarray
    champion: np.ndarray
    candidate: np.ndarray

    def compared(self, classes, confidence: float) -> dict:
        """The paired comparison, per class too, and both calibration errors."""
        right = [p.argmax(axis=1) == self.labels if len(p) else np.zeros(0, bool)
                 for p in (self.champion, self.candidate)]
        return {**paired.compare(*right, confidence),
                "per_class": paired.per_class(self.labels, *right, classes, confidence),
                "ece_before": metrics.expected_calibration_error(self.labels, self.champion),
                "ece_after": metrics.expected_calibration_error(self.labels, self.candidate)}


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, the reason shown to admins either way, and the figures behind it."""

    promote: bool
    reason: str
    figures: dict


def points(value: float) -> str:
    """An accuracy difference in points, signed: +1.3 pt."""
    return f"{100 * value:+.1f} pt"


def interval(found: dict) -> str:
    """A difference with its interval, e.g. "+1.3 pt [-0.2, +2.8]"."""
    if not found["n"]:
        return "no images"
    return f"{points(found['difference'])} [{100 * found['low']:+.1f}, {100 * found['high']:+.1f}]"


def decide(base: Evidence, gate_slice: Evidence, classes, rules: Rules) -> Verdict:
    """Judge a candidate on the base test (non-inferiority) and the feedback gate slice (superiority)."""
    figures = {"base_test": base.compared(classes, rules.confidence),
               "gate": gate_slice.compared(classes, rules.confidence),
               "rules": {"margin": rules.margin, "confidence": rules.confidence, "min_gate": rules.min_gate,
                         "max_ece_increase": rules.max_ece_increase}}
    b, g = figures["base_test"], figures["gate"]
    level = f"{rules.confidence:.0%}"
    summary = (f"base test {interval(b)} (n={b['n']}), gate slice {interval(g)} (n={g['n']}), "
               f"base-test ECE {b['ece_before']:.3f} → {b['ece_after']:.3f}")
    if g["n"] < rules.min_gate:
        return Verdict(False, f"not enough evidence yet: {g['n']} feedback images in the gate slice, "
                              f"{rules.min_gate} needed; " + summary, {**figures, "decision": "not enough evidence"})
    if not b["n"] or b["low"] < -rules.margin - 1e-12:
        return Verdict(False, f"may lose more than {rules.margin:.1%} on the base test (at {level} confidence "
                              f"the loss can reach {-100 * (b['low'] or 0):.1f} pt); " + summary,
                       {**figures, "decision": "forgets"})
    if b["ece_after"] - b["ece_before"] > rules.max_ece_increase + 1e-12:
        return Verdict(False, f"calibration worse: base-test ECE grows by {b['ece_after'] - b['ece_before']:.3f}, "
                              f"more than the allowed {rules.max_ece_increase:.3f}; " + summary,
                       {**figures, "decision": "miscalibrated"})
    if g["p_better"] >= 1 - rules.confidence:
        return Verdict(False, f"no significant gain on the gate slice (McNemar p={g['p_better']:.2f}, "
                              f"{g['c']} now right against {g['b']} now wrong); " + summary,
                       {**figures, "decision": "no gain"})
    return Verdict(True, f"better on the gate slice (McNemar p={g['p_better']:.3f}) and within "
                         f"{rules.margin:.1%} of the champion on the base test at {level} confidence; " + summary,
                   {**figures, "decision": "promoted"})
