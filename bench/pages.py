"""GET pages measured through the real app: SQL statements and server time per request."""
from __future__ import annotations

import contextlib
import gzip
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from urllib.parse import quote, urlencode

from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.test import TestResponse

from webapp.extensions import db
from webapp.media import PAGE_SIZE, encode_cursor
from webapp.models import AccessGroup, MediaItem, Post
from webapp.network_rules import ATTACHMENT_LIMIT
from webapp.zones import account_zone

from .dataset import MEDIA_WORDS, PASSWORD, Dataset
from .report import percentile

WARM_UP_REQUESTS = 5
WARM_UP_ROUNDS = 1  # untimed rounds before a write is measured (a move there and back, say)
HTMX = {"HX-Request": "true"}  # the header htmx sends with its requests
# Every measured page asks for gzip: what a phone's browser accepts at the least (most also take Brotli,
# which Roster would send them instead), so these are the bytes of the least capable browser.
ACCEPT_GZIP = {"Accept-Encoding": "gzip"}


@dataclass(frozen=True)
class Targets:
    """What page paths name on one database: ids, and query values ready for a URL."""

    group: int  # the measured access group
    item: int  # the newest item of its media library, whose file and thumbnail are stored
    cursor: str  # where a page from the middle of the library starts
    selection: str  # "item=..&item=..": the library's first page of items, selected
    user_group: int  # a user group with members, rights and grants
    member: int  # a client of the account
    post: int  # an upcoming post waiting for approval, with comments, decisions, review links and history
    post_day: str  # that post's day in the account's time zone, "2024-06-01": its month and week have posts
    campaign: int  # a campaign of the group
    attachments: str  # "media=..&media=..": as many of the library's newest items as a post may carry


PLACEHOLDERS = Targets(group=1, item=1, cursor="", selection="", user_group=1, member=1, post=1, post_day="",
                       campaign=1, attachments="")


@dataclass(frozen=True)
class Page:
    """One GET page as one kind of visitor asks for it."""

    name: str
    path: str  # "{group}", "{item}", "{post}" and the like stand for the fields of Targets
    htmx: bool = False
    anonymous: bool = False
    staff_only: bool = False  # a settings page for the owner and admins: managers get 403

    def url(self, targets: Targets) -> str:
        """The path of this page on the measured database."""
        return self.path.format(**asdict(targets))

    def headers(self) -> dict[str, str]:
        """The request headers a browser sends: gzip accepted, and htmx's header for an htmx request."""
        return {**ACCEPT_GZIP, **(HTMX if self.htmx else {})}


