"""The review queue for reviewers, and the admin page that grants the role."""
from flask import Blueprint

bp = Blueprint("review", __name__)

from app.review import routes  # noqa: E402,F401 - routes attach themselves to bp
