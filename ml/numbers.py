"""Reading house numbers: a small fully convolutional detector finds every digit in a photo, the digit classifier
reads each one, and the digits spell the number (left to right, the top line first).

The detector is CenterNet-like: on a grid of stride 4 it predicts how likely a digit's centre lies in each cell,
the digit's size and the centre's offset within the cell. It sees the photo on a fixed canvas (`place`), and a
large photo a second time, twice as large or more, on a canvas of twice the side, so that the small digits of a
large photo are seen at the sizes it was trained on. A landscape or portrait photo goes on a 4:3 or 3:4 canvas
of the same side (`canvas_for`): a quarter fewer pixels to run than the square. Serving imports no TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ml.data.svhn_boxes import crop_digit
from ml.preprocess import prepare, to_mode

CANVAS = 320  # px: the detector's input is CANVAS×CANVAS RGB (trained so), or 4:3 / 3:4 of that side
STRIDE = 4
# A photo is scaled so its long side is LONG_SIDE, but small photos are enlarged only until their short side is
# SHORT_SIDE: SVHN photos' digits then stand 20-125 px tall, the range the detector is trained on.
LONG_SIDE = 320
SHORT_SIDE = 128
CROP_MAX_SIDE = 40  # px: an image this small is one digit's crop already (SVHN's crops are 32×32)
# The second look: the photo with its long side FINE_CANVAS (never past its own pixels) on a FINE_CANVAS canvas,
# taken when it shows the digits at least FINE_GAIN times as large as the first look.
FINE_CANVAS = 640
FINE_GAIN = 1.5
FINE_LITE_FILE = "model_fine.tflite"  # the detector's LiteRT file at the FINE_CANVAS input size
SHORT_CANVAS = 3 / 4  # the short side of a landscape or portrait canvas, as a share of its long side
SCORE_THRESHOLD = 0.35  # least centre score of a digit; both thresholds chosen with scripts/bench_numbers.py
NUMBER_THRESHOLD = 0.45  # a photo holds a number only when one of its digits scores this much
SINGLE_THRESHOLD = 0.55  # and a number of one digit only when that digit scores this much
NMS_IOU = 0.4
# Digits of one number have heights within HEIGHT_RATIO of each other and stand side by side at most GAP_HEIGHTS
# heights apart, or on lines stacked at most LINE_GAP_HEIGHTS apart; other digits in the photo (a street sign, a
# phone number, a second copy of the number) are not part of it.
HEIGHT_RATIO = 1.5
GAP_HEIGHTS = 2.0
LINE_GAP_HEIGHTS = 1.0
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Digit:
    """One digit: its box (x, y, w, h) in the photo's pixels, label, the classifier's confidence, the detector's
    score (None for a crop classified whole or a box a user drew)."""

    box: Box
    label: str
    confidence: float
    score: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict, compare=False)
    crop: np.ndarray | None = field(default=None, compare=False, repr=False)  # what the classifier saw


@dataclass(frozen=True)
class Reading:
    """A photo's number: its digits in reading order, the number they spell and one confidence for it all."""

    digits: list[Digit]

    @property
    def number(self) -> str:
        """The digits' labels in reading order ('' when no digit was found)."""
        return "".join(d.label for d in self.digits)

    @property
    def confidence(self) -> float:
        """How likely the whole number is right: the product of its digits' confidences (0 for no digit)."""
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0


def detector_scale(width: int, height: int) -> float:
    """The factor a photo is resized by before the detector sees it (see LONG_SIDE and SHORT_SIDE)."""
    return min(LONG_SIDE / max(width, height), max(1.0, SHORT_SIDE / min(width, height)))


def fine_scale(width: int, height: int) -> float | None:
    """The factor a photo is resized by for the detector's second look, or None when it needs none."""
    scale = min(1.0, FINE_CANVAS / max(width, height))
    return scale if scale >= FINE_GAIN * detector_scale(width, height) else None


def canvases(side: int) -> list[tuple[int, int]]:
    """The canvases (width, height) of one side: square, landscape and portrait."""
    short = round(side * SHORT_CANVAS)
    return [(side, side), (side, short), (short, side)]


def canvas_for(image: Image.Image, scale: float, side: int = CANVAS) -> tuple[int, int]:
    """The smallest of `canvases(side)` that holds the photo resized by `scale`."""
    width, height = round(image.width * scale), round(image.height * scale)
    return min((c for c in canvases(side) if width <= c[0] and height <= c[1]),
               key=lambda c: c[0] * c[1], default=(side, side))


