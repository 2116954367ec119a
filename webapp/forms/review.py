"""Review from an emailed link: one decision on one post."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from .. import posts as post_rules
from ..models import Decision


class DecisionForm(FlaskForm):
    """One decision on one post: which, and the note (required for feedback and rejecting)."""

    decision = HiddenField(validators=[AnyOf([d.value for d in Decision],
                                             message="Choose Approve, Feedback or Reject.")])
    note = TextAreaField(validators=[Length(max=post_rules.NOTE_MAX_LENGTH,
                                            message=f"Keep the note to {post_rules.NOTE_MAX_LENGTH:,} characters.")])


class UndoForm(FlaskForm):
    """Take back a decision just given: the post's version shown with it, so a newer change refuses it."""

    version = IntegerField(validators=[InputRequired(message="Reload the page and try again.")])
