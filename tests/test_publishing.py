"""Publishing due posts: exactly once, even with several workers at once; retries, then a shown error."""
from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import AuditEvent, Network, Post, PostStatus, SocialProfile, utcnow
from webapp.posts import status_label
from webapp.publishing import (
    CLAIM_TIMEOUT,
    STOPPED_PUBLISHER_ERROR,
    UNEXPECTED_ERROR,
    PublishError,
    PublishReport,
    SandboxAdapter,
    publish_due,
)
from webapp.sandbox.models import SandboxAccount, SandboxPublication

from . import factories
from .concurrency import in_another_worker, race, race_processes
from .conftest import TEST_CONFIG

# A network with an OAuth app of its own but no adapter in this version: every try fails the same way.
TIKTOK_APP = {
    "OAUTH_TIKTOK_CLIENT_ID": "roster-app", "OAUTH_TIKTOK_CLIENT_SECRET": "app-secret",
    "OAUTH_TIKTOK_AUTHORIZE_URL": "https://tiktok.example/authorize",
    "OAUTH_TIKTOK_TOKEN_URL": "https://tiktok.example/token",
    "OAUTH_TIKTOK_USERINFO_URL": "https://tiktok.example/me",
}


@pytest.fixture
def account(app):
    return factories.make_account("Northstar Talent")


@pytest.fixture
def social_set(account):
    return factories.make_social_set(factories.default_group(account), "Maya")


def profile(social_set, network: Network = Network.INSTAGRAM, handle: str = "maya.creates") -> SocialProfile:
    """A profile connected through the sandbox: its external id is the sandbox account's id."""
    connected = factories.make_profile(social_set, network, handle)
    connected.external_id = SandboxAccount(network.value, handle).id
    return connected


def due_post(social_profile, status: PostStatus = PostStatus.SCHEDULED, caption: str = "Hello world") -> Post:
    """A post whose time came five minutes ago."""
    return factories.make_post(social_profile, status, in_days=-5 / (24 * 60), caption=caption)


def stored(model, *conditions) -> list:
    """Rows as the database has them now, whatever this session saw before."""
    return list(db.session.scalars(
        select(model).where(*conditions).order_by(model.id).execution_options(populate_existing=True)
    ))


def stored_post(post: Post) -> Post:
    [post] = stored(Post, Post.id == post.id)
    return post


def events(verb: str) -> list[AuditEvent]:
    return stored(AuditEvent, AuditEvent.verb == verb)


def assert_published_once(posts: list[Post]) -> None:
    """Each post went to the network once, is published, and has one `post.published` event."""
    references = Counter(publication.client_reference for publication in stored(SandboxPublication))
    assert references == Counter(f"roster-post-{post.id}" for post in posts)
    assert Counter(event.object_id for event in events("post.published")) == Counter(post.id for post in posts)
    assert {stored_post(post).status for post in posts} == {PostStatus.PUBLISHED.value}


# --- what goes out ----------------------------------------------------------------------------------


def test_due_scheduled_and_approved_posts_are_published_through_the_sandbox(account, social_set):
    """Both kinds go out: the sandbox records each one, and the post says published, where and when."""
    instagram, tiktok = profile(social_set), profile(social_set, Network.TIKTOK, "maya_tok")
    scheduled = due_post(instagram, caption="New drop this Friday")
    approved = due_post(tiktok, PostStatus.APPROVED, caption="Studio session recap")
    approved.media_items = [factories.make_media(factories.default_group(account)) for _ in range(2)]
    db.session.commit()
    now = utcnow()

    assert publish_due(now=now) == PublishReport(published=2)

    by_reference = {publication.client_reference: publication for publication in stored(SandboxPublication)}
    for post, social_profile, media_count in ((scheduled, instagram, 0), (approved, tiktok, 2)):
        publication = by_reference[f"roster-post-{post.id}"]
        assert (publication.network, publication.account_id) == (social_profile.network, social_profile.external_id)
        assert (publication.caption, publication.media_count) == (post.caption, media_count)
        post = stored_post(post)
        assert (post.status, post.published_at, post.external_id) == ("published", now, str(publication.id))
        assert (post.claim_token, post.claimed_at, post.publish_error, post.publish_attempts) == (None, None, None, 1)
        assert status_label(post) == "Published"
    assert_published_once([scheduled, approved])
    published = events("post.published")
    assert {(event.account_id, event.actor_id, event.object_type) for event in published} == {(account.id, None, "post")}
    [event] = [event for event in published if event.object_id == approved.id]
    assert event.before == {"status": "approved"}
    assert event.after == {"status": "published", "network": "tiktok", "external_id": approved.external_id}

    assert publish_due(now=now + timedelta(days=1)) == PublishReport(), "published once, not again"


