"""LinkedIn: who a connected profile posts as, the member or one of their Pages."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired


class AuthorForm(FlaskForm):
    """The pending choice (its id in the session) and the answer: "me" or a Page's id."""

    choice = HiddenField(validators=[DataRequired()])
    # The offered answers live in the session's choice; the rules check the answer against them.
    author = RadioField("Post as", choices=[], validate_choice=False,
                        validators=[DataRequired(message="Choose who posts: yourself or one of your Pages.")])
