"""Social profiles: connecting one into a slot, taking a transfer offer, removing one, and its approval."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired

from .. import profiles as rules
from ..models import Network


def _known_origin(origin: str | None) -> str:
    """The page to go back to; one not ours (an old page, a hand-made form) means the settings tab."""
    return origin if origin in rules.ORIGINS else "settings"


class ConnectForm(FlaskForm):
    """Which empty slot of the set to connect, and the page the person started from."""

    network = SelectField(choices=[network.value for network in Network], validators=[DataRequired()])
    origin = SelectField(choices=list(rules.ORIGINS), default="settings", filters=[_known_origin])
    reconnect = BooleanField()


class TransferForm(FlaskForm):
    """An accepted transfer offer, kept in the session under this id."""

    offer = HiddenField(validators=[DataRequired()])


class RemoveForm(FlaskForm):
    """Removing a profile; `origin` says which page to go back to."""

    origin = SelectField(choices=list(rules.ORIGINS), default="settings", filters=[_known_origin])


class ApprovalForm(FlaskForm):
    """Whether the profile's posts need client approval, and who approves them."""

    needs_approval = BooleanField("Needs client approval")
    # The rules name the chosen people who cannot see the profile better than "Not a valid choice".
    approvers = SelectMultipleField("Approvers", coerce=int, validate_choice=False,
                                    invalid_value_message="Choose approvers from the list shown.")
