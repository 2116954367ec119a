"""The background worker (`flask roster worker`): publishes and sends by itself, exactly once, however
many run, and a worker killed mid-publish loses nothing."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp import worker
from webapp.extensions import db
from webapp.models import Invitation, Mail, Post, PostStatus, ReviewLink, UserSession, WorkerHeartbeat, utcnow
from webapp.publishing import CLAIM_TIMEOUT, publish_due
from webapp.sandbox.models import SandboxPublication

from . import factories
from .conftest import TEST_CONFIG
from .test_publishing import assert_published_once, due_post, profile, stored

REPO = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


@pytest.fixture
def account(app):
    return factories.make_account("Northstar Talent")


@pytest.fixture
def social_set(account):
    social_set = factories.make_social_set(factories.default_group(account), "Maya")
    db.session.commit()  # the worker processes read it, and waiting on them rolls this session back
    return social_set


def many_due_posts(social_set, count: int) -> list[Post]:
    instagram = profile(social_set)
    posts = [due_post(instagram, caption=f"Post {number}") for number in range(count)]
    db.session.commit()
    return posts


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


class Workers:
    """`flask roster worker` processes on the test's database, stopped (or killed) at the end."""

    def __init__(self, app, tmp_path: Path, **settings: str) -> None:
        self.environment = {
            **os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "SANDBOX_PROVIDER": "on",
            "MAIL_OUTBOX": str(tmp_path / "outbox"), "MEDIA_ROOT": str(tmp_path / "media"),
            "WORKER_QUEUE_PATH": str(tmp_path / "queue.db"), "FLASK_APP": "wsgi", **settings,
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.tmp_path = tmp_path

    def start(self, count: int = 1, threads: int = 1) -> None:
        for _ in range(count):
            log = self.tmp_path / f"worker-{len(self.processes)}.log"
            self.logs.append(log)
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "roster", "worker", "--threads", str(threads)], cwd=REPO,
                env=self.environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
            ))
        wait_until(lambda: alive_workers() >= len(self.processes), "every worker said it is alive")

    def stop(self) -> list[int]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=20))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def output(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)

    def queue_app(self):
        """An app with these workers' queue settings, to queue tasks for them."""
        from webapp import create_app

        return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": self.environment["DATABASE_URL"],
                           "WORKER_QUEUE_URL": self.environment.get("WORKER_QUEUE_URL"),
                           "WORKER_QUEUE_NAME": self.environment.get("WORKER_QUEUE_NAME", "roster"),
                           "WORKER_QUEUE_PATH": self.environment["WORKER_QUEUE_PATH"]})


@pytest.fixture
def workers(app, tmp_path):
    started = Workers(app, tmp_path)
    yield started
    started.stop()


def alive_workers() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WorkerHeartbeat))


def wait_until(condition, what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for: {what}")
        time.sleep(0.1)


def published_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Post).where(Post.status == PostStatus.PUBLISHED.value))


# --- the worker process ---------------------------------------------------------------------------


def test_a_worker_publishes_due_posts_and_sends_mail_by_itself(app, social_set, workers, tmp_path):
    """Started with nothing else running, a worker publishes what is due and sends queued mail at once."""
    posts = many_due_posts(social_set, 3)
    db.session.add(Mail(to_address="maya@example.com", subject="Hello", text_body="Hi"))
    db.session.commit()

    workers.start()
    wait_until(lambda: published_count() == 3, "the due posts are published")
    wait_until(lambda: stored(Mail)[0].status == "sent", "the mail is sent")

    assert_published_once(posts)
    assert list((tmp_path / "outbox").glob("*.eml")), "the offline outbox has the message"
    assert workers.stop() == [0], workers.output()
    assert alive_workers() == 0, "a worker that stopped cleanly says so"


@pytest.mark.long
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL") or not redis_answers(),
                    reason="several workers sharing a queue run on PostgreSQL and Redis")
def test_several_workers_on_redis_publish_each_post_once(app, social_set, tmp_path):
    """Three worker processes sharing one Redis queue, all woken at once: each post goes out once."""
    queue_name = f"roster-test-{uuid.uuid4().hex[:8]}"
    workers = Workers(app, tmp_path, WORKER_QUEUE_URL="redis://127.0.0.1:6379/0", WORKER_QUEUE_NAME=queue_name)
    try:
        workers.start(count=3, threads=2)
        posts = many_due_posts(social_set, 120)
        queue_app = workers.queue_app()
        for _ in range(4):
            worker.wake(queue_app)
        wait_until(lambda: published_count() == 120, "every post is published", seconds=60)
    finally:
        codes = workers.stop()
        worker.queue_for(workers.queue_app()).flush()
    assert codes == [0, 0, 0], workers.output()
    assert_published_once(posts)
    publishers = [log for log in workers.logs if "Published post" in log.read_text()]
    assert len(publishers) >= 2, "the work was shared between processes"


