"""Settings › Team: inviting someone by email, with a role and access groups."""
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField
from wtforms.validators import DataRequired, Length

from ..accounts import normalize_email
from . import CheckboxListField, email_address


class InviteForm(FlaskForm):
    """Who to invite, as what, into which groups; the view offers the roles and groups this inviter may give."""

    email = EmailField(
        "Email", filters=[lambda value: normalize_email(value) if value else value],
        validators=[DataRequired(message="Enter the email address of the person to invite."),
                    Length(max=254), email_address],
    )
    # The rules explain a refused role (above the inviter's own, the owner's) better than "Not a valid choice".
    role = RadioField("Role", validate_choice=False)
    access_groups = CheckboxListField(
        "Access groups", coerce=int,
        invalid_choice_message="You can only invite people into access groups you can enter.",
    )
