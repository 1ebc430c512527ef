"""Face detection with OpenCV's Haar cascade (shipped inside opencv-python-headless, so it runs offline)."""
from __future__ import annotations

import functools
import threading

import numpy as np
from PIL import Image

# Images this small are already face crops (FER-2013 is 48×48): classify them whole.
CROP_MAX_SIDE = 128
# Detection runs on a copy at most this large: Haar time grows with pixels. At 320 px a 640×480 photo costs a
# quarter of the full-size search, and faces down to 24/320 = 7.5% of the long side are found (a headshot's
# face is 30-60%); group photos with smaller faces need a larger side (the app's FACE_DETECT_SIDE).
DETECT_MAX_SIDE = 320
# FER-2013 crops show a little forehead and chin beyond the cascade's tight box.
MARGIN = 0.1
# Chosen with scripts/bench_faces.py (FER-2013 faces pasted into street photos): at 320 px, scale step 1.15 and
# 4 neighbours, alt2 finds more faces than the default cascade at step 1.1 (recall 0.58 against 0.55), with
# 3 false alarms against 8, for 37% less CPU.
CASCADE = "haarcascade_frontalface_alt2.xml"
SCALE_STEP = 1.15
NEIGHBOURS = 4
MIN_SIZE = 24  # px at the search scale: alt2's 20 px window, one step up
_import_lock = threading.Lock()


def opencv():
    """OpenCV, imported under a lock: threads importing cv2 at once can get it half-made (no `cv2.data`)."""
    with _import_lock:
        import cv2  # noqa: PLC0415 - OpenCV is heavy; import on first use

    return cv2


def haar_cascade(name: str = CASCADE):
    """A new frontal-face Haar cascade from the copies that opencv-python-headless ships."""
    cv2 = opencv()
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():
        raise RuntimeError(f"{name}: Haar cascade missing (opencv-python-headless<5 ships it)")
    return cascade


Box = tuple[int, int, int, int]


def search(cascade, gray: np.ndarray, scale: float = 1.0, min_size: float = MIN_SIZE, max_size: float | None = None,
           scale_factor: float = SCALE_STEP, min_neighbors: int = NEIGHBOURS) -> list[Box]:
    """Unpadded cascade boxes (x, y, w, h) in `gray`'s pixels, searched on a copy shrunk by `scale`, for faces
    from `min_size` up to `max_size` px at that scale. One search for photos and live streams alike."""
    cv2 = opencv()
    if scale < 1.0:
        height, width = gray.shape
        # Area averaging: a whole-factor shrink (640 -> 320) costs ~0.01 ms and keeps the edges Haar looks at.
        gray = cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
    smallest = round(min_size)
    if min(gray.shape) < smallest:
        return []
    sizes = {"minSize": (smallest, smallest)}
    if max_size:
        sizes["maxSize"] = (round(max_size),) * 2
    found = cascade.detectMultiScale(cv2.equalizeHist(gray), scaleFactor=scale_factor, minNeighbors=min_neighbors,
                                     **sizes)
    return [(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            for x, y, w, h in (tuple(map(int, b)) for b in found)]


def padded(box: Box, width: int, height: int) -> Box:
    """A cascade box grown by MARGIN on every side and clipped to the width×height image it was found in."""
    x, y, w, h = box
    pad = MARGIN * w
    left, top = max(0.0, x - pad), max(0.0, y - pad)
    right, bottom = min(width, x + w + pad), min(height, y + h + pad)
    return round(left), round(top), round(right - left), round(bottom - top)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


class FaceDetector:
    """Finds faces in a PIL image and returns boxes (x, y, w, h) in the image's own pixels."""

    def __init__(self, max_side: int = DETECT_MAX_SIDE, scale_factor: float = SCALE_STEP,
                 min_neighbors: int = NEIGHBOURS, cascade: str = CASCADE):
        self._cascade = haar_cascade(cascade)
        # A cascade keeps per-search buffers, so two threads must not search with it at once; one cascade per
        # thread would cost ~5 MB each, and OpenCV already spreads one search over the cores.
        self._lock = threading.Lock()
        self.max_side, self.scale_factor, self.min_neighbors = max_side, scale_factor, min_neighbors

    def find(self, image: Image.Image) -> list[Box]:
        """Boxes of every face, left to right; the whole image when it is already a small crop."""
        width, height = image.size
        if max(width, height) <= CROP_MAX_SIDE:
            return [(0, 0, width, height)]
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        with self._lock:
            found = search(self._cascade, gray, min(1.0, self.max_side / max(width, height)),
                           scale_factor=self.scale_factor, min_neighbors=self.min_neighbors)
        return [padded(box, width, height) for box in sorted(found)]


@functools.lru_cache(maxsize=4)
def default_detector(max_side: int = DETECT_MAX_SIDE) -> FaceDetector:
    """One detector per process and detection size, made on first use (after any fork)."""
    return FaceDetector(max_side)
