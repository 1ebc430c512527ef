"""Face detection with YuNet, a small CNN run by ONNX Runtime (the model ships in ml/yunet), and the
one face crop that serving, user-drawn faces and training data share."""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ml.preprocess import to_mode

MODEL = Path(__file__).resolve().parent / "yunet" / "face_detection_yunet_2023mar_dynamic.onnx"
# Images this small are already face crops (FER-2013 is 48×48, RAF-DB 100×100): classify them whole.
CROP_MAX_SIDE = 128
# Photos are searched at this long side, larger ones shrunk and smaller ones enlarged (YuNet finds faces from
# about 10 px, so faces from ~16 px up in a 640 px photo). Chosen with `python -m ml evaluate faces` on
# faces_real and scripts/bench_faces.py; the figures are in the README.
DETECT_SIDE = 640
SCORE_THRESHOLD = 0.8
NMS_THRESHOLD = 0.3
# The expression crop: a square on the face box's centre, MARGIN of the box's size added on every side, rotated
# so the eyes are level; chosen by emotion accuracy on whole-head photos the detector cropped (README).
MARGIN = 0.0
CENTRE_DROP = 0.0  # of the box's height: where the crop's centre sits below the box's
_import_lock = threading.Lock()

Box = tuple[int, int, int, int]
Point = tuple[float, float]


def opencv():
    """OpenCV, imported under a lock: threads importing cv2 at once can get it half-made (no `cv2.data`)."""
    with _import_lock:
        import cv2  # noqa: PLC0415 - OpenCV is heavy; import on first use

    return cv2


@dataclass(frozen=True)
class Face:
    """A face: its box (x, y, w, h) in the photo's pixels, the detector's score (None: drawn by a user or the
    whole image) and YuNet's five landmarks (right eye, left eye, nose tip, right and left mouth corner)."""

    box: Box
    score: float | None = None
    landmarks: tuple[Point, ...] = field(default=())


