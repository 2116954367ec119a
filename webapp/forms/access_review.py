"""Who can enter which group with which rights, and why: the review's filters and the explainer's question."""
from wtforms import HiddenField, IntegerField, SearchField, SelectChoice, SelectField
from wtforms.validators import Optional

from .. import access_review as rules
from . import QueryForm


class ReviewFilterForm(QueryForm):
    """The review's filters, and where the page of rows starts."""

    q = SearchField("Person")
    group = IntegerField("Access group", validators=[Optional()])
    cursor = HiddenField(validators=[Optional()])  # a malformed one means the first page


def _actions() -> list[SelectChoice]:
    """What the explainer may be asked: entering the group or holding one of the rights, by area."""
    return [SelectChoice(value, label, optgroup=area)
            for area, pairs in rules.action_choices() for value, label in pairs]


class WhyForm(QueryForm):
    """The explainer's question; any part may be left out."""

    user_id = IntegerField("Person", validators=[Optional()])
    group_id = IntegerField("Access group", validators=[Optional()])
    action = SelectField("Action", choices=_actions, validators=[Optional()])
