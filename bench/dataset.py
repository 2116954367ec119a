"""A synthetic agency, written with bulk Core inserts: a few dozen people, lots of content.

The people and their access are the same at every scale (so a page does the same work for them);
only the number of groups, profiles, media items and posts changes. Everything is deterministic,
except the storage keys of the one media item whose file and thumbnail are really stored.
"""
from __future__ import annotations

import hashlib
import io
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image
from sqlalchemy import insert, text

from webapp.accounts import hash_password
from webapp.extensions import db
from webapp.media import recount_media
from webapp.media import UploadLimits, inspect_upload
from webapp.plans import install_reference_plans
from webapp.models import (
    AccessGroup,
    Account,
    ApprovalDecision,
    AuditEvent,
    Campaign,
    CampaignProfile,
    Comment,
    Decision,
    GroupUser,
    MediaItem,
    MemberRight,
    Membership,
    Network,
    Notification,
    NotificationKind,
    Post,
    PostMedia,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    Role,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
)
from webapp.posts import HISTORY_LABELS
from webapp.storage import media_storage

PASSWORD = "bench password 1234"
EMAIL_DOMAIN = "bench.example"
ADMINS = 3
MANAGERS = 10
CLIENTS = 16
MANAGER_GROUPS = 20  # groups on each manager's Users tab (fewer if the agency has fewer)
NETWORKS = list(Network)
STATUSES = list(PostStatus)

# Rights clients are given on their own, by client number modulo the length of this list.
CLIENT_RIGHTS = [["posts.approve"], ["posts.create", "posts.edit", "posts.publish"], [], ["analytics.view"]]

# Media names are "<word>-<number>.<suffix>"; the word cycles with a period prime to the video one,
# so a search for one word finds images and videos alike.
MEDIA_WORDS = ["launch", "studio", "backstage", "giveaway"]
VIDEO_EVERY = 5  # every fifth item is a video (never the newest, whose file is really stored)
ATTACHED_NEWEST = 40  # posts carry one of their group's newest items, so the first grid page shows uses
# One post in this many has comments, this many each (the measured post has its scale's thread).
COMMENTED_EVERY = 4
COMMENTS_PER_POST = 2
# The set the Organize measurement moves: its profiles (one per network), and which of its posts carry media.
ORGANIZED_PROFILES = 4
ORGANIZED_MEDIA_EVERY = 2

# A user group: name, rights, live members, granted group indexes, lapsed members.
Team = tuple[str, list[str], list[str], list[int], list[str]]


@dataclass(frozen=True)
class Scale:
    """How much data one benchmark database holds."""

    label: str
    access_groups: int
    sets_per_group: int
    profiles_per_group: int
    library_items: int  # in the measured group's media library
    media_per_group: int  # in each other group's library
    posts: int
    organized_posts: int  # of the profiles in the set the Organize measurement moves
    campaigns_per_group: int
    thread: int  # comments, approval decisions, review links and history events of the measured post

    def __post_init__(self) -> None:
        if self.profiles_per_group > self.sets_per_group * len(NETWORKS):
            raise ValueError("a social set holds at most one profile per network")
        if self.access_groups < 4 or self.library_items < 1 or self.media_per_group < 1:
            raise ValueError("the benchmark needs HQ, three client groups and media in each")
        if self.organized_posts < ORGANIZED_PROFILES:
            raise ValueError("every profile of the organized set needs a post")
        if self.profiles_per_group < 1:
            raise ValueError("the measured post needs a profile in the measured group")


BIG = Scale("big", access_groups=100, sets_per_group=2, profiles_per_group=10, library_items=50_000,
            media_per_group=500, posts=100_000, organized_posts=5_000, campaigns_per_group=50, thread=500)
