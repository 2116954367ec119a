"""Sidebar › Calendar: a group's posts by month, by week or as a list, and moving them to another day."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.orm import joinedload
from wtforms import DateField, HiddenField, SelectField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import policy
from .. import posts as rules
from ..zones import account_zone
from ..extensions import db
from ..htmx import is_partial, render
from ..media import decode_cursor
from ..models import AccessGroup, MediaItem, Post, PostMedia, PostStatus, UTCDateTime, utcnow

bp = Blueprint("calendar", __name__, url_prefix="/g/<int:group_id>/calendar")

VIEWS = {"month": "Month", "week": "Week", "list": "List"}
LISTS = {"upcoming": "Upcoming", "past": "Past"}
PAGE_SIZE = 50  # posts per page of the list view
PERIOD_LIMIT = 1000  # posts a month or a week shows at most; the list view pages through any number
DAY_LIMIT = 6  # posts a day of the month view shows before "N more"
# Years outside these are typing mistakes, and near the ends of the calendar a date would overflow in UTC.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def plausible_date(form: FlaskForm, field: DateField) -> None:
    """Refuse a date no one means (year 1 or 9999), which the calendar could not show."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Choose a date between the years {FIRST_YEAR} and {LAST_YEAR}.")


@dataclass(frozen=True)
class Shown:
    """What the calendar shows: a view, the day it is about (None for today), which list, where a page starts."""

    view: str = "month"
    day: date | None = None
    when: str = "upcoming"
    cursor: str | None = None

    def params(self) -> dict:
        """The query that shows the calendar this way (today's periods leave the day out)."""
        if self.view == "list":
            return {"view": self.view, "when": self.when}
        return {"view": self.view, "date": self.day.isoformat() if self.day else None}


class CalendarQuery(FlaskForm):
    """The calendar's view, day and list page: a GET form, so no CSRF token; what is invalid falls back."""

    class Meta:
        csrf = False

    view = SelectField(choices=list(VIEWS), default="month")
    date = DateField(validators=[Optional(), plausible_date])
    when = SelectField(choices=list(LISTS), default="upcoming")
    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def shown(self) -> Shown:
        """The query's valid parts; a bad date means today, a bad view the month."""
        self.validate()
        default = Shown()
        return Shown(
            view=default.view if self.view.errors else self.view.data,
            day=None if self.date.errors else self.date.data,
            when=default.when if self.when.errors else self.when.data,
            cursor=None if self.cursor.errors else self.cursor.data or None,
        )


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

    def moved(self, post: Post, zone: ZoneInfo) -> datetime:
        """The new time in UTC: the chosen day, at the chosen time or at the post's own time of day."""
        at = self.new_time.data
        if at is None:
            if post.scheduled_at is None:
                raise rules.PostError("Choose a time as well: this post has none yet.", field="scheduled_at")
            at = post.scheduled_at.astimezone(zone).time()
        return datetime.combine(self.new_date.data, at, tzinfo=zone).astimezone(timezone.utc)


# --- what a period holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a month or week view shows, its title, and the days the Previous and Next links open."""

    first: date
    last: date
    title: str
    previous: date
    next: date
    month: int | None = None  # the month a month view is about (its grid starts and ends in others)


def month_period(day: date) -> Period:
    """The month of `day`, in whole weeks from Monday to Sunday."""
    first_of_month = day.replace(day=1)
    next_month = (first_of_month + timedelta(days=31)).replace(day=1)
    last_of_month = next_month - timedelta(days=1)
    return Period(
        first=first_of_month - timedelta(days=first_of_month.weekday()),
        last=last_of_month + timedelta(days=6 - last_of_month.weekday()),
        title=f"{first_of_month:%B %Y}",
        previous=(first_of_month - timedelta(days=1)).replace(day=1),
        next=next_month,
        month=first_of_month.month,
    )


def week_period(day: date) -> Period:
    """The week of `day`, Monday to Sunday."""
    first = day - timedelta(days=day.weekday())
    last = first + timedelta(days=6)
    if first.year != last.year:
        title = f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    elif first.month != last.month:
        title = f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    else:
        title = f"{first.day} – {last.day} {last:%B %Y}"
    return Period(first=first, last=last, title=title, previous=first - timedelta(days=7),
                  next=first + timedelta(days=7))


@dataclass(frozen=True)
class Entry:
    """A post as the calendar shows it: its time in the account's zone, its status in words, a thumbnail."""

    post: Post
    at: datetime
    status: str
    attachment: MediaItem | None
    movable: bool  # a published post stays where it went out


@dataclass(frozen=True)
class Day:
    """One day of a month or week view and the posts it shows."""

    date: date
    entries: list[Entry]
    more: int  # posts the day holds beyond those shown
    in_period: bool
    is_today: bool
    is_past: bool

    @property
    def label(self) -> str:
        return f"{self.date:%A} {self.date.day} {self.date:%B %Y}"


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in the zone, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)


def _group_posts(group: AccessGroup) -> Select:
    """The group's posts the user may see (not those of profiles they removed), each with its profile."""
    return (policy.visible(select(Post)).where(Post.access_group_id == group.id)
            .options(joinedload(Post.social_profile, innerjoin=True)))


def _first_attachments(posts: list[Post]) -> dict[int, MediaItem]:
    """Each post's first attachment, for all the posts in one query (whatever group the item is now in)."""
    if not posts:
        return {}
    rows = db.session.execute(
        select(PostMedia.post_id, MediaItem).join(MediaItem, MediaItem.id == PostMedia.media_item_id)
        .where(PostMedia.post_id.in_([post.id for post in posts]))
        .order_by(PostMedia.post_id, PostMedia.position, PostMedia.media_item_id)
    )
    first: dict[int, MediaItem] = {}
    for post_id, item in rows:
        first.setdefault(post_id, item)
    return first


