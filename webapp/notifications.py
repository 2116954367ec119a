"""Notifications: what a person should know (a comment, a decision, a failed post, access given or
ending), in the app's list and bell, and by email at once, in a daily digest, or not at all.

A notification is added in the transaction of the change it is about, for the people the policy says
may see its object at that moment, never for the person who acted. Its email (delivery "now") is
queued in the same transaction. Later, every reader asks the policy again: the list and the bell count
only notifications whose object the person may still see, opening one checks the object itself, and
the digest leaves out what is no longer theirs to see. So a notification never outlives the access it
needs (DESIGN.md).

Approval requests are in the app only: the review digest (`webapp/review.py`) already emails approvers
the posts waiting for them, with the link that lets them decide.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g, has_request_context
from sqlalchemy import and_, exists, func, or_, select, update

from . import brand, paging, policy, zones
from .extensions import db
from .mail import queue_mail, render_mail
from .models import (
    AccessGroup,
    Account,
    Delivery,
    GroupUser,
    Membership,
    Notification,
    NotificationKind,
    NotificationPreference,
    Post,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    utcnow,
)
from .urls import external_url

KIND_LABELS: dict[str, str] = {
    NotificationKind.COMMENT_ADDED.value: "Comments on your posts",
    NotificationKind.DECISION_MADE.value: "Approval decisions on your posts",
    NotificationKind.APPROVAL_REQUESTED.value: "Posts waiting for your approval",
    NotificationKind.PUBLISH_FAILED.value: "Posts that could not be published",
    NotificationKind.ACCESS_GRANTED.value: "Access given to you",
    NotificationKind.ACCESS_ENDING.value: "Access about to end",
}
DELIVERY_LABELS: dict[str, str] = {
    Delivery.NOW.value: "Email at once",
    Delivery.DIGEST.value: "Daily digest",
    Delivery.OFF.value: "In the app only",
}
# Kinds never emailed from here: the review digest already emails approvers their waiting posts.
IN_APP_ONLY: frozenset[str] = frozenset({NotificationKind.APPROVAL_REQUESTED.value})
MESSAGE_MAX_LENGTH = 500
PAGE_SIZE = 25
# The bell shows up to this many unread, then "99+".
BELL_MOST_COUNTED = 99
# The daily digest goes out at this local time or the first run after it.
DIGEST_AT = time(8, 0)
DIGEST_BATCH = 200
DIGEST_MOST_LISTED = 50
# A digest lists what came in since about the last one, never a backlog of weeks.
DIGEST_LOOKBACK = timedelta(days=7)
ACCESS_ENDING_WITHIN = timedelta(days=7)
ACCESS_ENDING_BATCH = 500


# --- who hears of what --------------------------------------------------------------------------------


def _recipients_who_see(user_ids: set[int], account_id: int, group_id: int | None, post: Post | None,
                        now: datetime) -> list[User]:
    """Those of these people the policy lets see the object now: the post, else the group, else the account."""
    if not user_ids:
        return []
    db.session.flush()  # the change that causes this (an entry just added) counts
    if post is not None:
        sees = policy.sees_profile(User.id, post.social_profile_id, now)
    elif group_id is not None:
        sees = policy.may_enter(User.id, group_id, now)
    else:
        sees = select(Membership.id).where(Membership.user_id == User.id, Membership.account_id == account_id,
                                           policy.membership_live(now)).exists()
    return list(db.session.scalars(select(User).where(User.id.in_(user_ids), sees).order_by(User.id)))


def deliveries(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each of these people takes `kind`, in one query (no choice made: email at once)."""
    ids = list(user_ids)
    if kind in IN_APP_ONLY:
        return {user_id: Delivery.OFF.value for user_id in ids}
    chosen = dict(db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.delivery)
        .where(NotificationPreference.user_id.in_(ids), NotificationPreference.kind == kind)).all()) if ids else {}
    return {user_id: chosen.get(user_id, Delivery.NOW.value) for user_id in ids}


