"""Settings › Team: the members, the seats they take, and invitations (send, resend, revoke)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import invitations, policy
from .. import team as rules
from ..extensions import db
from ..forms.team import InviteForm, TeamQuery
from ..htmx import is_htmx, render
from ..models import Account, Invitation, Role
from ..shell import account_for

bp = Blueprint("team", __name__, url_prefix="/settings/team")


def _invite_form(account: Account, form: InviteForm | None = None, group_id: int | None = None) -> InviteForm:
    """The invite form with the roles and groups this user may give.

    A new form invites a client into no group until one is chosen (or into `group_id`, when the page
    was opened for that group); the page ticks the default group for staff roles (static/app.js)."""
    actor = current_user._get_current_object()
    groups = invitations.groups_to_offer(account, actor)
    if form is None:
        form = InviteForm(formdata=None, role=Role.CLIENT.value,
                          access_groups=[group.id for group in groups if group.id == group_id])
    role = policy.current_permissions().role_in(account.id)
    form.role.choices = [(value, rules.ROLE_LABELS[value]) for value in invitations.roles_to_offer(role)]
    form.access_groups.choices = [(group.id, group.name) for group in groups]
    form.default_group_id = next((group.id for group in groups if group.is_default), None)
    return form


def _team_context(account: Account, form: InviteForm | None = None, offer: Invitation | None = None,
                  sent: Invitation | None = None, group_id: int | None = None) -> dict:
    return {
        "page_title": "Team",
        "account": account,
        "members": rules.members(account),
        "seats": rules.seats(account),
        "pending": rules.pending_invitations(account),
        "form": _invite_form(account, form, group_id),
        "offer": offer,
        "sent": sent,
        "role_labels": rules.ROLE_LABELS,
        "role_hints": rules.ROLE_HINTS,
    }


def _team_page(account: Account, status: int = 200, **context):
    """The team block for htmx, the whole page otherwise."""
    return render("team/index.html", block="team", status=status, **_team_context(account, **context))


@bp.get("")
def index():
    """Members with their roles and seats, pending invitations, and the invite form."""
    account = account_for("team.invite")
    query = TeamQuery(request.args)
    valid = query.validate()
    # After a plain form post, the invitation just sent is confirmed beside the form.
    sent = (db.session.scalar(select(Invitation).where(Invitation.id == query.sent.data,
                                                       Invitation.account_id == account.id))
            if valid and query.sent.data else None)
    return render("team/index.html", block="main",
                  **_team_context(account, sent=sent, group_id=query.group.data if valid else None))


@bp.post("/invitations")
def invite():
    """Invite someone by email, with a role and access groups; the email goes out with the change."""
    account = account_for("team.invite")
    form = _invite_form(account, InviteForm())
    offer = None
    if form.validate_on_submit():
        try:
            sent = invitations.invite(account, current_user._get_current_object(), form.email.data,
                                      form.role.data, form.access_groups.data or [], name=form.name.data)
        except invitations.InvitationError as problem:
            db.session.rollback()
            getattr(form, problem.field or "email").errors.append(str(problem))
            offer = problem.pending
        else:
            db.session.commit()
            # Confirmed beside the form, where the inviter is looking, not at the top of the page.
            if not is_htmx():
                return redirect(url_for("team.index", sent=sent.invitation.id, _anchor="invite-result"), 303)
            return _team_page(account, sent=sent.invitation)
    return _team_page(account, status=422, form=form, offer=offer)


def _invitation(account: Account, invitation_id: int) -> Invitation:
    """An invitation of this account; any other is not found."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.account_id == account.id)
    )
    if invitation is None:
        abort(404)
    return invitation


def _after_change(account: Account, problem: invitations.InvitationError | None):
    if problem is not None:
        db.session.rollback()
        flash(str(problem), "error")
    if not is_htmx():
        return redirect(url_for("team.index"), 303)
    return _team_page(account, status=422 if problem else 200)


@bp.post("/invitations/<int:invitation_id>/resend")
def resend(invitation_id: int):
    """Send a new link with a new expiry; the link in the earlier email stops working."""
    account = account_for("team.invite")
    invitation = _invitation(account, invitation_id)
    try:
        invitations.resend(invitation, current_user._get_current_object())
    except invitations.InvitationError as problem:
        return _after_change(account, problem)
    db.session.commit()
    flash(f"A new invitation was sent to {invitation.email}. The earlier link no longer works.", "success")
    return _after_change(account, None)


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke(invitation_id: int):
    """Withdraw an invitation; its link stops working at once."""
    account = account_for("team.invite")
    invitation = _invitation(account, invitation_id)
    try:
        invitations.revoke(invitation, current_user._get_current_object())
    except invitations.InvitationError as problem:
        return _after_change(account, problem)
    db.session.commit()
    flash(f"The invitation to {invitation.email} was revoked.", "success")
    return _after_change(account, None)