def lite_file(canvas: tuple[int, int]) -> str:
    """The detector's LiteRT file for one canvas (width, height)."""
    named = {(CANVAS, CANVAS): "model.tflite", (FINE_CANVAS, FINE_CANVAS): FINE_LITE_FILE}
    return named.get(canvas, f"model_{canvas[0]}x{canvas[1]}.tflite")


def place(image: Image.Image, scale: float, canvas: tuple[int, int] = (CANVAS, CANVAS)) -> np.ndarray:
    """The photo resized by `scale` on a canvas of (width, height), top left, the rest its mean colour."""
    rgb = to_mode(image, "RGB")
    size = (max(1, min(canvas[0], round(rgb.width * scale))), max(1, min(canvas[1], round(rgb.height * scale))))
    resized = np.asarray(rgb.resize(size, Image.BILINEAR), np.uint8)
    out = np.empty((canvas[1], canvas[0], 3), np.uint8)
    out[:] = resized.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    out[:size[1], :size[0]] = resized
    return out


def decode(output: np.ndarray, threshold: float = SCORE_THRESHOLD) -> list[tuple[tuple[float, ...], float]]:
    """Boxes (x, y, w, h) on the canvas with their scores from one detector output (G×G×5: centre logit, log
    width, log height, x and y offset): local maxima of the centre score, then overlapping boxes merged."""
    score = 1 / (1 + np.exp(-output[..., 0]))
    padded = np.pad(score, 1, constant_values=0)
    peaks = np.ones_like(score, bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dy, dx) != (1, 1):
                peaks &= score >= padded[dy:dy + score.shape[0], dx:dx + score.shape[1]]
    rows, cols = np.nonzero(peaks & (score >= threshold))
    order = np.argsort(-score[rows, cols])
    found = []
    for r, c in zip(rows[order], cols[order]):
        w, h = np.exp(output[r, c, 1:3])
        cx, cy = (c + output[r, c, 3]) * STRIDE, (r + output[r, c, 4]) * STRIDE
        found.append(((cx - w / 2, cy - h / 2, w, h), float(score[r, c])))
    return suppress(found)


def suppress(found: list[tuple[tuple[float, ...], float]]) -> list[tuple[tuple[float, ...], float]]:
    """Best-scored first, drop a box that overlaps a kept one by more than NMS_IOU."""
    from ml.faces import iou  # noqa: PLC0415 - faces imports OpenCV only when used

    kept: list[tuple[tuple[float, ...], float]] = []
    for box, score in sorted(found, key=lambda item: -item[1]):
        if all(iou(box, other) <= NMS_IOU for other, _ in kept):
            kept.append((box, score))
    return kept


def same_number(a: Box, b: Box) -> bool:
    """Whether two digits' boxes can belong to one number: similar heights, and side by side on a line or on
    lines stacked close together."""
    (x1, y1, w1, h1), (x2, y2, w2, h2) = a, b
    if max(h1, h2) > HEIGHT_RATIO * max(1, min(h1, h2)):
        return False
    height = (h1 + h2) / 2
    beside = min(y1 + h1, y2 + h2) - max(y1, y2) >= 0.5 * min(h1, h2)
    if beside:
        return max(x1, x2) - min(x1 + w1, x2 + w2) <= GAP_HEIGHTS * height
    overlap = min(x1 + w1, x2 + w2) - max(x1, x2)
    return overlap > -0.5 * height and max(y1, y2) - min(y1 + h1, y2 + h2) <= LINE_GAP_HEIGHTS * height


def number_digits(found: list[tuple[Box, float]], least: float = NUMBER_THRESHOLD,
                  alone: float = SINGLE_THRESHOLD) -> list[int]:
    """Indices of the digits that spell the photo's number: the best-scored digit and every digit linked to it
    by `same_number`, step by step; none when that best digit scores below `least`, or below `alone` when it
    is the number's only digit."""
    if not found or max(score for _, score in found) < least:
        return []
    best = max(range(len(found)), key=lambda i: found[i][1])
    number, frontier = {best}, [best]
    while frontier:
        i = frontier.pop()
        for j in range(len(found)):
            if j not in number and same_number(found[i][0], found[j][0]):
                number.add(j)
                frontier.append(j)
    return sorted(number) if len(number) > 1 or found[best][1] >= alone else []


