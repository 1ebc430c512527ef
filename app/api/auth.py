"""API authentication: HTTP Basic for getting a token, Bearer tokens for everything else."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from app.services import accounts


_UNSEEN = object()  # no admin check looked the request's token up


def unauthorized(message: str, scheme: str) -> Unauthorized:
    """A 401 whose WWW-Authenticate header tells the client which scheme to use."""
    return Unauthorized(message, www_authenticate=WWWAuthenticate(scheme, {"realm": "VisionLoop"}))


def basic_user():
    """The user named by valid HTTP Basic credentials; 401 otherwise."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        raise unauthorized("Send your email and password with HTTP Basic authentication.", "Basic")
    user = accounts.authenticate(auth.username, auth.password)
    if user is None:
        raise unauthorized("Wrong email or password.", "Basic")
    return user


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header; None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_row():
    """The valid token row of the request's bearer token, or None, for the upload limit's admin check
    (security.admin_caller); kept for `token_required`, so an upload looks its token up once."""
    token = bearer_token()
    g.token_row = accounts.token_row(token) if token else None
    return g.token_row


def token_required(view):
    """Run `view` with g.user (and g.token) set from `Authorization: Bearer <token>`; 401 otherwise."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise unauthorized("Send a token: Authorization: Bearer <token> (POST /api/v1/tokens gives one).",
                               "Bearer")
        # Taken, not read: a view retried after a locked database (app.busy) looks the token up afresh.
        row = g.pop("token_row", _UNSEEN)
        if row is _UNSEEN:
            row = accounts.token_row(token)
        if row is None:
            raise unauthorized("The token is invalid, expired or revoked.", "Bearer")
        g.token, g.user = row, row.user
        return view(*args, **kwargs)

    return wrapper
