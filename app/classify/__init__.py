"""Upload or snap a photo, classify it, show the result, confirm or correct it."""
from flask import Blueprint

bp = Blueprint("classify", __name__)

from app.classify import routes  # noqa: E402,F401 - routes attach themselves to bp
