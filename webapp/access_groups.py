"""Rules about access groups and who may enter them: create, rename, delete, the Users tab with its
end dates, and the user groups granted on a group."""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, Select, String, and_, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import selectinload

from . import approvals, audit, names, notifications, paging, plans, policy
from .extensions import db
from .models import (
    AccessGroup,
    Account,
    Campaign,
    GroupUser,
    Invitation,
    Membership,
    Post,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    utcnow,
)
from .members import addable_members
from .names import normalized_name
from .policy import VIA_USER_GROUP, VIA_USERS_TAB
from .zones import account_zone, end_of_day


class AccessGroupError(ValueError):
    """A change to an access group that cannot be made, with the reason to show."""


def _name_taken(account_id: int, name: str, except_id: int | None = None) -> bool:
    return names.name_taken(AccessGroup, AccessGroup.account_id, account_id, name, except_id)


def _claiming(account_id: int, name: str, except_id: int | None = None) -> AbstractContextManager[None]:
    return names.claiming(AccessGroup, AccessGroup.account_id, account_id, name, _taken(name), except_id)


def _taken(name: str) -> AccessGroupError:
    return AccessGroupError(f"An access group called “{name}” already exists.")


def create_access_group(account: Account, name: str, actor: User) -> AccessGroup:
    """A new access group in `account`, within the plan's limit and with a unique name."""
    name = normalized_name(name)
    if not name:
        raise AccessGroupError("Enter a name for the access group.")
    if _name_taken(account.id, name):
        raise _taken(name)
    try:
        plans.check_access_group_limit(account)
    except plans.PlanLimitReached as limit:
        raise AccessGroupError(str(limit)) from None
    group = AccessGroup(account_id=account.id, name=name)
    with _claiming(account.id, name):
        db.session.add(group)
    audit.record(account.id, actor.id, "access_group.created", "access_group", group.id, after={"name": name},
                 group_id=group.id)
    return group


def rename_access_group(group: AccessGroup, name: str, actor: User) -> None:
    """Give `group` a new name, unique in its account."""
    name = normalized_name(name)
    if not name:
        raise AccessGroupError("Enter a name for the access group.")
    if _name_taken(group.account_id, name, except_id=group.id):
        raise _taken(name)
    if name == group.name:
        return
    before = group.name
    with _claiming(group.account_id, name, except_id=group.id):
        group.name = name
    audit.record(group.account_id, actor.id, "access_group.renamed", "access_group", group.id,
                 before={"name": before}, after={"name": name}, group_id=group.id)


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
        for count, one, many, bounded in (
            (self.social_sets, "social set", "social sets", True),
            (self.media_items, "media item", "media items", False),  # the group keeps this count exactly
            (self.posts, "post", "posts", True),
            (self.campaigns, "campaign", "campaigns", True),
        ):
            if bounded and count > HELD_COUNTED:
                parts.append(f"more than {HELD_COUNTED:,} {many}")
            elif count:
                parts.append(f"{count:,} {one if count == 1 else many}")
        return parts


HELD_COUNTED = 1000  # rows of a kind counted one by one; beyond, the group holds "more than 1,000"


def holdings(group: AccessGroup) -> Holdings:
    """What the group holds, in one query: its media from the count it keeps, the rest counted up to
    one past HELD_COUNTED, so a group of 100,000 posts costs no more to describe than one of 1,001."""
    def counted(model):
        rows = select(model.id).where(model.access_group_id == group.id).limit(HELD_COUNTED + 1).subquery()
        return select(func.count()).select_from(rows).scalar_subquery()

    social_sets, posts, campaigns = db.session.execute(
        select(counted(SocialSet), counted(Post), counted(Campaign))).one()
    return Holdings(social_sets=social_sets, media_items=group.media_count, posts=posts, campaigns=campaigns)


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
                 before={"name": group.name}, group_id=group.id)
    db.session.delete(group)


# --- the list of groups --------------------------------------------------------------------------

GROUPS_PER_PAGE = 20

# The default group first, then by name; the id orders names that differ only in case.
_LIST_KEY = (case((AccessGroup.is_default, 0), else_=1), func.lower(AccessGroup.name), AccessGroup.id)
_LIST_SHAPE = (int, str, int)


