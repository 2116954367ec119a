"""The adapter interface: how a network's answer is classed, and what the worker does with each class."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp import publishing
from webapp.extensions import db
from webapp.models import AuditEvent, Network, Post, PostStatus, SocialProfile, utcnow
from webapp.publishers import (
    Published,
    ReconnectNeeded,
    Refused,
    RetryLater,
    call,
    wait_asked_for,
)

from . import factories

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


class Answer:
    """Just enough of a requests.Response for `wait_asked_for`."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "120"}, timedelta(seconds=120)),
    ({"Retry-After": "Sat, 05 Dec 2026 12:10:00 GMT"}, timedelta(minutes=10)),
    ({"RateLimit-Reset": str(int((NOW + timedelta(minutes=5)).timestamp()))}, timedelta(minutes=5)),
    ({"X-RateLimit-Reset": "2026-12-05T12:03:00.000Z"}, timedelta(minutes=3)),
    ({"RateLimit-Reset": "30"}, timedelta(seconds=30)),
    ({"Retry-After": "999999999"}, timedelta(hours=24)),
    ({"Retry-After": "Sat, 05 Dec 2026 11:00:00 GMT"}, timedelta(0)),
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_the_wait_a_network_asks_for_is_read_from_its_headers(headers, wait):
    assert wait_asked_for(Answer(headers), now=NOW) == wait


def _reason(response):
    return response.json().get("message")


@pytest.mark.parametrize(("status", "error", "words"), [
    (401, ReconnectNeeded, "no longer accepts this profile's sign-in"),
    (429, RetryLater, "asked Roster to slow down: Too many"),
    (503, RetryLater, "had a problem on its side (503)"),
    (400, Refused, "refused the post: Too many"),
    (422, Refused, "refused the post: Too many"),
])
def test_a_failed_call_is_classed_by_its_answer(app, httpserver, status, error, words):
    httpserver.expect_request("/post", method="POST").respond_with_json(
        {"message": "Too many   images"}, status=status, headers={"Retry-After": "90"})
    with pytest.raises(error) as raised:
        call("Testnet", "POST", httpserver.url_for("/post"), reason=_reason, json={})
    assert words in raised.value.message
    if error is RetryLater:
        assert raised.value.wait == timedelta(seconds=90)


def test_an_unreachable_network_is_tried_later(app):
    with pytest.raises(RetryLater, match="could not be reached"):
        call("Testnet", "GET", "http://127.0.0.1:9/nothing-listens-here", timeout=2)


def test_a_network_may_say_a_token_expired_in_its_own_way(app, httpserver):
    httpserver.expect_request("/post").respond_with_json({"error": {"code": 190}}, status=400)
    with pytest.raises(ReconnectNeeded):
        call("Testnet", "GET", httpserver.url_for("/post"),
             expired=lambda response: response.json()["error"]["code"] == 190)


# --- what the worker does with each class ------------------------------------------------------------


class FixedAdapter:
    """An adapter that answers every post the same way."""

    def __init__(self, outcome) -> None:
        self.outcome = outcome
        self.calls = 0

    def publish(self, post, profile):
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def post(app):
    account = factories.make_account("Northstar Talent")
    social_set = factories.make_social_set(factories.default_group(account), "Maya")
    profile = factories.make_profile(social_set, Network.BLUESKY, "maya.bsky.social")
    made = factories.make_post(profile, PostStatus.SCHEDULED, in_days=-1 / (24 * 60), caption="Hello")
    db.session.commit()
    return made


@pytest.fixture
def adapter(monkeypatch):
    holder = {}

    def use(outcome) -> FixedAdapter:
        holder["adapter"] = FixedAdapter(outcome)
        monkeypatch.setattr(publishing, "adapter_for", lambda network: holder["adapter"])
        return holder["adapter"]
    return use


def _stored(post: Post) -> Post:
    return db.session.scalar(select(Post).where(Post.id == post.id).execution_options(populate_existing=True))


