"""Routes of Settings › Team (members and invitations); the invitation link's own pages are public."""
from datetime import timedelta

from webapp.crypto import new_token, token_hash
from webapp.extensions import db
from webapp.models import Invitation, Role, utcnow

from ..access_matrix import SIGN_IN, RouteCase, World, fixed, register, register_builder
from .. import factories


@register_builder
def pending_invitations(world: World) -> None:
    """A pending invitation in the visitors' account and one in the account next door."""
    invitations = {}
    for target, group in (("own", world.groups["own"]), ("foreign", world.groups["foreign"])):
        invitation = Invitation(
            account_id=group.account_id, email=f"invited-{target}@example.test", role=Role.CLIENT.value,
            token_hash=token_hash(new_token()), expires_at=utcnow() + timedelta(days=7),
            invited_by_id=factories.owner_of(group.account).id, access_groups=[group],
        )
        db.session.add(invitation)
        invitations[target] = invitation
    db.session.flush()
    world.objects["invitation"] = invitations


def invitation_url(action: str):
    """/settings/team/invitations/<id>/<action> for the target account's pending invitation."""
    return lambda world, target: f"/settings/team/invitations/{world.objects['invitation'][target].id}/{action}"


def team_page(ok: int) -> dict[str, dict[str, int]]:
    """Owner and admins (and managers granted team.invite); each owner sees their own account's team."""
    return {"none": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                     "admin": ok, "owner": ok}}


def one_invitation(ok: int) -> dict[str, dict[str, int]]:
    """An invitation of the visitors' account, or of the one next door (not found from the other side)."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": ok, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                    "admin": 404, "owner": 404},
    }


register(RouteCase("team.index", "GET", fixed("/settings/team"), team_page(200)))
register(RouteCase("team.invite", "POST", fixed("/settings/team/invitations"), team_page(303),
                   data={"email": "newcomer@example.test", "role": Role.CLIENT.value}))
register(RouteCase("team.resend", "POST", invitation_url("resend"), one_invitation(303)))
register(RouteCase("team.revoke", "POST", invitation_url("revoke"), one_invitation(303)))
