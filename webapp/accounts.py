"""Rules about accounts and people: first-run setup, signing in, sessions, passwords, deactivation."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from . import approvals, audit, policy
from .crypto import new_token, token_hash
from .extensions import db
from .models import (
    AccessGroup,
    Account,
    AuditEvent,
    GroupUser,
    Membership,
    PasswordReset,
    Role,
    User,
    UserSession,
    utcnow,
)

MIN_PASSWORD_LENGTH = 10

# Compared against when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    return email.strip().lower()


def account_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(Account)) > 0


@dataclass(frozen=True)
class NewAccount:
    account: Account
    owner: User
    default_group: AccessGroup


def create_first_account(agency_name: str, owner_name: str, email: str, password: str,
                         time_zone: str = "UTC") -> NewAccount:
    """Create the agency, its owner and its default access group (first-run setup)."""
    owner = User(email=normalize_email(email), name=owner_name.strip(), password_hash=hash_password(password))
    account = Account(name=agency_name.strip(), plan_code="self_hosted", time_zone=time_zone)
    default_group = AccessGroup(account=account, name=agency_name.strip(), is_default=True)
    db.session.add_all([owner, account, default_group])
    db.session.add(Membership(account=account, user=owner, role=Role.OWNER.value))
    db.session.flush()
    db.session.add(GroupUser(access_group_id=default_group.id, user_id=owner.id))
    db.session.add(
        AuditEvent(
            account_id=account.id,
            actor_id=owner.id,
            verb="account.created",
            object_type="account",
            object_id=account.id,
            after={"name": account.name, "owner": owner.email, "time_zone": account.time_zone},
        )
    )
    return NewAccount(account=account, owner=owner, default_group=default_group)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (in about the same time either way)."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def _session_lifetime() -> timedelta:
    """As long as a session cookie lasts: a session unused for longer has lapsed."""
    return current_app.permanent_session_lifetime


def session_live(now: datetime) -> ColumnElement[bool]:
    """A session is live until it is ended, or lapses unused for as long as its cookie would last."""
    return and_(UserSession.ended_at.is_(None), UserSession.last_seen_at > now - _session_lifetime())


def start_session(user: User) -> tuple[UserSession, str]:
    """A new session for `user` and its secret (stored only as a hash); the user's long-over ones go."""
    cutoff = utcnow() - _session_lifetime()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, or_(UserSession.ended_at < cutoff, UserSession.last_seen_at < cutoff)
        )
    )
    secret = new_token()
    record = UserSession(user_id=user.id, secret_hash=token_hash(secret))
    db.session.add(record)
    db.session.flush()
    return record, secret


def live_session(session_id: int, secret: str) -> UserSession | None:
    """The live session with this id and secret, of an active user (loaded with it), or None."""
    record = db.session.scalar(
        select(UserSession)
        .join(UserSession.user)
        .options(contains_eager(UserSession.user))
        .where(UserSession.id == session_id, session_live(utcnow()), policy.person_active())
    )
    if record is None or not hmac.compare_digest(record.secret_hash, token_hash(secret)):
        return None
    return record


def end_sessions(user: User, keep: UserSession | None = None) -> int:
    """End every live session of `user` but `keep`; how many ended."""
    now = utcnow()
    statement = update(UserSession).where(UserSession.user_id == user.id, session_live(now))
    if keep is not None:
        statement = statement.where(UserSession.id != keep.id)
    return db.session.execute(statement.values(ended_at=now)).rowcount


def record_own_change(user: User, verb: str, after: dict[str, Any] | None = None) -> None:
    """Audit a change `user` made to their own login, in each account they belong to."""
    account_ids = db.session.scalars(select(Membership.account_id).where(Membership.user_id == user.id)).all()
    for account_id in account_ids:
        audit.record(account_id, user.id, verb, "user", user.id, after=after)


def end_reset_links(user: User) -> int:
    """Close every unused password reset link of `user`; how many."""
    return db.session.execute(
        update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def change_password(user: User, new_password: str, keep: UserSession | None = None) -> int:
    """Set a new password, end every session of this user but `keep` (the one changing it), and the
    reset links still open: a link asked for before the change must not undo it."""
    user.password_hash = hash_password(new_password)
    end_reset_links(user)
    return end_sessions(user, keep=keep)


def deactivate(user: User) -> None:
    """Stop a user from signing in, end all their sessions, and the approver duty that needed them."""
    user.active = False
    end_sessions(user)
    for membership in user.memberships:
        approvals.end_lost_duties(membership.account_id, None, f"{user.name} was deactivated")
