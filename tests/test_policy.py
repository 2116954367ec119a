"""The policy as tables of (who, action, object, expected), on a small world built per test."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask_login import AnonymousUserMixin, login_user
from sqlalchemy import delete, select

from webapp import policy
from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    Account,
    GroupUser,
    MediaItem,
    Membership,
    Network,
    Post,
    ProfileAccessRemoval,
    Role,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
)
from webapp.policy import ENTER, Verdict

from . import factories

ALLOWED, DENIED, HIDDEN = Verdict.ALLOWED, Verdict.DENIED, Verdict.HIDDEN


# --- the world -----------------------------------------------------------------------------------


def membership_of(user: User, account: Account) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.account_id == account.id)
    )


def join(user: User, user_group: UserGroup, expires_at: datetime | None = None) -> None:
    """Put `user` in `user_group`, the way the user group's page does."""
    db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=user.id, expires_at=expires_at))
    db.session.flush()


def leave(user: User, user_group: UserGroup) -> None:
    """Take `user` out of `user_group`."""
    db.session.execute(
        delete(UserGroupMember).where(
            UserGroupMember.user_group_id == user_group.id, UserGroupMember.user_id == user.id
        )
    )
    db.session.flush()


def fill_group(objects: dict[str, Any], key: str, group: AccessGroup) -> None:
    """A social set with one profile and its post, and a media item, in `group`."""
    objects[key] = group
    objects[f"{key}.set"] = social_set = factories.make_social_set(group)
    objects[f"{key}.profile"] = profile = factories.make_profile(social_set)
    objects[f"{key}.post"] = factories.make_post(profile)
    objects[f"{key}.media"] = factories.make_media(group)


@dataclass
class World:
    """Who is who and what is where, by the keys the tables use."""

    users: dict[str, User] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)

    def user(self, who: str) -> Any:
        return AnonymousUserMixin() if who == "anonymous" else self.users[who]

    def permissions(self, who: str) -> policy.Permissions:
        if who == "anonymous":
            return policy.permissions_for(AnonymousUserMixin())
        return policy.load_permissions(self.users[who].id)

    def keys_of(self, rows: list[Any]) -> set[str]:
        """The table keys of loaded rows (compared by type and id)."""
        wanted = {(type(row), row.id) for row in rows}
        return {key for key, obj in self.objects.items() if (type(obj), obj.id) in wanted}