def groups_page(visible: Select, account: Account, text: str = "", cursor: str | None = None,
                size: int = GROUPS_PER_PAGE) -> paging.Page[AccessGroup]:
    """One page of the account's groups among `visible` (the policy's), those whose name contains
    `text` if given, with their social sets and profiles: a fixed number of queries however many groups."""
    statement = visible.where(AccessGroup.account_id == account.id).options(
        selectinload(AccessGroup.social_sets).selectinload(SocialSet.profiles))
    wanted = text.strip().lower()
    if wanted:
        statement = statement.where(func.lower(AccessGroup.name).contains(wanted, autoescape=True))
    return paging.keyset_page_by(statement, _LIST_KEY, _LIST_SHAPE, cursor, size)


@dataclass(frozen=True)
class GroupCounts:
    """What one group's card counts: its social sets, the profiles in them, and the people on its Users
    tab or in a user group granted on it (the owner, who enters every group, left out)."""

    social_sets: int
    profiles: int
    users: int


def group_counts(groups: list[AccessGroup], now: datetime | None = None) -> dict[int, GroupCounts]:
    """The counts of these groups (their sets and profiles already loaded), in one query."""
    people = policy.entrants_by_group([group.id for group in groups], now, include_owner=False)
    return {
        group.id: GroupCounts(
            social_sets=len(group.social_sets),
            profiles=sum(len(social_set.profiles) for social_set in group.social_sets),
            users=len(people[group.id]),
        )
        for group in groups
    }


# --- the Users tab -------------------------------------------------------------------------------
#
# Three things let a member into a group besides ownership: a row on its Users tab (which may end on
# a day), and membership of a user group granted on it (which may end too). The policy reads the
# same rows; here they are shown and changed.


@dataclass(frozen=True)
class EntryPath:
    """One way into a group for one person, and when it ends, if it does."""

    via: str  # VIA_USERS_TAB or VIA_USER_GROUP, as the policy names them
    expires_at: datetime | None
    ends_on: date | None  # the last day of access, in the account's time zone
    ended: bool
    user_group_id: int | None = None
    user_group_name: str | None = None

    @property
    def label(self) -> str:
        return "Users tab" if self.via == VIA_USERS_TAB else f"user group {self.user_group_name}"


@dataclass
class GroupEntrant:
    """A person on the group's Users tab or in a user group granted on it, with every path in."""

    user: User
    role: str
    paths: list[EntryPath] = field(default_factory=list)

    @property
    def direct(self) -> EntryPath | None:
        """The entry on the Users tab, whether it has ended or not."""
        return next((path for path in self.paths if path.via == VIA_USERS_TAB), None)

    @property
    def user_groups(self) -> list[str]:
        """Names of the granted user groups that still let this person in."""
        return [path.user_group_name for path in self.paths if path.via == VIA_USER_GROUP and not path.ended]

    @property
    def may_enter(self) -> bool:
        return any(not path.ended for path in self.paths)


def entrants(group: AccessGroup, now: datetime | None = None) -> list[GroupEntrant]:
    """Everyone with a path into the group, by name; paths past their end date are marked ended."""
    now = now or utcnow()
    zone = account_zone(group.account)
    by_users_tab = select(
        GroupUser.user_id.label("user_id"),
        literal(VIA_USERS_TAB).label("via"),
        cast(null(), Integer).label("user_group_id"),
        cast(null(), String).label("user_group_name"),
        GroupUser.expires_at.label("expires_at"),
    ).where(GroupUser.access_group_id == group.id)
    by_user_group = (
        select(UserGroupMember.user_id, literal(VIA_USER_GROUP), UserGroup.id, UserGroup.name,
               UserGroupMember.expires_at)
        .join(UserGroup, UserGroup.id == UserGroupMember.user_group_id)
        .join(UserGroupGrant, UserGroupGrant.user_group_id == UserGroup.id)
        # Only a user group of the group's own account opens it, as in the policy.
        .where(UserGroupGrant.access_group_id == group.id, UserGroup.account_id == group.account_id)
    )
    paths = union_all(by_users_tab, by_user_group).subquery()
    rows = db.session.execute(
        select(User, Membership.role, paths.c.via, paths.c.user_group_id, paths.c.user_group_name,
               paths.c.expires_at)
        .join(paths, paths.c.user_id == User.id)
        .join(Membership, and_(Membership.user_id == User.id, Membership.account_id == group.account_id))
        .order_by(func.lower(User.name), User.id)
    ).all()
    by_user: dict[int, GroupEntrant] = {}
    for user, role, via, user_group_id, user_group_name, expires_at in rows:
        entrant = by_user.setdefault(user.id, GroupEntrant(user=user, role=role))
        entrant.paths.append(EntryPath(
            via=via,
            expires_at=expires_at,
            ends_on=None if expires_at is None else expires_at.astimezone(zone).date(),
            ended=policy.has_ended(expires_at, now),
            user_group_id=user_group_id,
            user_group_name=user_group_name,
        ))
    for entrant in by_user.values():
        entrant.paths.sort(key=lambda path: (path.via != VIA_USERS_TAB, (path.user_group_name or "").lower()))
    return list(by_user.values())


