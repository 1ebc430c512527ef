"""Forms of the classify pages."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FloatField, HiddenField, IntegerField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ml.recognizers import RECOGNIZERS


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ClassifyForm(FlaskForm):
    """A photo (file or camera snapshot), the recognizers to run, and a location only given on consent."""

    image = FileField("Photo", validators=[FileRequired("Choose a photo or take one with the camera.")])
    # Unknown names are reported by the classification service, with the same message as the API.
    recognizers = CheckboxesField("Recognize", choices=[(r.name, r.title) for r in RECOGNIZERS.values()],
                                  default=["emotion7"], validate_choice=False,
                                  validators=[DataRequired("Choose at least one recognizer.")])
    # Which location to keep, if any: one the person picks, never one used silently in place of another.
    location_from = RadioField("Location", default="none", choices=[
        ("none", "No location"), ("photo", "The photo's own GPS tag, if it has one"),
        ("browser", "Where I am now (your browser asks first)")])
    latitude = FloatField(widget=HiddenInput(), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(widget=HiddenInput(), validators=[Optional(), NumberRange(-180, 180)])

    def location(self) -> tuple[float, float] | None:
        """The browser's position (filled by app.js) when it was chosen and both coordinates were sent."""
        if self.location_from.data != "browser" or self.latitude.data is None or self.longitude.data is None:
            return None
        return (self.latitude.data, self.longitude.data)

    def keeps_location(self) -> bool:
        """Whether the person agreed to keep a location at all."""
        return self.location_from.data in ("photo", "browser")

    def uses_photo_gps(self) -> bool:
        """Whether the photo's EXIF GPS was chosen."""
        return self.location_from.data == "photo"


class FeedbackForm(FlaskForm):
    """The label picked for a detection; each label is a submit button named "label"."""

    label = StringField(validators=[DataRequired(), Length(max=32)])
    seen_ms = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0)])  # filled by app.js


class NumberForm(FlaskForm):
    """The house number as the page showed it, to confirm whole."""

    number = StringField(validators=[DataRequired(), Length(max=64)])
    seen_ms = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0)])  # filled by app.js


class AddFaceForm(FlaskForm):
    """A face or digit box drawn on the photo, in the photo's pixels (faces.js fills the fields), for one recognizer."""

    INVALID = "Draw a box on the photo first: its x, y, width and height are whole pixels of the photo."

    recognizer = HiddenField(validators=[DataRequired(), Length(max=32)])
    x = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    y = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    w = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    h = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def box(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) as sent."""
        return (self.x.data, self.y.data, self.w.data, self.h.data)


class DeleteForm(FlaskForm):
    """A CSRF-protected delete button."""
