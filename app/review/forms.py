"""Forms of the review pages."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput


class LabelForm(FlaskForm):
    """The chosen label (each label is a submit button named "label") and the queue's recognizer filter."""

    label = StringField(validators=[DataRequired(), Length(max=32)])
    recognizer = HiddenField(validators=[Optional(), Length(max=32)])
    seen_ms = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0)])  # filled by review.js


class QueueForm(FlaskForm):
    """Skip or undo: only the queue's recognizer filter travels along."""

    recognizer = HiddenField(validators=[Optional(), Length(max=32)])


class GrantForm(FlaskForm):
    """Give the reviewer role to the account with this email."""

    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
