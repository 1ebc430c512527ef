"""Sign-up, sign-in, passwords and API tokens."""
from __future__ import annotations

import functools
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import ApiToken, Detection, FeedbackEvent, Prediction, Result, Status, User
from app.models.base import utcnow
from app.services import tokens

MIN_PASSWORD = 8


class AccountError(ValueError):
    """A sign-up or password change that cannot be done; the message is safe to show."""


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


# The passwords guessed first in credential-stuffing lists that the length rule alone lets through.
COMMON_PASSWORDS = frozenset({"password", "password1", "password123", "12345678", "123456789", "1234567890",
                              "qwertyuiop", "qwerty123", "iloveyou", "11111111", "00000000", "abcd1234",
                              "passw0rd", "letmein1", "football", "baseball", "sunshine", "princess",
                              "trustno1", "welcome1", "visionloop"})


def check_password_rules(password: str) -> None:
    """Raise AccountError when `password` is too weak to accept."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise AccountError("That password is too easy to guess; try a few unrelated words.")


def find_user(email: str) -> User | None:
    """The user with this email, if any."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(email: str, password: str, is_admin: bool = False) -> User:
    """Create and commit a user; AccountError for a bad or taken email, or a too short password."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"That is not a valid email address ({exc}).") from None
    check_password_rules(password)
    if find_user(email) is not None:
        raise AccountError("An account with this email already exists.")
    user = User(email=normalize_email(email), is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same email signed up by another request since the check above
        db.session.rollback()
        raise AccountError("An account with this email already exists.") from None
    return user


def set_admin(email: str, admin: bool) -> User:
    """Give or take away administrator rights (idempotent); AccountError when no account has `email`."""
    user = find_user(email)
    if user is None:
        raise AccountError(f"No account with the email {email}; create it with `flask users create`.")
    user.is_admin = admin
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match, else None, in the same time whether or not the email exists."""
    user = find_user(email)
    if user is None:
        # Hash anyway: a fast answer for unknown emails would tell which accounts exist.
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    return user if user.check_password(password) else None


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(current):
        raise AccountError("The current password is not right.")
    check_password_rules(new)
    user.set_password(new)
    end_sessions(user)
    tokens.revoke_all_tokens(user)


def end_sessions(user: User) -> None:
    """Sign the user out of every browser: session and remember-me cookies carry the version this raises."""
    user.session_version += 1
    db.session.commit()


def issue_token(user: User) -> str:
    """A new API token for `user`; only its hash is kept, so this is the one time it is seen."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["TOKEN_DAYS"]
    db.session.add(ApiToken(user=user, token_hash=ApiToken.digest(token), expires_at=utcnow() + timedelta(days=days)))
    db.session.commit()
    return token


def token_row(token: str) -> ApiToken | None:
    """The valid, unexpired token row for a bearer token, its use recorded (its owner is `.user`)."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.digest(token))
                            .options(joinedload(ApiToken.user)))  # one query per API request, not two
    if row is None or row.expired:
        return None
    tokens.record_use(row)
    return row


def stats(user: User) -> dict[str, int]:
    """How much a user has done: photos kept, detections (boxes marked not a face left out), feedback given."""
    photos = db.session.scalar(select(func.count(Prediction.id)).where(Prediction.user_id == user.id))
    detections = db.session.scalar(select(func.count(Detection.id)).join(Result).join(Prediction)
                                   .where(Prediction.user_id == user.id, Detection.status != Status.NOT_A_FACE))
    feedback = db.session.scalar(select(func.count(FeedbackEvent.id)).where(FeedbackEvent.user_id == user.id))
    return {"photos": photos or 0, "detections": detections or 0, "feedback": feedback or 0}
