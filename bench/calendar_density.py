"""The calendar at three densities: one group's months holding 100, 1,000 and 5,000 posts.

Built once per run in a database of its own (a SQLite file, or a scratch PostgreSQL database) with
bulk Core inserts: an agency working in a time zone away from UTC, one access group with ten social
profiles, and for each density a month whose posts are spread unevenly over its days (a few days much
busier than the rest, a few empty, some posts carrying media). The months are two apart, so no grid
shows another density's posts. Each month is measured as its owner sees it: the month view, and the
week of its busiest day as a whole page and as htmx's partial. Each day of a grid says how many posts
it holds (`data-count` on its `li.day`); those counts are checked against counts made here from the
database, by day in the account's time zone.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from tests.html import Html
from webapp.accounts import hash_password
from webapp.extensions import db
from webapp.media import recount_media
from webapp.models import (
    AccessGroup,
    Account,
    MediaItem,
    Membership,
    Network,
    Post,
    PostMedia,
    PostStatus,
    Role,
    SocialProfile,
    SocialSet,
    User,
)
from webapp.plans import install_reference_plans
from webapp.zones import account_zone

from . import report
from .database import analyze_like_autovacuum, bench_app, temporary_database
from .dataset import PASSWORD, Writer, email_of, media_row
from .pages import ACCEPT_GZIP, HTMX, Measurement, app_counter, measure_get, signed_in_client

DENSITIES = (100, 1_000, 5_000)  # posts in each measured month
PROFILES = 10
NETWORKS_PER_SET = 5  # two sets of five profiles
LIBRARY_ITEMS = 60  # the group's media library; every fifth item is a video without a thumbnail
MEDIA_EVERY = 4  # one post in four carries an item of the library ...
SECOND_ITEM_EVERY = 20  # ... and one in twenty a second one
TIME_ZONE = "America/New_York"  # evening posts fall on the next day in UTC, so a UTC count would be wrong
EMPTY_DAYS = 3  # days of each month without posts
BUSY_DAYS = 2  # days of each month much busier than the rest
BUSY_WEIGHT = 12  # their share of the month's posts, against 1 to 5 for an ordinary day
ORDINARY_WEIGHTS = (1, 1, 2, 2, 3, 5)
# Upcoming posts in their usual states (none published: the months are ahead of today).
STATUSES = [PostStatus.SCHEDULED, PostStatus.SCHEDULED, PostStatus.APPROVED, PostStatus.PENDING_APPROVAL,
            PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.REJECTED]
CAPTIONS = ["New drop this Friday", "Behind the scenes at the studio with the team, and a giveaway for followers",
            "Reminder: the spring sale ends tonight. Link in bio for the full collection and sizes", ""]
WARM_UP = 2  # untimed requests before each measured one
BUDGET_MS = 60.0  # p50 server time a calendar view should stay within ...
BUDGET_BYTES = 25 * report.KB  # ... and what it may weigh gzipped
EXPECTED_STATUS = 200
SEED = 20250301


@dataclass(frozen=True)
class View:
    """One way the calendar shows a measured month."""

    name: str
    view: str  # the `view` query value
    htmx: bool = False  # asked for by htmx: the calendar alone, not the whole page

    def url(self, group_id: int, month: Month) -> str:
        """The month view on a day of the month, the week views on its busiest day."""
        day = month.first + timedelta(days=14) if self.view == "month" else month.busiest
        return f"/g/{group_id}/calendar?view={self.view}&date={day.isoformat()}"

    def headers(self) -> dict[str, str]:
        """What the browser sends: gzip accepted, and htmx's header for the partial."""
        return {**ACCEPT_GZIP, **(HTMX if self.htmx else {})}

    def days(self, month: Month) -> list[date]:
        """The days this view must show with their counts: the whole month, or the busiest day's week."""
        if self.view == "month":
            return [month.first + timedelta(days=n) for n in range(month.length)]
        monday = month.busiest - timedelta(days=month.busiest.weekday())
        return [monday + timedelta(days=n) for n in range(7)]


VIEWS = (View("month", "month"), View("week", "week"), View("week (htmx)", "week", htmx=True))


@dataclass(frozen=True)
class Month:
    """A measured month: how many posts it holds, its busiest day, and what else shapes it."""

    posts: int  # as built
    held: int  # as the database counts them, by day in the account's zone
    first: date
    length: int  # days
    busiest: date
    busiest_posts: int
    empty_days: int
    with_media: int  # posts carrying at least one item


@dataclass
class CalendarData:
    """What was built: the group, whom to sign in as, the months, and each day's post count from the database."""

    group_id: int
    owner_email: str
    zone: ZoneInfo
    months: list[Month]
    counts: Counter  # posts per day, in the account's zone, counted from the database
    rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass
