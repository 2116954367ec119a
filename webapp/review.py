"""Review links: an emailed link lets one approver see and decide on their pending posts unsigned-in.

An approver holds one open link per agency at a time (not revoked, not expired): posts sent for
their approval later join it, and every email carries the same address. Its token is derived from
SECRET_KEY and the link's random salt whenever an email is written, so the database keeps only the
token's SHA-256. A link made before salts existed, or whose token no longer derives (SECRET_KEY
changed), is never reused: a new one is made.

Emails are a digest: posts joining a link emailed in the last REVIEW_DIGEST_MINUTES wait for the
worker (`send_due_digests`), which lists them once. Opening a link decides nothing: deciding is a
POST from the page. Each post is covered at the version it had when it joined, so an edit closes it
until it is sent again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from . import audit, brand, crypto, paging, policy
from .extensions import db
from .links import LinkState
from .mail import queue_mail, render_mail
from .models import (
    AccessGroup,
    Account,
    Membership,
    Post,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    Role,
    SocialProfile,
    User,
    utcnow,
)
from .urls import external_url
from .zones import style_for

# The worker sends at most this many digests a run.
DIGEST_BATCH = 100


def _pending(reviewer_id: Any, account_id: int, now: datetime):
    """SQL: the posts of one account waiting for this approver's decision (the policy decides who approves)."""
    # From the approver's profiles to their posts (by ix_posts_profile): the status and the group are
    # compared as expressions, so no plan walks every pending post, or every post, of the agency to find
    # the approver's few.
    profiles = (select(ProfileApprover.social_profile_id)
                .where(ProfileApprover.user_id == reviewer_id,
                       policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now)))
    groups = select(AccessGroup.id).where(AccessGroup.account_id == account_id)
    return select(Post).where(Post.social_profile_id.in_(profiles),
                              Post.status.concat("") == PostStatus.PENDING_APPROVAL.value,
                              (Post.access_group_id + 0).in_(groups))


def pending_posts_for(reviewer: User, account_id: int, now: datetime | None = None,
                      access_group_id: int | None = None, limit: int | None = None) -> list[Post]:
    """The posts of one account (or one of its groups) waiting for this approver's decision, soonest first."""
    statement = _pending(reviewer.id, account_id, now or utcnow())
    if access_group_id is not None:
        statement = statement.where(Post.access_group_id == access_group_id)
    statement = (statement.options(selectinload(Post.social_profile), selectinload(Post.media_items))
                 .order_by(Post.scheduled_at, Post.id))
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))


@dataclass(frozen=True)
class Waiting:
    """Whether a person approves anything in an account now, and how many posts wait for them there."""

    approver: bool
    count: int


def waiting_for(user: User, account: Account | None, now: datetime | None = None) -> Waiting:
    """The sidebar's "Waiting for your approval": one query, and none for staff (only clients approve)."""
    if account is None or not getattr(user, "is_authenticated", False):
        return Waiting(False, 0)
    cached = g.get("_waiting")
    if cached is not None and cached[0] == (user.id, account.id):
        return cached[1]
    waiting = Waiting(False, 0)
    if policy.permissions_for(user).role_in(account.id) == Role.CLIENT.value:
        now = now or utcnow()
        duty = (select(ProfileApprover.user_id)
                .join(SocialProfile, SocialProfile.id == ProfileApprover.social_profile_id)
                .join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
                .where(ProfileApprover.user_id == user.id, AccessGroup.account_id == account.id,
                       policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now))
                .exists())
        count = select(func.count()).select_from(_pending(user.id, account.id, now).subquery()).scalar_subquery()
        approver, pending = db.session.execute(select(duty, count)).one()
        waiting = Waiting(bool(approver), int(pending or 0))
    g._waiting = ((user.id, account.id), waiting)
    return waiting


# --- the link's token ------------------------------------------------------------------------------


def derived_token(link: ReviewLink) -> str | None:
    """The link's emailed token, derived from SECRET_KEY and its salt; None for a link without a salt."""
    if not link.token_salt:
        return None
    message = f"review-link:{link.id}:{link.token_salt}".encode()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_of(link: ReviewLink) -> str | None:
    """The token that opens the link, if it can still be written (its hash is the one stored)."""
    token = derived_token(link)
    if token is None or not hmac.compare_digest(crypto.token_hash(token), link.token_hash):
        return None
    return token