# The small agency fills one page of every paged list of the measured group (a page of groups, of
# its library, of its campaigns, of a month's posts, of a post's lists), with the same profiles per
# group as the big one: the big/small ratio then measures what grows with the data, not how full a
# page is.
SMALL = Scale("small", access_groups=25, sets_per_group=2, profiles_per_group=10, library_items=60,
              media_per_group=60, posts=2_500, organized_posts=10, campaigns_per_group=20, thread=30)


@dataclass(frozen=True)
class OrganizedSet:
    """The social set the Organize measurement moves to the other group and back, and what it holds."""

    set_id: int
    group_id: int
    profiles: int
    posts: int
    with_media: int  # posts carrying an item of the group's media library (which stays behind)
    pending: int  # posts waiting for approval
    approver_email: str  # approves its profiles and cannot enter the other group


@dataclass
class Dataset:
    """What was built, and who and what the benchmark should use."""

    scale: Scale
    owner_email: str
    manager_email: str
    bench_group_id: int
    other_group_id: int  # another client group of the account, where media moves and the organized set go
    organized: OrganizedSet
    library_ids: list[int]  # the measured group's media items, newest first
    manager_groups: int  # how many groups the measured manager may enter
    user_group_id: int  # the user group whose pages are measured (members, rights, grants)
    member_id: int  # the client whose member page is measured (grants, approver ticks)
    post_id: int  # the measured post: upcoming, waiting for approval, with its thread
    campaign_id: int  # the measured group's first campaign
    rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line naming the row counts that matter."""
        shown = ["access_groups", "social_sets", "social_profiles", "media_items", "posts", "post_media",
                 "comments", "notifications", "campaigns", "users", "group_users", "user_groups"]
        return ", ".join(f"{self.rows[name]:,} {name}" for name in shown)


class Writer:
    """Bulk inserts through the session, counting the rows written to each table."""

    def __init__(self) -> None:
        self.rows: Counter = Counter()
        self.id_tables: set[str] = set()

    def insert(self, model: type, rows: list[dict[str, Any]]) -> None:
        """Insert `rows` with one executemany of a Core insert on the model's table."""
        if rows:
            db.session.execute(insert(model.__table__), rows)
            self.rows[model.__tablename__] += len(rows)

    def insert_ids(self, model: type, rows: list[dict[str, Any]]) -> list[int]:
        """Insert `rows` with ids chosen here (the tables start empty) and return those ids in order.

        Choosing ids avoids RETURNING, whose ORM bulk form is slow on SQLite for many rows.
        """
        self.id_tables.add(model.__tablename__)
        first = self.rows[model.__tablename__] + 1
        ids = list(range(first, first + len(rows)))
        self.insert(model, [{**row, "id": new_id} for row, new_id in zip(rows, ids)])
        return ids

    def sync_sequences(self) -> None:
        """On PostgreSQL, move each id sequence past the ids chosen here, so the app can insert."""
        if db.engine.dialect.name != "postgresql":
            return
        for table in sorted(self.id_tables):
            if not self.rows[table]:
                continue
            db.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :last)"), {"last": self.rows[table]}
            )


def media_row(group_id: int, uploader_id: int, j: int, now: datetime) -> dict[str, Any]:
    """The `j`-th newest item of a group's library (no file stored for it)."""
    video = j % VIDEO_EVERY == VIDEO_EVERY - 1
    suffix = "mp4" if video else "jpg"
    return {
        "access_group_id": group_id,
        "uploaded_by_id": uploader_id,
        "name": f"{MEDIA_WORDS[j % len(MEDIA_WORDS)]}-{j:05d}.{suffix}",
        "kind": "video" if video else "image",
        "content_type": "video/mp4" if video else "image/jpeg",
        "byte_size": 50_000 + j,
        "width": 1080,
        "height": 1080,
        "storage_key": f"bench-{group_id}-{j}.{suffix}",
        "thumbnail_key": None if video else f"bench-{group_id}-{j}.webp",
        "created_at": now - timedelta(minutes=j),
    }