@pytest.fixture
def world(app) -> World:
    """Acme (groups HQ, North, South) with its people, and Rival, another account."""
    now = datetime.now(timezone.utc)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    w = World()
    objects, users = w.objects, w.users

    acme = factories.make_account("Acme")
    north = factories.make_group(acme, "North")
    south = factories.make_group(acme, "South")
    objects["acme"], objects["hq"] = acme, factories.default_group(acme)
    fill_group(objects, "north", north)
    fill_group(objects, "south", south)
    objects["north.profile2"] = factories.make_profile(objects["north.set"], Network.FACEBOOK)
    objects["north.post2"] = factories.make_post(objects["north.profile2"])

    rival = factories.make_account("Rival")
    objects["rival"] = rival
    fill_group(objects, "rival.hq", factories.default_group(rival))
    users["rival_owner"] = factories.owner_of(rival)

    users["owner"] = factories.owner_of(acme)
    users["client"] = factories.make_member(acme, Role.CLIENT, [north])
    users["manager"] = factories.make_member(acme, Role.MANAGER, [north])
    users["admin"] = factories.make_member(acme, Role.ADMIN, [north])
    # "groups.create" is not a right one can be given: it stays the owner's.
    users["client_with_rights"] = factories.make_member(
        acme, Role.CLIENT, [north], rights=["posts.publish", "team.invite", "groups.create"]
    )

    reviewers = factories.make_user_group(acme, "Reviewers", rights=["posts.approve"], grants=[north])
    analysts = factories.make_user_group(acme, "Analysts", rights=["analytics.view"], grants=[south])
    approvers = factories.make_user_group(acme, "Approvers", rights=["posts.approve"])

    users["team_entrant"] = factories.make_member(acme, Role.CLIENT)
    join(users["team_entrant"], reviewers)
    users["two_teams"] = factories.make_member(acme, Role.CLIENT)
    join(users["two_teams"], reviewers)
    join(users["two_teams"], analysts)
    users["left_team"] = factories.make_member(acme, Role.CLIENT)
    users["left_team_on_tab"] = factories.make_member(acme, Role.CLIENT, [north])
    users["left_team_own_right"] = factories.make_member(acme, Role.CLIENT, [north], rights=["posts.approve"])
    users["left_team_other_team"] = factories.make_member(acme, Role.CLIENT, [north])
    join(users["left_team_other_team"], approvers)
    for who in ("left_team", "left_team_on_tab", "left_team_own_right", "left_team_other_team"):
        join(users[who], reviewers)
        leave(users[who], reviewers)

    users["deactivated"] = factories.make_member(acme, Role.MANAGER, [north])
    membership_of(users["deactivated"], acme).deactivated_at = past
    users["inactive"] = factories.make_member(acme, Role.MANAGER, [north])
    users["inactive"].active = False
    users["expired_membership"] = factories.make_member(acme, Role.MANAGER, [north])
    membership_of(users["expired_membership"], acme).expires_at = past
    users["expired_tab"] = factories.make_member(acme, Role.MANAGER)
    factories.add_to_group(users["expired_tab"], north, expires_at=past)
    users["tab_until_tomorrow"] = factories.make_member(acme, Role.MANAGER)
    factories.add_to_group(users["tab_until_tomorrow"], north, expires_at=future)
    users["expired_team"] = factories.make_member(acme, Role.CLIENT)
    join(users["expired_team"], reviewers, expires_at=past)

    users["profile_removed"] = factories.make_member(acme, Role.CLIENT, [north])
    db.session.add(ProfileAccessRemoval(social_profile_id=objects["north.profile"].id,
                                        user_id=users["profile_removed"].id))

    # Members of both accounts; the app never grants a user group on another account's group.
    borderless = factories.make_user_group(acme, "Borderless", rights=["posts.approve"])
    db.session.add(UserGroupGrant(user_group_id=borderless.id, access_group_id=objects["rival.hq"].id))
    users["member_of_both"] = factories.make_member(acme, Role.CLIENT)
    factories.make_member(rival, Role.CLIENT, user=users["member_of_both"])
    join(users["member_of_both"], borderless)
    users["member_of_both_on_tab"] = factories.make_member(acme, Role.CLIENT)
    factories.make_member(rival, Role.CLIENT, [objects["rival.hq"]], user=users["member_of_both_on_tab"])
    join(users["member_of_both_on_tab"], reviewers)

    objects["client's user"], objects["owner's user"] = users["client"], users["owner"]
    db.session.flush()
    return w


# --- the tables ----------------------------------------------------------------------------------


def rows(*table: tuple[str, str, str, Verdict]) -> list[Any]:
    return [pytest.param(*row, id=f"{row[0]}|{row[1]}|{row[2]}|{row[3].name}") for row in table]


