"""Settings › Social Sets & Access Groups: the groups, their sets and slots, their Users tab."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, SearchField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .. import access_groups as rules
from .. import policy
from ..extensions import db
from ..htmx import is_htmx, render
from ..models import (
    AccessGroup,
    Account,
    GroupUser,
    Network,
    SocialSet,
    UserGroupGrant,
    UserGroupMember,
)
from ..shell import current_account

bp = Blueprint("access_groups", __name__, url_prefix="/settings/access-groups")

TABS = ("profiles", "users")


class GroupNameForm(FlaskForm):
    name = StringField(
        "Name", filters=[rules.normalized_name],
        validators=[DataRequired(message="Enter a name for the access group."), Length(max=120)],
    )


class AddUserForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired(message="Choose someone to add.")])


class CandidateFilterForm(FlaskForm):
    """The Add User search box: a GET filter, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Find a member", validators=[Optional(), Length(max=120)])


def _user_counts(group_ids: list[int]) -> dict[int, int]:
    """How many people may enter each group (Users tab or a granted user group), in one query."""
    if not group_ids:
        return {}
    entries = union_all(
        select(GroupUser.access_group_id.label("group_id"), GroupUser.user_id.label("user_id"))
        .where(GroupUser.access_group_id.in_(group_ids)),
        select(UserGroupGrant.access_group_id, UserGroupMember.user_id)
        .join(UserGroupMember, UserGroupMember.user_group_id == UserGroupGrant.user_group_id)
        .where(UserGroupGrant.access_group_id.in_(group_ids)),
    ).subquery()
    rows = db.session.execute(
        select(entries.c.group_id, func.count(func.distinct(entries.c.user_id))).group_by(entries.c.group_id)
    )
    return dict(rows.all())


def _index_context(account: Account, form: GroupNameForm | None = None) -> dict:
    groups = db.session.scalars(
        policy.visible(select(AccessGroup))
        .where(AccessGroup.account_id == account.id)
        .options(selectinload(AccessGroup.social_sets).selectinload(SocialSet.profiles))
        .order_by(AccessGroup.is_default.desc(), func.lower(AccessGroup.name))
    ).all()
    return {
        "page_title": "Social Sets & Access Groups",
        "account": account,
        "groups": groups,
        "user_counts": _user_counts([group.id for group in groups]),
        "networks": list(Network),
        "form": form or GroupNameForm(formdata=None),
        "may_create": policy.can(current_user, "groups.create", account),
    }


@bp.get("")
def index():
    """Every access group this user manages, with its social sets, slots and user count."""
    account = current_account()
    policy.authorize("groups.manage", account)
    return render("access_groups/index.html", block="main", **_index_context(account))


@bp.post("")
def create():
    """Create an access group (owner only), within the plan's limits."""
    account = current_account()
    policy.authorize("groups.create", account)
    form = GroupNameForm()
    if form.validate_on_submit():
        try:
            group = rules.create_access_group(account, form.name.data, current_user)
        except rules.AccessGroupError as problem:
            form.name.errors.append(str(problem))
        else:
            db.session.commit()
            policy.forget_permissions()  # the owner may enter the new group from now on
            flash(f"Access group “{group.name}” created.", "success")
            if not is_htmx():
                return redirect(url_for("access_groups.index"), 303)
            return render("access_groups/index.html", block="groups", **_index_context(account))
    return render("access_groups/index.html", block="groups", status=422,
                  **_index_context(account, form=form))


def _managed_group(group_id: int, action: str = "groups.manage") -> AccessGroup:
    return policy.get_or_404(AccessGroup, group_id, action)


