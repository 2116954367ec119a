"""Rules about user groups: named sets of members whose rights every member inherits.

A user group lives in one account. Its members get its rights on top of their role's baseline and
their own rights (the policy takes the union), and a grant on an access group lets every member in.
A membership may end on a day; after it the membership gives nothing, and pages say it ended.

Functions here take the session's objects and flush; the caller commits (or rolls back on error).
"""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, delete, func, select

from . import approvals, audit, names, notifications, plans, policy
from .extensions import db
from .models import (
    AccessGroup,
    Account,
    Membership,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
    utcnow,
)
from .members import addable_members
from .names import normalized_name
from .rights import SEAT_RIGHTS
from .zones import end_of_day, local_day

# The icons a user group may show, drawn by templates/user_groups/_icon.html.
ICONS: dict[str, str] = {
    "users": "People",
    "star": "Star",
    "briefcase": "Briefcase",
    "camera": "Camera",
    "megaphone": "Megaphone",
    "shield": "Shield",
    "heart": "Heart",
    "chart": "Chart",
}
DEFAULT_ICON = "users"
NAME_MAX = 120
DESCRIPTION_MAX = 2000


class UserGroupError(ValueError):
    """A change to a user group that cannot be made; nothing was changed. The message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BeyondReach(UserGroupError):
    """The user group lets its members into access groups the actor may not enter: they may not change it."""

    def __init__(self, user_group: UserGroup) -> None:
        super().__init__(f"“{user_group.name}” lets its members into access groups you cannot enter, "
                         "so only someone who can enter all of them can change it.")


# --- reading -------------------------------------------------------------------------------------


def find(account: Account, user_group_id: int) -> UserGroup | None:
    """The user group with this id in this account; one of another account is not found."""
    return db.session.scalar(
        select(UserGroup).where(UserGroup.id == user_group_id, UserGroup.account_id == account.id)
    )


@dataclass(frozen=True)
class UserGroupSummary:
    """A user group as the index lists it."""

    user_group: UserGroup
    members: int  # live memberships
    ended: int  # memberships whose end date has passed


def summaries(account: Account, now: datetime | None = None) -> list[UserGroupSummary]:
    """Every user group of the account with its member counts, by name, in one query."""
    now = now or utcnow()
    live = func.count(case((policy.user_group_membership_live(now), UserGroupMember.user_id)))
    ended = func.count(case((~policy.user_group_membership_live(now), UserGroupMember.user_id)))
    rows = db.session.execute(
        select(UserGroup, live, ended)
        .outerjoin(UserGroupMember, UserGroupMember.user_group_id == UserGroup.id)
        .where(UserGroup.account_id == account.id)
        .group_by(UserGroup.id)
        .order_by(func.lower(UserGroup.name), UserGroup.id)
    ).all()
    return [UserGroupSummary(user_group, members, ended_count) for user_group, members, ended_count in rows]


def rights_of(user_group: UserGroup) -> frozenset[str]:
    """The rights every member of the group inherits."""
    return frozenset(db.session.scalars(
        select(UserGroupRight.name).where(UserGroupRight.user_group_id == user_group.id)
    ))


@dataclass(frozen=True)
class GroupMember:
    """A member of a user group: who, their role in the account, and when the membership ends."""

    user: User
    role: str
    expires_at: datetime | None
    ends_on: date | None  # the last day, in the account's time zone
    ended: bool


def members(account: Account, user_group: UserGroup, now: datetime | None = None) -> list[GroupMember]:
    """The group's members with their role, by name, in one query."""
    now = now or utcnow()
    rows = db.session.execute(
        select(User, Membership.role, UserGroupMember.expires_at)
        .join(UserGroupMember, UserGroupMember.user_id == User.id)
        .join(Membership, and_(Membership.user_id == User.id, Membership.account_id == account.id))
        .where(UserGroupMember.user_group_id == user_group.id)
        .order_by(func.lower(User.name), User.id)
    ).all()
    return [
        GroupMember(
            user=user, role=role, expires_at=expires_at,
            ends_on=local_day(account, expires_at) if expires_at else None,
            ended=policy.has_ended(expires_at, now),
        )
        for user, role, expires_at in rows
    ]


@dataclass(frozen=True)
class Belonging:
    """A user group one member is in: what it gives them, and until when."""

    user_group: UserGroup
    rights: tuple[str, ...]  # the rights it gives, in the policy's order
    access_groups: tuple[str, ...]  # the names of the access groups it lets its members enter
    ends_on: date | None  # the membership's last day, in the account's time zone
    ended: bool
    unseen_access_groups: int = 0  # more it lets them enter, outside the groups the viewer may see


