"""Settings › Activity: the audit log as people read it, newest first, filtered and in words.

The owner sees every event of the agency. An admin sees an event only if every access group it names
(the group it happened in and, for a move, the other one) is one they may enter; events of no group
(the agency's settings, its members) they see whole. Each event reads as a sentence built from what it
recorded, with today's names of the people, groups and objects it names and, for those deleted since,
the names it recorded.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_, select, true, union_all

from . import paging
from .extensions import db
from .models import (
    AccessGroup,
    Account,
    AuditEvent,
    Campaign,
    Membership,
    Network,
    Post,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
)
from .policy import Permissions
from .rights import label as right_label
from .team import ROLE_LABELS
from .zones import TimeStyle, local_day

PAGE_SIZE = 50
CSV_LIMIT = 10_000  # rows in one download: years of a busy agency's log, still one quick response
CAPTION_SHOWN = 40
CSV_HEADER = ("Time (UTC)", "Time (local)", "Person", "Access group", "Kind", "Event")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- kinds: what people filter by --------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A friendly group of verbs: every verb that starts with one of `prefixes`, unless a longer prefix
    or an exact verb of another kind claims it, and every verb in `verbs`."""

    label: str
    prefixes: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    "posts": Kind("Posts", ("post.", "review_link.")),
    "media": Kind("Media", ("media.",)),
    "campaigns": Kind("Campaigns", ("campaign.",)),
    "profiles": Kind("Profiles & social sets", ("profile.", "social_profile.", "social_set.", "organize.")),
    "people": Kind("People & access", ("member.", "user_group.", "invitation.", "access_group.user"),
                   ("account.owner_transferred", "user.password_reset_sent")),
    "settings": Kind("Settings", ("account.", "access_group.", "user.")),
}


def kind_of(verb: str) -> str | None:
    """The kind a verb belongs to (None for a verb no kind names)."""
    for key, kind in KINDS.items():
        if verb in kind.verbs:
            return key
    matches = [(len(prefix), key) for key, kind in KINDS.items() for prefix in kind.prefixes if verb.startswith(prefix)]
    return max(matches)[1] if matches else None


def _kind_condition(key: str) -> ColumnElement[bool]:
    """SQL: the event's verb is of this kind (the same answer as `kind_of`)."""
    kind = KINDS[key]
    others = [(other_key, other) for other_key, other in KINDS.items() if other_key != key]
    claimed = [verb for _, other in others for verb in other.verbs]
    branches = [AuditEvent.verb.in_(kind.verbs)] if kind.verbs else []
    for prefix in kind.prefixes:
        longer = [p for _, other in others for p in other.prefixes if p.startswith(prefix) and len(p) > len(prefix)]
        branches.append(and_(AuditEvent.verb.startswith(prefix, autoescape=True),
                             *(~AuditEvent.verb.startswith(p, autoescape=True) for p in longer),
                             AuditEvent.verb.not_in(claimed) if claimed else true()))
    return or_(*branches)