def notify(recipients: Iterable[User | int], kind: NotificationKind | str, account_id: int, message: str,
           actor: User | None = None, group_id: int | None = None, post_id: int | None = None,
           detail: str = "", email: bool = True, now: datetime | None = None) -> list[Notification]:
    """Tell these people, in the caller's transaction, those the policy lets see the object now.

    The actor is never told of their own action. Those who take `kind` at once are emailed now
    (`email=False` leaves it to the app, as when the person has just done the thing themselves);
    `detail` (a comment's text, say) goes in that email only."""
    kind = NotificationKind(kind).value
    now = now or utcnow()
    wanted = {getattr(person, "id", person) for person in recipients} - {None}
    if actor is not None:
        wanted.discard(actor.id)
    post = db.session.get(Post, post_id) if post_id is not None else None
    if post is not None:
        group_id = post.access_group_id
    people = _recipients_who_see(wanted, account_id, group_id, post, now)
    if not people:
        return []
    how = deliveries([person.id for person in people], kind)
    message = " ".join(message.split())[:MESSAGE_MAX_LENGTH]
    added = []
    for person in people:
        notification = Notification(user_id=person.id, account_id=account_id, kind=kind,
                                    actor_id=actor.id if actor else None, access_group_id=group_id,
                                    post_id=post_id, message=message, created_at=now)
        db.session.add(notification)
        added.append(notification)
    db.session.flush()
    account = db.session.get(Account, account_id)
    for person, notification in zip(people, added):
        if how[person.id] == Delivery.NOW.value:
            if email:
                _email(person, account, [notification], detail=detail)
            notification.mailed_at = now
        elif not email:
            notification.mailed_at = now  # told in the app at the moment they acted; no digest either
    return added


def _email(person: User, account: Account | None, items: list[Notification], digest: bool = False,
           more: int = 0, detail: str = "") -> None:
    style = zones.style_for(person, account)
    links = {item.id: external_url("notifications.open", notification_id=item.id) for item in items}
    text_body, html_body = render_mail(
        "notification", items=items, links=links, digest=digest, more=more, detail=detail, style=style,
        recipient=person, brand=brand.brand_of(account), labels=KIND_LABELS,
        all_url=external_url("notifications.index"), preferences_url=external_url("notifications.preferences"))
    if digest:
        count = len(items) + more
        subject = f"Your daily summary: {count} notification{'' if count == 1 else 's'}"
    else:
        subject = items[0].message
    queue_mail(person.email, subject[:250], text_body, html_body, sender_name=brand.sender_name(account))


# --- what a person may still see ----------------------------------------------------------------------


def still_visible(perms: policy.Permissions) -> Any:
    """SQL: notifications whose object these permissions still see: the post (in whatever group it is
    now), else the group, else the account they are a member of."""
    groups = perms.access_group_ids

    def of_post(column: Any) -> Any:
        # A scalar lookup by the post's key, row by row: the person's few unread rows never turn into a
        # scan of every post in their groups.
        return select(column).where(Post.id == Notification.post_id).correlate(Notification).scalar_subquery()

    post_seen = of_post(Post.access_group_id).in_(groups)
    if perms.removed_profiles:
        post_seen = and_(post_seen, of_post(Post.social_profile_id).not_in(perms.removed_profiles))
    return and_(
        Notification.account_id.in_(list(perms.roles)),
        or_(
            and_(Notification.post_id.is_not(None), post_seen),
            and_(Notification.post_id.is_(None), Notification.access_group_id.in_(groups)),
            and_(Notification.post_id.is_(None), Notification.access_group_id.is_(None)),
        ),
    )


def _own_visible(perms: policy.Permissions) -> Any:
    return and_(Notification.user_id == perms.user_id, still_visible(perms))


def unread_count() -> int:
    """How many unread notifications the signed-in person may still see, up to BELL_MOST_COUNTED + 1;
    one query, once per request."""
    if not has_request_context():
        return 0
    if "_unread_notifications" not in g:
        # Read, not asked: the shell renders this on every page, and must not stand in for a view that
        # never asked the policy (`policy.check_policy_was_asked`).
        perms = policy.permissions_for(_current_user())
        count = 0
        if perms.user_id is not None:
            # Counted up to one past what the bell shows ("99+"), so its time does not grow with a backlog.
            unread = (select(Notification.id).where(Notification.read_at.is_(None), _own_visible(perms))
                      .limit(BELL_MOST_COUNTED + 1).subquery())
            count = db.session.scalar(select(func.count()).select_from(unread))
        g._unread_notifications = count
    return g._unread_notifications


