"""Face detection with an OpenCV LBP cascade (shipped in ml/cascades, so it runs offline)."""
from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np
from PIL import Image

# Images this small are already face crops (FER-2013 is 48×48): classify them whole.
CROP_MAX_SIDE = 128
# Detection runs on a copy at most this large: cascade time grows with pixels. At 320 px a 640×480 photo costs a
# quarter of the full-size search, and faces down to 24/320 = 7.5% of the long side are found (a headshot's
# face is 30-60%); group photos with smaller faces need a larger side (the app's FACE_DETECT_SIDE).
DETECT_MAX_SIDE = 320
# FER-2013 crops show a little forehead and chin beyond the cascade's tight box.
MARGIN = 0.1
# A fast cascade finds faces and a precise one confirms each, looking only around it. Chosen with
# scripts/bench_faces.py (FER-2013 faces pasted into street photos): OpenCV's LBP frontal-face cascade searches
# in a quarter to a half of the CPU of the Haar alt2 cascade (by machine) for nearly as many faces, with more
# false alarms; alt2 confirming its finds removes them for ~1 ms a face (a Haar search costs ~0.2 ms per scale
# however small its image, so the check looks at few scales). As the checker rejects what is not a face, the
# finder can be loose and coarse: minNeighbors 1 on scales 20% apart. Most of the false alarms left were a
# second box on a face that was already found, which `distinct` drops. On three sets of 300 photos, against 2
# neighbours on 15% steps without it: recall 0.558/0.567/0.565 -> 0.569/0.590/0.565, false alarms 4/3/5 ->
# 5/4/1, 17% less CPU, 20% on the headshot. (15% steps would find 0.599/0.610/0.615 for 24% more CPU.)
CASCADE = Path(__file__).resolve().parent / "cascades" / "lbpcascade_frontalface.xml"
SCALE_STEP = 1.2
NEIGHBOURS = 1
MIN_SIZE = 24  # px at the search scale: the LBP cascade's window
CHECK_CASCADE = "haarcascade_frontalface_alt2.xml"
# The checker looks within the box grown by CHECK_GROW of its size on every side, for faces CHECK_SIZES times
# its size in steps of CHECK_STEP, on a copy shrunk until the box is about CHECK_FACE px.
CHECK_GROW = 0.25
CHECK_SIZES = (0.6, 1.3)
CHECK_STEP = 1.2
CHECK_FACE = 48
CHECK_NEIGHBOURS = 2
_import_lock = threading.Lock()


def opencv():
    """OpenCV, imported under a lock: threads importing cv2 at once can get it half-made (no `cv2.data`)."""
    with _import_lock:
        import cv2  # noqa: PLC0415 - OpenCV is heavy; import on first use

    return cv2


def face_cascade(source: str | Path = CASCADE):
    """A new cascade from a file, or by name from the Haar cascades that opencv-python-headless ships."""
    cv2 = opencv()
    path = Path(source) if Path(source).is_file() else Path(cv2.data.haarcascades) / source
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{source}: no face cascade there (opencv-python-headless<5 ships the Haar ones)")
    return cascade


Box = tuple[int, int, int, int]


def cascade_pair(cascade: str | Path = CASCADE, check: str | Path | None = CHECK_CASCADE) -> tuple:
    """A new finder cascade and the cascade that confirms its finds (None: no check), for `find_faces`."""
    return face_cascade(cascade), face_cascade(check) if check else None


def search(cascade, gray: np.ndarray, scale: float = 1.0, min_size: float = MIN_SIZE, max_size: float | None = None,
           scale_factor: float = SCALE_STEP, min_neighbors: int = NEIGHBOURS) -> list[Box]:
    """Unpadded cascade boxes (x, y, w, h) in `gray`'s pixels, searched on a copy shrunk by `scale`, for faces
    from `min_size` up to `max_size` px at that scale. One search for photos and live streams alike."""
    cv2 = opencv()
    if scale < 1.0:
        height, width = gray.shape
        # Area averaging: a whole-factor shrink (640 -> 320) costs ~0.01 ms and keeps the edges the cascade looks at.
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


