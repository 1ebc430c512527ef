"""Faces in a live stream: a whole-frame search now and then, and in between a search only near the last faces.

A whole 640×480 frame costs the Haar cascade several times more than five small windows around known faces,
so a stream searches the whole frame only when it knows no face, or every `full_every` frames to pick up
newcomers. Boxes come out padded like ml.faces.FaceDetector's, so the crops match what the models learned.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from ml.faces import MARGIN

CASCADE = "haarcascade_frontalface_default.xml"
# Whole-frame searches run on a copy this large: faces from about 48 px up in a 640 px frame are found.
FULL_SIDE = 320
MIN_FACE = 24  # px, at the search scale
# A known face is looked for within its last box grown by a quarter of its size on every side (at 10 frames/s,
# two and a half face widths per second), at 0.85 to 1.2 times its last size.
NEAR = 0.25
SIZE_RANGE = (0.85, 1.2)
MIN_NEIGHBORS = 5


class FaceTracker:
    """Finds faces frame after frame, as a `face_detector` for ml.serving.classify; one per stream (not shared)."""

    def __init__(self, full_every: int):
        import cv2  # noqa: PLC0415 - OpenCV is heavy; import when live mode starts

        self._cv2 = cv2
        self._cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if self._cascade.empty():
            raise RuntimeError(f"{CASCADE}: Haar cascade missing (opencv-python-headless<5 ships it)")
        self.full_every = full_every
        self.last_was_full = False
        self._faces: list[tuple[int, int, int, int]] = []  # unpadded cascade boxes of the last frame, frame px
        self._since_full = 0

    def find(self, image: Image.Image) -> list[tuple[int, int, int, int]]:
        """Padded boxes (x, y, w, h) of every face in `image`, left to right."""
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        scale = min(1.0, FULL_SIDE / max(gray.shape))
        self._since_full += 1
        self.last_was_full = not self._faces or self._since_full >= self.full_every
        if self.last_was_full:
            self._since_full = 0
            found = self._search(gray, (0, 0), scale, MIN_FACE, None)
        else:
            found = [box for face in self._faces for box in self._near(gray, face, scale)]
        self._faces = _distinct(found)
        return [_pad(box, gray.shape) for box in sorted(self._faces)]

    def _near(self, gray: np.ndarray, face: tuple[int, int, int, int], scale: float) -> list[tuple[int, int, int, int]]:
        x, y, w, h = face
        left, top = max(0, round(x - NEAR * w)), max(0, round(y - NEAR * h))
        right, bottom = min(gray.shape[1], round(x + w + NEAR * w)), min(gray.shape[0], round(y + h + NEAR * h))
        found = self._search(gray[top:bottom, left:right], (left, top), scale,
                             max(MIN_FACE, w * SIZE_RANGE[0] * scale), w * SIZE_RANGE[1] * scale)
        return sorted(found, key=lambda b: _overlap(b, face), reverse=True)[:1]  # the one that moved least

    def _search(self, gray: np.ndarray, offset: tuple[int, int], scale: float, min_face: float,
                max_face: float | None) -> list[tuple[int, int, int, int]]:
        """Cascade boxes in frame px; `gray` is searched shrunk by `scale`, faces from `min_face` px at that scale."""
        if scale < 1.0:
            height, width = gray.shape
            gray = self._cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))),
                                    interpolation=self._cv2.INTER_AREA)
        smallest = round(min_face)
        if min(gray.shape) < smallest:
            return []
        options = {"minSize": (smallest, smallest)}
        if max_face:
            options["maxSize"] = (round(max_face),) * 2
        found = self._cascade.detectMultiScale(self._cv2.equalizeHist(gray), scaleFactor=1.1,
                                               minNeighbors=MIN_NEIGHBORS, **options)
        dx, dy = offset
        return [(round(x / scale) + dx, round(y / scale) + dy, round(w / scale), round(h / scale))
                for x, y, w, h in (tuple(map(int, b)) for b in found)]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _distinct(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    # Two known faces close together can both find the same face in their windows: keep it once.
    kept: list[tuple[int, int, int, int]] = []
    for box in boxes:
        if all(_overlap(box, other) < 0.3 for other in kept):
            kept.append(box)
    return kept


def _pad(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    # The same margin ml.faces adds: FER-2013 crops show a little forehead and chin beyond the cascade's box.
    x, y, w, h = box
    pad = MARGIN * w
    left, top = max(0.0, x - pad), max(0.0, y - pad)
    right, bottom = min(shape[1], x + w + pad), min(shape[0], y + h + pad)
    return (round(left), round(top), round(right - left), round(bottom - top))
