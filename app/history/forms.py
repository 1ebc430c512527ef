"""History filters (a GET form: bookmarkable, no CSRF needed for reading)."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from app.models import Status
from app.services.history import FIRST_DAY, LAST_DAY
from ml.recognizers import RECOGNIZERS

ALL_LABELS = sorted({c for r in RECOGNIZERS.values() for c in r.classes})


def _plausible(_form, field) -> None:
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:  # None: not a date at all
        raise ValidationError(f"Choose a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")


class FilterForm(FlaskForm):
    """Recognizer, label, review status and a date range."""

    class Meta:
        csrf = False

    recognizer = SelectField("Recognizer", choices=[("", "Any")] + [(n, n) for n in RECOGNIZERS],
                             validators=[Optional()])
    label = SelectField("Label", choices=[("", "Any")] + [(c, c) for c in ALL_LABELS], validators=[Optional()])
    status = SelectField("Status", choices=[("", "Any")] + [(s.value, s.value.replace("_", " ")) for s in Status],
                         validators=[Optional()])
    since = DateField("From", validators=[Optional(), _plausible])
    until = DateField("To", validators=[Optional(), _plausible])

