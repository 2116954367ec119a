"""Settings › User Groups: named sets of members whose rights every member inherits."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import policy
from .. import user_groups as rules
from ..zones import account_zone, viewer_style
from ..extensions import db
from ..forms.user_groups import (
    AddMemberForm,
    CandidateFilterForm,
    DetailsForm,
    GrantsForm,
    NameForm,
    RightsForm,
)
from ..htmx import is_htmx, render
from ..models import AccessGroup, Account, User, UserGroup
from ..rights import areas
from ..shell import account_for
from ..team import ROLE_LABELS

bp = Blueprint("user_groups", __name__, url_prefix="/settings/user-groups")


def _actor() -> User:
    return current_user._get_current_object()


def _user_group(account: Account, user_group_id: int) -> UserGroup:
    """A user group of this account; any other is not found."""
    user_group = rules.find(account, user_group_id)
    if user_group is None:
        abort(404)
    return user_group


def _changeable(account: Account, user_group_id: int) -> UserGroup:
    """A user group this editor may change: one granted only on access groups they may enter (else 403)."""
    user_group = _user_group(account, user_group_id)
    if rules.beyond_reach(user_group, _actor()):
        abort(403, description=str(rules.BeyondReach(user_group)))
    return user_group


def _offered_groups(account: Account) -> list[AccessGroup]:
    """The account's access groups this user may enter, the only ones they may grant on."""
    return list(db.session.scalars(
        policy.visible(select(AccessGroup))
        .where(AccessGroup.account_id == account.id)
        .order_by(AccessGroup.is_default.desc(), func.lower(AccessGroup.name), AccessGroup.id)
    ))


def _changed(problem: rules.UserGroupError | None = None) -> None:
    """Finish a change: keep it (members feel it on their next request) or undo all of it."""
    if problem is None:
        db.session.commit()
        policy.forget_permissions()
    else:
        db.session.rollback()


# --- the list ------------------------------------------------------------------------------------


def _index_context(account: Account, form: NameForm | None = None) -> dict:
    return {
        "page_title": "User Groups",
        "account": account,
        "summaries": rules.summaries(account),
        "form": form or NameForm(formdata=None),
        "creating": form is not None and bool(form.errors),
    }


@bp.get("")
def index():
    """Every user group of the account with its member count, and the form to add one."""
    account = account_for("members.manage")
    return render("user_groups/index.html", block="main", **_index_context(account))


@bp.post("")
def create():
    """Add a user group by name; the name is unique in the account."""
    account = account_for("members.manage")
    form = NameForm()
    if form.validate_on_submit():
        try:
            user_group = rules.create_user_group(account, form.name.data, _actor())
        except rules.UserGroupError as problem:
            _changed(problem)
            form.name.errors.append(str(problem))
        else:
            _changed()
            flash(f"User group “{user_group.name}” created.", "success")
            if not is_htmx():
                return redirect(url_for("user_groups.show", user_group_id=user_group.id), 303)
            return render("user_groups/index.html", block="groups", **_index_context(account))
    return render("user_groups/index.html", block="groups", status=422, **_index_context(account, form))


# --- one group -----------------------------------------------------------------------------------


def _show_context(account: Account, user_group: UserGroup, grants_form: GrantsForm | None = None) -> dict:
    members = rules.members(account, user_group)
    offered = _offered_groups(account)
    offered_ids = {group.id for group in offered}
    granted = rules.granted_groups(user_group)
    if grants_form is None:
        grants_form = GrantsForm(formdata=None, offered=offered,
                                 access_groups=[g.id for g in granted if g.id in offered_ids])
    return {
        "page_title": f"{user_group.name} · User group",
        "account": account,
        "user_group": user_group,
        "icons": rules.ICONS,
        "right_areas": areas(rules.rights_of(user_group)),
        "members": members,
        "granted": [group for group in granted if group.id in offered_ids],
        "granted_elsewhere": sum(1 for group in granted if group.id not in offered_ids),
        "grants_form": grants_form,
        "impact": rules.DeletionImpact(members=sum(1 for member in members if not member.ended),
                                       access_groups=[g.name for g in granted if g.id in offered_ids]),
        "role_labels": ROLE_LABELS,
        "zone": account_zone(account),
        "read_only": rules.beyond_reach(user_group, _actor()),
    }


