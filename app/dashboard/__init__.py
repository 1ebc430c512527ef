"""Model health per recognizer, the registry's versions and retraining runs; admins promote, roll back, retrain."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/models")

from app.dashboard import routes  # noqa: E402,F401 - routes attach themselves to bp
