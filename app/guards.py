"""Request checks that hold for every page."""
from flask import Flask, abort, request


def init_app(app: Flask) -> None:
    """Pages take HTML form posts only; JSON bodies belong to the API."""

    @app.before_request
    def refuse_json_on_pages():
        # Flask-WTF would read a JSON body as form fields, and a JSON list or nested values break WTForms.
        if request.is_json and not request.path.startswith("/api/"):
            abort(415, "This page takes form posts, not JSON; the JSON API is under /api/v1.")
