"""Settings › Social Sets & Access Groups: the groups, their sets and slots, their Users tab (end
dates, granted user groups)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access_groups as rules
from .. import approvals, policy, profiles
from ..extensions import db
from ..forms.access_groups import (
    AddUserForm,
    CandidateFilterForm,
    EntryEndForm,
    GrantUserGroupForm,
    GroupListQuery,
    GroupNameForm,
)
from ..htmx import is_htmx, is_partial, push_url, render
from ..models import (
    AccessGroup,
    Account,
    Network,
    SocialSet,
)
from ..shell import account_for
from ..zones import today_in

bp = Blueprint("access_groups", __name__, url_prefix="/settings/access-groups")

TABS = ("profiles", "users")


BAD_DATE = "Enter the end date as a day, such as 2027-03-31."


def _index_context(account: Account, text: str = "", cursor: str | None = None,
                   form: GroupNameForm | None = None) -> dict:
    page = rules.groups_page(policy.visible(select(AccessGroup)), account, text, cursor)
    return {
        "page_title": "Social Sets & Access Groups",
        "account": account,
        "groups": page.rows,
        "next_cursor": page.next_cursor,
        "filter_text": text,
        "paged": cursor is not None,
        "unapproved": approvals.without_approver([profile.id for group in page.rows
                                                  for social_set in group.social_sets
                                                  for profile in social_set.profiles]),
        "counts": rules.group_counts(page.rows),
        "networks": list(Network),
        "form": form or GroupNameForm(formdata=None),
        "may_create": policy.can(current_user, "groups.create", account),
    }


@bp.get("")
def index():
    """The access groups this user manages, a page at a time, filtered by name, with their sets, slots and counts."""
    account = account_for("groups.manage")
    query = GroupListQuery(request.args)
    context = _index_context(account, query.text(), query.start())
    if is_partial() and query.start():
        # "More groups": the next cards, after those already on the page.
        return render("access_groups/index.html", block="group_cards", refresh_shell=False, **context)
    if is_partial() and query.from_the_filter():
        return render("access_groups/index.html", block="group_list", refresh_shell=False, **context)
    return render("access_groups/index.html", block="main", **context)


@bp.post("")
def create():
    """Create an access group (owner only), within the plan's limits; the list then shows it."""
    account = account_for("groups.create")
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
            # However long the list, the new group is found at once: the list is filtered by its name.
            shown = url_for("access_groups.index", q=group.name)
            if not is_htmx():
                return redirect(shown, 303)
            return push_url(render("access_groups/index.html", block="groups",
                                   **_index_context(account, group.name)), shown)
    # The list stays as it was: the form is sent with the filter of the page it is on.
    return render("access_groups/index.html", block="groups", status=422,
                  **_index_context(account, GroupListQuery(request.args).text(), form=form))


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
        context["granted_user_groups"] = rules.granted_user_groups(group)
        context["may_grant_user_groups"] = policy.can(current_user, "members.manage", group)
        context["today"] = today_in(group.account)
        context["filter_form"] = CandidateFilterForm(formdata=None)
        context["entry_problems"] = {}
    else:
        context["social_sets"] = db.session.scalars(
            select(SocialSet).where(SocialSet.access_group_id == group.id)
            .options(selectinload(SocialSet.profiles)).order_by(SocialSet.position, SocialSet.id)
        ).all()
        context["post_counts"] = profiles.post_counts(group.id)
        context["unapproved"] = approvals.without_approver(
            [profile.id for social_set in context["social_sets"] for profile in social_set.profiles])
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
    """Members (and, for owner and admins, user groups) who may be added, filtered as the user types."""
    group = _managed_group(group_id, "group.users")
    form = CandidateFilterForm(request.args)
    text = form.q.data if form.validate() else ""
    found = rules.candidates(group, text or "",
                             with_user_groups=policy.can(current_user, "members.manage", group))
    context = {"edited": group, "candidates": found, "filtering": bool(text), "adding": True}
    if not is_partial():
        # Opened directly: the whole Users tab around the list. The fragment needs only the list,
        # so an htmx request skips the tab's other queries.
        context = edit_context(group, "users", **context)
    return render("access_groups/edit.html", block="candidates", refresh_shell=False, **context)