@bp.get("/<int:user_group_id>")
def show(user_group_id: int):
    """A user group's details: description, dates, rights, members and the groups it lets them into."""
    account = account_for("members.manage")
    user_group = _user_group(account, user_group_id)
    return render("user_groups/show.html", block="main", **_show_context(account, user_group))


@bp.post("/<int:user_group_id>/access-groups")
def save_grants(user_group_id: int):
    """Grant the user group on exactly the ticked access groups: its members may enter them."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    offered = _offered_groups(account)
    form = GrantsForm(offered=offered)
    if form.validate_on_submit():
        try:
            changed = rules.set_grants(user_group, form.access_groups.data or [], [g.id for g in offered],
                                       _actor())
        except rules.UserGroupError as problem:
            _changed(problem)
            form.access_groups.errors.append(str(problem))
        else:
            _changed()
            flash("Access groups saved." if changed else "Nothing to change.", "success")
            if not is_htmx():
                return redirect(url_for("user_groups.show", user_group_id=user_group.id), 303)
            return render("user_groups/show.html", block="grants", also=("delete_dialog",),
                          **_show_context(account, user_group))
    return render("user_groups/show.html", block="grants", status=422,
                  **_show_context(account, user_group, grants_form=form))


@bp.post("/<int:user_group_id>/delete")
def delete(user_group_id: int):
    """Delete a user group: its members lose its rights and the entries it gave."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    name = user_group.name
    rules.delete_user_group(user_group, _actor())
    _changed()
    flash(f"User group “{name}” deleted.", "success")
    return redirect(url_for("user_groups.index"), 303)


# --- Edit Group: title, description, icon and members -------------------------------------------


def _edit_context(account: Account, user_group: UserGroup, form: DetailsForm | None = None, **extra) -> dict:
    context = {
        "page_title": f"Edit {user_group.name} · User group",
        "account": account,
        "user_group": user_group,
        "icons": rules.ICONS,
        "form": form or DetailsForm(formdata=None, name=user_group.name,
                                    description=user_group.description, icon=user_group.icon),
        "members": rules.members(account, user_group),
        "add_form": extra.pop("add_form", None) or AddMemberForm(formdata=None),
        "role_labels": ROLE_LABELS,
    }
    context.update(extra)
    return context


@bp.get("/<int:user_group_id>/edit")
def edit(user_group_id: int):
    """Edit Group: the title, description and icon, and who is in the group."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    return render("user_groups/edit.html", block="main", **_edit_context(account, user_group))


@bp.post("/<int:user_group_id>/edit")
def update(user_group_id: int):
    """Save the title, description and icon."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    form = DetailsForm()
    if form.validate_on_submit():
        try:
            rules.update_user_group(user_group, form.name.data, form.description.data or "",
                                    form.icon.data or "", _actor())
        except rules.UserGroupError as problem:
            _changed(problem)
            getattr(form, problem.field or "name").errors.append(str(problem))
        else:
            _changed()
            flash("User group saved.", "success")
            return redirect(url_for("user_groups.show", user_group_id=user_group.id), 303)
    return render("user_groups/edit.html", block="main", status=422,
                  **_edit_context(account, user_group, form=form))


def _members_answer(account: Account, user_group: UserGroup, status: int = 200, **extra):
    """The members block for htmx (with the flash), back to Edit Group otherwise."""
    if not is_htmx():
        return redirect(url_for("user_groups.edit", user_group_id=user_group.id), 303)
    return render("user_groups/edit.html", block="members", status=status,
                  **_edit_context(account, user_group, **extra))


