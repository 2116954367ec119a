"""Social profiles: a group's slots, connecting a profile over OAuth, transferring and removing one,
and a profile's approval settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import approvals, getting_started, policy
from .. import profiles as rules
from ..extensions import db
from ..forms.profiles import ApprovalForm, ConnectForm, RemoveForm, TransferForm
from ..htmx import hx_redirect, is_htmx, render, retarget
from ..models import AccessGroup, Network, SocialProfile, SocialSet
from ..shell import enter_group

bp = Blueprint("profiles", __name__)


# --- answers ----------------------------------------------------------------------------------------


def back_url_for(access_group_id: int, origin: str) -> str:
    """The page the person started from: the settings tab (when they manage the group) or the group's slots."""
    group = db.session.get(AccessGroup, access_group_id)
    if origin == "settings" and group is not None and policy.can(current_user, "groups.manage", group):
        return url_for("access_groups.edit", group_id=access_group_id)
    return url_for("profiles.index", group_id=access_group_id)


def problem_page(problem: rules.ProfileProblem, back_url: str | None = None) -> Response:
    """A refusal: a clear page, or for htmx an alert in the page's flash area."""
    if is_htmx():
        body = render_template("profiles/_alert.html", message=problem.message)
        response = make_response(body, problem.status if problem.status == 422 else 200)
        response.vary.add("HX-Request")
        return retarget(response, "#flashes", swap="outerHTML")
    page = render_template("profiles/problem.html", page_title=problem.title, problem=problem, back_url=back_url)
    return make_response(page, problem.status)


@dataclass(frozen=True)
class ServerConnection:
    """Where a connect page of a network of many servers starts: the set, its form (empty when
    shown), the page to go back to, and the profile signed in again (None for an empty slot)."""

    social_set: SocialSet
    form: FlaskForm
    back_url: str
    reconnecting: SocialProfile | None


def server_connection(set_id: int, network: Network, form_class: type[FlaskForm]) -> ServerConnection | Response:
    """The checks every such page makes first: signed in, the set visible (else 404), profiles.connect
    in its group, and a slot that is empty or holds the profile to reconnect (else the refusal page)."""
    policy.require_signed_in()
    social_set = _visible_set(set_id)
    if social_set is None:
        abort(404)
    enter_group(social_set.access_group_id, "profiles.connect")
    if request.method == "GET":
        form = form_class(formdata=None, origin=request.args.get("origin"),
                          reconnect=request.args.get("reconnect") == "y")
    else:
        form = form_class()
    back_url = back_url_for(social_set.access_group_id, form.origin.data)
    try:
        reconnecting = rules.slot_to_connect(social_set, network, current_user, form.reconnect.data)
    except rules.ProfileProblem as problem:
        return problem_page(problem, back_url)
    return ServerConnection(social_set, form, back_url, reconnecting)


def _visible_set(set_id: int) -> SocialSet | None:
    return db.session.scalar(policy.visible(select(SocialSet)).where(SocialSet.id == set_id))


# --- views ------------------------------------------------------------------------------------------


@bp.get("/g/<int:group_id>/profiles")
def index(group_id: int):
    """The group's social sets and their slots, for everyone who may enter the group."""
    group = enter_group(group_id)
    perms = policy.current_permissions()
    social_sets = db.session.scalars(
        policy.visible(select(SocialSet)).where(SocialSet.access_group_id == group.id)
        .options(selectinload(SocialSet.profiles)).order_by(SocialSet.position, SocialSet.id)
    ).all()
    may_manage_sets = policy.can(current_user, "groups.manage", group)
    return render(
        "profiles/index.html", block="main", page_title=f"Social Profiles · {group.name}", group=group,
        social_sets=social_sets, networks=list(Network), hidden_profiles=perms.removed_profiles,
        origin="group", may_manage_sets=may_manage_sets,
        # With no set yet, someone who may not make one is told who can.
        ask=getting_started.who_to_ask(group) if not (social_sets or may_manage_sets) else [],
        # Only Remove for everyone warns of the posts that go: counted for those who may offer it.
        post_counts=rules.post_counts(group.id) if policy.can(current_user, "profiles.manage", group) else {},
    )