# What each role may do in a group it is on the Users tab of (North); the owner is on no tab.
OWN_GROUP = rows(
    ("client", ENTER, "north", ALLOWED),
    ("manager", ENTER, "north", ALLOWED),
    ("admin", ENTER, "north", ALLOWED),
    ("owner", ENTER, "north", ALLOWED),
    ("client", "group.users", "north", DENIED),
    ("manager", "group.users", "north", DENIED),
    ("admin", "group.users", "north", ALLOWED),
    ("owner", "group.users", "north", ALLOWED),
    ("client", "groups.manage", "north", DENIED),
    ("manager", "groups.manage", "north", DENIED),
    ("admin", "groups.manage", "north", ALLOWED),
    ("owner", "groups.manage", "north", ALLOWED),
    ("admin", "groups.create", "north", DENIED),
    ("owner", "groups.create", "north", ALLOWED),
    ("client", "inbox.manage", "north", DENIED),
    ("manager", "inbox.manage", "north", DENIED),
    ("admin", "inbox.manage", "north", ALLOWED),
    ("manager", "analytics.view", "north", DENIED),
    ("admin", "analytics.view", "north", ALLOWED),
    ("client", ENTER, "north.set", ALLOWED),
    ("client", "organize", "north.set", DENIED),
    ("manager", "organize", "north.set", DENIED),
    ("admin", "organize", "north.set", ALLOWED),
    ("owner", "organize", "north.set", ALLOWED),
    ("client", "profiles.connect", "north.profile", ALLOWED),
    ("manager", "profiles.connect", "north.profile", ALLOWED),
    ("client", "profiles.manage", "north.profile", DENIED),
    ("manager", "profiles.manage", "north.profile", DENIED),
    ("admin", "profiles.manage", "north.profile", ALLOWED),
    ("owner", "profiles.manage", "north.profile", ALLOWED),
    ("client", "posts.view", "north.post", ALLOWED),
    ("client", "posts.comment", "north.post", ALLOWED),
    ("client", "posts.create", "north.post", DENIED),
    ("client", "posts.edit", "north.post", DENIED),
    ("client", "posts.publish", "north.post", DENIED),
    ("client", "posts.approve", "north.post", DENIED),
    ("manager", "posts.view", "north.post", ALLOWED),
    ("manager", "posts.edit", "north.post", ALLOWED),
    ("manager", "posts.publish", "north.post", ALLOWED),
    ("manager", "posts.approve", "north.post", DENIED),
    ("admin", "posts.approve", "north.post", ALLOWED),
    ("owner", "posts.approve", "north.post", ALLOWED),
    ("client", "media.view", "north.media", DENIED),
    ("client", "media.upload", "north.media", DENIED),
    ("manager", "media.view", "north.media", ALLOWED),
    ("manager", "media.delete", "north.media", ALLOWED),
    ("admin", "media.move", "north.media", ALLOWED),
    ("owner", "media.delete", "north.media", ALLOWED),
)

# Probes into a group: entering it, and an action the role would have inside.
PROBES = [
    (ENTER, ""),
    ("organize", ".set"),
    ("profiles.connect", ".profile"),
    ("posts.view", ".post"),
    ("media.view", ".media"),
]

# Another group of the same account (South) is hidden unless one is its owner; so is HQ.
OTHER_GROUP = rows(
    *((who, action, f"south{suffix}", HIDDEN)
      for who in ("client", "manager", "admin") for action, suffix in PROBES),
    *((who, ENTER, "hq", HIDDEN) for who in ("client", "manager", "admin")),
    *(("owner", action, f"south{suffix}", ALLOWED) for action, suffix in PROBES),
    ("owner", ENTER, "hq", ALLOWED),
)

# A group of another account is hidden from everybody in Acme, the owner too, and from anonymous.
OTHER_ACCOUNT = rows(
    *((who, action, f"rival.hq{suffix}", HIDDEN)
      for who in ("anonymous", "client", "manager", "admin", "owner") for action, suffix in PROBES),
    *(("rival_owner", action, f"north{suffix}", HIDDEN) for action, suffix in PROBES),
    *(("rival_owner", action, f"rival.hq{suffix}", ALLOWED) for action, suffix in PROBES),
    *(("anonymous", action, f"north{suffix}", HIDDEN) for action, suffix in PROBES),
)

# People in both accounts: what Acme gives them stays in Acme.
BOTH_ACCOUNTS = rows(
    ("member_of_both", ENTER, "rival.hq", HIDDEN),
    ("member_of_both", "posts.view", "rival.hq.post", HIDDEN),
    ("member_of_both", "account.view", "rival", ALLOWED),
    ("member_of_both_on_tab", ENTER, "rival.hq", ALLOWED),
    ("member_of_both_on_tab", "posts.view", "rival.hq.post", ALLOWED),
    ("member_of_both_on_tab", "posts.approve", "north.post", ALLOWED),
    ("member_of_both_on_tab", "posts.approve", "rival.hq.post", DENIED),
)

