"""Settings › Activity: the audit log, newest first, filtered, in words, and as a CSV file."""
from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context

from .. import activity as rules
from .. import policy, zones
from ..forms.activity import ActivityFilterForm
from ..htmx import render
from ..models import AccessGroup, Account, User
from ..shell import account_for

# The prefix is /settings, so the download sits beside the page as /settings/activity.csv.
bp = Blueprint("activity", __name__, url_prefix="/settings")


def _filters(form: ActivityFilterForm, people: list[User], groups: list[AccessGroup]) -> rules.Filters:
    """The filters in the URL. A person, group or kind the page does not offer is not found; days that do
    not make a range leave the form with its errors (and the list unfiltered by day)."""
    form.validate()
    if form.person.errors or form.group.errors or form.kind.errors:
        abort(404)
    if form.person.data is not None and all(person.id != form.person.data for person in people):
        abort(404)
    if form.group.data is not None and all(group.id != form.group.data for group in groups):
        abort(404)
    dated = not (form.start.errors or form.end.errors)
    return rules.Filters(actor_id=form.person.data, access_group_id=form.group.data, kind=form.kind.data or None,
                         start=form.start.data if dated else None, end=form.end.data if dated else None)


def _context(account: Account) -> tuple[rules.Scope, list[User], list[AccessGroup], ActivityFilterForm, rules.Filters]:
    scope = rules.scope_for(account, policy.current_permissions())
    people, groups = rules.people(account), rules.groups(account, scope)
    form = ActivityFilterForm(request.args)
    return scope, people, groups, form, _filters(form, people, groups)


@bp.get("/activity")
def index():
    """The events the reader may see, newest first, a page at a time, each in words (owner and admins)."""
    account = account_for("activity.view")
    scope, people, groups, form, filters = _context(account)
    invalid = bool(form.start.errors or form.end.errors)
    style = zones.viewer_style(account)
    older = None if form.older.errors else form.older.data or None
    newer = None if form.newer.errors else form.newer.data or None
    page = None if invalid else rules.page(scope, filters, style.zone, older, newer)
    entries = rules.entries(page.rows, account, scope, style, groups, people) if page else []
    return render(
        "activity/index.html", block="activity", status=422 if invalid else 200, refresh_shell=False,
        page_title="Activity", account=account, form=form, filters=filters, people=people, groups=groups,
        kinds=rules.KINDS, page=page, entries=entries, paged=bool(older or newer),
        sees_every_group=scope.group_ids is None,
    )


@bp.get("/activity.csv")
def csv():
    """The filtered events as a CSV file: every matching row the reader may see, newest first, up to a cap."""
    account = account_for("activity.view")
    scope, people, groups, form, filters = _context(account)
    if form.start.errors or form.end.errors:
        return Response(" ".join(form.start.errors + form.end.errors), status=422, mimetype="text/plain")
    style = zones.viewer_style(account)
    lines = rules.csv_lines(rules.batches(scope, filters, style.zone), account, scope, style, groups, people)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{rules.csv_filename(account, style)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