def _entry_end(group: AccessGroup, ends_on: date | None, now: datetime) -> datetime | None:
    """When an entry ending on `ends_on` ends; a day already past is refused."""
    if ends_on is None:
        return None
    expires_at = end_of_day(group.account, ends_on)
    if expires_at <= now:
        raise AccessGroupError("That end date has passed. Choose today or a later day.")
    return expires_at


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def add_user(group: AccessGroup, user_id: int, actor: User, ends_on: date | None = None,
             now: datetime | None = None) -> User:
    """Put an active member of the group's account on its Users tab, until the end of `ends_on` if given."""
    now = now or utcnow()
    expires_at = _entry_end(group, ends_on, now)
    member = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.account_id == group.account_id, policy.membership_live(now))
    ).first()
    if member is None:
        raise AccessGroupError("Only members who accepted their invitation can be added.")
    user = member[0]
    entry = db.session.get(GroupUser, (group.id, user.id))
    if entry is not None:
        if policy.has_ended(entry.expires_at, now):
            raise AccessGroupError(f"{user.name} is on the Users tab but their access ended: "
                                   "give them a new end date or clear it.")
        raise AccessGroupError(f"{user.name} is already in “{group.name}”.")
    db.session.add(GroupUser(access_group_id=group.id, user_id=user.id, expires_at=expires_at))
    after = {"user_id": user.id, "email": user.email}
    if expires_at is not None:
        after["expires_at"] = _when(expires_at)
    audit.record(group.account_id, actor.id, "access_group.user_added", "access_group", group.id, after=after,
                 group_id=group.id)
    notifications.access_granted_to_group(group, user, actor)
    return user


def set_user_expiry(group: AccessGroup, user_id: int, ends_on: date | None, actor: User,
                    now: datetime | None = None) -> tuple[User, bool]:
    """End someone's Users-tab entry after `ends_on` (account time zone), or never; says if it changed."""
    entry = db.session.get(GroupUser, (group.id, user_id))
    if entry is None:
        raise AccessGroupError("That person is not on this group's Users tab.")
    expires_at = _entry_end(group, ends_on, now or utcnow())
    user = db.session.get(User, user_id)
    if entry.expires_at == expires_at:
        return user, False
    before = entry.expires_at
    entry.expires_at = expires_at
    audit.record(group.account_id, actor.id, "access_group.user_expiry_changed", "access_group", group.id,
                 before={"user_id": user.id, "email": user.email, "expires_at": _when(before)},
                 after={"user_id": user.id, "email": user.email, "expires_at": _when(expires_at)},
                 group_id=group.id)
    return user, True


def remove_user(group: AccessGroup, user_id: int, actor: User) -> User:
    """Take a user off the group's Users tab; access ends on their next request."""
    entry = db.session.get(GroupUser, (group.id, user_id))
    if entry is None:
        raise AccessGroupError("That person is not on this group's Users tab.")
    user = db.session.get(User, user_id)
    db.session.delete(entry)
    audit.record(group.account_id, actor.id, "access_group.user_removed", "access_group", group.id,
                 before={"user_id": user.id, "email": user.email}, group_id=group.id)
    approvals.end_lost_duties(group.account_id, actor, f"{user.name} was removed from “{group.name}”")
    return user


# --- user groups granted on an access group ------------------------------------------------------


@dataclass(frozen=True)
class UserGroupCount:
    """A user group and how many members it has now (memberships past their end date left out)."""

    user_group: UserGroup
    members: int


def _user_groups_with_counts(now: datetime):
    live_members = func.count(case((policy.user_group_membership_live(now), UserGroupMember.user_id)))
    return (
        select(UserGroup, live_members)
        .outerjoin(UserGroupMember, UserGroupMember.user_group_id == UserGroup.id)
        .group_by(UserGroup.id)
        .order_by(func.lower(UserGroup.name), UserGroup.id)
    )


