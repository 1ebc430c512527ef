"""API authentication: HTTP Basic for getting a token, Bearer tokens for everything else."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from app.services import accounts


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


def token_required(view):
    """Run `view` with g.user (and g.token) set from `Authorization: Bearer <token>`; 401 otherwise."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Send a token: Authorization: Bearer <token> (POST /api/v1/tokens gives one).",
                               "Bearer")
        row = accounts.token_row(token.strip())
        if row is None:
            raise unauthorized("The token is invalid, expired or revoked.", "Bearer")
        g.token, g.user = row, row.user
        return view(*args, **kwargs)

    return wrapper