def _users_tab_answer(group: AccessGroup, problem: str | None = None, **extra):
    """After a change on the Users tab: back to the tab, or its fresh block for htmx; 422 with the problem."""
    if problem:
        flash(problem, "error")
        return render("access_groups/edit.html", block="users", status=422,
                      **edit_context(group, "users", **extra))
    if not is_htmx():
        return redirect(url_for("access_groups.edit", group_id=group.id, tab="users"), 303)
    return render("access_groups/edit.html", block="users", **edit_context(group, "users", **extra))


@bp.post("/<int:group_id>/users")
def add_user(group_id: int):
    """Add a member to the group's Users tab, until the end of a chosen day if one is given."""
    group = _managed_group(group_id, "group.users")
    form = AddUserForm()
    if not form.validate_on_submit():
        return _users_tab_answer(group, form.user_id.errors[0] if form.user_id.errors else BAD_DATE,
                                 adding=True)
    try:
        user = rules.add_user(group, int(form.user_id.data), current_user, ends_on=form.ends_on.data)
    except rules.AccessGroupError as problem:
        return _users_tab_answer(group, str(problem), adding=True)
    db.session.commit()
    flash(f"{user.name} can now enter “{group.name}”.", "success")
    return _users_tab_answer(group)


@bp.post("/<int:group_id>/users/<int:user_id>/expiry")
def set_user_expiry(group_id: int, user_id: int):
    """Set or clear the last day someone on the Users tab may enter the group."""
    group = _managed_group(group_id, "group.users")
    form = EntryEndForm()
    if not form.validate_on_submit():  # the end date is the one thing that can be wrong
        return _users_tab_answer(group, BAD_DATE, entry_problems={user_id: BAD_DATE})
    ends_on = None if form.clear.data else form.ends_on.data
    try:
        user, changed = rules.set_user_expiry(group, user_id, ends_on, current_user)
    except rules.AccessGroupError as problem:
        return _users_tab_answer(group, str(problem), entry_problems={user_id: str(problem)})
    db.session.commit()
    if not changed:
        flash(f"Nothing changed for {user.name}.", "success")
    elif ends_on is None:
        flash(f"{user.name} may enter “{group.name}” with no end date.", "success")
    else:
        flash(f"{user.name} may enter “{group.name}” until {ends_on:%d %b %Y}.", "success")
    return _users_tab_answer(group)


@bp.post("/<int:group_id>/users/<int:user_id>/remove")
def remove_user(group_id: int, user_id: int):
    """Take someone off the group's Users tab; their next request to the group is refused."""
    group = _managed_group(group_id, "group.users")
    try:
        user = rules.remove_user(group, user_id, current_user)
    except rules.AccessGroupError as problem:
        return _users_tab_answer(group, str(problem))
    db.session.commit()
    flash(f"{user.name} was removed from “{group.name}”.", "success")
    return _users_tab_answer(group)


def _user_group_manager(group_id: int) -> AccessGroup:
    """The group, for someone who may both change its Users tab and manage user groups (owner, admins)."""
    group = _managed_group(group_id, "group.users")
    policy.authorize("members.manage", group)
    return group


@bp.post("/<int:group_id>/user-groups")
def grant_user_group(group_id: int):
    """Let every member of a user group enter the group, with the group's rights."""
    group = _user_group_manager(group_id)
    form = GrantUserGroupForm()
    if not form.validate_on_submit():
        return _users_tab_answer(group, form.user_group_id.errors[0], adding=True)
    try:
        user_group = rules.grant_user_group(group, int(form.user_group_id.data), current_user)
    except rules.AccessGroupError as problem:
        return _users_tab_answer(group, str(problem), adding=True)
    db.session.commit()
    flash(f"Members of the user group “{user_group.name}” can now enter “{group.name}”.", "success")
    return _users_tab_answer(group)


@bp.post("/<int:group_id>/user-groups/<int:user_group_id>/remove")
def revoke_user_group(group_id: int, user_group_id: int):
    """Stop a user group letting its members in; other paths in (Users tab, other user groups) remain."""
    group = _user_group_manager(group_id)
    user_group = rules.account_user_group(group, user_group_id)
    if user_group is None:
        abort(404)
    try:
        rules.revoke_user_group(group, user_group, current_user)
    except rules.AccessGroupError as problem:
        return _users_tab_answer(group, str(problem))
    db.session.commit()
    flash(f"The user group “{user_group.name}” no longer lets its members into “{group.name}”.", "success")
    return _users_tab_answer(group)
