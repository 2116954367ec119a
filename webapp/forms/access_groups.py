"""Settings › Social Sets & Access Groups: naming a group, and its Users tab."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SearchField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from .. import access_groups as rules
from . import QueryForm, picked


class GroupNameForm(FlaskForm):
    name = StringField(
        "Name", filters=[rules.normalized_name],
        validators=[DataRequired(message="Enter a name for the access group."), Length(max=120)],
    )


class AddUserForm(FlaskForm):
    user_id = HiddenField(validators=picked("Choose someone to add."))
    ends_on = DateField("Access ends after (optional)", validators=[Optional()])


class EntryEndForm(FlaskForm):
    """Set or clear the last day of someone's entry on the Users tab."""

    ends_on = DateField("Last day of access", validators=[Optional()])
    clear = SubmitField("Clear end date")


class GrantUserGroupForm(FlaskForm):
    user_group_id = HiddenField(validators=picked("Choose a user group to add."))


class GroupListQuery(QueryForm):
    """The list's type-to-filter box, and where its next page starts."""

    q = SearchField("Find a group", validators=[Optional(), Length(max=120)])
    cursor = HiddenField(validators=[Optional(), Length(max=2000)])

    def text(self) -> str:
        """The filter typed, or nothing when it cannot be read (too long a text means no filter)."""
        return (self.q.data or "").strip() if self.validate() else ""

    def start(self) -> str | None:
        """The cursor of the page asked for; None for the first page."""
        return (self.cursor.data or None) if self.validate() else None

    def from_the_filter(self) -> bool:
        """The filter box sent the request (it always sends its field), not a link into the page."""
        return bool(self.q.raw_data)


class CandidateFilterForm(QueryForm):
    """The Add User search box."""

    q = SearchField("Find a member", validators=[Optional(), Length(max=120)])
