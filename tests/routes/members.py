"""Routes of Settings › Team › a member: only the owner and admins manage members, each in their own account."""
from webapp.models import Role, utcnow

from .. import factories
from ..access_matrix import RouteCase, World, account_object, register, register_builder


@register_builder
def members_to_manage(world: World) -> None:
    """A client in the visitors' account, one in the account next door, and one who enters the group
    only the owner enters (whose role, rights and end date admins may not change)."""
    world.objects["member"] = {
        target: factories.make_member(world.groups[target].account, Role.CLIENT, groups=[world.groups[target]],
                                      name=f"Member {target}")
        for target in ("own", "foreign", "unassigned")
    }
    # The same again, deactivated: reactivating them is the change each visitor asks for.
    world.objects["deactivated_member"] = {
        target: factories.make_member(world.groups[target].account, Role.CLIENT, groups=[world.groups[target]],
                                      name=f"Deactivated {target}")
        for target in ("own", "foreign", "unassigned")
    }
    for user in world.objects["deactivated_member"].values():
        user.memberships[0].deactivated_at = utcnow()


def member_url(action: str = "", who: str = "member"):
    """/settings/team/members/<id>[/<action>] for the target account's client (or deactivated client)."""
    suffix = f"/{action}" if action else ""
    return lambda world, target: f"/settings/team/members/{world.objects[who][target].id}{suffix}"


register(RouteCase("members.show", "GET", member_url(), account_object(200, beyond_admin=200)))
register(RouteCase("members.save", "POST", member_url(), account_object(303, beyond_admin=403),
                   data={"sections": ["role", "rights", "expiry"], "role": Role.CLIENT.value, "grants": ["analytics"],
                         "expires_on": "2031-01-31"}))
register(RouteCase("members.transfer_ownership", "POST", member_url("transfer-ownership"),
                   account_object(303, owner_only=True)))
register(RouteCase("members.send_password_reset", "POST", member_url("password-reset"),
                   account_object(303, beyond_admin=403)))
register(RouteCase("members.deactivate", "POST", member_url("deactivate"), account_object(303, beyond_admin=403)))
register(RouteCase("members.reactivate", "POST", member_url("reactivate", "deactivated_member"),
                   account_object(303, beyond_admin=403)))
register(RouteCase("members.remove", "POST", member_url("remove"), account_object(303, beyond_admin=403)))
