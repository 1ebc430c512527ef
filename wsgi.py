"""WSGI entry point: `gunicorn wsgi:app`; also what `flask` finds when FLASK_APP is unset."""
from app import create_app

app = create_app()
