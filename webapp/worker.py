"""The background worker: publishes due posts, delivers mail and purges what has expired, without cron.

Huey decides when and where the work runs. By default its queue is a SQLite file in the instance
folder, so `make run` needs no other service; with WORKER_QUEUE_URL=redis://... every worker process,
on every host, shares one queue. Each worker's scheduler queues the periodic tasks every minute, so
with several workers a task may run more often than once a minute: that is safe, because which post
or message goes out is decided by the database claims (`leases`), never by the queue. A task that
runs twice, or on two hosts at once, still sends each post and each message once.

Start one with `flask roster worker` (`make run` starts one beside the web server).
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import delete, or_

from . import heartbeat
from .extensions import db
from .models import Invitation, PasswordReset, ReviewLink, UserSession, WorkerHeartbeat, utcnow
from .sandbox.models import SandboxAuthorizationCode, SandboxToken

log = logging.getLogger(__name__)

# One run takes this many posts or messages; a run that used them all goes again at once.
BATCH = 100
# Ended sessions and closed links are kept a while, so the screens that list them can say what happened.
ENDED_SESSIONS_KEPT = timedelta(days=1)
CLOSED_LINKS_KEPT = timedelta(days=30)


def queue_for(app: Flask) -> Huey:
    """The app's task queue, made once: on Redis when WORKER_QUEUE_URL says so, else a SQLite file."""
    if "roster.queue" not in app.extensions:
        app.extensions["roster.queue"] = _make_queue(app)
    return app.extensions["roster.queue"]


def _make_queue(app: Flask) -> Huey:
    """The queue and its tasks (`queue.roster_tasks`, by name), each run in an app context of its own."""
    url, name = app.config.get("WORKER_QUEUE_URL"), app.config.get("WORKER_QUEUE_NAME") or "roster"
    if url:
        queue = RedisHuey(name, url=url, results=False)
    else:
        path = Path(app.config.get("WORKER_QUEUE_PATH") or Path(app.instance_path) / "worker-queue.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey(name, filename=str(path), results=False)
    every_minute = crontab(minute="*")

    def in_app(work):
        """`work` in an app context of its own, so each task has a fresh database session."""
        @functools.wraps(work)
        def task() -> None:
            with app.app_context():
                try:
                    work()
                finally:
                    db.session.remove()
        return task

    queue.roster_tasks = {
        "beat": queue.periodic_task(every_minute, name="roster.beat")(in_app(beat)),
        "publish": queue.periodic_task(every_minute, name="roster.publish")(in_app(publish)),
        "deliver_mail": queue.periodic_task(every_minute, name="roster.deliver_mail")(in_app(deliver_mail)),
        "purge": queue.periodic_task(crontab(minute="*/15"), name="roster.purge")(in_app(purge_expired)),
        "review_digests": queue.periodic_task(every_minute, name="roster.review_digests")(in_app(review_digests)),
        "notification_digests": queue.periodic_task(crontab(minute="*/15"), name="roster.notification_digests")(
            in_app(notification_digests)),
        "access_ending": queue.periodic_task(crontab(minute="7"), name="roster.access_ending")(
            in_app(access_ending)),
        "instance_limits": queue.periodic_task(crontab(minute="23"), name="roster.instance_limits")(
            in_app(instance_limits)),
    }
    return queue


def beat() -> None:
    """Say this worker is alive: /readyz wants a beat in the last two minutes."""
    heartbeat.beat()


def publish() -> None:
    """Publish every post that is due, a batch at a time."""
    from .publishing import publish_due

    while True:
        report = publish_due(limit=BATCH)
        if report.published + report.failed + report.skipped < BATCH:
            return


def deliver_mail() -> None:
    """Send the queued mail that is due, a batch at a time; failures wait for their retry time."""
    from .mail import send_pending

    while True:
        report = send_pending(limit=BATCH)
        if report.sent + report.retrying + report.failed < BATCH:
            return


def review_digests() -> None:
    """Email approvers the posts that joined their review link since its last email, once the wait is over."""
    from .review import DIGEST_BATCH, send_due_digests

    while send_due_digests(limit=DIGEST_BATCH) >= DIGEST_BATCH:
        pass


def notification_digests() -> None:
    """Send the daily notification digest of everyone for whom it is 08:00 or later and who had none today."""
    from .notifications import send_digests

    send_digests()


def access_ending() -> None:
    """Tell people whose access ends within a week (once per path and end date; run hourly, so a missed
    run is made up)."""
    from .notifications import notify_access_ending

    notify_access_ending()


def instance_limits() -> None:
    """Read again, once a day each, what the Mastodon instances Roster posts to allow (the composer's
    rules follow them; no page waits on an instance)."""
    from .mastodon import refresh_stale_limits

    refresh_stale_limits()


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete sessions, codes, tokens and links that can no longer open anything, and the heartbeats of
    workers long gone; commit, and say how many."""
    now = now or utcnow()
    closed_before = now - CLOSED_LINKS_KEPT
    statements = {
        "sessions": delete(UserSession).where(UserSession.ended_at < now - ENDED_SESSIONS_KEPT),
        "sandbox codes": delete(SandboxAuthorizationCode).where(SandboxAuthorizationCode.expires_at < now),
        "sandbox tokens": delete(SandboxToken).where(
            SandboxToken.expires_at < now,
            or_(SandboxToken.refresh_token_hash.is_(None), SandboxToken.refresh_revoked_at.is_not(None)),
        ),
        "review links": delete(ReviewLink).where(
            or_(ReviewLink.expires_at < closed_before, ReviewLink.revoked_at < closed_before)
        ),
        "invitations": delete(Invitation).where(
            Invitation.accepted_at.is_(None),
            or_(Invitation.expires_at < closed_before, Invitation.revoked_at < closed_before),
        ),
        # Used or expired password reset links, a day on (the audit log keeps who reset what).
        "password resets": delete(PasswordReset).where(
            or_(PasswordReset.used_at < now - ENDED_SESSIONS_KEPT, PasswordReset.expires_at < now - ENDED_SESSIONS_KEPT)
        ),
        # Workers that stopped without saying so (killed, or their host went away).
        "worker heartbeats": delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - ENDED_SESSIONS_KEPT),
    }
    purged = {name: db.session.execute(statement).rowcount for name, statement in statements.items()}
    db.session.commit()
    if any(purged.values()):
        log.info("Purged %s", ", ".join(f"{count} {name}" for name, count in purged.items() if count))
    return purged


def run(workers: int) -> None:
    """Run a worker in this process until it is stopped: SIGTERM lets the tasks under way finish."""
    app = current_app._get_current_object()
    queue = queue_for(app)
    with app.app_context():
        heartbeat.beat()
        db.session.remove()
    # Say when the worker starts and stops, not every task it runs (publishing logs what it sends).
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    logging.getLogger("huey.consumer.Scheduler").setLevel(logging.WARNING)
    # An idle worker looks for new tasks at least every two seconds (SQLite queue; Redis waits on the list).
    # SIGTERM (what `make run`, systemd and containers stop a process with) lets the tasks under way
    # finish; a post cut off mid-send would otherwise wait for its claim to run out.
    consumer = queue.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                     check_worker_health=True, max_delay=2.0, graceful_signal="TERM")
    try:
        consumer.run()
    finally:
        with app.app_context():
            heartbeat.stopped()
            db.session.remove()


def wake(app: Flask) -> None:
    """Ask a worker to publish and send now, rather than at the next minute (tests and the load test)."""
    tasks = queue_for(app).roster_tasks
    tasks["publish"]()
    tasks["deliver_mail"]()