def test_a_published_post_keeps_the_networks_id_and_address(app, post, adapter):
    adapter(Published("at://did:plc:abc/app.bsky.feed.post/3abc", "https://bsky.app/profile/maya/post/3abc"))
    assert publishing.publish_due().published == 1
    stored = _stored(post)
    assert stored.status == PostStatus.PUBLISHED.value
    assert stored.external_id == "at://did:plc:abc/app.bsky.feed.post/3abc"
    assert stored.external_url == "https://bsky.app/profile/maya/post/3abc"


def test_a_refusal_is_shown_and_not_tried_again(app, post, adapter):
    sent = adapter(Refused("Bluesky refused the post: Record too big"))
    report = publishing.publish_due()
    assert (report.failed, report.given_up) == (1, 1)
    stored = _stored(post)
    assert stored.publish_error == "Bluesky refused the post: Record too big"
    assert stored.next_publish_at is None and stored.status == PostStatus.SCHEDULED.value
    assert publishing.publish_due(now=utcnow() + timedelta(days=2)).failed == 0
    assert sent.calls == 1


def test_a_withdrawn_sign_in_marks_the_profile_and_its_post_waits_for_a_reconnect(app, post, adapter):
    sent = adapter(ReconnectNeeded("Bluesky no longer accepts this profile's sign-in: reconnect it."))
    publishing.publish_due()
    stored = _stored(post)
    profile = db.session.get(SocialProfile, stored.social_profile_id)
    db.session.refresh(profile)
    assert profile.needs_reconnect
    assert "reconnect it" in stored.publish_error
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "profile.reconnect_needed")) is not None
    assert publishing.publish_due(now=utcnow() + timedelta(days=2)).failed == 0
    assert sent.calls == 1
    # Signed in again: the post goes at the next run.
    profile.needs_reconnect = False
    assert publishing.retry_after_reconnect(profile) == 1
    db.session.commit()
    adapter(Published("at://did:plc:abc/app.bsky.feed.post/3abd"))
    assert publishing.publish_due().published == 1


def test_a_network_that_asks_to_wait_is_not_tried_sooner(app, post, adapter):
    adapter(RetryLater("Bluesky asked Roster to slow down.", wait=timedelta(minutes=30)))
    now = utcnow()
    report = publishing.publish_due(now=now)
    assert (report.failed, report.given_up) == (1, 0)
    stored = _stored(post)
    assert stored.next_publish_at >= now + timedelta(minutes=30)
    assert publishing.publish_due(now=now + timedelta(minutes=29)).failed == 0
    assert publishing.publish_due(now=now + timedelta(minutes=31)).failed == 1


def test_a_short_wait_still_gets_the_workers_own_back_off(app, post, adapter):
    adapter(RetryLater("Bluesky had a problem on its side (502); Roster will try again.", wait=timedelta(0)))
    now = utcnow()
    publishing.publish_due(now=now)
    first_delay = timedelta(seconds=app.config["PUBLISH_RETRY_SECONDS"])
    assert _stored(post).next_publish_at >= now + first_delay


def test_a_wait_holds_the_profiles_other_due_posts_without_spending_their_attempts(app, post, adapter):
    others = [factories.make_post(post.social_profile, PostStatus.SCHEDULED, in_days=-1 / (24 * 60), caption=f"#{n}")
              for n in range(3)]
    db.session.commit()
    sent = adapter(RetryLater("Bluesky asked Roster to slow down.", wait=timedelta(minutes=15)))
    now = utcnow()
    report = publishing.publish_due(now=now)
    assert (report.failed, sent.calls) == (1, 1)
    for other in others:
        stored = _stored(other)
        assert stored.publish_attempts == 0 and stored.publish_error is None
        assert stored.next_publish_at == now + timedelta(minutes=15)
    adapter(Published("at://did:plc:abc/app.bsky.feed.post/3abe"))
    assert publishing.publish_due(now=now + timedelta(minutes=16)).published == 4
