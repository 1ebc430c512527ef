"""Request checks that hold for every page."""
from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from ml.recognizers import RECOGNIZERS

SQL_INT_MAX = 2**63 - 1  # the widest integer SQLite and PostgreSQL columns hold
MAX_PAGE = 10**9


class SqlIntegerConverter(IntegerConverter):
    """`<int:...>` in URLs: ids past a 64-bit column are no row (404), not a database error."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", SQL_INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Ids in URLs fit SQL integers; pages take HTML form posts only, JSON bodies belong to the API."""
    app.url_map.converters["int"] = SqlIntegerConverter  # before any blueprint adds its rules

    @app.before_request
    def refuse_json_on_pages():
        # Flask-WTF would read a JSON body as form fields, and a JSON list or nested values break WTForms.
        if request.is_json and not request.path.startswith("/api/"):
            abort(415, "This page takes form posts, not JSON; the JSON API is under /api/v1.")


def known_recognizer(name: str | None) -> str | None:
    """`name` when it is a recognizer (None passes through); a 404 that lists the known ones otherwise."""
    if name is not None and name not in RECOGNIZERS:
        abort(404, f"Unknown recognizer {name!r}; known: {', '.join(RECOGNIZERS)}.")
    return name


def page_number() -> int:
    """The `page` query argument (1 when absent or not a number); 400 past MAX_PAGE, which no listing reaches."""
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        abort(400, f"page must be a whole number from 1 to {MAX_PAGE}.")
    return page