class Row:
    """One view of one month, measured: the figures, whether its days show exact counts, or what went wrong."""

    month: Month
    view: View
    measured: Measurement | None = None
    exact: str = ""
    error: str | None = None

    @property
    def over_budget(self) -> list[str]:
        """What exceeds the budget: "ms", "KB", both or neither."""
        if self.measured is None:
            return []
        over = ["ms"] if self.measured.p50 > BUDGET_MS else []
        return over + (["KB"] if self.measured.wire_bytes > BUDGET_BYTES else [])


@dataclass
class CalendarRun:
    """The calendar's figures on one database."""

    data: CalendarData
    rows: list[Row]
    requests: int


# --- the data ----------------------------------------------------------------------------------------


def _months_ahead(today: date) -> list[date]:
    """The first days of the measured months: from the month after next, every other month."""
    firsts = []
    for step in range(len(DENSITIES)):
        index = today.month - 1 + 2 + 2 * step
        firsts.append(date(today.year + index // 12, index % 12 + 1, 1))
    return firsts


def _month_length(first: date) -> int:
    """How many days the month of `first` has."""
    return ((first + timedelta(days=32)).replace(day=1) - first).days


def _day_counts(days: int, posts: int, rng: random.Random) -> list[int]:
    """How many of `posts` fall on each of `days` days: a few days empty, a few much busier, the rest uneven."""
    weights = [rng.choice(ORDINARY_WEIGHTS) for _ in range(days)]
    picked = rng.sample(range(days), EMPTY_DAYS + BUSY_DAYS)
    for day in picked[:EMPTY_DAYS]:
        weights[day] = 0
    for day in picked[EMPTY_DAYS:]:
        weights[day] = BUSY_WEIGHT
    shares = [posts * weight / sum(weights) for weight in weights]
    counts = [int(share) for share in shares]
    # The posts left over go to the days with the largest remainders (empty days have none).
    by_remainder = sorted(range(days), key=lambda day: shares[day] - counts[day], reverse=True)
    for day in by_remainder[:posts - sum(counts)]:
        counts[day] += 1
    return counts


def _minutes(count: int, rng: random.Random) -> list[int]:
    """Times of day, in minutes after midnight, for `count` posts: the first at midnight, the last at 23:59."""
    minutes = sorted(rng.randrange(24 * 60) for _ in range(count))
    if count >= 2:
        minutes[0], minutes[-1] = 0, 24 * 60 - 1
    return minutes


def _month_posts(first: date, counts: list[int], zone: ZoneInfo, profiles: list[int], group_id: int,
                 author_id: int, rng: random.Random, start: int) -> list[dict]:
    """The rows of a month's posts, `counts[n]` on its day n, numbered from `start` (for statuses and captions)."""
    rows = []
    for offset, count in enumerate(counts):
        day = first + timedelta(days=offset)
        for minute in _minutes(count, rng):
            p = start + len(rows)
            local = datetime.combine(day, clock(minute // 60, minute % 60), tzinfo=zone)
            rows.append({
                "social_profile_id": profiles[p % len(profiles)],
                "access_group_id": group_id,
                "author_id": author_id,
                "caption": f"{CAPTIONS[p % len(CAPTIONS)]} #{p}".strip(),
                "status": STATUSES[p % len(STATUSES)].value,
                "scheduled_at": local.astimezone(timezone.utc),
            })
    return rows


def counts_by_day(group_id: int, zone: ZoneInfo, with_media: bool = False) -> Counter:
    """How many of the group's scheduled posts (those carrying media, if asked) fall on each day in `zone`,
    read back from the database."""
    statement = select(Post.scheduled_at).where(Post.access_group_id == group_id, Post.scheduled_at.is_not(None))
    if with_media:
        statement = statement.where(Post.id.in_(select(PostMedia.post_id)))
    return Counter(moment.astimezone(zone).date() for moment in db.session.scalars(statement))


def build(now: datetime | None = None) -> CalendarData:
    """Fill the (empty, schema-created) database of the current app with the busy group; commits."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    rng = random.Random(SEED)
    out = Writer()
    install_reference_plans()
    [account_id] = out.insert_ids(Account, [{"name": "Busy Agency", "plan_code": "self_hosted",
                                             "time_zone": TIME_ZONE}])
    [owner_id] = out.insert_ids(User, [{"email": email_of("owner"), "name": "Owner",
                                        "password_hash": hash_password(PASSWORD)}])
    out.insert(Membership, [{"account_id": account_id, "user_id": owner_id, "role": Role.OWNER.value}])
    [group_id] = out.insert_ids(AccessGroup, [{"account_id": account_id, "name": "Busy Brand", "is_default": True}])
    set_ids = out.insert_ids(SocialSet, [{"access_group_id": group_id, "name": f"Set {s + 1}", "position": s}
                                         for s in range(PROFILES // NETWORKS_PER_SET)])
    networks = list(Network)[:NETWORKS_PER_SET]
    profile_ids = out.insert_ids(SocialProfile, [
        {"social_set_id": set_id, "access_group_id": group_id, "network": network.value,
         "handle": f"busybrand{s + 1}_{network.value}", "access_token": f"bench-token-busy-{s}-{k}",
         "connected_by_id": owner_id}
        for s, set_id in enumerate(set_ids) for k, network in enumerate(networks)
    ])
    library = out.insert_ids(MediaItem, [media_row(group_id, owner_id, j, now) for j in range(LIBRARY_ITEMS)])

    zone = ZoneInfo(TIME_ZONE)
    planned = list(zip(_months_ahead(now.astimezone(zone).date()), DENSITIES))
    post_rows: list[dict] = []
    for first, posts in planned:
        counts = _day_counts(_month_length(first), posts, rng)
        post_rows += _month_posts(first, counts, zone, profile_ids, group_id, owner_id, rng, len(post_rows))
    post_ids = out.insert_ids(Post, post_rows)
    attached = [{"post_id": post_id, "media_item_id": library[p % len(library)], "position": 0}
                for p, post_id in enumerate(post_ids) if p % MEDIA_EVERY == 0]
    attached += [{"post_id": post_id, "media_item_id": library[(p + 1) % len(library)], "position": 1}
                 for p, post_id in enumerate(post_ids) if p % SECOND_ITEM_EVERY == 0]
    out.insert(PostMedia, attached)
    out.sync_sequences()
    recount_media()  # items went in as bulk rows: each group's count is set from them
    db.session.commit()

    zone = account_zone(db.session.get_one(Account, account_id))
    counts, media = counts_by_day(group_id, zone), counts_by_day(group_id, zone, with_media=True)
    months = [_month(first, posts, counts, media) for first, posts in planned]
    return CalendarData(group_id=group_id, owner_email=email_of("owner"), zone=zone, months=months, counts=counts,
                        rows=out.rows, seconds=time.perf_counter() - started)


def _month(first: date, posts: int, counts: Counter, media: Counter) -> Month:
    """A built month as the database's counts describe it (its busiest day the earliest of the busiest)."""
    days = [first + timedelta(days=n) for n in range(_month_length(first))]
    busiest = max(days, key=lambda day: (counts[day], -day.toordinal()))
    return Month(posts=posts, held=sum(counts[day] for day in days), first=first, length=len(days),
                 busiest=busiest, busiest_posts=counts[busiest],
                 empty_days=sum(1 for day in days if not counts[day]), with_media=sum(media[day] for day in days))


# --- what a page shows -------------------------------------------------------------------------------


def exactness(body: bytes, counts: Counter, days: list[date]) -> str:
    """"exact" if every day element shows the number of posts its day holds and each of `days` is shown;
    otherwise the first day that is wrong, or "no counts shown" for a grid whose days carry no count."""
    elements = Html(body).css("li.day")
    if not elements:
        return "no days shown"
    if any("data-count" not in element.attributes for element in elements):
        return "no counts shown"
    shown = set()
    for element in elements:
        written_date, written_count = element.attributes.get("data-date"), element.attributes.get("data-count")
        try:
            day, count = date.fromisoformat(written_date or ""), int(written_count or "")
        except ValueError:
            return f"unreadable day: data-date={written_date!r} data-count={written_count!r}"
        if count != counts[day]:
            return f"{day}: shows {count:,}, holds {counts[day]:,}"
        rendered = len(element.css("li.calendar-post"))
        if rendered > count:
            return f"{day}: {rendered:,} posts rendered for a count of {count:,}"
        shown.add(day)
    missing = [day for day in days if day not in shown]
    return f"{missing[0]}: not shown" if missing else "exact"


# --- measuring ---------------------------------------------------------------------------------------


def measure(app: Flask, data: CalendarData, requests: int) -> list[Row]:
    """Each view of each month, `requests` times as the owner; call it with no app context active."""
    counter = app_counter(app)
    client = signed_in_client(app, data.owner_email)
    rows = []
    for month in data.months:
        for view in VIEWS:
            row = Row(month, view)
            try:
                row.measured = measure_get(client, counter, view.name, "owner", view.url(data.group_id, month),
                                           view.headers(), requests, warm_up=WARM_UP)
                if row.measured.last and row.measured.last.status == EXPECTED_STATUS:
                    row.exact = exactness(row.measured.last.text(), data.counts, view.days(month))
            except Exception as error:  # noqa: BLE001 - a page that fails is reported, and the others still measured
                row.error = f"{type(error).__name__}: {error}"
            rows.append(row)
    return rows


def run(workdir: Path, requests: int) -> CalendarRun:
    """Build the busy group in a database of its own, measure its calendar, and drop the database."""
    with temporary_database("calendar", workdir) as url:
        app = bench_app(url, workdir)
        with app.app_context():
            db.create_all()
            data = build()
            analyze_like_autovacuum()
        rows = measure(app, data, requests)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return CalendarRun(data, rows, requests)


# --- the report --------------------------------------------------------------------------------------


def report_lines(result: CalendarRun, backend: str) -> tuple[list[str], list[str]]:
    """The calendar table of one database, the growth of each view, and the problems found.

    Problems: a request that fails or answers with another status, a day showing a wrong count, and a
    view running other counts of statements at 5,000 posts than at 100. Time, size and growth over the
    budget are flagged, not failed: they depend on the machine, and the calendar is being reworked.
    """
    data = result.data
    lines = [
        "",
        f"Calendar at three densities ({backend}; group \"Busy Brand\" with {PROFILES} social profiles, account "
        f"time zone {data.zone.key}; built in {data.seconds:.1f} s in its own database: "
        f"{data.rows['posts']:,} posts, {data.rows['post_media']:,} attachments; the owner, {result.requests} "
        f"timed requests per view after {WARM_UP} untimed)",
    ]
    for month in data.months:
        lines.append(f"  {month.first:%B %Y}: {month.posts:,} posts, {month.empty_days} empty days, busiest day "
                     f"{month.busiest} with {month.busiest_posts:,}, {month.with_media:,} posts with media")
    rows, problems = [], []
    problems += [f"calendar: {month.first:%B %Y} was built with {month.posts:,} posts but holds {month.held:,}"
                 for month in data.months if month.held != month.posts]
    for row in result.rows:
        what = f"calendar {row.view.name} of {row.month.first:%B %Y} ({row.month.posts:,} posts)"
        measured = row.measured
        if row.error or measured is None:
            rows.append([f"{row.month.posts:,}", row.view.name, "error", "-", "-", "-", "-", "-", "-", "-"])
            problems.append(f"{what}: {row.error}")
            continue
        rows.append([
            f"{row.month.posts:,}", row.view.name, "/".join(map(str, sorted(measured.statuses))),
            report.ms(measured.p50), report.ms(measured.p95), measured.query_count,
            report.kb(measured.wire_bytes), report.kb(measured.plain_bytes), row.exact or "-",
            "ok" if not row.over_budget else "over: " + ", ".join(row.over_budget),
        ])
        if measured.statuses != {EXPECTED_STATUS}:
            problems.append(f"{what}: status {sorted(measured.statuses)}, expected {EXPECTED_STATUS}")
        if row.exact not in ("exact", "no counts shown"):
            problems.append(f"{what}: day counts not exact: {row.exact}")
    lines += ["  " + line for line in report.table(
        ["Posts", "View", "Status", "p50 ms", "p95 ms", "Statements", "KB gzip", "KB raw", "Exact?",
         f"Budget (p50 <= {BUDGET_MS:.0f} ms, <= {BUDGET_BYTES // report.KB} KB gzip)"],
        rows, numeric=range(3, 8),
    )]
    growth, growth_problems = _growth_lines(result.rows)
    return lines + growth, problems + growth_problems


def _growth_lines(rows: list[Row]) -> tuple[list[str], list[str]]:
    """Per view, p50 at the most posts over p50 at the fewest (flagged over the limit), and whether the
    statements stayed the same."""
    lines, problems = [], []
    fewest, most = DENSITIES[0], DENSITIES[-1]
    for view in VIEWS:
        ends = {row.month.posts: row.measured for row in rows if row.view == view and row.measured is not None}
        if fewest not in ends or most not in ends:
            lines.append(f"  {view.name}: p50 at {most:,} / at {fewest:,} posts: not measured")
            continue
        low, high = ends[fewest], ends[most]
        growth = report.ratio(high.p50, low.p50)
        counts = [ends[posts].query_count for posts in DENSITIES if posts in ends]
        same = len(set(counts)) == 1
        lines.append(f"  {view.name}: p50 at {most:,} / at {fewest:,} posts = {report.flagged_ratio(growth)}"
                     f"{' (over ' + str(report.RATIO_LIMIT) + ')' if growth > report.RATIO_LIMIT else ''}; "
                     f"statements {'the same' if same else 'differ'} ({' / '.join(counts)})")
        if not same:
            problems.append(f"calendar {view.name}: statements per request {' / '.join(counts)} at "
                            f"{' / '.join(f'{posts:,}' for posts in DENSITIES)} posts")
    exact = [row.exact for row in rows if row.exact]
    if exact and all(value == "no counts shown" for value in exact):
        lines.append("  No day element carries data-count yet (li.day[data-count]): the calendar's exact day "
                     "counts have not landed, so exactness could not be checked.")
    return lines, problems
