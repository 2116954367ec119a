"""Getting back in: an emailed link that sets a new password, asked for by the person or sent by an admin.

The link's token is 256 bits of randomness stored only as its SHA-256. It works once, for one hour,
and a newer link ends the older ones. Opening it changes nothing (mail scanners open links too):
only the form it leads to, posted, uses it, and an UPDATE that must change exactly one row decides
which of two racing posts wins.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from . import accounts, audit, crypto, members, policy
from .brand import brand_of, sender_name
from .extensions import db
from .mail import queue_mail, render_mail
from .models import Account, Membership, PasswordReset, Role, User, utcnow
from .urls import external_url
from .zones import style_for

VALID_FOR = timedelta(hours=1)
# The longest token a link may carry: new_token() makes 43 characters; anything far longer is not ours.
MAX_TOKEN_LENGTH = 100


class ResetClosed(Exception):
    """The link is used, expired, replaced or unknown: it sets no password."""


def home_account(user: User, now: datetime | None = None) -> Account | None:
    """The account a person's mail speaks for: the one of their first live membership."""
    return db.session.scalar(
        select(Account).join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user.id, policy.membership_live(now or utcnow()))
        .order_by(Membership.created_at, Membership.id).limit(1)
    )


def issue(user: User, requested_by: User | None, account: Account | None,
          now: datetime | None = None) -> PasswordReset:
    """A new link for `user` (the earlier ones end) and its email, queued in this transaction."""
    now = now or utcnow()
    accounts.end_reset_links(user)
    token = crypto.new_token()
    reset = PasswordReset(user_id=user.id, requested_by_id=requested_by.id if requested_by else None,
                          token_hash=crypto.token_hash(token), created_at=now, expires_at=now + VALID_FOR)
    db.session.add(reset)
    db.session.flush()
    text_body, html_body = render_mail(
        "password_reset", user=user, requested_by=requested_by, account=account, brand=brand_of(account),
        link=external_url("passwords.open_link", token=token), expires_at=reset.expires_at,
        style=style_for(user, account),
    )
    queue_mail(user.email, "Set a new password for Roster", text_body, html_body,
               sender_name=sender_name(account))
    return reset


def request_for(email: str) -> PasswordReset | None:
    """Someone asked for a link for `email`: mail one if an active person uses it, else do nothing.

    The caller answers the same either way, so the page never says whether the address is known."""
    user = db.session.scalar(
        select(User).where(User.email == accounts.normalize_email(email), policy.person_active()))
    if user is None:
        return None
    return issue(user, None, home_account(user))


def send_for_member(account: Account, membership: Membership, editor: User) -> PasswordReset:
    """An owner or admin sends a member a link (the policy and `members.refusal` already agreed)."""
    reset = issue(membership.user, editor, account)
    audit.record(account.id, editor.id, "user.password_reset_sent", "user", membership.user_id,
                 after={"email": membership.user.email})
    return reset


def find_open(token_hash: str | None, now: datetime | None = None) -> PasswordReset | None:
    """The unused, unexpired link with this token hash, of a person who may still sign in; else None."""
    if not token_hash:
        return None
    return db.session.scalar(
        select(PasswordReset).join(User, User.id == PasswordReset.user_id)
        .where(PasswordReset.token_hash == token_hash, PasswordReset.used_at.is_(None),
               PasswordReset.expires_at > (now or utcnow()), policy.person_active())
    )


def hash_of(token: str) -> str | None:
    """The stored hash of a token from a URL, or None for something no link of ours carries."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return crypto.token_hash(token)


def use(reset: PasswordReset, new_password: str, now: datetime | None = None) -> User:
    """Set the new password from an open link and end every session of its person.

    The link is claimed with one UPDATE that only an unused, unexpired link matches: when two tabs
    post at once, the database lets one of them change the row and the other raises ResetClosed.
    Nothing is committed here; the caller signs the person in and commits."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    user = db.session.get(User, reset.user_id)
    if claimed != 1 or user is None or not user.active:
        raise ResetClosed
    accounts.change_password(user, new_password)
    accounts.record_own_change(user, "user.password_reset",
                               after={"sent_by": reset.requested_by_id} if reset.requested_by_id else None)
    return user


def check_may_send(editor: User, editor_role: str | None, membership: Membership) -> None:
    """Raise MemberError (BeyondReach) unless `editor` may send this member a reset link: whoever may
    change the member may (members.refusal), and only while the member may still sign in."""
    if membership.user_id == editor.id:
        raise members.MemberError("Change your own password in Settings › Your account.")
    if membership.role == Role.OWNER.value:
        raise members.MemberError("Only the owner can ask for a link for the owner, from the sign-in page.")
    if membership.role == Role.ADMIN.value and editor_role != Role.OWNER.value:
        raise members.MemberError("Only the owner can send an admin a reset link.")
    reason = members.refusal(editor, editor_role, membership, reach=False)
    if reason:
        raise members.MemberError(reason)
    reason = members.refusal(editor, editor_role, membership)
    if reason:
        raise members.BeyondReach(reason)
    if not membership.user.active:
        raise members.MemberError(f"{membership.user.name} is deactivated: a new password would not let them in.")
