"""The access review and the "Why?" explainer: who can enter which access group, with which rights, and why.

Nothing here decides access. Who enters which group is the policy's own SQL (`policy.entry_paths`),
read a page of rows at a time; the policy loads every path behind those members' permissions
(`policy.load_grounds`, one query for any number of members) and answers each question
(`policy.explain`, whose verdict is the policy's own `decide`); this module only puts names and end
dates on those paths, so the table, its CSV and the explainer say in words what the policy does.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy.orm import contains_eager

from . import paging, policy
from .extensions import db
from .models import AccessGroup, Account, GroupUser, Membership, User, UserGroup, UserGroupMember, utcnow
from .policy import ENTER, RIGHTS, Grounds
from .zones import local_day, today_in
from .rights import areas, label
from .team import ROLE_LABELS

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_HEADER = ("name", "email", "role", "access group", "entry through", "rights",
              "rights beyond the role", "ends")

ENTRY_LABELS = {policy.VIA_OWNER: "Owner", policy.VIA_USERS_TAB: "Users tab"}


# --- names and dates -----------------------------------------------------------------------------


def day_text(day: date) -> str:
    """A day as the explainer writes it: 2 Dec 2026."""
    return f"{day.day} {day:%b %Y}"


def action_phrase(action: str) -> str:
    """What the action does, to follow "can": "upload media", "enter"."""
    if action == ENTER:
        return "enter"
    words = label(action)
    return words[:1].lower() + words[1:]


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The questions the explainer answers, by area: entering a group, then each right."""
    return [("Access", [(ENTER, "Enter the group")]), *areas()]


def member_choices(members: list[Membership], now: datetime | None = None) -> list[tuple[int, str]]:
    """(user id, "Name (email)") for the explainer's person select; members without access say so."""
    now = now or utcnow()
    return [
        (membership.user_id, f"{membership.user.name} ({membership.user.email})"
         + ("" if policy.membership_gives_access(membership, now) else " · no access now"))
        for membership in members
    ]


def memberships(account: Account) -> list[Membership]:
    """Every member of the account, live or not, with their user, by name."""
    return list(db.session.scalars(
        select(Membership).join(Membership.user)
        .where(Membership.account_id == account.id)
        .options(contains_eager(Membership.user))
        .order_by(func.lower(User.name), User.id)
    ))


def membership_of(account: Account, user_id: int) -> Membership | None:
    """The membership of `user_id` in `account` (live or not), or None when they are not a member."""
    return db.session.scalar(
        select(Membership).join(Membership.user)
        .where(Membership.account_id == account.id, Membership.user_id == user_id)
        .options(contains_eager(Membership.user))
    )


_ON_USERS_TAB, _IN_USER_GROUP = "users_tab", "user_group"  # which end date a row of `end_dates` gives


@dataclass(frozen=True)
class EndDates:
    """When the dated paths of some members end: Users tab entries and user group memberships."""

    users_tab: dict[tuple[int, int], datetime]  # (user id, access group id) -> end
    user_groups: dict[tuple[int, int], datetime]  # (user id, user group id) -> end
    user_group_names: dict[int, str]


def end_dates(account: Account, user_ids: list[int] | None = None) -> EndDates:
    """End dates (of these members, if given) and user group names of the account, in two queries
    whatever its size."""
    users_tab = (
        select(literal(_ON_USERS_TAB).label("path"), GroupUser.user_id, GroupUser.access_group_id.label("target_id"),
               GroupUser.expires_at)
        .join(AccessGroup, AccessGroup.id == GroupUser.access_group_id)
        .where(AccessGroup.account_id == account.id, GroupUser.expires_at.is_not(None))
    )
    in_user_groups = (
        select(literal(_IN_USER_GROUP), UserGroupMember.user_id, UserGroupMember.user_group_id,
               UserGroupMember.expires_at)
        .join(UserGroup, UserGroup.id == UserGroupMember.user_group_id)
        .where(UserGroup.account_id == account.id, UserGroupMember.expires_at.is_not(None))
    )
    if user_ids is not None:
        users_tab = users_tab.where(GroupUser.user_id.in_(user_ids))
        in_user_groups = in_user_groups.where(UserGroupMember.user_id.in_(user_ids))
    ends: dict[str, dict[tuple[int, int], datetime]] = {_ON_USERS_TAB: {}, _IN_USER_GROUP: {}}
    for path, user, target, end in db.session.execute(union_all(users_tab, in_user_groups)):
        ends[path][(user, target)] = end
    return EndDates(
        users_tab=ends[_ON_USERS_TAB],
        user_groups=ends[_IN_USER_GROUP],
        user_group_names={user_group_id: name for user_group_id, name in db.session.execute(
            select(UserGroup.id, UserGroup.name).where(UserGroup.account_id == account.id)
        )},
    )


