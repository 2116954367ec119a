"""Routes of Settings › User Groups: the owner and admins of the account, each seeing their own."""
from ..access_matrix import RouteCase, World, account_object, account_settings, fixed, register, register_builder
from .. import factories
from ..html import HTMX


@register_builder
def user_groups(world: World) -> None:
    """A user group with a member in the visitors' account, one in the account next door, and one
    granted on the group only the owner enters (which admins may read but not change)."""
    world.objects["user_group"] = {
        target: factories.make_user_group(
            world.groups[target].account, f"Staff {target}", rights=["media.view"],
            members=[factories.owner_of(world.groups[target].account)], grants=[world.groups[target]],
        )
        for target in ("own", "foreign", "unassigned")
    }


def user_group_url(suffix: str = ""):
    """/settings/user-groups/<id><suffix> for the target account's user group."""
    return lambda world, target: f"/settings/user-groups/{world.objects['user_group'][target].id}{suffix}"


register(RouteCase("user_groups.index", "GET", fixed("/settings/user-groups"), account_settings(200)))
register(RouteCase("user_groups.create", "POST", fixed("/settings/user-groups"), account_settings(303),
                   data={"name": "Brand new user group"}))
register(RouteCase("user_groups.show", "GET", user_group_url(), account_object(200, beyond_admin=200)))
register(RouteCase("user_groups.edit", "GET", user_group_url("/edit"), account_object(200, beyond_admin=403)))
register(RouteCase("user_groups.update", "POST", user_group_url("/edit"), account_object(303, beyond_admin=403),
                   data={"name": "Renamed user group", "description": "", "icon": "star"}))
register(RouteCase("user_groups.rights", "GET", user_group_url("/rights"), account_object(200, beyond_admin=403)))
register(RouteCase("user_groups.save_rights", "POST", user_group_url("/rights"),
                   account_object(303, beyond_admin=403),
                   data={"rights": ["media.view", "media.upload"]}))
register(RouteCase("user_groups.save_grants", "POST", user_group_url("/access-groups"),
                   account_object(303, beyond_admin=403),
                   data={"access_groups": []}))
register(RouteCase("user_groups.candidates", "GET", user_group_url("/members/candidates"),
                   account_object(200, beyond_admin=403),
                   headers=HTMX))
register(RouteCase("user_groups.add_member", "POST", user_group_url("/members"),
                   account_object(303, beyond_admin=403),
                   data={"user_id": "0"}))
register(RouteCase("user_groups.remove_member", "POST", user_group_url("/members/999999/remove"),
                   account_object(303, beyond_admin=403)))
register(RouteCase("user_groups.clear_members", "POST", user_group_url("/members/clear"),
                   account_object(303, beyond_admin=403)))
register(RouteCase("user_groups.delete", "POST", user_group_url("/delete"), account_object(303, beyond_admin=403)))
