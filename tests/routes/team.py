"""Routes of Settings › Team (members and invitations); the invitation link's own pages are public."""
from datetime import timedelta

from webapp.crypto import new_token, token_hash
from webapp.extensions import db
from webapp.models import Invitation, Role, utcnow

from ..access_matrix import RouteCase, World, account_object, account_settings, fixed, register, register_builder
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


register(RouteCase("team.index", "GET", fixed("/settings/team"), account_settings(200)))
# A manager needs no group (a client does, and each visitor's account has its own groups).
register(RouteCase("team.invite", "POST", fixed("/settings/team/invitations"), account_settings(303),
                   data={"email": "newcomer@example.test", "name": "New Comer", "role": Role.MANAGER.value}))
register(RouteCase("team.resend", "POST", invitation_url("resend"), account_object(303)))
register(RouteCase("team.revoke", "POST", invitation_url("revoke"), account_object(303)))