def _entries(posts: list[Post], zone: ZoneInfo) -> list[Entry]:
    """The posts as the calendar shows them, with their first attachments loaded in one query."""
    now = utcnow()
    attachments = _first_attachments(posts)
    return [Entry(post, post.scheduled_at.astimezone(zone), rules.status_label(post, now), attachments.get(post.id),
                  post.status != PostStatus.PUBLISHED.value) for post in posts]


def _days(period: Period, entries: list[Entry], today: date, day_limit: int | None) -> list[Day]:
    """Every day of the period with its posts (at most `day_limit` shown), by their day in the account's zone."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.at.date()].append(entry)
    days = []
    day = period.first
    while day <= period.last:
        held = by_day.get(day, [])
        shown = held if day_limit is None else held[:day_limit]
        days.append(Day(date=day, entries=shown, more=len(held) - len(shown),
                        in_period=period.month in (None, day.month), is_today=day == today, is_past=day < today))
        day += timedelta(days=1)
    return days


def encode_cursor(post: Post) -> str:
    """Where the next page of the list starts: after this post (the media library's cursor format)."""
    return f"{post.scheduled_at.isoformat()}~{post.id}"


def _list_page(group: AccessGroup, shown: Shown, boundary: datetime) -> tuple[list[Post], str | None]:
    """A page of upcoming posts (from `boundary` on, soonest first) or past ones (newest first)."""
    statement = _group_posts(group)
    key = tuple_(Post.scheduled_at, Post.id)
    after = decode_cursor(shown.cursor)
    cursor = tuple_(literal(after[0], UTCDateTime), literal(after[1])) if after else None
    if shown.when == "past":
        statement = statement.where(Post.scheduled_at < boundary).order_by(Post.scheduled_at.desc(), Post.id.desc())
        if cursor is not None:
            statement = statement.where(key < cursor)
    else:
        statement = statement.where(Post.scheduled_at >= boundary).order_by(Post.scheduled_at, Post.id)
        if cursor is not None:
            statement = statement.where(key > cursor)
    posts = db.session.scalars(statement.limit(PAGE_SIZE + 1)).all()
    next_cursor = encode_cursor(posts[PAGE_SIZE - 1]) if len(posts) > PAGE_SIZE else None
    return list(posts[:PAGE_SIZE]), next_cursor


def _calendar_context(group: AccessGroup, shown: Shown, problem: str | None = None) -> dict:
    """What the calendar page shows: the period's days and posts, or a page of the list."""
    zone = account_zone(group.account)
    today = datetime.now(zone).date()
    context = dict(group=group, shown=shown, zone=zone, today=today, views=VIEWS, lists=LISTS, problem=problem,
                   page_title=f"Calendar · {group.name}",
                   may_create=policy.can(current_user, "posts.create", group))
    if shown.view == "list":
        posts, next_cursor = _list_page(group, shown, start_of(today, zone))
        return dict(context, entries=_entries(posts, zone), next_cursor=next_cursor)
    period = (month_period if shown.view == "month" else week_period)(shown.day or today)
    posts = db.session.scalars(
        _group_posts(group)
        .where(Post.scheduled_at >= start_of(period.first, zone),
               Post.scheduled_at < start_of(period.last + timedelta(days=1), zone))
        .order_by(Post.scheduled_at, Post.id).limit(PERIOD_LIMIT + 1)
    ).all()
    entries = _entries(list(posts[:PERIOD_LIMIT]), zone)
    day_limit = DAY_LIMIT if shown.view == "month" else None
    return dict(context, period=period, days=_days(period, entries, today, day_limit), post_count=len(entries),
                truncated=len(posts) > PERIOD_LIMIT)


def _calendar_group(group_id: int) -> AccessGroup:
    """The group whose calendar this is, if the user may see its posts (404 hidden, 403 denied)."""
    group = policy.get_or_404(AccessGroup, group_id, "posts.view")
    g.access_group = group  # the shell shows this group
    return group


# --- views -------------------------------------------------------------------------------------------


@bp.get("")
def index(group_id: int):
    """The group's posts by month (the default) or week, or as a list of upcoming or past posts."""
    group = _calendar_group(group_id)
    shown = CalendarQuery(request.args).shown()
    context = _calendar_context(group, shown)
    if shown.view == "list" and shown.cursor and is_partial():
        return render("calendar/index.html", block="rows", refresh_shell=False, **context)
    return render("calendar/index.html", block="main", **context)


@bp.post("/posts/<int:post_id>/reschedule")
def reschedule(group_id: int, post_id: int):
    """Move a post to another day, keeping its time of day in the account's zone unless a time is given."""
    group = _calendar_group(group_id)
    post = db.session.scalar(_group_posts(group).where(Post.id == post_id))
    if post is None:
        abort(404)
    policy.authorize("posts.edit", post)
    shown = CalendarQuery(request.form).shown()  # the calendar the form was sent from, to show again
    form = RescheduleForm()
    zone = account_zone(group.account)
    try:
        if not form.validate_on_submit():
            raise rules.PostError(form.problem())
        rules.reschedule(post, form.moved(post, zone), current_user)
    except rules.PostError as problem:
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
    response = render("calendar/index.html", block="calendar", **_calendar_context(group, shown))
    response.headers["HX-Trigger"] = "postRescheduled"
    return response
