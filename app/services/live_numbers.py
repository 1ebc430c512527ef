"""House numbers in live mode: the number most of the last few frames read, so the display does not flicker."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FrameReading:
    """What the number reader read on one frame: '' when it found no number."""

    frame: int
    number: str
    confidence: float


@dataclass(frozen=True)
class Steady:
    """The reading most recent frames agree on: `agree` of the last `of` frames read `number` ('' for none)."""

    number: str
    confidence: float  # the mean of the agreeing frames' confidences (0 for no number)
    agree: int
    of: int
    frame: int | None  # the newest frame that read it, the one kept when the number is sent to review

    def as_dict(self) -> dict:
        """The JSON shape sent to the browser."""
        return {"number": self.number, "confidence": round(self.confidence, 4), "agree": self.agree, "of": self.of,
                "frame": self.frame}


def steady(readings: Sequence[FrameReading], previous: str = "") -> Steady:
    """The number most of `readings` (oldest first) read, frames without a number voting for none; a tie keeps
    `previous` (what is shown now) when it is among the tied, else goes to the one read most recently."""
    if not readings:
        return Steady("", 0.0, 0, 0, None)
    votes = Counter(r.number for r in readings)
    most = max(votes.values())
    tied = {number for number, n in votes.items() if n == most}
    number = previous if previous in tied else next(r.number for r in reversed(readings) if r.number in tied)
    agreeing = [r for r in readings if r.number == number]
    confidence = sum(r.confidence for r in agreeing) / len(agreeing) if number else 0.0
    return Steady(number, confidence, len(agreeing), len(readings), agreeing[-1].frame if number else None)
