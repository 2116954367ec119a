"""Rules about one member of an account: their role, ownership, own rights, approver duty and end date.

Who may change whom: the owner changes everyone but themselves; an admin changes managers and clients;
nobody changes their own role, rights or end date. The owner's role changes only by a transfer of
ownership, which only the owner makes. A change that takes a team seat the plan does not have is
refused with the plan's message, and nothing is changed (the caller rolls back).

Leaving follows the same lines: the owner and admins deactivate, reactivate or remove members within
their reach, never the owner or themselves. What such a member made stays, and the agency names them
a former member once they are removed (`shown_names`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import aliased, contains_eager, selectinload

from . import accounts, approvals, audit, plans, policy
from .extensions import db
from .invitations import roles_to_offer
from .models import (
    AccessGroup,
    Account,
    GroupUser,
    MemberRight,
    Membership,
    Notification,
    ProfileAccessRemoval,
    ProfileApprover,
    ReviewLink,
    Role,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    utcnow,
)
from .policy import ROLE_BASELINE
from .rights import CLIENT_GRANT_RIGHTS, CLIENT_GRANTS, RIGHT_LABELS, ClientGrant, extra_rights_for
from .team import ROLE_LABELS
from .zones import end_of_day


class MemberError(ValueError):
    """A change to a member that is refused; nothing was changed. The message says why."""


class BeyondReach(MemberError):
    """The member enters access groups the editor may not enter, so their role, rights and end date
    are not the editor's to change (DESIGN.md: an admin gives nobody rights in a group they cannot enter)."""


# --- reading -------------------------------------------------------------------------------------


def membership_of(account: Account, user_id: int) -> Membership | None:
    """The membership of `user_id` in `account` with its user, or None when they are not a member."""
    return db.session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account.id, Membership.user_id == user_id)
        .options(contains_eager(Membership.user), selectinload(Membership.rights))
    )


def owner_membership(account: Account) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.role == Role.OWNER.value)
    )


def own_rights(membership: Membership) -> set[str]:
    return {right.name for right in membership.rights}


def is_live(membership: Membership, now: datetime | None = None) -> bool:
    """The membership gives access now, as the policy defines it."""
    return policy.membership_gives_access(membership, now or utcnow())


# --- who may change whom -------------------------------------------------------------------------


def entered_groups(account_id: int, user_id: int, now: datetime | None = None) -> list[tuple[int, str]]:
    """The account's access groups the person is let into (id, name), by name: through the Users tab or
    a user group, whatever their membership's state (a deactivated member keeps them for later)."""
    now = now or utcnow()
    by_users_tab = select(GroupUser.access_group_id).where(
        GroupUser.user_id == user_id, policy.users_tab_entry_live(now))
    by_user_group = (
        select(UserGroupGrant.access_group_id)
        .join(UserGroupMember, UserGroupMember.user_group_id == UserGroupGrant.user_group_id)
        .join(UserGroup, UserGroup.id == UserGroupGrant.user_group_id)
        .where(UserGroupMember.user_id == user_id, UserGroup.account_id == account_id,
               policy.user_group_membership_live(now))
    )
    return [(group_id, name) for group_id, name in db.session.execute(
        select(AccessGroup.id, AccessGroup.name)
        .where(AccessGroup.account_id == account_id,
               or_(AccessGroup.id.in_(by_users_tab), AccessGroup.id.in_(by_user_group)))
        .order_by(func.lower(AccessGroup.name), AccessGroup.id))]


def _beyond_reach(editor: User, membership: Membership, what: str,
                  entered: list[tuple[int, str]] | None = None) -> str | None:
    """Why the member is out of the editor's reach (they enter groups the editor cannot), or None;
    `what` is the change only the owner may then make.

    `entered`: the member's `entered_groups`, when the caller has them already."""
    if entered is None:
        entered = entered_groups(membership.account_id, membership.user_id)
    theirs = [group_id for group_id, _ in entered]
    if policy.reaches(policy.permissions_for(editor), membership.account_id, theirs):
        return None
    return f"{membership.user.name} can enter access groups you cannot enter, so only the owner can {what}."


@dataclass(frozen=True)
class _RefusalWords:
    """How one kind of change to a member words the refusals of the rule of who may change whom."""

    themselves: str
    owner: str
    admin: str
    beyond_reach: str  # what only the owner can do to a member beyond the editor's reach


