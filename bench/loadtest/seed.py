"""The load test's data: bulk beside the demo agency, then the posts and review links the run works on.

`add_bulk` runs before the servers start: media libraries and a calendar's worth of posts in every
group, so pages are not trivially empty. `add_run_posts` runs just before the simulated people
arrive: posts that come due while they work (the publisher's share of the load), and posts waiting
for each creator's approval, with review links the simulated clients follow. Nothing here goes
through HTTP; everything is written in one app context and committed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from webapp import review
from webapp.demo import CAPTIONS, DEMO_DOMAIN, DEMO_PASSWORD, STAFF, STAFF_GROUPS
from webapp.extensions import db
from webapp.media import recount_media
from webapp.models import (
    AccessGroup,
    Account,
    GroupUser,
    MediaItem,
    Post,
    PostStatus,
    ProfileApprover,
    SocialProfile,
    User,
    utcnow,
)

MEDIA_PER_GROUP = 120
CALENDAR_POSTS_PER_GROUP = 60
# Posts each review link covers: one simulated client works through one link, then takes the next.
POSTS_PER_LINK = 4
# Staff who may open Settings (access groups, team); managers may not.
SETTINGS_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class RunPosts:
    """What `add_run_posts` made: posts due during the run, and review links for the clients."""

    due_during_run: int
    pending: int
    review_tokens: list[str]


def _demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def _profiles(account: Account) -> list[SocialProfile]:
    return list(db.session.scalars(
        select(SocialProfile).join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(AccessGroup.account_id == account.id).order_by(SocialProfile.id)))


def _account() -> Account:
    return db.session.scalars(select(Account)).one()


def add_bulk(seed: int = 7) -> None:
    """Media items and past, present and future posts in every group of the demo agency; commit."""
    chance = random.Random(seed)
    account = _account()
    now = utcnow()
    groups = db.session.scalars(select(AccessGroup).where(AccessGroup.account_id == account.id)).all()
    profiles = _profiles(account)
    for group in groups:
        items = [
            MediaItem(access_group_id=group.id, name=f"bulk-{group.id}-{number:03d}.png", kind="image",
                      content_type="image/png", byte_size=50_000 + number, width=1080, height=1080,
                      storage_key=f"loadtest-{group.id}-{number}.png",
                      created_at=now - timedelta(hours=number * 5, minutes=chance.randrange(60)))
            for number in range(MEDIA_PER_GROUP)
        ]
        db.session.add_all(items)
        # Only profiles that need no approval: past posts are published, future ones scheduled or drafts,
        # and none of them comes due during the run (those are `add_run_posts`' business).
        free = [profile for profile in profiles if profile.access_group_id == group.id and not profile.needs_approval]
        for number in range(CALENDAR_POSTS_PER_GROUP if free else 0):
            days = chance.uniform(-20, 25)
            at = (now + timedelta(days=days)).replace(second=0, microsecond=0)
            if days < 0:
                status = PostStatus.PUBLISHED
            elif days < 1:
                at, status = at + timedelta(days=1), PostStatus.SCHEDULED
            else:
                status = chance.choice([PostStatus.SCHEDULED, PostStatus.SCHEDULED, PostStatus.DRAFT])
            profile = chance.choice(free)
            post = Post(social_profile_id=profile.id, access_group_id=group.id,
                        caption=f"{chance.choice(CAPTIONS)} #{number}", status=status.value, scheduled_at=at,
                        published_at=at if status is PostStatus.PUBLISHED else None)
            post.media_items = [chance.choice(items)]
            db.session.add(post)
    db.session.flush()
    recount_media()  # the items went in without the library's upload path: each group's count is set from them
    db.session.commit()


def published_post_ids() -> set[int]:
    """Posts already published (by the seed, without a sandbox record), left out of the checks."""
    return set(db.session.scalars(select(Post.id).where(Post.status == PostStatus.PUBLISHED.value)))


def add_run_posts(starts_at: datetime, seconds: int, pending: int, due: int, seed: int = 11) -> RunPosts:
    """`due` scheduled posts and `pending` posts awaiting approval, timed over the run; review links; commit.

    Both kinds fall due between `starts_at` and the end of the run, so approved posts are published
    while people still work, some approved only after their time came (then they go out at once).
    """
    chance = random.Random(seed)
    account = _account()
    profiles = _profiles(account)

    def during_run() -> datetime:
        return starts_at + timedelta(seconds=chance.uniform(0, seconds))

    free = [profile for profile in profiles if not profile.needs_approval]
    for number in range(due):
        profile = chance.choice(free)
        db.session.add(Post(social_profile_id=profile.id, access_group_id=profile.access_group_id,
                            caption=f"Due during the load test #{number}", status=PostStatus.SCHEDULED.value,
                            scheduled_at=during_run()))

    authors = {creator: db.session.scalar(select(User).where(User.email == _demo_email(staff)))
               for staff, creators in STAFF_GROUPS.items() for creator in creators}
    approvals = db.session.execute(
        select(ProfileApprover, SocialProfile, User)
        .join(SocialProfile, SocialProfile.id == ProfileApprover.social_profile_id)
        .join(User, User.id == ProfileApprover.user_id).order_by(SocialProfile.id)).all()
    tokens: list[str] = []
    for index, (_, profile, reviewer) in enumerate(approvals):
        author = authors[reviewer.email.split("@")[0]]
        share = pending // len(approvals) + (1 if index < pending % len(approvals) else 0)
        posts = [Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, author_id=author.id,
                      caption=f"Waiting for {reviewer.name.split()[0]}'s approval #{number}",
                      status=PostStatus.PENDING_APPROVAL.value, scheduled_at=during_run(), version=1)
                 for number in range(share)]
        db.session.add_all(posts)
        db.session.flush()
        for first in range(0, len(posts), POSTS_PER_LINK):
            _, token = review.issue_link(reviewer, posts[first:first + POSTS_PER_LINK], author)
            tokens.append(token)
    db.session.commit()
    chance.shuffle(tokens)
    return RunPosts(due_during_run=due, pending=pending, review_tokens=tokens)


def staff_logins() -> list[dict]:
    """Each demo staff login with the groups it enters and whether it may open Settings."""
    logins = []
    for _name, local, role, _title in STAFF:
        user = db.session.scalar(select(User).where(User.email == _demo_email(local)))
        groups = sorted(db.session.scalars(select(GroupUser.access_group_id).where(GroupUser.user_id == user.id)))
        logins.append({"email": user.email, "password": DEMO_PASSWORD, "role": role.value, "groups": groups,
                       "settings": role.value in SETTINGS_ROLES})
    return logins


def account_time_zone() -> str:
    """The zone the composer reads dates and times in."""
    return _account().time_zone or "UTC"