# --- which events, and a page of them -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The events one person may read: their account's, and with `group_ids` only those whose groups
    are all among them (None: every group, for the owner)."""

    account_id: int
    group_ids: frozenset[int] | None


def scope_for(account: Account, perms: Permissions) -> Scope:
    """The owner reads every event; an admin those of the groups they may enter (loaded with their rights)."""
    if perms.is_owner(account.id):
        return Scope(account.id, None)
    return Scope(account.id, frozenset(group_id for group_id, account_id in perms.groups.items()
                                       if account_id == account.id))


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; the days are read in the viewer's time zone, both included."""

    actor_id: int | None = None
    access_group_id: int | None = None
    kind: str | None = None
    start: date | None = None
    end: date | None = None

    @property
    def any(self) -> bool:
        return any(value is not None for value in (self.actor_id, self.access_group_id, self.kind, self.start, self.end))

    def query(self) -> dict[str, Any]:
        """The filters as URL parameters, for links that keep them (paging, the CSV download)."""
        values = {"person": self.actor_id, "group": self.access_group_id, "kind": self.kind,
                  "start": self.start.isoformat() if self.start else None,
                  "end": self.end.isoformat() if self.end else None}
        return {name: value for name, value in values.items() if value is not None}


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of `day` on the zone's clocks, in UTC."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def events(scope: Scope, filters: Filters, zone: ZoneInfo) -> Select:
    """SQL: the events `scope` may read that match `filters`, unordered."""
    statement = select(AuditEvent).where(AuditEvent.account_id == scope.account_id)
    if scope.group_ids is not None:
        allowed = list(scope.group_ids)
        for column in (AuditEvent.access_group_id, AuditEvent.related_group_id):
            statement = statement.where(or_(column.is_(None), column.in_(allowed) if allowed else false()))
    if filters.actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == filters.actor_id)
    if filters.access_group_id is not None:
        statement = statement.where(or_(AuditEvent.access_group_id == filters.access_group_id,
                                        AuditEvent.related_group_id == filters.access_group_id))
    if filters.kind is not None:
        statement = statement.where(_kind_condition(filters.kind))
    if filters.start is not None:
        statement = statement.where(AuditEvent.created_at >= _start_of(filters.start, zone))
    if filters.end is not None:
        statement = statement.where(AuditEvent.created_at < _start_of(filters.end + timedelta(days=1), zone))
    return statement


def page(scope: Scope, filters: Filters, zone: ZoneInfo, older: str | None = None, newer: str | None = None,
         size: int = PAGE_SIZE) -> paging.Page:
    """One page of events, newest first, just older than `older` or just newer than `newer`."""
    return paging.keyset_page_by_id(events(scope, filters, zone), AuditEvent.id, older, newer, size)


def batches(scope: Scope, filters: Filters, zone: ZoneInfo, limit: int = CSV_LIMIT,
            size: int = 500) -> Iterator[list[AuditEvent]]:
    """The matching events, newest first, up to `limit`: a page of `size` at a time (for the CSV)."""
    statement, cursor, left = events(scope, filters, zone), None, limit
    while left > 0:
        found = paging.keyset_page_by_id(statement, AuditEvent.id, cursor, None, min(size, left))
        if found.rows:
            yield found.rows
        left -= len(found.rows)
        if found.next_cursor is None:
            return
        cursor = found.next_cursor


# --- the filter's choices -------------------------------------------------------------------------------


def people(account: Account) -> list[User]:
    """The agency's members (whatever their state), by name: whom the list may be narrowed to."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(Membership.account_id == account.id)
        .order_by(func.lower(User.name), User.id)))


def groups(account: Account, scope: Scope) -> list[AccessGroup]:
    """The access groups the reader may narrow the list to (those in scope), by name."""
    statement = select(AccessGroup).where(AccessGroup.account_id == account.id)
    if scope.group_ids is not None:
        statement = statement.where(AccessGroup.id.in_(list(scope.group_ids)))
    return list(db.session.scalars(statement.order_by(func.lower(AccessGroup.name), AccessGroup.id)))


# --- events in words ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One event as the list and the CSV show it."""

    event: AuditEvent
    person: str
    group: str  # the group it happened in ("" for the agency), and the other one of a move
    kind: str
    sentence: str


@dataclass
class Names:
    """Today's names of what a page of events names, looked up in one query per sort of thing."""

    users: dict[int, str]
    groups: dict[int, str]
    objects: dict[tuple[str, int], str]


def _object_names(wanted: dict[str, set[int]], scope: Scope) -> dict[tuple[str, int], str]:
    """Today's names of posts, profiles, social sets, campaigns and user groups, in one query: only of
    those still in the groups the reader sees (else the event's own record names them)."""
    account_id = scope.account_id
    seen_groups = (select(AccessGroup.id).where(AccessGroup.account_id == account_id) if scope.group_ids is None
                   else list(scope.group_ids))
    named = {"post": (Post, Post.caption), "social_set": (SocialSet, SocialSet.name),
             "social_profile": (SocialProfile, SocialProfile.network + literal(" @") + SocialProfile.handle),
             "campaign": (Campaign, Campaign.name)}
    parts = [select(literal(kind), model.id, name).where(model.id.in_(wanted[kind]),
                                                         model.access_group_id.in_(seen_groups))
             for kind, (model, name) in named.items() if wanted.get(kind)]
    if wanted.get("user_group"):
        parts.append(select(literal("user_group"), UserGroup.id, UserGroup.name)
                     .where(UserGroup.id.in_(wanted["user_group"]), UserGroup.account_id == account_id))
    if not parts:
        return {}
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    return {(kind, object_id): name or "" for kind, object_id, name in db.session.execute(statement)}