# --- the review ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """One way into an access group, as people read it, with the last day it works (if it ends)."""

    label: str
    ends_on: date | None = None

    @property
    def text(self) -> str:
        return f"{self.label} (until {self.ends_on.isoformat()})" if self.ends_on else self.label


@dataclass(frozen=True)
class ReviewRow:
    """One member in one access group they may enter: with which rights, and through what."""

    user_id: int
    name: str
    email: str
    role: str
    member_until: date | None
    access_group_id: int
    access_group: str
    paths: tuple[Path, ...]
    rights: tuple[str, ...]  # in the policy's order
    beyond_role: tuple[tuple[str, tuple[str, ...]], ...]  # (source, rights it adds beyond the role)
    ends_on: date | None  # the earliest day on which part of this access ends

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def every_right(self) -> bool:
        return len(self.rights) == len(RIGHTS)

    @property
    def rights_text(self) -> str:
        return "Every right" if self.every_right else ", ".join(label(right) for right in self.rights)

    @property
    def entry_text(self) -> str:
        return "; ".join(path.text for path in self.paths)

    @property
    def beyond_role_text(self) -> str:
        return "; ".join(f"{source}: {', '.join(label(right) for right in rights)}"
                         for source, rights in self.beyond_role)

    def csv_cells(self) -> tuple[str, ...]:
        """The row as the CSV lists it, in the order of `CSV_HEADER`."""
        return (self.name, self.email, self.role_label, self.access_group, self.entry_text,
                " ".join(self.rights), self.beyond_role_text,
                self.ends_on.isoformat() if self.ends_on else "")


ROWS_PER_PAGE = 50


@dataclass(frozen=True)
class ReviewScope:
    """What the review lists: live members in the access groups `group_ids` (those the reviewer may see,
    or the one chosen), narrowed to members whose name or email contains `person` when given."""

    group_ids: tuple[int, ...]
    person: str = ""


@dataclass(frozen=True)
class Review:
    """One page of the review, and what the page says around it and the explainer offers."""

    rows: list[ReviewRow]
    next_cursor: str | None  # where the next page starts; None on the last one
    entries: int  # rows on every page together
    members: list[Membership]  # everyone in the account, live or not (the explainer's choices)
    not_listed: int  # members left out because they are deactivated or their access ended
    live_count: int


def _row(membership: Membership, group: AccessGroup, grounds: Grounds, ends: EndDates,
         account: Account) -> ReviewRow | None:
    """The review row of one member in one group, or None when they may not enter it."""
    entry = policy.explain(grounds, ENTER, group)
    if not entry.allowed:
        return None
    user_id = membership.user_id
    paths: list[Path] = []
    moments: list[datetime] = [membership.expires_at] if membership.expires_at else []
    for reason in entry.entry:
        if reason.kind == policy.VIA_USER_GROUP:
            end = ends.user_groups.get((user_id, reason.user_group_id))
            name = f"User group {ends.user_group_names.get(reason.user_group_id, '?')}"
        else:
            end = ends.users_tab.get((user_id, group.id)) if reason.kind == policy.VIA_USERS_TAB else None
            name = ENTRY_LABELS[reason.kind]
        paths.append(Path(name, local_day(account, end) if end else None))
        if end:
            moments.append(end)

    rights: list[str] = []
    beyond: dict[tuple[int, str], list[str]] = {}  # (order, source) -> rights
    for right in RIGHTS:
        explanation = policy.explain(grounds, right, group)
        if not explanation.allowed:
            continue
        rights.append(right)
        kinds = {reason.kind for reason in explanation.right}
        if kinds & {"owner", "role"}:
            continue  # the role already gives it
        for reason in explanation.right:
            if reason.kind == "own":
                beyond.setdefault((0, "own"), []).append(right)
            elif reason.kind == "user_group":
                source = f"user group {ends.user_group_names.get(reason.user_group_id, '?')}"
                beyond.setdefault((1, source), []).append(right)
                end = ends.user_groups.get((user_id, reason.user_group_id))
                if end:
                    moments.append(end)
    return ReviewRow(
        user_id=user_id,
        name=membership.user.name,
        email=membership.user.email,
        role=entry.role or membership.role,
        member_until=local_day(account, membership.expires_at) if membership.expires_at else None,
        access_group_id=group.id,
        access_group=group.name,
        paths=tuple(paths),
        rights=tuple(rights),
        beyond_role=tuple((source, tuple(granted))
                          for (_, source), granted in sorted(beyond.items(), key=lambda item: item[0])),
        ends_on=local_day(account, min(moments)) if moments else None,
    )


