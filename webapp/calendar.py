"""The calendar: the days a month or week shows with their posts, pages of the list, and a post's new time.

Days are those of the viewer's time zone (their own, else the agency's): a post belongs to the day its
time falls on there. Weeks start on the agency's first day of the week.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, DateTime, Select, bindparam, func, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased, joinedload

from . import paging, policy
from .extensions import db
from .models import AccessGroup, MediaItem, Network, Post, PostMedia, PostStatus, SocialProfile, utcnow
from .posts import PostError, status_label
from .zones import AmbiguousTime, LocalTimeError, TimeStyle, to_utc

VIEWS = {"month": "Month", "week": "Week", "day": "Day", "list": "List"}
LISTS = {"upcoming": "Upcoming", "past": "Past"}
PAGE_SIZE = 50  # posts per page of the list view
DAY_LIMIT = 4  # posts a day of the month view shows before "N more", which opens the day's whole list
WEEK_DAY_LIMIT = 8  # the same for a day of the week view, which has room for more
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


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _days_into_week(day: date, week_start: str) -> int:
    """How many days `day` is after the first day of its week (weeks start on Monday, or on Sunday)."""
    return (day.weekday() + (1 if week_start == "sunday" else 0)) % 7


def weekday_names(week_start: str = "monday") -> tuple[str, ...]:
    """The days' short names in the order a week shows them."""
    return WEEKDAY_NAMES[-1:] + WEEKDAY_NAMES[:-1] if week_start == "sunday" else WEEKDAY_NAMES


def month_period(day: date, week_start: str = "monday") -> Period:
    """The month of `day`, in whole weeks from the first day of the week (Monday or Sunday)."""
    first_of_month = day.replace(day=1)
    next_month = (first_of_month + timedelta(days=31)).replace(day=1)
    last_of_month = next_month - timedelta(days=1)
    return Period(
        first=first_of_month - timedelta(days=_days_into_week(first_of_month, week_start)),
        last=last_of_month + timedelta(days=6 - _days_into_week(last_of_month, week_start)),
        title=f"{first_of_month:%B %Y}",
        previous=(first_of_month - timedelta(days=1)).replace(day=1),
        next=next_month,
        month=first_of_month.month,
    )


def week_period(day: date, week_start: str = "monday") -> Period:
    """The week of `day`, from the first day of the week (Monday or Sunday)."""
    first = day - timedelta(days=_days_into_week(day, week_start))
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


class CardRow(NamedTuple):
    """The columns of a post a calendar card shows: read as plain values, as a page may hold hundreds."""

    id: int
    status: str
    caption: str
    scheduled_at: datetime
    publish_error: str | None
    network: str
    handle: str
    external_url: str | None  # where the published post is seen on its network (`posts.public_url`)


CARD_COLUMNS = (Post.id, Post.status, Post.caption, Post.scheduled_at, Post.publish_error, SocialProfile.network,
                SocialProfile.handle, Post.external_url)
CAPTION_SHOWN = 80  # characters of a caption a card shows


class Thumbnail(NamedTuple):
    """A post's first attachment as a card shows it."""

    item_id: int
    has_image: bool  # a thumbnail is stored (videos and unreadable images have none)
    kind: str


@dataclass(frozen=True)
class Entry:
    """A post as the calendar shows it: its time in the viewer's zone, its status in words, a thumbnail."""

    post: CardRow
    at: datetime
    status: str
    attachment: Thumbnail | None
    movable: bool  # a published post stays where it went out
    style: TimeStyle = TimeStyle()

    @cached_property
    def time_text(self) -> str:
        """"14:00 CET" (or "2:00 pm CET" on a 12-hour clock)."""
        return self.style.format(self.at, "time")

    @cached_property
    def day_text(self) -> str:
        return self.style.format(self.at.date(), "day")

    @cached_property
    def network_label(self) -> str:
        return Network(self.post.network).label

    @cached_property
    def caption(self) -> str:
        """The caption's start, cut at a word, or words saying there is none."""
        caption = self.post.caption.strip()
        if not caption:
            return "No caption"
        if len(caption) <= CAPTION_SHOWN + 5:
            return caption
        return caption[:CAPTION_SHOWN].rsplit(" ", 1)[0].rstrip() + "…"


@dataclass(frozen=True)
class Day:
    """One day of a month or week view: the posts it shows and how many it holds in all."""

    date: date
    entries: list[Entry]
    count: int  # every post of the day the user may see, shown or not
    in_period: bool
    is_today: bool
    is_past: bool

    @property
    def more(self) -> int:
        """Posts the day holds beyond those shown."""
        return self.count - len(self.entries)

    @cached_property
    def label(self) -> str:
        return f"{self.date:%A} {self.date.day} {self.date:%B %Y}"

    @cached_property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass(frozen=True)
class Grid:
    """A month or week view: its period, its days with their posts, and how many posts the period holds."""

    period: Period
    days: list[Day]
    post_count: int


