"""Who the load test simulates: agency staff at work, and creators approving posts from review links.

`python -m bench.loadtest` runs Locust on this file and writes the plan it reads (the file named by
LOADTEST_PLAN): the staff logins with the groups each may enter, the review link tokens, the account's
time zone, and where to leave the counts of server errors, conflicts and resent requests. Everything
goes through the real pages and forms, CSRF token included. Requests are named by page, so the
statistics group by page rather than by URL.
"""
from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from locust import HttpUser, between, events, task
from locust.exception import StopUser
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from urllib3.util.retry import Retry

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
ZONE = ZoneInfo(PLAN["time_zone"])
STAFF_LOGINS = itertools.cycle(PLAN["staff"])
# Each link is followed by one client, who takes the next one when it has nothing left to decide.
REVIEW_TOKENS = list(PLAN["review_tokens"])
HTMX = {"HX-Request": "true"}
# The composer's answer when a chosen attachment left the group meanwhile (webapp/blueprints/posts.py).
MEDIA_MOVED_AWAY = "Attach items from this group's media library."
REMEMBERED_POSTS = 50

server_errors: Counter[str] = Counter()
conflicts: Counter[str] = Counter()
resent: Counter[str] = Counter()


class ResendOnce(Retry):
    """Send a GET once more when its connection broke before any answer, as browsers do: gunicorn closes a
    kept-alive connection idle for 2 s, and a request sent on it at that moment gets no answer. Counted."""

    def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):
        again = super().increment(method, url, response, error, *args, **kwargs)  # raises when it may not
        resent[f"{method} after {type(error).__name__}"] += 1
        return again


RESEND_ONCE = ResendOnce(total=1, connect=0, read=1, status=0, other=0)


@events.request.add_listener
def _count_server_errors(name: str, response=None, **_) -> None:
    if response is not None and (response.status_code or 0) >= 500:
        server_errors[name] += 1


@events.quitting.add_listener
def _write_counts(**_) -> None:
    Path(PLAN["counts_file"]).write_text(json.dumps(
        {"server_errors": server_errors, "conflicts": conflicts, "resent": resent}))


def _expect(response, *statuses: int) -> bool:
    """Pass a caught response whose status is one of `statuses`; fail it otherwise."""
    if response.status_code in statuses:
        response.success()
        return True
    # Status 0: no answer at all; the error says why (refused, reset, timed out). A refused form says why.
    said = f" ({response.error!r})" if not response.status_code else ""
    if response.status_code == 422:
        said = f" ({_problem(response.text)})"
    response.failure(f"status {response.status_code}{said}, expected {' or '.join(map(str, statuses))}")
    return False


def _problem(html: str) -> str:
    """What a refused form says is wrong (its alert)."""
    alert = HTMLParser(html).css_first('[role="alert"]')
    return alert.text(strip=True) if alert is not None else ""


def _csrf(page: HTMLParser) -> str:
    """The CSRF token of a page: a form's hidden input, else the header htmx sends on every request."""
    field = page.css_first('input[name="csrf_token"]')
    if field is not None:
        return field.attributes.get("value") or ""
    body = page.css_first("body")
    headers = json.loads(body.attributes.get("hx-headers") or "{}") if body is not None else {}
    return headers.get("X-CSRFToken", "")


def _values(page: HTMLParser, selector: str) -> list[str]:
    return [node.attributes.get("value") or "" for node in page.css(selector)]


