"""The registry of recognizers: what each one classifies and what input it expects."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Recognizer:
    """One recognition task: its classes, input size, colour mode and whether faces come first."""

    name: str
    classes: tuple[str, ...]
    size: int
    mode: str  # PIL mode: "L" (grayscale) or "RGB"
    faces: bool
    flip: bool  # whether a horizontal flip keeps the label (faces yes, digits never)
    title: str

    @property
    def channels(self) -> int:
        return 1 if self.mode == "L" else 3

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, self.channels)

    @property
    def thing(self) -> str:
        """What each of its boxes holds, in words: "face", or "digit" for the number reader's boxes."""
        return "face" if self.faces else "digit"

    @property
    def rejected_folder(self) -> str:
        """The class folder of boxes people marked as holding no such thing: data for the detector, never a class."""
        return f"_not_a_{self.thing}"

    @property
    def shipped_dir(self) -> Path:
        """Where the committed baseline artifact of this recognizer lives."""
        return SHIPPED_DIR / self.name


EMOTION7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

RECOGNIZERS: dict[str, Recognizer] = {
    r.name: r
    for r in (
        Recognizer("emotion7", EMOTION7, 48, "L", True, True, "Facial expression (7 classes)"),
        Recognizer("emotion4", ("happy", "neutral", "sad", "surprise"), 48, "L", True, True,
                   "Facial expression (4 classes)"),
        Recognizer("digits", tuple("0123456789"), 32, "RGB", False, False, "House-number digit"),
    )
}


def get(name: str) -> Recognizer:
    """Return the recognizer called `name`, or raise a KeyError that lists the known ones."""
    try:
        return RECOGNIZERS[name]
    except KeyError:
        raise KeyError(f"unknown recognizer {name!r}; known: {', '.join(RECOGNIZERS)}") from None
