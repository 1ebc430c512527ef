"""One live camera stream: decode a frame, find and classify every face, count the mood, keep recent frames.

A stream lives as long as its socket. It keeps the last few classified frames so that a face the user
clicks can still be sent to review after newer frames arrived, and, only when the user opted in,
one JPEG snapshot per mood bucket for the saved session.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from app import imaging
from app.models import Prediction, User
from app.models.base import utcnow
from app.services import classification, predictions
from app.services.mood import Bucket, Mood
from ml import faces
from ml.preprocess import ImageError
from ml.recognizers import RECOGNIZERS
from ml.serving import Detection, classify

# Live mode is about faces in a room; a digit recognizer has nothing to say about a camera feed.
FACE_RECOGNIZERS = tuple(name for name, r in RECOGNIZERS.items() if r.faces)


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

    @classmethod
    def from_config(cls, config) -> Limits:
        """The limits configured on the app."""
        return cls(config["LIVE_BUCKET_S"], config["LIVE_MAX_FRAME_BYTES"], config["LIVE_MAX_FRAME_PIXELS"],
                   config["LIVE_MAX_BUCKETS"], config["LIVE_MAX_SNAPSHOTS"], config["LIVE_RECENT_FRAMES"],
                   config["LIVE_DETECT_SIDE"])


@dataclass
class Frame:
    """A classified frame: its number in the stream, the decoded image and what the model found."""

    number: int
    image: Image.Image
    detections: list[Detection]
    model_version: str
    duration_ms: float
    bucket: Bucket


def parse_recognizer(name: str | None) -> str:
    """A face recognizer's name (emotion7 when none is given); FrameError for anything else."""
    name = (name or FACE_RECOGNIZERS[0]).strip()
    if name not in FACE_RECOGNIZERS:
        raise FrameError(f"Live mode works with {', '.join(FACE_RECOGNIZERS)}, not {name!r}.")
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
    """The state of one camera connection: frame numbers, recent frames, the mood so far, kept snapshots."""

    def __init__(self, recognizer: str, limits: Limits):
        self.recognizer = recognizer
        self.limits = limits
        self.mood = Mood(limits.bucket_s, limits.max_buckets)
        self.keep_snapshots = False
        self.snapshots: dict[int, bytes] = {}  # bucket start (s) -> JPEG, only while keep_snapshots is on
        self.model_versions: list[str] = []
        self.started_at: datetime | None = None
        self.last_at: datetime | None = None
        self.session_id: int | None = None  # the saved session this stream updates on the next save
        self.reviewed: set[tuple[int, int]] = set()  # (frame, face) already sent to review: one click, one record
        self._t0: float | None = None
        self._count = 0
        self._recent: OrderedDict[int, Frame] = OrderedDict()

    def process(self, data: bytes) -> Frame:
        """Decode and classify one frame and count it; FrameError or classification.ModelUnavailable."""
        self._count += 1  # refused frames take a number too, so replies always match what was sent
        number = self._count
        image = decode(data, self.limits)
        model = classification.model_for(self.recognizer)
        started = time.monotonic()
        detections = classify(model.classifier, image, face_detector=faces.default_detector(self.limits.detect_side))
        duration_ms = (time.monotonic() - started) * 1000
        if self._t0 is None:
            self._t0, self.started_at = started, utcnow()
        self.last_at = utcnow()
        bucket = self.mood.add(started - self._t0, [d.label for d in detections])
        if model.version not in self.model_versions:
            self.model_versions.append(model.version)
        if self.keep_snapshots and bucket.t not in self.snapshots and len(self.snapshots) < self.limits.max_snapshots:
            # Re-encoded from the decoded pixels, so nothing the browser put in the file (metadata) is kept.
            self.snapshots[bucket.t] = imaging.jpeg_bytes(image, quality=80)
        frame = Frame(number, image, detections, model.version, round(duration_ms, 1), bucket)
        self._recent[number] = frame
        while len(self._recent) > self.limits.recent_frames:
            self._recent.popitem(last=False)
        return frame

    @property
    def frames_seen(self) -> int:
        """Frames received so far, refused ones included."""
        return self._count

    def face(self, frame_number: int, index: int) -> tuple[Frame, Detection]:
        """A face of a recent frame; FrameError when that frame is no longer kept or has no such face."""
        frame = self._recent.get(frame_number)
        if frame is None:
            raise FrameError(f"Frame {frame_number} is no longer kept; click a face on the current frame.")
        if not 0 <= index < len(frame.detections):
            raise FrameError(f"Frame {frame_number} has no face #{index + 1}.")
        return frame, frame.detections[index]


def send_to_review(user: User, stream: Stream, frame_number: int, index: int) -> Prediction:
    """Keep one face of a recent frame as the user's prediction, so it waits in the review queue like an upload.

    The stored photo is that frame and the stored crop is the face the model saw; from there the
    prediction takes the normal confirm/correct path. StorageUnavailable leaves nothing behind.
    """
    frame, detection = stream.face(frame_number, index)
    if (frame_number, index) in stream.reviewed:
        raise FrameError(f"Face #{index + 1} of frame {frame_number} is already in the review queue.")
    result = classification.RecognizerResult(stream.recognizer, frame.model_version, frame.duration_ms, [detection])
    outcome = classification.Classification(frame.image, None, [result])
    prediction = predictions.record(user, outcome, None)
    stream.reviewed.add((frame_number, index))
    return prediction