# Rows by member (name, then id), then by access group (name, then id): the order of the table and the CSV.
_ROW_KEY = (func.lower(User.name), User.id, func.lower(AccessGroup.name), AccessGroup.id)
_ROW_SHAPE = (str, int, str, int)


def _entries(account: Account, scope: ReviewScope, now: datetime) -> Select:
    """SQL: (user id, access group id) of each entry in the review, one per member and group however
    many ways in. Entering is the policy's own definition (`policy.entry_paths`), which counts only
    live members of the group's account."""
    ways_in = policy.entry_paths(now, group_ids=list(scope.group_ids)).subquery()
    statement = (
        select(ways_in.c.user_id, ways_in.c.access_group_id).distinct()
        .where(ways_in.c.account_id == account.id)
    )
    wanted = scope.person.strip().lower()
    if wanted:
        statement = statement.join(User, User.id == ways_in.c.user_id).where(or_(
            func.lower(User.name).contains(wanted, autoescape=True),
            func.lower(User.email).contains(wanted, autoescape=True),
        ))
    return statement


def _entry_rows(account: Account, scope: ReviewScope, now: datetime) -> Select:
    """SQL: the (membership with its user, access group) of each entry in the review, not yet ordered."""
    entries = _entries(account, scope, now).subquery()
    return (
        select(Membership, AccessGroup)
        .join(entries, entries.c.user_id == Membership.user_id)
        .join(Membership.user)
        .join(AccessGroup, AccessGroup.id == entries.c.access_group_id)
        .where(Membership.account_id == account.id)
        .options(contains_eager(Membership.user))
    )


def _rows(account: Account, entries: list[tuple[Membership, AccessGroup]], now: datetime) -> list[ReviewRow]:
    """The rows of these entries, with the paths and rights the policy finds: three queries more for
    any number of them (their members' grounds and end dates)."""
    if not entries:
        return []
    user_ids = list(dict.fromkeys(membership.user_id for membership, _group in entries))
    grounds = policy.load_grounds(user_ids, now)
    ends = end_dates(account, user_ids)
    return [
        row
        for membership, group in entries
        if (row := _row(membership, group, grounds[membership.user_id], ends, account)) is not None
    ]


def review_page(account: Account, scope: ReviewScope, cursor: str | None = None, size: int = ROWS_PER_PAGE,
                now: datetime | None = None) -> paging.Page[ReviewRow]:
    """`size` rows of the review from after the row `cursor` names (the first ones without it)."""
    now = now or utcnow()
    page = paging.keyset_page_by(_entry_rows(account, scope, now), _ROW_KEY, _ROW_SHAPE, cursor, size)
    return paging.Page(_rows(account, page.rows, now), page.next_cursor)


def every_row(account: Account, scope: ReviewScope, now: datetime | None = None) -> list[ReviewRow]:
    """Every row of the review, in the table's order (for the CSV): a fixed number of queries."""
    now = now or utcnow()
    entries = db.session.execute(_entry_rows(account, scope, now).order_by(*_ROW_KEY)).all()
    return _rows(account, [tuple(entry) for entry in entries], now)


def review(account: Account, scope: ReviewScope, cursor: str | None = None, size: int = ROWS_PER_PAGE,
           now: datetime | None = None) -> Review:
    """Who of the account's live members may enter which groups of `scope`, with which rights and through
    what: a page of rows, how many there are in all, and the members around them.

    A fixed number of queries, whatever the number of members and groups.
    """
    now = now or utcnow()
    everyone = memberships(account)
    live_count = sum(1 for membership in everyone if policy.membership_gives_access(membership, now))
    page = review_page(account, scope, cursor, size, now)
    return Review(
        rows=page.rows,
        next_cursor=page.next_cursor,
        entries=db.session.scalar(select(func.count()).select_from(_entries(account, scope, now).subquery())),
        members=everyone,
        not_listed=len(everyone) - live_count,
        live_count=live_count,
    )


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_text(rows: list[ReviewRow]) -> str:
    """The review as CSV: a header row, then the same rows as the table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([_safe_cell(cell) for cell in row.csv_cells()])
    return buffer.getvalue()


def csv_filename(account: Account, now: datetime | None = None) -> str:
    """access-review-<day>.csv, dated in the account's time zone."""
    today = today_in(account, now)
    return f"access-review-{today.isoformat()}.csv"


# --- the "Why?" explainer ------------------------------------------------------------------------