PAGES = [
    Page("group home", "/g/{group}/"),
    Page("group home (htmx partial)", "/g/{group}/", htmx=True),
    Page("group switcher (htmx)", "/g/{group}/switcher", htmx=True),
    Page("settings/account", "/settings/account"),
    Page("social profiles", "/g/{group}/profiles"),
    Page("access groups", "/settings/access-groups", staff_only=True),
    Page("access groups, filtered (htmx)", "/settings/access-groups?q=a", htmx=True, staff_only=True),
    Page("access group edit", "/settings/access-groups/{group}", staff_only=True),
    Page("access group users tab (htmx)", "/settings/access-groups/{group}?tab=users", htmx=True,
         staff_only=True),
    Page("add-user candidates (htmx)", "/settings/access-groups/{group}/users/candidates?q=a", htmx=True,
         staff_only=True),
    Page("team", "/settings/team", staff_only=True),
    Page("member", "/settings/team/members/{member}", staff_only=True),
    Page("user groups", "/settings/user-groups", staff_only=True),
    Page("user group", "/settings/user-groups/{user_group}", staff_only=True),
    Page("user group edit", "/settings/user-groups/{user_group}/edit", staff_only=True),
    Page("user group rights", "/settings/user-groups/{user_group}/rights", staff_only=True),
    Page("user group member candidates (htmx)", "/settings/user-groups/{user_group}/members/candidates?q=client",
         htmx=True, staff_only=True),
    Page("access review", "/settings/access-review", staff_only=True),
    Page("access review CSV", "/settings/access-review.csv", staff_only=True),
    Page("why? form (htmx)", "/settings/access-review/why/form?group_id={group}", htmx=True, staff_only=True),
    Page("why? answer (htmx)", "/settings/access-review/why?user_id={member}&group_id={group}&action=posts.publish",
         htmx=True, staff_only=True),
    Page("organize board", "/settings/organize", staff_only=True),
    Page("media library", "/g/{group}/media"),
    Page("media library, middle page (htmx)", "/g/{group}/media?cursor={cursor}", htmx=True),
    Page("media library, filtered (htmx)", f"/g/{{group}}/media?kind=image&q={MEDIA_WORDS[1]}", htmx=True),
    Page("media item", "/g/{group}/media/{item}"),
    Page("media file", "/media/{item}/file"),
    Page("media thumbnail", "/media/{item}/thumbnail"),
    Page("media move dialog (htmx)", "/g/{group}/media/move?{selection}", htmx=True),
    Page("media delete dialog (htmx)", "/g/{group}/media/delete?{selection}", htmx=True),
    Page("calendar month", "/g/{group}/calendar?view=month&date={post_day}"),
    Page("calendar week (htmx)", "/g/{group}/calendar?view=week&date={post_day}", htmx=True),
    Page("calendar day", "/g/{group}/calendar?view=day&date={post_day}"),
    Page("calendar reschedule dialog (htmx)", "/g/{group}/calendar/posts/{post}/reschedule", htmx=True),
    Page("calendar list", "/g/{group}/calendar?view=list"),
    Page("campaigns", "/g/{group}/campaigns"),
    Page("campaign edit", "/g/{group}/campaigns/{campaign}/edit"),
    Page("composer", "/g/{group}/posts/new?date={post_day}"),
    Page("media picker (htmx)", "/g/{group}/posts/media-picker", htmx=True),
    Page("media picker, search with attachments (htmx)",
         f"/g/{{group}}/posts/media-picker?q={MEDIA_WORDS[2]}&{{attachments}}", htmx=True),
    Page("post", "/g/{group}/posts/{post}"),
    Page("post comments", "/g/{group}/posts/{post}/comments"),
    Page("post decisions", "/g/{group}/posts/{post}/decisions"),
    Page("post review links", "/g/{group}/posts/{post}/review-links"),
    Page("post history", "/g/{group}/posts/{post}/history"),
    Page("post edit", "/g/{group}/posts/{post}/edit"),
    Page("waiting for approval", "/g/{group}/waiting"),
    Page("notifications", "/notifications"),
    Page("notification settings", "/settings/notifications"),
    Page("settings/agency", "/settings/agency", staff_only=True),
    Page("activity", "/settings/activity", staff_only=True),
    Page("activity, filtered (htmx)", "/settings/activity?kind=posts&group={group}", htmx=True, staff_only=True),
    Page("activity CSV", "/settings/activity.csv", staff_only=True),
    Page("login", "/login", anonymous=True),
    Page("forgot password", "/password/forgot", anonymous=True),
]
SIGNED_IN_VISITORS = ("owner", "manager")


@dataclass(frozen=True)
class Sample:
    """One timed request: its status, server time, statements and body as sent (compressed or not)."""

    status: int
    millis: float
    statements: list[str]
    runs: list[int]  # how often each statement ran: its parameter sets, more than 1 for an executemany
    body: bytes
    encoding: str = ""  # the response's Content-Encoding: "gzip", or "" for a body sent as it is

    @property
    def executions(self) -> int:
        """Parameter sets run in all."""
        return sum(self.runs)

    def text(self) -> bytes:
        """The body as the browser reads it, once it has undone the compression."""
        return decoded(self.body, self.encoding)


def decoded(body: bytes, encoding: str) -> bytes:
    """`body` uncompressed: only gzip is asked for, so only gzip (or nothing) can come back."""
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding in ("", "identity"):
        return body
    raise ValueError(f"a response came back {encoding}-encoded though only gzip was accepted")


