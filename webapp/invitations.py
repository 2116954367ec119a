"""Rules about the team and its invitations: invite, resend, revoke, and accepting an emailed link.

An invitation is an offer to join one account with one role, bound to one email address. Its link
carries a 256-bit token of which only the hash is stored; the link works once, until it expires or
is revoked. A resend makes a new token, so the old link dies. The email is queued in the same
transaction as the change that causes it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit, crypto, plans, policy
from .accounts import hash_password, normalize_email
from .extensions import db
from .mail import queue_mail, render_mail
from .zones import account_zone
from .models import (
    AccessGroup,
    Account,
    GroupUser,
    Invitation,
    InvitationAccessGroup,
    Membership,
    Role,
    User,
    utcnow,
)

# Most powerful first: a user may invite at their own level or below, never above.
ROLE_ORDER: tuple[str, ...] = (Role.OWNER.value, Role.ADMIN.value, Role.MANAGER.value, Role.CLIENT.value)
ROLE_LABELS: dict[str, str] = {role: role.capitalize() for role in ROLE_ORDER}
# Invitations carry no extra rights, so an invited client never takes a team seat.
SEAT_ROLES: frozenset[str] = frozenset({Role.ADMIN.value, Role.MANAGER.value})


class InvitationError(ValueError):
    """An invitation that cannot be made or changed, with the reason to show and the field it concerns."""

    def __init__(self, message: str, field: str | None = None, pending: Invitation | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.pending = pending  # an invitation to resend instead


class LinkState(str, enum.Enum):
    """What an invitation link is worth when opened."""

    LIVE = "live"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"


# --- who may invite whom to where ----------------------------------------------------------------


def roles_to_offer(inviter_role: str | None) -> list[str]:
    """Roles this inviter may give: at or below their own; admins are made by the owner alone."""
    if inviter_role not in ROLE_ORDER:
        return []
    if inviter_role == Role.OWNER.value:
        return [Role.ADMIN.value, Role.MANAGER.value, Role.CLIENT.value]
    below_admin = ROLE_ORDER.index(Role.MANAGER.value)
    start = max(ROLE_ORDER.index(inviter_role), below_admin)
    return list(ROLE_ORDER[start:])


def groups_to_offer(account: Account, actor: User) -> list[AccessGroup]:
    """The account's access groups the inviter may enter, the default group first."""
    perms = policy.permissions_for(actor)
    enterable = [group_id for group_id, account_id in perms.groups.items() if account_id == account.id]
    if not enterable:
        return []
    return list(db.session.scalars(
        select(AccessGroup)
        .where(AccessGroup.id.in_(enterable))
        .order_by(AccessGroup.is_default.desc(), func.lower(AccessGroup.name), AccessGroup.id)
    ))


def _inviter_role(account: Account, actor: User) -> str | None:
    return policy.permissions_for(actor).role_in(account.id)


def _check_role(account: Account, actor: User, role: str) -> None:
    if role not in ROLE_ORDER:
        raise InvitationError("Choose a role.", field="role")
    if role not in roles_to_offer(_inviter_role(account, actor)):
        if role == Role.OWNER.value:
            message = "An account has exactly one owner; invite them as an admin instead."
        elif role == Role.ADMIN.value:
            message = "Only the owner can invite admins."
        else:
            message = f"You cannot invite someone as {ROLE_LABELS[role]}: that is above your own role."
        raise InvitationError(message, field="role")


def _chosen_groups(account: Account, actor: User, access_group_ids: list[int]) -> list[AccessGroup]:
    offered = {group.id: group for group in groups_to_offer(account, actor)}
    if any(group_id not in offered for group_id in access_group_ids):
        raise InvitationError("You can only invite people into access groups you can enter.",
                              field="access_groups")
    return [offered[group_id] for group_id in dict.fromkeys(access_group_ids)]


# --- the team page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMember:
    """A member of the account as the Team page lists them, with the last day of their access."""

    user: User
    role: str
    deactivated: bool
    ends_on: date | None = None  # in the account's time zone
    ended: bool = False


