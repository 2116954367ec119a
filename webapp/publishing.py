"""Publishing: the worker that sends due posts to their networks, each post at most once.

`publish_due` (run by the background worker every minute, `webapp/worker.py`, or by `flask posts
publish-due`; in as many processes and on as many hosts as you like) takes the posts whose time has come and that may go out: `scheduled`
ones (no approval needed) and `approved` ones. Drafts, rejected posts and posts still awaiting
approval never go out, however late it is.

A worker claims a post (a random claim token, through `leases`) and commits that before it
contacts the network, so of two racing workers exactly one sends the post. It writes the outcome
only while the claim is still its own: a worker so slow that its claim ran out (CLAIM_TIMEOUT) and
was taken over writes nothing. As for queued mail, `publish_attempts` counts the tries including
the one under way, so a post that keeps stopping its worker is given up on too. A failed try is
retried after PUBLISH_RETRY_SECONDS, twice that after the next one, and so on up to an hour; after
PUBLISH_MAX_ATTEMPTS the post keeps its status and its error, which the post page shows, and is
left alone until it is scheduled again.

Which adapter sends a post follows `networks.network_setup`: where the built-in sandbox provider
stands in for the network, the sandbox records the post (so the demo shows it published); otherwise
the network's own adapter (`webapp/publishers/`) sends it. What an adapter says went wrong decides
what comes next: a profile that must be reconnected is marked so and its posts wait for that; a
network that asks to wait is tried again no sooner than it asked; a refusal is shown and not retried.
The network's id and public address for the post are written under the claim the moment it answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from . import audit, leases
from .extensions import db, savepoint
from .models import AccessGroup, Post, PostStatus, SocialProfile, utcnow
from .networks import network_setup
from .posts import PUBLISHABLE
from .publishers import (
    NetworkError,
    Published,
    ReconnectNeeded,
    Refused,
    RetryLater,
    real_adapter,
)
from .sandbox.models import SandboxAccount, SandboxPublication

# How long a claim holds: a worker still not done by then is taken to have stopped.
CLAIM_TIMEOUT = timedelta(minutes=10)
LEASE = leases.Lease(id=Post.id, attempts=Post.publish_attempts, token=Post.claim_token,
                     claimed_at=Post.claimed_at, duration=CLAIM_TIMEOUT)
LONGEST_RETRY_DELAY = timedelta(hours=1)
ERROR_MAX_LENGTH = 2000
STOPPED_PUBLISHER_ERROR = "The publisher stopped while sending this post."
UNEXPECTED_ERROR = "Roster ran into an error of its own while sending this post (it was logged)."


@dataclass
class PublishReport:
    """What one run did: posts published, tries that failed (some now given up on), and posts
    skipped because another run had them."""

    published: int = 0
    failed: int = 0
    given_up: int = 0
    skipped: int = 0


class PublishError(Exception):
    """The network did not take the post; the message says why, in words shown on the post page."""


class Adapter(Protocol):
    """Sends posts to one network."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        """Publish `post` on `profile`; raise PublishError or a `publishers.NetworkError` if not."""
        ...


class SandboxAdapter:
    """The built-in sandbox network: it records each post as a SandboxPublication."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        if profile.needs_reconnect:
            raise PublishError(f"Reconnect @{profile.handle} on {profile.network_label}: its access stopped working.")
        reference = f"roster-post-{post.id}"
        # Read before the savepoint: on SQLite a read inside it would pin a snapshot that another
        # worker's commit makes stale, and the insert would then fail at once instead of waiting.
        publication = SandboxPublication(
            network=profile.network, account_id=sandbox_account_id(profile), caption=post.caption,
            media_count=len(post.media_items), client_reference=reference,
        )
        try:
            with savepoint():
                db.session.add(publication)
        except IntegrityError:
            # A worker whose claim ran out sent it already; like a network honouring an
            # idempotency key, the sandbox keeps that one and answers with its id.
            publication = db.session.scalar(
                select(SandboxPublication).where(SandboxPublication.client_reference == reference)
            )
            if publication is None:
                raise
        return Published(str(publication.id))


def sandbox_account_id(profile: SocialProfile) -> str:
    """The profile's account id on the sandbox network: its external id when the sandbox connected
    it; demo profiles, whose external id is made up, get the id their handle has there."""
    return SandboxAccount(profile.network, profile.handle.lower()).id


