"""Routes of Settings › User Groups: the owner and admins of the account, each seeing their own."""
from ..access_matrix import SIGN_IN, RouteCase, World, fixed, register, register_builder
from .. import factories


@register_builder
def user_groups(world: World) -> None:
    """A user group with a member in the visitors' account, and one in the account next door."""
    world.objects["user_group"] = {
        target: factories.make_user_group(
            world.groups[target].account, f"Staff {target}", rights=["media.view"],
            members=[factories.owner_of(world.groups[target].account)], grants=[world.groups[target]],
        )
        for target in ("own", "foreign")
    }


def user_group_url(suffix: str = ""):
    """/settings/user-groups/<id><suffix> for the target account's user group."""
    return lambda world, target: f"/settings/user-groups/{world.objects['user_group'][target].id}{suffix}"


def account_page(ok: int) -> dict[str, dict[str, int]]:
    """Owner and admins manage members; the other account's owner sees their own account's groups."""
    return {"none": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                     "admin": ok, "owner": ok}}


def one_user_group(ok: int) -> dict[str, dict[str, int]]:
    """A user group of the visitors' account, or of the one next door (not found from the other side)."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": ok, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                    "admin": 404, "owner": 404},
    }


register(RouteCase("user_groups.index", "GET", fixed("/settings/user-groups"), account_page(200)))
register(RouteCase("user_groups.create", "POST", fixed("/settings/user-groups"), account_page(303),
                   data={"name": "Brand new user group"}))
register(RouteCase("user_groups.show", "GET", user_group_url(), one_user_group(200)))
register(RouteCase("user_groups.edit", "GET", user_group_url("/edit"), one_user_group(200)))
register(RouteCase("user_groups.update", "POST", user_group_url("/edit"), one_user_group(303),
                   data={"name": "Renamed user group", "description": "", "icon": "star"}))
register(RouteCase("user_groups.rights", "GET", user_group_url("/rights"), one_user_group(200)))
register(RouteCase("user_groups.save_rights", "POST", user_group_url("/rights"), one_user_group(303),
                   data={"rights": ["media.view", "media.upload"]}))
register(RouteCase("user_groups.save_grants", "POST", user_group_url("/access-groups"), one_user_group(303),
                   data={"access_groups": []}))
register(RouteCase("user_groups.candidates", "GET", user_group_url("/members/candidates"), one_user_group(200),
                   headers={"HX-Request": "true"}))
register(RouteCase("user_groups.add_member", "POST", user_group_url("/members"), one_user_group(303),
                   data={"user_id": "0"}))
register(RouteCase("user_groups.remove_member", "POST", user_group_url("/members/999999/remove"),
                   one_user_group(303)))
register(RouteCase("user_groups.clear_members", "POST", user_group_url("/members/clear"), one_user_group(303)))
register(RouteCase("user_groups.delete", "POST", user_group_url("/delete"), one_user_group(303)))