def granted_user_groups(group: AccessGroup, now: datetime | None = None) -> list[UserGroupCount]:
    """The user groups granted on `group`, with their member counts, in one query."""
    granted = select(UserGroupGrant.user_group_id).where(UserGroupGrant.access_group_id == group.id)
    rows = db.session.execute(
        _user_groups_with_counts(now or utcnow())
        .where(UserGroup.account_id == group.account_id, UserGroup.id.in_(granted))
    ).all()
    return [UserGroupCount(user_group, members) for user_group, members in rows]


def account_user_group(group: AccessGroup, user_group_id: int) -> UserGroup | None:
    """The user group with this id in the group's account; one of another account is not found."""
    return db.session.scalar(
        select(UserGroup).where(UserGroup.id == user_group_id, UserGroup.account_id == group.account_id)
    )


def _user_group_within_reach(user_group: UserGroup, actor: User) -> None:
    """Refuse to change the grants of a user group that lets its members into groups the actor cannot enter."""
    if not policy.reaches_user_group(policy.permissions_for(actor), user_group):
        raise AccessGroupError(f"“{user_group.name}” lets its members into access groups you cannot enter, "
                               "so only someone who can enter all of them can change where it is granted.")


def grant_user_group(group: AccessGroup, user_group_id: int, actor: User) -> UserGroup:
    """Let every member of a user group of the same account enter `group`, with the group's rights."""
    user_group = account_user_group(group, user_group_id)
    if user_group is None:
        raise AccessGroupError("Choose a user group of this account.")
    _user_group_within_reach(user_group, actor)
    if db.session.get(UserGroupGrant, (user_group.id, group.id)) is not None:
        raise AccessGroupError(f"The user group “{user_group.name}” can already enter “{group.name}”.")
    db.session.add(UserGroupGrant(user_group_id=user_group.id, access_group_id=group.id))
    audit.record(group.account_id, actor.id, "access_group.user_group_granted", "access_group", group.id,
                 after={"user_group_id": user_group.id, "name": user_group.name}, group_id=group.id)
    return user_group


def revoke_user_group(group: AccessGroup, user_group: UserGroup, actor: User) -> None:
    """Stop a user group letting its members in; each loses entry unless another path remains."""
    _user_group_within_reach(user_group, actor)
    grant = db.session.get(UserGroupGrant, (user_group.id, group.id))
    if grant is None:
        raise AccessGroupError(f"The user group “{user_group.name}” is not granted on “{group.name}”.")
    db.session.delete(grant)
    audit.record(group.account_id, actor.id, "access_group.user_group_revoked", "access_group", group.id,
                 before={"user_group_id": user_group.id, "name": user_group.name}, group_id=group.id)
    approvals.end_lost_duties(group.account_id, actor,
                              f"the user group “{user_group.name}” no longer opens “{group.name}”")


# --- the Add User picker -------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """What the Add User list offers: members not yet in the group, pending invitations, user groups."""

    members: list[tuple[User, str]]
    pending: list[Invitation]
    more: bool
    user_groups: list[UserGroupCount] = field(default_factory=list)
    more_user_groups: bool = False

    @property
    def empty(self) -> bool:
        return not (self.members or self.pending or self.user_groups)


def candidates(group: AccessGroup, text: str = "", limit: int = 20, with_user_groups: bool = False,
               now: datetime | None = None) -> Candidates:
    """Members of the group's account who may be added (and, if asked, user groups), filtered by text."""
    now = now or utcnow()
    pattern = (text or "").strip().lower()
    on_tab = select(GroupUser.user_id).where(GroupUser.access_group_id == group.id)
    found, more = addable_members(group.account_id, on_tab, text, limit, now)
    pending_query = (
        select(Invitation)
        .where(Invitation.account_id == group.account_id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.email)
        .limit(limit)
    )
    granted = select(UserGroupGrant.user_group_id).where(UserGroupGrant.access_group_id == group.id)
    user_group_query = (
        _user_groups_with_counts(now)
        .where(UserGroup.account_id == group.account_id, UserGroup.id.not_in(granted))
        .limit(limit + 1)
    )
    if pattern:
        pending_query = pending_query.where(Invitation.email.contains(pattern, autoescape=True))
        user_group_query = user_group_query.where(func.lower(UserGroup.name).contains(pattern, autoescape=True))
    user_groups: list[UserGroupCount] = []
    if with_user_groups:
        user_groups = [UserGroupCount(user_group, count)
                       for user_group, count in db.session.execute(user_group_query).all()]
    return Candidates(members=found, pending=list(db.session.scalars(pending_query)), more=more, user_groups=user_groups[:limit],
                      more_user_groups=len(user_groups) > limit)