@pytest.mark.long
def test_a_worker_killed_mid_publish_leaves_the_post_to_go_out_once(app, social_set, workers):
    """SIGKILL while a post is claimed and being sent: after the claim runs out it is sent, once."""
    posts = many_due_posts(social_set, 200)
    workers.start(threads=1)
    process = workers.processes[0]
    wait_until(lambda: published_count() >= 5, "the worker is publishing")
    in_flight = None
    deadline = time.monotonic() + STARTUP_SECONDS
    while in_flight is None:
        assert time.monotonic() < deadline, "never caught the worker between claim and result"
        time.sleep(0.003)
        process.send_signal(signal.SIGSTOP)
        db.session.rollback()
        in_flight = db.session.scalar(select(Post.id).where(
            Post.claim_token.is_not(None), Post.status != PostStatus.PUBLISHED.value))
        if in_flight is None:
            process.send_signal(signal.SIGCONT)
    process.kill()
    process.wait()
    assert 0 < published_count() < 200, "killed part way through"
    assert not stored(SandboxPublication, SandboxPublication.client_reference == f"roster-post-{in_flight}")

    # The next run sends the posts the worker never reached; the claimed one waits for its claim to run out.
    publish_due(limit=500)
    assert stored(Post, Post.id == in_flight)[0].status == PostStatus.SCHEDULED.value, "its claim still holds"
    later = utcnow() + CLAIM_TIMEOUT + timedelta(seconds=1)
    publish_due(now=later, limit=500)
    assert_published_once(posts)


# --- what each task does ------------------------------------------------------------------------------


def test_purge_deletes_only_what_can_no_longer_open_anything(app, account):
    """Ended sessions and long-closed links go; live ones, recent history and accepted invitations stay."""
    owner = factories.owner_of(account)
    now = utcnow()
    ended_long_ago = UserSession(user_id=owner.id, secret_hash="a" * 64, ended_at=now - timedelta(days=2))
    ended_now = UserSession(user_id=owner.id, secret_hash="b" * 64, ended_at=now - timedelta(minutes=5))
    live = UserSession(user_id=owner.id, secret_hash="c" * 64)
    old_link = ReviewLink(reviewer_id=owner.id, token_hash="d" * 64, expires_at=now - timedelta(days=31))
    recent_link = ReviewLink(reviewer_id=owner.id, token_hash="e" * 64, expires_at=now - timedelta(days=2))
    old_invitation = Invitation(account_id=account.id, email="old@example.com", role="manager",
                                token_hash="f" * 64, expires_at=now - timedelta(days=40))
    accepted = Invitation(account_id=account.id, email="kept@example.com", role="manager",
                          token_hash="0" * 64, expires_at=now - timedelta(days=40),
                          accepted_at=now - timedelta(days=45))
    gone = WorkerHeartbeat(worker="old-host:12", beat_at=now - timedelta(days=3), started_at=now - timedelta(days=9))
    alive = WorkerHeartbeat(worker="this-host:34", beat_at=now - timedelta(seconds=30), started_at=now)
    db.session.add_all([ended_long_ago, ended_now, live, old_link, recent_link, old_invitation, accepted, gone, alive])
    db.session.commit()

    purged = worker.purge_expired(now)

    assert purged["sessions"] == 1 and purged["review links"] == 1 and purged["invitations"] == 1
    assert purged["worker heartbeats"] == 1
    assert [row.worker for row in db.session.scalars(select(WorkerHeartbeat))] == ["this-host:34"]
    assert {row.secret_hash[0] for row in stored(UserSession)} == {"b", "c"}
    assert [row.token_hash[0] for row in stored(ReviewLink)] == ["e"]
    assert [row.email for row in stored(Invitation)] == ["kept@example.com"]
    assert worker.purge_expired(now) == dict.fromkeys(purged, 0), "a second run finds nothing more"


def test_publish_task_takes_every_due_post_in_batches(app, social_set, monkeypatch):
    """More due posts than one batch: the task keeps going until none is left."""
    monkeypatch.setattr(worker, "BATCH", 4)
    posts = many_due_posts(social_set, 10)
    worker.publish()
    assert_published_once(posts)


def test_beat_records_this_worker(app):
    """A beat adds this worker's row once and then moves its time on."""
    worker.beat()
    worker.beat()
    [row] = db.session.scalars(select(WorkerHeartbeat)).all()
    assert row.worker == worker.heartbeat.worker_name()
    assert utcnow() - row.beat_at < timedelta(seconds=5) and row.beat_at > row.started_at
