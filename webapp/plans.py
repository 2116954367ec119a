"""The reference plans. Limits are data: `None` means unlimited.

The first migration inserts these rows; `install_reference_plans` does the same for a schema made
with `create_all` (tests, benchmarks).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from typing import Any

from sqlalchemy import func, select, union, update

from .extensions import db
from .models import (
    AccessGroup,
    Account,
    MemberRight,
    Membership,
    Plan,
    Role,
    SocialSet,
    UserGroup,
    UserGroupMember,
    UserGroupRight,
    utcnow,
)
from .policy import membership_live, user_group_membership_live

REFERENCE_PLANS: tuple[dict, ...] = (
    {"code": "self_hosted", "name": "Self-hosted", "max_access_groups": None, "max_social_sets": None, "max_seats": None},
    {"code": "free", "name": "Free", "max_access_groups": 1, "max_social_sets": 1, "max_seats": 1},
    {"code": "starter", "name": "Starter", "max_access_groups": 1, "max_social_sets": 1, "max_seats": 2},
    {"code": "growth", "name": "Growth", "max_access_groups": None, "max_social_sets": 10, "max_seats": 10},
    {"code": "agency", "name": "Agency", "max_access_groups": None, "max_social_sets": 50, "max_seats": 50},
)


def install_reference_plans() -> None:
    """Add whichever reference plans the database lacks."""
    present = set(db.session.scalars(select(Plan.code)))
    db.session.add_all(Plan(**plan) for plan in REFERENCE_PLANS if plan["code"] not in present)
    db.session.flush()


@dataclass(frozen=True)
class PlanLimitReached(Exception):
    """An action would go past one of the plan's limits."""

    plan_name: str
    what: str
    limit: int

    def __str__(self) -> str:
        noun = self.what if self.limit != 1 else self.what.rstrip("s")
        return (
            f"Your {self.plan_name} plan includes {self.limit} {noun}. "
            f"Upgrade the plan to add more."
        )


def _check(account: Account, what: str, limit: int | None, used: int) -> None:
    if limit is not None and used >= limit:
        raise PlanLimitReached(plan_name=account.plan.name, what=what, limit=limit)


def check_access_group_limit(account: Account) -> None:
    """Refuse one more access group when the plan has no room for it."""
    used = db.session.scalar(
        select(func.count(AccessGroup.id)).where(AccessGroup.account_id == account.id)
    )
    _check(account, "access groups", account.plan.max_access_groups, used)


def check_social_set_limit(account: Account) -> None:
    """Refuse one more social set when the plan has no room for it."""
    used = db.session.scalar(
        select(func.count(SocialSet.id))
        .join(AccessGroup, AccessGroup.id == SocialSet.access_group_id)
        .where(AccessGroup.account_id == account.id)
    )
    _check(account, "social sets", account.plan.max_social_sets, used)


def _seat_holders(account: Account, now: datetime | None = None) -> Any:
    """Ids of live memberships of the account that take a seat: every role but client, and clients
    who hold a publishing right of their own or through a live user group."""
    from .rights import SEAT_RIGHTS

    now = now or utcnow()
    live = (Membership.account_id == account.id, membership_live(now))
    staff = select(Membership.id).where(*live, Membership.role != Role.CLIENT.value)
    own = (
        select(Membership.id)
        .join(MemberRight, MemberRight.membership_id == Membership.id)
        .where(*live, MemberRight.name.in_(SEAT_RIGHTS))
    )
    inherited = (
        select(Membership.id)
        .join(UserGroupMember, UserGroupMember.user_id == Membership.user_id)
        .join(UserGroup, (UserGroup.id == UserGroupMember.user_group_id) & (UserGroup.account_id == account.id))
        .join(UserGroupRight, UserGroupRight.user_group_id == UserGroup.id)
        .where(*live, UserGroupRight.name.in_(SEAT_RIGHTS), user_group_membership_live(now))
    )
    return union(staff, own, inherited).subquery()


def seats_used(account: Account, now: datetime | None = None) -> int:
    """Team seats taken: every member but clients, plus clients who may create or publish posts."""
    return db.session.scalar(select(func.count()).select_from(_seat_holders(account, now)))


def holds_seat(account: Account, membership_id: int, now: datetime | None = None) -> Any:
    """SQL: the membership takes one of the account's team seats now."""
    holders = _seat_holders(account, now)
    return select(holders.c.id).where(holders.c.id == membership_id).exists()


def lock_seats(account: Account) -> None:
    """Hold the account's team seats until the transaction ends, so a seat is counted and taken at once.

    Whoever counts next waits here for this transaction to end, then counts what it committed.
    Nothing to hold on a plan without a seat limit.
    """
    if account.plan.max_seats is None:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has one writer at a time: a write that changes nothing takes that lock now, waiting
        # for the writer before it to commit, and reads from then on see every committed row.
        db.session.execute(
            update(Account).where(Account.id == account.id).values(name=Account.name)
            .execution_options(synchronize_session=False)
        )
    else:
        # NO KEY UPDATE queues seat counters like FOR UPDATE, but leaves alone the KEY SHARE locks
        # that rows added with a foreign key to the account take (audit events, invitations,
        # members): such writes are not held up by it and cannot deadlock with it.
        db.session.execute(select(Account.id).where(Account.id == account.id).with_for_update(key_share=True))


def seats_before_change(account: Account) -> int:
    """The seats taken now, counted under the account's seat lock, to pass to `check_seats_after_change`."""
    lock_seats(account)
    return seats_used(account)


def check_seats_after_change(account: Account, used_before: int) -> None:
    """Refuse a change (already flushed) that took a seat the plan does not have.

    Call with `seats_before_change(account)` from before the change; a change that frees seats or keeps
    the count is always allowed, even on an account already over its limit.
    """
    limit = account.plan.max_seats
    if limit is None:
        return
    db.session.flush()
    lock_seats(account)
    used = seats_used(account)
    if used > used_before and used > limit:
        raise PlanLimitReached(plan_name=account.plan.name, what="team seats", limit=limit)


def check_seat_limit(account: Account, pending: int = 0) -> None:
    """Refuse one more team seat (counting `pending` invitations that would take one).

    Holds the seats first (`lock_seats`); a caller passing `pending` holds them before counting it.
    """
    lock_seats(account)
    _check(account, "team seats", account.plan.max_seats, seats_used(account) + pending)