def group_posts(group: AccessGroup) -> Select:
    """The group's posts the user may see (not those of profiles they removed), each with its profile."""
    return (policy.visible(select(Post)).where(Post.access_group_id == group.id)
            .options(joinedload(Post.social_profile, innerjoin=True)))


def _first_attachments(post_ids: list[int]) -> dict[int, Thumbnail]:
    """Each post's first attachment, for all the posts in one query (whatever group the item is now in)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(PostMedia.post_id, MediaItem.id, MediaItem.thumbnail_key.is_not(None), MediaItem.kind)
        .join(MediaItem, MediaItem.id == PostMedia.media_item_id)
        .where(PostMedia.post_id.in_(post_ids))
        .order_by(PostMedia.post_id, PostMedia.position, PostMedia.media_item_id)
    )
    first: dict[int, Thumbnail] = {}
    for post_id, item_id, has_image, kind in rows:
        first.setdefault(post_id, Thumbnail(item_id, bool(has_image), kind))
    return first


def card_entries(rows: list[CardRow], style: TimeStyle) -> list[Entry]:
    """Posts read as card columns, as the calendar shows them, with their first attachments in one query."""
    now = utcnow()
    attachments = _first_attachments([row.id for row in rows])
    return [Entry(row, row.scheduled_at.astimezone(style.zone), status_label(row, now), attachments.get(row.id),
                  row.status != PostStatus.PUBLISHED.value, style) for row in rows]


def entries(posts: list[Post], style: TimeStyle) -> list[Entry]:
    """Loaded posts (each with its profile) as the calendar shows them."""
    return card_entries([CardRow(post.id, post.status, post.caption, post.scheduled_at, post.publish_error,
                                 post.social_profile.network, post.social_profile.handle, post.external_url)
                         for post in posts], style)


def day_starts(first: date, last: date, zone: ZoneInfo) -> list[datetime]:
    """The start of each day from `first` to `last` in the zone, in UTC, and the end of the last one.

    Days are cut where the zone's clocks say midnight, so a day of a daylight saving change holds its
    23 or 25 hours."""
    return [start_of(first + timedelta(days=offset), zone) for offset in range((last - first).days + 2)]


def _on_day(posts: Any, start: ColumnElement, end: ColumnElement, hides_profiles: bool) -> list[ColumnElement[bool]]:
    """Conditions for the group's posts (:group_id) between two times, without those of hidden profiles.

    `posts` is an alias of Post of its own, so a subquery never correlates with the posts around it."""
    conditions = [posts.access_group_id == bindparam("group_id"), posts.scheduled_at >= start, posts.scheduled_at < end]
    if hides_profiles:  # else a day's count is read from the index alone
        conditions.append(posts.social_profile_id.not_in(bindparam("hidden_profiles", expanding=True)))
    return conditions


@lru_cache(maxsize=16)
def _first_posts_of_days(dialect: str, days: int, day_limit: int, hides_profiles: bool) -> Select:
    """For `days` days, the first `day_limit` posts of each by time, with each day's number and post count.

    Each day's first posts are read and its posts counted along the (group, time, id) index, so the
    database's work is the posts shown and an index count, never a pass over every post of the period.
    PostgreSQL walks the days (:starts and :ends, arrays) with lateral subqueries, which it plans in
    well under a millisecond; SQLite, which has no lateral joins, runs one branch per day (:start_0 to
    :start_<days>). Either statement is built once per shape and run with bound values (and
    :hidden_profiles where the user removed profiles from their view).
    """
    if dialect == "postgresql":
        days_table = func.unnest(bindparam("starts", type_=ARRAY(DateTime(timezone=True))),
                                 bindparam("ends", type_=ARRAY(DateTime(timezone=True)))
                                 ).table_valued("start", "end", with_ordinality="number").render_derived()
        counted, listed = aliased(Post), aliased(Post)
        held = (select(func.count(counted.id).label("held"))
                .where(*_on_day(counted, days_table.c.start, days_table.c.end, hides_profiles)).lateral())
        first = (select(listed.id.label("post_id"))
                 .where(*_on_day(listed, days_table.c.start, days_table.c.end, hides_profiles))
                 .order_by(listed.scheduled_at, listed.id).limit(day_limit).lateral())
        return (select(*CARD_COLUMNS, (days_table.c.number - 1).label("day"), held.c.held)
                .select_from(days_table).join(held, true()).join(first, true())
                .join(Post, Post.id == first.c.post_id).join(SocialProfile, SocialProfile.id == Post.social_profile_id)
                .order_by(Post.scheduled_at, Post.id))
    branches = []
    for number in range(days):
        start, end = bindparam(f"start_{number}"), bindparam(f"start_{number + 1}")
        counted, listed = aliased(Post), aliased(Post)
        held = select(func.count(counted.id)).where(*_on_day(counted, start, end, hides_profiles)).scalar_subquery()
        first = (select(listed.id.label("post_id"), literal(number).label("day"), held.label("held"))
                 .where(*_on_day(listed, start, end, hides_profiles))
                 .order_by(listed.scheduled_at, listed.id).limit(day_limit).subquery())
        branches.append(select(first))
    shown = union_all(*branches).subquery()
    return (select(*CARD_COLUMNS, shown.c.day, shown.c.held).join(shown, shown.c.post_id == Post.id)
            .join(SocialProfile, SocialProfile.id == Post.social_profile_id).order_by(Post.scheduled_at, Post.id))


def _days_shown(group: AccessGroup, starts: list[datetime], day_limit: int) -> list[tuple[CardRow, int, int]]:
    """The first `day_limit` posts of each day by time, each with its day's number and its day's post count.

    Posts are those `group_posts` gives: the group was entered, so the policy's rule for them is to leave
    out the posts of profiles the user removed from their view."""
    perms = policy.current_permissions()
    if not perms.may_enter(group.id):
        return []
    dialect = db.session.get_bind().dialect.name
    values: dict = {"group_id": group.id}
    if dialect == "postgresql":
        values.update(starts=starts[:-1], ends=starts[1:])
    else:
        values.update({f"start_{number}": start for number, start in enumerate(starts)})
    if perms.removed_profiles:
        values.update(hidden_profiles=sorted(perms.removed_profiles))
    statement = _first_posts_of_days(dialect, len(starts) - 1, day_limit, bool(perms.removed_profiles))
    rows = db.session.execute(statement, values).all()
    return [(CardRow(*row[:-2]), row[-2], row[-1]) for row in rows]


def grid(group: AccessGroup, view: str, day: date, style: TimeStyle, today: date) -> Grid:
    """The month (or the week, for `view` "week") of `day`: every day's exact post count and its first posts."""
    period = week_period(day, style.week_start) if view == "week" else month_period(day, style.week_start)
    starts = day_starts(period.first, period.last, style.zone)
    shown = _days_shown(group, starts, WEEK_DAY_LIMIT if view == "week" else DAY_LIMIT)
    by_entry = dict(zip((post.id for post, _, _ in shown), card_entries([post for post, _, _ in shown], style)))
    posted: dict[int, list[Entry]] = defaultdict(list)
    counts: dict[int, int] = {}
    for post, number, held in shown:
        posted[number].append(by_entry[post.id])
        counts[number] = held
    days = []
    for number in range(len(starts) - 1):
        date_ = period.first + timedelta(days=number)
        days.append(Day(date=date_, entries=posted.get(number, []), count=counts.get(number, 0),
                        in_period=period.month in (None, date_.month), is_today=date_ == today,
                        is_past=date_ < today))
    return Grid(period=period, days=days, post_count=sum(counts.values()))


