"""Routes of Settings › Social Sets & Access Groups."""
from datetime import date, timedelta

from .. import factories
from ..access_matrix import SIGN_IN, RouteCase, World, account_settings, fixed, register, register_builder
from ..html import HTMX

GROUP_TARGETS = ("own", "unassigned", "foreign")


@register_builder
def user_groups_for_the_users_tab(world: World) -> None:
    """For each target group: a user group of its account granted on it, and one that is not.

    Both are empty, so they change nobody's access; they give the grant and revoke routes an object.
    """
    world.objects["granted_user_group"] = {}
    world.objects["offered_user_group"] = {}
    for target in GROUP_TARGETS:
        group = world.groups[target]
        world.objects["granted_user_group"][target] = factories.make_user_group(
            group.account, f"Users tab granted {target}", grants=[group])
        world.objects["offered_user_group"][target] = factories.make_user_group(
            group.account, f"Users tab offered {target}")


def settings_url(suffix: str = ""):
    """A URL under /settings/access-groups/<group> for the target group."""
    return lambda world, target: f"/settings/access-groups/{world.groups[target].id}{suffix}"


def admins_only(ok: int) -> dict[str, dict[str, int]]:
    """Owner and admins (in groups they may enter); managers and clients see the group but may not."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": ok, "owner": ok},
        "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 404,
                       "manager": 404, "admin": 404, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 404, "manager": 404,
                    "admin": 404, "owner": 404},
    }


register(RouteCase("access_groups.index", "GET", fixed("/settings/access-groups"), account_settings(200, admin=200)))
register(RouteCase("access_groups.create", "POST", fixed("/settings/access-groups"), account_settings(303, admin=403),
                   data={"name": "Brand new group"}))
register(RouteCase("access_groups.edit", "GET", settings_url(), admins_only(200)))
register(RouteCase("access_groups.rename", "POST", settings_url("/rename"), admins_only(303),
                   data={"name": "Renamed group"}))
# Every target holds content, so deleting is refused: still a redirect back with the reason.
register(RouteCase("access_groups.delete", "POST", settings_url("/delete"), admins_only(303)))
register(RouteCase("access_groups.candidates", "GET", settings_url("/users/candidates"), admins_only(200),
                   headers=HTMX))
# Nobody with id 0 or 999999 can be added or is on the tab: those who may try are told so with 422.
register(RouteCase("access_groups.add_user", "POST", settings_url("/users"), admins_only(422),
                   data={"user_id": "0"}))
register(RouteCase("access_groups.remove_user", "POST", settings_url("/users/999999/remove"), admins_only(422)))
register(RouteCase("access_groups.set_user_expiry", "POST", settings_url("/users/999999/expiry"), admins_only(422),
                   data={"ends_on": (date.today() + timedelta(days=30)).isoformat()}))
# Granting user groups also needs members.manage, which only the owner and admins hold.
register(RouteCase("access_groups.grant_user_group", "POST", settings_url("/user-groups"), admins_only(303),
                   data=lambda world, target: {"user_group_id": world.objects["offered_user_group"][target].id}))
register(RouteCase(
    "access_groups.revoke_user_group", "POST",
    lambda world, target: (f"/settings/access-groups/{world.groups[target].id}/user-groups/"
                           f"{world.objects['granted_user_group'][target].id}/remove"),
    admins_only(303),
))
