"""Faces in a live stream: found once over the whole frame, then looked for only near where they just were.

A whole 640×480 frame costs the face cascade several times more than five small windows around known faces.
So a stream searches the whole frame on the reply's path only while it knows no face; after that, whole-frame
searches that pick up newcomers (every `full_every` frames, or as soon as a face is lost) run on a background
thread, one per process, and their finds join the next frame's search. Boxes come out padded like
ml.faces.FaceDetector's, so the crops match what the models learned.
"""
from __future__ import annotations

import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PIL import Image

from ml.faces import MIN_SIZE, Box, cascade_pair, distinct, find_faces, iou, padded, search

# Whole frames are searched at most this large: faces from 32 px up in a 640 px frame, for 40% less CPU than at
# full size (smaller faces hold too few pixels for an expression anyway).
FULL_SIDE = 480
NEAR_FACE = 64  # px: a window around a known face is shrunk until the face is about this large
# A known face is looked for within its last box grown by a quarter of its size on every side (at 10 frames/s,
# two and a half face widths per second), at 0.85 to 1.2 times its last size.
NEAR = 0.25
SIZE_RANGE = (0.85, 1.2)
# No checker confirms a near find, so the finder stays as firm as it was before the photo search loosened it,
# and that narrow size range holds at most two of the photo search's 20% steps: finer ones keep every face.
NEAR_STEP = 1.1
NEAR_NEIGHBOURS = 4

_worker = threading.local()


class FaceTracker:
    """Finds faces frame after frame, as a `face_detector` for ml.serving.classify; one per stream (not shared)."""

    def __init__(self, full_every: int):
        # This stream's own: a cascade must not run on two threads at once.
        self._cascade, self._checker = cascade_pair()
        self.full_every = full_every
        self.searched_whole = False  # whether the last frame waited for a whole-frame search
        self._faces: list[Box] = []  # unpadded cascade boxes of the last frame, frame px
        self._since_full = 0
        self._pending: Future | None = None

    def find(self, image: Image.Image) -> list[Box]:
        """Padded boxes (x, y, w, h) of every face in `image`, left to right."""
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        scale = min(1.0, FULL_SIDE / max(gray.shape))
        self._since_full += 1
        self._take_background_finds()
        self.searched_whole = not self._faces
        if self.searched_whole:
            found = find_faces(self._cascade, self._checker, gray, scale)
            self._since_full = 0
        else:
            found = [box for face in self._faces for box in self._near(gray, face)]
            if len(found) < len(self._faces) or self._since_full >= self.full_every:
                self._search_in_background(gray, scale)
        self._faces = distinct(found)  # two known faces close together can both find the same face
        return [padded(box, gray.shape[1], gray.shape[0]) for box in sorted(self._faces)]

    def settle(self, timeout: float | None = None) -> None:
        """Wait for a background search in progress (tests use it to make the next frame deterministic)."""
        if self._pending is not None:
            self._pending.exception(timeout)

    def _near(self, gray: np.ndarray, face: Box) -> list[Box]:
        x, y, w, h = face
        left, top = max(0, round(x - NEAR * w)), max(0, round(y - NEAR * h))
        right, bottom = min(gray.shape[1], round(x + w + NEAR * w)), min(gray.shape[0], round(y + h + NEAR * h))
        scale = min(1.0, NEAR_FACE / w)  # the same few scales whatever the face's size: cheap and steady
        found = [(bx + left, by + top, bw, bh) for bx, by, bw, bh in
                 search(self._cascade, gray[top:bottom, left:right], scale,
                        max(MIN_SIZE, w * SIZE_RANGE[0] * scale), w * SIZE_RANGE[1] * scale, NEAR_STEP,
                        NEAR_NEIGHBOURS)]
        return sorted(found, key=lambda b: iou(b, face), reverse=True)[:1]  # the one that moved least

    def _search_in_background(self, gray: np.ndarray, scale: float) -> None:
        if self._pending is None:  # one at a time per stream: a slow search is not queued behind another
            self._pending = _searcher().submit(_search_whole, gray, scale)
            self._since_full = 0

    def _take_background_finds(self) -> None:
        if self._pending is None or not self._pending.done():
            return
        done, self._pending = self._pending, None
        if done.exception() is None:
            # Newcomers join the known faces; this frame's search near them confirms where they are now.
            self._faces = distinct(self._faces + done.result())


@functools.lru_cache(maxsize=1)
def _searcher() -> ThreadPoolExecutor:
    # One thread per process for every stream's whole-frame searches: on two cores, replies keep the other.
    # Made on first use, so in each worker after gunicorn forks.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-faces",
                              initializer=lambda: setattr(_worker, "cascades", cascade_pair()))


def _search_whole(gray: np.ndarray, scale: float) -> list[Box]:
    return find_faces(*_worker.cascades, gray, scale)