def groups_of(account: Account, user_id: int, now: datetime | None = None,
              within: Iterable[int] | None = None) -> list[Belonging]:
    """The user groups a member is in, by name, with their rights and grants, in three queries.

    With `within` (the groups the viewer may enter), other access groups are counted, not named."""
    now = now or utcnow()
    rows = db.session.execute(
        select(UserGroup, UserGroupMember.expires_at)
        .join(UserGroupMember, UserGroupMember.user_group_id == UserGroup.id)
        .where(UserGroup.account_id == account.id, UserGroupMember.user_id == user_id)
        .order_by(func.lower(UserGroup.name), UserGroup.id)
    ).all()
    ids = [user_group.id for user_group, _ in rows]
    rights: dict[int, set[str]] = {}
    entries: dict[int, list[str]] = {}
    unseen: dict[int, int] = {}
    seen = None if within is None else set(within)
    if ids:
        for user_group_id, name in db.session.execute(
                select(UserGroupRight.user_group_id, UserGroupRight.name)
                .where(UserGroupRight.user_group_id.in_(ids))):
            rights.setdefault(user_group_id, set()).add(name)
        for user_group_id, group_id, name in db.session.execute(
                select(UserGroupGrant.user_group_id, AccessGroup.id, AccessGroup.name)
                .join(AccessGroup, AccessGroup.id == UserGroupGrant.access_group_id)
                .where(UserGroupGrant.user_group_id.in_(ids), AccessGroup.account_id == account.id)
                .order_by(func.lower(AccessGroup.name), AccessGroup.id)):
            if seen is None or group_id in seen:
                entries.setdefault(user_group_id, []).append(name)
            else:
                unseen[user_group_id] = unseen.get(user_group_id, 0) + 1
    return [
        Belonging(
            user_group=user_group,
            rights=tuple(right for right in policy.RIGHTS if right in rights.get(user_group.id, ())),
            access_groups=tuple(entries.get(user_group.id, ())),
            ends_on=local_day(account, expires_at) if expires_at else None,
            ended=policy.has_ended(expires_at, now),
            unseen_access_groups=unseen.get(user_group.id, 0),
        )
        for user_group, expires_at in rows
    ]


def granted_groups(user_group: UserGroup) -> list[AccessGroup]:
    """The access groups the user group is granted on, by name."""
    return list(db.session.scalars(
        select(AccessGroup)
        .join(UserGroupGrant, UserGroupGrant.access_group_id == AccessGroup.id)
        .where(UserGroupGrant.user_group_id == user_group.id, AccessGroup.account_id == user_group.account_id)
        .order_by(func.lower(AccessGroup.name), AccessGroup.id)
    ))


@dataclass(frozen=True)
class Candidates:
    """Whom the member picker offers: active members not (or no longer) in the group."""

    members: list[tuple[User, str]]
    more: bool


def candidates(account: Account, user_group: UserGroup, text: str = "", limit: int = 20,
               now: datetime | None = None) -> Candidates:
    """Active members of the account who may be added, filtered by name or email, at most `limit`."""
    now = now or utcnow()
    in_group = select(UserGroupMember.user_id).where(
        UserGroupMember.user_group_id == user_group.id, policy.user_group_membership_live(now)
    )
    found, more = addable_members(account.id, in_group, text, limit, now)
    return Candidates(members=found, more=more)


@dataclass(frozen=True)
class DeletionImpact:
    """What deleting a user group takes away: its live members lose its rights and these entries."""

    members: int
    access_groups: list[str]


def beyond_reach(user_group: UserGroup, actor: User) -> bool:
    """The group is granted on an access group the actor may not enter, so its members, rights,
    grants and end dates are not the actor's to change (the owner enters every group)."""
    return not policy.reaches_user_group(policy.permissions_for(actor), user_group)


def _within_reach(user_group: UserGroup, actor: User) -> None:
    if beyond_reach(user_group, actor):
        raise BeyondReach(user_group)


# --- changing ------------------------------------------------------------------------------------


def _name_taken(account_id: int, name: str, except_id: int | None = None) -> bool:
    return names.name_taken(UserGroup, UserGroup.account_id, account_id, name, except_id)


def _claiming(account_id: int, name: str, except_id: int | None = None) -> AbstractContextManager[None]:
    return names.claiming(UserGroup, UserGroup.account_id, account_id, name, _taken(name), except_id)


def _taken(name: str) -> UserGroupError:
    return UserGroupError(f"A user group called “{name}” already exists.", field="name")


def _checked_name(account_id: int, name: str | None, except_id: int | None = None) -> str:
    name = normalized_name(name)
    if not name:
        raise UserGroupError("Enter a name for the user group.", field="name")
    if len(name) > NAME_MAX:
        raise UserGroupError(f"Keep the name to {NAME_MAX} characters.", field="name")
    if _name_taken(account_id, name, except_id):
        raise _taken(name)
    return name


