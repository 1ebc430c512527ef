"""One handler for every HTTP error: `{"error": ...}` for the API, a page for people."""
import json
import logging

from flask import current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound, RequestEntityTooLarge, ServiceUnavailable

from app.errors import bp
from app.services.predictions import Gone

log = logging.getLogger(__name__)


def error_message(error: HTTPException) -> str:
    """What went wrong, in words for a person."""
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        return (f"The upload is too large: photos can be at most {limit:g} MB. Choose a smaller photo, or shrink "
                "this one first (most phones can share a smaller copy).")
    if isinstance(error, CSRFError):
        return "The form expired or came from another site. Reload the page and try again."
    return error.description or error.name


def respond(error: HTTPException):
    """Render `error` for whoever asked: JSON under /api/, else an HTML page."""
    message = error_message(error)
    if request.path.startswith("/api/"):
        response = error.get_response()  # keeps the status and headers such as WWW-Authenticate and Allow
        response.set_data(json.dumps({"error": message}))
        response.mimetype = "application/json"
        return response
    # The exception's own headers (Retry-After, Allow, WWW-Authenticate) hold for pages too.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("errors/error.html", code=error.code, title=error.name, message=message), error.code, headers


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """404, 405, 413, CSRF failures and the rest."""
    return respond(error)


@bp.app_errorhandler(Gone)
@bp.app_errorhandler(ObjectDeletedError)
@bp.app_errorhandler(StaleDataError)
def gone(error: Exception):
    """Another request deleted what this one was about (before the row lock, or after this one's change)."""
    return respond(NotFound(str(error) if isinstance(error, Gone) else Gone.MESSAGE))


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
def database_down(error: Exception):
    """The database is unreachable (SQLite's lock is retried before it gets here): 503 with Retry-After."""
    log.error("database unavailable on %s %s: %s", request.method, request.path, getattr(error, "orig", error))
    # The page must render without the database: show the navigation of a visitor instead of loading the user.
    g._login_user = current_app.login_manager.anonymous_user()
    return respond(ServiceUnavailable("The database is unavailable right now; please try again in a minute.",
                                      retry_after=30))


@bp.app_errorhandler(Exception)
def unexpected(error: Exception):
    """A bug: log it with its traceback, answer in the same format as every other error."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return respond(InternalServerError("Something went wrong on our side; it has been logged."))