_CHANGING = _RefusalWords(
    "Nobody can change their own role, rights or end date.",
    "The owner's role and access change only when the owner transfers ownership.",
    "Only the owner can change an admin.",
    "change their role, rights or end date",
)
_LEAVING = _RefusalWords(
    "Nobody can deactivate or remove themselves.",
    "The owner cannot be deactivated or removed: transfer ownership to someone else first.",
    "Only the owner can deactivate or remove an admin.",
    "deactivate or remove them",
)


def _refusal(words: _RefusalWords, editor: User, editor_role: str | None, membership: Membership, reach: bool,
             entered: list[tuple[int, str]] | None) -> str | None:
    """The rule of who may change whom, worded for one kind of change; None when the editor may."""
    if membership.user_id == editor.id:
        return words.themselves
    if editor_role not in policy.ADMIN_ROLES:
        return "Only the owner and admins can change members."
    if membership.role == Role.OWNER.value:
        return words.owner
    if membership.role == Role.ADMIN.value and editor_role != Role.OWNER.value:
        return words.admin
    return _beyond_reach(editor, membership, words.beyond_reach, entered) if reach else None


def refusal(editor: User, editor_role: str | None, membership: Membership, reach: bool = True,
            entered: list[tuple[int, str]] | None = None) -> str | None:
    """Why `editor` may not change this member's role, rights or end date; None when they may.

    Without `reach`, a member who enters groups the editor cannot is not refused for that (approver
    duty is only ever changed within the editor's groups)."""
    return _refusal(_CHANGING, editor, editor_role, membership, reach, entered)


def _check_editable(editor: User, editor_role: str | None, membership: Membership, reach: bool = True) -> None:
    reason = refusal(editor, editor_role, membership, reach=False)
    if reason:
        raise MemberError(reason)
    beyond = _beyond_reach(editor, membership, _CHANGING.beyond_reach) if reach else None
    if beyond:
        raise BeyondReach(beyond)


def assignable_rights(role: str) -> frozenset[str]:
    """Own rights a member of `role` can be given: for clients only the client grants' rights."""
    if role == Role.CLIENT.value:
        return CLIENT_GRANT_RIGHTS - ROLE_BASELINE[role]
    if role == Role.OWNER.value:
        return frozenset()
    return extra_rights_for(role)


def rights_for_grants(keys: list[str]) -> set[str]:
    """The rights behind the chosen client grants (Publish, Social inbox, Analytics)."""
    by_key = {grant.key: grant for grant in CLIENT_GRANTS}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise MemberError("Choose among Publish, Social inbox and Analytics.")
    return set().union(*(by_key[key].rights for key in keys))


def granted(rights: set[str]) -> list[ClientGrant]:
    """The client grants whose every right is in `rights`."""
    return [grant for grant in CLIENT_GRANTS if grant.rights <= rights]


def _replace_rights(membership: Membership, names: set[str]) -> None:
    """Make the member's own rights exactly `names` (rows only added or removed, never rewritten)."""
    for right in list(membership.rights):
        if right.name not in names:
            membership.rights.remove(right)
    present = own_rights(membership)
    membership.rights.extend(MemberRight(name=name) for name in sorted(names - present))
    db.session.flush()


# --- approver duty ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApproverChoice:
    """A profile a client can see, whether they approve its posts, and how many others do."""

    profile: SocialProfile
    social_set: str
    access_group: str
    approver: bool
    other_approvers: int

    @property
    def last_approver(self) -> bool:
        """Posts for this profile need approval and nobody else gives it."""
        return self.approver and self.profile.needs_approval and self.other_approvers == 0