def _new_link(reviewer: User, account_id: int | None, created_by: User | None, now: datetime) -> ReviewLink:
    """A fresh link with a salt; its token hash is written once its id is known."""
    link = ReviewLink(reviewer_id=reviewer.id, account_id=account_id,
                      created_by_id=created_by.id if created_by else None,
                      token_hash=crypto.token_hash(crypto.new_token()),  # replaced below, once the id is known
                      token_salt=secrets.token_urlsafe(32), created_at=now,
                      expires_at=now + timedelta(hours=current_app.config["REVIEW_LINK_TTL_HOURS"]))
    db.session.add(link)
    db.session.flush()
    link.token_hash = crypto.token_hash(derived_token(link))
    db.session.flush()
    return link


def issue_link(reviewer: User, posts: list[Post], created_by: User | None) -> tuple[ReviewLink, str]:
    """A new link for `reviewer` covering `posts` as they are now; returns it and its token (never stored)."""
    now = utcnow()
    account_id = None
    if posts:
        account_id = db.session.scalar(
            select(AccessGroup.account_id).where(AccessGroup.id == posts[0].access_group_id))
    link = _new_link(reviewer, account_id, created_by, now)
    db.session.add_all(ReviewLinkPost(review_link_id=link.id, post_id=post.id, post_version=post.version,
                                      added_at=now, mailed_at=now) for post in posts)
    db.session.flush()
    return link, derived_token(link)


def _lock_reviewer(reviewer: User, account_id: int) -> None:
    """Hold the approver's membership row until commit, so two requests cannot both make their link.

    PostgreSQL locks the row; SQLite serialises writers and ignores FOR UPDATE."""
    db.session.execute(select(Membership.id).where(Membership.user_id == reviewer.id,
                                                   Membership.account_id == account_id).with_for_update())


def open_link_for(reviewer: User, account_id: int, now: datetime | None = None) -> ReviewLink | None:
    """The approver's open link with this agency whose token can still be written, newest first."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(ReviewLink).where(ReviewLink.reviewer_id == reviewer.id, ReviewLink.account_id == account_id,
                                 ReviewLink.revoked_at.is_(None), ReviewLink.expires_at > now,
                                 ReviewLink.token_salt.is_not(None))
        .order_by(ReviewLink.created_at.desc(), ReviewLink.id.desc()).limit(3))
    return next((link for link in candidates if token_of(link) is not None), None)


def _join(link: ReviewLink, reviewer: User, account_id: int, now: datetime) -> int:
    """Add the approver's pending posts to the link at their current version; returns how many joined.

    A post already on it at an older version (edited, then sent again) is updated and listed again."""
    pending = {post.id: post.version for post in db.session.execute(
        _pending(reviewer.id, account_id, now).with_only_columns(Post.id, Post.version)).all()}
    if not pending:
        return 0
    rows = {row.post_id: row for row in db.session.scalars(
        select(ReviewLinkPost).where(ReviewLinkPost.review_link_id == link.id,
                                     ReviewLinkPost.post_id.in_(list(pending))))}
    joined = 0
    for post_id, version in pending.items():
        row = rows.get(post_id)
        if row is None:
            db.session.add(ReviewLinkPost(review_link_id=link.id, post_id=post_id, post_version=version,
                                          added_at=now, mailed_at=None))
            joined += 1
        elif row.post_version != version:
            row.post_version, row.added_at, row.mailed_at = version, now, None
            joined += 1
    db.session.flush()
    return joined


def link_for(reviewer: User, account_id: int, actor: User | None, now: datetime | None = None) -> ReviewLink:
    """The approver's open link with this agency, made if there is none, with their pending posts on it."""
    now = now or utcnow()
    _lock_reviewer(reviewer, account_id)
    link = open_link_for(reviewer, account_id, now) or _new_link(reviewer, account_id, actor, now)
    _join(link, reviewer, account_id, now)
    return link


def digest_minutes() -> int:
    return current_app.config["REVIEW_DIGEST_MINUTES"]


