"""Settings › Team › a member: role, own rights, client grants, approver and end date."""
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectMultipleField, SubmitField
from wtforms.validators import InputRequired, Optional


class RoleForm(FlaskForm):
    # The rules explain a refused role better than "Not a valid choice".
    role = RadioField("Role", validators=[InputRequired(message="Choose a role.")], validate_choice=False)


class RightsForm(FlaskForm):
    # The rules explain a refused right or grant better than "Not a valid choice" (which ones the
    # member's role cannot hold), and only once the editor may change this member at all.
    rights = SelectMultipleField("Own rights", validate_choice=False)
    grants = SelectMultipleField("Client grants", validate_choice=False)


class ApproverForm(FlaskForm):
    # The rules explain a profile the client cannot see better than "Not a valid choice".
    profiles = SelectMultipleField("Approver for", coerce=int, validate_choice=False,
                                   invalid_value_message="Choose among the profiles listed.")


class ExpiryForm(FlaskForm):
    expires_on = DateField("Last day of access", validators=[Optional()])
    clear = SubmitField("Remove end date")
