"""Signing in and first-run setup."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from . import email_address, password_length


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])


class SetupForm(FlaskForm):
    agency_name = StringField(
        "Agency name", filters=[_stripped],
        validators=[DataRequired(message="Enter your agency's name."), Length(max=120)],
    )
    owner_name = StringField(
        "Your name", filters=[_stripped],
        validators=[DataRequired(message="Enter your name."), Length(max=120)],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter your email."),
            email_address,
            Length(max=254),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired(message="Choose a password."), password_length])
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("password", message="The two passwords differ.")]
    )
    # Filled in with the computer's zone by app.js; empty means UTC, changed later in Settings › Agency.
    time_zone = StringField("Time zone", filters=[_stripped], validators=[Length(max=64)])

    def validate_time_zone(self, field: StringField) -> None:
        from ..zones import is_zone

        if field.data and not is_zone(field.data):
            raise ValidationError("Choose a time zone from the list, such as Europe/London.")
