"""Routes of social profiles: a group's slots, connecting over OAuth, transfer, removal and approval settings."""
from .. import factories
from ..access_matrix import SIGN_IN, VISITORS, RouteCase, World, members_enter, register, register_builder
from .access_groups import admins_only
from webapp.models import Network


@register_builder
def profile_slots(world: World) -> None:
    """In every target group: an empty set to connect into and a set holding a TikTok profile."""
    world.objects["profiles"] = {}
    for target, group in world.groups.items():
        empty = factories.make_social_set(group, "Connect here")
        held = factories.make_social_set(group, "Held")
        world.objects["profiles"][target] = {
            "empty_set": empty, "profile": factories.make_profile(held, Network.TIKTOK),
        }


def empty_set_url(action: str):
    """/social-sets/<set>/<action> for the target group's empty set."""
    return lambda world, target: f"/social-sets/{world.objects['profiles'][target]['empty_set'].id}/{action}"


def profile_url(action: str):
    return lambda world, target: f"/profiles/{world.objects['profiles'][target]['profile'].id}/{action}"


def approval_url(world: World, target: str) -> str:
    return (f"/settings/access-groups/{world.groups[target].id}/profiles/"
            f"{world.objects['profiles'][target]['profile'].id}/approval")


register(RouteCase("profiles.index", "GET",
                   lambda world, target: f"/g/{world.groups[target].id}/profiles", members_enter(200)))
# Everyone who may enter a group may connect into it (clients too): off to the provider.
register(RouteCase("profiles.connect", "POST", empty_set_url("connect"), members_enter(303),
                   data={"network": "instagram", "origin": "group"}))
# Past the policy, an offer that was never made is refused: 400 for all who may connect there.
register(RouteCase("profiles.transfer", "POST", empty_set_url("transfer"), members_enter(400),
                   data={"offer": "never-offered"}))
# Only owner and admins remove a profile somebody else connected (a client only their own).
register(RouteCase("profiles.remove", "POST", profile_url("remove"), admins_only(303),
                   data={"origin": "group"}))
# The callback asks for a signed-in user; a state from no flow of theirs is refused.
register(RouteCase("profiles.callback", "GET",
                   lambda world, target: "/oauth/callback/instagram?state=forged&code=forged",
                   {"none": {visitor: (SIGN_IN if visitor == "anonymous" else 400) for visitor in VISITORS}}))
# A profile's approval settings are the group's owner's and admins'; an empty form turns approval off.
register(RouteCase("profiles.approval", "GET", approval_url, admins_only(200)))
register(RouteCase("profiles.approval", "POST", approval_url, admins_only(303)))
