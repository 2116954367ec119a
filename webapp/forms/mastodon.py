"""Mastodon: the instance a profile is connected from."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from .profiles import _known_origin


class InstanceForm(FlaskForm):
    """The instance the profile lives on, and the slot's own choices (the page to go back to, and
    whether a profile that needs it is being signed in again)."""

    instance = StringField("Your Mastodon server", validators=[
        DataRequired(message="Enter your Mastodon server, like mastodon.social."),
        Length(max=255, message="That address is too long for a Mastodon server."),
    ])
    origin = HiddenField(default="settings", filters=[_known_origin])
    reconnect = BooleanField()