def reading_order(boxes: list[Box]) -> list[int]:
    """Indices of `boxes` in reading order: lines top to bottom (boxes overlapping by half the smaller height
    share a line), each left to right."""
    lines: list[list[int]] = []
    for i in sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2):
        x, y, w, h = boxes[i]
        for line in lines:
            top = np.mean([boxes[j][1] for j in line])
            height = np.mean([boxes[j][3] for j in line])
            if min(y + h, top + height) - max(y, top) >= 0.5 * min(h, height):
                line.append(i)
                break
        else:
            lines.append([i])
    return [i for line in lines for i in sorted(line, key=lambda i: boxes[i][0])]


class NumberReader:
    """The digit detector (LiteRT) and the digit classifier together: `read(photo)` gives its Reading."""

    def __init__(self, detector_dir: str | Path, classifier, threshold: float | None = None,
                 number_threshold: float | None = None, single_threshold: float | None = None,
                 threads: int | None = 1, second_look: bool = True):
        from ml import artifact  # noqa: PLC0415
        from ml.lite import LiteModel  # noqa: PLC0415

        self.path = Path(detector_dir)
        self.metadata = artifact.read_metadata(self.path)
        self.classifier = classifier
        self.threshold = threshold if threshold is not None else float(
            self.metadata.get("score_threshold", SCORE_THRESHOLD))
        self.number_threshold = number_threshold if number_threshold is not None else float(
            self.metadata.get("number_threshold", NUMBER_THRESHOLD))
        self.single_threshold = single_threshold if single_threshold is not None else float(
            self.metadata.get("single_threshold", SINGLE_THRESHOLD))
        self._models = {canvas: LiteModel(self.path / lite_file(canvas), threads)
                        for side in (CANVAS, FINE_CANVAS) if side == CANVAS or second_look
                        for canvas in canvases(side)
                        if canvas == (CANVAS, CANVAS) or (self.path / lite_file(canvas)).is_file()}

    def look(self, image: Image.Image, scale: float, side: int = CANVAS) -> np.ndarray:
        """The detector's output for the photo resized by `scale` on its canvas of `side` (square if no other)."""
        canvas = canvas_for(image, scale, side)
        if canvas not in self._models:
            canvas = (side, side)
        return self._models[canvas].run(place(image, scale, canvas)[None])[0]

    def find(self, image: Image.Image) -> list[tuple[Box, float]]:
        """Every digit's box in the photo's pixels with its detector score, best first, from both looks."""
        scale = detector_scale(image.width, image.height)
        looks = [(self.look(image, scale), scale)]
        fine = fine_scale(image.width, image.height) if (FINE_CANVAS, FINE_CANVAS) in self._models else None
        if fine:
            looks.append((self.look(image, fine, FINE_CANVAS), fine))
        found = [(tuple(v / scale for v in box), score)
                 for output, scale in looks for box, score in decode(output, self.threshold)]
        boxes = []
        for (x, y, w, h), score in suppress(found):
            left, top = max(0, round(x)), max(0, round(y))
            right, bottom = min(image.width, round(x + w)), min(image.height, round(y + h))
            if right > left and bottom > top:
                boxes.append(((left, top, right - left, bottom - top), score))
        return boxes

    def read(self, image: Image.Image) -> Reading:
        """The number in a photo (its digits of `number_digits`); a small image is one digit's crop, read whole."""
        if max(image.size) <= CROP_MAX_SIDE:
            return Reading(self.classify(image, [((0, 0, image.width, image.height), None)], whole=True))
        found = self.find(image)
        found = [found[i] for i in number_digits(found, self.number_threshold, self.single_threshold)]
        order = reading_order([box for box, _ in found])
        return Reading(self.classify(image, [found[i] for i in order]))

    def classify(self, image: Image.Image, boxes: list[tuple[Box, float | None]], whole: bool = False) -> list[Digit]:
        """Read each box (the SVHN format-2 crop: square on its centre, edge padded, 32×32) in one batch."""
        recognizer = self.classifier.recognizer
        pixels = None if whole else np.asarray(to_mode(image, "RGB"))  # converted once for every box
        crops = [prepare(image if whole else crop_digit(pixels, *box), recognizer) for box, _ in boxes]
        if not crops:
            return []
        probs = self.classifier.predict(np.stack(crops))
        classes = self.classifier.classes
        return [Digit(tuple(int(v) for v in box), classes[int(p.argmax())], float(p.max()), score,
                      {c: float(v) for c, v in zip(classes, p)}, crop)
                for (box, score), p, crop in zip(boxes, probs, crops)]
