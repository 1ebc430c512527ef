"""One live camera stream: decode a frame, find and classify every face (or read the house number), count the mood
(or the numbers shown), keep recent frames.

A stream lives as long as its socket. It keeps the last few classified frames so that a face the user
clicks, or the number shown, can still be sent to review after newer frames arrived, and, only when the
user opted in, one JPEG snapshot per bucket for the saved session.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from app import imaging
from app.models import Prediction, User
from app.models.base import utcnow
from app.services import classification, predictions
from app.services.live_numbers import FrameReading, Steady, steady
from app.services.mood import Bucket, Mood
from ml.preprocess import ImageError
from ml.recognizers import RECOGNIZERS
from ml.serving import Detection

# Faces in a room, or a house number the camera points at: every recognizer, faces first.
LIVE_RECOGNIZERS = tuple(RECOGNIZERS)


class FrameError(ValueError):
    """A frame or request that cannot be used; the message is safe to show."""


@dataclass
class Limits:
    """Bounds on what one stream accepts and keeps (from LIVE_* config)."""

    bucket_s: int
    max_frame_bytes: int
    max_frame_pixels: int
    max_buckets: int
    max_snapshots: int
    recent_frames: int
    detect_side: int
    number_frames: int
    second_look: bool

    @classmethod
    def from_config(cls, config) -> Limits:
        """The limits configured on the app."""
        return cls(config["LIVE_BUCKET_S"], config["LIVE_MAX_FRAME_BYTES"], config["LIVE_MAX_FRAME_PIXELS"],
                   config["LIVE_MAX_BUCKETS"], config["LIVE_MAX_SNAPSHOTS"], config["LIVE_RECENT_FRAMES"],
                   config["LIVE_DETECT_SIDE"], config["LIVE_NUMBER_FRAMES"], config["LIVE_SECOND_LOOK"])


@dataclass
class Frame:
    """A classified frame: its number in the stream, the decoded image, what the model found and, for digits, the
    number the recent frames agree on."""

    number: int
    image: Image.Image
    detections: list[Detection]
    model_version: str
    duration_ms: float
    bucket: Bucket
    steady: Steady | None = None


def reading(frame_number: int, digits: list[Detection]) -> FrameReading:
    """The number a frame's digits spell, with the product of their confidences."""
    return FrameReading(frame_number, "".join(d.label for d in digits),
                        math.prod(d.confidence for d in digits) if digits else 0.0)


def parse_recognizer(name: str | None) -> str:
    """A recognizer's name (emotion7 when none is given); FrameError for anything else."""
    name = (name or LIVE_RECOGNIZERS[0]).strip()
    if name not in LIVE_RECOGNIZERS:
        raise FrameError(f"Live mode works with {', '.join(LIVE_RECOGNIZERS)}, not {name!r}.")
    return name


def decode(data: bytes, limits: Limits) -> Image.Image:
    """An RGB image from one frame's bytes; FrameError says what is wrong with it."""
    if len(data) > limits.max_frame_bytes:
        raise FrameError(f"The frame is too large ({len(data) // 1024} KB); "
                         f"send JPEG frames of at most {limits.max_frame_bytes // 1024} KB.")
    try:
        image, _ = imaging.decode(data, limits.max_frame_pixels)
    except ImageError as exc:
        raise FrameError(f"That frame could not be used: {exc}") from None
    return image


