"""The emailed invitation link: a new member's name and password."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import password_length


def _single_spaced(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


class NewMemberForm(FlaskForm):
    name = StringField(
        "Your name", filters=[_single_spaced],
        validators=[DataRequired(message="Enter your name."), Length(max=120)],
    )
    password = PasswordField("Password", validators=[DataRequired(message="Choose a password."), password_length])
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("password", message="The two passwords differ.")]
    )