ACCOUNT = rows(
    ("anonymous", "account.view", "acme", HIDDEN),
    ("rival_owner", "account.view", "acme", HIDDEN),
    ("rival_owner", "team.invite", "acme", HIDDEN),
    ("rival_owner", "groups.create", "acme", HIDDEN),
    ("rival_owner", "groups.create", "rival", ALLOWED),
    ("owner", "account.view", "rival", HIDDEN),
    ("client", "account.view", "acme", ALLOWED),
    ("client", "team.invite", "acme", DENIED),
    ("client", "groups.create", "acme", DENIED),
    ("manager", "account.view", "acme", ALLOWED),
    ("manager", "team.invite", "acme", DENIED),
    ("manager", "groups.create", "acme", DENIED),
    ("admin", "account.view", "acme", ALLOWED),
    ("admin", "team.invite", "acme", ALLOWED),
    ("admin", "groups.create", "acme", DENIED),
    ("admin", "plan.change", "acme", DENIED),
    ("admin", "owner.transfer", "acme", DENIED),
    ("admin", "groups.manage", "acme", ALLOWED),
    ("manager", "groups.manage", "acme", DENIED),
    ("owner", "account.view", "acme", ALLOWED),
    ("owner", "team.invite", "acme", ALLOWED),
    ("owner", "groups.create", "acme", ALLOWED),
    ("owner", "plan.change", "acme", ALLOWED),
    ("owner", "owner.transfer", "acme", ALLOWED),
    ("client_with_rights", "team.invite", "acme", ALLOWED),
    ("client_with_rights", "groups.create", "acme", DENIED),
)

OWN_USER = rows(
    ("client", "account.self", "client's user", ALLOWED),
    ("owner", "account.self", "owner's user", ALLOWED),
    ("client", "account.self", "owner's user", HIDDEN),
    ("owner", "account.self", "client's user", HIDDEN),
    ("admin", "account.self", "client's user", HIDDEN),
    ("rival_owner", "account.self", "client's user", HIDDEN),
    ("anonymous", "account.self", "client's user", HIDDEN),
    ("client", "team.invite", "client's user", HIDDEN),
)

CLIENT_WITH_OWN_RIGHTS = rows(
    ("client_with_rights", "posts.publish", "north.post", ALLOWED),
    ("client_with_rights", "posts.edit", "north.post", DENIED),
    ("client_with_rights", "posts.view", "north.post", ALLOWED),
    ("client_with_rights", "posts.publish", "south.post", HIDDEN),
)

USER_GROUPS = rows(
    # Enters North only through Reviewers, granted on North; inherits its right.
    ("team_entrant", ENTER, "north", ALLOWED),
    ("team_entrant", "posts.view", "north.post", ALLOWED),
    ("team_entrant", "posts.approve", "north.post", ALLOWED),
    ("team_entrant", "posts.edit", "north.post", DENIED),
    ("team_entrant", "media.view", "north.media", DENIED),
    ("team_entrant", ENTER, "south", HIDDEN),
    ("team_entrant", "posts.approve", "south.post", HIDDEN),
    # In Reviewers (North, posts.approve) and Analysts (South, analytics.view): the union.
    ("two_teams", ENTER, "north", ALLOWED),
    ("two_teams", ENTER, "south", ALLOWED),
    ("two_teams", ENTER, "hq", HIDDEN),
    ("two_teams", "posts.approve", "north.post", ALLOWED),
    ("two_teams", "analytics.view", "north", ALLOWED),
    ("two_teams", "posts.approve", "south.post", ALLOWED),
    ("two_teams", "analytics.view", "south", ALLOWED),
    ("two_teams", "posts.edit", "south.post", DENIED),
    # Removed from Reviewers: its entry and its right are gone...
    ("left_team", ENTER, "north", HIDDEN),
    ("left_team", "posts.view", "north.post", HIDDEN),
    ("left_team", "account.view", "acme", ALLOWED),
    ("left_team_on_tab", ENTER, "north", ALLOWED),
    ("left_team_on_tab", "posts.approve", "north.post", DENIED),
    # ...unless an own right or another user group still grants it.
    ("left_team_own_right", "posts.approve", "north.post", ALLOWED),
    ("left_team_other_team", "posts.approve", "north.post", ALLOWED),
)

NOTHING_LEFT = rows(
    *((who, action, obj, HIDDEN)
      for who in ("deactivated", "inactive", "expired_membership")
      for action, obj in [(ENTER, "north"), ("posts.view", "north.post"), ("media.view", "north.media"),
                          ("account.view", "acme"), ("team.invite", "acme")]),
    ("expired_tab", ENTER, "north", HIDDEN),
    ("expired_tab", "posts.view", "north.post", HIDDEN),
    ("expired_tab", "media.view", "north.media", HIDDEN),
    ("expired_tab", "account.view", "acme", ALLOWED),
    ("tab_until_tomorrow", ENTER, "north", ALLOWED),
    ("tab_until_tomorrow", "posts.edit", "north.post", ALLOWED),
    ("expired_team", ENTER, "north", HIDDEN),
    ("expired_team", "posts.approve", "north.post", HIDDEN),
)

