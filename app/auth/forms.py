"""Account forms (CSRF-protected by Flask-WTF)."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.services.accounts import MIN_PASSWORD, AccountError, check_password_rules

PASSWORD_LENGTH = Length(min=MIN_PASSWORD, max=128, message=f"Use at least {MIN_PASSWORD} characters (at most 128).")


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def strong_password(form, field) -> None:
    """The account rules (length, not a common password), shown under the password field itself."""
    if len(field.data or "") < MIN_PASSWORD:
        return  # PASSWORD_LENGTH says so already
    try:
        check_password_rules(field.data)
    except AccountError as exc:
        raise ValidationError(str(exc)) from None


class SignupForm(FlaskForm):
    """Email, password twice."""

    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), PASSWORD_LENGTH, strong_password])
    confirm = PasswordField("Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")])
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Log in")


class PasswordForm(FlaskForm):
    """Change the password, proving the current one."""

    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), PASSWORD_LENGTH, strong_password])
    confirm = PasswordField("Repeat new password",
                            validators=[DataRequired(), EqualTo("password", "Passwords differ.")])
    submit = SubmitField("Change password")


class LogoutForm(FlaskForm):
    """Logging out is a POST, so another site cannot log people out with a link."""

    submit = SubmitField("Log out")