@dataclass
class Measurement:
    """The requests made for one page by one visitor on one database."""

    page: str
    visitor: str
    statuses: set[int] = field(default_factory=set)
    queries: list[int] = field(default_factory=list)
    executions: list[int] = field(default_factory=list)
    millis: list[float] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # those of the last request
    runs: list[int] = field(default_factory=list)  # how often each of them ran
    wire: list[int] = field(default_factory=list)  # bytes of each response body as sent
    encodings: set[str] = field(default_factory=set)
    last: Sample | None = None

    def add(self, sample: Sample) -> None:
        """Record one request."""
        self.statuses.add(sample.status)
        self.millis.append(sample.millis)
        self.queries.append(len(sample.statements))
        self.executions.append(sample.executions)
        self.statements, self.runs = sample.statements, sample.runs
        self.wire.append(len(sample.body))
        self.encodings.add(sample.encoding)
        self.last = sample

    def kinds(self) -> Counter[str]:
        """The statements of the last request, by their first word (SELECT, UPDATE, ...)."""
        return Counter(statement.split(None, 1)[0].upper() for statement in self.statements)

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the measurement across databases."""
        return self.page, self.visitor

    @property
    def query_count(self) -> str:
        """Statements per request: one number, or a range if requests differed."""
        return _spread(self.queries)

    @property
    def execution_count(self) -> str:
        """Parameter sets run per request: one number, or a range if requests differed."""
        return _spread(self.executions)

    @property
    def p50(self) -> float:
        """Median request time, in milliseconds."""
        return percentile(self.millis, 0.5)

    @property
    def p95(self) -> float:
        """95th percentile request time, in milliseconds."""
        return percentile(self.millis, 0.95)

    @property
    def wire_bytes(self) -> float:
        """Median bytes of the response body as sent (compressed if the app compressed it)."""
        return percentile(self.wire, 0.5)

    @property
    def plain_bytes(self) -> int:
        """Bytes of the last response body once uncompressed (decompressed here, outside the timing)."""
        return len(self.last.text()) if self.last else 0

    @property
    def encoding(self) -> str:
        """How the responses were sent: "gzip", "none" (as stored), or both."""
        return "/".join(sorted(encoding or "none" for encoding in self.encodings))


def _spread(values: list[int]) -> str:
    """One number if all `values` are equal, else their range."""
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def _parameter_sets(parameters: object, executemany: bool) -> int:
    """How many times a statement runs: once, or once per parameter set of an executemany.

    An ORM flush of many rows, say, is one executemany statement that runs once per row. A batch of
    an "insert many values" INSERT is also flagged executemany, but its parameters are one flat set.
    """
    sets = parameters if executemany and isinstance(parameters, (list, tuple)) else ()
    return len(sets) if sets and isinstance(sets[0], (list, tuple, dict)) else 1


class QueryCounter:
    """Records the SQL statements an engine sends to the database, and the parameter sets they run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self.runs: list[int] = []  # parameter sets of each statement

    @property
    def count(self) -> int:
        """Statements recorded since the last reset."""
        return len(self.statements)

    def reset(self) -> None:
        """Start recording afresh."""
        self.statements = []
        self.runs = []

    def _record(self, conn: object, cursor: object, statement: str, parameters: object, context: object,
                executemany: bool) -> None:
        self.statements.append(statement)
        self.runs.append(_parameter_sets(parameters, executemany))

    @contextlib.contextmanager
    def listening(self) -> Iterator[QueryCounter]:
        """Record while the block runs."""
        event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._record)


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    """A test client signed in through the real sign-in form."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in as {email} failed with status {response.status_code}")
    return client


def statement_on(verb: str, table: str) -> re.Pattern[str]:
    """A pattern for the statements that start with `verb` ("UPDATE", "DELETE FROM", ...) on `table`."""
    words = r"\s+".join(verb.split())
    return re.compile(rf"\s*{words}\s+\"?{table}\"?\s", re.IGNORECASE)


def count_matching(pattern: re.Pattern[str], statements: list[str]) -> int:
    """How many of `statements` match `pattern`."""
    return sum(1 for statement in statements if pattern.match(statement))


def app_counter(app: Flask) -> QueryCounter:
    """A counter on the app's engine, made from outside any app context.

    The requests measured with it must run with no app context active: each must get its own,
    with its own database session and `g`, as in production (an outer context would carry both
    across requests).
    """
    if has_app_context():
        raise RuntimeError("measure requests outside an app context")
    with app.app_context():
        return QueryCounter(db.engine)


def timed_request(counter: QueryCounter, send: Callable[[], TestResponse]) -> Sample:
    """Send one request (its body read) while `counter` listens."""
    counter.reset()
    started = time.perf_counter()
    with send() as response:
        body = response.get_data()
    millis = (time.perf_counter() - started) * 1000
    # A copy: statements run after the request (a check between two requests, say) are not its own.
    return Sample(response.status_code, millis, list(counter.statements), list(counter.runs), body,
                  response.headers.get("Content-Encoding", ""))


def measure_get(
    client: FlaskClient, counter: QueryCounter, name: str, visitor: str, url: str, headers: dict[str, str],
    requests: int, warm_up: int = WARM_UP_REQUESTS,
) -> Measurement:
    """Warm the page at `url` up, then time `requests` requests of it and count each one's statements."""
    for _ in range(warm_up):
        client.get(url, headers=headers).close()
    result = Measurement(name, visitor)
    with counter.listening():
        for _ in range(requests):
            result.add(timed_request(counter, lambda: client.get(url, headers=headers)))
    return result