def create_user_group(account: Account, name: str, actor: User) -> UserGroup:
    """A new, empty user group with a name unique in the account."""
    name = _checked_name(account.id, name)
    user_group = UserGroup(account_id=account.id, name=name, description="", icon=DEFAULT_ICON)
    with _claiming(account.id, name):
        db.session.add(user_group)
    audit.record(account.id, actor.id, "user_group.created", "user_group", user_group.id,
                 after={"name": name})
    return user_group


def update_user_group(user_group: UserGroup, name: str, description: str, icon: str, actor: User) -> bool:
    """Change the title, description and icon; returns whether anything changed."""
    _within_reach(user_group, actor)
    name = _checked_name(user_group.account_id, name, except_id=user_group.id)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise UserGroupError(f"Keep the description to {DESCRIPTION_MAX} characters.", field="description")
    if icon not in ICONS:
        raise UserGroupError("Choose one of the icons shown.", field="icon")
    before = {"name": user_group.name, "description": user_group.description, "icon": user_group.icon}
    after = {"name": name, "description": description, "icon": icon}
    if before == after:
        return False
    with _claiming(user_group.account_id, name, except_id=user_group.id):
        user_group.name, user_group.description, user_group.icon = name, description, icon
    audit.record(user_group.account_id, actor.id, "user_group.updated", "user_group", user_group.id,
                 before=before, after=after)
    return True


def _has_clients(account: Account, user_group: UserGroup, now: datetime) -> bool:
    return db.session.scalar(
        select(UserGroupMember.user_id)
        .join(Membership, and_(Membership.user_id == UserGroupMember.user_id,
                               Membership.account_id == account.id))
        .where(UserGroupMember.user_group_id == user_group.id, policy.user_group_membership_live(now),
               Membership.role == Role.CLIENT.value)
        .limit(1)
    ) is not None


def _check_seats(account: Account, used_before: int | None) -> None:
    """Refuse the flushed change when it took a team seat the plan does not have."""
    if used_before is None:
        return
    try:
        plans.check_seats_after_change(account, used_before)
    except plans.PlanLimitReached as limit:
        raise UserGroupError(str(limit)) from None


def set_rights(account: Account, user_group: UserGroup, rights: Iterable[str], actor: User) -> bool:
    """Replace the group's rights; returns whether they changed. Refused past the plan's seats."""
    _within_reach(user_group, actor)
    chosen = set(rights)
    unknown = chosen - set(policy.RIGHTS)
    if unknown:
        raise UserGroupError("Choose rights from the list shown.", field="rights")
    current = set(rights_of(user_group))
    if chosen == current:
        return False
    now = utcnow()
    # Clients who may now publish through the group take a team seat.
    used = (plans.seats_before_change(account)
            if (chosen - current) & SEAT_RIGHTS and _has_clients(account, user_group, now) else None)
    removed, added = current - chosen, chosen - current
    if removed:
        db.session.execute(delete(UserGroupRight).where(
            UserGroupRight.user_group_id == user_group.id, UserGroupRight.name.in_(removed)))
    db.session.add_all(UserGroupRight(user_group_id=user_group.id, name=name) for name in sorted(added))
    user_group.updated_at = now
    db.session.flush()
    _check_seats(account, used)
    audit.record(account.id, actor.id, "user_group.rights_changed", "user_group", user_group.id,
                 before={"rights": sorted(current)}, after={"rights": sorted(chosen)})
    return True


