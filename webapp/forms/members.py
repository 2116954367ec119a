"""Settings › Team › a member: one form for role, own rights or client grants, approver and end date."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectMultipleField
from wtforms.validators import AnyOf, Optional

# The sections of the member page the form may carry; each is applied only when the page showed it.
SECTIONS = ("role", "rights", "approver", "expiry")


class MemberForm(FlaskForm):
    # Which sections the page showed: a section left out is left as it is, while a section sent with
    # every box unticked clears it.
    sections = SelectMultipleField("Sections", validate_choice=False)  # `sent` keeps only the known ones
    # The rules explain a refused role, right, grant or profile better than "Not a valid choice".
    role = RadioField("Role", validators=[Optional()], validate_choice=False)
    rights = SelectMultipleField("Own rights", validate_choice=False)
    grants = SelectMultipleField("Client grants", validate_choice=False)
    profiles = SelectMultipleField("Approver for", coerce=int, validate_choice=False,
                                   invalid_value_message="Choose among the profiles listed.")
    expires_on = DateField("Last day of access", validators=[Optional()])

    def problems(self) -> dict[str, str]:
        """Each sent section's input problem (before any rule is asked), by section."""
        self.validate()
        sent = self.sent()
        found = {}
        if "role" in sent and not self.role.data:
            found["role"] = "Choose a role."
        if "approver" in sent and self.profiles.errors:
            found["approver"] = " ".join(self.profiles.errors)
        if "expiry" in sent and self.expires_on.errors:
            found["expiry"] = "Enter the last day as a date, or leave it empty for no end date."
        return found

    def sent(self) -> frozenset[str]:
        return frozenset(self.sections.data or []) & frozenset(SECTIONS)


class ReturnForm(FlaskForm):
    # Where a reactivation returns to: the Team list when it came from there, else the member page.
    back = HiddenField(validators=[Optional(), AnyOf(["team"])])
