"""The calendar: the days a month or week shows with their posts, pages of the list, and a post's new time.

Days are those of the account's time zone: a post belongs to the day its time falls on there.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from . import paging, policy
from .extensions import db
from .models import AccessGroup, MediaItem, Post, PostMedia, PostStatus, utcnow
from .posts import PostError, status_label

VIEWS = {"month": "Month", "week": "Week", "list": "List"}
LISTS = {"upcoming": "Upcoming", "past": "Past"}
PAGE_SIZE = 50  # posts per page of the list view
PERIOD_LIMIT = 1000  # posts a month or a week shows at most; the list view pages through any number
DAY_LIMIT = 6  # posts a day of the month view shows before "N more"
# Years outside these are typing mistakes, and near the ends of the calendar a date would overflow in UTC.
FIRST_YEAR, LAST_YEAR = 1900, 2999


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


# --- the days of a period ----------------------------------------------------------------------------


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


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in the zone, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)


# --- the posts on them -------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Grid:
    """A month or week view: its period, its days with their posts, and whether it holds more than it shows."""

    period: Period
    days: list[Day]
    post_count: int
    truncated: bool


def group_posts(group: AccessGroup) -> Select:
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


def entries(posts: list[Post], zone: ZoneInfo) -> list[Entry]:
    """The posts as the calendar shows them, with their first attachments loaded in one query."""
    now = utcnow()
    attachments = _first_attachments(posts)
    return [Entry(post, post.scheduled_at.astimezone(zone), status_label(post, now), attachments.get(post.id),
                  post.status != PostStatus.PUBLISHED.value) for post in posts]


def _days(period: Period, posted: list[Entry], today: date, day_limit: int | None) -> list[Day]:
    """Every day of the period with its posts (at most `day_limit` shown), by their day in the account's zone."""
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in posted:
        by_day[entry.at.date()].append(entry)
    result = []
    day = period.first
    while day <= period.last:
        held = by_day.get(day, [])
        shown = held if day_limit is None else held[:day_limit]
        result.append(Day(date=day, entries=shown, more=len(held) - len(shown),
                          in_period=period.month in (None, day.month), is_today=day == today, is_past=day < today))
        day += timedelta(days=1)
    return result


def grid(group: AccessGroup, view: str, day: date, zone: ZoneInfo, today: date) -> Grid:
    """The month (or the week, for `view` "week") of `day` with the group's posts, at most PERIOD_LIMIT of them."""
    period = week_period(day) if view == "week" else month_period(day)
    posts = db.session.scalars(
        group_posts(group)
        .where(Post.scheduled_at >= start_of(period.first, zone),
               Post.scheduled_at < start_of(period.last + timedelta(days=1), zone))
        .order_by(Post.scheduled_at, Post.id).limit(PERIOD_LIMIT + 1)
    ).all()
    posted = entries(list(posts[:PERIOD_LIMIT]), zone)
    day_limit = DAY_LIMIT if view == "month" else None
    return Grid(period=period, days=_days(period, posted, today, day_limit), post_count=len(posted),
                truncated=len(posts) > PERIOD_LIMIT)


def list_page(group: AccessGroup, when: str, cursor: str | None, boundary: datetime) -> paging.Page[Post]:
    """A page of upcoming posts (from `boundary` on, soonest first) or past ones (newest first)."""
    if when == "past":
        statement = group_posts(group).where(Post.scheduled_at < boundary)
    else:
        statement = group_posts(group).where(Post.scheduled_at >= boundary)
    return paging.keyset_page(statement, Post.scheduled_at, Post.id, cursor, PAGE_SIZE, descending=when == "past")


# --- moving a post -----------------------------------------------------------------------------------


def rescheduled_at(post: Post, day: date, at: time | None, zone: ZoneInfo) -> datetime:
    """The post's new time in UTC: `day` at `at`, or at the post's own time of day in the zone."""
    if at is None:
        if post.scheduled_at is None:
            raise PostError("Choose a time as well: this post has none yet.", field="scheduled_at")
        at = post.scheduled_at.astimezone(zone).time()
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)
