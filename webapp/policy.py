"""The only door: may this user do this action on this object?

Deny by default. An object in a group the user may not enter (or in another account) is hidden and
answered with 404; an object the user sees but may not act on is answered with 403.

Effective rights of user U in access group G (DESIGN.md, Permissions):
- nothing, unless U may enter G (on G's Users tab, or in a user group granted on G), or U is owner;
- the owner has every right in every group of the account;
- otherwise the role's baseline ∪ U's own rights ∪ the rights of every user group U is in.

Everything the answer depends on is loaded once per request, in one query (`load_permissions`).
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from flask import abort, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Integer, Select, String, and_, bindparam, cast, literal, null, or_, select, union_all

from .extensions import db, login_manager
from .models import (
    AccessGroup,
    Account,
    GroupUser,
    MemberRight,
    Membership,
    Post,
    ProfileAccessRemoval,
    ProfileApprover,
    Role,
    SocialProfile,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
    UTCDateTime,
)

RIGHTS: tuple[str, ...] = (
    "posts.view",
    "posts.comment",
    "posts.create",
    "posts.edit",
    "posts.publish",
    "posts.approve",
    "media.view",
    "media.upload",
    "media.move",
    "media.delete",
    "profiles.connect",
    "profiles.manage",
    "campaigns.manage",
    "inbox.manage",
    "analytics.view",
    "group.users",
    "team.invite",
    "organize",
)

# Actions only the owner may take, whatever rights anybody else is given.
OWNER_ACTIONS: frozenset[str] = frozenset({"groups.create", "plan.change", "owner.transfer"})
# Actions for the owner and admins by role (managing access groups: rename, delete, settings).
# members.manage: roles, rights and end dates of members, and user groups;
# access.review: the review of who can enter which group with which rights;
# agency.manage: Settings › Agency (the agency's name, time zone, week, clock and brand);
# activity.view: Settings › Activity, the audit log (an admin sees the events of groups they may enter).
ADMIN_ACTIONS: frozenset[str] = frozenset({"groups.manage", "members.manage", "access.review", "agency.manage",
                                           "activity.view"})
ADMIN_ROLES: frozenset[str] = frozenset({Role.OWNER.value, Role.ADMIN.value})

ROLE_BASELINE: dict[str, frozenset[str]] = {
    Role.OWNER.value: frozenset(RIGHTS),
    Role.ADMIN.value: frozenset(RIGHTS),
    Role.MANAGER.value: frozenset(
        {
            "posts.view",
            "posts.comment",
            "posts.create",
            "posts.edit",
            "posts.publish",
            "media.view",
            "media.upload",
            "media.move",
            "media.delete",
            "profiles.connect",
            "campaigns.manage",
        }
    ),
    Role.CLIENT.value: frozenset({"posts.view", "posts.comment", "profiles.connect"}),
}

# Entering a group (seeing it and what is in it) is not a right one is granted; it follows from
# the Users tab, a user group grant, or ownership.
ENTER = "group.enter"
# Acting on one's own user record (signing out, changing one's password).
SELF = "account.self"
# Seeing an account's own pages (its name, its settings index).
ACCOUNT_VIEW = "account.view"


KNOWN_ACTIONS: frozenset[str] = (
    frozenset(RIGHTS) | OWNER_ACTIONS | ADMIN_ACTIONS | {ENTER, SELF, ACCOUNT_VIEW}
)


class PolicyNotAsked(RuntimeError):
    """A gated view answered without asking the policy: a bug, never shown to the user."""


class Verdict(enum.Enum):
    HIDDEN = 404
    DENIED = 403
    ALLOWED = 200


@dataclass(frozen=True)
class Permissions:
    """What one user may do, as loaded for one request."""

    user_id: int | None
    roles: dict[int, str] = field(default_factory=dict)  # account id -> role
    granted: dict[int, frozenset[str]] = field(default_factory=dict)  # account id -> own ∪ user groups
    groups: dict[int, int] = field(default_factory=dict)  # enterable group id -> its account id
    removed_profiles: frozenset[int] = frozenset()

    def role_in(self, account_id: int) -> str | None:
        return self.roles.get(account_id)

    def is_owner(self, account_id: int) -> bool:
        return self.roles.get(account_id) == Role.OWNER.value

    def account_rights(self, account_id: int) -> frozenset[str]:
        """Rights that hold wherever this user may go in the account."""
        role = self.roles.get(account_id)
        if role is None:
            return frozenset()
        if role == Role.OWNER.value:
            return frozenset(RIGHTS)
        return ROLE_BASELINE[role] | self.granted.get(account_id, frozenset())

    def may_enter(self, access_group_id: int) -> bool:
        return access_group_id in self.groups

    def group_rights(self, access_group_id: int) -> frozenset[str]:
        """Effective rights in one access group: nothing unless the user may enter it."""
        account_id = self.groups.get(access_group_id)
        if account_id is None:
            return frozenset()
        return self.account_rights(account_id)

    @property
    def access_group_ids(self) -> list[int]:
        return sorted(self.groups)


NO_PERMISSIONS = Permissions(user_id=None)


# --- who is live, and who may enter: each path written once --------------------------------------
#
# DESIGN.md: every path to access is live only while it is active and not past its end date. These
# SQL expressions are the only definitions; the permission statement below, the Users-tab counts,
# seats, approver duty, review links and Organize's preview all read them.


def not_ended(column: Any, now: Any) -> Any:
    """SQL: an end date that has not come (no end date, or one after `now`)."""
    return or_(column.is_(None), column > now)


def has_ended(expires_at: datetime | None, now: datetime) -> bool:
    """The same test on a loaded end date, for pages that show it."""
    return expires_at is not None and expires_at <= now


def _columns(table: Any) -> Any:
    """The columns of a model class, or of a table alias (`alias.c`)."""
    return getattr(table, "c", table)


# The table aliases the definitions below read through, made once: building an alias's columns
# costs more than the rest of a definition. Each definition's subqueries name only their own
# aliases as uncorrelated, so the same alias may stand in sibling subqueries of one statement.
_PERSON = User.__table__.alias("live_person")
_GROUP, _TAB, _MEMBER = (AccessGroup.__table__.alias("entry_group"), GroupUser.__table__.alias("entry_tab"),
                         Membership.__table__.alias("entry_member"))
_GRANT, _TEAM, _TEAM_MEMBER = (UserGroupGrant.__table__.alias("entry_grant"), UserGroup.__table__.alias("entry_team"),
                               UserGroupMember.__table__.alias("entry_team_member"))
_SEEN_PROFILE, _REMOVAL = (SocialProfile.__table__.alias("seen_profile"),
                           ProfileAccessRemoval.__table__.alias("seen_removal"))
_DUTY_PROFILE, _DUTY_GROUP, _DUTY_CLIENT = (SocialProfile.__table__.alias("duty_profile"),
                                            AccessGroup.__table__.alias("duty_group"),
                                            Membership.__table__.alias("duty_client"))


def person_active(person: Any = User) -> Any:
    """SQL: the person may sign in at all (nobody deactivated them)."""
    return _columns(person).active.is_(True)


def membership_live(now: Any, membership: Any = Membership) -> Any:
    """SQL: a membership that gives access: not deactivated, not ended, its person may sign in."""
    member, person = _columns(membership), _PERSON
    return and_(
        member.deactivated_at.is_(None),
        not_ended(member.expires_at, now),
        select(person.c.id).where(person.c.id == member.user_id, person_active(person))
        .correlate_except(person).exists(),
    )


def users_tab_entry_live(now: Any, entry: Any = GroupUser) -> Any:
    """SQL: a Users-tab entry that has not ended."""
    return not_ended(_columns(entry).expires_at, now)


def user_group_membership_live(now: Any, member: Any = UserGroupMember) -> Any:
    """SQL: a user-group membership that has not ended."""
    return not_ended(_columns(member).expires_at, now)


def membership_gives_access(membership: Membership, now: datetime) -> bool:
    """`membership_live` on a loaded membership (with its user)."""
    return (membership.deactivated_at is None and not has_ended(membership.expires_at, now)
            and membership.user.active)


# Where an entry into a group comes from, as the statements below label it.
VIA_OWNER = "owner"
VIA_USERS_TAB = "users_tab"
VIA_USER_GROUP = "user_group"


@functools.lru_cache(maxsize=32)  # statements are immutable: the same moment may share them
def _entry_branches(now: Any) -> tuple[tuple[Select, Any, Any], ...]:
    """Each live way into an access group, as (select, its user column, its group column).

    Every select yields (user_id, account_id, access_group_id, via, user_group_id) and demands a
    live membership in the group's own account. It reads its own table aliases, so inside another
    query it correlates only with the columns it is compared to.
    """
    group, tab, member, grant, team, team_member = _GROUP, _TAB, _MEMBER, _GRANT, _TEAM, _TEAM_MEMBER

    def live_member_of(user_column: Any) -> Any:
        return and_(member.c.user_id == user_column, member.c.account_id == group.c.account_id,
                    membership_live(now, member))

    by_users_tab = (
        select(tab.c.user_id.label("user_id"), group.c.account_id.label("account_id"),
               group.c.id.label("access_group_id"), literal(VIA_USERS_TAB).label("via"),
               cast(null(), Integer).label("user_group_id"))
        .select_from(group)
        .join(tab, tab.c.access_group_id == group.c.id)
        .join(member, live_member_of(tab.c.user_id))
        .where(users_tab_entry_live(now, tab))
    )
    by_user_group = (
        select(team_member.c.user_id, group.c.account_id, group.c.id, literal(VIA_USER_GROUP), team.c.id)
        .select_from(group)
        .join(grant, grant.c.access_group_id == group.c.id)
        # Only a user group of the group's own account opens it.
        .join(team, and_(team.c.id == grant.c.user_group_id, team.c.account_id == group.c.account_id))
        .join(team_member, team_member.c.user_group_id == team.c.id)
        .join(member, live_member_of(team_member.c.user_id))
        .where(user_group_membership_live(now, team_member))
    )
    as_owner = (
        select(member.c.user_id, group.c.account_id, group.c.id, literal(VIA_OWNER), cast(null(), Integer))
        .select_from(group)
        .join(member, and_(member.c.account_id == group.c.account_id, membership_live(now, member)))
        .where(member.c.role == Role.OWNER.value)
    )
    # Inside another query a branch correlates with whatever it is compared to, at any depth.
    return (
        (by_users_tab.correlate_except(group, tab, member), tab.c.user_id, group.c.id),
        (by_user_group.correlate_except(group, grant, team, team_member, member), team_member.c.user_id,
         group.c.id),
        (as_owner.correlate_except(group, member), member.c.user_id, group.c.id),
    )


def entry_paths(now: Any, user_ids: Any = None, group_ids: Any = None) -> Any:
    """SQL: every live way into a group (user_id, account_id, access_group_id, via, user_group_id),
    for these people and groups when given (lists, subqueries or expanding parameters)."""
    selects = []
    for statement, user_column, group_column in _entry_branches(now):
        if user_ids is not None:
            statement = statement.where(user_column.in_(user_ids))
        if group_ids is not None:
            statement = statement.where(group_column.in_(group_ids))
        selects.append(statement)
    return union_all(*selects)


def may_enter(user_id: Any, access_group_id: Any, now: Any) -> Any:
    """SQL: the person may enter the group at `now` (columns of the enclosing query, or values)."""
    return or_(*(
        statement.where(user_column == user_id, group_column == access_group_id).exists()
        for statement, user_column, group_column in _entry_branches(now)
    ))


def sees_profile(user_id: Any, social_profile_id: Any, now: Any) -> Any:
    """SQL: the person may see the profile: they may enter its group and did not remove it."""
    profile, removal = _SEEN_PROFILE, _REMOVAL
    return and_(
        select(profile.c.id).where(profile.c.id == social_profile_id,
                                   may_enter(user_id, profile.c.access_group_id, now))
        .correlate_except(profile).exists(),
        ~select(removal.c.user_id).where(removal.c.user_id == user_id,
                                         removal.c.social_profile_id == social_profile_id)
        .correlate_except(removal).exists(),
    )


def may_approve(user_id: Any, social_profile_id: Any, now: Any) -> Any:
    """SQL: approval duty counts: the person is a client of the profile's account who sees it now.

    A stored `ProfileApprover` row is a duty only while this holds; every reader of approvers asks it."""
    profile, group, client = _DUTY_PROFILE, _DUTY_GROUP, _DUTY_CLIENT
    return and_(
        select(profile.c.id)
        .join(group, group.c.id == profile.c.access_group_id)
        .join(client, and_(client.c.account_id == group.c.account_id, client.c.user_id == user_id,
                           client.c.role == Role.CLIENT.value))
        .where(profile.c.id == social_profile_id).correlate_except(profile, group, client).exists(),
        sees_profile(user_id, social_profile_id, now),
    )


def live_approvers(now: Any) -> Select:
    """SQL: the approver rows whose duty counts now (social_profile_id, user_id)."""
    return select(ProfileApprover.social_profile_id, ProfileApprover.user_id).where(
        may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, now))


def entrants_by_group(group_ids: list[int], now: datetime | None = None,
                      include_owner: bool = True) -> dict[int, set[int]]:
    """The people who may enter each group now, in one query."""
    found: dict[int, set[int]] = {group_id: set() for group_id in group_ids}
    if not group_ids:
        return found
    paths = entry_paths(now or datetime.now(timezone.utc), group_ids=list(group_ids)).subquery()
    statement = select(paths.c.access_group_id, paths.c.user_id).distinct()
    if not include_owner:
        statement = statement.where(paths.c.via != VIA_OWNER)
    for group_id, user_id in db.session.execute(statement):
        found[group_id].add(user_id)
    return found


@functools.cache
def _permissions_statement() -> Any:
    """The one query behind `load_permissions`, built once; the users and the time are parameters.

    Each row is (user, kind, account, group, name, user group): a role, a right (with the user
    group it comes from, if any), an entry into a group (`name` says through what), or a profile
    the user removed. The rows keep every path, so `grounds_for` can say why as well as whether.
    """
    user_ids = bindparam("user_ids", expanding=True, type_=Integer)
    now = bindparam("now", type_=UTCDateTime)
    live = and_(Membership.user_id.in_(user_ids), membership_live(now))
    # Typed NULLs, so PostgreSQL can line up the columns of the union.
    no_account = cast(null(), Integer).label("account_id")
    no_group = cast(null(), Integer).label("access_group_id")
    no_name = cast(null(), String).label("name")
    no_user_group = cast(null(), Integer).label("user_group_id")
    user_active = select(
        User.id.label("user_id"), literal("active").label("kind"), no_account, no_group, no_name, no_user_group
    ).where(User.id.in_(user_ids), person_active())
    roles = select(
        Membership.user_id, literal("role"), Membership.account_id, no_group, Membership.role, no_user_group
    ).where(live)
    own_rights = (
        select(Membership.user_id, literal("right"), Membership.account_id, no_group, MemberRight.name,
               no_user_group)
        .join(MemberRight, MemberRight.membership_id == Membership.id)
        .where(live)
    )
    inherited_rights = (
        select(UserGroupMember.user_id, literal("right"), UserGroup.account_id, no_group, UserGroupRight.name,
               UserGroup.id)
        .join(UserGroupMember, UserGroupMember.user_group_id == UserGroup.id)
        .join(UserGroupRight, UserGroupRight.user_group_id == UserGroup.id)
        .where(UserGroupMember.user_id.in_(user_ids), user_group_membership_live(now))
    )
    entries = entry_paths(now, user_ids=user_ids).subquery()
    entry_rows = select(entries.c.user_id, literal("enter"), entries.c.account_id, entries.c.access_group_id,
                        entries.c.via, entries.c.user_group_id)
    removed_profiles = select(
        ProfileAccessRemoval.user_id, literal("removed"), no_account, ProfileAccessRemoval.social_profile_id,
        no_name, no_user_group,
    ).where(ProfileAccessRemoval.user_id.in_(user_ids))
    return union_all(user_active, roles, own_rights, inherited_rights, entry_rows, removed_profiles)


@dataclass(frozen=True)
class Entry:
    """One way into an access group: as owner, on its Users tab, or through a granted user group."""

    via: str
    user_group_id: int | None = None


@dataclass(frozen=True)
class Grounds:
    """What one user's permissions rest on: the permissions, and every path behind them."""

    permissions: Permissions
    entries: dict[int, tuple[Entry, ...]] = field(default_factory=dict)  # group id -> ways in
    own_rights: dict[int, frozenset[str]] = field(default_factory=dict)  # account id -> member's own
    # account id -> right -> the user groups giving it
    inherited: dict[int, dict[str, tuple[int, ...]]] = field(default_factory=dict)