def approver_choices(account: Account, member: User, within: Iterable[int] | None = None) -> list[ApproverChoice]:
    """The profiles `member` can see in `account` (the ones they may approve), in three queries.

    `within`, when given, narrows them to those groups: the ones the editor may enter."""
    perms = policy.permissions_for(member)
    group_ids = [group_id for group_id, account_id in perms.groups.items() if account_id == account.id]
    if within is not None:
        group_ids = sorted(set(group_ids) & set(within))
    if not group_ids:
        return []
    statement = (
        select(SocialProfile, SocialSet.name, AccessGroup.name)
        .join(SocialSet, SocialSet.id == SocialProfile.social_set_id)
        .join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(SocialProfile.access_group_id.in_(group_ids))
        .order_by(func.lower(AccessGroup.name), AccessGroup.id, SocialSet.position, SocialSet.id,
                  SocialProfile.network)
    )
    if perms.removed_profiles:
        statement = statement.where(SocialProfile.id.not_in(perms.removed_profiles))
    rows = db.session.execute(statement).all()
    if not rows:
        return []
    approvers = db.session.execute(
        select(ProfileApprover.social_profile_id, ProfileApprover.user_id)
        .where(ProfileApprover.social_profile_id.in_([profile.id for profile, _, _ in rows]))
    ).all()
    mine = {profile_id for profile_id, user_id in approvers if user_id == member.id}
    others: dict[int, int] = {}
    for profile_id, user_id in approvers:
        if user_id != member.id:
            others[profile_id] = others.get(profile_id, 0) + 1
    return [ApproverChoice(profile=profile, social_set=set_name, access_group=group_name,
                           approver=profile.id in mine, other_approvers=others.get(profile.id, 0))
            for profile, set_name, group_name in rows]


def _approver_rows(account: Account, member: User) -> list[tuple[SocialProfile, int]]:
    """Profiles of `account` that `member` approves, with how many other approvers each has."""
    someone_else = aliased(ProfileApprover)
    other = (
        select(func.count()).select_from(someone_else)
        .where(someone_else.social_profile_id == SocialProfile.id, someone_else.user_id != member.id)
        .correlate(SocialProfile)
        .scalar_subquery()
    )
    return list(db.session.execute(
        select(SocialProfile, other)
        .join(ProfileApprover, ProfileApprover.social_profile_id == SocialProfile.id)
        .join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(ProfileApprover.user_id == member.id, AccessGroup.account_id == account.id)
        .order_by(SocialProfile.handle)
    ).all())


def _last_approver_problem(profiles: list[SocialProfile], name: str, because: str) -> MemberError:
    handles = ", ".join(f"@{profile.handle}" for profile in profiles)
    return MemberError(
        f"{name} is the only approver of {handles}, which needs client approval, so {because}. "
        f"Choose another approver for it first, or turn its approval off."
    )


def _drop_approver_duty(account: Account, member: User, because: str) -> list[int]:
    """Stop `member` approving in `account` (they are no longer a client); refused if they are the last."""
    rows = _approver_rows(account, member)
    stranded = [profile for profile, others in rows if profile.needs_approval and others == 0]
    if stranded:
        raise _last_approver_problem(stranded, member.name, because)
    profile_ids = [profile.id for profile, _ in rows]
    if profile_ids:
        db.session.execute(delete(ProfileApprover).where(
            ProfileApprover.user_id == member.id, ProfileApprover.social_profile_id.in_(profile_ids)))
    return profile_ids


def set_approver(account: Account, membership: Membership, profile_ids: list[int], actor: User,
                 actor_role: str | None, within: Iterable[int] | None = None) -> bool:
    """Make the client the approver of exactly the chosen profiles among those they can see; False if
    they already were.

    With `within` (the groups the editor may enter), profiles of other groups are neither offered
    nor changed."""
    _check_editable(actor, actor_role, membership, reach=False)
    member = membership.user
    if membership.role != Role.CLIENT.value:
        raise MemberError("Only clients approve posts.")
    choices = {choice.profile.id: choice for choice in approver_choices(account, member, within)}
    chosen = set(profile_ids)
    if chosen - set(choices):
        raise MemberError(f"{member.name} can only approve posts for profiles they can see.")
    before = {profile_id for profile_id, choice in choices.items() if choice.approver}
    stranded = [choices[profile_id].profile for profile_id in sorted(before - chosen)
                if choices[profile_id].last_approver]
    if stranded:
        raise _last_approver_problem(stranded, member.name, "they must stay its approver")
    if chosen == before:
        return False
    dropped = before - chosen
    if dropped:
        db.session.execute(delete(ProfileApprover).where(
            ProfileApprover.user_id == member.id, ProfileApprover.social_profile_id.in_(dropped)))
    db.session.add_all(ProfileApprover(social_profile_id=profile_id, user_id=member.id)
                       for profile_id in sorted(chosen - before))
    audit.record(account.id, actor.id, "member.approver_changed", "user", member.id,
                 before={"profile_ids": sorted(before)}, after={"profile_ids": sorted(chosen)})
    db.session.flush()
    return True