def test_demo_profiles_publish_to_their_handles_sandbox_account(social_set):
    """A demo profile's external id is made up; the sandbox files its posts under its handle's account."""
    demo = factories.make_profile(social_set, Network.YOUTUBE, "mayalopez")
    demo.external_id = "sandbox-youtube-mayalopez"
    due_post(demo)
    db.session.commit()

    assert publish_due() == PublishReport(published=1)
    [publication] = stored(SandboxPublication)
    assert publication.account_id == SandboxAccount("youtube", "mayalopez").id


@pytest.mark.parametrize("status, in_days", [
    (PostStatus.DRAFT, -1),
    (PostStatus.PENDING_APPROVAL, -1),
    (PostStatus.REJECTED, -1),
    (PostStatus.SCHEDULED, 1),
    (PostStatus.APPROVED, 1),
    (PostStatus.PUBLISHED, -1),
    (PostStatus.SCHEDULED, None),
])
def test_posts_that_may_not_go_out_stay_as_they_are(social_set, status, in_days):
    """Drafts, rejected, pending (even when its time passed), future and published posts are not sent."""
    post = factories.make_post(profile(social_set), status, in_days=in_days)
    db.session.commit()

    assert publish_due() == PublishReport()

    assert stored(SandboxPublication) == []
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.published_at, post.publish_error) == (status.value, 0, None, None)
    if status == PostStatus.PENDING_APPROVAL:
        assert status_label(post) == "Awaiting approval, time passed"


def test_a_run_publishes_at_most_limit_posts_oldest_first(social_set):
    """`limit` bounds one run; the rest wait for the next one."""
    instagram = profile(social_set)
    posts = [factories.make_post(instagram, in_days=-days) for days in (1, 3, 2)]
    db.session.commit()

    assert publish_due(limit=2) == PublishReport(published=2)
    assert [stored_post(post).status for post in posts] == ["scheduled", "published", "published"]
    assert publish_due(limit=2) == PublishReport(published=1)


# --- failures -----------------------------------------------------------------------------------------


@pytest.mark.app_config(**TIKTOK_APP)
def test_failures_are_retried_with_growing_delays_then_given_up_with_the_error_shown(social_set):
    """A network with no adapter refuses; tries 1, 2, 4, 8 minutes apart; after the fifth, given up."""
    post = due_post(profile(social_set, Network.TIKTOK, "maya_tok"))
    db.session.commit()
    reason = "Publishing to TikTok is not available in this version."
    now = utcnow()
    delays = []
    for attempt in range(1, 5):
        assert publish_due(now=now) == PublishReport(failed=1)
        post = stored_post(post)
        assert (post.status, post.publish_attempts, post.publish_error) == ("scheduled", attempt, reason)
        assert post.claim_token is None
        assert status_label(post) == "Scheduled, publishing failed"
        delays.append(post.next_publish_at - now)
        assert publish_due(now=post.next_publish_at - timedelta(seconds=1)) == PublishReport(), "not due yet"
        now = post.next_publish_at

    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
    assert publish_due(now=now) == PublishReport(failed=1, given_up=1)
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.publish_error, post.next_publish_at) == ("scheduled", 5, reason, None)
    assert status_label(post) == "Scheduled, publishing failed"
    assert publish_due(now=now + timedelta(days=1)) == PublishReport(), "given up: not tried again"
    assert stored(SandboxPublication) == []

    failed = events("post.publish_failed")
    assert [event.after["attempts"] for event in failed] == [1, 2, 3, 4, 5]
    assert [event.after["given_up"] for event in failed] == [False] * 4 + [True]
    assert {(event.actor_id, event.object_id, event.after["error"]) for event in failed} == {(None, post.id, reason)}
    assert events("post.published") == []