def _grounds_from_rows(user_id: int, rows: list[Any]) -> Grounds:
    if not any(kind == "active" for kind, *_ in rows):
        return Grounds(permissions=NO_PERMISSIONS)  # an inactive user may do nothing at all

    role_by_account: dict[int, str] = {}
    own: dict[int, set[str]] = {}
    inherited: dict[int, dict[str, list[int]]] = {}
    entries: dict[int, list[Entry]] = {}
    group_account: dict[int, int] = {}
    removed: set[int] = set()
    for kind, account_id, access_group_id, name, user_group_id in rows:
        if kind == "role":
            role_by_account[account_id] = name
        elif kind == "right" and name in RIGHTS:
            if user_group_id is None:
                own.setdefault(account_id, set()).add(name)
            else:
                inherited.setdefault(account_id, {}).setdefault(name, []).append(user_group_id)
        elif kind == "enter":
            group_account[access_group_id] = account_id
            entries.setdefault(access_group_id, []).append(Entry(name, user_group_id))
        elif kind == "removed":
            removed.add(access_group_id)
    # Rights and entries only count in accounts where the membership is live.
    live = role_by_account.keys()
    granted = {
        account_id: frozenset(own.get(account_id, set()) | set(inherited.get(account_id, {})))
        for account_id in live if account_id in own or account_id in inherited
    }
    permissions = Permissions(
        user_id=user_id,
        roles=role_by_account,
        granted=granted,
        groups={grp: a for grp, a in group_account.items() if a in live},
        removed_profiles=frozenset(removed),
    )
    order = {VIA_OWNER: 0, VIA_USERS_TAB: 1, VIA_USER_GROUP: 2}
    return Grounds(
        permissions=permissions,
        entries={
            grp: tuple(sorted(set(ways), key=lambda way: (order[way.via], way.user_group_id or 0)))
            for grp, ways in entries.items() if group_account[grp] in live
        },
        own_rights={a: frozenset(rights) for a, rights in own.items() if a in live},
        inherited={
            a: {right: tuple(sorted(set(ids))) for right, ids in by_right.items()}
            for a, by_right in inherited.items() if a in live
        },
    )