REMOVED_PROFILE = rows(
    ("profile_removed", "profiles.connect", "north.profile", HIDDEN),
    ("profile_removed", ENTER, "north.profile", HIDDEN),
    ("profile_removed", "posts.view", "north.post", HIDDEN),
    ("profile_removed", "posts.comment", "north.post", HIDDEN),
    ("profile_removed", "profiles.connect", "north.profile2", ALLOWED),
    ("profile_removed", "posts.view", "north.post2", ALLOWED),
    ("profile_removed", "posts.edit", "north.post2", DENIED),
    ("profile_removed", ENTER, "north", ALLOWED),
    ("profile_removed", ENTER, "north.set", ALLOWED),
    ("profile_removed", "media.view", "north.media", DENIED),
    # Only that user's access ended.
    ("client", "profiles.connect", "north.profile", ALLOWED),
    ("client", "posts.view", "north.post", ALLOWED),
    ("owner", "posts.view", "north.post", ALLOWED),
)

POLICY_TABLE = (
    OWN_GROUP + OTHER_GROUP + OTHER_ACCOUNT + BOTH_ACCOUNTS + ACCOUNT + OWN_USER
    + CLIENT_WITH_OWN_RIGHTS + USER_GROUPS + NOTHING_LEFT + REMOVED_PROFILE
)


@pytest.mark.parametrize(("who", "action", "obj", "expected"), POLICY_TABLE)
def test_policy_table(world, who, action, obj, expected):
    """`decide` gives the verdict in the table, and `can` says yes exactly where it is ALLOWED."""
    assert policy.decide(world.permissions(who), action, world.objects[obj]) is expected
    assert policy.can(world.user(who), action, world.objects[obj]) is (expected is ALLOWED)


def test_owner_enters_every_group_without_being_on_a_users_tab(world):
    """The owner is on no Users tab and still enters every group of the account, and only those."""
    owner = world.users["owner"]
    assert db.session.scalar(select(GroupUser).where(GroupUser.user_id == owner.id)) is None
    perms = policy.load_permissions(owner.id)
    acme_groups = {world.objects[key].id for key in ("hq", "north", "south")}
    assert set(perms.access_group_ids) == acme_groups


def test_rights_of_a_user_group_follow_it_when_changed(world):
    """Adding a right to a user group, or taking one away, reaches its members on the next load."""
    reviewers = db.session.scalar(select(UserGroup).where(UserGroup.name == "Reviewers"))
    who, post = world.users["team_entrant"], world.objects["north.post"]
    assert policy.decide(policy.load_permissions(who.id), "posts.edit", post) is DENIED
    db.session.add(UserGroupRight(user_group_id=reviewers.id, name="posts.edit"))
    db.session.commit()
    assert policy.decide(policy.load_permissions(who.id), "posts.edit", post) is ALLOWED
    db.session.execute(delete(UserGroupRight).where(UserGroupRight.user_group_id == reviewers.id))
    db.session.commit()
    perms = policy.load_permissions(who.id)
    assert policy.decide(perms, "posts.approve", post) is DENIED
    assert policy.decide(perms, "posts.view", post) is ALLOWED


# --- visible(): lists hold only rows of enterable groups -----------------------------------------


