"""Forms, beside the views they serve: one module per area, and here what they share."""
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts import MIN_PASSWORD_LENGTH


class QueryForm(FlaskForm):
    """A GET filter or query read from the URL: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def picked(message: str) -> list:
    """Validators for the id a picker puts in a hidden input: given, and a whole number (else `message`)."""
    return [DataRequired(message=message), Regexp(r"^\d+$", message=message)]


def email_address(form, field) -> None:
    """A well-formed address; agencies on private domains may use them, so no DNS or TLD checks."""
    try:
        validate_email(
            field.data or "", check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError:
        raise ValidationError("Enter a valid email address.") from None


password_length = Length(
    min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
)


# Forms other modules import from here; below what they build on, which they import from this package.
from .auth import SetupForm, SignInForm  # noqa: E402
from .groups import GroupFilterForm  # noqa: E402
from .settings import ChangePasswordForm  # noqa: E402

__all__ = [
    "ChangePasswordForm",
    "CheckboxListField",
    "GroupFilterForm",
    "QueryForm",
    "SetupForm",
    "SignInForm",
    "email_address",
    "password_length",
]