def load_grounds(user_ids: list[int], now: datetime | None = None) -> dict[int, Grounds]:
    """The grounds of several users' permissions, in a single query."""
    parameters = {"user_ids": list(user_ids), "now": now or datetime.now(timezone.utc)}
    rows_by_user: dict[int, list[Any]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        for user_id, *row in db.session.execute(_permissions_statement(), parameters):
            rows_by_user[user_id].append(row)
    return {user_id: _grounds_from_rows(user_id, rows) for user_id, rows in rows_by_user.items()}


def load_permissions(user_id: int, now: datetime | None = None) -> Permissions:
    """Everything the policy needs about one user, in a single query."""
    return load_grounds([user_id], now)[user_id].permissions


@dataclass(frozen=True)
class Reason:
    """One path by which a user holds a right or enters a group."""

    kind: str  # "owner", "role", "own", "user_group" (a right); or an Entry's `via` (entry)
    user_group_id: int | None = None


@dataclass(frozen=True)
class Explanation:
    """Yes or no for one user, group and action, with every path that grants it."""

    verdict: Verdict
    role: str | None
    entry: tuple[Reason, ...]
    right: tuple[Reason, ...]  # empty when the action is entering the group

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def explain(grounds: Grounds, action: str, group: AccessGroup) -> Explanation:
    """Why `action` in `group` is allowed or not: the verdict comes from `decide` itself."""
    if action != ENTER and action not in RIGHTS:
        raise ValueError(f"the explainer answers for entering a group or a right, not {action!r}")
    perms = grounds.permissions
    verdict = decide(perms, action, group)
    role = perms.role_in(group.account_id)
    entry = tuple(Reason(way.via, way.user_group_id) for way in grounds.entries.get(group.id, ()))
    right: list[Reason] = []
    if action != ENTER and role is not None:
        if role == Role.OWNER.value:
            right.append(Reason("owner"))
        else:
            if action in ROLE_BASELINE[role]:
                right.append(Reason("role"))
            if action in grounds.own_rights.get(group.account_id, frozenset()):
                right.append(Reason("own"))
            right.extend(Reason("user_group", user_group_id)
                         for user_group_id in grounds.inherited.get(group.account_id, {}).get(action, ()))
    return Explanation(verdict=verdict, role=role, entry=entry, right=tuple(right))


def permissions_for(user: Any) -> Permissions:
    """The permissions of `user`, loaded at most once per request for each user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_PERMISSIONS
    if not has_request_context():
        return load_permissions(user.id)
    cache: dict[int, Permissions] = g.setdefault("_permissions", {})
    if user.id not in cache:
        cache[user.id] = load_permissions(user.id)
    return cache[user.id]


def forget_permissions() -> None:
    """Reload the current user's permissions on next use (after a change that affects them)."""
    if has_request_context():
        g.pop("_permissions", None)


def _mark_asked() -> None:
    if has_request_context():
        g._policy_asked = True


def _group_of(obj: Any) -> int | None:
    if isinstance(obj, AccessGroup):
        return obj.id
    return getattr(obj, "access_group_id", None)


def _profile_of(obj: Any) -> int | None:
    if isinstance(obj, SocialProfile):
        return obj.id
    if isinstance(obj, Post):
        return obj.social_profile_id
    return None


def decide(perms: Permissions, action: str, obj: Any) -> Verdict:
    """The policy itself: a pure function of loaded permissions, an action and an object."""
    if action not in KNOWN_ACTIONS:
        raise ValueError(f"unknown action {action!r}")  # a typo must not silently deny
    if perms.user_id is None:
        return Verdict.HIDDEN
    if isinstance(obj, User):
        if obj.id == perms.user_id and action == SELF:
            return Verdict.ALLOWED
        return Verdict.HIDDEN
    if isinstance(obj, Account):
        if perms.role_in(obj.id) is None:
            return Verdict.HIDDEN
        if action == ACCOUNT_VIEW:
            return Verdict.ALLOWED
        if action in OWNER_ACTIONS:
            return Verdict.ALLOWED if perms.is_owner(obj.id) else Verdict.DENIED
        if action in ADMIN_ACTIONS:
            return Verdict.ALLOWED if perms.role_in(obj.id) in ADMIN_ROLES else Verdict.DENIED
        return Verdict.ALLOWED if action in perms.account_rights(obj.id) else Verdict.DENIED

    access_group_id = _group_of(obj)
    if access_group_id is None or not perms.may_enter(access_group_id):
        return Verdict.HIDDEN
    if _profile_of(obj) in perms.removed_profiles:
        return Verdict.HIDDEN
    if action == ENTER:
        return Verdict.ALLOWED
    if action in OWNER_ACTIONS | ADMIN_ACTIONS:
        role = perms.role_in(perms.groups[access_group_id])
        allowed_roles = ADMIN_ROLES if action in ADMIN_ACTIONS else {Role.OWNER.value}
        return Verdict.ALLOWED if role in allowed_roles else Verdict.DENIED
    return Verdict.ALLOWED if action in perms.group_rights(access_group_id) else Verdict.DENIED


def can(user: Any, action: str, obj: Any) -> bool:
    """May `user` do `action` on `obj`?"""
    _mark_asked()
    return decide(permissions_for(user), action, obj) is Verdict.ALLOWED


def current_permissions() -> Permissions:
    """The signed-in user's permissions; counts as asking the policy."""
    _mark_asked()
    return permissions_for(current_user)


def reaches(perms: Permissions, account_id: int, access_group_ids: Any) -> bool:
    """May this person give entry or rights that reach these groups? Only if they may enter each one.

    DESIGN.md: an admin can give nobody entry to, or rights in, a group the admin cannot enter.
    The owner enters every group of the account."""
    if perms.is_owner(account_id):
        return True
    return all(perms.may_enter(group_id) for group_id in access_group_ids)


def reaches_user_group(perms: Permissions, user_group: UserGroup) -> bool:
    """May this person change the user group? Only if they may enter every group it is granted on."""
    granted = db.session.scalars(
        select(UserGroupGrant.access_group_id).where(UserGroupGrant.user_group_id == user_group.id))
    return reaches(perms, user_group.account_id, granted)


def groups_with(right: str) -> list[int]:
    """Ids of the access groups where the current user holds `right`; counts as asking the policy."""
    if right not in RIGHTS:
        raise ValueError(f"not a right: {right!r}")
    perms = current_permissions()
    return sorted(group_id for group_id in perms.groups if right in perms.group_rights(group_id))


def require_signed_in() -> None:
    """Send an anonymous visitor to sign in (HX-Redirect for htmx)."""
    _mark_asked()
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def authorize(action: str, obj: Any) -> None:
    """Stop the request unless the current user may do `action` on `obj` (404 hidden, 403 denied)."""
    _mark_asked()
    require_signed_in()
    verdict = decide(permissions_for(current_user), action, obj)
    if verdict is not Verdict.ALLOWED:
        abort(verdict.value)


def visible(statement: Select) -> Select:
    """Narrow a select of tenant rows to those in groups the current user may enter."""
    _mark_asked()
    perms = permissions_for(current_user)
    entity = statement.column_descriptions[0]["entity"]
    group_ids = perms.access_group_ids
    if entity is AccessGroup:
        statement = statement.where(AccessGroup.id.in_(group_ids))
    elif hasattr(entity, "access_group_id"):
        statement = statement.where(entity.access_group_id.in_(group_ids))
    else:
        raise TypeError(f"{entity!r} is not scoped by access group")
    if perms.removed_profiles:
        if entity is SocialProfile:
            statement = statement.where(SocialProfile.id.not_in(perms.removed_profiles))
        elif entity is Post:
            statement = statement.where(Post.social_profile_id.not_in(perms.removed_profiles))
    return statement


ModelT = TypeVar("ModelT")


def get_or_404(model: type[ModelT], object_id: int, action: str = ENTER) -> ModelT:
    """Load one tenant object the current user may see, and check `action` on it."""
    require_signed_in()
    found = db.session.scalar(visible(select(model).where(model.id == object_id)))
    if found is None:
        abort(404)
    authorize(action, found)
    return found


def get_in_group_or_404(model: type[ModelT], object_id: int, group: Any, *options: Any) -> ModelT:
    """One object of `group` the current user may see: another group's id is not found, like a hidden one."""
    found = db.session.scalar(
        visible(select(model)).where(model.id == object_id, model.access_group_id == group.id).options(*options))
    if found is None:
        abort(404)
    return found


def public(view: Callable) -> Callable:
    """Mark a view that does its own checks (sign-in, setup, token links, static files)."""
    view._policy_public = True  # type: ignore[attr-defined]
    return view


def is_public(view: Callable | None) -> bool:
    return bool(getattr(view, "_policy_public", False))


def check_policy_was_asked(response: Any) -> Any:
    """After each request: a gated view that never asked the policy may not answer."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or is_public(view) or g.get("_policy_asked") or response.status_code >= 400:
        return response
    current_app.logger.error(
        "view %s answered without asking the policy; response withheld", request.endpoint
    )
    if current_app.config.get("POLICY_ENFORCE", True):
        raise PolicyNotAsked(request.endpoint)
    return response
