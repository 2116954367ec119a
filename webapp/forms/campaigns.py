"""Sidebar › Campaigns: a campaign's name, dates and linked social profiles."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import Optional

from .. import campaigns as rules
from ..access_groups import normalized_name
from ..models import Campaign, SocialProfile


class CampaignForm(FlaskForm):
    """A campaign's name, dates and profiles; the rules check them all, the form only reads them."""

    name = StringField("Name", filters=[normalized_name], render_kw={"maxlength": rules.NAME_MAX_LENGTH})
    starts_on = DateField("Start date", validators=[Optional()])
    ends_on = DateField("End date", validators=[Optional()])
    # The rules say how many of the chosen profiles are not the group's, and whose profiles to choose,
    # better than "Not a valid choice".
    profiles = SelectMultipleField("Social profiles", coerce=int, validate_choice=False,
                                   invalid_value_message="Choose the profiles from the list.")

    @classmethod
    def of(cls, campaign: Campaign, offered: list[SocialProfile]) -> "CampaignForm":
        """The form filled in with the campaign as it is, ticking the linked profiles the user can see."""
        offered_ids = {profile.id for profile in offered}
        return cls(formdata=None, name=campaign.name, starts_on=campaign.starts_on, ends_on=campaign.ends_on,
                   profiles=[profile.id for profile in campaign.profiles if profile.id in offered_ids])

    def details(self) -> rules.CampaignDetails:
        """What the form says, for the rules to check."""
        return rules.CampaignDetails(self.name.data or "", self.starts_on.data, self.ends_on.data,
                                     tuple(self.profiles.data or ()))

    def refuse(self, problem: rules.CampaignError) -> None:
        """Show what the rules refused beside the input it is about."""
        getattr(self, problem.field).errors.append(str(problem))
