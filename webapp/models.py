"""The Roster data model: accounts, access groups and everything that lives inside them.

Tenant data carries its `access_group_id`; posts and profiles repeat the group of their parent, and
composite foreign keys keep the copies equal in the database (a move updates the parent, the
database cascades the group to its children).
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class EncryptedText(TypeDecorator):
    """Text encrypted with the app's token key before it reaches the database."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        from .crypto import encrypt

        return None if value is None else encrypt(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        from .crypto import decrypt

        return None if value is None else decrypt(value)


class Role(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    CLIENT = "client"


class Network(str, enum.Enum):
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    LINKEDIN = "linkedin"
    X = "x"
    PINTEREST = "pinterest"
    YOUTUBE = "youtube"
    THREADS = "threads"
    GOOGLE_BUSINESS = "google_business"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"

    @property
    def label(self) -> str:
        return NETWORK_LABELS[self]


NETWORK_LABELS = {
    Network.INSTAGRAM: "Instagram",
    Network.FACEBOOK: "Facebook",
    Network.TIKTOK: "TikTok",
    Network.LINKEDIN: "LinkedIn",
    Network.X: "X",
    Network.PINTEREST: "Pinterest",
    Network.YOUTUBE: "YouTube",
    Network.THREADS: "Threads",
    Network.GOOGLE_BUSINESS: "Google Business Profile",
    Network.BLUESKY: "Bluesky",
    Network.MASTODON: "Mastodon",
}
# Networks whose profiles live on a server the person names (a Bluesky PDS, a Mastodon instance):
# Roster connects them with no app of the agency's, and the sandbox provider does not stand in for them.
SERVER_NETWORKS = frozenset({Network.BLUESKY, Network.MASTODON})


class PostStatus(str, enum.Enum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class Decision(str, enum.Enum):
    APPROVE = "approve"
    FEEDBACK = "feedback"
    REJECT = "reject"


class MailStatus(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def _in(column: str, enum_type: type[enum.Enum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum_type)
    return f"{column} IN ({values})"


# --- accounts and people -------------------------------------------------------------------------


class Plan(db.Model):
    """Limits an account works within; `None` means unlimited. Plans are data, not code."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    max_access_groups: Mapped[int | None]
    max_social_sets: Mapped[int | None]
    max_seats: Mapped[int | None]


class Account(db.Model):
    """An agency: one owner, a plan, members and access groups."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    plan_code: Mapped[str] = mapped_column(
        ForeignKey("plans.code", ondelete="RESTRICT"), default="self_hosted"
    )
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # How the agency reads days and times: the first day of its weeks, and a 24- or 12-hour clock.
    week_start: Mapped[str] = mapped_column(String(8), default="monday", server_default="monday")
    clock: Mapped[str] = mapped_column(String(4), default="24h", server_default="24h")
    # Its brand on emails and the review page: a logo in media storage and an accent colour (#rrggbb).
    logo_key: Mapped[str | None] = mapped_column(String(255))
    accent_color: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship(lazy="joined")
    access_groups: Mapped[list[AccessGroup]] = relationship(
        back_populates="account", order_by="AccessGroup.name"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="account")


class User(UserMixin, db.Model):
    """A person who signs in. May belong to several accounts through memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_access_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_groups.id", ondelete="SET NULL", use_alter=True)
    )
    # The person's own time zone; None reads times in the agency's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # The local day the person's daily notification digest last went out, so it never goes twice.
    digest_sent_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(db.Model):
    """One sign-in on one browser. Its cookie carries the id and a secret, of which only the hash is kept."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Refreshed every few minutes of use, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Membership(db.Model):
    """A user in an account with a role. Created when an invitation is accepted."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")
    rights: Mapped[list[MemberRight]] = relationship(
        back_populates="membership", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("account_id", "user_id"),
        CheckConstraint(_in("role", Role), name="role_known"),
        # Exactly one owner per account: the database refuses a second.
        Index(
            "uq_memberships_one_owner",
            "account_id",
            unique=True,
            sqlite_where=text("role = 'owner'"),
            postgresql_where=text("role = 'owner'"),
        ),
    )


class MemberRight(db.Model):
    """A right granted to one member on top of their role's baseline."""

    __tablename__ = "member_rights"

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)

    membership: Mapped[Membership] = relationship(back_populates="rights")


class Invitation(db.Model):
    """An emailed, single-use offer to join an account with a role."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    # The name the inviter typed, offered on the acceptance form; None when they left it empty.
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    add_to_default_group: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    access_groups: Mapped[list[AccessGroup]] = relationship(secondary="invitation_access_groups")

    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # One open invitation per email and account, even when two are sent at the same moment.
        Index(
            "uq_invitations_open_email",
            "account_id",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )


class InvitationAccessGroup(db.Model):
    __tablename__ = "invitation_access_groups"

    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
    )
    access_group_id: Mapped[int] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )


# --- access groups -------------------------------------------------------------------------------


class AccessGroup(db.Model):
    """The tenant boundary: a private workspace for one client or creator."""

    __tablename__ = "access_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many items the group's media library holds, so the library shows it without counting them.
    # webapp/media.py changes it in the same transaction as the items (`adjust_media_counts`).
    media_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When someone put away the group's "getting started" checklist; None shows it until it is done.
    checklist_dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(back_populates="access_groups")
    social_sets: Mapped[list[SocialSet]] = relationship(
        back_populates="access_group", order_by="SocialSet.position"
    )

    __table_args__ = (
        UniqueConstraint("account_id", "name"),
        # The rules refuse a name taken in any case (webapp/names.py); this index holds that line when
        # two saves race. It implies the older case-sensitive constraint, kept as SQLite drops one only
        # by rebuilding the table.
        Index("uq_access_groups_account_id_lower_name", "account_id", func.lower(name), unique=True),
        Index(
            "uq_access_groups_one_default",
            "account_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    def __repr__(self) -> str:
        return f"<AccessGroup {self.name}>"


class GroupUser(db.Model):
    """A member on an access group's Users tab: they may enter it."""

    __tablename__ = "group_users"

    access_group_id: Mapped[int] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_group_users_user", "user_id"),)


# --- user groups ---------------------------------------------------------------------------------


class UserGroup(db.Model):
    """A named set of users carrying rights that every member inherits."""

    __tablename__ = "user_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(40), default="users")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("account_id", "name"),
        # The rules refuse a name taken in any case (webapp/names.py); this index holds that line when
        # two saves race. It implies the older case-sensitive constraint, kept as SQLite drops one only
        # by rebuilding the table.
        Index("uq_user_groups_account_id_lower_name", "account_id", func.lower(name), unique=True),
    )


class UserGroupMember(db.Model):
    __tablename__ = "user_group_members"

    user_group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_user_group_members_user", "user_id"),)


class UserGroupRight(db.Model):
    __tablename__ = "user_group_rights"

    user_group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)


class UserGroupGrant(db.Model):
    """A user group allowed into an access group: all its members may enter it."""

    __tablename__ = "user_group_grants"

    user_group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    access_group_id: Mapped[int] = mapped_column(
        ForeignKey("access_groups.id", ondelete="CASCADE"), primary_key=True
    )


# --- social sets and profiles --------------------------------------------------------------------


class SocialSet(db.Model):
    """A named container in one access group holding at most one profile per network."""

    __tablename__ = "social_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_group_id: Mapped[int] = mapped_column(
        ForeignKey("access_groups.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    access_group: Mapped[AccessGroup] = relationship(back_populates="social_sets")
    profiles: Mapped[list[SocialProfile]] = relationship(
        back_populates="social_set", order_by="SocialProfile.network"
    )

    __table_args__ = (
        UniqueConstraint("id", "access_group_id"),
        # The rules refuse a name taken in any case (webapp/names.py); this index holds that line when
        # two saves race.
        Index("uq_social_sets_access_group_id_lower_name", "access_group_id", func.lower(name), unique=True),
    )


class SocialProfile(db.Model):
    """A connected account on one network, in one slot of one social set."""

    __tablename__ = "social_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    social_set_id: Mapped[int] = mapped_column()
    access_group_id: Mapped[int] = mapped_column(index=True)
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The server the profile lives on, for networks with many (a Bluesky PDS, a Mastodon instance).
    service_url: Mapped[str | None] = mapped_column(String(255))
    # Deferred: pages listing profiles never need (or decrypt) their tokens.
    access_token: Mapped[str | None] = mapped_column(EncryptedText, deferred=True)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText, deferred=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_reconnect: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    social_set: Mapped[SocialSet] = relationship(back_populates="profiles")

    __table_args__ = (
        ForeignKeyConstraint(
            ["social_set_id", "access_group_id"],
            ["social_sets.id", "social_sets.access_group_id"],
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        UniqueConstraint("social_set_id", "network"),
        UniqueConstraint("id", "access_group_id"),
        CheckConstraint(_in("network", Network), name="network_known"),
    )

    @property
    def network_label(self) -> str:
        return NETWORK_LABELS[Network(self.network)]


class NetworkApp(db.Model):
    """Roster's app as registered on one server of a network with many (a Mastodon instance)."""

    __tablename__ = "network_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    server_url: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # The callback the app was registered with: a new ROSTER_URL registers the app again.
    redirect_uri: Mapped[str] = mapped_column(String(500))
    # The server's own limits (characters, attachments, sizes) as it last told them, and when.
    limits: Mapped[dict | None] = mapped_column(JSON)
    limits_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("network", "server_url"),)


class ProfileApprover(db.Model):
    """A client who approves posts for a profile that needs client approval."""

    __tablename__ = "profile_approvers"

    social_profile_id: Mapped[int] = mapped_column(
        ForeignKey("social_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class ProfileAccessRemoval(db.Model):
    """A client who removed a profile they connected: only their own access to it ended."""

    __tablename__ = "profile_access_removals"

    social_profile_id: Mapped[int] = mapped_column(
        ForeignKey("social_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- media, campaigns, posts ---------------------------------------------------------------------


class MediaItem(db.Model):
    """A file in an access group's media library. Belongs to the group, never to a profile."""

    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_group_id: Mapped[int] = mapped_column(ForeignKey("access_groups.id", ondelete="RESTRICT"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(100))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None]
    height: Mapped[int | None]
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The audit event of the move that last brought the item to its group: its Undo moves back only
    # the items no newer change has touched since (webapp/media.py).
    moved_by_event_id: Mapped[int | None] = mapped_column(Integer)
    # What the item shows, for people who cannot see it; sent to the networks as alt text.
    alt_text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("kind IN ('image', 'video')", name="kind_known"),
        CheckConstraint("byte_size >= 0", name="size_positive"),
        Index("ix_media_items_group_newest", "access_group_id", "created_at", "id"),
    )


class Campaign(db.Model):
    """A named, dated campaign in one access group, linked to some of its profiles."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_group_id: Mapped[int] = mapped_column(
        ForeignKey("access_groups.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    profiles: Mapped[list[SocialProfile]] = relationship(secondary="campaign_profiles")

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        UniqueConstraint("access_group_id", "name", name="uq_campaigns_group_name"),
        # The rules refuse a name taken in any case (webapp/names.py); this index holds that line when
        # two saves race. It implies the older case-sensitive constraint, kept as SQLite drops one only
        # by rebuilding the table.
        Index("uq_campaigns_access_group_id_lower_name", "access_group_id", func.lower(name), unique=True),
    )


class CampaignProfile(db.Model):
    __tablename__ = "campaign_profiles"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    social_profile_id: Mapped[int] = mapped_column(
        ForeignKey("social_profiles.id", ondelete="CASCADE"), primary_key=True
    )


class Post(db.Model):
    """A post for one social profile, and so for that profile's access group."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    social_profile_id: Mapped[int] = mapped_column()
    access_group_id: Mapped[int] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    caption: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), default=PostStatus.DRAFT.value)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Publishing: a worker claims a due post (claim_token) before sending it, so it goes out once;
    # a failure is retried at next_publish_at, and the last error is shown on the post.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_attempts: Mapped[int] = mapped_column(default=0)
    next_publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Where the published post can be seen on its network ("View on Bluesky").
    external_url: Mapped[str | None] = mapped_column(String(1000))
    # Per-network choices: {"content_warning": ..., "visibility": ..., "language": ...}.
    options: Mapped[dict | None] = mapped_column(JSON)

    social_profile: Mapped[SocialProfile] = relationship()
    media_items: Mapped[list[MediaItem]] = relationship(secondary="post_media")

    __table_args__ = (
        ForeignKeyConstraint(
            ["social_profile_id", "access_group_id"],
            ["social_profiles.id", "social_profiles.access_group_id"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        CheckConstraint(_in("status", PostStatus), name="status_known"),
        Index("ix_posts_group_schedule", "access_group_id", "scheduled_at"),
        Index("ix_posts_profile", "social_profile_id"),
        Index("ix_posts_due", "status", "scheduled_at"),
        # A group's posts without a time, newest change first: the group's Overview lists its drafts.
        Index("ix_posts_group_unscheduled", "access_group_id", "updated_at", "id",
              sqlite_where=text("scheduled_at IS NULL"), postgresql_where=text("scheduled_at IS NULL")),
    )


class PostMedia(db.Model):
    """A media item attached to a post; survives the item moving to another group."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_item_id: Mapped[int] = mapped_column(
        ForeignKey("media_items.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_post_media_item", "media_item_id"),)


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class ApprovalDecision(db.Model):
    """One approver's decision on a post: who, when and what."""

    __tablename__ = "approval_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_link_id: Mapped[int | None] = mapped_column(ForeignKey("review_links.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # The post's status before this decision, so an Undo soon after can put it back.
    previous_status: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint(_in("decision", Decision), name="decision_known"),)


class ReviewLink(db.Model):
    """An emailed link letting one reviewer decide on specific posts without signing in.

    An approver holds one open link per agency: posts sent for their approval later join it, and
    every email to them carries the same link. Its token is derived from SECRET_KEY and
    `token_salt` when an email is written; the database keeps only the token's hash.
    """

    __tablename__ = "review_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The agency whose posts it covers (no foreign key: it was added to a table SQLite cannot alter).
    account_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_salt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the link was last emailed: the next digest waits REVIEW_DIGEST_MINUTES after it.
    last_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    posts: Mapped[list[Post]] = relationship(secondary="review_link_posts")

    __table_args__ = (Index("ix_review_links_reviewer_account", "reviewer_id", "account_id"),)


class ReviewLinkPost(db.Model):
    __tablename__ = "review_link_posts"

    review_link_id: Mapped[int] = mapped_column(
        ForeignKey("review_links.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    # The post's version when the link was made: an edit invalidates the link for that post.
    post_version: Mapped[int] = mapped_column(default=1)
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # When an email first listed this post to the reviewer; None: the next digest lists it.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationKind(str, enum.Enum):
    APPROVAL_REQUESTED = "approval_requested"
    DECISION_MADE = "decision_made"
    COMMENT_ADDED = "comment_added"
    PUBLISH_FAILED = "publish_failed"
    ACCESS_GRANTED = "access_granted"
    ACCESS_ENDING = "access_ending"


class Delivery(str, enum.Enum):
    """How a person hears of a kind of notification besides the in-app list."""

    NOW = "now"  # an email at once
    DIGEST = "digest"  # in the daily digest, at 08:00 in their time zone
    OFF = "off"  # in the app only


class Notification(db.Model):
    """Something a person should know, linking to its object; opening it asks the policy again."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access_group_id: Mapped[int | None] = mapped_column(ForeignKey("access_groups.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once the notification was emailed, at once or in a digest: it is never sent twice.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("kind", NotificationKind), name="kind_known"),
        Index("ix_notifications_user_time", "user_id", "created_at", "id"),
        # Deleting a post, group or person finds its notifications by these, not by reading them all.
        Index("ix_notifications_post", "post_id"),
        Index("ix_notifications_group", "access_group_id"),
        Index("ix_notifications_actor", "actor_id"),
        Index("ix_notifications_user_unread", "user_id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )


class NotificationPreference(db.Model):
    """A person's choice of delivery for one kind; a kind without a row is emailed at once."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(8))

    __table_args__ = (
        CheckConstraint(_in("kind", NotificationKind), name="kind_known"),
        CheckConstraint(_in("delivery", Delivery), name="delivery_known"),
    )


class PasswordReset(db.Model):
    """An emailed link to set a new password: single use, one hour, stored only as the token's hash."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # An owner or admin who sent it from the member's page; None when the person asked for it.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- audit and mail ------------------------------------------------------------------------------


class AuditEvent(db.Model):
    """Who did what to which object, with the state before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verb: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    # The access group the event happened in, and the other group of a move between two; None for
    # agency-wide events. No foreign keys: the log outlives a deleted group. An admin sees an event
    # only if they may enter every group it names (webapp/activity.py).
    access_group_id: Mapped[int | None] = mapped_column(Integer)
    related_group_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_audit_events_account_time", "account_id", "created_at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        # The Activity screen pages newest first by id, in the whole agency or in one group.
        Index("ix_audit_events_account_id_desc", "account_id", "id"),
        Index("ix_audit_events_group_id_desc", "access_group_id", "id"),
        Index("ix_audit_events_actor", "actor_id"),
    )


class Mail(db.Model):
    """An email queued in the same transaction as the change that causes it."""

    __tablename__ = "mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # The name it is sent under ("Northstar Talent via Roster"); None: MAIL_FROM's own.
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("status", MailStatus), name="status_known"),
        Index("ix_mail_due", "status", "next_attempt_at"),
    )


class WorkerHeartbeat(db.Model):
    """When each background worker last said it was alive; /readyz reads the newest."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The sandbox provider's tables belong to the schema even where the provider is not served.
from .sandbox import models as _sandbox_models  # noqa: E402,F401