def send_review_link(reviewer: User, actor: User | None, account_id: int) -> ReviewLink | None:
    """Put the approver's pending posts on their open link, and email it unless it was emailed lately.

    A link emailed in the last REVIEW_DIGEST_MINUTES is not emailed again now: the worker's digest
    lists what joined since. A link never spans accounts. None when nothing waits for them."""
    now = utcnow()
    if not pending_posts_for(reviewer, account_id, now, limit=1):
        return None
    link = link_for(reviewer, account_id, actor, now)
    if link.last_emailed_at is None or link.last_emailed_at <= now - timedelta(minutes=digest_minutes()):
        email_link(link, reviewer, now=now)
    return link


def resend(reviewer: User, account_id: int, actor: User) -> ReviewLink | None:
    """Email the approver's open link now with all their open posts, whatever the digest's wait."""
    now = utcnow()
    if not pending_posts_for(reviewer, account_id, now, limit=1):
        return None
    link = link_for(reviewer, account_id, actor, now)
    email_link(link, reviewer, everything=True, now=now)
    audit.record(account_id, actor.id, "review_link.resent", "review_link", link.id,
                 after={"reviewer_id": reviewer.id})
    return link


def _claim_unmailed(link: ReviewLink, now: datetime) -> set[int]:
    """Mark the link's posts no email listed yet as listed now; returns the post ids this caller claimed.

    The UPDATE ... WHERE mailed_at IS NULL is the claim: of two workers, only one gets each row."""
    return set(db.session.scalars(
        update(ReviewLinkPost)
        .where(ReviewLinkPost.review_link_id == link.id, ReviewLinkPost.mailed_at.is_(None))
        .values(mailed_at=now).returning(ReviewLinkPost.post_id)
        .execution_options(synchronize_session=False)))


def email_link(link: ReviewLink, reviewer: User, everything: bool = False, now: datetime | None = None) -> bool:
    """Email the link listing the posts no email listed yet (all its open posts with `everything`).

    Posts no longer waiting for this approver are left out; an email with nothing new is not sent.
    Emailing extends the link to now + REVIEW_LINK_TTL_HOURS. Returns whether an email was queued."""
    now = now or utcnow()
    token = token_of(link)
    if token is None:
        return False
    claimed = _claim_unmailed(link, now)
    waiting = open_posts(link, now)
    new = waiting if everything else [post for post in waiting if post.id in claimed]
    if not new:
        return False
    account = db.session.get(Account, link.account_id) if link.account_id else None
    link.last_emailed_at = now
    link.expires_at = max(link.expires_at, now + timedelta(hours=current_app.config["REVIEW_LINK_TTL_HOURS"]))
    count, others = len(waiting), len(waiting) - len(new)
    text_body, html_body = render_mail(
        "review_request", reviewer=reviewer, posts=new, others=others, expires_at=link.expires_at,
        link=external_url("review.open_link", token=token), style=style_for(reviewer, account),
        agency=account.name if account else None, account=account,
    )
    subject = f"{count} {'post is' if count == 1 else 'posts are'} waiting for your approval"
    queue_mail(reviewer.email, subject, text_body, html_body, sender_name=brand.sender_name(account))
    db.session.flush()
    return True