def _stored_image(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with a real JPEG and its thumbnail in the app's media storage, as an upload would leave them."""
    jpeg = io.BytesIO()
    Image.linear_gradient("L").resize((640, 480)).convert("RGB").save(jpeg, "JPEG")
    inspected = inspect_upload(jpeg, row["name"], UploadLimits.from_config())
    storage = media_storage()
    return {
        **row,
        "byte_size": inspected.byte_size,
        "width": inspected.width,
        "height": inspected.height,
        "storage_key": storage.save(jpeg, inspected.suffix),
        "thumbnail_key": storage.save(inspected.thumbnail, ".webp"),
    }


def email_of(local: str) -> str:
    """The address of a benchmark user."""
    return f"{local}@{EMAIL_DOMAIN}"


def _ring(start: int, count: int, size: int) -> list[int]:
    """`count` consecutive indexes from `start`, wrapping around `size` (no repeats)."""
    return sorted({(start + step) % size for step in range(min(count, size))})


def _entered(local: str, tabs: dict[str, list[int]], teams: list[Team]) -> set[int]:
    """The group indexes `local` may enter through a Users tab or a live user-group grant."""
    return set(tabs.get(local, [])).union(*(granted for _, _, live, granted, _ in teams if local in live))


def _post_row(p: int, profile_id: int, group_id: int, author_id: int, rng: random.Random,
              now: datetime) -> dict[str, Any]:
    """The `p`-th post: statuses in turn, two in three of the unpublished in the future."""
    status = STATUSES[p % len(STATUSES)]
    future = status is not PostStatus.PUBLISHED and p % 3 != 0
    offset = timedelta(days=rng.uniform(0.01, 180)) * (1 if future else -1)
    unscheduled = status is PostStatus.DRAFT and p % 12 == 0
    return {
        "social_profile_id": profile_id,
        "access_group_id": group_id,
        "author_id": author_id,
        "caption": f"Post {p}: behind the scenes, new drop, giveaway details below",
        "status": status.value,
        "scheduled_at": None if unscheduled else now + offset,
        "published_at": now + offset if status is PostStatus.PUBLISHED else None,
    }


def _organized_set(out: Writer, scale: Scale, rng: random.Random, now: datetime, group_id: int,
                   library: list[int], uid: dict[str, int], approver: str) -> OrganizedSet:
    """A set of `group_id` with profiles `approver` approves, in a campaign, holding `scale.organized_posts` posts."""
    approver_id, author_id = uid[approver], uid["manager0"]
    [set_id] = out.insert_ids(SocialSet, [
        {"access_group_id": group_id, "name": "Organized", "position": scale.sets_per_group}
    ])
    profile_ids = out.insert_ids(SocialProfile, [
        {"social_set_id": set_id, "access_group_id": group_id, "network": network.value,
         "handle": f"organized{group_id}_{network.value}", "access_token": f"bench-token-organized-{k}",
         "needs_approval": True, "connected_by_id": approver_id}
        for k, network in enumerate(NETWORKS[:ORGANIZED_PROFILES])
    ])
    [campaign_id] = out.insert_ids(Campaign, [{"access_group_id": group_id, "name": "Spring launch",
                                               "starts_on": now.date(), "ends_on": now.date() + timedelta(days=60)}])
    out.insert(CampaignProfile, [{"campaign_id": campaign_id, "social_profile_id": pid} for pid in profile_ids])
    out.insert(ProfileApprover, [{"social_profile_id": pid, "user_id": approver_id} for pid in profile_ids])
    post_rows = [_post_row(p, profile_ids[p % len(profile_ids)], group_id, author_id, rng, now)
                 for p in range(scale.organized_posts)]
    post_ids = out.insert_ids(Post, post_rows)
    attached = [{"post_id": post_id, "media_item_id": library[p % min(len(library), ATTACHED_NEWEST)],
                 "position": 0} for p, post_id in enumerate(post_ids) if p % ORGANIZED_MEDIA_EVERY == 0]
    out.insert(PostMedia, attached)
    return OrganizedSet(
        set_id=set_id, group_id=group_id, profiles=len(profile_ids), posts=len(post_ids), with_media=len(attached),
        pending=sum(1 for row in post_rows if row["status"] == PostStatus.PENDING_APPROVAL.value),
        approver_email=email_of(approver),
    )


def _campaigns(out: Writer, scale: Scale, now: datetime, group_ids: list[int], profile_ids: list[int],
               profile_group: list[int]) -> dict[int, int]:
    """Each group's campaigns, past, running and coming (one in five undated), each linked to one to three
    of its profiles; returns each group index's first campaign."""
    profiles_of: dict[int, list[int]] = {}
    for profile_id, i in zip(profile_ids, profile_group):
        profiles_of.setdefault(i, []).append(profile_id)
    rows, places = [], []
    for i in range(len(group_ids)):
        for j in range(scale.campaigns_per_group):
            starts_on = now.date() + timedelta(days=14 * j - 7 * scale.campaigns_per_group)
            dated = j % 5 != 4
            rows.append({"access_group_id": group_ids[i], "name": f"Campaign {j + 1:03d}",
                         "starts_on": starts_on if dated else None,
                         "ends_on": starts_on + timedelta(days=7 * (1 + j % 4)) if dated else None})
            places.append((i, j))
    campaign_ids = out.insert_ids(Campaign, rows)
    links, first = [], {}
    for campaign_id, (i, j) in zip(campaign_ids, places):
        first.setdefault(i, campaign_id)
        profiles = profiles_of.get(i, [])
        links += [{"campaign_id": campaign_id, "social_profile_id": profiles[k]}
                  for k in _ring(j, 1 + j % 3, len(profiles))]
    out.insert(CampaignProfile, links)
    return first


def _thread(out: Writer, scale: Scale, now: datetime, account_id: int, post_id: int, author_id: int,
            approvers: list[int], people: list[int | None], group_id: int) -> None:
    """The measured post's comments, approval decisions, review links and history: `scale.thread` of each,
    by `people` in turn (None: someone whose user was deleted); the decisions and links are the approvers',
    the links sent by the post's author."""
    reviewers = approvers or people
    count = scale.thread
    at = [now - timedelta(minutes=count - n) for n in range(count)]
    out.insert(Comment, [
        {"post_id": post_id, "author_id": people[n % len(people)], "body": f"Thread comment {n + 1}",
         "created_at": at[n]} for n in range(count)
    ])
    link_ids = out.insert_ids(ReviewLink, [
        {"reviewer_id": reviewers[n % len(reviewers)], "account_id": account_id, "created_by_id": author_id,
         "last_emailed_at": at[n],
         "token_hash": hashlib.sha256(f"bench-review-{post_id}-{n}".encode()).hexdigest(), "created_at": at[n],
         "expires_at": at[n] + timedelta(days=1 if n % 3 == 0 else 7), "revoked_at": now if n % 5 == 0 else None}
        for n in range(count)
    ])
    out.insert(ReviewLinkPost, [{"review_link_id": link_id, "post_id": post_id} for link_id in link_ids])
    decisions = list(Decision)
    out.insert(ApprovalDecision, [
        {"post_id": post_id, "reviewer_id": reviewers[n % len(reviewers)],
         "review_link_id": link_ids[n] if n % 2 else None, "decision": decisions[n % len(decisions)].value,
         "note": "" if decisions[n % len(decisions)] is Decision.APPROVE else f"Note {n + 1}", "created_at": at[n]}
        for n in range(count)
    ])
    verbs = list(HISTORY_LABELS)
    out.insert(AuditEvent, [
        {"account_id": account_id, "actor_id": people[n % len(people)], "verb": verbs[n % len(verbs)],
         "object_type": "post", "object_id": post_id, "access_group_id": group_id, "after": {"event": n + 1},
         "created_at": at[n]} for n in range(count)
    ])


def build(scale: Scale, now: datetime | None = None) -> Dataset:
    """Fill the (empty, schema-created) database of the current app; commits. Needs an app context."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    rng = random.Random(20240601)
    out = Writer()
    n = scale.access_groups

    install_reference_plans()
    [account_id] = out.insert_ids(Account, [{"name": "Big Agency", "plan_code": "self_hosted"}])
    group_ids = out.insert_ids(AccessGroup, [
        {"account_id": account_id, "name": "Big Agency HQ" if i == 0 else f"Client {i:03d}", "is_default": i == 0}
        for i in range(n)
    ])

    # People: one owner, admins, managers and clients, all sharing one (cheap) password hash.
    password_hash = hash_password(PASSWORD)
    people = [("owner", Role.OWNER)]
    people += [(f"admin{i}", Role.ADMIN) for i in range(ADMINS)]
    people += [(f"manager{i}", Role.MANAGER) for i in range(MANAGERS)]
    people += [(f"client{i}", Role.CLIENT) for i in range(CLIENTS)]
    user_ids = out.insert_ids(User, [
        {"email": email_of(local), "name": local.title(), "password_hash": password_hash} for local, _ in people
    ])
    uid = {local: user_id for (local, _), user_id in zip(people, user_ids)}
    membership_ids = out.insert_ids(Membership, [
        {"account_id": account_id, "user_id": uid[local], "role": role.value} for local, role in people
    ])
    mid = {local: membership_id for (local, _), membership_id in zip(people, membership_ids)}
    out.insert(MemberRight, [
        {"membership_id": mid[f"client{c}"], "name": right}
        for c in range(CLIENTS) for right in CLIENT_RIGHTS[c % len(CLIENT_RIGHTS)]
    ])

    # Users tabs: which groups each person may enter directly.
    tabs: dict[str, list[int]] = {"owner": [0], "admin0": list(range(n)), "admin1": list(range(0, n, 2)),
                                  "admin2": [0]}
    for m in range(MANAGERS):
        tabs[f"manager{m}"] = _ring(7 * m, MANAGER_GROUPS, n)
    for c in range(CLIENTS):
        tabs[f"client{c}"] = [1 + c % (n - 1) if n > 1 else 0]
    group_users = [
        {"access_group_id": group_ids[i], "user_id": uid[local], "expires_at": None}
        for local, indexes in tabs.items() for i in indexes
    ]
    lapsed = (7 + MANAGER_GROUPS) % n  # manager1 was on this group's Users tab, until yesterday
    if lapsed not in tabs["manager1"]:
        group_users.append({"access_group_id": group_ids[lapsed], "user_id": uid["manager1"],
                            "expires_at": now - timedelta(days=1)})
    out.insert(GroupUser, group_users)

    # User groups: rights every member inherits, and grants that let members into more groups.
    teams: list[Team] = [
        ("Content leads", ["inbox.manage", "analytics.view", "group.users"],
         [f"manager{m}" for m in range(4)], _ring(n // 2, 10, n), []),
        ("Approvers", ["posts.approve"], [f"client{c}" for c in range(6)], [], []),
        ("Interns", ["media.view", "media.upload"], ["client6"], _ring(3, 2, n), ["client7"]),
        ("Guests", [], ["client8"], _ring(10, 1, n), []),
    ]
    team_ids = out.insert_ids(UserGroup, [
        {"account_id": account_id, "name": name, "description": f"{name} of the agency"}
        for name, *_ in teams
    ])
    out.insert(UserGroupRight, [
        {"user_group_id": team_id, "name": right}
        for team_id, (_, rights, *_) in zip(team_ids, teams) for right in rights
    ])
    members = []
    for team_id, (_, _, live, _, lapsed_members) in zip(team_ids, teams):
        members += [{"user_group_id": team_id, "user_id": uid[local], "expires_at": None} for local in live]
        members += [{"user_group_id": team_id, "user_id": uid[local], "expires_at": now - timedelta(hours=1)}
                    for local in lapsed_members]
    out.insert(UserGroupMember, members)
    out.insert(UserGroupGrant, [
        {"user_group_id": team_id, "access_group_id": group_ids[i]}
        for team_id, (_, _, _, granted, _) in zip(team_ids, teams) for i in granted
    ])

    # The measured group: manager0's first client group (not HQ); moved media goes to another one.
    bench = next(i for i in tabs["manager0"] if i != 0)
    other = next(i for i in range(1, n) if i != bench)

    # Social sets, and profiles filling their slots network by network; the measured group's first
    # profile needs client approval (the measured post is one of its posts).
    set_ids = out.insert_ids(SocialSet, [
        {"access_group_id": group_ids[i], "name": f"Set {s + 1}", "position": s}
        for i in range(n) for s in range(scale.sets_per_group)
    ])
    client_in = {tabs[f"client{c}"][0]: f"client{c}" for c in range(CLIENTS)}  # a client on each group's tab
    client_of = {i: uid[local] for i, local in client_in.items()}
    profile_rows, profile_group = [], []
    for i in range(n):
        for k in range(scale.profiles_per_group):
            slot, network = k % scale.sets_per_group, NETWORKS[k // scale.sets_per_group]
            profile_rows.append({
                "social_set_id": set_ids[i * scale.sets_per_group + slot],
                "access_group_id": group_ids[i],
                "network": network.value,
                "handle": f"client{i:03d}_{network.value}",
                "access_token": f"bench-token-{i}-{k}",
                "connected_by_id": client_of.get(i, uid["owner"]),
                "needs_approval": i == bench and k == 0,
            })
            profile_group.append(i)
    profile_ids = out.insert_ids(SocialProfile, profile_rows)
    approval_profile = profile_ids[profile_group.index(bench)]
    approvers = [uid[f"client{c}"] for c in range(CLIENTS) if bench in tabs[f"client{c}"]]
    out.insert(ProfileApprover, [{"social_profile_id": approval_profile, "user_id": user_id} for user_id in approvers])
    campaign_id = _campaigns(out, scale, now, group_ids, profile_ids, profile_group)[bench]

    # Media: the measured group's library at its scale, a smaller one in every other group. Only the
    # measured library's newest item has its files stored (the file and thumbnail routes serve it).
    media_rows, media_group = [], []
    for i in range(n):
        for j in range(scale.library_items if i == bench else scale.media_per_group):
            row = media_row(group_ids[i], uid[f"manager{j % MANAGERS}"], j, now)
            media_rows.append(_stored_image(row) if i == bench and j == 0 else row)
            media_group.append(i)
    media_by_group: dict[int, list[int]] = {}
    for i, media_id in zip(media_group, out.insert_ids(MediaItem, media_rows)):
        media_by_group.setdefault(i, []).append(media_id)  # newest first

    # Posts: every profile gets its share, over all statuses, two in three in the future.
    post_rows, post_group = [], []
    for p in range(scale.posts):
        profile = p % len(profile_ids)
        post_rows.append(_post_row(p, profile_ids[profile], group_ids[profile_group[profile]],
                                   uid[f"manager{p % MANAGERS}"], rng, now))
        post_group.append(profile_group[profile])
    # The measured post: the first upcoming one of the profile that needs approval, waiting for it.
    measured = next((p for p, row in enumerate(post_rows)
                     if row["social_profile_id"] == approval_profile and row["status"] != PostStatus.PUBLISHED.value
                     and row["scheduled_at"] is not None and row["scheduled_at"] > now), None)
    if measured is None:
        raise RuntimeError(f"{scale.label}: the measured group's approval profile has no upcoming post")
    post_rows[measured]["status"] = PostStatus.PENDING_APPROVAL.value
    post_ids = out.insert_ids(Post, post_rows)

    # Some posts have a few comments, by their author and the group's client in turn; the measured one its thread.
    comments = []
    for p, (post_id, row, i) in enumerate(zip(post_ids, post_rows, post_group)):
        if p % COMMENTED_EVERY == COMMENTED_EVERY - 1 and p != measured:
            authors = [row["author_id"], client_of.get(i, uid["owner"])]
            comments += [{"post_id": post_id, "author_id": authors[c % 2], "body": f"Comment {c + 1} on post {p}",
                          "created_at": now - timedelta(hours=COMMENTS_PER_POST - c)}
                         for c in range(COMMENTS_PER_POST)]
    out.insert(Comment, comments)
    # Each comment by someone else tells the post's author (half of them read); the owner hears of one
    # post in twenty that failed to publish. The bell and the notifications page count and page these.
    author_of = dict(zip(post_ids, (row["author_id"] for row in post_rows)))
    group_of_post = dict(zip(post_ids, (group_ids[i] for i in post_group)))
    out.insert(Notification, [
        {"user_id": author_of[comment["post_id"]], "account_id": account_id, "kind": NotificationKind.COMMENT_ADDED.value,
         "actor_id": comment["author_id"], "access_group_id": group_of_post[comment["post_id"]],
         "post_id": comment["post_id"], "message": f"A comment on your post {comment['post_id']}",
         "created_at": comment["created_at"], "read_at": now if c % 2 else None}
        for c, comment in enumerate(comments) if comment["author_id"] != author_of[comment["post_id"]]
    ] + [
        {"user_id": uid["owner"], "account_id": account_id, "kind": NotificationKind.PUBLISH_FAILED.value, "actor_id": None,
         "access_group_id": group_of_post[post_id], "post_id": post_id, "message": f"Post {post_id} could not be published",
         "created_at": now - timedelta(minutes=p), "read_at": None}
        for p, post_id in enumerate(post_ids) if p % 20 == 0
    ])
    _thread(out, scale, now, account_id, post_ids[measured], post_rows[measured]["author_id"], approvers,
            [uid["owner"], uid["manager0"], *approvers, None], group_of_post[post_ids[measured]])

    # One in four posts, and every post of the measured group, carries one of its group's newest items.
    carried: Counter = Counter()
    post_media = []
    for p, (post_id, i) in enumerate(zip(post_ids, post_group)):
        library = media_by_group.get(i)
        if library and (p % 4 == 1 or i == bench):
            item = library[carried[i] % min(len(library), ATTACHED_NEWEST)]
            post_media.append({"post_id": post_id, "media_item_id": item, "position": 0})
            carried[i] += 1
    out.insert(PostMedia, post_media)

    # The organized set: in a third client group, approved by a client of it who cannot enter the other group.
    organized = next((i for i in sorted(client_in)
                      if i not in (0, bench, other) and other not in _entered(client_in[i], tabs, teams)), None)
    if organized is None:
        raise RuntimeError(f"{scale.label}: no client group for the organized set")
    organized_set = _organized_set(out, scale, rng, now, group_ids[organized], media_by_group[organized], uid,
                                   client_in[organized])
    out.sync_sequences()
    recount_media()  # items went in as bulk rows: each group's count is set from them
    db.session.commit()

    upcoming_groups = {
        post_group[p] for p, row in enumerate(post_rows)
        if row["scheduled_at"] is not None and row["scheduled_at"] > now and row["status"] != "published"
    }
    if bench not in upcoming_groups:
        raise RuntimeError(f"{scale.label}: the measured group has no upcoming posts")
    return Dataset(
        scale=scale,
        owner_email=email_of("owner"),
        manager_email=email_of("manager0"),
        bench_group_id=group_ids[bench],
        other_group_id=group_ids[other],
        organized=organized_set,
        library_ids=media_by_group[bench],
        manager_groups=len(_entered("manager0", tabs, teams)),
        user_group_id=team_ids[0],
        member_id=uid["client0"],
        post_id=post_ids[measured],
        campaign_id=campaign_id,
        rows=out.rows,
        seconds=time.perf_counter() - started,
    )
