"""Sidebar › Calendar: a group's posts by month, by week or as a list, and moving them to another day."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import calendar as rules
from .. import policy, posts
from ..extensions import db
from ..htmx import is_partial, render
from ..models import AccessGroup, Post
from ..shell import enter_group
from ..zones import account_zone

bp = Blueprint("calendar", __name__, url_prefix="/g/<int:group_id>/calendar")


def plausible_date(form: FlaskForm, field: DateField) -> None:
    """Refuse a date no one means (year 1 or 9999), which the calendar could not show."""
    if field.data is not None and not rules.FIRST_YEAR <= field.data.year <= rules.LAST_YEAR:
        raise ValidationError(f"Choose a date between the years {rules.FIRST_YEAR} and {rules.LAST_YEAR}.")


class CalendarQuery(FlaskForm):
    """The calendar's view, day and list page: a GET form, so no CSRF token; what is invalid falls back."""

    class Meta:
        csrf = False

    view = SelectField(choices=list(rules.VIEWS), default="month")
    date = DateField(validators=[Optional(), plausible_date])
    when = SelectField(choices=list(rules.LISTS), default="upcoming")
    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def shown(self) -> rules.Shown:
        """The query's valid parts; a bad date means today, a bad view the month."""
        self.validate()
        default = rules.Shown()
        return rules.Shown(
            view=default.view if self.view.errors else self.view.data,
            day=None if self.date.errors else self.date.data,
            when=default.when if self.when.errors else self.when.data,
            cursor=None if self.cursor.errors else self.cursor.data or None,
        )

    def names_a_view(self) -> bool:
        """The query comes from the calendar's own links, which always name a view, not from a link into the page."""
        return bool(self.view.raw_data)


class RescheduleForm(FlaskForm):
    """A post's new day and, if given, its new time of day, both in the account's time zone."""

    new_date = DateField("Date", validators=[InputRequired(), plausible_date])
    new_time = TimeField("Time", validators=[Optional()])

    def problem(self) -> str:
        """What is wrong with the form, in words for the page."""
        if self.new_date.errors:
            return "Choose a valid date to move the post to."
        if self.new_time.errors:
            return "Enter a valid time of day, such as 09:30."
        return "The form expired. Reload the page and try again."


def _calendar_context(group: AccessGroup, shown: rules.Shown, problem: str | None = None) -> dict:
    """What the calendar page shows: the period's days and posts, or a page of the list."""
    zone = account_zone(group.account)
    today = datetime.now(zone).date()
    context = dict(group=group, shown=shown, zone=zone, today=today, views=rules.VIEWS, lists=rules.LISTS,
                   problem=problem, page_title=f"Calendar · {group.name}",
                   may_create=policy.can(current_user, "posts.create", group))
    if shown.view == "list":
        page = rules.list_page(group, shown.when, shown.cursor, rules.start_of(today, zone))
        return dict(context, entries=rules.entries(page.rows, zone), next_cursor=page.next_cursor)
    grid = rules.grid(group, shown.view, shown.day or today, zone, today)
    return dict(context, period=grid.period, days=grid.days, post_count=grid.post_count, truncated=grid.truncated)


# --- views -------------------------------------------------------------------------------------------


@bp.get("")
def index(group_id: int):
    """The group's posts by month (the default) or week, or as a list of upcoming or past posts."""
    group = enter_group(group_id, "posts.view")
    query = CalendarQuery(request.args)
    shown = query.shown()
    context = _calendar_context(group, shown)
    if shown.view == "list" and shown.cursor and is_partial():
        return render("calendar/index.html", block="rows", refresh_shell=False, **context)
    # The calendar's own links swap the calendar; the sidebar's and the switcher's swap the whole page.
    return render("calendar/index.html", block="calendar" if query.names_a_view() else "main", **context)


@bp.post("/posts/<int:post_id>/reschedule")
def reschedule(group_id: int, post_id: int):
    """Move a post to another day, keeping its time of day in the account's zone unless a time is given."""
    group = enter_group(group_id, "posts.view")
    post = db.session.scalar(rules.group_posts(group).where(Post.id == post_id))
    if post is None:
        abort(404)
    policy.authorize("posts.edit", post)
    shown = CalendarQuery(request.form).shown()  # the calendar the form was sent from, to show again
    form = RescheduleForm()
    zone = account_zone(group.account)
    try:
        if not form.validate_on_submit():
            raise posts.PostError(form.problem())
        posts.reschedule(post, rules.rescheduled_at(post, form.new_date.data, form.new_time.data, zone),
                         current_user)
    except posts.PostError as problem:
        db.session.rollback()
        return render("calendar/index.html", block="calendar", status=422,
                      **_calendar_context(group, shown, problem=str(problem)))
    local = post.scheduled_at.astimezone(zone)
    profile = post.social_profile
    message = (f"Moved the {profile.network_label} post of @{profile.handle} to "
               f"{local:%a} {local.day} {local:%b %Y, %H:%M}.")
    db.session.commit()
    flash(message, "success")
    if not is_partial():
        return redirect(url_for("calendar.index", group_id=group.id, **shown.params()), 303)
    return render("calendar/index.html", block="calendar", **_calendar_context(group, shown))