class Stream:
    """The state of one camera connection: frame numbers, recent frames, the mood so far, kept snapshots.

    For digits the mood counts the number shown (the steady one) as each frame's one label, so a saved session
    says which numbers were read and when."""

    def __init__(self, recognizer: str, limits: Limits):
        self.recognizer = recognizer
        self.digits = not RECOGNIZERS[recognizer].faces
        self.limits = limits
        self.mood = Mood(limits.bucket_s, limits.max_buckets)
        self.keep_snapshots = False
        self.snapshots: dict[int, bytes] = {}  # bucket start (s) -> JPEG, only while keep_snapshots is on
        self.model_versions: list[str] = []
        self.started_at: datetime | None = None
        self.last_at: datetime | None = None
        self.session_id: int | None = None  # the saved session this stream updates on the next save
        # (frame, face; None for a frame's number) already sent to review: one click, one record
        self.reviewed: set[tuple[int, int | None]] = set()
        self._t0: float | None = None
        self._count = 0
        self._recent: OrderedDict[int, Frame] = OrderedDict()
        self._readings: deque[FrameReading] = deque(maxlen=limits.number_frames)
        self._shown = ""  # the steady number on screen now

    def process(self, data: bytes) -> Frame:
        """Decode and classify one frame and count it; FrameError or classification.ModelUnavailable."""
        self._count += 1  # refused frames take a number too, so replies always match what was sent
        number = self._count
        image = decode(data, self.limits)
        model = classification.model_for(self.recognizer)
        started = time.monotonic()
        detections = classification.find(model, image, classification.FacesOnce(self.limits.detect_side),
                                         self.limits.second_look)
        duration_ms = (time.monotonic() - started) * 1000
        if self._t0 is None:
            self._t0, self.started_at = started, utcnow()
        self.last_at = utcnow()
        labels, shown = [d.label for d in detections], None
        if self.digits:
            self._readings.append(reading(number, detections))
            shown = steady(self._readings, self._shown)
            self._shown = shown.number
            labels = [shown.number] if shown.number else []
        bucket = self.mood.add(started - self._t0, labels)
        if model.version not in self.model_versions:
            self.model_versions.append(model.version)
        if self.keep_snapshots and bucket.t not in self.snapshots and len(self.snapshots) < self.limits.max_snapshots:
            # Re-encoded from the decoded pixels, so nothing the browser put in the file (metadata) is kept.
            self.snapshots[bucket.t] = imaging.jpeg_bytes(image, quality=80)
        frame = Frame(number, image, detections, model.version, round(duration_ms, 1), bucket, shown)
        self._recent[number] = frame
        while len(self._recent) > self.limits.recent_frames:
            self._recent.popitem(last=False)
        return frame

    @property
    def frames_seen(self) -> int:
        """Frames received so far, refused ones included."""
        return self._count

    def kept(self, frame_number: int, index: int | None) -> tuple[Frame, list[Detection]]:
        """Face `index` of a recent frame, or for digits (index None) all the digits of its number; FrameError when
        that frame is no longer kept or has no such face or no number."""
        frame = self._recent.get(frame_number)
        if frame is None:
            hint = "send the number shown now" if self.digits else "click a face on the current frame"
            raise FrameError(f"Frame {frame_number} is no longer kept; {hint}.")
        if index is None:
            if not frame.detections:
                raise FrameError(f"Frame {frame_number} read no number.")
            return frame, frame.detections
        if not 0 <= index < len(frame.detections):
            raise FrameError(f"Frame {frame_number} has no face #{index + 1}.")
        return frame, [frame.detections[index]]


def send_to_review(user: User, stream: Stream, frame_number: int, index: int | None) -> Prediction:
    """Keep one face of a recent frame, or for digits (index None) the frame with every digit of its number, as
    the user's prediction, so it waits in the review queue like an upload.

    The stored photo is that frame and the stored crops are what the model saw; from there the
    prediction takes the normal confirm/correct path. StorageUnavailable leaves nothing behind.
    """
    frame, detections = stream.kept(frame_number, index)
    if (frame_number, index) in stream.reviewed:
        what = f"Face #{index + 1}" if index is not None else "The number"
        raise FrameError(f"{what} of frame {frame_number} is already in the review queue.")
    result = classification.RecognizerResult(stream.recognizer, frame.model_version, frame.duration_ms, detections)
    outcome = classification.Classification(frame.image, None, [result])
    prediction = predictions.record(user, outcome, None)
    stream.reviewed.add((frame_number, index))
    return prediction