@dataclass(frozen=True)
class WhyAnswer:
    """Yes or no in plain words, with every path behind the answer and what is missing."""

    allowed: bool
    summary: str
    grants_heading: str
    grants: tuple[str, ...]  # how the right is held (empty when the question is entering)
    entries_heading: str
    entries: tuple[str, ...]  # the ways into the group
    missing: tuple[str, ...]  # what stands in the way, when the answer is no
    notes: tuple[str, ...]


def _until(end: datetime | None, account: Account) -> str:
    return f" (until {day_text(local_day(account, end))})" if end else ""


def _not_live(membership: Membership, name: str, account: Account, now: datetime) -> str:
    if not membership.user.active:
        return f"{name}'s user account is deactivated, so they cannot sign in or do anything."
    if membership.deactivated_at is not None:
        return f"{name} is not a live member of {account.name}: their membership is deactivated."
    if policy.has_ended(membership.expires_at, now):
        return (f"{name} is not a live member of {account.name}: "
                f"their access ended after {day_text(local_day(account, membership.expires_at))}.")
    return f"{name} is not a live member of {account.name}."


def explain_access(account: Account, membership: Membership, group: AccessGroup, action: str,
                   now: datetime | None = None) -> WhyAnswer:
    """May this member take `action` (entering the group, or a right) in `group`, and why."""
    now = now or utcnow()
    user_id = membership.user_id
    name = membership.user.name
    grounds = policy.load_grounds([user_id], now)[user_id]
    explanation = policy.explain(grounds, action, group)
    ends = end_dates(account, [user_id])
    in_group = f"in “{group.name}”" if action != ENTER else f"“{group.name}”"
    verb = action_phrase(action)
    summary = (f"Yes: {name} can {verb} {in_group}." if explanation.allowed
               else f"No: {name} cannot {verb} {in_group}.")
    role_label = ROLE_LABELS.get(explanation.role or "", explanation.role or "")
    right_label = label(action)

    def user_group(user_group_id: int | None) -> str:
        return f"“{ends.user_group_names.get(user_group_id, '?')}”"

    grants: list[str] = []
    for reason in explanation.right:
        if reason.kind == "owner":
            grants.append(f"{name} is the owner, and the owner holds every right.")
        elif reason.kind == "role":
            grants.append(f"The {role_label} role includes “{right_label}”.")
        elif reason.kind == "own":
            grants.append(f"{name} holds “{right_label}” as an own right.")
        elif reason.kind == "user_group":
            end = ends.user_groups.get((user_id, reason.user_group_id))
            grants.append(f"User group {user_group(reason.user_group_id)} gives “{right_label}”; "
                          f"{name} is in it{_until(end, account)}.")

    entries: list[str] = []
    for reason in explanation.entry:
        if reason.kind == policy.VIA_OWNER:
            entries.append(f"{name} is the owner, who may enter every access group.")
        elif reason.kind == policy.VIA_USERS_TAB:
            end = ends.users_tab.get((user_id, group.id))
            entries.append(f"{name} is on the Users tab of “{group.name}”{_until(end, account)}.")
        elif reason.kind == policy.VIA_USER_GROUP:
            end = ends.user_groups.get((user_id, reason.user_group_id))
            entries.append(f"{name} is in user group {user_group(reason.user_group_id)}{_until(end, account)}, "
                           f"which is granted on “{group.name}”.")

    missing: list[str] = []
    if explanation.role is None:
        missing.append(_not_live(membership, name, account, now))
    elif not explanation.entry:
        missing.append(f"{name} cannot enter “{group.name}”: they are not on its Users tab, "
                       "and no user group of theirs is granted on it.")
    if explanation.role is not None and action != ENTER and not explanation.right:
        missing.append(f"No path grants “{right_label}”: the {role_label} role does not include it, "
                       f"{name} does not hold it as an own right, and none of their user groups gives it.")

    notes: list[str] = []
    if explanation.role is not None and membership.expires_at is not None:
        notes.append(f"{name} is a member until {day_text(local_day(account, membership.expires_at))}; "
                     "all of this ends then.")

    if explanation.allowed:
        grants_heading = f"Where “{right_label}” comes from"
    else:
        grants_heading = f"“{right_label}” would come from (it counts only in groups {name} may enter)"
    return WhyAnswer(
        allowed=explanation.allowed,
        summary=summary,
        grants_heading=grants_heading,
        grants=tuple(grants),
        entries_heading=f"How {name} enters “{group.name}”",
        entries=tuple(entries),
        missing=tuple(missing),
        notes=tuple(notes),
    )
