"""Settings pages of the signed-in user."""
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from . import password_length


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password.")]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(message="Choose a new password."), password_length]
    )
    confirm = PasswordField(
        "Repeat new password", validators=[EqualTo("new_password", message="The two passwords differ.")]
    )
