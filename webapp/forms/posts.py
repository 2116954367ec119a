"""Posts: the composer and its media picker, and a post's comments, decisions and confirmed changes."""
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from .. import network_rules
from .. import posts as rules
from ..models import SocialProfile
from . import QueryForm


class ComposeForm(FlaskForm):
    """The composer: profiles, caption, attachments and the time to publish, in the account's zone."""

    profiles = SelectMultipleField("Social profiles", coerce=int,
                                   invalid_choice_message="Choose profiles of this access group.")
    caption = TextAreaField("Caption", validators=[Length(max=max(network_rules.CAPTION_LIMITS.values()))])
    # Only the chosen items are looked up, not the whole library; the view says "Attach items from this
    # group's media library." of one it does not find, as the rules do of another group's.
    media = SelectMultipleField("Attachments", coerce=int, validate_choice=False)
    date = DateField("Date", validators=[Optional()])
    time = TimeField("Time", validators=[Optional()])
    # Which of a time the clocks go through twice (autumn): "0" the first, "1" the second.
    fold = StringField("Which time", validators=[Optional(), AnyOf(("0", "1"), message="Choose one of the two times.")])
    # Options some networks take (network_rules.OPTION_NETWORKS); each post keeps those of its network.
    content_warning = StringField("Content warning", validators=[Optional(), Length(
        max=network_rules.CONTENT_WARNING_MAX,
        message=f"Keep the content warning to {network_rules.CONTENT_WARNING_MAX} characters.")])
    visibility = SelectField(
        "Who can see it", choices=[SelectChoice(value, label) for value, label in network_rules.VISIBILITIES.items()],
        default=network_rules.DEFAULT_VISIBILITY,
        invalid_choice_message="Choose who can see the post: public, unlisted, followers only or mentioned people "
                               "only.")
    language = SelectField(
        "Language", choices=[SelectChoice("", "Not set")] + [
            SelectChoice(code, name)
            for code, name in sorted(network_rules.LANGUAGES.items(), key=lambda pair: pair[1])],
        default="", invalid_choice_message="Choose the post's language from the list, or leave it not set.")
    save_draft = SubmitField("Save draft")
    schedule = SubmitField("Schedule")

    def __init__(self, *args, offered: Iterable[SocialProfile] | None = None, **kwargs) -> None:
        """The form accepts only the `offered` profiles; a form that is only shown needs none."""
        super().__init__(*args, **kwargs)
        if offered is not None:
            self.profiles.choices = [SelectChoice(profile.id, f"@{profile.handle}") for profile in offered]

    def validate_date(self, field: DateField) -> None:
        if field.data is not None and not 2000 <= field.data.year <= 2999:
            raise ValidationError("Choose a date between the years 2000 and 2999.")

    def options(self) -> dict[str, str]:
        """The network options as chosen (`network_rules.options_for` keeps those of each post's network)."""
        return {"content_warning": (self.content_warning.data or "").strip(),
                "visibility": self.visibility.data or network_rules.DEFAULT_VISIBILITY,
                "language": self.language.data or ""}

    def show_options(self, options: dict | None) -> None:
        """Fill the option fields with a post's options."""
        options = options or {}
        self.content_warning.data = options.get("content_warning", "")
        self.visibility.data = options.get("visibility", network_rules.DEFAULT_VISIBILITY)
        self.language.data = options.get("language", "")

    def problem(self) -> rules.PostError:
        """What is wrong with the form, in words for the page, about the first input that is wrong."""
        messages = [message for errors in self.errors.values() for message in errors]
        return rules.PostError(" ".join(messages), field=next(iter(self.errors), None))


class ComposerQuery(QueryForm):
    """The day a new post's composer starts on, as the calendar's links give it; a bad one is left out."""

    date = DateField(validators=[Optional()])


class PickerQuery(QueryForm):
    """The media picker's search, with the items already chosen."""

    q = SearchField("Search the media library", validators=[Optional(), Length(max=120)])
    # The chosen items stay on top; an id that names nothing in this library is left out, not refused.
    media = SelectMultipleField(coerce=int, validate_choice=False)


class ListQuery(QueryForm):
    """Where a page of one of the post's lists starts; a bad cursor means the first page."""

    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def start(self) -> str | None:
        return (self.cursor.data or None) if self.validate() else None


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[Length(max=rules.COMMENT_MAX_LENGTH)])


class DecisionForm(FlaskForm):
    note = TextAreaField("Note", validators=[Length(max=rules.NOTE_MAX_LENGTH)])
    approve = SubmitField("Approve")
    feedback = SubmitField("Send feedback")
    reject = SubmitField("Reject")

    def decision(self) -> str | None:
        for name in ("approve", "feedback", "reject"):
            if getattr(self, name).data:
                return name
        return None


class ConfirmForm(FlaskForm):
    """A confirmed action that carries nothing but its CSRF token."""
