"""Builders for test data: small functions that add rows and flush, leaving commits to the test."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp import media
from webapp.extensions import db
from webapp.plans import install_reference_plans
from webapp.models import (
    AccessGroup,
    Account,
    GroupUser,
    MediaItem,
    MemberRight,
    Membership,
    Network,
    Post,
    PostStatus,
    Role,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
)

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def ensure_plans() -> None:
    """The reference plans, as the first migration inserts them."""
    install_reference_plans()


_password_hash_cache: dict[str, str] = {}


def make_user(email: str | None = None, name: str | None = None, password: str = PASSWORD) -> User:
    from webapp.accounts import hash_password

    number = next(_sequence)
    if password not in _password_hash_cache:
        _password_hash_cache[password] = hash_password(password)
    user = User(
        email=email or f"user{number}@example.test",
        name=name or f"User {number}",
        password_hash=_password_hash_cache[password],
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_account(name: str = "Agency", plan: str = "self_hosted", owner: User | None = None) -> Account:
    """An account with its owner and a default access group."""
    ensure_plans()
    owner = owner or make_user(name=f"{name} Owner")
    account = Account(name=name, plan_code=plan)
    db.session.add(account)
    db.session.flush()
    db.session.add(Membership(account_id=account.id, user_id=owner.id, role=Role.OWNER.value))
    make_group(account, f"{name} HQ", default=True)
    db.session.flush()
    return account


def owner_of(account: Account) -> User:
    return db.session.scalar(
        select(User).join(Membership).where(
            Membership.account_id == account.id, Membership.role == Role.OWNER.value
        )
    )


def default_group(account: Account) -> AccessGroup:
    return db.session.scalar(
        select(AccessGroup).where(AccessGroup.account_id == account.id, AccessGroup.is_default)
    )


def make_group(account: Account, name: str | None = None, default: bool = False) -> AccessGroup:
    group = AccessGroup(account_id=account.id, name=name or f"Group {next(_sequence)}", is_default=default)
    db.session.add(group)
    db.session.flush()
    return group


def make_member(
    account: Account,
    role: Role | str,
    groups: list[AccessGroup] = (),
    rights: list[str] = (),
    user: User | None = None,
    **user_fields,
) -> User:
    """A user with a membership in `account`, on the Users tab of `groups`, with extra `rights`."""
    user = user or make_user(**user_fields)
    membership = Membership(account_id=account.id, user_id=user.id, role=Role(role).value)
    membership.rights = [MemberRight(name=right) for right in rights]
    db.session.add(membership)
    for group in groups:
        add_to_group(user, group)
    db.session.flush()
    return user


def add_to_group(user: User, group: AccessGroup, expires_at: datetime | None = None) -> None:
    db.session.add(GroupUser(access_group_id=group.id, user_id=user.id, expires_at=expires_at))
    db.session.flush()


def make_user_group(
    account: Account,
    name: str | None = None,
    rights: list[str] = (),
    members: list[User] = (),
    grants: list[AccessGroup] = (),
) -> UserGroup:
    user_group = UserGroup(account_id=account.id, name=name or f"Team {next(_sequence)}")
    db.session.add(user_group)
    db.session.flush()
    db.session.add_all(UserGroupRight(user_group_id=user_group.id, name=right) for right in rights)
    db.session.add_all(UserGroupMember(user_group_id=user_group.id, user_id=user.id) for user in members)
    db.session.add_all(UserGroupGrant(user_group_id=user_group.id, access_group_id=g.id) for g in grants)
    db.session.flush()
    return user_group


def make_social_set(group: AccessGroup, name: str | None = None) -> SocialSet:
    social_set = SocialSet(access_group_id=group.id, name=name or f"Set {next(_sequence)}")
    db.session.add(social_set)
    db.session.flush()
    return social_set


def make_profile(social_set: SocialSet, network: Network = Network.INSTAGRAM, handle: str | None = None) -> SocialProfile:
    profile = SocialProfile(
        social_set_id=social_set.id,
        access_group_id=social_set.access_group_id,
        network=network.value,
        handle=handle or f"handle{next(_sequence)}",
        access_token="secret-access-token",
        refresh_token="secret-refresh-token",
    )
    db.session.add(profile)
    db.session.flush()
    return profile


def make_media(group: AccessGroup, name: str | None = None) -> MediaItem:
    number = next(_sequence)
    item = MediaItem(
        access_group_id=group.id,
        name=name or f"photo-{number}.png",
        kind="image",
        content_type="image/png",
        byte_size=1234,
        storage_key=f"test-{number}.png",
    )
    db.session.add(item)
    db.session.flush()
    media.adjust_media_counts({group.id: 1})  # as an upload counts it
    return item


def make_photo(group: AccessGroup, name: str | None = None) -> MediaItem:
    """A square JPEG photo: an attachment every network takes (Instagram takes JPEG images only)."""
    item = make_media(group, name or f"photo-{next(_sequence)}.jpg")
    item.content_type, item.width, item.height = "image/jpeg", 1080, 1080
    return item


def make_post(
    profile: SocialProfile,
    status: PostStatus = PostStatus.SCHEDULED,
    in_days: float | None = 1,
    caption: str = "Hello world",
) -> Post:
    post = Post(
        social_profile_id=profile.id,
        access_group_id=profile.access_group_id,
        caption=caption,
        status=status.value,
        scheduled_at=None if in_days is None else datetime.now(timezone.utc) + timedelta(days=in_days),
    )
    db.session.add(post)
    db.session.flush()
    return post


def two_creator_agency() -> dict:
    """Maya's group (a set with Instagram and TikTok) and Leo's (X), a manager in both, Maya herself.

    Not committed: a fixture adds what its tests need, then commits.
    """
    account = make_account("Northstar")
    maya = make_group(account, "Maya Lopez")
    main = make_social_set(maya, "Maya Main")
    leo = make_group(account, "Leo Park")
    return {
        "account": account,
        "maya": maya,
        "leo": leo,
        "main": main,
        "instagram": make_profile(main, Network.INSTAGRAM, handle="mayalopez"),
        "tiktok": make_profile(main, Network.TIKTOK, handle="mayadances"),
        "leo_profile": make_profile(make_social_set(leo, "Leo Main"), Network.X, handle="leopark"),
        "manager": make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager"),
        "creator": make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez"),
        "owner": owner_of(account),
    }


def three_group_agency() -> dict:
    """HQ (the default group, the owner on its Users tab), Maya's group, and Leo's, on nobody's Users
    tab (so only the owner enters it); an admin in HQ and Maya's.

    Not committed: a fixture adds the people its tests need, then commits.
    """
    account = make_account("Northstar")
    hq = default_group(account)
    maya = make_group(account, "Maya Lopez")
    leo = make_group(account, "Leo Park")
    owner = owner_of(account)
    add_to_group(owner, hq)
    return {"account": account, "owner": owner, "hq": hq, "maya": maya, "leo": leo,
            "admin": make_member(account, Role.ADMIN, groups=[hq, maya], name="Alex Admin")}
