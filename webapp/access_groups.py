"""Rules about access groups and who may enter them: create, rename, delete, Users tab."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, union

from . import audit, plans
from .extensions import db
from .models import (
    AccessGroup,
    Account,
    Campaign,
    GroupUser,
    Invitation,
    MediaItem,
    Membership,
    Post,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    utcnow,
)


class AccessGroupError(ValueError):
    """A change to an access group that cannot be made, with the reason to show."""


def normalized_name(name: str) -> str:
    return " ".join((name or "").split())


def _name_taken(account_id: int, name: str, except_id: int | None = None) -> bool:
    query = select(AccessGroup.id).where(
        AccessGroup.account_id == account_id, func.lower(AccessGroup.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(AccessGroup.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def create_access_group(account: Account, name: str, actor: User) -> AccessGroup:
    """A new access group in `account`, within the plan's limit and with a unique name."""
    name = normalized_name(name)
    if not name:
        raise AccessGroupError("Enter a name for the access group.")
    if _name_taken(account.id, name):
        raise AccessGroupError(f"An access group called “{name}” already exists.")
    try:
        plans.check_access_group_limit(account)
    except plans.PlanLimitReached as limit:
        raise AccessGroupError(str(limit)) from None
    group = AccessGroup(account_id=account.id, name=name)
    db.session.add(group)
    db.session.flush()
    audit.record(account.id, actor.id, "access_group.created", "access_group", group.id, after={"name": name})
    return group


def rename_access_group(group: AccessGroup, name: str, actor: User) -> None:
    """Give `group` a new name, unique in its account."""
    name = normalized_name(name)
    if not name:
        raise AccessGroupError("Enter a name for the access group.")
    if _name_taken(group.account_id, name, except_id=group.id):
        raise AccessGroupError(f"An access group called “{name}” already exists.")
    if name == group.name:
        return
    before = group.name
    group.name = name
    audit.record(group.account_id, actor.id, "access_group.renamed", "access_group", group.id,
                 before={"name": before}, after={"name": name})


@dataclass(frozen=True)
class Holdings:
    """What still lives in an access group and so keeps it from being deleted."""

    social_sets: int
    media_items: int
    posts: int
    campaigns: int

    @property
    def empty(self) -> bool:
        return not (self.social_sets or self.media_items or self.posts or self.campaigns)

    def describe(self) -> list[str]:
        parts = []
        for count, one, many in (
            (self.social_sets, "social set", "social sets"),
            (self.media_items, "media item", "media items"),
            (self.posts, "post", "posts"),
            (self.campaigns, "campaign", "campaigns"),
        ):
            if count:
                parts.append(f"{count:,} {one if count == 1 else many}")
        return parts


def holdings(group: AccessGroup) -> Holdings:
    """Count what the group holds, in one query."""
    def counted(model):
        return select(func.count(model.id)).where(model.access_group_id == group.id).scalar_subquery()

    row = db.session.execute(
        select(counted(SocialSet), counted(MediaItem), counted(Post), counted(Campaign))
    ).one()
    return Holdings(*row)


def delete_access_group(group: AccessGroup, actor: User) -> None:
    """Delete an empty, non-default access group."""
    if group.is_default:
        raise AccessGroupError("The default access group cannot be deleted.")
    held = holdings(group)
    if not held.empty:
        raise AccessGroupError(
            f"“{group.name}” still holds {', '.join(held.describe())}. Move or delete them first."
        )
    audit.record(group.account_id, actor.id, "access_group.deleted", "access_group", group.id,
                 before={"name": group.name})
    db.session.delete(group)


# --- the Users tab -------------------------------------------------------------------------------


@dataclass
class GroupEntrant:
    """A user who may enter a group, and how: directly (Users tab) and/or through user groups."""

    user: User
    role: str
    direct: bool = False
    user_groups: list[str] = field(default_factory=list)