@bp.get("/<int:user_group_id>/members/candidates")
def candidates(user_group_id: int):
    """Active members who may be added, filtered as the user types."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    form = CandidateFilterForm(request.args)
    text = (form.q.data or "") if form.validate() else ""
    return render("user_groups/edit.html", block="candidates", refresh_shell=False,
                  **_edit_context(account, user_group, candidates=rules.candidates(account, user_group, text),
                                  filtering=bool(text.strip())))


@bp.post("/<int:user_group_id>/members")
def add_member(user_group_id: int):
    """Add a member, until the end of a day if one is given."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    form = AddMemberForm()
    problem = None
    if not form.validate_on_submit():
        problem = " ".join(error for errors in form.errors.values() for error in errors)
    else:
        try:
            user = rules.add_member(account, user_group, int(form.user_id.data), form.expires_on.data, _actor())
        except rules.UserGroupError as error:
            _changed(error)
            problem = str(error)
        else:
            _changed()
            until = (f" until {viewer_style().format(form.expires_on.data, 'date')}" if form.expires_on.data else "")
            flash(f"{user.name} is now in “{user_group.name}”{until}.", "success")
    if problem:
        flash(problem, "error")
    # The picker stays open, so several people are added in a row.
    return _members_answer(account, user_group, status=422 if problem else 200, adding=True,
                           candidates=rules.candidates(account, user_group))


@bp.post("/<int:user_group_id>/members/<int:user_id>/remove")
def remove_member(user_group_id: int, user_id: int):
    """Take one member out; they lose what the group gave them on their next request."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    try:
        user = rules.remove_member(user_group, user_id, _actor())
    except rules.UserGroupError as problem:
        _changed(problem)
        flash(str(problem), "error")
        return _members_answer(account, user_group, status=422)
    _changed()
    flash(f"{user.name} was removed from “{user_group.name}”.", "success")
    return _members_answer(account, user_group)


@bp.post("/<int:user_group_id>/members/clear")
def clear_members(user_group_id: int):
    """Take everyone out of the group at once."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    removed = rules.clear_members(user_group, _actor())
    _changed()
    if removed:
        flash(f"Removed {removed} {'member' if removed == 1 else 'members'} from “{user_group.name}”.", "success")
    else:
        flash(f"“{user_group.name}” had no members.", "success")
    return _members_answer(account, user_group)


# --- Edit User Rights ----------------------------------------------------------------------------


def _rights_context(account: Account, user_group: UserGroup, form: RightsForm | None = None) -> dict:
    return {
        "page_title": f"Rights of {user_group.name} · User group",
        "account": account,
        "user_group": user_group,
        "icons": rules.ICONS,
        "form": form or RightsForm(formdata=None, rights=sorted(rules.rights_of(user_group))),
        "right_areas": areas(),
    }


@bp.get("/<int:user_group_id>/rights")
def rights(user_group_id: int):
    """Edit User Rights: the rights every member of the group inherits."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    return render("user_groups/rights.html", block="main", **_rights_context(account, user_group))


@bp.post("/<int:user_group_id>/rights")
def save_rights(user_group_id: int):
    """Replace the group's rights with the ticked ones, within the plan's team seats."""
    account = account_for("members.manage")
    user_group = _changeable(account, user_group_id)
    form = RightsForm()
    if form.validate_on_submit():
        try:
            changed = rules.set_rights(account, user_group, form.rights.data or [], _actor())
        except rules.UserGroupError as problem:
            _changed(problem)
            form.rights.errors.append(str(problem))
        else:
            _changed()
            flash("Rights saved. Members have them from their next click." if changed else "Nothing to change.",
                  "success")
            return redirect(url_for("user_groups.show", user_group_id=user_group.id), 303)
    return render("user_groups/rights.html", block="main", status=422,
                  **_rights_context(account, user_group, form=form))
