"""Review links: an emailed link lets one approver see and decide on their pending posts unsigned-in.

The token is 256 bits of randomness stored only as its SHA-256; it expires, can be revoked, covers
the posts named when it was made (each at the version it had then, so an edit closes it for that
post), and opens nothing else. Opening it decides nothing: deciding is a POST from the page.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from . import audit, crypto, paging, policy
from .extensions import db
from .links import LinkState
from .mail import queue_mail, render_mail
from .models import (
    AccessGroup,
    Post,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    User,
    utcnow,
)
from .urls import external_url


def pending_posts_for(reviewer: User, account_id: int, now: datetime | None = None) -> list[Post]:
    """The posts of one account waiting for this approver's decision, soonest first."""
    return list(db.session.scalars(
        select(Post).join(ProfileApprover, ProfileApprover.social_profile_id == Post.social_profile_id)
        .join(AccessGroup, AccessGroup.id == Post.access_group_id)
        .where(ProfileApprover.user_id == reviewer.id, Post.status == PostStatus.PENDING_APPROVAL.value,
               AccessGroup.account_id == account_id,
               policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now or utcnow()))
        .options(selectinload(Post.social_profile))
        .order_by(Post.scheduled_at, Post.id)
    ))


def issue_link(reviewer: User, posts: list[Post], created_by: User | None) -> tuple[ReviewLink, str]:
    """A new link for `reviewer` covering `posts` as they are now; returns it and its token (never stored)."""
    token = crypto.new_token()
    now = utcnow()
    link = ReviewLink(reviewer_id=reviewer.id, created_by_id=created_by.id if created_by else None,
                      token_hash=crypto.token_hash(token), created_at=now,
                      expires_at=now + timedelta(hours=current_app.config["REVIEW_LINK_TTL_HOURS"]))
    db.session.add(link)
    db.session.flush()
    db.session.add_all(ReviewLinkPost(review_link_id=link.id, post_id=post.id, post_version=post.version)
                       for post in posts)
    db.session.flush()
    return link, token


def send_review_link(reviewer: User, actor: User | None, account_id: int) -> ReviewLink | None:
    """Email the approver one link for all their pending posts in the account (none when nothing waits).

    A link never spans accounts: an approver working for two agencies gets one link from each."""
    posts = pending_posts_for(reviewer, account_id)
    if not posts:
        return None
    link, token = issue_link(reviewer, posts, actor)
    text_body, html_body = render_mail(
        "review_request", reviewer=reviewer, actor=actor, posts=posts, expires_at=link.expires_at,
        link=external_url("review.open_link", token=token),
    )
    count = len(posts)
    subject = f"{count} {'post is' if count == 1 else 'posts are'} waiting for your approval"
    queue_mail(reviewer.email, subject, text_body, html_body)
    return link


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


def links_page(post: Post, cursor: str | None, size: int) -> paging.Page[ReviewLink]:
    """A page of the review links that cover the post, newest first, each with its reviewer."""
    return paging.keyset_page(
        select(ReviewLink).join(ReviewLinkPost, ReviewLinkPost.review_link_id == ReviewLink.id)
        .where(ReviewLinkPost.post_id == post.id).options(joinedload(ReviewLink.reviewer, innerjoin=True)),
        ReviewLink.created_at, ReviewLink.id, cursor, size, descending=True)


def revoke(link: ReviewLink, actor: User, account_id: int) -> None:
    """End a link now, recorded in the account of the post it was revoked from; it opens nothing afterwards."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record(account_id, actor.id, "review_link.revoked", "review_link", link.id,
                     after={"reviewer_id": link.reviewer_id})