def edit_context(group: AccessGroup, tab: str, **extra) -> dict:
    context = {
        "page_title": f"{group.name} · Access group",
        "edited": group,
        "tab": tab,
        "rename_form": extra.pop("rename_form", None) or GroupNameForm(formdata=None, name=group.name),
        "holdings": rules.holdings(group),
        "may_manage_users": policy.can(current_user, "group.users", group),
        "networks": list(Network),
    }
    if tab == "users":
        context["entrants"] = rules.entrants(group)
        context["filter_form"] = CandidateFilterForm(formdata=None)
    else:
        context["social_sets"] = db.session.scalars(
            select(SocialSet).where(SocialSet.access_group_id == group.id)
            .options(selectinload(SocialSet.profiles)).order_by(SocialSet.position, SocialSet.id)
        ).all()
    context.update(extra)
    return context


@bp.get("/<int:group_id>")
def edit(group_id: int):
    """Edit one access group: rename, delete, and its Social Profiles and Users tabs."""
    group = _managed_group(group_id)
    tab = request.args.get("tab", "profiles")
    if tab not in TABS:
        abort(404)
    return render("access_groups/edit.html", block="tab", **edit_context(group, tab))


@bp.post("/<int:group_id>/rename")
def rename(group_id: int):
    """Rename an access group; the new name is unique in the account."""
    group = _managed_group(group_id)
    form = GroupNameForm()
    if form.validate_on_submit():
        try:
            rules.rename_access_group(group, form.name.data, current_user)
        except rules.AccessGroupError as problem:
            form.name.errors.append(str(problem))
        else:
            db.session.commit()
            flash("Access group renamed.", "success")
            return redirect(url_for("access_groups.edit", group_id=group.id), 303)
    return render("access_groups/edit.html", block="rename", status=422,
                  **edit_context(group, "profiles", rename_form=form))


@bp.post("/<int:group_id>/delete")
def delete(group_id: int):
    """Delete an empty access group that is not the default."""
    group = _managed_group(group_id)
    name = group.name
    try:
        rules.delete_access_group(group, current_user)
    except rules.AccessGroupError as problem:
        flash(str(problem), "error")
        return redirect(url_for("access_groups.edit", group_id=group.id), 303)
    db.session.commit()
    flash(f"Access group “{name}” deleted.", "success")
    return redirect(url_for("access_groups.index"), 303)


@bp.get("/<int:group_id>/users/candidates")
def candidates(group_id: int):
    """Members who may be added to the group, filtered as the user types."""
    group = _managed_group(group_id, "group.users")
    form = CandidateFilterForm(request.args)
    text = form.q.data if form.validate() else ""
    return render("access_groups/edit.html", block="candidates", refresh_shell=False,
                  **edit_context(group, "users", candidates=rules.candidates(group, text or ""),
                                  filtering=bool(text), adding=True))


@bp.post("/<int:group_id>/users")
def add_user(group_id: int):
    """Add a member to the group's Users tab."""
    group = _managed_group(group_id, "group.users")
    form = AddUserForm()
    status, problem = 200, None
    if not form.validate_on_submit() or not (form.user_id.data or "").isdigit():
        status, problem = 422, "Choose someone to add."
    else:
        try:
            user = rules.add_user(group, int(form.user_id.data), current_user)
        except rules.AccessGroupError as error:
            status, problem = 422, str(error)
        else:
            db.session.commit()
            flash(f"{user.name} can now enter “{group.name}”.", "success")
    if problem:
        flash(problem, "error")
    if not is_htmx():
        return redirect(url_for("access_groups.edit", group_id=group.id, tab="users"), 303)
    return render("access_groups/edit.html", block="users", status=status, **edit_context(group, "users"))


@bp.post("/<int:group_id>/users/<int:user_id>/remove")
def remove_user(group_id: int, user_id: int):
    """Take someone off the group's Users tab; their next request to the group is refused."""
    group = _managed_group(group_id, "group.users")
    status = 200
    try:
        user = rules.remove_user(group, user_id, current_user)
    except rules.AccessGroupError as problem:
        status = 422
        flash(str(problem), "error")
    else:
        db.session.commit()
        flash(f"{user.name} was removed from “{group.name}”.", "success")
    if not is_htmx():
        return redirect(url_for("access_groups.edit", group_id=group.id, tab="users"), 303)
    return render("access_groups/edit.html", block="users", status=status, **edit_context(group, "users"))