@pytest.mark.app_config(PUBLISH_RETRY_SECONDS=600, PUBLISH_MAX_ATTEMPTS=6)
def test_the_first_delay_comes_from_the_settings_and_growth_stops_at_an_hour(social_set, monkeypatch):
    """PUBLISH_RETRY_SECONDS sets the first delay; doubling stops at an hour."""
    monkeypatch.setattr(SandboxAdapter, "publish", _network_down)
    post = due_post(profile(social_set))
    db.session.commit()
    now = utcnow()
    delays = []
    for _ in range(5):
        publish_due(now=now)
        post = stored_post(post)
        delays.append(post.next_publish_at - now)
        now = post.next_publish_at
    assert delays == [timedelta(minutes=minutes) for minutes in (10, 20, 40, 60, 60)]


def _network_down(self, post, social_profile):
    raise PublishError("Instagram is down for maintenance.")


def test_a_retry_that_succeeds_clears_the_error(social_set, monkeypatch):
    """After a failed try, the retry publishes the post and the error goes away."""
    post = due_post(profile(social_set))
    db.session.commit()
    now = utcnow()
    with monkeypatch.context() as patch:
        patch.setattr(SandboxAdapter, "publish", _network_down)
        assert publish_due(now=now) == PublishReport(failed=1)
    assert stored_post(post).publish_error == "Instagram is down for maintenance."

    assert publish_due(now=now + timedelta(minutes=1)) == PublishReport(published=1)
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.publish_error, post.next_publish_at) == ("published", 2, None, None)
    assert_published_once([post])


def test_an_unexpected_error_is_logged_and_the_post_says_so_plainly(app, social_set, monkeypatch, caplog):
    """A bug in an adapter ends in a retry and a plain message, with the traceback in the log only."""
    def crash(self, post, social_profile):
        raise RuntimeError("internal detail: connection pool exhausted")

    monkeypatch.setattr(SandboxAdapter, "publish", crash)
    post = due_post(profile(social_set))
    db.session.commit()

    assert publish_due() == PublishReport(failed=1)

    post = stored_post(post)
    assert (post.status, post.publish_error) == ("scheduled", UNEXPECTED_ERROR)
    assert post.next_publish_at is not None and post.claim_token is None
    assert any(record.exc_info and "connection pool exhausted" in str(record.exc_info[1]) for record in caplog.records)


def test_a_profile_that_needs_reconnecting_is_not_published(social_set):
    """The sandbox refuses a profile whose access stopped working, and the post says what to do."""
    instagram = profile(social_set)
    instagram.needs_reconnect = True
    post = due_post(instagram)
    db.session.commit()

    assert publish_due() == PublishReport(failed=1)
    assert stored_post(post).publish_error == "Reconnect @maya.creates on Instagram: its access stopped working."
    assert stored(SandboxPublication) == []


@pytest.mark.app_config(SANDBOX_PROVIDER=False)
def test_a_network_that_is_not_set_up_fails_with_that_reason(social_set):
    """Without the sandbox and without an OAuth app, the post says the network is not set up."""
    post = due_post(profile(social_set))
    db.session.commit()

    assert publish_due() == PublishReport(failed=1)
    assert stored_post(post).publish_error == (
        "Instagram is not set up on this Roster server, so posts cannot be sent to it."
    )


# --- the sandbox network ------------------------------------------------------------------------------


