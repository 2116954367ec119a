"""The demo agency, Northstar Talent: staff, four creators each in their own access group, content."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

from PIL import Image, ImageDraw
from sqlalchemy import select

from .accounts import hash_password
from .extensions import db
from .media import adjust_media_counts
from .models import (
    AccessGroup,
    Account,
    ApprovalDecision,
    AuditEvent,
    Campaign,
    Comment,
    Decision,
    GroupUser,
    MediaItem,
    MemberRight,
    Membership,
    Network,
    Post,
    PostStatus,
    ProfileApprover,
    Role,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    UserGroupMember,
    UserGroupRight,
)
from .storage import media_storage

DEMO_PASSWORD = "northstar-demo"
DEMO_DOMAIN = "northstar.example"

# name, email local part, role, job title shown with the demo logins
STAFF = [
    ("Nora Quinn", "owner", Role.OWNER, "agency owner"),
    ("Alex Rivera", "alex", Role.ADMIN, "agent, admin"),
    ("Sam Okafor", "sam", Role.MANAGER, "agent, manager"),
    ("Ivy Chen", "ivy", Role.MANAGER, "assistant, manager"),
]

# name, email local part, handle stem, networks of the main set, networks of the second set
CREATORS = [
    ("Maya Lopez", "maya", "mayalopez", [Network.INSTAGRAM, Network.TIKTOK, Network.YOUTUBE], [Network.INSTAGRAM, Network.X]),
    ("Jonah Reed", "jonah", "jonahreed", [Network.INSTAGRAM, Network.YOUTUBE, Network.THREADS], []),
    ("Priya Shah", "priya", "priyashah", [Network.TIKTOK, Network.INSTAGRAM, Network.PINTEREST], [Network.LINKEDIN]),
    ("Leo Park", "leo", "leopark", [Network.YOUTUBE, Network.X, Network.FACEBOOK], []),
]

# Which staff work in which creator groups (the owner and the admin see every group).
STAFF_GROUPS = {"sam": {"maya", "jonah"}, "ivy": {"priya", "leo"}}

# Creators get their media rights from the "Creators" user group; the first creator also holds
# analytics of her own, so the access review and the "Why?" explainer show both kinds of path.
CREATOR_RIGHTS = ("media.view", "media.upload")
CREATORS_GROUP = ("Creators", "Every creator we represent: they may use their media library.")
OWN_GRANTS = {"maya": ("analytics.view",)}

SWATCHES = ["#4f46e5", "#db2777", "#059669", "#d97706", "#0891b2", "#7c3aed"]

CAPTIONS = [
    "Behind the scenes of today's shoot ✨",
    "New drop this Friday. Who's ready?",
    "Q&A time: ask me anything about my morning routine",
    "Thank you for 100k! Giveaway details below",
    "Studio session recap, swipe for the bloopers",
    "Partner spotlight: our favourite summer essentials",
]


def _email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def demo_logins() -> list[tuple[str, str]]:
    """(who, email) for each demo login that exists in the database."""
    wanted = [(f"{name} ({title})", _email(local)) for name, local, _role, title in STAFF]
    wanted += [(f"{name} (creator, client)", _email(local)) for name, local, *_ in CREATORS]
    existing = set(db.session.scalars(select(User.email).where(User.email.in_([e for _, e in wanted]))))
    return [(who, email) for who, email in wanted if email in existing]


def _image(label: str, colour: str) -> bytes:
    picture = Image.new("RGB", (640, 640), colour)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 40, 600, 600), outline="white", width=8)
    draw.text((70, 300), label, fill="white")
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)  # a photo shoot, and what every network takes
    return buffer.getvalue()


def _thumbnail(data: bytes) -> bytes:
    picture = Image.open(io.BytesIO(data))
    picture.thumbnail((320, 320))
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()


def seed_demo(now: datetime | None = None, with_files: bool = True) -> Account:
    """Create the whole demo agency. The caller commits."""
    now = now or datetime.now(timezone.utc)
    password_hash = hash_password(DEMO_PASSWORD)
    account = Account(name="Northstar Talent", plan_code="self_hosted", time_zone="UTC")
    db.session.add(account)

    users: dict[str, User] = {}
    memberships: dict[str, Membership] = {}
    for name, local, role, _title in STAFF:
        users[local] = User(email=_email(local), name=name, password_hash=password_hash)
        memberships[local] = Membership(account=account, user=users[local], role=role.value)
    for name, local, *_ in CREATORS:
        users[local] = User(email=_email(local), name=name, password_hash=password_hash)
        memberships[local] = Membership(account=account, user=users[local], role=Role.CLIENT.value)
        memberships[local].rights = [MemberRight(name=right) for right in OWN_GRANTS.get(local, ())]
    db.session.add_all(users.values())
    db.session.add_all(memberships.values())

    headquarters = AccessGroup(account=account, name="Northstar HQ", is_default=True)
    groups: dict[str, AccessGroup] = {"hq": headquarters}
    for name, local, *_ in CREATORS:
        groups[local] = AccessGroup(account=account, name=name)
    db.session.add_all(groups.values())
    db.session.flush()

    entries = {("owner", key) for key in groups} | {("alex", key) for key in groups}
    entries |= {("sam", "hq"), ("ivy", "hq")}
    entries |= {(staff, creator) for staff, creators in STAFF_GROUPS.items() for creator in creators}
    entries |= {(local, local) for _, local, *_ in CREATORS}
    db.session.add_all(
        GroupUser(access_group_id=groups[group_key].id, user_id=users[user_key].id)
        for user_key, group_key in sorted(entries)
    )
    creators_group = UserGroup(account_id=account.id, name=CREATORS_GROUP[0], description=CREATORS_GROUP[1])
    db.session.add(creators_group)
    db.session.flush()
    db.session.add_all(UserGroupRight(user_group_id=creators_group.id, name=right) for right in CREATOR_RIGHTS)
    db.session.add_all(UserGroupMember(user_group_id=creators_group.id, user_id=users[local].id)
                       for _, local, *_ in CREATORS)

    hq_set = SocialSet(access_group_id=headquarters.id, name="Northstar", position=0)
    db.session.add(hq_set)
    db.session.flush()
    for network in (Network.LINKEDIN, Network.INSTAGRAM, Network.FACEBOOK):
        db.session.add(_profile(hq_set, network, "northstartalent", users["alex"]))

    storage = media_storage() if with_files else None
    for index, (name, local, stem, main_networks, second_networks) in enumerate(CREATORS):
        group = groups[local]
        creator = users[local]
        main_set = SocialSet(access_group_id=group.id, name=f"{name.split()[0]} Main", position=0)
        sets = [(main_set, main_networks)]
        if second_networks:
            sets.append((SocialSet(access_group_id=group.id, name="Brand Deals", position=1), second_networks))
        db.session.add_all(social_set for social_set, _ in sets)
        db.session.flush()
        profiles: list[SocialProfile] = []
        for social_set, networks in sets:
            suffix = "" if social_set is main_set else "deals"
            for network in networks:
                profiles.append(_profile(social_set, network, stem + suffix, creator))
        db.session.add_all(profiles)
        db.session.flush()

        # The creator approves posts on their first profile.
        profiles[0].needs_approval = True
        db.session.add(ProfileApprover(social_profile_id=profiles[0].id, user_id=creator.id))

        media = _media_items(group, creator, name, index, storage, now)
        db.session.add_all(media)
        db.session.flush()
        adjust_media_counts({group.id: len(media)})

        author = users["sam"] if local in STAFF_GROUPS["sam"] else users["ivy"]
        posts = _posts(profiles, author, media, now, index)
        db.session.add_all(posts)
        db.session.flush()
        _conversation(posts, creator, author, now)

        campaign = Campaign(
            access_group_id=group.id,
            name=f"{name.split()[0]} x Summer Launch",
            starts_on=date.today() + timedelta(days=3),
            ends_on=date.today() + timedelta(days=33),
        )
        campaign.profiles = profiles[:2]
        db.session.add(campaign)

    db.session.add(
        AuditEvent(
            account_id=account.id,
            actor_id=users["owner"].id,
            verb="account.created",
            object_type="account",
            object_id=account.id,
            after={"name": account.name, "demo": True},
        )
    )
    db.session.flush()
    return account


def _profile(social_set: SocialSet, network: Network, handle: str, connected_by: User) -> SocialProfile:
    return SocialProfile(
        social_set_id=social_set.id,
        access_group_id=social_set.access_group_id,
        network=network.value,
        handle=handle,
        display_name=handle,
        external_id=f"sandbox-{network.value}-{handle}",
        access_token=f"sandbox-access-{network.value}-{handle}",
        refresh_token=f"sandbox-refresh-{network.value}-{handle}",
        connected_by_id=connected_by.id,
    )


def _media_items(group: AccessGroup, creator: User, name: str, index: int, storage, now: datetime) -> list[MediaItem]:
    items = []
    for number in range(6):
        colour = SWATCHES[(index + number) % len(SWATCHES)]
        data = _image(f"{name} #{number + 1}", colour)
        storage_key = thumbnail_key = None
        if storage is not None:
            storage_key = storage.save(data, ".jpg")
            thumbnail_key = storage.save(_thumbnail(data), ".webp")
        items.append(
            MediaItem(
                access_group_id=group.id,
                uploaded_by_id=creator.id,
                name=f"{name.split()[0].lower()}-shoot-{number + 1}.jpg",
                kind="image",
                content_type="image/jpeg",
                byte_size=len(data),
                width=640,
                height=640,
                storage_key=storage_key or f"demo-{group.id}-{number}.jpg",
                thumbnail_key=thumbnail_key,
                created_at=now - timedelta(days=number, hours=index),
            )
        )
    return items


def _posts(profiles: list[SocialProfile], author: User, media: list[MediaItem], now: datetime, index: int) -> list[Post]:
    """One post in each status, spread over the group's profiles and the coming days."""
    plan = [
        (PostStatus.DRAFT, None),
        (PostStatus.PENDING_APPROVAL, timedelta(days=2, hours=3)),
        (PostStatus.APPROVED, timedelta(days=4, hours=1)),
        (PostStatus.REJECTED, timedelta(days=5)),
        (PostStatus.SCHEDULED, timedelta(days=1, hours=5)),
        (PostStatus.SCHEDULED, timedelta(days=6, hours=2)),
        (PostStatus.PUBLISHED, -timedelta(days=2)),
    ]
    posts = []
    for number, (status, offset) in enumerate(plan):
        needs_approval = status in (PostStatus.PENDING_APPROVAL, PostStatus.APPROVED, PostStatus.REJECTED)
        # Only the first profile needs approval; the others carry the approval-free posts.
        profile = profiles[0] if needs_approval else profiles[1 + number % (len(profiles) - 1)]
        scheduled = None if offset is None else (now + offset).replace(minute=0, second=0, microsecond=0)
        post = Post(
            social_profile_id=profile.id,
            access_group_id=profile.access_group_id,
            author_id=author.id,
            caption=CAPTIONS[(number + index) % len(CAPTIONS)],
            status=status.value,
            scheduled_at=scheduled,
            published_at=scheduled if status is PostStatus.PUBLISHED else None,
        )
        post.media_items = [media[number % len(media)]]
        posts.append(post)
    return posts


def _conversation(posts: list[Post], creator: User, author: User, now: datetime) -> None:
    by_status = {post.status: post for post in posts}
    pending = by_status[PostStatus.PENDING_APPROVAL.value]
    approved = by_status[PostStatus.APPROVED.value]
    rejected = by_status[PostStatus.REJECTED.value]
    db.session.add_all(
        [
            Comment(post_id=pending.id, author_id=creator.id, body="Can we use the second photo instead?",
                    created_at=now - timedelta(hours=5)),
            Comment(post_id=pending.id, author_id=author.id, body="Sure, swapping it now.",
                    created_at=now - timedelta(hours=4)),
            ApprovalDecision(post_id=pending.id, reviewer_id=creator.id, decision=Decision.FEEDBACK.value,
                             note="Love it, just the photo.", created_at=now - timedelta(hours=5)),
            ApprovalDecision(post_id=approved.id, reviewer_id=creator.id, decision=Decision.APPROVE.value,
                             created_at=now - timedelta(hours=20)),
            ApprovalDecision(post_id=rejected.id, reviewer_id=creator.id, decision=Decision.REJECT.value,
                             note="Not this week, the launch moved.", created_at=now - timedelta(days=1)),
        ]
    )