# --- role and ownership ------------------------------------------------------------------------------


def change_role(account: Account, membership: Membership, role: str, actor: User, actor_role: str | None) -> bool:
    """Give the member another role, within what the editor may give; False when it is the same role.

    Own rights the new role's baseline covers, or that the role cannot hold, are dropped; a member who
    stops being a client stops approving posts. Seats are counted again.
    """
    _check_editable(actor, actor_role, membership)
    if role == Role.OWNER.value:
        raise MemberError("An account has exactly one owner: make someone the owner by transferring ownership.")
    if role not in ROLE_LABELS:
        raise MemberError("Choose a role.")
    if role not in roles_to_offer(actor_role):
        raise MemberError(f"You cannot make someone {ROLE_LABELS[role].lower()}: only the owner makes admins.")
    if role == membership.role:
        return False
    used = plans.seats_before_change(account)
    rights_before = own_rights(membership)
    before = {"role": membership.role, "rights": sorted(rights_before)}
    dropped_approvals: list[int] = []
    if membership.role == Role.CLIENT.value:
        dropped_approvals = _drop_approver_duty(
            account, membership.user, "they must stay a client (only clients approve posts)")
    membership.role = role
    kept = rights_before & assignable_rights(role)
    if kept != rights_before:
        _replace_rights(membership, kept)
    db.session.flush()
    plans.check_seats_after_change(account, used)
    after = {"role": role, "rights": sorted(kept)}
    if dropped_approvals:
        after["approver_of_dropped"] = sorted(dropped_approvals)
    audit.record(account.id, actor.id, "member.role_changed", "user", membership.user_id, before=before, after=after)
    return True


def transfer_ownership(account: Account, membership: Membership, actor: User) -> None:
    """Make the member the owner; the owner becomes an admin who keeps entry to every access group.

    The database allows one owner per account, so the old owner steps down (and that is flushed)
    before the new one steps up, in the same transaction.
    """
    current = owner_membership(account)
    if current is None or current.user_id != actor.id:
        raise MemberError("Only the owner can transfer ownership.")
    if membership.user_id == actor.id:
        raise MemberError("You are already the owner.")
    if not is_live(membership):
        raise MemberError(f"{membership.user.name} has no access to {account.name} any more: "
                          f"ownership goes to an active member.")
    used = plans.seats_before_change(account)
    new_owner = membership.user
    before = {"owner_id": actor.id, "new_owner_role": membership.role}
    if membership.role == Role.CLIENT.value:
        _drop_approver_duty(account, new_owner, "they must stay a client (only clients approve posts)")
    # As owner they entered every group; as an admin they keep entering them through the Users tab.
    group_ids = set(db.session.scalars(select(AccessGroup.id).where(AccessGroup.account_id == account.id)))
    present = set(db.session.scalars(
        select(GroupUser.access_group_id).where(GroupUser.user_id == actor.id, GroupUser.access_group_id.in_(group_ids))
    ))
    db.session.add_all(GroupUser(access_group_id=group_id, user_id=actor.id)
                       for group_id in sorted(group_ids - present))
    current.role = Role.ADMIN.value
    db.session.flush()
    membership.role = Role.OWNER.value
    membership.expires_at = None  # the owner's access never ends
    _replace_rights(membership, set())  # the owner holds every right already
    db.session.flush()
    plans.check_seats_after_change(account, used)
    audit.record(account.id, actor.id, "account.owner_transferred", "account", account.id, before=before,
                 after={"owner_id": new_owner.id, "previous_owner_role": Role.ADMIN.value,
                        "access_groups_kept": len(group_ids)})


# --- own rights --------------------------------------------------------------------------------------