def test_the_sandbox_refuses_a_second_publication_with_the_same_reference(social_set):
    """The database refuses a duplicate client reference; the adapter then answers with the first id."""
    post = due_post(profile(social_set))
    db.session.commit()
    adapter = SandboxAdapter()

    first = adapter.publish(post, post.social_profile)
    db.session.commit()
    assert adapter.publish(post, post.social_profile) == first
    db.session.commit()
    assert len(stored(SandboxPublication)) == 1

    db.session.add(SandboxPublication(network="instagram", account_id="1", client_reference=f"roster-post-{post.id}"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- workers that stop, and workers at the same time -------------------------------------------------


def _publisher_is_killed(self, post, social_profile):
    raise SystemExit("the worker was killed")


def run_killed_while_sending(monkeypatch, now) -> None:
    """A run that dies while the network has the post, leaving its claim behind."""
    with monkeypatch.context() as patch:
        patch.setattr(SandboxAdapter, "publish", _publisher_is_killed)
        with pytest.raises(SystemExit):
            publish_due(now=now)
    db.session.rollback()


def test_a_post_left_claimed_by_a_stopped_publisher_is_published_after_the_timeout(social_set, monkeypatch):
    """A worker that dies mid-send keeps its claim until CLAIM_TIMEOUT; then another run publishes it."""
    post = due_post(profile(social_set))
    db.session.commit()
    start = utcnow()
    run_killed_while_sending(monkeypatch, start)
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.claimed_at) == ("scheduled", 1, start)
    assert post.claim_token is not None

    assert publish_due(now=start + CLAIM_TIMEOUT - timedelta(seconds=1)) == PublishReport(), "still claimed"
    assert publish_due(now=start + CLAIM_TIMEOUT) == PublishReport(published=1)

    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.publish_error, post.claim_token) == ("published", 2, None, None)
    assert_published_once([post])
    [stopped] = events("post.publish_failed")
    assert (stopped.object_id, stopped.after["error"], stopped.after["given_up"]) == (post.id, STOPPED_PUBLISHER_ERROR, False)


def test_a_post_left_claimed_on_its_last_attempt_keeps_the_error(app, social_set, monkeypatch):
    """A post whose worker keeps dying is given up after PUBLISH_MAX_ATTEMPTS, with the error shown."""
    app.config["PUBLISH_MAX_ATTEMPTS"] = 1
    post = due_post(profile(social_set))
    db.session.commit()
    start = utcnow()
    run_killed_while_sending(monkeypatch, start)

    assert publish_due(now=start + CLAIM_TIMEOUT) == PublishReport()
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.publish_error) == ("scheduled", 1, STOPPED_PUBLISHER_ERROR)
    assert (post.claim_token, post.claimed_at, post.next_publish_at) == (None, None, None)
    assert status_label(post) == "Scheduled, publishing failed"
    [given_up] = events("post.publish_failed")
    assert given_up.after["given_up"] is True
    assert stored(SandboxPublication) == []
    assert publish_due(now=start + timedelta(days=1)) == PublishReport()


def test_a_worker_whose_claim_was_taken_over_records_nothing(app, social_set, monkeypatch):
    """A worker so slow its claim ran out: another run takes the post over and publishes it; the slow
    one's late answer is the same publication, and it records nothing twice."""
    post = due_post(profile(social_set))
    db.session.commit()
    start = utcnow()
    publish = SandboxAdapter.publish
    reports: list[PublishReport] = []
    calls: list[int] = []

    def slow_publish(self, post, social_profile):
        calls.append(post.id)
        if len(calls) == 1:  # the slow worker: before it is done, another run comes after the timeout
            reports.append(in_another_worker(app, lambda: publish_due(now=start + CLAIM_TIMEOUT)))
        return publish(self, post, social_profile)

    monkeypatch.setattr(SandboxAdapter, "publish", slow_publish)
    assert publish_due(now=start) == PublishReport(skipped=1)

    assert reports == [PublishReport(published=1)]
    post = stored_post(post)
    assert (post.status, post.publish_attempts, post.claim_token) == ("published", 2, None)
    assert_published_once([post])


def _many_due_posts(account, social_set) -> list[Post]:
    """Six due posts over two profiles and two groups, plus two that must not go out."""
    other_set = factories.make_social_set(factories.make_group(account, "Jonah"), "Jonah")
    instagram, threads = profile(social_set), profile(other_set, Network.THREADS, "jonah.reed")
    posts = [due_post(instagram, status, caption=f"Post {number}")
             for number, status in enumerate([PostStatus.SCHEDULED, PostStatus.APPROVED] * 2)]
    posts += [due_post(threads, PostStatus.APPROVED, caption="Post 4"), due_post(threads, caption="Post 5")]
    due_post(instagram, PostStatus.PENDING_APPROVAL)
    due_post(threads, PostStatus.DRAFT)
    db.session.commit()
    return posts


