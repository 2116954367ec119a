"""Settings › Activity: the list's filters and where its page starts."""
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import activity as rules
from . import QueryForm
from .calendar import plausible_date


class ActivityFilterForm(QueryForm):
    """Who, which access group, what kind and which days; a malformed page cursor means the newest page."""

    person = IntegerField("Person", validators=[Optional()])
    group = IntegerField("Access group", validators=[Optional()])
    kind = SelectField("Kind", choices=[SelectChoice("", "Every kind"),
                                        *(SelectChoice(key, kind.label) for key, kind in rules.KINDS.items())],
                       validators=[Optional()])
    start = DateField("From", validators=[Optional(), plausible_date])
    end = DateField("To", validators=[Optional(), plausible_date])
    older = StringField(validators=[Optional(), Length(max=80)])
    newer = StringField(validators=[Optional(), Length(max=80)])

    def validate_end(self, field: DateField) -> None:
        if field.data is not None and self.start.data is not None and field.data < self.start.data:
            raise ValidationError("The last day comes before the first day.")
