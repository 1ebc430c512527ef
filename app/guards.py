"""Request checks that hold for every page."""
from flask import Flask, abort, request

from ml.recognizers import RECOGNIZERS


def init_app(app: Flask) -> None:
    """Pages take HTML form posts only; JSON bodies belong to the API."""

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