def history_page(cursor: str | None, size: int = PAGE_SIZE) -> paging.Page[Notification]:
    """A page of the signed-in person's notifications, newest first, those they may still see."""
    perms = policy.current_permissions()
    return paging.keyset_page(select(Notification).where(_own_visible(perms)),
                              Notification.created_at, Notification.id, cursor, size, descending=True)


def own_or_404(notification_id: int, user: User) -> Notification | None:
    """The person's own notification (another person's is not found)."""
    return db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == user.id))


def mark_read(notification: Notification, now: datetime | None = None) -> None:
    if notification.read_at is None:
        notification.read_at = now or utcnow()


def mark_all_read(user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of the person read; returns how many."""
    return db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())).rowcount


@dataclass(frozen=True)
class Target:
    """Where opening a notification leads, if the policy still lets the person go there."""

    endpoint: str | None
    values: dict
    what: str  # "post", "group" or "account", for the page that says it is no longer available


def target_of(notification: Notification) -> Target:
    """The object the notification is about, asked of the policy now (endpoint None: not available)."""
    if notification.post_id is not None:
        post = db.session.scalar(policy.visible(select(Post)).where(Post.id == notification.post_id))
        if post is not None and policy.can(_current_user(), "posts.view", post):
            return Target("posts.show", {"group_id": post.access_group_id, "post_id": post.id}, "post")
        return Target(None, {}, "post")
    if notification.access_group_id is not None:
        group = db.session.get(AccessGroup, notification.access_group_id)
        if group is not None and policy.can(_current_user(), policy.ENTER, group):
            return Target("groups.home", {"group_id": group.id}, "group")
        return Target(None, {}, "group")
    account = db.session.get(Account, notification.account_id)
    if account is not None and policy.can(_current_user(), policy.ACCOUNT_VIEW, account):
        return Target("notifications.index", {}, "account")
    return Target(None, {}, "account")


def _current_user() -> Any:
    from flask_login import current_user

    return current_user


# --- preferences --------------------------------------------------------------------------------------


def preferences(user: User) -> dict[str, str]:
    """The person's delivery for every kind (no choice made: email at once)."""
    chosen = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.delivery)
                                     .where(NotificationPreference.user_id == user.id)).all())
    return {kind.value: (Delivery.OFF.value if kind.value in IN_APP_ONLY
                         else chosen.get(kind.value, Delivery.NOW.value)) for kind in NotificationKind}


def set_preferences(user: User, choices: dict[str, str]) -> bool:
    """Save the person's choices; kinds kept in the app are not theirs to choose. Says if anything changed."""
    current = preferences(user)
    changed = False
    for kind, delivery in choices.items():
        if kind in IN_APP_ONLY or kind not in KIND_LABELS or delivery not in DELIVERY_LABELS:
            continue
        if current.get(kind) == delivery:
            continue
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
        else:
            row.delivery = delivery
        changed = True
    return changed


# --- the daily digest ---------------------------------------------------------------------------------


def _home_accounts(user_ids: list[int]) -> dict[int, Account]:
    """Each person's first agency (their oldest membership): its zone is theirs unless they chose one."""
    found: dict[int, Account] = {}
    for user_id, account in db.session.execute(
            select(Membership.user_id, Account).join(Account, Account.id == Membership.account_id)
            .where(Membership.user_id.in_(user_ids)).order_by(Membership.user_id, Membership.id)):
        found.setdefault(user_id, account)
    return found


def send_digests(now: datetime | None = None, batch: int = DIGEST_BATCH) -> int:
    """Send each person whose local time is past 08:00 and who had no digest today theirs; returns how
    many emails were queued. Commits after each person, so a second worker never sends one twice."""
    now = now or utcnow()
    # Nobody's local day is later than tomorrow in UTC: those marked that day are done.
    latest_today = now.date() + timedelta(days=1)
    last_id, sent = 0, 0
    while True:
        users = list(db.session.scalars(
            select(User).where(User.id > last_id, User.active.is_(True),
                               or_(User.digest_sent_on.is_(None), User.digest_sent_on < latest_today))
            .order_by(User.id).limit(batch)))
        if not users:
            return sent
        last_id = users[-1].id
        homes = _home_accounts([user.id for user in users])
        due = []
        for user in users:
            style = zones.style_for(user, homes.get(user.id))
            local = style.local(now)
            if local.time() >= DIGEST_AT and (user.digest_sent_on is None or user.digest_sent_on < local.date()):
                due.append((user, local.date()))
        grounds = policy.load_grounds([user.id for user, _ in due], now) if due else {}
        for user, today in due:
            if _send_digest(user, today, homes.get(user.id), grounds[user.id].permissions, now):
                sent += 1
        db.session.commit()
        if len(users) < batch:
            return sent


