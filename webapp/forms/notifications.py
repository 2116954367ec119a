"""Notifications: where a page of the list starts, Mark all as read, and the delivery choices."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from .. import notifications as rules
from . import QueryForm


class NotificationListQuery(QueryForm):
    """Where a page of the list starts; a bad cursor means the first page."""

    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def start(self) -> str | None:
        return (self.cursor.data or None) if self.validate() else None


class MarkAllReadForm(FlaskForm):
    """Mark all as read: nothing but its CSRF token."""


def _delivery_field(label: str) -> RadioField:
    return RadioField(label, choices=[SelectChoice(value, label) for value, label in rules.DELIVERY_LABELS.items()],
                      validators=[InputRequired(message="Choose how you hear of these.")])


class PreferencesForm(FlaskForm):
    """One delivery choice per kind a person may choose for (approval requests stay in the app)."""

    comment_added = _delivery_field(rules.KIND_LABELS["comment_added"])
    decision_made = _delivery_field(rules.KIND_LABELS["decision_made"])
    publish_failed = _delivery_field(rules.KIND_LABELS["publish_failed"])
    access_granted = _delivery_field(rules.KIND_LABELS["access_granted"])
    access_ending = _delivery_field(rules.KIND_LABELS["access_ending"])

    def choices(self) -> dict[str, str]:
        return {field.name: field.data for field in self if isinstance(field, RadioField)}