@dataclass(frozen=True)
class PendingInvitation:
    """An invitation not accepted or revoked yet (it may have expired), with who sent it."""

    invitation: Invitation
    invited_by: str | None
    expired: bool


@dataclass(frozen=True)
class Seats:
    """Team seats: taken by members, held by pending invitations, and the plan's limit."""

    used: int
    pending: int
    limit: int | None
    plan_name: str

    @property
    def available(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used - self.pending, 0)


def members(account: Account) -> list[TeamMember]:
    """Everyone with a membership in the account, the owner first, then by role and name."""
    rank = {role: position for position, role in enumerate(ROLE_ORDER)}
    zone, now = account_zone(account), utcnow()
    rows = db.session.execute(
        select(User, Membership.role, Membership.deactivated_at, Membership.expires_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == account.id)
        .order_by(func.lower(User.name), User.id)
    ).all()
    team = [TeamMember(user=user, role=role, deactivated=deactivated_at is not None,
                       ends_on=expires_at.astimezone(zone).date() if expires_at else None,
                       ended=policy.has_ended(expires_at, now))
            for user, role, deactivated_at, expires_at in rows]
    return sorted(team, key=lambda member: rank.get(member.role, len(rank)))


def _open(now: datetime):
    """Invitations whose link still works."""
    return (Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)