def test_two_runs_at_once_publish_each_post_once(app, account, social_set, monkeypatch):
    """Two workers that both picked the same due posts split them; none goes out twice."""
    posts = _many_due_posts(account, social_set)

    # What reaches the network, whatever the sandbox would forgive: a real one may not be idempotent.
    sent: list[int] = []
    publish = SandboxAdapter.publish

    def publish_and_count(self, post, social_profile):
        sent.append(post.id)
        return publish(self, post, social_profile)

    monkeypatch.setattr(SandboxAdapter, "publish", publish_and_count)
    reports = race(app, publish_due)

    assert sum(report.published for report in reports) == 6
    assert sum(report.skipped for report in reports) == 6, "each post was chosen by both, claimed by one"
    assert all(report.failed == 0 for report in reports)
    assert Counter(sent) == Counter(post.id for post in posts), "each post was sent to the network once"
    assert_published_once(posts)


# Said by each racing process whenever it sends a post to the network.
SAY_WHAT_IS_SENT = """
    from webapp import publishing

    publish = publishing.SandboxAdapter.publish

    def publish_and_say(self, post, social_profile):
        print(f"sent post {post.id}", file=sys.stderr)
        return publish(self, post, social_profile)

    publishing.SandboxAdapter.publish = publish_and_say
"""


def test_two_publish_due_processes_at_the_same_moment_publish_each_post_once(app, account, social_set, tmp_path):
    """`flask posts publish-due` run twice at once, as cron on two hosts would: each post goes out once."""
    posts = _many_due_posts(account, social_set)
    environment = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "SANDBOX_PROVIDER": "on",
                   "MAIL_OUTBOX": str(tmp_path / "outbox")}
    processes = race_processes(["posts", "publish-due"], environment, tmp_path / "meeting",
                               prelude=SAY_WHAT_IS_SENT)

    outputs = [(process.stdout, process.stderr) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    lines = sorted(stdout for stdout, _ in outputs)
    published = [int(line.split()[1]) for line in lines]
    assert sum(published) == 6, lines
    assert all(line.endswith(f"{6 - count} skipped.\n") for line, count in zip(lines, published)), lines
    sent = Counter(line for _, stderr in outputs for line in stderr.splitlines() if line.startswith("sent post"))
    assert sent == Counter(f"sent post {post.id}" for post in posts), "each post was sent to the network once"
    assert_published_once(posts)


# --- command line ---------------------------------------------------------------------------------------


def test_flask_posts_publish_due_publishes_and_says_what_it_did(app, social_set):
    """`flask posts publish-due` publishes the due posts and prints the counts, for cron's log."""
    instagram = profile(social_set)
    posts = [due_post(instagram), due_post(instagram, PostStatus.APPROVED)]
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["posts", "publish-due"])

    assert result.exit_code == 0, result.output
    assert result.output == "Posts: 2 published, 0 failed (0 given up), 0 skipped.\n"
    assert_published_once(posts)


@pytest.mark.app_config(**TIKTOK_APP)
def test_flask_posts_publish_due_reports_failures(app, social_set):
    """A failed try is counted, and the post keeps the reason."""
    due_post(profile(social_set, Network.TIKTOK, "maya_tok"))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["posts", "publish-due", "--limit", "10"])

    assert result.exit_code == 0, result.output
    assert result.output == "Posts: 0 published, 1 failed (0 given up), 0 skipped.\n"


def test_log_says_when_a_post_is_given_up(app, social_set, monkeypatch, caplog):
    """Giving up is logged as an error, for whoever watches the worker's log."""
    caplog.set_level(logging.INFO, logger=app.logger.name)
    app.config["PUBLISH_MAX_ATTEMPTS"] = 1
    monkeypatch.setattr(SandboxAdapter, "publish", _network_down)
    post = due_post(profile(social_set))
    db.session.commit()

    assert publish_due() == PublishReport(failed=1, given_up=1)
    [record] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert f"Gave up publishing post {post.id} after 1 tries" in record.getMessage()
