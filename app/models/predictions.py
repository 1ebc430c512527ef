"""One upload (Prediction), one Result per recognizer run on it, its Detections and their feedback."""
from __future__ import annotations

import enum
import math
from datetime import datetime

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamp, utcnow
from ml.numbers import reading_order
from ml.recognizers import get


class Status(str, enum.Enum):
    """Feedback state of a detection."""

    UNREVIEWED = "unreviewed"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    NOT_A_FACE = "not_a_face"


# The statuses that give a detection a class label: training data for the recognizer.
LABELLED = (Status.CONFIRMED, Status.CORRECTED)
# The label of a box someone marked as holding no face (or, for digits, no digit); the underscore keeps it apart from
# every class. Its class folder is the recognizer's `rejected_folder`.
NOT_A_FACE = "_not_a_face"
QUICK_MS = 700  # a confirmation given sooner after the item appeared is counted as not looked at
DETECTOR, USER = "detector", "user"  # where a detection's box came from: found by the app, or drawn by a person


class Prediction(db.Model):
    """A photo a signed-in user classified, where and when, and where its re-encoded copy is stored."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    width: Mapped[int]
    height: Mapped[int]
    photo_key: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str | None] = mapped_column(String(16))  # "browser" or "exif"

    user: Mapped[User] = relationship()
    results: Mapped[list[Result]] = relationship(back_populates="prediction", cascade="all, delete-orphan",
                                                 passive_deletes=True, order_by="Result.id")

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude) when one was given or found in the photo."""
        return None if self.latitude is None or self.longitude is None else (self.latitude, self.longitude)

    @property
    def detections(self) -> list[Detection]:
        """Every detection of every recognizer, in result order."""
        return [d for r in self.results for d in r.detections]


class Result(db.Model):
    """What one recognizer's model version found on a prediction's photo, and how long it took."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("prediction_id", "recognizer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id", ondelete="CASCADE"), index=True)
    recognizer: Mapped[str] = mapped_column(String(32), index=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    duration_ms: Mapped[float] = mapped_column(Float)

    prediction: Mapped[Prediction] = relationship(back_populates="results")
    detections: Mapped[list[Detection]] = relationship(back_populates="result", cascade="all, delete-orphan",
                                                       passive_deletes=True, order_by="Detection.position")

    @property
    def in_reading_order(self) -> list[Detection]:
        """Its detections by their boxes' reading order (lines top to bottom, each left to right): a number's digits."""
        return _ordered(self.detections)

    @property
    def page_order(self) -> list[Detection]:
        """Its detections as the result page lists them: a number's digits in reading order, faces as found."""
        return self.in_reading_order if get(self.recognizer).thing == "digit" else list(self.detections)

    @property
    def number_digits(self) -> list[Detection]:
        """The digits of the number now: the boxes not marked as no digit, in reading order."""
        return _ordered([d for d in self.detections if not d.not_a_face])

    @property
    def number(self) -> str:
        """What the digits spell now: their current labels in reading order."""
        return "".join(d.label for d in self.number_digits)

    @property
    def read_number(self) -> str:
        """What the number reader read: the predicted labels of the digits it found, in reading order."""
        return "".join(d.predicted_label for d in _ordered([d for d in self.detections if d.source == DETECTOR]))

    @property
    def number_confidence(self) -> float:
        """The reader's confidence in what it read: the product of its digits' confidences (0 for no digit)."""
        found = [d.confidence for d in self.detections if d.source == DETECTOR]
        return math.prod(found) if found else 0.0


def _ordered(detections: list[Detection]) -> list[Detection]:
    return [detections[i] for i in reading_order([d.box for d in detections])]


class Detection(db.Model):
    """One face or digit: its box and where it came from, the model's answer with all probabilities, and its current
    label."""

    __tablename__ = "detections"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]  # 0-based order within the result; the API's "detection" index
    x: Mapped[int]
    y: Mapped[int]
    w: Mapped[int]
    h: Mapped[int]
    predicted_label: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float, index=True)
    probabilities: Mapped[dict] = mapped_column(JSON)
    label: Mapped[str] = mapped_column(String(32), index=True)  # predicted until feedback changes it
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=16,
                                                values_callable=lambda e: [m.value for m in e]),
                                           default=Status.UNREVIEWED, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    crop_key: Mapped[str | None] = mapped_column(String(255))
    original_key: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default=DETECTOR, server_default=DETECTOR)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)  # a drawn face comes after its photo
    # Set for a drawn face only: the champion may have changed since the result's model found the others.
    model_version: Mapped[str | None] = mapped_column(String(64))

    result: Mapped[Result] = relationship(back_populates="detections")
    events: Mapped[list[FeedbackEvent]] = relationship(back_populates="detection", cascade="all, delete-orphan",
                                                       passive_deletes=True, order_by="FeedbackEvent.id")

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The box in photo pixels as (x, y, w, h)."""
        return (self.x, self.y, self.w, self.h)

    @property
    def number(self) -> int:
        """1-based number drawn on the photo."""
        return self.position + 1

    @property
    def version(self) -> str:
        """The version of the model that gave this detection its predicted label."""
        return self.model_version or self.result.model_version

    @property
    def not_a_face(self) -> bool:
        """Whether someone marked the box as not a face (it leaves every count)."""
        return self.status == Status.NOT_A_FACE

    @property
    def drawn(self) -> bool:
        """Whether a person drew the box (a face the detector missed)."""
        return self.source == USER

    @property
    def thing(self) -> str:
        """What its box holds, in words: "face" or "digit"."""
        return get(self.result.recognizer).thing

    @property
    def state(self) -> str:
        """Its feedback state in words: "not a face" (or digit), or the status and the label."""
        return f"not a {self.thing}" if self.not_a_face else f"{self.status.value} “{self.label}”"

    def labelled_status(self) -> Status:
        """The status the current label gives once someone gave feedback."""
        if self.label == NOT_A_FACE:
            return Status.NOT_A_FACE
        return Status.CONFIRMED if self.label == self.predicted_label else Status.CORRECTED


class FeedbackEvent(db.Model):
    """Someone confirmed or corrected a detection's label: who, when, from which label to which, and how."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    from_label: Mapped[str] = mapped_column(String(32))
    to_label: Mapped[str] = mapped_column(String(32))  # NOT_A_FACE when the box was marked not a face
    source: Mapped[str] = mapped_column(String(16))  # "web", "api" or "review"
    # How long the item was on screen before this label (the page's script measures it); null when unknown (API,
    # no script). A confirmation quicker than QUICK_MS was not looked at, and agreement leaves it out.
    seen_ms: Mapped[int | None]

    detection: Mapped[Detection] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