def set_rights(account: Account, membership: Membership, chosen: set[str], actor: User,
               actor_role: str | None) -> bool:
    """Replace the member's own rights with `chosen`, only rights their role can be given.

    A client's rights from before the client grants existed (outside them) are kept: this form does
    not show them. Giving a client Publish takes a team seat. False when nothing changed.
    """
    _check_editable(actor, actor_role, membership)
    role = membership.role
    if role in policy.ADMIN_ROLES:
        raise MemberError("Admins hold every right except creating access groups and changing the plan or owner.")
    unknown = chosen - set(RIGHT_LABELS)
    if unknown:
        raise MemberError("Choose among the rights listed.")
    allowed = assignable_rights(role)
    refused = sorted(chosen - allowed)
    if refused:
        names = ", ".join(RIGHT_LABELS[name].lower() for name in refused)
        raise MemberError(f"A {ROLE_LABELS[role].lower()} cannot be given these rights here: {names}.")
    before = own_rights(membership)
    kept = before - allowed - ROLE_BASELINE[role]
    after = set(chosen) | kept
    if after == before:
        return False
    used = plans.seats_before_change(account)
    _replace_rights(membership, after)
    plans.check_seats_after_change(account, used)
    audit.record(account.id, actor.id, "member.rights_changed", "user", membership.user_id,
                 before={"role": role, "rights": sorted(before)}, after={"role": role, "rights": sorted(after)})
    return True


# --- end date ----------------------------------------------------------------------------------------


def set_expiry(account: Account, membership: Membership, day: date | None, actor: User,
               actor_role: str | None) -> bool:
    """End the member's access after `day` (in the account's time zone), or never; False if unchanged."""
    _check_editable(actor, actor_role, membership)
    expires_at = None if day is None else end_of_day(account, day)
    if expires_at == membership.expires_at:
        return False
    before = {"expires_at": membership.expires_at.isoformat() if membership.expires_at else None}
    membership.expires_at = expires_at
    audit.record(account.id, actor.id, "member.expiry_changed", "user", membership.user_id, before=before,
                 after={"expires_at": expires_at.isoformat() if expires_at else None,
                        "last_day": day.isoformat() if day else None})
    db.session.flush()
    approvals.end_lost_duties(account.id, actor, f"{membership.user.name}'s access ended")
    return True


def addable_members(account_id: int, already_in: Select, text: str = "", limit: int = 20,
                    now: datetime | None = None) -> tuple[list[tuple[User, str]], bool]:
    """Live members of the account, with their roles, not among the user ids `already_in` selects and
    whose name or email holds `text`, by name: at most `limit`, and whether there are more."""
    pattern = (text or "").strip().lower()
    query = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == account_id, policy.membership_live(now or utcnow()),
               User.id.not_in(already_in))
        .order_by(func.lower(User.name), User.id)
        .limit(limit + 1)
    )
    if pattern:
        query = query.where(func.lower(User.name).contains(pattern, autoescape=True)
                            | User.email.contains(pattern, autoescape=True))
    found = [(user, role) for user, role in db.session.execute(query).all()]
    return found[:limit], len(found) > limit


# --- the member page's one Save ------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberEdit:
    """What the member page's form sends: the sections it showed (`sections`), and each one's choices."""

    sections: frozenset[str]
    role: str | None = None
    rights: frozenset[str] = frozenset()  # a manager's own rights
    grants: tuple[str, ...] = ()  # a client's grants
    approver_of: tuple[int, ...] = ()
    last_day: date | None = None  # None: no end date


class SectionRefused(Exception):
    """One section of the member page was refused (the caller rolls back every section): which, and why."""

    def __init__(self, section: str, problem: Exception) -> None:
        super().__init__(str(problem))
        self.section = section
        self.problem = problem


def save_member(account: Account, membership: Membership, edit: MemberEdit, actor: User, actor_role: str | None,
                within: Iterable[int] | None = None) -> list[str]:
    """Apply every section the member page sent, in one transaction; the sections that changed.

    Rights and approver duty go first, as chosen for the member's present role; a new role then keeps
    what it can hold (as a role change always does). The first refusal raises `SectionRefused`.
    """
    changes = (
        ("rights", lambda: set_rights(account, membership, _chosen_rights(membership, edit), actor, actor_role)),
        ("approver", lambda: set_approver(account, membership, list(edit.approver_of), actor, actor_role, within)),
        ("role", lambda: change_role(account, membership, edit.role or "", actor, actor_role)),
        ("expiry", lambda: set_expiry(account, membership, edit.last_day, actor, actor_role)),
    )
    changed = []
    for section, change in changes:
        if section not in edit.sections:
            continue
        try:
            if change():
                changed.append(section)
        except (MemberError, plans.PlanLimitReached) as problem:
            raise SectionRefused(section, problem) from problem
    return changed


