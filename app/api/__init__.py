"""JSON API under /api/v1 (outside clients rely on its names)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import loop, routes, tokens  # noqa: E402,F401 - routes attach themselves to bp