def list_page(group: AccessGroup, when: str, cursor: str | None, boundary: datetime) -> paging.Page[Post]:
    """A page of upcoming posts (from `boundary` on, soonest first) or past ones (newest first)."""
    if when == "past":
        statement = group_posts(group).where(Post.scheduled_at < boundary)
    else:
        statement = group_posts(group).where(Post.scheduled_at >= boundary)
    return paging.keyset_page(statement, Post.scheduled_at, Post.id, cursor, PAGE_SIZE, descending=when == "past")


@dataclass(frozen=True)
class DayList:
    """The day view: one day's posts, a page at a time, and how many the day holds (None past its first page)."""

    period: Period
    page: paging.Page[Post]
    post_count: int | None


def day_period(day: date) -> Period:
    """One day, with the days before and after it."""
    return Period(first=day, last=day, title=f"{day:%A} {day.day} {day:%B %Y}", previous=day - timedelta(days=1),
                  next=day + timedelta(days=1))


def day_list(group: AccessGroup, day: date, zone: ZoneInfo, cursor: str | None) -> DayList:
    """A page of the posts of `day` in the zone, by time; on the first page, how many the day holds."""
    start, end = day_starts(day, day, zone)
    page = paging.keyset_page(group_posts(group).where(Post.scheduled_at >= start, Post.scheduled_at < end),
                              Post.scheduled_at, Post.id, cursor, PAGE_SIZE)
    count = None
    if cursor is None:
        count = len(page.rows) if page.next_cursor is None else db.session.scalar(
            select(func.count()).select_from(
                policy.visible(select(Post.id))
                .where(Post.access_group_id == group.id, Post.scheduled_at >= start, Post.scheduled_at < end)
                .subquery()))
    return DayList(period=day_period(day), page=page, post_count=count)


# --- moving a post -----------------------------------------------------------------------------------


def rescheduled_at(post: Post, day: date, at: time | None, zone: ZoneInfo, fold: int | None = None) -> datetime:
    """The post's new time in UTC: `day` at `at`, or at the post's own time of day in the zone.

    A time the clocks skip that day is refused (PostError); one they go through twice raises
    `zones.AmbiguousTime` unless `fold` says which."""
    if at is None:
        if post.scheduled_at is None:
            raise PostError("Choose a time as well: this post has none yet.", field="scheduled_at")
        at = post.scheduled_at.astimezone(zone).time()
    try:
        return to_utc(day, at, zone, fold)
    except AmbiguousTime:
        raise
    except LocalTimeError as problem:
        raise PostError(str(problem), field="scheduled_at") from None