def _chosen_rights(membership: Membership, edit: MemberEdit) -> set[str]:
    """The own rights the form chose: a client's through the grants, anyone else's one by one."""
    if membership.role == Role.CLIENT.value:
        return rights_for_grants(list(edit.grants))
    return set(edit.rights)


# --- leaving: deactivate, reactivate, remove from the agency -------------------------------------------


def leaving_refusal(editor: User, editor_role: str | None, membership: Membership, reach: bool = True,
                    entered: list[tuple[int, str]] | None = None) -> str | None:
    """Why `editor` may not deactivate, reactivate or remove this member; None when they may."""
    return _refusal(_LEAVING, editor, editor_role, membership, reach, entered)


def _check_leaving(editor: User, editor_role: str | None, membership: Membership) -> None:
    reason = leaving_refusal(editor, editor_role, membership, reach=False)
    if reason:
        raise MemberError(reason)
    beyond = _beyond_reach(editor, membership, _LEAVING.beyond_reach)
    if beyond:
        raise BeyondReach(beyond)


def _open_review_links(account: Account, user_id: int, now: datetime) -> tuple:
    """SQL conditions: the person's review links for this account that still open something."""
    return (ReviewLink.reviewer_id == user_id, ReviewLink.account_id == account.id,
            ReviewLink.revoked_at.is_(None), ReviewLink.expires_at > now)


@dataclass(frozen=True)
class Losses:
    """What a member loses on leaving (deactivated or removed), for the confirmation to name."""

    access_groups: list[str]
    user_groups: list[str]
    approves: list[str]  # the profiles whose posts they approve, as "Instagram @handle"
    left_unapproved: list[str]  # of those, the ones needing approval that nobody else approves
    review_links: int  # their review links for this agency that still open something
    holds_seat: bool


def losses(account: Account, membership: Membership, entered: list[tuple[int, str]],
           choices: list[ApproverChoice], belongings: Iterable) -> Losses:
    """What leaving takes from the member, from what the member page loaded (the groups they `entered`,
    `choices` of approver duty, `belongings` to user groups) and one query."""
    now = utcnow()
    mine = [choice for choice in choices if choice.approver]
    open_links = select(func.count(ReviewLink.id)).where(*_open_review_links(account, membership.user_id, now))
    review_links, holds_seat = db.session.execute(
        select(open_links.scalar_subquery(), plans.holds_seat(account, membership.id, now))).one()
    return Losses(
        access_groups=[name for _, name in entered],
        user_groups=[belonging.user_group.name for belonging in belongings if not belonging.ended],
        approves=[f"{choice.profile.network_label} @{choice.profile.handle}" for choice in mine],
        left_unapproved=[f"@{choice.profile.handle}" for choice in mine if choice.last_approver],
        review_links=review_links,
        holds_seat=bool(holds_seat),
    )


