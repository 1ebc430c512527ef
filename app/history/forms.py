"""History filters (a GET form: bookmarkable, no CSRF needed for reading)."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from app.models import Status
from ml.recognizers import RECOGNIZERS

ALL_LABELS = sorted({c for r in RECOGNIZERS.values() for c in r.classes})


class FilterForm(FlaskForm):
    """Recognizer, label, review status and a date range."""

    class Meta:
        csrf = False

    recognizer = SelectField("Recognizer", choices=[("", "Any")] + [(n, n) for n in RECOGNIZERS],
                             validators=[Optional()])
    label = SelectField("Label", choices=[("", "Any")] + [(c, c) for c in ALL_LABELS], validators=[Optional()])
    status = SelectField("Status", choices=[("", "Any")] + [(s.value, s.value.replace("_", " ")) for s in Status],
                         validators=[Optional()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