def add_member(account: Account, user_group: UserGroup, user_id: int, expires_on: date | None,
               actor: User, today: date | None = None) -> User:
    """Put an active member of the account in the group, until the end of `expires_on` if given.

    A member whose membership ended is given a new one. Refused past the plan's seats.
    """
    _within_reach(user_group, actor)
    now = utcnow()
    today = today or local_day(account, now)
    if expires_on is not None and expires_on < today:
        raise UserGroupError("That end date has passed. Choose today or a later day.", field="expires_on")
    found = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.account_id == account.id, policy.membership_live(now))
    ).first()
    if found is None:
        raise UserGroupError("Only active members of the team can be added.", field="user_id")
    user, role = found
    expires_at = end_of_day(account, expires_on) if expires_on else None
    existing = db.session.get(UserGroupMember, (user_group.id, user.id))
    if existing is not None and not policy.has_ended(existing.expires_at, now):
        raise UserGroupError(f"{user.name} is already in “{user_group.name}”.", field="user_id")
    takes_seat = role == Role.CLIENT.value and bool(rights_of(user_group) & SEAT_RIGHTS)
    used = plans.seats_before_change(account) if takes_seat else None
    before = None
    if existing is not None:
        before = {"user_id": user.id, "expires_at": existing.expires_at.isoformat()}
        existing.expires_at = expires_at
    else:
        db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=user.id, expires_at=expires_at))
    user_group.updated_at = now
    db.session.flush()
    _check_seats(account, used)
    audit.record(account.id, actor.id, "user_group.member_added", "user_group", user_group.id, before=before,
                 after={"user_id": user.id, "email": user.email,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    notifications.access_granted_by_user_group(user_group, user, actor)
    return user


def remove_member(user_group: UserGroup, user_id: int, actor: User) -> User:
    """Take one member out of the group: its rights and entries end on their next request."""
    _within_reach(user_group, actor)
    entry = db.session.get(UserGroupMember, (user_group.id, user_id))
    if entry is None:
        raise UserGroupError("That person is not in this user group.", field="user_id")
    user = db.session.get(User, user_id)
    before = {"user_id": user.id, "email": user.email,
              "expires_at": entry.expires_at.isoformat() if entry.expires_at else None}
    db.session.delete(entry)
    user_group.updated_at = utcnow()
    db.session.flush()
    audit.record(user_group.account_id, actor.id, "user_group.member_removed", "user_group", user_group.id,
                 before=before)
    approvals.end_lost_duties(user_group.account_id, actor, f"{user.name} left the user group “{user_group.name}”")
    return user


def clear_members(user_group: UserGroup, actor: User) -> int:
    """Take everyone out of the group; returns how many memberships ended."""
    _within_reach(user_group, actor)
    user_ids = sorted(db.session.scalars(
        select(UserGroupMember.user_id).where(UserGroupMember.user_group_id == user_group.id)
    ))
    if not user_ids:
        return 0
    db.session.execute(delete(UserGroupMember).where(UserGroupMember.user_group_id == user_group.id))
    user_group.updated_at = utcnow()
    db.session.flush()
    audit.record(user_group.account_id, actor.id, "user_group.members_cleared", "user_group", user_group.id,
                 before={"user_ids": user_ids}, after={"user_ids": []})
    approvals.end_lost_duties(user_group.account_id, actor, f"the user group “{user_group.name}” was emptied")
    return len(user_ids)


def set_grants(user_group: UserGroup, access_group_ids: Iterable[int], offered_ids: Iterable[int],
               actor: User) -> bool:
    """Grant the group on exactly the chosen access groups among those offered to the actor.

    Grants on groups the actor was not offered (ones they may not enter) are kept as they are.
    Returns whether the grants changed.
    """
    _within_reach(user_group, actor)
    chosen, offered = set(access_group_ids), set(offered_ids)
    if not chosen <= offered:
        raise UserGroupError("Choose access groups from the list shown.", field="access_groups")
    current = set(db.session.scalars(
        select(UserGroupGrant.access_group_id).where(UserGroupGrant.user_group_id == user_group.id)
    ))
    wanted = chosen | (current - offered)
    if wanted == current:
        return False
    removed, added = current - wanted, wanted - current
    if removed:
        db.session.execute(delete(UserGroupGrant).where(
            UserGroupGrant.user_group_id == user_group.id, UserGroupGrant.access_group_id.in_(removed)))
    db.session.add_all(UserGroupGrant(user_group_id=user_group.id, access_group_id=group_id)
                       for group_id in sorted(added))
    user_group.updated_at = utcnow()
    db.session.flush()
    audit.record(user_group.account_id, actor.id, "user_group.grants_changed", "user_group", user_group.id,
                 before={"access_group_ids": sorted(current)}, after={"access_group_ids": sorted(wanted)})
    if removed:
        approvals.end_lost_duties(user_group.account_id, actor,
                                  f"the user group “{user_group.name}” no longer opens some access groups")
    if added:
        notifications.access_granted_by_grant(user_group, sorted(added), actor)
    return True


def delete_user_group(user_group: UserGroup, actor: User) -> None:
    """Delete the group: its members lose its rights and the entries it gave, at their next request."""
    _within_reach(user_group, actor)
    before = {
        "name": user_group.name,
        "rights": sorted(rights_of(user_group)),
        "member_ids": sorted(db.session.scalars(
            select(UserGroupMember.user_id).where(UserGroupMember.user_group_id == user_group.id))),
        "access_group_ids": [group.id for group in granted_groups(user_group)],
    }
    audit.record(user_group.account_id, actor.id, "user_group.deleted", "user_group", user_group.id,
                 before=before)
    # The rows that hang off the group go first: SQLite only cascades with foreign keys switched on.
    for model in (UserGroupMember, UserGroupRight, UserGroupGrant):
        db.session.execute(delete(model).where(model.user_group_id == user_group.id))
    db.session.delete(user_group)
    db.session.flush()
    approvals.end_lost_duties(user_group.account_id, actor, f"the user group “{user_group.name}” was deleted")
