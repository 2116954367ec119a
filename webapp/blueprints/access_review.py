"""Who can enter which group with which rights, and why: the access review and the "Why?" explainer."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, make_response, request
from sqlalchemy import func, select

from .. import access_review as rules
from .. import policy
from ..extensions import db
from ..forms.access_review import ReviewFilterForm, WhyForm
from ..htmx import is_partial, render
from ..models import AccessGroup, Account, Membership
from ..shell import account_for

# The prefix is /settings, not /settings/access-review, so the download sits beside the page as
# /settings/access-review.csv (a blueprint prefix always adds a slash before the rule).
bp = Blueprint("access_review", __name__, url_prefix="/settings")

PERSON_MAX = 120


@dataclass(frozen=True)
class Filters:
    person: str
    access_group: AccessGroup | None

    def query(self) -> dict:
        """The filters as URL parameters, for links that keep them (the CSV download, the next page)."""
        query = {}
        if self.person:
            query["q"] = self.person
        if self.access_group is not None:
            query["group"] = self.access_group.id
        return query

    def scope(self, groups: list[AccessGroup]) -> rules.ReviewScope:
        """What the review lists with these filters, among the groups the reviewer may see."""
        chosen = [self.access_group] if self.access_group is not None else groups
        return rules.ReviewScope(group_ids=tuple(group.id for group in chosen), person=self.person)


def _groups(account: Account) -> list[AccessGroup]:
    """The account's access groups the reviewer may enter (the owner: every one), by name."""
    return list(db.session.scalars(
        policy.visible(select(AccessGroup))
        .where(AccessGroup.account_id == account.id)
        .order_by(func.lower(AccessGroup.name), AccessGroup.id)
    ))


def _query() -> ReviewFilterForm:
    form = ReviewFilterForm(request.args)
    if not form.validate():
        abort(404)
    return form


def _filters(groups: list[AccessGroup], form: ReviewFilterForm) -> Filters:
    """The filters in the URL; a group that is not one of `groups` is not found."""
    access_group = None
    if form.group.data is not None:
        access_group = next((group for group in groups if group.id == form.group.data), None)
        if access_group is None:
            abort(404)
    return Filters(person=(form.q.data or "").strip()[:PERSON_MAX], access_group=access_group)


def _why_choices(groups: list[AccessGroup] | None, members: list[Membership] | None) -> dict:
    """What the explainer's selects offer; None where the choice is fixed by the page."""
    return {
        "why_groups": groups,
        "why_members": None if members is None else rules.member_choices(members),
        "why_actions": rules.action_choices(),
    }


@bp.get("/access-review")
def index():
    """Every live member in every access group they may enter, with their rights and why: a page at a time."""
    account = account_for("access.review")
    groups = _groups(account)
    form = _query()
    filters = _filters(groups, form)
    cursor = form.cursor.data or None
    if cursor and is_partial():
        # "More entries": the next rows, after those already in the table.
        page = rules.review_page(account, filters.scope(groups), cursor)
        return render("access_review/index.html", block="review_rows", refresh_shell=False,
                      review=page, filters=filters, enter=policy.ENTER)
    review = rules.review(account, filters.scope(groups), cursor)
    return render(
        "access_review/index.html", block="review", refresh_shell=False,
        page_title="Access review", account=account, review=review, filters=filters, groups=groups,
        paged=cursor is not None,
        sees_every_group=policy.current_permissions().is_owner(account.id),
        why_scope="review", why=None, fixed_user=None, fixed_group=None, enter=policy.ENTER,
        chosen_user_id=None, chosen_group_id=None, chosen_action=None,
        **_why_choices(groups, review.members),
    )


@bp.get("/access-review.csv")
def csv():
    """The access review as a CSV file: every row the page lists with the same filters, on every page."""
    account = account_for("access.review")
    groups = _groups(account)
    filters = _filters(groups, _query())
    response = make_response(rules.csv_text(rules.every_row(account, filters.scope(groups))))
    response.mimetype = "text/csv"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{rules.csv_filename(account)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _member(account: Account, user_id: int) -> Membership:
    """A member of this account (live or not); anyone else is not found."""
    membership = rules.membership_of(account, user_id)
    if membership is None:
        abort(404)
    return membership


def _group(groups: list[AccessGroup], group_id: int) -> AccessGroup:
    """One of the access groups the reviewer may see; any other is not found."""
    group = next((group for group in groups if group.id == group_id), None)
    if group is None:
        abort(404)
    return group


def _why_form() -> WhyForm:
    form = WhyForm(request.args)
    if not form.validate():
        abort(404)  # an id that is not a number, or an action not offered, names nothing here
    return form


@bp.get("/access-review/why")
def why():
    """Yes or no for one member, access group and action, with every path behind it and what is missing."""
    account = account_for("access.review")
    form = _why_form()
    groups = _groups(account)
    membership = _member(account, form.user_id.data) if form.user_id.data is not None else None
    group = _group(groups, form.group_id.data) if form.group_id.data is not None else None
    action = form.action.data or None
    answer = None
    if membership is not None and group is not None and action is not None:
        answer = rules.explain_access(account, membership, group, action)
    return render(
        "access_review/why.html", block="why_answer", refresh_shell=False,
        page_title="Why?", account=account, why=answer, why_scope="page", fixed_user=None, fixed_group=None,
        chosen_user_id=membership.user_id if membership else None,
        chosen_group_id=group.id if group else None, chosen_action=action,
        **_why_choices(groups, rules.memberships(account)),
    )


@bp.get("/access-review/why/form")
def why_form():
    """The explainer's form for one member (pick a group) or one access group (pick a member)."""
    account = account_for("access.review")
    form = _why_form()
    groups = _groups(account)
    fixed_user = fixed_group = None
    if form.user_id.data is not None:
        fixed_user = _member(account, form.user_id.data).user
    elif form.group_id.data is not None:
        fixed_group = _group(groups, form.group_id.data)
    if fixed_user is not None:
        scope = f"user-{fixed_user.id}"
    elif fixed_group is not None:
        scope = f"group-{fixed_group.id}"
    else:
        scope = "page"
    return render(
        "access_review/why.html", block="why_form", refresh_shell=False,
        page_title="Why?", account=account, why=None, why_scope=scope,
        fixed_user=fixed_user, fixed_group=fixed_group,
        chosen_user_id=None, chosen_group_id=None, chosen_action=None,
        **_why_choices(groups if fixed_group is None else None,
                       rules.memberships(account) if fixed_user is None else None),
    )
