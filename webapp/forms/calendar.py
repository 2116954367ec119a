"""Sidebar › Calendar: which period or list page to show, and moving a post to another day."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TimeField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from .. import calendar as rules
from . import QueryForm


def plausible_date(form: FlaskForm, field: DateField) -> None:
    """Refuse a date no one means (year 1 or 9999), which the calendar could not show."""
    if field.data is not None and not rules.FIRST_YEAR <= field.data.year <= rules.LAST_YEAR:
        raise ValidationError(f"Choose a date between the years {rules.FIRST_YEAR} and {rules.LAST_YEAR}.")


class CalendarQuery(QueryForm):
    """The calendar's view, day and list page; what is invalid falls back."""

    view = SelectField(choices=list(rules.VIEWS), default="month")
    date = DateField(validators=[Optional(), plausible_date])
    when = SelectField(choices=list(rules.LISTS), default="upcoming")
    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def shown(self) -> rules.Shown:
        """The query's valid parts; a bad date means today, a bad view the month."""
        self.validate()
        default = rules.Shown()
        return rules.Shown(
            view=default.view if self.view.errors else self.view.data,
            day=None if self.date.errors else self.date.data,
            when=default.when if self.when.errors else self.when.data,
            cursor=None if self.cursor.errors else self.cursor.data or None,
        )

    def names_a_view(self) -> bool:
        """The query comes from the calendar's own links, which always name a view, not from a link into the page."""
        return bool(self.view.raw_data)


class RescheduleForm(FlaskForm):
    """A post's new day and, if given, its new time of day, both in the account's time zone."""

    new_date = DateField("Date", validators=[InputRequired(), plausible_date])
    new_time = TimeField("Time", validators=[Optional()])
    # Which of a time the clocks go through twice (autumn): "0" the first, "1" the second.
    fold = StringField("Which time", validators=[Optional(), AnyOf(("0", "1"), message="Choose one of the two times.")])

    def problem(self) -> str:
        """What is wrong with the form, in words for the page: its date, else its time (nothing else can be)."""
        if self.new_date.errors:
            return "Choose a valid date to move the post to."
        if self.fold.errors:
            return "Choose one of the two times."
        return "Enter a valid time of day, such as 09:30."
