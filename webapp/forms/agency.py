"""Settings › Agency, and the time zone on Settings › Your account."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from .. import zones


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


def _known_zone(form, field) -> None:
    if not zones.is_zone(field.data):
        raise ValidationError("Choose a time zone from the list, such as Europe/London or America/New_York.")


class AgencyForm(FlaskForm):
    """Settings › Agency: the agency's name, how it reads times, and its brand."""

    name = StringField("Agency name", filters=[_stripped],
                       validators=[DataRequired(message="Enter the agency's name."), Length(max=120)])
    time_zone = StringField("Time zone", filters=[_stripped],
                            validators=[DataRequired(message="Choose the agency's time zone."), _known_zone])
    week_start = RadioField("Weeks start on", choices=[SelectChoice(value, label) for value, label in zones.WEEK_STARTS.items()],
                            validators=[InputRequired(message="Choose the first day of the week.")])
    clock = RadioField("Clock", choices=[SelectChoice(value, label) for value, label in zones.CLOCKS.items()],
                       validators=[InputRequired(message="Choose a 24-hour or a 12-hour clock.")])
    logo = FileField("Logo")
    remove_logo = BooleanField("Remove logo")
    accent_color = StringField("Accent colour", filters=[_stripped], validators=[
        DataRequired(message="Choose an accent colour."),
        Regexp(r"^#[0-9a-fA-F]{6}$", message="Choose a colour written as # and six hex digits, such as #1d4ed8."),
    ])


class TimeZoneForm(FlaskForm):
    """Settings › Your account: read times in the agency's zone, or in one's own."""

    zone_choice = RadioField("Time zone", choices=[SelectChoice("agency", "The agency's"), SelectChoice("own", "My own")],
                             validators=[InputRequired(message="Choose the agency's time zone or your own.")])
    time_zone = StringField("Your time zone", filters=[_stripped])

    def validate_time_zone(self, field: StringField) -> None:
        if self.zone_choice.data == "own":
            _known_zone(self, field)
