"""Settings › Team › a member: role, ownership, own rights, client grants, approver and end date (one
Save), and leaving: deactivate, reactivate, remove from the agency."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import invitations, password_resets, plans, policy, team, user_groups
from .. import members as rules
from .. import rights
from ..extensions import db
from ..forms.members import MemberForm, ReturnForm
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
                    form: MemberForm | None = None) -> dict:
    """The member page; `form`, when given, is a refused save whose choices the page shows again."""
    editor = _editor()
    editor_role = _editor_role(account)
    member = membership.user
    zone = account_zone(account)
    held = rules.own_rights(membership)
    is_client = membership.role == Role.CLIENT.value
    entered = rules.entered_groups(account.id, member.id)
    refusal = rules.refusal(editor, editor_role, membership, entered=entered)
    approver_refusal = rules.refusal(editor, editor_role, membership, reach=False)
    leaving_refusal = rules.leaving_refusal(editor, editor_role, membership, entered=entered)
    ends_on = local_day(account, membership.expires_at) if membership.expires_at else None
    seen = _editor_groups(account)
    choices = rules.approver_choices(account, member, seen) if is_client else []
    belongings = user_groups.groups_of(account, member.id, within=seen)
    sent = form.sent() if form is not None else frozenset()
    ticked_rights = set(form.rights.data or []) if "rights" in sent else held
    return {
        "page_title": f"{member.name} · Team",
        "account": account,
        "membership": membership,
        "member": member,
        "why_user": member,
        "role_labels": team.ROLE_LABELS,
        "refusal": refusal,
        "approver_refusal": approver_refusal,
        "may_send_reset": refusal is None and member.active,
        "role_choices": [] if refusal else invitations.roles_to_offer(editor_role),
        "chosen_role": form.role.data if "role" in sent else membership.role,
        "may_transfer": (policy.can(editor, "owner.transfer", account) and member.id != editor.id
                         and rules.is_live(membership)),
        "held": ticked_rights,
        "right_areas": rights.areas(rules.assignable_rights(membership.role))
        if membership.role == Role.MANAGER.value else [],
        "grants": rights.CLIENT_GRANTS if is_client else (),
        "granted_keys": (set(form.grants.data or []) if "rights" in sent
                         else {grant.key for grant in rules.granted(held)}),
        "other_rights": sorted(rights.label(name) for name in held - rights.CLIENT_GRANT_RIGHTS) if is_client else [],
        "admin_sentence": ADMIN_SENTENCE,
        "approver_choices": choices,
        "approver_ticked": (set(form.profiles.data or []) if "approver" in sent and not form.profiles.errors
                            else {choice.profile.id for choice in choices if choice.approver}),
        "belongings": belongings,
        "right_label": rights.label,
        "seats": team.seats(account) if is_client else None,
        "zone": zone,
        "ends_on": ends_on,
        "ended": policy.has_ended(membership.expires_at, utcnow()),
        "form": form or MemberForm(formdata=None, expires_on=ends_on),
        "leaving_refusal": leaving_refusal,
        "losses": rules.losses(account, membership, entered, choices, belongings) if leaving_refusal is None else None,
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


def _saved_message(account: Account, membership: Membership, changed: list[str]) -> str:
    """What the one Save changed, section by section, in words."""
    name = membership.user.name
    said = {
        "rights": f"{name}'s rights were saved.",
        "approver": f"{name}'s approvals were saved.",
        "role": f"{name} is now {team.ROLE_LABELS.get(membership.role, membership.role).lower()}.",
    }
    if membership.expires_at is None:
        said["expiry"] = f"{name}'s access no longer has an end date."
    elif policy.has_ended(membership.expires_at, utcnow()):
        said["expiry"] = f"{name}'s access has ended."
    else:
        day = local_day(account, membership.expires_at)
        said["expiry"] = f"{name}'s access ends after {viewer_style().format(day, 'date')}."
    return " ".join(said[section] for section in changed) or "Nothing had changed: there was nothing to save."


@bp.post("/<int:user_id>")
def save(user_id: int):
    """The member page's one Save: role, own rights or client grants, approver duty and end date, all
    applied in one transaction, or none of them (422, or 403 for a member out of the editor's reach)."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    form = MemberForm()
    problems = form.problems()
    if problems:
        db.session.rollback()
        return _member_page(account, membership, status=422, problems=problems, form=form)
    edit = rules.MemberEdit(sections=form.sent(), role=form.role.data, rights=frozenset(form.rights.data or ()),
                            grants=tuple(form.grants.data or ()), approver_of=tuple(form.profiles.data or ()),
                            last_day=form.expires_on.data)
    try:
        changed = rules.save_member(account, membership, edit, _editor(), _editor_role(account),
                                    _editor_groups(account))
    except rules.SectionRefused as refused:
        return _refused(account, user_id, refused.section, refused.problem, form=form)
    return _done(account, user_id, _saved_message(account, membership, changed))


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


# --- leaving the agency ----------------------------------------------------------------------------------


@bp.post("/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Take a member's access to the agency away at once (confirmed); their role, rights and groups wait
    for a reactivation."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    try:
        rules.deactivate(account, membership, _editor(), _editor_role(account))
    except rules.MemberError as problem:
        return _refused(account, user_id, "leaving", problem)
    return _done(account, user_id, f"{membership.user.name} is deactivated: they no longer have access to "
                                   f"{account.name}. Reactivate them to give it back.")


@bp.post("/<int:user_id>/reactivate")
def reactivate(user_id: int):
    """Give a deactivated member their access back, with their role, rights and groups; from the member
    page, or from the Team list (`back=team`), which it then returns to."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    to_team = ReturnForm().back.data == "team"
    try:
        rules.reactivate(account, membership, _editor(), _editor_role(account))
    except (rules.MemberError, plans.PlanLimitReached) as problem:
        if not to_team:
            return _refused(account, user_id, "leaving", problem)
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("team.index"), 303)
    message = f"{membership.user.name} is active again, with the role, rights and groups they had."
    if not to_team:
        return _done(account, user_id, message)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("team.index"), 303)


@bp.post("/<int:user_id>/remove")
def remove(user_id: int):
    """Take a member out of the agency (confirmed); what they wrote and uploaded stays, by a former member."""
    account = account_for("members.manage")
    membership = _membership(account, user_id)
    name = membership.user.name
    try:
        rules.remove(account, membership, _editor(), _editor_role(account))
    except rules.MemberError as problem:
        return _refused(account, user_id, "leaving", problem)
    db.session.commit()
    policy.forget_permissions()
    flash(f"{name} was removed from {account.name}. Their posts and media stay, shown as by a former member.",
          "success")
    return hx_redirect(url_for("team.index"))
