"""A saved live-camera session: the room's mood (or the house numbers read) per time bucket, never the frames unless
the user opted in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamp, as_utc, utcnow
from ml.recognizers import get


class LiveSession(db.Model):
    """Counts of each expression per bucket of `bucket_s` seconds, and the keys of any frames kept by choice.

    A digits session counts numbers instead of expressions: each frame's one label is the number shown then (none
    when no number was shown), so `faces` is the frames that showed a number and `counts` the frames per number."""

    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime] = mapped_column(Timestamp)
    recognizer: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(64))
    bucket_s: Mapped[int]
    frames: Mapped[int]
    faces: Mapped[int]  # summed over frames: one face seen in ten frames counts ten
    peak_faces: Mapped[int]
    counts: Mapped[dict] = mapped_column(JSON)  # label -> faces with that label, over the whole session
    # [{"t": seconds from the start, "frames", "faces", "peak", "counts": {label: n}}, ...]
    buckets: Mapped[list] = mapped_column(JSON)
    frame_keys: Mapped[list] = mapped_column(JSON, default=list)  # stored snapshots, only when opted in

    user: Mapped[User] = relationship()

    @property
    def duration_s(self) -> float:
        """Seconds between the first and the last frame."""
        return (as_utc(self.ended_at) - as_utc(self.started_at)).total_seconds()

    @property
    def shares(self) -> dict[str, float]:
        """Each label's share of all faces seen, largest first."""
        total = sum(self.counts.values()) or 1
        return dict(sorted(((k, v / total) for k, v in self.counts.items()), key=lambda kv: -kv[1]))

    @property
    def reads_numbers(self) -> bool:
        """Whether the session read house numbers rather than faces."""
        return not get(self.recognizer).faces

    @property
    def numbers(self) -> list[dict]:
        """Each number shown, once per stretch of consecutive buckets that showed it, first shown first:
        {"number", "from_s", "to_s" (the stretch's bucket bounds), "frames"}."""
        stretches, last = [], {}
        for bucket in self.buckets:
            for number, frames in bucket["counts"].items():
                stretch = last.get(number)
                if stretch is None or stretch["to_s"] != bucket["t"]:
                    stretch = last[number] = {"number": number, "from_s": bucket["t"], "frames": 0}
                    stretches.append(stretch)
                stretch["to_s"] = bucket["t"] + self.bucket_s
                stretch["frames"] += frames
        return stretches

    @property
    def mean_faces(self) -> float:
        """Faces per frame, on average."""
        return self.faces / self.frames if self.frames else 0.0