_PERSON_KEYS = ("user_id", "approver_id", "reviewer_id", "owner_id")


def _person_ids(event: AuditEvent) -> set[int]:
    found = {event.actor_id} if event.actor_id is not None else set()
    if event.object_type == "user" and event.object_id is not None:
        found.add(event.object_id)
    for state in (event.before or {}, event.after or {}):
        found.update(value for key in _PERSON_KEYS if isinstance(value := state.get(key), int))
    return found


def look_up(events_shown: list[AuditEvent], account: Account, scope: Scope, known_groups: Iterable[AccessGroup] = (),
            known_people: Iterable[User] = ()) -> Names:
    """The names a page of events needs: one query for people and one for groups (each unless all are
    known already), one for objects."""
    users = {person.id: person.name for person in known_people}
    user_ids = {user_id for event in events_shown for user_id in _person_ids(event) if user_id not in users}
    if user_ids:
        users.update(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    groups_named = {group.id: group.name for group in known_groups}
    group_ids = {group_id for event in events_shown for group_id in (event.access_group_id, event.related_group_id)
                 if group_id is not None and group_id not in groups_named}
    if group_ids:
        groups_named.update(db.session.execute(
            select(AccessGroup.id, AccessGroup.name).where(AccessGroup.id.in_(group_ids),
                                                           AccessGroup.account_id == account.id)).all())
    wanted: dict[str, set[int]] = {}
    for event in events_shown:
        if event.object_id is not None:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    return Names(users=users, groups=groups_named, objects=_object_names(wanted, scope))


def _quoted(text: str | None) -> str:
    return f"“{text}”"


def _caption(caption: str | None) -> str | None:
    """A caption's first line, cut at a word: how a post is named in a sentence."""
    text = " ".join((caption or "").strip().splitlines()[:1]).strip()
    if not text:
        return None
    if len(text) <= CAPTION_SHOWN + 5:
        return text
    return text[:CAPTION_SHOWN].rsplit(" ", 1)[0].rstrip() + "…"


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


SYSTEM_VERBS = frozenset({"post.published", "post.publish_failed", "profile.reconnect_needed"})
SETTING_LABELS = {"name": "name", "time_zone": "time zone", "week_start": "first day of the week",
                  "clock": "clock", "accent_color": "accent colour", "logo_key": "logo"}


class Words:
    """What one event says, with the names of the page looked up."""

    def __init__(self, event: AuditEvent, names: Names, account: Account, style: TimeStyle) -> None:
        self.event, self.names, self.account, self.style = event, names, account, style
        self.before: dict = event.before if isinstance(event.before, dict) else {}
        self.after: dict = event.after if isinstance(event.after, dict) else {}

    def value(self, key: str) -> Any:
        """What the event recorded under `key`, after the change if it says, else before it."""
        return self.after.get(key, self.before.get(key))

    @property
    def actor(self) -> str:
        if self.event.actor_id is None:
            return "Roster" if self.event.verb in SYSTEM_VERBS else "A former member"
        return self.names.users.get(self.event.actor_id, "A former member")

    def person(self, user_id: Any, email: Any = None) -> str:
        """Someone the event names: today's name, else the email it recorded."""
        if isinstance(user_id, int) and user_id in self.names.users:
            return self.names.users[user_id]
        return email if isinstance(email, str) and email else "a former member"

    @property
    def subject(self) -> str:
        """The person the event is about: its object (a user), or the user it recorded."""
        if self.event.object_type == "user":
            return self.person(self.event.object_id, self.value("name") or self.value("email"))
        return self.person(self.value("user_id"), self.value("email"))

    def group(self, related: bool = False) -> str:
        event = self.event
        group_id = event.related_group_id if related else event.access_group_id
        if group_id is not None and group_id in self.names.groups:
            return self.names.groups[group_id]
        recorded = (self.after if related else self.before).get("access_group")
        if not recorded and event.object_type == "access_group" and not related:
            recorded = self.value("name")
        return recorded if isinstance(recorded, str) and recorded else "a deleted access group"

    def named(self, fallback: Any = None) -> str | None:
        """The event's object by today's name, else `fallback` (what the event recorded)."""
        name = self.names.objects.get((self.event.object_type, self.event.object_id or 0))
        return name if name else (fallback if isinstance(fallback, str) and fallback else None)

    @property
    def post(self) -> str:
        """The post by its caption today, else as recorded; "a post" when neither is known."""
        current = self.names.objects.get(("post", self.event.object_id or 0))
        caption = _caption(current if current is not None else self.value("caption"))
        if caption:
            return _quoted(caption)
        return "a post without a caption" if current is not None else "a post"

    @property
    def the_post(self) -> str:
        """"the post “Spring launch”", or what `post` says of a post with no caption known."""
        post = self.post
        return f"the post {post}" if post.startswith("“") else post

    @property
    def profile(self) -> str:
        name = self.named()
        if name is None and self.value("handle"):
            name = f"{self.value('network')} @{self.value('handle')}"
        if not name:
            return "a removed profile"
        network, _, handle = name.partition(" @")
        try:
            network = Network(network).label
        except ValueError:
            pass
        return f"{network} @{handle}"

    def thing(self, what: str, fallback_key: str = "name") -> str:
        """A named object of the event: "the social set “Main”"."""
        name = self.named(self.before.get(fallback_key) or self.after.get(fallback_key))
        return f"the {what} {_quoted(name)}" if name else f"a {what}"

    def when(self, value: Any) -> str:
        moment = _moment(value)
        return self.style.format(moment, "weekday") if moment else "no time"

    def last_day(self, value: Any) -> str | None:
        """An access end (the end of its last day where the agency works) as that day."""
        moment = _moment(value)
        return self.style.format(local_day(self.account, moment), "date") if moment else None

    def moved(self, what: str) -> str:
        return f"{self.actor} moved {what} from {self.group()} to {self.group(related=True)}"


def _post(verb: str) -> Callable[[Words], str]:
    return lambda w: f"{w.actor} {verb} {w.post}"


def _decided(verb: str) -> Callable[[Words], str]:
    return lambda w: f"{w.actor} {verb} {w.post}" + (" through a review link" if w.after.get("via_link") else "")


def _rescheduled(w: Words) -> str:
    return f"{w.actor} moved {w.post} from {w.when(w.before.get('scheduled_at'))} to {w.when(w.after.get('scheduled_at'))}"


def _publish_failed(w: Words) -> str:
    then = " and gave up" if w.after.get("given_up") else ""
    return f"Roster could not publish {w.post}{then}"


def _media_moved(w: Words) -> str:
    ids = w.before.get("media_item_ids") or w.after.get("media_item_ids") or []
    return w.moved(_count(len(ids), "media item"))


def _media_move_undone(w: Words) -> str:
    ids = w.before.get("media_item_ids") or w.after.get("media_item_ids") or []
    return (f"{w.actor} undid a move, taking {_count(len(ids), 'media item')} back from {w.group()} "
            f"to {w.group(related=True)}")


def _media_deleted(w: Words) -> str:
    items = w.before.get("media_items") or []
    if len(items) == 1 and isinstance(items[0], dict) and items[0].get("name"):
        return f"{w.actor} deleted the media item {_quoted(items[0]['name'])}"
    return f"{w.actor} deleted {_count(len(items), 'media item')}"


def _alt_text_changed(w: Words) -> str:
    name = _quoted(w.after.get("name") or w.before.get("name"))
    if not w.after.get("alt_text"):
        return f"{w.actor} removed the alt text of {name}"
    if not w.before.get("alt_text"):
        return f"{w.actor} added alt text to {name}"
    return f"{w.actor} changed the alt text of {name}"


def _profile_moved(w: Words) -> str:
    if w.event.related_group_id is None:
        return f"{w.actor} moved {w.profile} to another social set"
    return w.moved(w.profile)


def _approval_changed(w: Words) -> str:
    was, now = w.before.get("needs_approval"), w.after.get("needs_approval")
    if now and not was:
        return f"{w.actor} turned on client approval for {w.profile}"
    if was and not now:
        return f"{w.actor} turned off client approval for {w.profile}"
    return f"{w.actor} changed who approves posts for {w.profile}"


def _approver_removed(w: Words) -> str:
    because = w.after.get("because")
    return (f"{w.person(w.before.get('approver_id'))} no longer approves posts for {w.profile}"
            + (f": {because}" if because else ""))


def _organize_applied(w: Words) -> str:
    sets, profiles = len(w.after.get("sets") or []), len(w.after.get("profiles") or [])
    moved = [part for part in (_count(sets, "social set") if sets else "", _count(profiles, "profile") if profiles else "")
             if part]
    return f"{w.actor} applied an Organize change" + (f", moving {_list(moved)}" if moved else "")


def _user_added(w: Words) -> str:
    until = w.last_day(w.after.get("expires_at"))
    return f"{w.actor} gave {w.subject} entry to {w.group()}" + (f" until {until}" if until else "")


def _user_expiry(w: Words) -> str:
    until = w.last_day(w.after.get("expires_at"))
    return (f"{w.actor} set {w.subject}'s access to {w.group()} to end after {until}" if until
            else f"{w.actor} removed the end date of {w.subject}'s access to {w.group()}")


def _renamed(what: str) -> Callable[[Words], str]:
    return lambda w: f"{w.actor} renamed the {what} {_quoted(w.before.get('name'))} to {_quoted(w.after.get('name'))}"


def _user_group_updated(w: Words) -> str:
    if w.before.get("name") != w.after.get("name"):
        return _renamed("user group")(w)
    return f"{w.actor} changed the description or icon of {w.thing('user group')}"


def _role_changed(w: Words) -> str:
    role = w.after.get("role")
    if role and role != w.before.get("role"):
        return f"{w.actor} made {w.subject} {ROLE_LABELS.get(role, role).lower()}"
    return _rights_changed(w)


def _rights_changed(w: Words) -> str:
    before, after = set(w.before.get("rights") or []), set(w.after.get("rights") or [])
    changes = [f"gave {_list([right_label(r) for r in sorted(after - before)])}"] if after - before else []
    if before - after:
        changes.append(f"took away {_list([right_label(r) for r in sorted(before - after)])}")
    detail = f" ({'; '.join(changes)})" if changes else ""
    return f"{w.actor} changed the rights of {w.subject}{detail}"


def _member_expiry(w: Words) -> str:
    day = w.after.get("last_day")
    if isinstance(day, str):
        return f"{w.actor} set {w.subject}'s membership to end after {w.style.format(date.fromisoformat(day), 'date')}"
    return f"{w.actor} removed the end date of {w.subject}'s membership"


def _invited(w: Words) -> str:
    role = w.after.get("role")
    return f"{w.actor} invited {w.value('email')}" + (f" as {ROLE_LABELS.get(role, role).lower()}" if role else "")


def _settings_changed(w: Words) -> str:
    changed = [SETTING_LABELS.get(key, key.replace("_", " ")) for key in w.after]
    return f"{w.actor} changed the agency's {_list(changed) if changed else 'settings'}"


def _time_zone(w: Words) -> str:
    zone = w.after.get("time_zone")
    return f"{w.actor} now reads times in {zone}" if zone else f"{w.actor} now reads times in the agency's time zone"


SENTENCES: dict[str, Callable[[Words], str]] = {
    "post.created": lambda w: f"{w.actor} created {w.the_post}",
    "post.submitted": _post("sent for approval"),
    "post.scheduled": lambda w: f"{w.actor} scheduled {w.post} for {w.when(w.after.get('scheduled_at'))}",
    "post.edited": _post("edited"),
    "post.rescheduled": _rescheduled,
    "post.reschedule_undone": lambda w: f"{w.actor} undid the move of {w.post}, back to {w.when(w.after.get('scheduled_at'))}",
    "post.unscheduled": lambda w: f"{w.actor} took {w.post} back to a draft",
    "post.deleted": lambda w: f"{w.actor} deleted {w.the_post}",
    "post.approve": _decided("approved"),
    "post.feedback": _decided("left feedback on"),
    "post.reject": _decided("rejected"),
    "post.decision_undone": _post("took back their decision on"),
    "post.commented": _post("commented on"),
    "post.published": lambda w: f"Roster published {w.post}",
    "post.publish_failed": _publish_failed,
    "review_link.resent": lambda w: f"{w.actor} sent {w.person(w.after.get('reviewer_id'))} a new review link",
    "review_link.revoked": lambda w: f"{w.actor} ended the review link of {w.person(w.after.get('reviewer_id'))}",
    "media.uploaded": lambda w: f"{w.actor} uploaded {_quoted(w.after.get('name'))}",
    "media.moved": _media_moved,
    "media.move_undone": _media_move_undone,
    "media.deleted": _media_deleted,
    "media.alt_text_changed": _alt_text_changed,
    "campaign.created": lambda w: f"{w.actor} created {w.thing('campaign')}",
    "campaign.updated": lambda w: f"{w.actor} changed {w.thing('campaign')}",
    "campaign.deleted": lambda w: f"{w.actor} deleted {w.thing('campaign')}",
    "profile.connected": lambda w: f"{w.actor} connected {w.profile}",
    "profile.reconnected": lambda w: f"{w.actor} reconnected {w.profile}",
    "profile.reconnect_needed": lambda w: f"{w.profile} needs to be connected again",
    "profile.transferred": _profile_moved,
    "profile.removed": lambda w: f"{w.actor} removed {w.profile} with {_count(w.before.get('posts') or 0, 'post')}",
    "profile.access_removed": lambda w: f"{w.actor} removed {w.profile} from their own view",
    "profile.approver_removed": _approver_removed,
    "profile.approval_changed": _approval_changed,
    "social_profile.moved": _profile_moved,
    "social_set.created": lambda w: f"{w.actor} created {w.thing('social set')}",
    "social_set.renamed": _renamed("social set"),
    "social_set.deleted": lambda w: f"{w.actor} deleted {w.thing('social set')}",
    "social_set.moved": lambda w: w.moved(w.thing("social set")),
    "organize.applied": _organize_applied,
    "organize.undone": lambda w: f"{w.actor} undid an Organize change",
    "access_group.created": lambda w: f"{w.actor} created the access group {_quoted(w.after.get('name'))}",
    "access_group.renamed": _renamed("access group"),
    "access_group.deleted": lambda w: f"{w.actor} deleted the access group {_quoted(w.before.get('name'))}",
    "access_group.checklist_dismissed": lambda w: f"{w.actor} hid the getting-started checklist of {w.group()}",
    "access_group.user_added": _user_added,
    "access_group.user_expiry_changed": _user_expiry,
    "access_group.user_removed": lambda w: f"{w.actor} removed {w.subject} from {w.group()}",
    "access_group.user_group_granted":
        lambda w: f"{w.actor} let the user group {_quoted(w.after.get('name'))} enter {w.group()}",
    "access_group.user_group_revoked":
        lambda w: f"{w.actor} stopped the user group {_quoted(w.before.get('name'))} entering {w.group()}",
    "user_group.created": lambda w: f"{w.actor} created {w.thing('user group')}",
    "user_group.updated": _user_group_updated,
    "user_group.rights_changed": lambda w: f"{w.actor} changed the rights of {w.thing('user group')}",
    "user_group.member_added": lambda w: f"{w.actor} added {w.subject} to {w.thing('user group')}",
    "user_group.member_removed": lambda w: f"{w.actor} removed {w.subject} from {w.thing('user group')}",
    "user_group.members_cleared": lambda w: (f"{w.actor} removed {_count(len(w.before.get('user_ids') or []), 'person', 'people')}"
                                             f" from {w.thing('user group')}"),
    "user_group.grants_changed": lambda w: f"{w.actor} changed which access groups {w.thing('user group')} opens",
    "user_group.deleted": lambda w: f"{w.actor} deleted {w.thing('user group')}",
    "member.approver_changed": lambda w: f"{w.actor} changed which profiles {w.subject} approves posts for",
    "member.role_changed": _role_changed,
    "member.rights_changed": _rights_changed,
    "member.expiry_changed": _member_expiry,
    "member.deactivated": lambda w: f"{w.actor} deactivated {w.subject}",
    "member.reactivated": lambda w: f"{w.actor} reactivated {w.subject}",
    "member.removed": lambda w: f"{w.actor} removed {w.subject} from the agency",
    "invitation.created": _invited,
    "invitation.resent": lambda w: f"{w.actor} sent {w.value('email')} a new invitation",
    "invitation.revoked": lambda w: f"{w.actor} revoked the invitation of {w.value('email')}",
    "invitation.accepted": lambda w: f"{w.actor} accepted their invitation and joined",
    "account.created": lambda w: f"{w.actor} created the agency {_quoted(w.after.get('name'))}",
    "account.owner_transferred": lambda w: f"{w.actor} made {w.person(w.after.get('owner_id'))} the owner",
    "account.settings_changed": _settings_changed,
    "user.password_changed": lambda w: f"{w.actor} changed their password",
    "user.password_reset": lambda w: f"{w.actor} set a new password through an emailed link",
    "user.password_reset_sent": lambda w: f"{w.actor} sent {w.subject} a link to set a new password",
    "user.time_zone_changed": _time_zone,
    "user.signed_out_elsewhere": lambda w: f"{w.actor} signed out everywhere else",
}


def sentence(words: Words) -> str:
    """The event in words; a verb without a sentence of its own reads as its words."""
    write = SENTENCES.get(words.event.verb)
    if write is not None:
        try:
            return write(words)
        except (TypeError, ValueError, AttributeError):  # an older event recorded another shape
            pass
    return f"{words.actor}: {words.event.verb.replace('.', ' ').replace('_', ' ')}"


def entries(events_shown: list[AuditEvent], account: Account, scope: Scope, style: TimeStyle,
            known_groups: Iterable[AccessGroup] = (), known_people: Iterable[User] = ()) -> list[Entry]:
    """The events as the list shows them: three queries at most, whatever their number."""
    names = look_up(events_shown, account, scope, known_groups, known_people)
    shown = []
    for event in events_shown:
        words = Words(event, names, account, style)
        group = "" if event.access_group_id is None else words.group()
        if event.related_group_id is not None:
            group = f"{group} → {words.group(related=True)}"
        kind = kind_of(event.verb)
        shown.append(Entry(event=event, person=words.actor,
                           group=group, kind=KINDS[kind].label if kind else "Other", sentence=sentence(words)))
    return shown


# --- the CSV download -----------------------------------------------------------------------------------


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_lines(pages: Iterable[list[AuditEvent]], account: Account, scope: Scope, style: TimeStyle,
              known_groups: Iterable[AccessGroup] = (), known_people: Iterable[User] = ()) -> Iterator[str]:
    """The events as CSV text: a header first, then a page of rows at a time (names looked up per page)."""
    known, people_known = list(known_groups), list(known_people)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    for batch in pages:
        buffer.seek(0)
        buffer.truncate()
        for entry in entries(batch, account, scope, style, known, people_known):
            at = entry.event.created_at
            cells = (at.astimezone(timezone.utc).isoformat(timespec="seconds"),
                     style.local(at).isoformat(timespec="seconds"), entry.person, entry.group, entry.kind,
                     entry.sentence)
            writer.writerow([_safe_cell(cell) for cell in cells])
        yield buffer.getvalue()


def csv_filename(account: Account, style: TimeStyle) -> str:
    """activity-<day>.csv, dated in the reader's time zone."""
    return f"activity-{style.today().isoformat()}.csv"
