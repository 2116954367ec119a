"""The Page picker: which Facebook Page or Instagram account a slot connects to."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class PickForm(FlaskForm):
    """The chosen Page or Instagram account, by its id on Facebook (the picker lists them)."""

    choice = StringField(validators=[DataRequired(message="Choose one from the list to connect it."),
                                     Length(max=64, message="Choose one from the list to connect it.")])
