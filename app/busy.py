"""SQLite under write contention: wait for the lock, then retry the request, and answer 503 rather than 500."""
from __future__ import annotations

import time
from functools import wraps

from flask import Flask, current_app, g, request
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import ServiceUnavailable

from app.extensions import db

NOT_REPLAYABLE = {"static", "live.stream"}  # a file answer never writes; a socket cannot be replayed


def init_app(app: Flask) -> None:
    """On SQLite, set the lock wait on every connection and retry views that still meet a locked database."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL has row locks and waits by itself
    event.listen(engine, "connect", _busy_timeout(app.config["SQLITE_BUSY_MS"]))
    for endpoint, view in list(app.view_functions.items()):
        if endpoint not in NOT_REPLAYABLE:
            app.view_functions[endpoint] = retrying(view)


def _busy_timeout(milliseconds: int):
    def set_timeout(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")

    return set_timeout


def is_locked(error: OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock."""
    return "database is locked" in str(error.orig) or "database table is locked" in str(error.orig)


def retrying(view):
    """`view`, run again after a rollback and a growing pause while SQLite stays locked; then a 503."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        retries = current_app.config["SQLITE_RETRIES"]
        for attempt in range(retries + 1):
            try:
                return view(*args, **kwargs)
            except OperationalError as error:
                if not is_locked(error):
                    raise
                db.session.rollback()
            if attempt < retries:
                time.sleep(0.1 * 2 ** attempt)
                for upload in request.files.values():
                    upload.stream.seek(0)  # the view read the photo; the next attempt reads it again
        # The error page shows the navigation: render it for an anonymous visitor rather than read the user again.
        g._login_user = current_app.login_manager.anonymous_user()
        raise ServiceUnavailable("The database is busy; please try again in a moment.", retry_after=2)

    return wrapper
