"""Bluesky: signing a profile in with its handle and an app password."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..publishers import bluesky
from .profiles import _known_origin


def _handle(typed: str | None) -> str | None:
    """A handle as people write it, "@maya.bsky.social", is the handle maya.bsky.social."""
    return typed.strip().lstrip("@") if typed else typed


class ConnectForm(FlaskForm):
    """The profile's handle, an app password for it, and the server (PDS) it lives on; plus the slot's
    own choices (the page to go back to, and whether a profile that needs it is signed in again)."""

    handle = StringField("Handle", filters=[_handle], validators=[
        DataRequired(message="Enter the profile's handle, like maya.bsky.social."),
        Length(max=253, message="A Bluesky handle is at most 253 characters."),
    ])
    app_password = PasswordField("App password", validators=[
        DataRequired(message="Enter an app password made for Roster."),
        Length(max=200, message="That is too long for an app password."),
    ])
    service_url = StringField("Server", default=bluesky.DEFAULT_SERVICE, filters=[lambda typed: (typed or "").strip()],
                              validators=[DataRequired(message="Enter the server the profile is on, like bsky.social."),
                                          Length(max=200, message="That address is too long.")])
    origin = HiddenField(default="settings", filters=[_known_origin])
    reconnect = BooleanField()

    def validate_service_url(self, field: StringField) -> None:
        try:
            field.data = bluesky.service_address(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None
