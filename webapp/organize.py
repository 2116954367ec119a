"""Organize: moving social profiles between sets and whole sets between access groups.

Moves are staged in the page and sent together. `build_plan` checks them against the database (the
user may organize every group involved, each object is at the version the page saw, no set ends up
with two profiles of one network); `preview` says what the plan would do; `apply_plan` does all of
it in one transaction with a fixed number of statements, whatever the number of posts: the posts'
group follows their profile through the database's ON UPDATE CASCADE foreign keys. Media library
items stay where they are; campaign links in the group a profile leaves are removed; approvers who
could not enter the new group stop being approvers. `undo` reverts one applied change.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import and_, case, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit, policy, undo
from .extensions import db
from .models import (
    AccessGroup,
    AuditEvent,
    Campaign,
    CampaignProfile,
    MediaItem,
    Network,
    Post,
    PostMedia,
    PostStatus,
    ProfileApprover,
    SocialProfile,
    SocialSet,
    User,
)

MOVE_LIMIT = 200
UNDO_SECONDS = undo.SECONDS
MEDIA_SHOWN = 50
APPLIED = "organize.applied"
UNDONE = "organize.undone"


class OrganizeError(ValueError):
    """Staged moves the server refuses; nothing was changed. The message says why."""


class Conflict(OrganizeError):
    """Something moved since the page was loaded; the page must show the current state."""


@dataclass(frozen=True)
class StagedMove:
    """A profile to a set (`to` is a set id) or a set to a group (`to` is a group id).

    `version` is the moved object's version as the page saw it; `to_version`, for a profile, the
    destination set's.
    """

    kind: str
    id: int
    to: int
    version: int
    to_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "id": self.id, "to": self.to, "version": self.version}
        if self.to_version is not None:
            data["to_version"] = self.to_version
        return data


def parse_moves(raw: str | None) -> list[StagedMove]:
    """The staged moves the page sent, as JSON; anything malformed is refused whole."""
    try:
        entries = json.loads(raw or "[]")
    except ValueError:
        raise OrganizeError("The staged changes could not be read. Reload the page and try again.") from None
    if not isinstance(entries, list) or not entries:
        raise OrganizeError("There are no changes to save. Drag a profile or a set first.")
    if len(entries) > MOVE_LIMIT:
        raise OrganizeError(f"Save at most {MOVE_LIMIT} changes at a time.")
    moves: list[StagedMove] = []
    seen: set[tuple[str, int]] = set()
    for entry in entries:
        try:
            kind = entry["kind"]
            numbers = [entry["id"], entry["to"], entry["version"]]
            to_version = entry.get("to_version")
            if kind == "profile":
                numbers.append(to_version)
            if kind not in ("profile", "set") or not all(type(n) is int for n in numbers):
                raise TypeError
        except (TypeError, KeyError, AttributeError):
            raise OrganizeError("The staged changes could not be read. Reload the page and try again.") from None
        if (kind, entry["id"]) in seen:
            raise OrganizeError("The same profile or set is staged twice. Reload the page and try again.")
        seen.add((kind, entry["id"]))
        moves.append(StagedMove(kind, entry["id"], entry["to"], entry["version"],
                                to_version if kind == "profile" else None))
    return moves


def encode_moves(moves: Iterable[StagedMove]) -> str:
    return json.dumps([move.as_dict() for move in moves])


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class ProfileChange:
    """Where one profile is and where the plan puts it."""

    profile: SocialProfile
    from_set: SocialSet
    to_set: SocialSet
    from_group: AccessGroup
    to_group: AccessGroup
    moved_alone: bool  # moved by itself, not inside a moved set

    @property
    def changes_group(self) -> bool:
        return self.from_group.id != self.to_group.id


@dataclass
class Plan:
    moves: list[StagedMove]
    set_moves: list[tuple[SocialSet, AccessGroup, AccessGroup]]  # set, from, to
    profiles: list[ProfileChange]
    touched_sets: dict[int, int]  # destination set id -> the version the page saw
    groups: dict[int, AccessGroup]
    set_positions: dict[int, int] = field(default_factory=dict)  # moving set id -> its place in its new group

    @property
    def leaving(self) -> list[ProfileChange]:
        """The profiles that change group (their posts go with them)."""
        return [change for change in self.profiles if change.changes_group]


def build_plan(moves: list[StagedMove], account_id: int, organizable: Iterable[int]) -> Plan:
    """Check staged moves against the database; OrganizeError (or Conflict) says what is wrong.

    `organizable` are the ids of the groups the user may organize: every group a move leaves or
    enters must be one of them.
    """
    allowed = set(organizable)
    set_moves = {move.id: move for move in moves if move.kind == "set"}
    profile_moves = {move.id: move for move in moves if move.kind == "profile"}
    set_ids = set(set_moves) | {move.to for move in profile_moves.values()}
    # Only the account's rows are read: another account's rows answer as if they did not exist.
    profiles = {profile.id: profile for profile in db.session.scalars(
        select(SocialProfile).join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(SocialProfile.id.in_(profile_moves), AccessGroup.account_id == account_id)
    )}
    set_ids |= {profile.social_set_id for profile in profiles.values()}
    sets = {social_set.id: social_set for social_set in db.session.scalars(
        select(SocialSet).join(AccessGroup, AccessGroup.id == SocialSet.access_group_id)
        .where(SocialSet.id.in_(set_ids), AccessGroup.account_id == account_id)
        .options(selectinload(SocialSet.profiles))
    )}
    group_ids = {move.to for move in set_moves.values()} | {s.access_group_id for s in sets.values()}
    groups = {group.id: group for group in db.session.scalars(
        select(AccessGroup).where(AccessGroup.id.in_(group_ids), AccessGroup.account_id == account_id)
    )}

    def organizable_group(group_id: int) -> AccessGroup:
        group = groups.get(group_id)
        if group is None or group_id not in allowed:
            raise OrganizeError("A staged change involves a group you may not organize. Nothing was moved.")
        return group

    if len(profiles) != len(profile_moves) or not set_ids <= set(sets):
        raise Conflict("A profile or set you staged no longer exists.")
    # Every group touched must be organizable before anything of them is named.
    final_group_of_set = {set_id: organizable_group(s.access_group_id) for set_id, s in sets.items()}
    for move in set_moves.values():
        organizable_group(move.to)
    for move in set_moves.values():
        if sets[move.id].version != move.version:
            raise Conflict(f"“{sets[move.id].name}” was changed by someone else since you loaded the page.")
    for move in profile_moves.values():
        profile, destination = profiles[move.id], sets[move.to]
        if profile.version != move.version or destination.version != move.to_version:
            raise Conflict(f"@{profile.handle} or “{destination.name}” was changed by someone else "
                           "since you loaded the page.")

    set_changes = []
    for move in set_moves.values():
        social_set = sets[move.id]
        target = organizable_group(move.to)
        if target.id != social_set.access_group_id:
            set_changes.append((social_set, final_group_of_set[social_set.id], target))
            final_group_of_set[social_set.id] = target

    positions = _check_set_names(set_changes)
    changes: dict[int, ProfileChange] = {}
    for social_set, from_group, to_group in set_changes:
        for profile in social_set.profiles:
            changes[profile.id] = ProfileChange(profile, social_set, social_set, from_group, to_group, False)
    for move in profile_moves.values():
        profile, destination = profiles[move.id], sets[move.to]
        if destination.id == profile.social_set_id:
            continue
        origin = sets[profile.social_set_id]
        changes[profile.id] = ProfileChange(
            profile, origin, destination, organizable_group(origin.access_group_id),
            final_group_of_set[destination.id], True,
        )
    _check_slots(sets, changes)
    touched = {move.to: move.to_version for move in profile_moves.values()
               if move.to != profiles[move.id].social_set_id}
    return Plan(moves, set_changes, list(changes.values()), touched, groups, positions)


def _check_set_names(set_changes: list[tuple[SocialSet, AccessGroup, AccessGroup]]) -> dict[int, int]:
    """Refuse a set arriving where a set of its name already is; place arriving sets last.

    Returns each moving set's position in its new group.
    """
    if not set_changes:
        return {}
    moving = {social_set.id for social_set, _, _ in set_changes}
    targets = {to.id for _, _, to in set_changes}
    taken: dict[int, set[str]] = defaultdict(set)
    last: dict[int, int] = defaultdict(lambda: -1)
    for group_id, set_id, name, position in db.session.execute(
        select(SocialSet.access_group_id, SocialSet.id, SocialSet.name, SocialSet.position)
        .where(SocialSet.access_group_id.in_(targets))
    ):
        if set_id not in moving:
            taken[group_id].add(name.casefold())
            last[group_id] = max(last[group_id], position)
    positions: dict[int, int] = {}
    for social_set, _, to_group in set_changes:
        name = social_set.name.casefold()
        if name in taken[to_group.id]:
            raise OrganizeError(f"“{to_group.name}” already has a social set called “{social_set.name}”. "
                                "Rename one of them first. Nothing was moved.")
        taken[to_group.id].add(name)
        last[to_group.id] += 1
        positions[social_set.id] = last[to_group.id]
    return positions


def _check_slots(sets: dict[int, SocialSet], changes: dict[int, ProfileChange]) -> None:
    """Refuse a plan that leaves a set with two profiles of one network."""
    final: dict[int, list[SocialProfile]] = defaultdict(list)
    for change in changes.values():
        final[change.to_set.id].append(change.profile)
    for set_id, arriving in final.items():
        staying = [p for p in sets[set_id].profiles if p.id not in changes or changes[p.id].to_set.id == set_id]
        counted = Counter(profile.network for profile in {p.id: p for p in staying + arriving}.values())
        for network, count in counted.items():
            if count > 1:
                label = Network(network).label
                raise OrganizeError(f"“{sets[set_id].name}” would hold two {label} profiles; a social set "
                                    f"holds one profile of each network. Nothing was moved.")


# --- the preview ----------------------------------------------------------------------------------


@dataclass
class ProfileImpact:
    change: ProfileChange
    posts: dict[str, int] = field(default_factory=dict)  # status -> count
    campaigns: list[str] = field(default_factory=list)
    approvers_losing: list[User] = field(default_factory=list)
    approvers_left: int = 0
    gaining: list[User] = field(default_factory=list)
    losing: list[User] = field(default_factory=list)

    @property
    def post_count(self) -> int:
        return sum(self.posts.values())

    @property
    def pending(self) -> int:
        return self.posts.get(PostStatus.PENDING_APPROVAL.value, 0)


@dataclass
class StayingMedia:
    name: str
    group: str
    posts: int
    hidden: bool = False  # in a group the user may not enter: neither its name nor its group is shown


@dataclass
class Impact:
    plan: Plan
    profiles: list[ProfileImpact]
    within_group: list[ProfileChange]
    media: list[StayingMedia]
    media_total: int

    @property
    def post_total(self) -> int:
        return sum(impact.post_count for impact in self.profiles)

    @property
    def change_count(self) -> int:
        return len(self.plan.set_moves) + sum(1 for c in self.plan.profiles if c.moved_alone)


def _final_group_case(leaving: list[ProfileChange]):
    """SQL: the group each leaving profile (by id) ends up in."""
    return case({change.profile.id: change.to_group.id for change in leaving}, value=Post.social_profile_id)


def preview(plan: Plan, account_id: int, mover: User) -> Impact:
    """Exactly what applying the plan does, in a fixed number of queries, as the mover may see it.

    Library items in groups the policy does not let the mover enter are counted, never named."""
    leaving = plan.leaving
    ids = [change.profile.id for change in leaving]
    impacts = {change.profile.id: ProfileImpact(change) for change in leaving}
    if ids:
        for profile_id, status, count in db.session.execute(
            select(Post.social_profile_id, Post.status, func.count(Post.id))
            .where(Post.social_profile_id.in_(ids)).group_by(Post.social_profile_id, Post.status)
        ):
            impacts[profile_id].posts[status] = count
        for profile_id, name in db.session.execute(
            select(CampaignProfile.social_profile_id, Campaign.name)
            .join(Campaign, Campaign.id == CampaignProfile.campaign_id)
            .where(CampaignProfile.social_profile_id.in_(ids)).order_by(Campaign.name)
        ):
            impacts[profile_id].campaigns.append(name)
        entrants = policy.entrants_by_group(sorted(plan.groups))
        approvers = db.session.execute(
            policy.live_approvers(datetime.now(timezone.utc)).where(ProfileApprover.social_profile_id.in_(ids))
        ).all()
        shifted: set[int] = set()
        for impact in impacts.values():
            before = entrants[impact.change.from_group.id]
            after = entrants[impact.change.to_group.id]
            shifted |= (before ^ after)
        shifted |= {user_id for _, user_id in approvers}
        users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(shifted)))}
        by_name = lambda user: (user.name.lower(), user.id)  # noqa: E731
        for impact in impacts.values():
            before = entrants[impact.change.from_group.id]
            after = entrants[impact.change.to_group.id]
            impact.gaining = sorted((users[u] for u in after - before), key=by_name)
            impact.losing = sorted((users[u] for u in before - after), key=by_name)
        for profile_id, user_id in approvers:
            impact = impacts[profile_id]
            if user_id in entrants[impact.change.to_group.id]:
                impact.approvers_left += 1
            else:
                impact.approvers_losing.append(users[user_id])
    media, media_total = _staying_media(leaving, policy.permissions_for(mover))
    return Impact(plan=plan, profiles=list(impacts.values()),
                  within_group=[c for c in plan.profiles if not c.changes_group],
                  media=media, media_total=media_total)


def _staying_media(leaving: list[ProfileChange], perms: policy.Permissions) -> tuple[list[StayingMedia], int]:
    """Library items that moving posts use but that stay in their group, and how many posts use each.

    Items in groups these permissions may not enter are counted but not named."""
    if not leaving:
        return [], 0
    staying = (
        select(MediaItem.id, MediaItem.name, MediaItem.access_group_id, AccessGroup.name.label("group_name"),
               func.count(func.distinct(Post.id)).label("posts"))
        .join(PostMedia, PostMedia.media_item_id == MediaItem.id)
        .join(Post, Post.id == PostMedia.post_id)
        .join(AccessGroup, AccessGroup.id == MediaItem.access_group_id)
        .where(Post.social_profile_id.in_([c.profile.id for c in leaving]),
               MediaItem.access_group_id != _final_group_case(leaving))
        .group_by(MediaItem.id, MediaItem.name, MediaItem.access_group_id, AccessGroup.name)
    ).subquery()
    rows = db.session.execute(
        select(staying.c.name, staying.c.access_group_id, staying.c.group_name, staying.c.posts, func.count().over())
        .order_by(staying.c.posts.desc(), staying.c.name).limit(MEDIA_SHOWN)
    ).all()
    total = rows[0][4] if rows else 0
    return [
        StayingMedia(name, group, posts) if perms.may_enter(group_id) else StayingMedia("", "", posts, hidden=True)
        for name, group_id, group, posts, _ in rows
    ], total


# --- applying -------------------------------------------------------------------------------------


def _versions_match(model, pairs: list[tuple[int, int]]):
    return tuple_(model.id, model.version).in_(pairs)


def apply_plan(plan: Plan, impact: Impact, actor: User, account_id: int) -> AuditEvent:
    """Apply everything in one transaction (the caller commits, or rolls back on OrganizeError).

    Returns the audit event that records the change, whose id is the Undo token.
    """
    set_moves = plan.set_moves
    if set_moves:
        moved = db.session.execute(
            update(SocialSet)
            .where(_versions_match(SocialSet, [(s.id, s.version) for s, _, _ in set_moves]))
            .values(access_group_id=case({s.id: to.id for s, _, to in set_moves}, value=SocialSet.id),
                    position=case(plan.set_positions, value=SocialSet.id, else_=SocialSet.position),
                    version=SocialSet.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != len(set_moves):
            raise Conflict("A social set was moved by someone else a moment ago.")
    touched = [(set_id, version) for set_id, version in plan.touched_sets.items()
               if set_id not in {s.id for s, _, _ in set_moves}]
    if touched:
        # Claiming the destination sets: a concurrent change to one of them makes this plan lose.
        claimed = db.session.execute(
            update(SocialSet).where(_versions_match(SocialSet, touched))
            .values(version=SocialSet.version + 1).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != len(touched):
            raise Conflict("A destination set was changed by someone else a moment ago.")
    alone = [change for change in plan.profiles if change.moved_alone]
    if alone:
        try:
            moved = db.session.execute(
                update(SocialProfile)
                .where(_versions_match(SocialProfile, [(c.profile.id, c.profile.version) for c in alone]))
                .values(
                    social_set_id=case({c.profile.id: c.to_set.id for c in alone}, value=SocialProfile.id),
                    access_group_id=case({c.profile.id: c.to_group.id for c in alone}, value=SocialProfile.id),
                    version=SocialProfile.version + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        except IntegrityError:
            raise OrganizeError("Two profiles of one network would share a set on the way (a swap). "
                                "Move one of them first, save, then the other. Nothing was moved.") from None
        if moved != len(alone):
            raise Conflict("A profile was moved by someone else a moment ago.")

    removed_links = _remove_campaign_links(plan.leaving)
    removed_approvers = [(i.change.profile.id, user.id) for i in impact.profiles for user in i.approvers_losing]
    if removed_approvers:
        db.session.execute(delete(ProfileApprover).where(
            tuple_(ProfileApprover.social_profile_id, ProfileApprover.user_id).in_(removed_approvers)
        ))
    return _record(plan, impact, actor, account_id, removed_links, removed_approvers)


def _remove_campaign_links(leaving: list[ProfileChange]) -> list[tuple[int, int]]:
    """Unlink leaving profiles from campaigns of other groups than the one they go to."""
    if not leaving:
        return []
    target = case({c.profile.id: c.to_group.id for c in leaving}, value=CampaignProfile.social_profile_id)
    condition = and_(
        CampaignProfile.social_profile_id.in_([c.profile.id for c in leaving]),
        CampaignProfile.campaign_id.in_(select(Campaign.id).where(
            Campaign.id == CampaignProfile.campaign_id, Campaign.access_group_id != target)),
    )
    links = [tuple(row) for row in db.session.execute(
        select(CampaignProfile.campaign_id, CampaignProfile.social_profile_id).where(condition))]
    if links:
        db.session.execute(delete(CampaignProfile).where(
            tuple_(CampaignProfile.campaign_id, CampaignProfile.social_profile_id).in_(links)))
    return links


def _record(plan: Plan, impact: Impact, actor: User, account_id: int,
            removed_links: list[tuple[int, int]], removed_approvers: list[tuple[int, int]]) -> AuditEvent:
    """Audit every moved set and profile, and one event holding what Undo needs."""
    for social_set, from_group, to_group in plan.set_moves:
        audit.record(account_id, actor.id, "social_set.moved", "social_set", social_set.id,
                     before={"access_group_id": from_group.id, "access_group": from_group.name},
                     after={"access_group_id": to_group.id, "access_group": to_group.name},
                     group_id=from_group.id, related_group_id=to_group.id)
    posts = {i.change.profile.id: i.post_count for i in impact.profiles}
    for change in plan.profiles:
        if change.moved_alone:
            audit.record(account_id, actor.id, "social_profile.moved", "social_profile", change.profile.id,
                         before={"social_set_id": change.from_set.id, "access_group_id": change.from_group.id},
                         after={"social_set_id": change.to_set.id, "access_group_id": change.to_group.id,
                                "posts": posts.get(change.profile.id, 0)}, group_id=change.from_group.id,
                         related_group_id=None if change.to_group.id == change.from_group.id else change.to_group.id)
    undo_record = {
        "sets": [{"id": s.id, "from": f.id, "to": t.id, "version": s.version + 1} for s, f, t in plan.set_moves],
        "profiles": [{"id": c.profile.id, "from_set": c.from_set.id, "to_set": c.to_set.id,
                      "version": c.profile.version + 1} for c in plan.profiles if c.moved_alone],
        "campaign_links": [list(link) for link in removed_links],
        "approvers": [list(pair) for pair in removed_approvers],
        "posts": impact.post_total,
    }
    return audit.record(account_id, actor.id, APPLIED, "organize", None, after=undo_record)


# --- undo -----------------------------------------------------------------------------------------


def undo_window_open(event: AuditEvent, now: datetime | None = None) -> bool:
    return undo.window_open(event, now)


def undoable(event_id: int, actor: User, account_id: int) -> AuditEvent:
    """The applied change `event_id` of this user, if it may still be undone."""
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.id == event_id, AuditEvent.account_id == account_id, AuditEvent.verb == APPLIED,
        AuditEvent.actor_id == actor.id,
    ))
    if event is None:
        raise OrganizeError("There is nothing to undo.")
    if db.session.scalar(select(AuditEvent.id).where(AuditEvent.verb == UNDONE, AuditEvent.object_id == event.id)):
        raise OrganizeError("That change was already undone.")
    if not undo_window_open(event):
        raise OrganizeError(f"Undo is offered for {UNDO_SECONDS} seconds after a move; that one is older.")
    return event


def inverse_moves(event: AuditEvent) -> list[StagedMove]:
    """The moves that put back what `event` moved, at the versions it left them in."""
    record = event.after or {}
    current_sets = {s.id: s.version for s in db.session.scalars(select(SocialSet).where(
        SocialSet.id.in_([p["from_set"] for p in record.get("profiles", [])])))}
    moves = [StagedMove("set", s["id"], s["from"], s["version"]) for s in record.get("sets", [])]
    moves += [StagedMove("profile", p["id"], p["from_set"], p["version"], current_sets.get(p["from_set"], -1))
              for p in record.get("profiles", [])]
    return moves


def _put_back(model: Any, columns: tuple[str, str], pairs: set[tuple[int, int]], end: int, end_id: Any) -> None:
    """Insert the missing (a, b) rows of a link table, where the end at index `end` still exists."""
    if not pairs:
        return
    existing = set(db.session.scalars(select(end_id).where(end_id.in_([pair[end] for pair in pairs]))))
    key = tuple_(*(getattr(model, column) for column in columns))
    present = {tuple(row) for row in db.session.execute(select(*key.clauses).where(key.in_(pairs)))}
    rows = [dict(zip(columns, pair)) for pair in pairs - present if pair[end] in existing]
    if rows:
        db.session.execute(insert(model), rows)


def restore_links(event: AuditEvent) -> None:
    """Put back the campaign links and approvers the change removed, where both ends still exist."""
    record = event.after or {}
    _put_back(CampaignProfile, ("campaign_id", "social_profile_id"),
              {tuple(link) for link in record.get("campaign_links", [])}, 0, Campaign.id)
    _put_back(ProfileApprover, ("social_profile_id", "user_id"),
              {tuple(pair) for pair in record.get("approvers", [])}, 1, User.id)


def mark_undone(event: AuditEvent, actor: User, undo_event: AuditEvent) -> None:
    audit.record(event.account_id, actor.id, UNDONE, "organize", event.id,
                 before=event.after, after={"undo_event_id": undo_event.id})

