"""Rules of the Team area: the account's members and their roles, pending invitations, and team seats.

A seat is taken by a member, and held by each invitation whose link still works and whose role takes
one, so inviting (webapp/invitations.py) never promises more seats than the plan has.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import plans, policy
from .extensions import db
from .models import Account, Invitation, Membership, Role, User, utcnow
from .zones import account_zone

# Most powerful first: the Team page lists members in this order; a user may invite at their own
# level or below, never above.
ROLE_ORDER: tuple[str, ...] = (Role.OWNER.value, Role.ADMIN.value, Role.MANAGER.value, Role.CLIENT.value)
ROLE_LABELS: dict[str, str] = {role: role.capitalize() for role in ROLE_ORDER}
# One line per role, shown beside the role choice when inviting (DESIGN.md, Permissions).
ROLE_HINTS: dict[str, str] = {
    Role.OWNER.value: "Runs the agency: every right in every group, the plan and new groups.",
    Role.ADMIN.value: "Everything in the groups they can enter, people and settings included; not the plan. Takes a seat.",
    Role.MANAGER.value: "Content work in their groups: posts, media, campaigns and connecting profiles. Takes a seat.",
    Role.CLIENT.value: "A creator or client: sees only their own group, connects their profiles, comments on and approves posts.",
}
# Invitations carry no extra rights, so an invited client never takes a team seat.
SEAT_ROLES: frozenset[str] = frozenset({Role.ADMIN.value, Role.MANAGER.value})


def open_invitation(now: datetime):
    """SQL: the invitation's link still works (not accepted, not revoked, not expired)."""
    return (Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)


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
        Invitation.account_id == account.id, Invitation.role.in_(SEAT_ROLES), *open_invitation(utcnow())
    )
    if except_id is not None:
        query = query.where(Invitation.id != except_id)
    return db.session.scalar(query)


def seats(account: Account) -> Seats:
    """How many team seats are used, held by invitations, and allowed by the plan."""
    return Seats(used=plans.seats_used(account), pending=pending_seats(account),
                 limit=account.plan.max_seats, plan_name=account.plan.name)
