"""The model registry (every version of every recognizer), retraining runs, and the reviewer role."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamp, as_utc, utcnow


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as plain strings so PostgreSQL needs no enum type and SQLite no CHECK juggling.
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class VersionStatus(str, enum.Enum):
    """Where a model version stands: one champion per recognizer serves, candidates wait, archived retired."""

    CANDIDATE = "candidate"
    CHAMPION = "champion"
    ARCHIVED = "archived"


class RunStatus(str, enum.Enum):
    """A retraining run's life: queued, running, then promoted, rejected (kept as candidate) or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Whether the run still holds its recognizer's lock."""
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)


class ModelVersion(db.Model):
    """One trained model: where its artifact is stored, what data made it, how it scored, and its status."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("recognizer", "number", name="uq_model_versions_recognizer_number"),
        # At most one champion per recognizer, whatever two admins or workers do at the same moment.
        Index("ux_model_versions_champion", "recognizer", unique=True,
              sqlite_where=text("status = 'champion'"), postgresql_where=text("status = 'champion'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recognizer: Mapped[str] = mapped_column(String(32), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per recognizer, for people
    version: Mapped[str] = mapped_column(String(64), unique=True)  # what predictions record
    artifact_key: Mapped[str] = mapped_column(String(255))  # storage prefix holding the artifact files
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus), default=VersionStatus.CANDIDATE,
                                                  index=True)
    source: Mapped[str] = mapped_column(String(16))  # "baseline" or "retrain"
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # {"base_test": summary, "feedback": summary}
    manifest_key: Mapped[str | None] = mapped_column(String(255))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    manifest_summary: Mapped[dict] = mapped_column(JSON, default=dict)  # counts per class and part
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)  # the promotion gate's reason
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    promoted_at: Mapped[datetime | None] = mapped_column(Timestamp)

    parent: Mapped[ModelVersion | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        """Short name for people: `emotion7 v3`."""
        return f"{self.recognizer} v{self.number}"

    def score(self, part: str, metric: str = "accuracy") -> float | None:
        """A metric on one part of the fixed evaluation set ("base_test" or "feedback"), if measured."""
        found = (self.metrics or {}).get(part) or {}
        return found.get(metric)


class RetrainRun(db.Model):
    """One retraining of a recognizer: who asked, progress, the gate's verdict and the candidate it made."""

    __tablename__ = "retrain_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    recognizer: Mapped[str] = mapped_column(String(32), index=True)
    # Set to the recognizer while queued or running: the unique index makes it a lock that
    # two processes cannot both take.
    lock: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), default=RunStatus.QUEUED, index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # "admin", "cli", "schedule"
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    task_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp)
    labels_until: Mapped[datetime | None] = mapped_column(Timestamp)  # feedback up to here is in the manifest
    progress: Mapped[dict] = mapped_column(JSON, default=dict)  # epoch, epochs, percent, eta_s, stage
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    champion_metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # the parent on the same set
    gate: Mapped[dict] = mapped_column(JSON, default=dict)  # the gate's paired figures (services.gate.decide)
    reason: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User | None] = relationship()
    parent: Mapped[ModelVersion | None] = relationship(foreign_keys=[parent_id])
    candidate: Mapped[ModelVersion | None] = relationship(foreign_keys=[candidate_id])

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (as_utc(self.finished_at) - as_utc(self.started_at)).total_seconds()


class Reviewer(db.Model):
    """A user an admin allowed to label other people's unreviewed predictions."""

    __tablename__ = "reviewers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
