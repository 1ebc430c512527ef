"""A user's own data: export the labelled dataset, delete everything; admins export everyone's."""
from flask import Blueprint

bp = Blueprint("export", __name__)

from app.export import routes  # noqa: E402,F401 - routes attach themselves to bp
