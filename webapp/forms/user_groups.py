"""Settings › User Groups: a group's name and details, members, rights and access groups."""
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SearchField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import policy
from .. import user_groups as rules
from ..models import AccessGroup
from . import CheckboxListField, QueryForm, picked


class NameForm(FlaskForm):
    name = StringField(
        "Name", filters=[rules.normalized_name],
        validators=[DataRequired(message="Enter a name for the user group."), Length(max=rules.NAME_MAX)],
    )


class DetailsForm(FlaskForm):
    name = StringField(
        "Title", filters=[rules.normalized_name],
        validators=[DataRequired(message="Enter a name for the user group."), Length(max=rules.NAME_MAX)],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=rules.DESCRIPTION_MAX)])
    icon = RadioField("Icon", choices=[SelectChoice(name, label) for name, label in rules.ICONS.items()],
                      invalid_choice_message="Choose one of the icons shown.")


class AddMemberForm(FlaskForm):
    user_id = HiddenField(validators=picked("Choose someone to add."))
    expires_on = DateField("Membership ends on", validators=[Optional()])


class RightsForm(FlaskForm):
    rights = CheckboxListField("Rights", choices=list(policy.RIGHTS),
                               invalid_choice_message="Choose rights from the list shown.")


class GrantsForm(FlaskForm):
    # An id that is not a number is no more on the list than one that is not offered.
    access_groups = CheckboxListField("Access groups", coerce=int,
                                      invalid_value_message="Choose access groups from the list shown.",
                                      invalid_choice_message="Choose access groups from the list shown.")

    def __init__(self, *args, offered: Iterable[AccessGroup], **kwargs) -> None:
        """The form offers the access groups the editor may enter, and accepts no other."""
        super().__init__(*args, **kwargs)
        self.access_groups.choices = [SelectChoice(group.id, group.name) for group in offered]


class CandidateFilterForm(QueryForm):
    """The member picker's search box."""

    q = SearchField("Find a member", validators=[Optional(), Length(max=120)])