class UnavailableAdapter:
    """A network this server cannot publish to: every try fails with the same reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        raise PublishError(self.reason)


def adapter_for(network: str) -> Adapter:
    """The adapter that sends posts to `network`: the sandbox's wherever the sandbox stands in for it."""
    setup = network_setup(network)
    label = setup.network.label
    if setup.sandbox:
        return SandboxAdapter()
    if setup.ready:
        return real_adapter(setup.network.value) or UnavailableAdapter(
            f"Publishing to {label} is not available in this version.")
    return UnavailableAdapter(f"{label} is not set up on this Roster server, so posts cannot be sent to it.")


def publish_due(now: datetime | None = None, limit: int = 100) -> PublishReport:
    """Publish up to `limit` due posts, each at most once; failed tries are retried later or given up."""
    now = now or utcnow()
    report = PublishReport()
    _release_abandoned(now)
    due_ids = db.session.scalars(
        select(Post.id).where(_due(now), leases.unclaimed(LEASE)).order_by(Post.scheduled_at, Post.id).limit(limit)
    ).all()
    adapters: dict[str, Adapter] = {}
    for post_id in due_ids:
        claim = leases.claim(LEASE, post_id, _due(now), now)
        if claim is None:
            report.skipped += 1  # another run has it, or it changed and is no longer due
            continue
        post = db.session.get_one(Post, post_id)
        profile = post.social_profile
        try:
            if profile.network not in adapters:
                adapters[profile.network] = adapter_for(profile.network)
            published = adapters[profile.network].publish(post, profile)
        except ReconnectNeeded as error:
            db.session.rollback()
            _reconnect_needed(post_id, error.message)
            _record_failure(claim, error.message, now, report, give_up=True)
        except Refused as error:
            db.session.rollback()
            _record_failure(claim, error.message, now, report, give_up=True)
        except RetryLater as error:
            db.session.rollback()
            _record_failure(claim, error.message, now, report, wait=error.wait)
            if error.wait:
                _hold_profile(profile.id, now + error.wait, now)
        # Any other error (a bug) must end in a retry or a shown error, never in a stuck post.
        except Exception as error:
            db.session.rollback()
            _record_failure(claim, _error_message(post_id, error), now, report)
        else:
            _record_success(post, claim, published, now, report)
    return report


# --- claims -----------------------------------------------------------------------------------------


def _due(now: datetime) -> ColumnElement[bool]:
    """Posts that may go out now, held by a worker or not (`leases.unclaimed` tells those apart)."""
    return and_(
        Post.status.in_(PUBLISHABLE),
        Post.scheduled_at <= now,
        or_(Post.next_publish_at.is_(None), Post.next_publish_at <= now),
        Post.publish_attempts < current_app.config["PUBLISH_MAX_ATTEMPTS"],
    )


def _release_abandoned(now: datetime) -> None:
    """End the claims of workers that stopped mid-send: those posts are tried again at once, or
    keep the error when that was their last attempt."""
    for claim, attempts in leases.expired(LEASE, now):
        if leases.settle(LEASE, claim, publish_error=STOPPED_PUBLISHER_ERROR):
            given_up = attempts >= current_app.config["PUBLISH_MAX_ATTEMPTS"]
            _audit(db.session.get_one(Post, claim.row_id), "post.publish_failed", after={
                "error": STOPPED_PUBLISHER_ERROR, "attempts": attempts, "next_try_at": None, "given_up": given_up,
            })
            current_app.logger.warning("Post %s was left claimed by a stopped publisher; %s", claim.row_id,
                                       "given up" if given_up else "trying again")
    db.session.commit()


# --- outcomes ---------------------------------------------------------------------------------------


def _record_success(post: Post, claim: leases.Claim, published: Published, now: datetime,
                    report: PublishReport) -> None:
    before = post.status
    external_id = published.remote_id
    settled = leases.settle(LEASE, claim, status=PostStatus.PUBLISHED.value, published_at=now,
                            external_id=external_id[:255], external_url=(published.url or None),
                            publish_error=None, next_publish_at=None)
    if not settled:
        # Taken over after the claim ran out; the network has the post, and the worker that holds
        # the claim now records it (an idempotent network hands it the same id).
        db.session.commit()
        report.skipped += 1
        current_app.logger.warning("Post %s was published after its claim ran out; another run records it", post.id)
        return
    _audit(post, "post.published", before={"status": before},
           after={"status": PostStatus.PUBLISHED.value, "network": post.social_profile.network,
                  "external_id": external_id})
    db.session.commit()
    report.published += 1
    current_app.logger.info("Published post %s to %s as %s", post.id, post.social_profile.network, external_id)


