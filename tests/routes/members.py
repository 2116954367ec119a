"""Routes of Settings › Team › a member: only the owner and admins manage members, each in their own account."""
from webapp.models import Role

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


def member_url(action: str = ""):
    """/settings/team/members/<id>[/<action>] for the target account's client."""
    suffix = f"/{action}" if action else ""
    return lambda world, target: f"/settings/team/members/{world.objects['member'][target].id}{suffix}"


register(RouteCase("members.show", "GET", member_url(), account_object(200, beyond_admin=200)))
register(RouteCase("members.change_role", "POST", member_url("role"), account_object(303, beyond_admin=403),
                   data={"role": Role.MANAGER.value}))
register(RouteCase("members.transfer_ownership", "POST", member_url("transfer-ownership"),
                   account_object(303, owner_only=True)))
register(RouteCase("members.change_rights", "POST", member_url("rights"), account_object(303, beyond_admin=403),
                   data={"grants": ["analytics"]}))
register(RouteCase("members.change_approver", "POST", member_url("approver"), account_object(303, beyond_admin=303)))
register(RouteCase("members.change_expiry", "POST", member_url("expiry"), account_object(303, beyond_admin=403),
                   data={"expires_on": "2031-01-31"}))
register(RouteCase("members.send_password_reset", "POST", member_url("password-reset"),
                   account_object(303, beyond_admin=403)))
