"""Settings › Team: inviting someone by email, with a name, a role and access groups."""
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts import normalize_email
from . import CheckboxListField, QueryForm, email_address


def _single_spaced(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


class InviteForm(FlaskForm):
    """Who to invite, as what, into which groups; the view offers the roles and groups this inviter may give."""

    name = StringField(
        "Name", filters=[_single_spaced],
        validators=[Optional(), Length(max=120, message="Keep the name to 120 characters or fewer.")],
    )
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


class TeamQuery(QueryForm):
    """The Team page's address: a group to tick in the invite form, and the invitation just sent."""

    group = IntegerField(validators=[Optional()])
    sent = IntegerField(validators=[Optional()])