def _hold_profile(profile_id: int, until: datetime, now: datetime) -> None:
    """The network asked to wait: the profile's other due posts wait too, rather than each spending
    an attempt on the same refusal (one UPDATE; no attempt is counted)."""
    db.session.execute(
        update(Post)
        .where(Post.social_profile_id == profile_id, _due(now), leases.unclaimed(LEASE),
               or_(Post.next_publish_at.is_(None), Post.next_publish_at < until))
        .values(next_publish_at=until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(claim: leases.Claim, message: str, now: datetime, report: PublishReport,
                    give_up: bool = False, wait: timedelta | None = None) -> None:
    """Keep the error on the post and say when it is tried next: never when `give_up` (a refusal,
    a profile to reconnect), else after the back-off or the `wait` the network asked for if longer."""
    post_id = claim.row_id
    post = db.session.get_one(Post, post_id)
    attempts = post.publish_attempts
    # The first failure since the post last went out or was scheduled again starts a streak: told once.
    starts_streak = post.publish_error is None
    most = current_app.config["PUBLISH_MAX_ATTEMPTS"]
    given_up = give_up or attempts >= most
    first_delay = timedelta(seconds=current_app.config["PUBLISH_RETRY_SECONDS"])
    delay = max(leases.backoff(attempts, first_delay, LONGEST_RETRY_DELAY), wait or timedelta(0))
    next_try_at = None if given_up else now + delay
    # A post given up on before its last attempt is marked as out of attempts, so no run takes it
    # again until it is scheduled again or its profile reconnected.
    if not leases.settle(LEASE, claim, publish_error=message, next_publish_at=next_try_at,
                         publish_attempts=max(attempts, most) if given_up else attempts):
        db.session.rollback()
        report.skipped += 1
        return
    _audit(post, "post.publish_failed", after={
        "error": message, "attempts": attempts,
        "next_try_at": next_try_at.isoformat() if next_try_at else None, "given_up": given_up,
    })
    if starts_streak:
        from .notifications import publish_failed

        publish_failed(post, message)
    db.session.commit()
    report.failed += 1
    if given_up:
        report.given_up += 1
        current_app.logger.error("Gave up publishing post %s after %d tries: %s", post_id, attempts, message)
    else:
        current_app.logger.warning("Post %s not published (%s); next try at %s", post_id, message,
                                   next_try_at.isoformat(timespec="seconds"))


def retry_after_reconnect(profile: SocialProfile) -> int:
    """The profile was signed in again: its posts that failed are tried afresh at the next run (the
    caller commits). Returns how many."""
    retried = db.session.execute(
        update(Post)
        .where(Post.social_profile_id == profile.id, Post.status.in_(PUBLISHABLE), Post.publish_error.is_not(None))
        .values(publish_attempts=0, next_publish_at=None, publish_error=None)
        .execution_options(synchronize_session=False)
    )
    return retried.rowcount


def _reconnect_needed(post_id: int, message: str) -> None:
    """Mark the post's profile "Reconnect needed" (told once, in its audit trail)."""
    post = db.session.get_one(Post, post_id)
    profile = post.social_profile
    if not profile.needs_reconnect:
        profile.needs_reconnect = True
        audit.record(profile.social_set.access_group.account_id, None, "profile.reconnect_needed",
                     "social_profile", profile.id, after={"network": profile.network, "handle": profile.handle,
                                                          "reason": message[:300]},
                     group_id=profile.access_group_id)
        current_app.logger.warning("Profile %s needs reconnecting: %s", profile.id, message)


def _error_message(post_id: int, error: Exception) -> str:
    """What the post page says went wrong: the network's reason, or that Roster failed (logged)."""
    if isinstance(error, (PublishError, NetworkError)):
        return str(error)[:ERROR_MAX_LENGTH]
    current_app.logger.error("Error while publishing post %s", post_id, exc_info=error)
    return UNEXPECTED_ERROR


def _audit(post: Post, verb: str, before: dict | None = None, after: dict | None = None) -> None:
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id))
    audit.record(account_id, None, verb, "post", post.id, before=before, after=after, group_id=post.access_group_id)
