"""The way in for newcomers: a new group's getting-started checklist, a client's next steps, and whom
to ask for what one may not do oneself.

The checklist's items are facts about the group, whoever looks: each is done once its condition holds,
and the whole list is computed in one query. Who may see, follow or dismiss it is the policy's answer,
asked by the views.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from . import audit, policy
from .extensions import db
from .models import (
    AccessGroup,
    Membership,
    Post,
    PostStatus,
    Role,
    SocialProfile,
    SocialSet,
    User,
    utcnow,
)

# The checklist, in the order a new group is usually set up: key and what it asks for.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("social_set", "Add a social set"),
    ("profiles", "Connect social profiles"),
    ("people", "Add people"),
    ("media", "Upload media"),
    ("post", "Schedule a first post"),
)
# A post counts as scheduled once it has a time and left the drafts (waiting for approval included).
SCHEDULED_STATUSES: tuple[str, ...] = (
    PostStatus.PENDING_APPROVAL.value, PostStatus.APPROVED.value, PostStatus.SCHEDULED.value,
    PostStatus.PUBLISHED.value,
)
# How many people a "who to ask" line names.
ASK_LIMIT = 3


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    group: AccessGroup
    items: tuple[ChecklistItem, ...]

    @property
    def done_count(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)


def progress(group: AccessGroup, now: datetime | None = None) -> dict[str, bool]:
    """Which checklist items hold for the group, in one query."""
    now = now or datetime.now(timezone.utc)
    # Someone besides the owner may enter the group now (on its Users tab or through a user group).
    people = select(Membership.user_id).where(
        Membership.account_id == group.account_id, Membership.role != Role.OWNER.value,
        policy.may_enter(Membership.user_id, group.id, now))
    row = db.session.execute(select(
        exists().where(SocialSet.access_group_id == group.id).label("social_set"),
        exists().where(SocialProfile.access_group_id == group.id).label("profiles"),
        people.exists().label("people"),
        exists().where(Post.access_group_id == group.id, Post.scheduled_at.is_not(None),
                       Post.status.in_(SCHEDULED_STATUSES)).label("post"),
    )).one()
    found = row._asdict()
    # The library keeps its own count (webapp/media.py), so media needs no query.
    found["media"] = group.media_count > 0
    return {key: bool(found[key]) for key, _ in CHECKLIST}


def checklist(group: AccessGroup) -> Checklist | None:
    """The group's checklist while it is worth showing: None once dismissed or once every item is done."""
    if group.checklist_dismissed_at is not None:
        return None
    done = progress(group)
    shown = Checklist(group=group, items=tuple(ChecklistItem(key, label, done[key]) for key, label in CHECKLIST))
    return None if shown.complete else shown


def dismiss_checklist(group: AccessGroup, actor: User) -> None:
    """Put the group's checklist away for everyone; dismissing it twice changes nothing."""
    if group.checklist_dismissed_at is not None:
        return
    group.checklist_dismissed_at = utcnow()
    audit.record(group.account_id, actor.id, "access_group.checklist_dismissed", "access_group", group.id,
                 after={"name": group.name}, group_id=group.id)


def who_to_ask(group: AccessGroup, limit: int = ASK_LIMIT) -> list[User]:
    """The people who manage the group (the owner and the admins who may enter it), owner first."""
    now = datetime.now(timezone.utc)
    return list(db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == group.account_id, Membership.role.in_(policy.ADMIN_ROLES),
               policy.may_enter(User.id, group.id, now))
        .order_by(Membership.role != Role.OWNER.value, User.name, User.id)
        .limit(limit)
    ))


def agency_contacts(user: User, limit: int = ASK_LIMIT) -> list[User]:
    """The owners and admins of the agencies `user` is a member of, for someone who may enter no group yet."""
    own = aliased(Membership)
    return list(db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role.in_(policy.ADMIN_ROLES), User.id != user.id,
               policy.membership_live(datetime.now(timezone.utc)),
               Membership.account_id.in_(select(own.account_id).where(own.user_id == user.id)))
        .order_by(Membership.role != Role.OWNER.value, User.name, User.id)
        .limit(limit)
    ))


@dataclass(frozen=True)
class ClientStart:
    """Where a client stands in a group: whether it has social sets yet, and whether they connected a profile."""

    has_social_sets: bool
    connected: bool


def client_start(social_sets: list[SocialSet], user: User) -> ClientStart:
    """A client's next steps, read from the group's sets and profiles the page already loaded."""
    return ClientStart(
        has_social_sets=bool(social_sets),
        connected=any(profile.connected_by_id == user.id
                      for social_set in social_sets for profile in social_set.profiles),
    )
