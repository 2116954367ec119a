"""Rules about invitations to the team: invite, resend, revoke, and accepting an emailed link.

An invitation is an offer to join one account with one role, bound to one email address. Its link
carries a 256-bit token of which only the hash is stored; the link works once, until it expires or
is revoked. A resend makes a new token, so the old link dies. The email is queued in the same
transaction as the change that causes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from . import audit, crypto, notifications, plans, policy
from . import brand, zones
from .accounts import hash_password, normalize_email
from .extensions import db
from .links import LinkState
from .mail import queue_mail, render_mail
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
from .team import ROLE_LABELS, ROLE_ORDER, SEAT_ROLES, open_invitation, pending_seats
from .urls import external_url


# The longest name an inviter may give (the column's length).
NAME_MAX = 120


class InvitationError(ValueError):
    """An invitation that cannot be made or changed, with the reason to show and the field it concerns."""

    def __init__(self, message: str, field: str | None = None, pending: Invitation | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.pending = pending  # an invitation to resend instead


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
        link=external_url("invitations.show", token=token),
        style=zones.style_for(None, account),  # the invitee reads times as the agency does, until they choose
    )
    queue_mail(invitation.email, f"{inviter.name} invited you to {account.name} on Roster", text_body, html_body,
               sender_name=brand.sender_name(account))


def invite(account: Account, actor: User, email: str, role: str, access_group_ids: list[int],
           name: str | None = None) -> SentInvitation:
    """Invite `email` (called `name`, if given) into `account` with `role` and groups, and queue the
    email with its link."""
    email = normalize_email(email or "")
    if not email:
        raise InvitationError("Enter the email address of the person to invite.", field="email")
    name = " ".join((name or "").split()) or None
    if name is not None and len(name) > NAME_MAX:
        raise InvitationError(f"Keep the name to {NAME_MAX} characters or fewer.", field="name")
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
    if role == Role.CLIENT.value and not groups:
        # A client sees only the groups they are given: with none they would land on an empty page.
        raise InvitationError("Choose the access group of the client or creator you invite: "
                              "a client sees only the groups ticked here.", field="access_groups")
    plans.lock_seats(account)  # before counting the seats pending invitations hold
    _check_seat(account, role, pending=pending_seats(account))
    for expired in unanswered:  # a new invitation replaces one that ran out
        expired.revoked_at = now
    db.session.flush()
    invitation = Invitation(
        account_id=account.id, email=email, name=name, role=role, invited_by_id=actor.id,
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
    after = {"email": email, "role": role, "access_groups": [group.name for group in groups]}
    if name is not None:
        after["name"] = name
    audit.record(account.id, actor.id, "invitation.created", "invitation", invitation.id, after=after)
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
    return LinkState.OPEN


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
        .where(Invitation.id == invitation.id, *open_invitation(now))
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
    notifications.access_granted_by_invitation(account, user, invitation.invited_by_id,
                                               [group for group in groups if group.id not in present])
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