def entrants(group: AccessGroup) -> list[GroupEntrant]:
    """Everyone on the group's Users tab or in a user group granted on it, with their role."""
    direct_ids = select(GroupUser.user_id.label("user_id")).where(GroupUser.access_group_id == group.id)
    via_user_groups = (
        select(UserGroupMember.user_id.label("user_id"))
        .join(UserGroupGrant, UserGroupGrant.user_group_id == UserGroupMember.user_group_id)
        .where(UserGroupGrant.access_group_id == group.id)
    )
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, (Membership.user_id == User.id) & (Membership.account_id == group.account_id))
        .where(User.id.in_(union(direct_ids, via_user_groups).subquery().select()))
        .order_by(func.lower(User.name), User.id)
    ).all()
    by_user = {user.id: GroupEntrant(user=user, role=role) for user, role in rows}
    for user_id in db.session.scalars(direct_ids):
        if user_id in by_user:
            by_user[user_id].direct = True
    memberships = db.session.execute(
        select(UserGroupMember.user_id, UserGroup.name)
        .join(UserGroup, UserGroup.id == UserGroupMember.user_group_id)
        .join(UserGroupGrant, UserGroupGrant.user_group_id == UserGroup.id)
        .where(UserGroupGrant.access_group_id == group.id)
        .order_by(UserGroup.name)
    ).all()
    for user_id, user_group_name in memberships:
        if user_id in by_user:
            by_user[user_id].user_groups.append(user_group_name)
    return list(by_user.values())


def add_user(group: AccessGroup, user_id: int, actor: User) -> User:
    """Put an active member of the group's account on its Users tab."""
    member = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.account_id == group.account_id,
               Membership.deactivated_at.is_(None), User.active.is_(True))
    ).first()
    if member is None:
        raise AccessGroupError("Only members who accepted their invitation can be added.")
    user = member[0]
    if db.session.get(GroupUser, (group.id, user.id)) is not None:
        raise AccessGroupError(f"{user.name} is already in “{group.name}”.")
    db.session.add(GroupUser(access_group_id=group.id, user_id=user.id))
    audit.record(group.account_id, actor.id, "access_group.user_added", "access_group", group.id,
                 after={"user_id": user.id, "email": user.email})
    return user


def remove_user(group: AccessGroup, user_id: int, actor: User) -> User:
    """Take a user off the group's Users tab; access ends on their next request."""
    entry = db.session.get(GroupUser, (group.id, user_id))
    if entry is None:
        raise AccessGroupError("That person is not on this group's Users tab.")
    user = db.session.get(User, user_id)
    db.session.delete(entry)
    audit.record(group.account_id, actor.id, "access_group.user_removed", "access_group", group.id,
                 before={"user_id": user.id, "email": user.email})
    return user


@dataclass(frozen=True)
class Candidates:
    """Who the Add User list offers: members not yet in the group, and invitations still pending."""

    members: list[tuple[User, str]]
    pending: list[Invitation]
    more: bool


def candidates(group: AccessGroup, text: str = "", limit: int = 20) -> Candidates:
    """Members of the group's account who may be added, filtered by name or email."""
    pattern = (text or "").strip().lower()
    on_tab = select(GroupUser.user_id).where(GroupUser.access_group_id == group.id)
    member_query = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == group.account_id, Membership.deactivated_at.is_(None),
               User.active.is_(True), User.id.not_in(on_tab))
        .order_by(func.lower(User.name), User.id)
        .limit(limit + 1)
    )
    pending_query = (
        select(Invitation)
        .where(Invitation.account_id == group.account_id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.email)
        .limit(limit)
    )
    if pattern:
        member_query = member_query.where(
            func.lower(User.name).contains(pattern, autoescape=True)
            | User.email.contains(pattern, autoescape=True)
        )
        pending_query = pending_query.where(Invitation.email.contains(pattern, autoescape=True))
    members = [(user, role) for user, role in db.session.execute(member_query).all()]
    return Candidates(members=members[:limit], pending=list(db.session.scalars(pending_query)),
                      more=len(members) > limit)