@bp.post("/social-sets/<int:set_id>/connect")
def connect(set_id: int):
    """Start connecting a profile into an empty slot: off to the network's sign-in and consent."""
    policy.require_signed_in()
    social_set = _visible_set(set_id)
    if social_set is None:
        abort(404)
    policy.authorize("profiles.connect", social_set)
    form = ConnectForm()
    if not form.validate_on_submit():
        return problem_page(rules.ProfileProblem("Choose a network", "Choose an empty slot to connect a profile to.", 422))
    try:
        authorization_url = rules.start_connection(session, social_set, form.network.data, current_user,
                                                   form.origin.data, reconnect=form.reconnect.data)
    except rules.ProfileProblem as problem:
        return problem_page(problem, back_url_for(social_set.access_group_id, form.origin.data))
    db.session.commit()  # the sandbox may have learned Roster's redirect URI
    return hx_redirect(authorization_url)


@bp.get("/oauth/callback/<network>")
def callback(network: str):
    """Where the network sends the person back: store the profile, offer a transfer, or say what went wrong."""
    policy.require_signed_in()
    try:
        network = Network(network)
    except ValueError:
        abort(404)
    try:
        pending = rules.take_connection(session, request.args.get("state"), current_user, network.value)
    except rules.ProfileProblem as problem:
        return problem_page(problem)
    back_url = back_url_for(pending.access_group_id, pending.origin)
    error = request.args.get("error")
    if error == "access_denied":
        return problem_page(rules.ProfileProblem(
            "Connection cancelled",
            f"Connection was cancelled at {network.label}. Nothing was connected; start again from the slot "
            "whenever you like.", status=200), back_url)
    if error or not request.args.get("code"):
        return problem_page(rules.ProfileProblem(
            f"{network.label} refused the connection",
            f"{network.label} answered “{(error or 'no code')[:60]}” instead of letting Roster in. "
            "Start again from the slot."), back_url)
    social_set = _visible_set(pending.social_set_id)
    if social_set is None or social_set.access_group_id != pending.access_group_id:
        return problem_page(rules.ProfileProblem(
            "Social set not found", "The social set was deleted or moved, or you no longer have access to it. "
            "Nothing was connected.", status=404))
    if not policy.can(current_user, "profiles.connect", social_set):
        return problem_page(rules.ProfileProblem(
            "Not allowed", "You may no longer connect profiles in this group. Nothing was connected.", 403))
    try:
        outcome = rules.finish_connection(session, pending, request.args["code"], social_set, current_user)
        db.session.commit()
    except rules.ProfileProblem as problem:
        db.session.rollback()
        return problem_page(problem, back_url)
    except IntegrityError:  # someone filled the slot at the same moment
        db.session.rollback()
        return problem_page(rules.slot_taken(network, rules.slot_holder(social_set, network)), back_url)
    if isinstance(outcome, rules.TransferOffer):
        return render("profiles/transfer.html", page_title="Already connected", offer=outcome, back_url=back_url)
    if isinstance(outcome, rules.NextStep):
        return redirect(outcome.url, 303)
    profile = outcome.profile
    done = "reconnected in" if pending.reconnect_profile_id else "connected to"
    flash(f"{network.label} profile @{profile.handle} {done} “{social_set.name}”.", "success")
    return redirect(back_url, 303)


