"""A user's API tokens: list them, note their use, revoke one or all."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.models import ApiToken, User
from app.models.base import as_utc, utcnow

# Last use is written at most this often per token, so API calls do not all become writes.
USE_RESOLUTION = timedelta(minutes=1)


def listing(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (expired ones too, until revoked)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def record_use(token: ApiToken) -> None:
    """Remember when the token was last used (to the minute)."""
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) >= USE_RESOLUTION:
        token.last_used_at = now
        db.session.commit()


def revoke(user: User, token_id: int) -> bool:
    """Revoke one of the user's tokens; False when they have none with this id."""
    removed = db.session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    db.session.commit()
    return removed.rowcount > 0


def revoke_all_tokens(user: User) -> int:
    """Revoke every API token of the user (password change, data or account deletion); how many there were."""
    removed = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.commit()
    return removed.rowcount
