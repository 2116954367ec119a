"""The social sets of an access group, on its Social Profiles tab: create, rename, delete."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import policy
from .. import social_sets as rules
from ..extensions import db
from ..forms.social_sets import SocialSetNameForm
from ..htmx import is_htmx, render
from ..models import AccessGroup, SocialSet
from .access_groups import edit_context

bp = Blueprint("social_sets", __name__, url_prefix="/settings/access-groups/<int:group_id>/social-sets")

# The block of the access group's edit page that holds the sets; every answer here swaps it.
BLOCK = "social_sets"


def _managed_group(group_id: int) -> AccessGroup:
    return policy.get_or_404(AccessGroup, group_id, "groups.manage")


def _set_in(group: AccessGroup, set_id: int) -> SocialSet:
    """A set of `group` only: another group's set id is not found, as is one the user may not see."""
    return policy.get_in_group_or_404(SocialSet, set_id, group)


def _answer(group: AccessGroup, status: int = 200, **state) -> Response:
    """The tab's social sets (the whole edit page for a plain request), or a 303 back after a plain success."""
    if status == 200 and not is_htmx():
        return redirect(url_for("access_groups.edit", group_id=group.id), 303)
    # The Delete group panel says what the group holds, which the change to its sets may alter.
    return render("access_groups/edit.html", block=BLOCK, status=status, also=("delete_panel",),
                  **edit_context(group, "profiles", **state))


@bp.post("")
def create(group_id: int):
    """Create a social set in the group, within the plan's limit on sets."""
    group = _managed_group(group_id)
    form = SocialSetNameForm()
    if not form.validate_on_submit():
        return _answer(group, 422, set_errors={"new": form.problem()}, new_set_name=form.name.data)
    try:
        social_set = rules.create_social_set(group, form.name.data, current_user)
    except rules.SocialSetError as problem:
        return _answer(group, 422, set_errors={"new": str(problem)}, new_set_name=form.name.data)
    db.session.commit()
    flash(f"Social set “{social_set.name}” created.", "success")
    return _answer(group)


@bp.post("/<int:set_id>/rename")
def rename(group_id: int, set_id: int):
    """Rename one of the group's social sets; the name stays unique in the group."""
    group = _managed_group(group_id)
    social_set = _set_in(group, set_id)
    form = SocialSetNameForm()
    if not form.validate_on_submit():
        return _answer(group, 422, set_errors={social_set.id: form.problem()},
                       rename_values={social_set.id: form.name.data})
    try:
        renamed = rules.rename_social_set(social_set, form.name.data, current_user)
    except rules.SocialSetError as problem:
        return _answer(group, 422, set_errors={social_set.id: str(problem)},
                       rename_values={social_set.id: form.name.data})
    db.session.commit()
    if renamed:
        flash(f"Social set renamed to “{social_set.name}”.", "success")
    return _answer(group)


@bp.post("/<int:set_id>/delete")
def delete(group_id: int, set_id: int):
    """Delete one of the group's social sets, once it holds no profiles."""
    group = _managed_group(group_id)
    social_set = _set_in(group, set_id)
    name = social_set.name
    try:
        rules.delete_social_set(social_set, current_user)
        db.session.commit()
    except rules.SocialSetError as problem:
        return _answer(group, 422, set_errors={social_set.id: str(problem)})
    except IntegrityError:
        # A profile was connected into the set while it was being deleted; the database kept it.
        db.session.rollback()
        return _answer(group, 422, set_errors={set_id: rules.still_holds_message(
            name, rules.profile_count(social_set))})
    flash(f"Social set “{name}” deleted.", "success")
    return _answer(group)
