"""Getting back in: asking for a reset link, and setting a new password from one."""
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from . import email_address
from .settings import ChangePasswordForm


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", filters=[_stripped],
                       validators=[DataRequired(message="Enter your email."), email_address, Length(max=254)])


class ResetPasswordForm(FlaskForm):
    """A new password from a reset link: the very fields (and rules) of Settings' change-password form."""

    new_password = ChangePasswordForm.new_password
    confirm = ChangePasswordForm.confirm
