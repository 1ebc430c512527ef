"""The promotion gate: a candidate replaces the champion only on evidence from the same fixed evaluation set."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, and the reason shown to admins either way."""

    promote: bool
    reason: str


def decide(champion: dict, candidate: dict, margin: float) -> Verdict:
    """Promote when the candidate loses at most `margin` accuracy on the base test and gains on held-out feedback.

    Both dicts hold metric summaries under "base_test" and "feedback", measured on the same images.
    """
    base_before, base_after = champion["base_test"]["accuracy"], candidate["base_test"]["accuracy"]
    fb_before, fb_after = champion["feedback"]["accuracy"], candidate["feedback"]["accuracy"]
    n_feedback = candidate["feedback"]["n"]
    figures = (f"base test {base_before:.1%} → {base_after:.1%}, "
               f"held-out feedback {fb_before:.1%} → {fb_after:.1%} (n={n_feedback})")
    if n_feedback == 0:
        return Verdict(False, "no held-out feedback examples yet, so no gain can be shown; " + figures)
    loss = base_before - base_after
    if loss > margin + 1e-9:
        return Verdict(False, f"loses {loss:.1%} on the base test, more than the allowed {margin:.1%}; " + figures)
    if fb_after <= fb_before:
        return Verdict(False, "no gain on the held-out feedback; " + figures)
    return Verdict(True, f"gains {fb_after - fb_before:.1%} on held-out feedback within the allowed "
                         f"{margin:.1%} base-test loss; " + figures)
