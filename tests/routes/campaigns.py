"""Routes of Sidebar › Campaigns: the list, and creating, editing and deleting a group's campaigns."""
from sqlalchemy import select

from ..access_matrix import RouteCase, World, group_page, members_enter, register, register_builder
from .media import media_rights as managers_and_above

from webapp.extensions import db
from webapp.models import Campaign, SocialProfile


@register_builder
def campaigns(world: World) -> None:
    """A campaign in every target group, linked to that group's profiles."""
    world.objects["campaign"] = {}
    for target, group in world.groups.items():
        profiles = db.session.scalars(select(SocialProfile).where(SocialProfile.access_group_id == group.id)).all()
        campaign = Campaign(access_group_id=group.id, name="Matrix Launch", profiles=list(profiles))
        db.session.add(campaign)
        world.objects["campaign"][target] = campaign
    db.session.flush()


def campaign_page(suffix: str = ""):
    """/g/<group>/campaigns/<campaign><suffix> for the target group's campaign."""
    return lambda world, target: (
        f"/g/{world.groups[target].id}/campaigns/{world.objects['campaign'][target].id}{suffix}")


# Managers and above manage campaigns, as they manage media; clients only see the list.
register(RouteCase("campaigns.index", "GET", group_page("campaigns"), members_enter(200)))
register(RouteCase("campaigns.create", "POST", group_page("campaigns"), managers_and_above(303),
                   data={"name": "Brand new campaign"}))
register(RouteCase("campaigns.edit", "GET", campaign_page("/edit"), managers_and_above(200)))
register(RouteCase("campaigns.update", "POST", campaign_page(), managers_and_above(303),
                   data={"name": "Renamed campaign", "starts_on": "2031-06-01"}))
register(RouteCase("campaigns.delete", "POST", campaign_page("/delete"), managers_and_above(303)))