@pytest.mark.parametrize(
    ("who", "model", "expected"),
    [
        ("client", AccessGroup, {"north"}),
        ("client", SocialSet, {"north.set"}),
        ("client", SocialProfile, {"north.profile", "north.profile2"}),
        ("client", Post, {"north.post", "north.post2"}),
        ("client", MediaItem, {"north.media"}),
        ("owner", AccessGroup, {"hq", "north", "south"}),
        ("owner", Post, {"north.post", "north.post2", "south.post"}),
        ("owner", MediaItem, {"north.media", "south.media"}),
        ("two_teams", AccessGroup, {"north", "south"}),
        ("two_teams", Post, {"north.post", "north.post2", "south.post"}),
        ("left_team", Post, set()),
        ("profile_removed", SocialProfile, {"north.profile2"}),
        ("profile_removed", Post, {"north.post2"}),
        ("profile_removed", MediaItem, {"north.media"}),
        ("rival_owner", AccessGroup, {"rival.hq"}),
        ("rival_owner", Post, {"rival.hq.post"}),
        ("deactivated", Post, set()),
        ("expired_membership", AccessGroup, set()),
        ("expired_tab", AccessGroup, set()),
        ("anonymous", Post, set()),
        ("anonymous", AccessGroup, set()),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_visible(app, world, who, model, expected):
    """`visible(select(Model))` for the signed-in user returns exactly the rows of enterable groups."""
    with app.test_request_context():
        if who != "anonymous":
            assert login_user(world.users[who])
        found = db.session.scalars(policy.visible(select(model))).all()
    assert world.keys_of(found) == expected


def test_visible_refuses_a_model_without_an_access_group(app, world):
    """Narrowing a select of rows that are not scoped by access group is a programming error."""
    with app.test_request_context():
        login_user(world.users["owner"])
        with pytest.raises(TypeError):
            policy.visible(select(User))


# --- one query -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    ["owner", "client", "two_teams", "client_with_rights", "profile_removed", "inactive", "rival_owner"],
)
def test_load_permissions_runs_one_statement(world, count_queries, who):
    """Everything the policy needs about a user comes from exactly one SQL statement."""
    user_id = world.users[who].id
    with count_queries() as counter:
        policy.load_permissions(user_id)
    assert counter.count == 1, counter.statements


def test_permissions_are_loaded_once_per_request(app, world, count_queries):
    """Many questions in one request load the user's permissions once."""
    user, post, media = world.users["manager"], world.objects["north.post"], world.objects["north.media"]
    ids = (user.id, user.email, post.id, post.access_group_id, post.social_profile_id,
           media.id, media.access_group_id)  # loaded now, so that counting sees only the policy
    assert all(ids)
    with app.test_request_context():
        login_user(user)
        with count_queries() as counter:
            assert policy.can(user, "posts.edit", post)
            assert policy.can(user, "media.delete", media)
            assert not policy.can(user, "posts.approve", post)
            assert policy.current_permissions().may_enter(post.access_group_id)
    assert counter.count == 1, counter.statements


def test_an_unknown_action_is_a_bug_not_a_denial(app):
    """A misspelt action raises at once instead of quietly denying everybody."""
    from webapp.policy import decide, load_permissions

    account = factories.make_account()
    owner = factories.owner_of(account)
    db.session.commit()
    with pytest.raises(ValueError, match="unknown action"):
        decide(load_permissions(owner.id), "posts.veiw", factories.default_group(account))


@pytest.mark.parametrize("role, expected", [
    (Role.OWNER, policy.Verdict.ALLOWED),
    (Role.ADMIN, policy.Verdict.ALLOWED),
    (Role.MANAGER, policy.Verdict.DENIED),
    (Role.CLIENT, policy.Verdict.DENIED),
])
def test_managing_access_groups_is_for_owner_and_admins(app, role, expected):
    """`groups.manage` follows the role alone, on the account and on each group they may enter."""
    account = factories.make_account()
    group = factories.default_group(account)
    user = factories.owner_of(account) if role is Role.OWNER else factories.make_member(
        account, role, groups=[group], rights=list(policy.RIGHTS))
    db.session.commit()
    perms = policy.load_permissions(user.id)
    assert policy.decide(perms, "groups.manage", account) is expected
    assert policy.decide(perms, "groups.manage", group) is expected
    hidden = factories.make_group(account, "Elsewhere")
    db.session.commit()
    if role is not Role.OWNER:
        assert policy.decide(policy.load_permissions(user.id), "groups.manage", hidden) is policy.Verdict.HIDDEN


def test_an_inactive_user_may_not_even_act_on_themselves(app):
    """Deactivation leaves nothing, not even the user's own record."""
    from webapp.accounts import deactivate

    account = factories.make_account()
    owner = factories.owner_of(account)
    deactivate(owner)
    db.session.commit()
    assert policy.decide(policy.load_permissions(owner.id), policy.SELF, owner) is policy.Verdict.HIDDEN