def _close_review_links(account: Account, user_id: int, now: datetime) -> int:
    """End the person's open review links for this agency at once; how many."""
    return db.session.execute(
        update(ReviewLink).where(*_open_review_links(account, user_id, now)).values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def _sign_out_if_shut_out(user: User, now: datetime) -> int:
    """End the person's sessions when no agency is open to them any more; how many ended."""
    still_member = db.session.scalar(
        select(Membership.id).where(Membership.user_id == user.id, policy.membership_live(now)).limit(1))
    return 0 if still_member is not None else accounts.end_sessions(user)


def deactivate(account: Account, membership: Membership, actor: User, actor_role: str | None) -> None:
    """Take the member's access to the agency away at once, keeping their role, rights and groups for a
    reactivation. Their approver duty and open review links here end with it, they are signed out when
    no other agency is open to them, and their team seat is free."""
    _check_leaving(actor, actor_role, membership)
    name = membership.user.name
    if membership.deactivated_at is not None:
        raise MemberError(f"{name} is already deactivated.")
    now = utcnow()
    membership.deactivated_at = now
    db.session.flush()
    links = _close_review_links(account, membership.user_id, now)
    duties = approvals.end_lost_duties(account.id, actor, f"{name} was deactivated", now)
    signed_out = _sign_out_if_shut_out(membership.user, now)
    audit.record(account.id, actor.id, "member.deactivated", "user", membership.user_id,
                 before={"role": membership.role},
                 after={"deactivated_at": now.isoformat(), "review_links_closed": links, "sessions_ended": signed_out,
                        "approver_of_ended": sorted(profile_id for profile_id, user_id in duties
                                                    if user_id == membership.user_id)})


def reactivate(account: Account, membership: Membership, actor: User, actor_role: str | None) -> None:
    """Give a deactivated member their access back, with the role, rights and groups they had; refused
    when they would take a team seat the plan does not have."""
    _check_leaving(actor, actor_role, membership)
    if membership.deactivated_at is None:
        raise MemberError(f"{membership.user.name} is not deactivated.")
    used = plans.seats_before_change(account)
    before = membership.deactivated_at
    membership.deactivated_at = None
    db.session.flush()
    plans.check_seats_after_change(account, used)
    audit.record(account.id, actor.id, "member.reactivated", "user", membership.user_id,
                 before={"deactivated_at": before.isoformat()}, after={"role": membership.role})


def remove(account: Account, membership: Membership, actor: User, actor_role: str | None) -> None:
    """Take the member out of the agency: their membership and everything of theirs that hangs off it here
    (own rights, Users-tab entries, user-group memberships, approver duty, profile removals,
    notifications) go; their open review links here stop working. What they wrote, uploaded or decided
    stays, shown as by a former member."""
    _check_leaving(actor, actor_role, membership)
    user, now = membership.user, utcnow()
    groups = select(AccessGroup.id).where(AccessGroup.account_id == account.id)
    profiles = select(SocialProfile.id).where(SocialProfile.access_group_id.in_(groups))
    before = {"role": membership.role, "rights": sorted(own_rights(membership)),
              "access_group_ids": [group_id for group_id, _ in entered_groups(account.id, user.id, now)],
              "deactivated_at": membership.deactivated_at.isoformat() if membership.deactivated_at else None}
    for statement in (
        delete(GroupUser).where(GroupUser.user_id == user.id, GroupUser.access_group_id.in_(groups)),
        delete(UserGroupMember).where(UserGroupMember.user_id == user.id, UserGroupMember.user_group_id.in_(
            select(UserGroup.id).where(UserGroup.account_id == account.id))),
        delete(ProfileAccessRemoval).where(ProfileAccessRemoval.user_id == user.id,
                                           ProfileAccessRemoval.social_profile_id.in_(profiles)),
        delete(Notification).where(Notification.user_id == user.id, Notification.account_id == account.id),
        update(User).where(User.id == user.id, User.last_access_group_id.in_(groups)).values(last_access_group_id=None),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    links = _close_review_links(account, user.id, now)
    db.session.delete(membership)  # its own rights go with it
    db.session.flush()
    approvals.end_lost_duties(account.id, actor, f"{user.name} was removed from {account.name}", now)
    signed_out = _sign_out_if_shut_out(user, now)
    audit.record(account.id, actor.id, "member.removed", "user", user.id, before=before,
                 after={"name": user.name, "email": user.email, "review_links_closed": links,
                        "sessions_ended": signed_out})


# --- names of people, as the agency shows them ------------------------------------------------------


FORMER_MEMBER = "former member"


class ShownNames(dict):
    """Names to show by user id; anyone not found is no longer a member, shown as a former member."""

    def __missing__(self, user_id: int | None) -> str:
        return FORMER_MEMBER


def shown_names(account_id: int, user_ids: Iterable[int | None]) -> ShownNames:
    """The names to show for these people (authors, uploaders, commenters, approvers) in one query:
    their own while they are members of the agency (deactivated or not), "former member" once removed."""
    wanted = sorted({user_id for user_id in user_ids if user_id is not None})
    names = ShownNames()
    if wanted:
        names.update(db.session.execute(
            select(User.id, User.name)
            .join(Membership, (Membership.user_id == User.id) & (Membership.account_id == account_id))
            .where(User.id.in_(wanted))
        ).all())
    return names
