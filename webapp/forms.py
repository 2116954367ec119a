"""Forms shared across blueprints."""
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SearchField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, ValidationError

from .accounts import MIN_PASSWORD_LENGTH


def email_address(form, field) -> None:
    """A well-formed address; agencies on private domains may use them, so no DNS or TLD checks."""
    try:
        validate_email(
            field.data or "", check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError:
        raise ValidationError("Enter a valid email address.") from None


_password_length = Length(
    min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])


class SetupForm(FlaskForm):
    agency_name = StringField(
        "Agency name", filters=[lambda v: v.strip() if v else v],
        validators=[DataRequired(message="Enter your agency's name."), Length(max=120)],
    )
    owner_name = StringField(
        "Your name", filters=[lambda v: v.strip() if v else v],
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
    password = PasswordField("Password", validators=[DataRequired(message="Choose a password."), _password_length])
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("password", message="The two passwords differ.")]
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password.")]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(message="Choose a new password."), _password_length]
    )
    confirm = PasswordField(
        "Repeat new password", validators=[EqualTo("new_password", message="The two passwords differ.")]
    )


class GroupFilterForm(FlaskForm):
    """The switcher's type-to-filter box: a GET filter, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Filter groups", validators=[Optional(), Length(max=120)])
    # The page the options lead to in the chosen group: the one the user is on, where it has one.
    section = HiddenField(validators=[Optional(), AnyOf(["home", "profiles", "calendar", "media", "campaigns"])])