def confirmed(checker, gray: np.ndarray, box: Box, neighbours: int = CHECK_NEIGHBOURS) -> bool:
    """Whether the `checker` cascade also sees a face around `box` (unpadded, in `gray`'s pixels)."""
    x, y, w, h = box
    grow = CHECK_GROW * w
    left, top = max(0, round(x - grow)), max(0, round(y - grow))
    window = gray[top:round(y + h + grow), left:round(x + w + grow)]
    scale = min(1.0, CHECK_FACE / w)
    return bool(search(checker, window, scale, max(MIN_SIZE, CHECK_SIZES[0] * w * scale), CHECK_SIZES[1] * w * scale,
                       CHECK_STEP, neighbours))


def find_faces(finder, checker, gray: np.ndarray, scale: float = 1.0, check_neighbours: int = CHECK_NEIGHBOURS,
               **options) -> list[Box]:
    """The distinct boxes `search(finder, ...)` returns that the checker cascade confirms (all without one)."""
    found = sorted(search(finder, gray, scale, **options), key=lambda box: box[2], reverse=True)
    confirmed_boxes = found if checker is None else [box for box in found
                                                     if confirmed(checker, gray, box, check_neighbours)]
    return distinct(confirmed_boxes)


def distinct(boxes: list[Box]) -> list[Box]:
    """One box per face, the first: `boxes` without any that shares more than half of the smaller one's area
    with a box kept before it."""
    kept: list[Box] = []
    for box in boxes:
        if all(overlap(box, other) <= 0.5 * min(box[2] * box[3], other[2] * other[3]) for other in kept):
            kept.append(box)
    return kept


def padded(box: Box, width: int, height: int) -> Box:
    """A cascade box grown by MARGIN on every side and clipped to the width×height image it was found in."""
    x, y, w, h = box
    pad = MARGIN * w
    left, top = max(0.0, x - pad), max(0.0, y - pad)
    right, bottom = min(width, x + w + pad), min(height, y + h + pad)
    return round(left), round(top), round(right - left), round(bottom - top)


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The area two (x, y, w, h) boxes share."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = overlap(a, b)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


class FaceDetector:
    """Finds faces in a PIL image and returns boxes (x, y, w, h) in the image's own pixels."""

    def __init__(self, max_side: int = DETECT_MAX_SIDE, scale_factor: float = SCALE_STEP,
                 min_neighbors: int = NEIGHBOURS, cascade: str | Path = CASCADE,
                 check: str | Path | None = CHECK_CASCADE, check_neighbours: int = CHECK_NEIGHBOURS):
        self._cascade, self._checker = cascade_pair(cascade, check)
        # A cascade keeps per-search buffers, so two threads must not search with it at once; one pair per
        # thread would cost ~5 MB each, and OpenCV already spreads one search over the cores.
        self._lock = threading.Lock()
        self.max_side, self.scale_factor, self.min_neighbors = max_side, scale_factor, min_neighbors
        self.check_neighbours = check_neighbours

    def find(self, image: Image.Image) -> list[Box]:
        """Boxes of every face, left to right; the whole image when it is already a small crop."""
        width, height = image.size
        if max(width, height) <= CROP_MAX_SIDE:
            return [(0, 0, width, height)]
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        with self._lock:
            found = find_faces(self._cascade, self._checker, gray, min(1.0, self.max_side / max(width, height)),
                               self.check_neighbours, scale_factor=self.scale_factor,
                               min_neighbors=self.min_neighbors)
        return [padded(box, width, height) for box in sorted(found)]


@functools.lru_cache(maxsize=4)
def default_detector(max_side: int = DETECT_MAX_SIDE) -> FaceDetector:
    """One detector per process and detection size, made on first use (after any fork)."""
    return FaceDetector(max_side)
