"""Settings › Team › a member: role, ownership, own rights, client grants, approver and end date."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import invitations, password_resets, plans, policy, team, user_groups
from .. import members as rules
from .. import rights
from ..extensions import db
from ..forms.members import ApproverForm, ExpiryForm, RightsForm, RoleForm
from ..htmx import hx_redirect, is_htmx, render
from ..models import Account, Membership, Role, utcnow
from ..shell import account_for
from ..zones import account_zone, local_day, viewer_style

bp = Blueprint("members", __name__, url_prefix="/settings/team/members")

ADMIN_SENTENCE = "Admins hold every right except creating access groups and changing the plan or owner."


def _editor():
    return current_user._get_current_object()


def _editor_role(account: Account) -> str | None:
    return policy.current_permissions().role_in(account.id)


def _editor_groups(account: Account) -> set[int]:
    """The account's access groups the editor may enter: the member page shows no other."""
    return {group_id for group_id, account_id in policy.current_permissions().groups.items()
            if account_id == account.id}


def _membership(account: Account, user_id: int) -> Membership:
    """The member of this account; anyone else is not found."""
    membership = rules.membership_of(account, user_id)
    if membership is None:
        abort(404)
    return membership


def _member_context(account: Account, membership: Membership, problems: dict[str, str] | None = None,
                    expiry_form: ExpiryForm | None = None) -> dict:
    editor = _editor()
    editor_role = _editor_role(account)
    member = membership.user
    zone = account_zone(account)
    held = rules.own_rights(membership)
    is_client = membership.role == Role.CLIENT.value
    refusal = rules.refusal(editor, editor_role, membership)
    ends_on = local_day(account, membership.expires_at) if membership.expires_at else None
    seen = _editor_groups(account)
    return {
        "page_title": f"{member.name} · Team",
        "account": account,
        "membership": membership,
        "member": member,
        "why_user": member,
        "role_labels": team.ROLE_LABELS,
        "refusal": refusal,
        "approver_refusal": rules.refusal(editor, editor_role, membership, reach=False),
        "may_send_reset": refusal is None and member.active,
        "role_choices": [] if refusal else invitations.roles_to_offer(editor_role),
        "may_transfer": (policy.can(editor, "owner.transfer", account) and member.id != editor.id
                         and rules.is_live(membership)),
        "held": held,
        "right_areas": rights.areas(rules.assignable_rights(membership.role))
        if membership.role == Role.MANAGER.value else [],
        "grants": rights.CLIENT_GRANTS if is_client else (),
        "granted_keys": {grant.key for grant in rules.granted(held)},
        "other_rights": sorted(rights.label(name) for name in held - rights.CLIENT_GRANT_RIGHTS) if is_client else [],
        "admin_sentence": ADMIN_SENTENCE,
        "approver_choices": rules.approver_choices(account, member, seen) if is_client else [],
        "belongings": user_groups.groups_of(account, member.id, within=seen),
        "right_label": rights.label,
        "seats": team.seats(account) if is_client else None,
        "zone": zone,
        "ends_on": ends_on,
        "ended": policy.has_ended(membership.expires_at, utcnow()),
        "expiry_form": expiry_form or ExpiryForm(formdata=None, expires_on=ends_on),
        "problems": problems or {},
    }


def _member_page(account: Account, membership: Membership, status: int = 200, **context):
    """The member block for htmx, the whole page otherwise."""
    return render("members/show.html", block="member", status=status,
                  **_member_context(account, membership, **context))


@bp.get("/<int:user_id>")
def show(user_id: int):
    """One member: role, own rights or client grants, approver duty, end date, and why they can do what."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    return render("members/show.html", block="main", **_member_context(account, membership))


def _done(account: Account, user_id: int, message: str | None):
    """After a saved change: the updated member block for htmx, a redirect otherwise."""
    db.session.commit()
    policy.forget_permissions()  # the change holds from the member's next request, and this one's rest
    if message:
        flash(message, "success")
    if not is_htmx():
        return redirect(url_for("members.show", user_id=user_id), 303)
    return _member_page(account, _membership(account, user_id))


def _refused(account: Account, user_id: int, section: str, problem: Exception, **context):
    """A refused change: nothing is kept, and the section says why (422; 403 for a member out of reach)."""
    db.session.rollback()
    policy.forget_permissions()
    status = 403 if isinstance(problem, rules.BeyondReach) else 422
    return _member_page(account, _membership(account, user_id), status=status,
                        problems={section: str(problem)}, **context)


@bp.post("/<int:user_id>/role")
def change_role(user_id: int):
    """Give a member another role, within what the editor may give; seats are counted again."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _refused(account, user_id, "role", rules.MemberError(" ".join(form.role.errors)))
    try:
        changed = rules.change_role(account, membership, form.role.data, _editor(), _editor_role(account))
    except (rules.MemberError, plans.PlanLimitReached) as problem:
        return _refused(account, user_id, "role", problem)
    label = team.ROLE_LABELS[form.role.data]
    return _done(account, user_id, f"{membership.user.name} is now {label.lower()}." if changed else None)