@bp.post("/social-sets/<int:set_id>/transfer")
def transfer(set_id: int):
    """Move a profile this account already has into the slot the person was connecting."""
    policy.require_signed_in()
    social_set = _visible_set(set_id)
    if social_set is None:
        abort(404)
    policy.authorize("profiles.connect", social_set)
    form = TransferForm()
    if not form.validate_on_submit():
        return problem_page(rules.ProfileProblem("Transfer offer expired",
                                             "This transfer offer is no longer valid. Start again from the slot."))
    try:
        offer = rules.take_transfer(session, form.offer.data, current_user)
        if offer.social_set_id != social_set.id:
            raise rules.ProfileProblem("Transfer offer expired",
                                       "This transfer offer is no longer valid. Start again from the slot.")
        back_url = back_url_for(social_set.access_group_id, offer.origin)
        profile = db.session.scalar(
            policy.visible(select(SocialProfile)).where(SocialProfile.id == offer.social_profile_id)
        )
        if profile is None:
            raise rules.ProfileProblem("Profile not found",
                                       "The profile was removed, or you no longer have access to it.", 404)
        handle, label = profile.handle, profile.network_label
        moved = rules.transfer_profile(profile, social_set, current_user)
        db.session.commit()
    except rules.ProfileProblem as problem:
        db.session.rollback()
        return problem_page(problem, back_url_for(social_set.access_group_id, "group"))
    except IntegrityError:
        db.session.rollback()
        return problem_page(rules.slot_taken(offer.network, rules.slot_holder(social_set, offer.network)))
    posts = "1 post" if moved == 1 else f"{moved:,} posts"
    flash(f"{label} profile @{handle} moved to “{social_set.name}” with its {posts}.", "success")
    return redirect(back_url, 303)


@bp.post("/profiles/<int:profile_id>/remove")
def remove(profile_id: int):
    """Remove a profile: for everyone (owner, admins), or only from the view of the client who connected it."""
    profile = policy.get_or_404(SocialProfile, profile_id)
    if rules.removal_kind(current_user, profile) is None:
        abort(403)
    form = RemoveForm()  # nothing in it is refused: an origin not ours means the settings tab
    access_group_id, handle, label = profile.access_group_id, profile.handle, profile.network_label
    kind = rules.remove_profile(profile, current_user)
    db.session.commit()
    policy.forget_permissions()
    if kind == "everyone":
        flash(f"{label} profile @{handle} was disconnected for everyone.", "success")
    else:
        flash(f"{label} profile @{handle} was removed from your view. The agency keeps it.", "success")
    return hx_redirect(back_url_for(access_group_id, form.origin.data))


@bp.route("/settings/access-groups/<int:group_id>/profiles/<int:profile_id>/approval", methods=["GET", "POST"])
def approval(group_id: int, profile_id: int):
    """Turn "Needs client approval" on or off for a profile and choose its approvers (clients only)."""
    group = policy.get_or_404(AccessGroup, group_id, "groups.manage")
    profile = db.session.scalar(policy.visible(select(SocialProfile)).where(
        SocialProfile.id == profile_id, SocialProfile.access_group_id == group.id))
    if profile is None:
        abort(404)
    if request.method == "GET":
        form = ApprovalForm(formdata=None, needs_approval=profile.needs_approval,
                            approvers=approvals.approver_ids(profile))
        return _approval_page(group, profile, form)
    form = ApprovalForm()
    try:
        if not form.validate():  # an approver id that is not a number
            raise approvals.ApprovalError(" ".join(form.approvers.errors))
        approvals.set_approval(profile, form.needs_approval.data, form.approvers.data or [], current_user)
    except approvals.ApprovalError as error:
        db.session.rollback()
        return _approval_page(group, profile, form, 422, str(error))
    db.session.commit()
    flash(f"Approval settings of @{profile.handle} saved.", "success")
    return redirect(url_for("access_groups.edit", group_id=group.id), 303)


def _approval_page(group: AccessGroup, profile: SocialProfile, form: ApprovalForm, status: int = 200,
                   problem: str | None = None) -> Response:
    return render("profiles/approval.html", status=status, page_title=f"Approval · @{profile.handle}", group=group,
                  profile=profile, candidates=approvals.candidates(profile), chosen=set(form.approvers.data or []),
                  form=form, problem=problem)
