"""Rules about accounts and people: first-run setup, signing in, passwords, deactivation."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import AccessGroup, Account, AuditEvent, GroupUser, Membership, Role, User

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


def create_first_account(agency_name: str, owner_name: str, email: str, password: str) -> NewAccount:
    """Create the agency, its owner and its default access group (first-run setup)."""
    owner = User(email=normalize_email(email), name=owner_name.strip(), password_hash=hash_password(password))
    account = Account(name=agency_name.strip(), plan_code="self_hosted")
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
            after={"name": account.name, "owner": owner.email},
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


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of this user."""
    user.password_hash = hash_password(new_password)
    user.session_version += 1


def deactivate(user: User) -> None:
    """Stop a user from signing in and end all their sessions."""
    user.active = False
    user.session_version += 1
