"""The reviewer role: admins grant it; reviewers (and admins) label other people's unreviewed predictions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Reviewer, User
from app.services.accounts import find_user


class RoleError(ValueError):
    """A role change that cannot be done; the message is safe to show."""


def is_reviewer(user) -> bool:
    """Whether `user` may use the review queue (admins always may)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_admin or db.session.get(Reviewer, user.id))


def roles(user: User) -> list[str]:
    """The roles `user` holds, as the profile names them ("user" when none)."""
    held = (["administrator"] if user.is_admin else []) + (["reviewer"] if db.session.get(Reviewer, user.id) else [])
    return held or ["user"]


def grant(email: str, by: User | None) -> User:
    """Give the user with `email` the reviewer role (idempotent)."""
    user = find_user(email)
    if user is None:
        raise RoleError(f"No account with the email {email}.")
    if db.session.get(Reviewer, user.id) is None:
        db.session.add(Reviewer(user_id=user.id, granted_by_id=by.id if by else None))
        try:
            db.session.commit()
        except IntegrityError:  # granted by another request at the same moment: granted all the same
            db.session.rollback()
    return user


def revoke(email: str) -> User:
    """Take the reviewer role away (idempotent)."""
    user = find_user(email)
    if user is None:
        raise RoleError(f"No account with the email {email}.")
    found = db.session.get(Reviewer, user.id)
    if found is not None:
        db.session.delete(found)
        db.session.commit()
    return user


def listing() -> list[tuple[User, bool]]:
    """Every user with whether they are a reviewer, by email."""
    granted = set(db.session.scalars(select(Reviewer.user_id)))
    return [(u, u.id in granted) for u in db.session.scalars(select(User).order_by(User.email))]