def send_due_digests(now: datetime | None = None, limit: int = DIGEST_BATCH) -> int:
    """Email every open link whose unlisted posts waited REVIEW_DIGEST_MINUTES since its last email.

    Each link is its own transaction; returns how many emails were queued."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=digest_minutes())
    unlisted = select(ReviewLinkPost.post_id).where(ReviewLinkPost.review_link_id == ReviewLink.id,
                                                   ReviewLinkPost.mailed_at.is_(None)).exists()
    due = db.session.execute(
        select(ReviewLink.id, ReviewLink.reviewer_id)
        .where(ReviewLink.revoked_at.is_(None), ReviewLink.expires_at > now, ReviewLink.token_salt.is_not(None),
               ReviewLink.account_id.is_not(None),
               (ReviewLink.last_emailed_at.is_(None)) | (ReviewLink.last_emailed_at <= cutoff), unlisted)
        .order_by(ReviewLink.id).limit(limit)).all()
    db.session.commit()
    sent = 0
    for link_id, reviewer_id in due:
        link, reviewer = db.session.get(ReviewLink, link_id), db.session.get(User, reviewer_id)
        if link is None or reviewer is None:
            continue
        if token_of(link) is None:
            # SECRET_KEY changed: this link can no longer be written; its posts go on a new one.
            _claim_unmailed(link, now)
            if send_review_link(reviewer, None, link.account_id) is not None:
                sent += 1
        elif email_link(link, reviewer, now=now):
            sent += 1
        db.session.commit()
    return sent


# --- opening a link --------------------------------------------------------------------------------


def find(token: str | None) -> ReviewLink | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(ReviewLink).where(ReviewLink.token_hash == crypto.token_hash(token)))


def reviewer_may_approve(link: ReviewLink, now: datetime | None = None) -> Any:
    """SQL: the link's reviewer still approves the post's profile, asked of the policy now."""
    return policy.may_approve(link.reviewer_id, Post.social_profile_id, now or utcnow())


def open_posts(link: ReviewLink, now: datetime | None = None) -> list[Post]:
    """The link's posts that still wait for this reviewer's decision and were not changed since."""
    return list(db.session.scalars(
        select(Post).join(ReviewLinkPost, ReviewLinkPost.post_id == Post.id)
        .join(ProfileApprover, (ProfileApprover.social_profile_id == Post.social_profile_id)
              & (ProfileApprover.user_id == link.reviewer_id))
        .where(ReviewLinkPost.review_link_id == link.id, ReviewLinkPost.post_version == Post.version,
               Post.status == PostStatus.PENDING_APPROVAL.value, reviewer_may_approve(link, now))
        .options(selectinload(Post.social_profile), selectinload(Post.media_items))
        .order_by(Post.scheduled_at, Post.id)
    ))


def state(link: ReviewLink | None, now: datetime | None = None) -> LinkState:
    """Whether the link still opens anything (its open posts are `open_posts`).

    A reviewer who may no longer see any post the link covered (removed from the group, ended,
    deactivated, or who removed the profile) holds a link that opens nothing."""
    now = now or utcnow()
    if link is None:
        return LinkState.UNKNOWN
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    still_sees = db.session.scalar(
        select(ReviewLinkPost.post_id).join(Post, Post.id == ReviewLinkPost.post_id)
        .where(ReviewLinkPost.review_link_id == link.id, reviewer_may_approve(link, now)).limit(1))
    if still_sees is None:
        return LinkState.NO_ACCESS
    return LinkState.OPEN


# --- the post page's list of approvers and their links ---------------------------------------------


def _latest_per_reviewer(post: Post):
    """SQL: the newest link of each reviewer among those covering the post."""
    return (select(func.max(ReviewLink.id)).join(ReviewLinkPost, ReviewLinkPost.review_link_id == ReviewLink.id)
            .where(ReviewLinkPost.post_id == post.id).group_by(ReviewLink.reviewer_id))


def links_page(post: Post, cursor: str | None, size: int) -> paging.Page[ReviewLink]:
    """A page of the approvers asked about the post, each once with their newest link, newest first."""
    return paging.keyset_page(
        select(ReviewLink).where(ReviewLink.id.in_(_latest_per_reviewer(post)))
        .options(joinedload(ReviewLink.reviewer, innerjoin=True)),
        ReviewLink.created_at, ReviewLink.id, cursor, size, descending=True)


def reviewers_asked(post: Post) -> Any:
    """SQL: how many approvers a link covering the post was made for (the post page's total)."""
    return (select(func.count(func.distinct(ReviewLink.reviewer_id)))
            .join(ReviewLinkPost, and_(ReviewLinkPost.review_link_id == ReviewLink.id,
                                       ReviewLinkPost.post_id == post.id))
            .scalar_subquery())


def revoke(link: ReviewLink, actor: User, account_id: int) -> None:
    """End a link now, recorded in the account of the post it was revoked from; it opens nothing afterwards."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record(account_id, actor.id, "review_link.revoked", "review_link", link.id,
                     after={"reviewer_id": link.reviewer_id})