@bp.post("/<int:user_id>/transfer-ownership")
def transfer_ownership(user_id: int):
    """Make another active member the owner; the owner becomes an admin. Only the owner may."""
    account = account_for("members.manage")
    policy.authorize("owner.transfer", account)
    membership = _membership(account, user_id)
    name = membership.user.name
    try:
        rules.transfer_ownership(account, membership, _editor())
        db.session.commit()
    except (rules.MemberError, plans.PlanLimitReached) as problem:
        return _refused(account, user_id, "transfer", problem)
    except IntegrityError:  # another transfer made someone else the owner a moment ago
        return _refused(account, user_id, "transfer",
                        rules.MemberError("Ownership changed a moment ago. Reload the page to see the owner."))
    policy.forget_permissions()
    flash(f"{name} is now the owner of {account.name}. You are an admin.", "success")
    # What the former owner may do has changed everywhere: send them to a whole new Team page.
    return hx_redirect(url_for("team.index"))


@bp.post("/<int:user_id>/rights")
def change_rights(user_id: int):
    """Replace a member's own rights (a client's grants); giving a client Publish takes a team seat."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    form = RightsForm()  # nothing in it is refused before the rules: they check every right and grant
    try:
        if membership.role == Role.CLIENT.value:
            chosen = rules.rights_for_grants(form.grants.data or [])
        else:
            chosen = set(form.rights.data or [])
        changed = rules.set_rights(account, membership, chosen, _editor(), _editor_role(account))
    except (rules.MemberError, plans.PlanLimitReached) as problem:
        return _refused(account, user_id, "rights", problem)
    return _done(account, user_id, f"{membership.user.name}'s rights were saved." if changed else None)


@bp.post("/<int:user_id>/approver")
def change_approver(user_id: int):
    """Choose the profiles whose posts a client approves, among those they can see."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    form = ApproverForm()
    if not form.validate_on_submit():
        return _refused(account, user_id, "approver", rules.MemberError(" ".join(form.profiles.errors)))
    try:
        rules.set_approver(account, membership, form.profiles.data or [], _editor(), _editor_role(account),
                           _editor_groups(account))
    except rules.MemberError as problem:
        return _refused(account, user_id, "approver", problem)
    return _done(account, user_id, f"{membership.user.name}'s approvals were saved.")


@bp.post("/<int:user_id>/expiry")
def change_expiry(user_id: int):
    """Set the last day of a member's access (in the account's time zone), or remove it."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    form = ExpiryForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _member_page(account, _membership(account, user_id), status=422, expiry_form=form,
                            problems={"expiry": "Enter the last day as a date, or remove the end date."})
    day = None if form.clear.data else form.expires_on.data
    name = membership.user.name
    try:
        changed = rules.set_expiry(account, membership, day, _editor(), _editor_role(account))
    except rules.MemberError as problem:
        return _refused(account, user_id, "expiry", problem)
    if not changed:
        message = None
    elif day is None:
        message = f"{name}'s access no longer has an end date."
    elif policy.has_ended(membership.expires_at, utcnow()):
        message = f"{name}'s access has ended."
    else:
        message = f"{name}'s access ends after {viewer_style().format(day, 'date')}."
    return _done(account, user_id, message)


@bp.post("/<int:user_id>/password-reset")
def send_password_reset(user_id: int):
    """Email a member a link to set a new password; their password stays until they use it."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    try:
        password_resets.check_may_send(_editor(), _editor_role(account), membership)
    except rules.MemberError as problem:
        return _refused(account, user_id, "password", problem)
    password_resets.send_for_member(account, membership, _editor())
    return _done(account, user_id, f"A password reset link was sent to {membership.user.email}.")
