"""The room's mood over a live session: how many faces showed each expression, per bucket of a few seconds."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class Bucket:
    """What the frames received during [t, t + bucket_s) seconds of a session showed."""

    t: int
    frames: int = 0
    faces: int = 0  # summed over frames
    peak: int = 0  # most faces in one frame
    counts: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        """The JSON shape sent to the browser and saved with a session."""
        return {"t": self.t, "frames": self.frames, "faces": self.faces, "peak": self.peak,
                "counts": dict(self.counts)}


class Mood:
    """Running per-bucket counts of each label over all faces; only the latest `max_buckets` are kept."""

    def __init__(self, bucket_s: int, max_buckets: int):
        self.bucket_s = bucket_s
        self._buckets: deque[Bucket] = deque(maxlen=max_buckets)
        self.frames = 0
        self.faces = 0
        self.peak = 0
        self.counts: Counter = Counter()

    def add(self, elapsed_s: float, labels: list[str]) -> Bucket:
        """Count one frame seen `elapsed_s` seconds into the session with faces labelled `labels`."""
        t = int(elapsed_s // self.bucket_s) * self.bucket_s
        if not self._buckets or self._buckets[-1].t != t:
            self._buckets.append(Bucket(t))  # a gap with no frames has no bucket, rather than an empty one
        bucket = self._buckets[-1]
        bucket.frames += 1
        bucket.faces += len(labels)
        bucket.peak = max(bucket.peak, len(labels))
        bucket.counts.update(labels)
        self.frames += 1
        self.faces += len(labels)
        self.peak = max(self.peak, len(labels))
        self.counts.update(labels)
        return bucket

    def buckets(self) -> list[dict]:
        """Every kept bucket, oldest first, as JSON-ready dicts."""
        return [b.as_dict() for b in self._buckets]
