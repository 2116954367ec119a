"""Access group pages: the access group switcher."""
from wtforms import HiddenField, SearchField
from wtforms.validators import AnyOf, Length, Optional

from . import QueryForm


class GroupFilterForm(QueryForm):
    """The switcher's type-to-filter box."""

    q = SearchField("Filter groups", validators=[Optional(), Length(max=120)])
    # The page the options lead to in the chosen group: the one the user is on, where it has one.
    section = HiddenField(validators=[Optional(), AnyOf(["home", "profiles", "calendar", "media", "campaigns"])])