def pending_invitations(account: Account) -> list[PendingInvitation]:
    """Invitations neither accepted nor revoked, newest first; expired ones can still be resent."""
    now = utcnow()
    rows = db.session.execute(
        select(Invitation, User.name)
        .outerjoin(User, User.id == Invitation.invited_by_id)
        .where(Invitation.account_id == account.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .options(selectinload(Invitation.access_groups))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return [PendingInvitation(invitation=invitation, invited_by=name, expired=invitation.expires_at <= now)
            for invitation, name in rows]


def pending_seats(account: Account, except_id: int | None = None) -> int:
    """Live invitations that will take a team seat once accepted."""
    query = select(func.count(Invitation.id)).where(
        Invitation.account_id == account.id, Invitation.role.in_(SEAT_ROLES), *_open(utcnow())
    )
    if except_id is not None:
        query = query.where(Invitation.id != except_id)
    return db.session.scalar(query)


def seats(account: Account) -> Seats:
    """How many team seats are used, held by invitations, and allowed by the plan."""
    return Seats(used=plans.seats_used(account), pending=pending_seats(account),
                 limit=account.plan.max_seats, plan_name=account.plan.name)


def _check_seat(account: Account, role: str, pending: int) -> None:
    """Refuse a role that takes a seat when the plan has none left (counting `pending` invitations)."""
    if role not in SEAT_ROLES:
        return
    try:
        plans.check_seat_limit(account, pending=pending)
    except plans.PlanLimitReached as limit:
        raise InvitationError(str(limit), field="role") from None


# --- inviting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    """An invitation just made or resent, and the token of its link (never stored)."""

    invitation: Invitation
    token: str


def _issue_link(invitation: Invitation) -> str:
    token = crypto.new_token()
    invitation.token_hash = crypto.token_hash(token)
    invitation.expires_at = utcnow() + timedelta(days=current_app.config["INVITATION_TTL_DAYS"])
    return token


def _queue_invitation_mail(invitation: Invitation, token: str, account: Account, inviter: User) -> None:
    groups = sorted(invitation.access_groups, key=lambda group: (not group.is_default, group.name.lower()))
    text_body, html_body = render_mail(
        "invitation",
        account=account,
        inviter=inviter,
        role=ROLE_LABELS[invitation.role],
        access_groups=groups,
        expires_at=invitation.expires_at,
        link=url_for("invitations.show", token=token, _external=True),
    )
    queue_mail(invitation.email, f"{inviter.name} invited you to {account.name} on Roster", text_body, html_body)


def invite(account: Account, actor: User, email: str, role: str, access_group_ids: list[int]) -> SentInvitation:
    """Invite `email` into `account` with `role` and groups, and queue the email with its link."""
    email = normalize_email(email or "")
    if not email:
        raise InvitationError("Enter the email address of the person to invite.", field="email")
    _check_role(account, actor, role)
    groups = _chosen_groups(account, actor, access_group_ids)
    already_member = db.session.scalar(
        select(Membership.id).join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account.id, User.email == email)
    )
    if already_member is not None:
        raise InvitationError(f"{email} is already a member of {account.name}.", field="email")
    now = utcnow()
    unanswered = db.session.scalars(
        select(Invitation).where(Invitation.account_id == account.id, Invitation.email == email,
                                 Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    ).all()
    live = next((invitation for invitation in unanswered if invitation.expires_at > now), None)
    if live is not None:
        raise InvitationError(f"{email} already has an invitation waiting. Resend it instead.",
                              field="email", pending=live)
    plans.lock_seats(account)  # before counting the seats pending invitations hold
    _check_seat(account, role, pending=pending_seats(account))
    for expired in unanswered:  # a new invitation replaces one that ran out
        expired.revoked_at = now
    db.session.flush()
    invitation = Invitation(
        account_id=account.id, email=email, role=role, invited_by_id=actor.id,
        add_to_default_group=any(group.is_default for group in groups), access_groups=groups,
    )
    token = _issue_link(invitation)
    db.session.add(invitation)
    try:
        db.session.flush()
    except IntegrityError:  # someone invited the same email at the same moment
        db.session.rollback()
        raise InvitationError(f"{email} already has an invitation waiting.", field="email") from None
    _queue_invitation_mail(invitation, token, account, actor)
    audit.record(account.id, actor.id, "invitation.created", "invitation", invitation.id,
                 after={"email": email, "role": role, "access_groups": [group.name for group in groups]})
    return SentInvitation(invitation=invitation, token=token)


def _unanswered(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise InvitationError(f"{invitation.email} already accepted this invitation.")
    if invitation.revoked_at is not None:
        raise InvitationError(f"The invitation to {invitation.email} was revoked.")


def resend(invitation: Invitation, actor: User) -> SentInvitation:
    """A new link and expiry for an unanswered invitation; the old link stops working."""
    account = db.session.get_one(Account, invitation.account_id)
    _unanswered(invitation)
    _check_role(account, actor, invitation.role)
    _chosen_groups(account, actor, [group.id for group in invitation.access_groups])
    if invitation.expires_at <= utcnow():  # an expired invitation no longer holds a seat
        plans.lock_seats(account)
        _check_seat(account, invitation.role, pending=pending_seats(account, except_id=invitation.id))
    before = {"expires_at": invitation.expires_at.isoformat()}
    token = _issue_link(invitation)
    _queue_invitation_mail(invitation, token, account, actor)
    audit.record(account.id, actor.id, "invitation.resent", "invitation", invitation.id,
                 before=before, after={"email": invitation.email, "expires_at": invitation.expires_at.isoformat()})
    return SentInvitation(invitation=invitation, token=token)


def revoke(invitation: Invitation, actor: User) -> None:
    """Cancel an unanswered invitation; its link stops working at once."""
    account = db.session.get_one(Account, invitation.account_id)
    _unanswered(invitation)
    _check_role(account, actor, invitation.role)
    invitation.revoked_at = utcnow()
    audit.record(account.id, actor.id, "invitation.revoked", "invitation", invitation.id,
                 before={"email": invitation.email, "role": invitation.role})


# --- opening and accepting the link --------------------------------------------------------------


def find_by_token(token: str) -> Invitation | None:
    """The invitation whose link carries `token`, looked up by the token's hash."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == crypto.token_hash(token)))


def link_state(invitation: Invitation | None, now: datetime | None = None) -> LinkState:
    """Whether a link still works, and if not, why not."""
    if invitation is None:
        return LinkState.UNKNOWN
    if invitation.accepted_at is not None:
        return LinkState.ACCEPTED
    if invitation.revoked_at is not None:
        return LinkState.REVOKED
    if invitation.expires_at <= (now or utcnow()):
        return LinkState.EXPIRED
    return LinkState.LIVE


def existing_user(invitation: Invitation) -> User | None:
    """The user who already has the invited email, if any."""
    return db.session.scalar(select(User).where(User.email == invitation.email))


class LinkNoLongerWorks(InvitationError):
    """The link was accepted, revoked or expired, perhaps a moment ago in another tab."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(f"This invitation is {state.value}.")
        self.state = state


def _claim(invitation: Invitation) -> None:
    """Mark the invitation accepted, once: of two accepts racing, exactly one gets here."""
    now = utcnow()
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, *_open(now))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(invitation)
    if claimed.rowcount != 1:
        raise LinkNoLongerWorks(link_state(invitation, now))


@dataclass(frozen=True)
class Acceptance:
    """Who accepted, and the first access group to take them to (None if they got none)."""

    user: User
    landing_group_id: int | None
    already_member: bool


def _join(invitation: Invitation, user: User) -> Acceptance:
    account = db.session.get_one(Account, invitation.account_id)
    membership = db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.user_id == user.id)
    )
    if membership is None and invitation.role in SEAT_ROLES:
        # Seats for pending invitations were held when they were sent; this one needs a free seat now.
        try:
            plans.check_seat_limit(account)
        except plans.PlanLimitReached:
            raise InvitationError(
                f"{account.name} has no free team seat for you right now. "
                "Ask the person who invited you to make room, then open this link again."
            ) from None
    _claim(invitation)
    if membership is None:
        db.session.add(Membership(account_id=account.id, user_id=user.id, role=invitation.role))
    groups = sorted(invitation.access_groups, key=lambda group: (not group.is_default, group.name.lower(), group.id))
    present = set(db.session.scalars(
        select(GroupUser.access_group_id).where(
            GroupUser.user_id == user.id, GroupUser.access_group_id.in_([group.id for group in groups])
        )
    ))
    db.session.add_all(GroupUser(access_group_id=group.id, user_id=user.id)
                       for group in groups if group.id not in present)
    landing = groups[0].id if groups else None
    if landing is not None:
        user.last_access_group_id = landing
    audit.record(account.id, user.id, "invitation.accepted", "invitation", invitation.id,
                 after={"email": user.email, "user_id": user.id,
                        "role": membership.role if membership else invitation.role,
                        "access_groups": [group.name for group in groups]})
    return Acceptance(user=user, landing_group_id=landing, already_member=membership is not None)


def accept_as_new_user(invitation: Invitation, name: str, password: str) -> Acceptance:
    """Create the invited person's user, then make them a member with the invitation's groups."""
    if existing_user(invitation) is not None:
        raise InvitationError("Someone already signs in with this email. Sign in to accept.")
    name = " ".join((name or "").split())
    if not name:
        raise InvitationError("Enter your name.", field="name")
    user = User(email=invitation.email, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return _join(invitation, user)


def accept_as_member(invitation: Invitation, user: User) -> Acceptance:
    """The signed-in user with the invited email joins the account; accepting twice changes nothing."""
    if normalize_email(user.email) != invitation.email:
        raise InvitationError(f"This invitation is for {invitation.email}.")
    return _join(invitation, user)


def invitation_groups(invitation: Invitation) -> list[AccessGroup]:
    """The access groups an invitation opens, the default group first."""
    return list(db.session.scalars(
        select(AccessGroup)
        .join(InvitationAccessGroup, InvitationAccessGroup.access_group_id == AccessGroup.id)
        .where(InvitationAccessGroup.invitation_id == invitation.id)
        .order_by(AccessGroup.is_default.desc(), func.lower(AccessGroup.name), AccessGroup.id)
    ))
