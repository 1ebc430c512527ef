"""Users (Flask-Login) and their hashed API tokens."""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login_manager
from app.models.base import Timestamp, as_utc, utcnow


class User(UserMixin, db.Model):
    """A person who signs in; owns predictions, feedback and API tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # Part of every session and remember-me cookie: raising it ends all of them (logout, password change).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                  passive_deletes=True)

    def set_password(self, password: str) -> None:
        """Store a salted hash of `password`, never the password itself."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        """Whether `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's cookie value: the id and the session version, so old cookies stop working."""
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)

    user: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def digest(token: str) -> str:
        """The stored form of a token: tokens are random, so an unsalted hash is enough."""
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def expired(self) -> bool:
        """Whether the token is past its expiry time."""
        return as_utc(self.expires_at) <= utcnow()


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    """Flask-Login's session lookup: the user, if the cookie carries their current session version."""
    user_id, _, version = cookie_id.partition(".")
    if not (user_id.isdigit() and version.isdigit() and len(user_id) < 19):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and str(user.session_version) == version else None
