"""Template globals and filters."""
from datetime import datetime

from flask import Flask

from app.models import NOT_A_FACE, QUICK_MS
from app.models.base import as_utc
from ml.recognizers import RECOGNIZERS


def init_app(app: Flask) -> None:
    """Register what every template may use."""
    app.jinja_env.globals.update(RECOGNIZERS=RECOGNIZERS, NOT_A_FACE=NOT_A_FACE, QUICK_MS=QUICK_MS)

    @app.template_filter("utc")
    def utc(value: datetime) -> str:
        """A timestamp for people, in UTC."""
        return as_utc(value).strftime("%d %b %Y, %H:%M UTC")

    @app.template_filter("iso")
    def iso(value: datetime) -> str:
        """A timestamp for machines (the datetime attribute)."""
        return as_utc(value).isoformat(timespec="seconds")

    @app.template_filter("clock")
    def clock(seconds: float) -> str:
        """Seconds into a session as m:ss."""
        return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"
