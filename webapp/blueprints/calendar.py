"""Sidebar › Calendar: a group's posts by month, week or day or as a list, and moving them to another day."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import calendar as rules
from .. import policy, posts
from ..extensions import db
from ..forms.calendar import CalendarQuery, RescheduleForm
from ..htmx import is_partial, render, retarget
from ..models import AccessGroup, Post, PostStatus
from ..shell import enter_group
from ..urls import UrlPattern
from .. import undo, zones

bp = Blueprint("calendar", __name__, url_prefix="/g/<int:group_id>/calendar")


def _calendar_context(group: AccessGroup, shown: rules.Shown, problem: str | None = None) -> dict:
    """What the calendar page shows: the period's days and posts, a page of one day's posts, or of the list."""
    style = zones.viewer_style(group.account)
    zone = style.zone
    today = datetime.now(zone).date()
    # Asked once for the page: every post shown is of this group and visible, so the answer is each card's.
    may_move = policy.can(current_user, "posts.edit", group)
    context = dict(group=group, shown=shown, zone=zone, style=style, weekday_names=rules.weekday_names(style.week_start),
                   today=today, views=rules.VIEWS, lists=rules.LISTS,
                   problem=problem, page_title=f"Calendar · {group.name}", may_move=may_move,
                   shown_query=urlencode({name: value for name, value in shown.params().items() if value}),
                   post_url=UrlPattern("posts.show", "post_id", group_id=group.id),
                   reschedule_url=UrlPattern("calendar.reschedule", "post_id", group_id=group.id),
                   thumbnail_url=UrlPattern("media.thumbnail", "item_id"),
                   may_create=policy.can(current_user, "posts.create", group))
    if shown.view == "list":
        page = rules.list_page(group, shown.when, shown.cursor, rules.start_of(today, zone))
        return dict(context, entries=rules.entries(page.rows, style), next_cursor=page.next_cursor)
    if shown.view == "day":
        listing = rules.day_list(group, shown.day or today, zone, shown.cursor)
        return dict(context, period=listing.period, entries=rules.entries(listing.page.rows, style),
                    next_cursor=listing.page.next_cursor, post_count=listing.post_count)
    grid = rules.grid(group, shown.view, shown.day or today, style, today)
    return dict(context, period=grid.period, days=grid.days, post_count=grid.post_count)


def _movable_post(group: AccessGroup, post_id: int) -> Post:
    """A post of the group the user may see and edit (404 for another group's or a hidden one)."""
    post = db.session.scalar(rules.group_posts(group).where(Post.id == post_id))
    if post is None:
        abort(404)
    policy.authorize("posts.edit", post)
    return post


# --- views -------------------------------------------------------------------------------------------


@bp.get("")
def index(group_id: int):
    """The group's posts by month (the default), week or day, or as a list of upcoming or past posts."""
    group = enter_group(group_id, "posts.view")
    query = CalendarQuery(request.args)
    shown = query.shown()
    context = _calendar_context(group, shown)
    if shown.view in ("list", "day") and shown.cursor and is_partial():
        return render("calendar/index.html", block="rows", refresh_shell=False, **context)
    # The calendar's own links swap the calendar; the sidebar's and the switcher's swap the whole page.
    return render("calendar/index.html", block="calendar" if query.names_a_view() else "main", **context)


@bp.get("/posts/<int:post_id>/reschedule")
def reschedule_form(group_id: int, post_id: int):
    """The form that moves one post: in a dialog over the calendar, or as a page of its own without scripts."""
    group = enter_group(group_id, "posts.view")
    post = _movable_post(group, post_id)
    problem = "This post was published; it can no longer be moved." if post.status == PostStatus.PUBLISHED.value else None
    shown = CalendarQuery(request.args).shown()
    return _reschedule_form(group, post, shown, problem)


def _reschedule_form(group: AccessGroup, post: Post, shown: rules.Shown, problem: str | None = None,
                     form: RescheduleForm | None = None, twice: zones.AmbiguousTime | None = None,
                     status: int = 200):
    """The reschedule form; with `twice`, asking which of a time the clocks go through twice is meant."""
    style = zones.viewer_style(group.account)
    entry = rules.entries([post], style)[0]
    return render("calendar/reschedule.html", block="dialog", refresh_shell=False, group=group, entry=entry,
                  post=post, shown=shown, zone=style.zone, style=style, problem=problem, in_dialog=is_partial(),
                  form=form, twice=twice, status=status, page_title=f"Reschedule · {group.name}")


@bp.post("/posts/<int:post_id>/reschedule")
def reschedule(group_id: int, post_id: int):
    """Move a post to another day, keeping its time of day in the account's zone unless a time is given."""
    group = enter_group(group_id, "posts.view")
    post = _movable_post(group, post_id)
    shown = CalendarQuery(request.form).shown()  # the calendar the form was sent from, to show again
    form = RescheduleForm()
    style = zones.viewer_style(group.account)
    zone = style.zone
    try:
        if not form.validate_on_submit():
            raise posts.PostError(form.problem())
        fold = int(form.fold.data) if form.fold.data in ("0", "1") else None
        event = posts.reschedule(post, rules.rescheduled_at(post, form.new_date.data, form.new_time.data, zone, fold),
                                 current_user)
    except zones.AmbiguousTime as twice:
        # Which of the two moments is meant: the form asks, in the dialog (or as a page of its own).
        db.session.rollback()
        response = _reschedule_form(group, post, shown, form=form, twice=twice, status=422)
        return retarget(response, "#reschedule-dialog-body", "innerHTML") if is_partial() else response
    except posts.PostError as problem:
        db.session.rollback()
        return render("calendar/index.html", block="calendar", status=422,
                      **_calendar_context(group, shown, problem=str(problem)))
    profile = post.social_profile
    message = f"Moved the {profile.network_label} post of @{profile.handle} to {style.format(post.scheduled_at)}."
    db.session.commit()
    if not is_partial():
        flash(message, "success")
        return redirect(url_for("calendar.index", group_id=group.id, **shown.params()), 303)
    # Said in a toast, with Undo while the move may be taken back.
    undo_url = url_for("calendar.undo_reschedule", group_id=group.id, post_id=post.id, event_id=event.id)
    return render("calendar/index.html", block="calendar", undo_seconds=undo.SECONDS,
                  undo_offer={"message": message, "url": undo_url, "post": post.id}, **_calendar_context(group, shown))


@bp.post("/posts/<int:post_id>/reschedule/<int:event_id>/undo")
def undo_reschedule(group_id: int, post_id: int, event_id: int):
    """Put a post back at the time a move took it from a moment ago, if nothing touched it since."""
    group = enter_group(group_id, "posts.view")
    post = _movable_post(group, post_id)
    shown = CalendarQuery(request.form).shown()
    event = posts.rescheduling(post, event_id)
    if event is None:
        abort(404)
    if event.actor_id != current_user.id:
        abort(403)  # only the person who moved it takes the move back
    style = zones.viewer_style(group.account)
    try:
        posts.undo_reschedule(post, event, current_user)
    except posts.PostError as problem:
        db.session.rollback()
        return render("calendar/index.html", block="calendar", status=409,
                      **_calendar_context(group, shown, problem=f"Could not undo: {problem}"))
    profile = post.social_profile
    message = (f"Undone: the {profile.network_label} post of @{profile.handle} is back on "
               f"{style.format(post.scheduled_at)}." if post.scheduled_at else
               f"Undone: the {profile.network_label} post of @{profile.handle} has no time again.")
    db.session.commit()
    if not is_partial():
        flash(message, "success")
        return redirect(url_for("calendar.index", group_id=group.id, **shown.params()), 303)
    return render("calendar/index.html", block="calendar", undo_done=message, **_calendar_context(group, shown))