def _measure(
    client: FlaskClient, counter: QueryCounter, page: Page, visitor: str, targets: Targets, requests: int
) -> Measurement:
    """Warm the page up, then time `requests` requests and count each one's statements."""
    return measure_get(client, counter, page.name, visitor, page.url(targets), page.headers(), requests)


def _targets(dataset: Dataset) -> Targets:
    """The measured group, its stored item, a cursor halfway down its library, its first page selected,
    the measured post and its day, the group's first campaign, and attachments for the media picker."""
    library = dataset.library_ids
    middle = db.session.get_one(MediaItem, library[len(library) // 2])
    post = db.session.get_one(Post, dataset.post_id)
    zone = account_zone(db.session.get_one(AccessGroup, dataset.bench_group_id).account)
    return Targets(
        group=dataset.bench_group_id,
        item=library[0],
        cursor=quote(encode_cursor(middle), safe=""),
        selection=urlencode([("item", item_id) for item_id in library[:PAGE_SIZE]]),
        user_group=dataset.user_group_id,
        member=dataset.member_id,
        post=post.id,
        post_day=post.scheduled_at.astimezone(zone).date().isoformat(),
        campaign=dataset.campaign_id,
        attachments=urlencode([("media", item_id) for item_id in library[:ATTACHMENT_LIMIT]]),
    )


def measure_pages(app: Flask, dataset: Dataset, requests: int) -> list[Measurement]:
    """Every page for every visitor it applies to; call it with no app context active (see `app_counter`)."""
    counter = app_counter(app)
    with app.app_context():
        targets = _targets(dataset)
    clients = {"owner": signed_in_client(app, dataset.owner_email),
               "manager": signed_in_client(app, dataset.manager_email)}
    results = []
    for page in PAGES:
        if page.anonymous:
            visitors = ["anonymous"]
        else:
            visitors = ["owner"] if page.staff_only else list(SIGNED_IN_VISITORS)
        for visitor in visitors:
            client = app.test_client() if page.anonymous else clients[visitor]
            results.append(_measure(client, counter, page, visitor, targets, requests))
    return results


def unmeasured_endpoints(app: Flask) -> list[str]:
    """GET routes of the app that no page here requests (new pages should be added to PAGES)."""
    adapter = app.url_map.bind("localhost")
    measured = {adapter.match(page.url(PLACEHOLDERS).partition("?")[0], method="GET")[0] for page in PAGES}
    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint != "static" and rule.endpoint not in measured
    )
