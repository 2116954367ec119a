"""The social sets of an access group: a set's name."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .. import social_sets as rules
from ..access_groups import normalized_name


class SocialSetNameForm(FlaskForm):
    """The name of a new or renamed social set; the rules check it again, and its uniqueness."""

    name = StringField("Name", filters=[normalized_name], validators=[
        DataRequired(message="Enter a name for the social set."),
        Length(max=rules.NAME_MAX_LENGTH,
               message=f"Keep the name to {rules.NAME_MAX_LENGTH} characters or fewer."),
    ])

    def problem(self) -> str:
        """What is wrong with the submitted name, in words for the page."""
        return " ".join(self.name.errors)