class Staff(HttpUser):
    """An owner, admin or manager: signs in once, then browses and works in the groups they may enter."""

    weight = 4
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.adapters["http://"].max_retries = RESEND_ONCE
        self.login = next(STAFF_LOGINS)
        self.posts: list[str] = []  # post pages seen on the calendar
        with self.client.get("/login", name="sign-in page", catch_response=True) as response:
            if not _expect(response, 200):
                raise StopUser()
            token = _csrf(HTMLParser(response.text))
        form = {"csrf_token": token, "email": self.login["email"], "password": self.login["password"]}
        # Followed: / and then the group home.
        with self.client.post("/login", data=form, name="sign in", catch_response=True) as response:
            if not _expect(response, 200) or "/g/" not in response.url:
                response.failure(f"not signed in: ended at {response.url}")
                raise StopUser()

    def _pick_group(self) -> int:
        return random.choice(self.login["groups"])

    def _page(self, path: str, name: str, **options) -> HTMLParser | None:
        """GET a page that should answer 200; its parsed HTML, or None when it did not."""
        with self.client.get(path, name=name, catch_response=True, **options) as response:
            return HTMLParser(response.text) if _expect(response, 200) else None

    # --- browsing ---------------------------------------------------------------------------------

    @task(1)
    def group_home(self) -> None:
        self._page(f"/g/{self._pick_group()}/", "group home")

    @task(3)
    def calendar_month(self) -> None:
        self._calendar("month")

    @task(2)
    def calendar_week(self) -> None:
        self._calendar("week")

    @task(2)
    def calendar_list(self) -> None:
        self._calendar("list")

    def _calendar(self, view: str) -> None:
        page = self._page(f"/g/{self._pick_group()}/calendar", f"calendar {view}", params={"view": view})
        if page is not None:
            seen = [link.attributes["href"] for link in page.css("a.post-link")]
            self.posts = (seen + self.posts)[:REMEMBERED_POSTS]

    @task(3)
    def open_post(self) -> None:
        if not self.posts:
            return self.calendar_list()
        self._page(random.choice(self.posts), "post")

    @task(3)
    def media(self) -> None:
        self._library(self._pick_group())

    def _library(self, group: int) -> list[str]:
        """The library's first page (and sometimes the next, as scrolling loads it); the item ids shown."""
        page = self._page(f"/g/{group}/media", "media")
        if page is None:
            return []
        items = _values(page, 'input[name="item"]')
        more = page.css_first("li.load-more")
        if more is not None and random.random() < 0.5:
            self._page(more.attributes["hx-get"], "media next page", headers=HTMX)
        return items

    @task(1)
    def settings(self) -> None:
        if not self.login["settings"]:
            return self.group_home()
        self._page("/settings/access-groups", "settings access groups")
        self._page("/settings/team", "settings team")

    # --- working ----------------------------------------------------------------------------------

    @task(2)
    def schedule_post(self) -> None:
        """Open the composer, pick a profile (now and then one that needs approval) and maybe an
        attachment, and schedule the post for the next whole minute at least a minute away."""
        group = self._pick_group()
        composer = self._page(f"/g/{group}/posts/new", "composer")
        if composer is None:
            return
        profiles = [(node.attributes["value"], "Needs approval" in (node.parent.text() if node.parent else ""))
                    for node in composer.css('input[name="profiles"]')]
        if not profiles:
            return
        free = [value for value, needs_approval in profiles if not needs_approval]
        reviewed = [value for value, needs_approval in profiles if needs_approval]
        chosen = random.choice(reviewed if reviewed and (random.random() < 0.2 or not free) else free)
        picker = self._page(f"/g/{group}/posts/media-picker", "media picker", headers=HTMX)
        media = _values(picker, 'input[name="media"]') if picker is not None else []
        when = (datetime.now(ZONE) + timedelta(minutes=2)).replace(second=0, microsecond=0)
        form = {"csrf_token": _csrf(composer), "profiles": [chosen], "caption": f"Load test post at {when:%H:%M}",
                "media": random.sample(media, 1) if media and random.random() < 0.5 else [],
                "date": when.date().isoformat(), "time": when.strftime("%H:%M"), "schedule": "y"}
        with self.client.post(f"/g/{group}/posts", data=form, name="schedule post", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code == 422 and _problem(response.text) == MEDIA_MOVED_AWAY:
                conflicts["schedule post"] += 1  # someone moved the attachment to another group meanwhile
                response.success()
                return
            if not _expect(response, 303):
                return
            post = response.headers["Location"]
        self.posts.insert(0, post)
        self._page(post, "post")  # where the browser goes next, timed as a page of its own

    @task(1)
    def move_media(self) -> None:
        """Select one to three items of a library and move them to another group through the dialog."""
        group = self._pick_group()
        items = self._library(group)
        if not items:
            return
        chosen = random.sample(items, random.randint(1, min(3, len(items))))
        with self.client.get(f"/g/{group}/media/move", params={"item": chosen}, headers=HTMX, name="move dialog",
                             catch_response=True) as response:
            if response.status_code == 422:  # someone moved one of them since the library loaded
                conflicts["move dialog"] += 1
                response.success()
                return
            if not _expect(response, 200):
                return
            dialog = HTMLParser(response.text)
        targets = _values(dialog, 'input[name="target"]')
        if not targets:
            return
        form = {"csrf_token": _csrf(dialog), "item": chosen, "target": random.choice(targets)}
        with self.client.post(f"/g/{group}/media/move", data=form, headers=HTMX, name="move media",
                              catch_response=True) as response:
            if response.status_code == 422:
                conflicts["move media"] += 1
                response.success()
            else:
                _expect(response, 200)


class Client(HttpUser):
    """A creator who follows an emailed review link, then approves the posts it opens one by one
    (now and then leaving feedback first), and takes the next link when done."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.adapters["http://"].max_retries = RESEND_ONCE
        self.has_link = False
        self._follow_next_link()

    def _follow_next_link(self) -> None:
        if not REVIEW_TOKENS:
            return
        token = REVIEW_TOKENS.pop()
        # The link moves its token into a cookie and redirects to the clean /review.
        with self.client.get(f"/review/{token}", name="open review link", allow_redirects=False,
                             catch_response=True) as response:
            self.has_link = _expect(response, 303)

    @task
    def review(self) -> None:
        if not self.has_link:
            return self._follow_next_link()
        with self.client.get("/review", name="review page", catch_response=True) as response:
            if not _expect(response, 200, 410):
                return
            page = HTMLParser(response.text)
        approvals = [node.parent for node in page.css('input[name="decision"][value="approve"]')]
        if not approvals:
            self.has_link = False  # every post of this link is decided
            return self._follow_next_link()
        action = approvals[0].attributes["action"]
        token = _csrf(page)
        if random.random() < 0.15:
            self._decide(action, token, "feedback", "Could the caption mention the launch date?")
        self._decide(action, token, "approve")

    def _decide(self, action: str, token: str, decision: str, note: str = "") -> None:
        form = {"csrf_token": token, "decision": decision, "note": note}
        with self.client.post(action, data=form, name=decision, allow_redirects=False,
                              catch_response=True) as response:
            _expect(response, 303)