def _digest_kinds(user: User) -> list[str]:
    return [kind for kind, delivery in preferences(user).items() if delivery == Delivery.DIGEST.value]


def _send_digest(user: User, today: date, home: Account | None, perms: policy.Permissions, now: datetime) -> bool:
    """Claim the person's digest for `today` and send it; False when another worker had it or nothing waits."""
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.digest_sent_on.is_(None), User.digest_sent_on < today))
        .values(digest_sent_on=today).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        return False
    kinds = _digest_kinds(user)
    waiting = and_(Notification.user_id == user.id, Notification.kind.in_(kinds), Notification.mailed_at.is_(None),
                   Notification.created_at <= now, Notification.created_at > now - DIGEST_LOOKBACK)
    items: list[Notification] = []
    if kinds and perms.user_id is not None:
        items = list(db.session.scalars(
            select(Notification).where(waiting, still_visible(perms))
            .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(DIGEST_MOST_LISTED + 1)))
    more = 0
    if len(items) > DIGEST_MOST_LISTED:
        more = db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(waiting, still_visible(perms))) - DIGEST_MOST_LISTED
        items = items[:DIGEST_MOST_LISTED]
    if kinds:
        # What is no longer visible is not sent later either: it is settled with the rest.
        db.session.execute(update(Notification).where(waiting).values(mailed_at=now)
                           .execution_options(synchronize_session=False))
    if items:
        accounts = {item.account_id for item in items}
        account = home if home is not None and accounts == {home.id} else (
            db.session.get(Account, accounts.pop()) if len(accounts) == 1 else None)
        _email(user, account if account is not None else home, items, digest=True, more=more)
    db.session.commit()
    return bool(items)


# --- events -------------------------------------------------------------------------------------------


def account_of_group(group_id: int) -> int:
    return db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == group_id))


def publish_failed(post: Post, error: str) -> None:
    """A post's first failed try since it was last scheduled: its author and the group's managers hear of it."""
    managers = select(Membership.user_id).join(
        AccessGroup, AccessGroup.account_id == Membership.account_id).where(
        AccessGroup.id == post.access_group_id, Membership.role == Role.MANAGER.value)
    people = set(db.session.scalars(managers))
    if post.author_id is not None:
        people.add(post.author_id)
    profile = post.social_profile
    notify(people, NotificationKind.PUBLISH_FAILED, account_of_group(post.access_group_id),
           f"The {profile.network_label} post for @{profile.handle} could not be published: {error}",
           post_id=post.id, detail="Roster tries again a few times; the post page says how it went.")


def access_granted_to_group(group: AccessGroup, user: User, actor: User) -> None:
    """Someone was put on a group's Users tab."""
    notify([user], NotificationKind.ACCESS_GRANTED, group.account_id,
           f"{actor.name} gave you access to “{group.name}”.", actor=actor, group_id=group.id)


def access_granted_by_user_group(user_group: UserGroup, user: User, actor: User) -> None:
    """Someone joined a user group: told of the first group it opens to them, naming the others."""
    groups = list(db.session.scalars(
        select(AccessGroup).join(UserGroupGrant, UserGroupGrant.access_group_id == AccessGroup.id)
        .where(UserGroupGrant.user_group_id == user_group.id)
        .order_by(func.lower(AccessGroup.name), AccessGroup.id).limit(4)))
    if not groups:
        return  # a user group that opens no access group gives no access to tell of
    names = ", ".join(f"“{group.name}”" for group in groups[:3]) + (" and more" if len(groups) > 3 else "")
    notify([user], NotificationKind.ACCESS_GRANTED, user_group.account_id,
           f"{actor.name} added you to the user group “{user_group.name}”, which opens {names}.",
           actor=actor, group_id=groups[0].id)