class FaceDetector:
    """Finds faces in a PIL image of any size or mode (EXIF orientation is applied when it is decoded)."""

    def __init__(self, side: int = DETECT_SIDE, score_threshold: float = SCORE_THRESHOLD,
                 nms_threshold: float = NMS_THRESHOLD):
        import onnxruntime  # noqa: PLC0415 - heavy; loaded by the first detector of a process (after any fork)

        if not MODEL.is_file():
            raise RuntimeError(f"{MODEL}: the YuNet face detector is missing")
        # One request, one thread: a runtime's own thread pool costs more CPU than it saves when requests run side
        # by side, and OpenCV's resizing and warping here follow the same rule.
        opencv().setNumThreads(1)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        # A memory pattern planned for each input size keeps more of the arena than its time saving is worth (README).
        options.enable_mem_pattern = False
        options.log_severity_level = 3
        self.side, self.score_threshold, self.nms_threshold = side, score_threshold, nms_threshold
        # ONNX Runtime rather than OpenCV's FaceDetectorYN: the same network at 2.2× the speed (README).
        self._session = onnxruntime.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
        # One search at a time per process: searches side by side each grow the runtime's memory arena, and the
        # web workers keep the cores busy anyway.
        self._lock = threading.Lock()

    def find(self, image: Image.Image) -> list[Face]:
        """Every face to classify, left to right: the whole image when it is already a small crop."""
        width, height = image.size
        if max(width, height) <= CROP_MAX_SIDE:
            return [Face((0, 0, width, height))]
        return self.detect(image)

    def detect(self, image: Image.Image) -> list[Face]:
        """Every face the detector finds, left to right, at any image size."""
        return sorted(self.search(np.asarray(to_mode(image, "RGB"))), key=lambda face: face.box)

    def search(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an H×W×3 RGB array, searched at `side` px on its long side."""
        cv2 = opencv()
        height, width = rgb.shape[:2]
        scale = self.side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size != (width, height):
            # Area averaging keeps the edges when shrinking; enlarging needs interpolation.
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        outputs = self.outputs(rgb)
        rows = decode(outputs, _round_up(size[0]), self.score_threshold)
        if not len(rows):
            return []
        keep = cv2.dnn.NMSBoxes(rows[:, :4].tolist(), rows[:, 14].tolist(), self.score_threshold,
                                self.nms_threshold, top_k=5000)
        return [_face(rows[i], scale, width, height) for i in np.asarray(keep, int).ravel()]

    def outputs(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """YuNet's raw outputs (OUTPUTS) for an H×W×3 RGB array already at the search size."""
        height, width = rgb.shape[:2]
        # The network takes BGR, planar, in a frame padded with zeros to multiples of its coarsest stride (OpenCV's
        # split copies the planes out faster than numpy's strided transpose).
        padded = np.zeros((1, 3, _round_up(height), _round_up(width)), np.float32)
        padded[0, :, :height, :width] = opencv().split(rgb)[::-1]
        with self._lock:
            return dict(zip(OUTPUTS, self._session.run(OUTPUTS, {"input": padded}), strict=True))


STRIDES = (8, 16, 32)
OUTPUTS = [f"{head}_{stride}" for head in ("cls", "obj", "bbox", "kps") for stride in STRIDES]


def _round_up(n: int) -> int:
    return -(-n // STRIDES[-1]) * STRIDES[-1]


def decode(outputs: dict[str, np.ndarray], width: int, score_threshold: float) -> np.ndarray:
    """YuNet's raw outputs for a `width`-wide input as rows of (x, y, w, h, 5 landmarks as x, y, score), the
    candidates scoring at least `score_threshold`, as OpenCV's FaceDetectorYN decodes them (before NMS)."""
    found = []
    for stride in STRIDES:
        cls, obj = outputs[f"cls_{stride}"][0, :, 0], outputs[f"obj_{stride}"][0, :, 0]
        score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
        cells = np.flatnonzero(score >= score_threshold)
        if not cells.size:
            continue
        rows, cols = np.divmod(cells, width // stride)
        anchor = np.stack([cols, rows], axis=1).astype(np.float32)
        bbox = outputs[f"bbox_{stride}"][0, cells]
        size = np.exp(bbox[:, 2:]) * stride
        corner = (bbox[:, :2] + anchor) * stride - size / 2
        points = (outputs[f"kps_{stride}"][0, cells].reshape(-1, 5, 2) + anchor[:, None]) * stride
        found.append(np.hstack([corner, size, points.reshape(-1, 10), score[cells, None]]))
    return np.vstack(found) if found else np.empty((0, 15), np.float32)


def _face(row: np.ndarray, scale: float, width: int, height: int) -> Face:
    x, y, w, h = (float(v) / scale for v in row[:4])
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    points = tuple((round(float(row[i]) / scale, 1), round(float(row[i + 1]) / scale, 1)) for i in range(4, 14, 2))
    return Face((left, top, max(1, right - left), max(1, bottom - top)), round(float(row[14]), 4), points)


def crop(image: Image.Image, face: Face, margin: float = MARGIN, drop: float = CENTRE_DROP,
         align: bool = True) -> Image.Image:
    """The face's square crop for the expression models: MARGIN wider than its box on every side and, when
    landmarks are known, turned so the eyes are level; edge pixels repeat where it passes the photo's border. A
    face that is the whole image is the image."""
    x, y, w, h = face.box
    if (x, y, w, h) == (0, 0, image.width, image.height):
        return image  # the whole image is the face (a crop already)
    cv2 = opencv()
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2 + drop * h
    angle = 0.0
    if align and len(face.landmarks) >= 2:
        (rx, ry), (lx, ly) = face.landmarks[:2]
        angle = math.degrees(math.atan2(ly - ry, lx - rx))
    # Only the part of the photo the turned square can reach is converted to an array.
    reach = side * 0.75
    left, top = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
    right, bottom = min(image.width, math.ceil(cx + reach)), min(image.height, math.ceil(cy + reach))
    if right <= left or bottom <= top:
        left, top, right, bottom = 0, 0, image.width, image.height
    region = np.asarray(to_mode(image.crop((left, top, right, bottom)), "RGB"))
    out = max(1, round(side))
    matrix = cv2.getRotationMatrix2D((cx - left, cy - top), angle, out / side)
    matrix[:, 2] += (out / 2 - (cx - left), out / 2 - (cy - top))
    pixels = cv2.warpAffine(region, matrix, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Image.fromarray(pixels)


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The area two (x, y, w, h) boxes share."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = overlap(a, b)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


@functools.lru_cache(maxsize=4)
def default_detector(side: int = DETECT_SIDE) -> FaceDetector:
    """One detector per process and detection size, made on first use (after any fork)."""
    return FaceDetector(side)