def access_granted_by_grant(user_group: UserGroup, group_ids: list[int], actor: User) -> None:
    """A user group was granted more access groups: its members are told what it opens to them now."""
    groups = list(db.session.scalars(
        select(AccessGroup).where(AccessGroup.id.in_(group_ids)).order_by(func.lower(AccessGroup.name), AccessGroup.id)))
    if not groups:
        return
    members = db.session.scalars(
        select(UserGroupMember.user_id).where(UserGroupMember.user_group_id == user_group.id)).all()
    names = ", ".join(f"“{group.name}”" for group in groups[:3]) + (" and more" if len(groups) > 3 else "")
    notify(members, NotificationKind.ACCESS_GRANTED, user_group.account_id,
           f"{actor.name} gave the user group “{user_group.name}” access to {names}: you can work there now.",
           actor=actor, group_id=groups[0].id)


def access_granted_by_invitation(account: Account, user: User, inviter_id: int | None,
                                 groups: list[AccessGroup]) -> None:
    """An invitation was accepted: the new member's list says where they may now work (no email:
    they have just done it themselves)."""
    if not groups:
        return
    inviter = db.session.get(User, inviter_id) if inviter_id else None
    names = ", ".join(f"“{group.name}”" for group in groups[:3]) + (" and more" if len(groups) > 3 else "")
    notify([user], NotificationKind.ACCESS_GRANTED, account.id, f"You joined {account.name}: you can work in {names}.",
           actor=inviter, group_id=groups[0].id, email=False)


def _ending_message(account: Account, what: str, expires_at: datetime) -> str:
    # End dates are the agency's: "until 3 March" lasts all of 3 March in its zone.
    last_day = zones.local_day(account, expires_at - timedelta(microseconds=1))
    return f"{what} ends after {last_day.strftime('%-d %B %Y')}."


def notify_access_ending(now: datetime | None = None, batch: int = ACCESS_ENDING_BATCH) -> int:
    """Tell people whose Users-tab entries, memberships or user-group memberships end within 7 days,
    once per path and end date; commits, and returns how many were told."""
    now = now or utcnow()
    soon = now + ACCESS_ENDING_WITHIN
    told = 0
    told += _ending_paths(
        select(GroupUser.user_id, GroupUser.expires_at, AccessGroup.account_id, AccessGroup)
        .join(AccessGroup, AccessGroup.id == GroupUser.access_group_id)
        .where(GroupUser.expires_at > now, GroupUser.expires_at <= soon)
        .order_by(GroupUser.access_group_id, GroupUser.user_id),
        lambda row, account: (row[3].id, f"Your access to “{row[3].name}”"), batch, now)
    told += _ending_paths(
        select(Membership.user_id, Membership.expires_at, Membership.account_id)
        .where(Membership.expires_at > now, Membership.expires_at <= soon, Membership.deactivated_at.is_(None))
        .order_by(Membership.id),
        lambda row, account: (None, f"Your membership of {account.name}"), batch, now)
    told += _ending_paths(
        select(UserGroupMember.user_id, UserGroupMember.expires_at, UserGroup.account_id, UserGroup)
        .join(UserGroup, UserGroup.id == UserGroupMember.user_group_id)
        .where(UserGroupMember.expires_at > now, UserGroupMember.expires_at <= soon)
        .order_by(UserGroupMember.user_group_id, UserGroupMember.user_id),
        lambda row, account: (None, f"Your place in the user group “{row[3].name}”"), batch, now)
    return told


def _ending_paths(statement, describe, batch: int, now: datetime) -> int:
    told, offset = 0, 0
    accounts: dict[int, Account] = {}
    while True:
        rows = db.session.execute(statement.offset(offset).limit(batch)).all()
        for row in rows:
            user_id, expires_at, account_id = row[0], row[1], row[2]
            account = accounts.get(account_id) or db.session.get(Account, account_id)
            accounts[account_id] = account
            group_id, what = describe(row, account)
            message = _ending_message(account, what, expires_at)
            # Two workers checking at once take turns on the person (PostgreSQL), so the second sees the
            # first one's notification and adds none; SQLite runs one writer at a time anyway.
            db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
            already = db.session.scalar(select(exists().where(
                Notification.user_id == user_id, Notification.kind == NotificationKind.ACCESS_ENDING.value,
                Notification.account_id == account_id, Notification.message == message)))
            if not already and notify([user_id], NotificationKind.ACCESS_ENDING, account_id, message,
                                      group_id=group_id, now=now):
                told += 1
        db.session.commit()
        if len(rows) < batch:
            return told
        offset += batch
