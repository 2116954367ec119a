"""Random sequences of permission changes, checked after every step against DESIGN.md's rule."""
from __future__ import annotations

import contextlib
import copy
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from webapp import approvals, models, plans, policy, review, rights, user_groups
from webapp.extensions import db
from webapp.models import (
    Account,
    GroupUser,
    MemberRight,
    Membership,
    Network,
    PostStatus,
    ProfileAccessRemoval,
    ProfileApprover,
    Role,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
)
from webapp.policy import Verdict, decide, load_permissions

from . import factories
from .conftest import empty_database

# "ci" when CI is set (CI sets CI=true), "dev" otherwise. The chosen profile is the parent of this
# test's settings instead of being loaded for the whole session (that would belong in conftest.py).
settings.register_profile("dev", max_examples=100)
settings.register_profile("ci", max_examples=1000)
PROFILE = "ci" if os.environ.get("CI") else "dev"
STEPS = 15
# The profile's sequences are run as this many tests of a share each, so that parallel test workers
# share them out; every share draws its own random sequences.
SHARES = 10

# Every example starts at the same hour of today: an evening, so that days end within a few steps.
START = datetime.now(timezone.utc).replace(hour=20, minute=0, second=0, microsecond=0)

# --- the oracle: DESIGN.md, Permissions, written out again without looking at webapp/policy.py ---

DESIGN_RIGHTS = (
    "posts.view", "posts.comment", "posts.create", "posts.edit", "posts.publish", "posts.approve",
    "media.view", "media.upload", "media.move", "media.delete",
    "profiles.connect", "profiles.manage", "campaigns.manage", "inbox.manage", "analytics.view",
    "group.users", "team.invite", "organize",
)
# "A client with publish rights (create + edit + boost) takes a team seat."
PUBLISH_RIGHTS = frozenset({"posts.create", "posts.edit", "posts.publish"})
ENTER = "group.enter"
# Role-only actions: managing access groups is for the owner and admins, creating them the owner's.
BY_ROLE = {"groups.manage": {"owner", "admin"}, "groups.create": {"owner"}}
ACTIONS = (ENTER, *DESIGN_RIGHTS, *BY_ROLE)
BASELINE = {
    "admin": frozenset(DESIGN_RIGHTS),
    "manager": frozenset({
        "posts.view", "posts.comment", "posts.create", "posts.edit", "posts.publish",
        "media.view", "media.upload", "media.move", "media.delete",
        "profiles.connect", "campaigns.manage",
    }),
    "client": frozenset({"posts.view", "posts.comment", "profiles.connect"}),
}

ACME, RIVAL = "Acme", "Rival"
MEMBERS = ("Ada", "Bo", "Cy", "Di")  # Acme's members other than its owner
START_ROLES = {"Ada": "admin", "Bo": "manager", "Cy": "client", "Di": "client"}
PEOPLE = ("Acme owner", *MEMBERS, "Rival owner")
ACME_PEOPLE = ("Acme owner", *MEMBERS)
GROUPS = {"HQ": ACME, "North": ACME, "South": ACME, "Rival HQ": RIVAL}
ACME_GROUPS = tuple(name for name, account in GROUPS.items() if account == ACME)
USER_GROUPS = ("Reviewers", "Analysts")  # both Acme's
PROFILES = {"@north": "North", "@south": "South"}  # Acme's profiles, each needing client approval
APPROVERS = ("Cy", "Di")  # the clients stored as approvers (their duty counts only while it may)


def is_live(end: datetime | None, now: datetime) -> bool:
    """A path with this end date still gives access at `now`: it ends at that moment."""
    return end is None or now < end


@dataclass
class Oracle:
    """Who may do what in which access group, and all that follows from it, in plain sets."""

    now: datetime
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (person, account) -> role
    deactivated: set[str] = field(default_factory=set)  # Acme members whose membership is deactivated
    inactive: set[str] = field(default_factory=set)  # people who may not sign in at all
    membership_ends: dict[str, datetime] = field(default_factory=dict)  # Acme member -> end
    own_rights: dict[str, set[str]] = field(default_factory=lambda: {m: set() for m in MEMBERS})
    users_tab: dict[tuple[str, str], datetime | None] = field(default_factory=dict)  # (person, group) -> end
    team_members: dict[str, dict[str, datetime | None]] = field(
        default_factory=lambda: {t: {} for t in USER_GROUPS})  # user group -> person -> end
    team_rights: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in USER_GROUPS})
    team_grants: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in USER_GROUPS})
    approvers: set[tuple[str, str]] = field(default_factory=set)  # stored (person, profile)
    removed: set[tuple[str, str]] = field(default_factory=set)  # (person, profile) they removed from view
    pending: dict[str, set[int]] = field(default_factory=dict)  # profile -> its posts waiting for approval

    def role(self, person: str, account: str) -> str | None:
        """The person's role in the account while their membership is live, else None."""
        role = self.roles.get((person, account))
        if role is None or person in self.inactive:
            return None
        if account == ACME and (person in self.deactivated
                                or not is_live(self.membership_ends.get(person), self.now)):
            return None
        return role

    def teams(self, person: str, account: str) -> list[str]:
        """The account's user groups the person is in now."""
        if account != ACME:
            return []
        return [t for t in USER_GROUPS
                if person in self.team_members[t] and is_live(self.team_members[t][person], self.now)]

    def entries(self, person: str, group: str) -> set[tuple[str, str | None]]:
        """Every live way the person enters the group."""
        account = GROUPS[group]
        role = self.role(person, account)
        if role is None:
            return set()
        entry = {("user_group", t) for t in self.teams(person, account) if group in self.team_grants[t]}
        if (person, group) in self.users_tab and is_live(self.users_tab[(person, group)], self.now):
            entry.add(("users_tab", None))
        if role == "owner":
            entry.add(("owner", None))
        return entry

    def enters(self, person: str, group: str) -> bool:
        return bool(self.entries(person, group))

    def rights(self, person: str, group: str) -> frozenset[str] | None:
        """The person's rights in the group, or None when they may not enter it."""
        if not self.enters(person, group):
            return None
        account = GROUPS[group]
        role = self.role(person, account)
        if role == "owner":
            return frozenset(DESIGN_RIGHTS)
        inherited = set().union(*(self.team_rights[t] for t in self.teams(person, account)))
        return BASELINE[role] | self.own_rights.get(person, set()) | inherited

    def verdicts(self, person: str, group: str) -> dict[str, Verdict]:
        """The verdict on every action in the group."""
        rights = self.rights(person, group)
        if rights is None:
            return dict.fromkeys(ACTIONS, Verdict.HIDDEN)
        role = self.role(person, GROUPS[group])
        allowed = {ENTER} | rights | {action for action, roles in BY_ROLE.items() if role in roles}
        return {action: Verdict.ALLOWED if action in allowed else Verdict.DENIED for action in ACTIONS}

    def verdicts_on_profile(self, person: str, profile: str) -> dict[str, Verdict]:
        """A profile answers as its group does, except to someone who removed it from their view."""
        if (person, profile) in self.removed:
            return dict.fromkeys(ACTIONS, Verdict.HIDDEN)
        return self.verdicts(person, PROFILES[profile])

    def paths(self, person: str, group: str, action: str) -> tuple[set, set]:
        """Every way the person enters the group, and every way they hold `action` (a right) there."""
        account = GROUPS[group]
        role = self.role(person, account)
        if role is None:
            return set(), set()
        right = set()
        if action != ENTER:
            if role == "owner":
                right.add(("owner", None))
            else:
                if action in BASELINE[role]:
                    right.add(("role", None))
                if action in self.own_rights.get(person, set()):
                    right.add(("own", None))
                right |= {("user_group", t) for t in self.teams(person, account) if action in self.team_rights[t]}
        return self.entries(person, group), right

    def users_tab_people(self, group: str) -> set[str]:
        """Whom the group's Users tab counts: who enters it through the tab or a granted user group."""
        return {person for person in PEOPLE if self.entries(person, group) - {("owner", None)}}

    def seat_holders(self) -> set[str]:
        """Acme's live members who take a team seat: staff, and clients who may publish."""
        holders = set()
        for person in ACME_PEOPLE:
            role = self.role(person, ACME)
            if role is None:
                continue
            reach = self.own_rights.get(person, set()).union(
                *(self.team_rights[t] for t in self.teams(person, ACME)))
            if role != "client" or reach & PUBLISH_RIGHTS:
                holders.add(person)
        return holders

    def may_approve(self, person: str, profile: str) -> bool:
        """An approver's duty counts: a client of the account who sees the profile now."""
        return (self.role(person, ACME) == "client" and self.enters(person, PROFILES[profile])
                and (person, profile) not in self.removed)

    def approvers_of(self, profile: str) -> set[str]:
        """The profile's stored approvers whose duty counts now."""
        return {person for person, of in self.approvers if of == profile and self.may_approve(person, profile)}

    def review_reach(self, person: str) -> set[int]:
        """The posts waiting for this approver's decision."""
        return set().union(*(self.pending[profile] for profile in PROFILES
                             if person in self.approvers_of(profile)))

    def end_lost_duties(self) -> None:
        """A duty never outlives the access it needs: a change that takes access away ends them."""
        self.approvers = {(person, profile) for person, profile in self.approvers
                          if self.may_approve(person, profile)}

    def beyond_reach(self, actor: str, team: str) -> bool:
        """The user group is granted on an access group the actor may not enter (the owner enters all).

        A grant on another account's group opens nothing, yet it too keeps the user group out of an
        admin's reach: only a damaged database holds one, and the product then fails closed."""
        if self.role(actor, ACME) == "owner":
            return False
        return any(not self.enters(actor, group) for group in self.team_grants[team])


# --- the clock -----------------------------------------------------------------------------------


class _FrozenDatetime(datetime):
    moment: datetime

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.moment.astimezone(tz) if tz is not None else cls.moment.replace(tzinfo=None)


@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run rules and readers that take no `now` at the machine's time: whatever reads the time reads
    `moment` (every `utcnow` and `datetime.now` of the app's modules)."""
    frozen = type("FrozenDatetime", (_FrozenDatetime,), {"moment": moment})
    patched = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "webapp" or name.startswith("webapp.")):
            continue
        if getattr(module, "utcnow", None) is models.utcnow:
            patched.append((module, "utcnow", models.utcnow))
            module.utcnow = lambda: moment
        if getattr(module, "datetime", None) is datetime:
            patched.append((module, "datetime", datetime))
            module.datetime = frozen
    try:
        yield
    finally:
        for module, name, original in reversed(patched):
            setattr(module, name, original)


# --- the machine ---------------------------------------------------------------------------------

START_KEY = "permission_changes_start"


@dataclass(frozen=True)
class LivedInStart:
    """The machine's state after building the start, and the transaction its rows live in."""

    transaction: Any
    state: dict[str, Any]



class PermissionChanges(RuleBasedStateMachine):
    """Acme (owner, four members, three groups, two user groups, two profiles waiting for approval)
    and Rival, changed at random while the clock runs."""

    def __init__(self) -> None:
        super().__init__()
        start = db.session.info.get(START_KEY)
        if start is None or start.transaction is not db.session().get_transaction():
            start = self._build_start()
        # The start's objects are shared; its oracle and the machine's tables of names are the example's own.
        for name, value in start.state.items():
            setattr(self, name, copy.deepcopy(value) if name == "oracle" else copy.copy(value))
        self.example = db.session.begin_nested()  # rolled back in `teardown`, back to the start

    def _build_start(self) -> "LivedInStart":
        """Build the start every example of this test begins from, in a transaction never committed."""
        db.session.rollback()
        if db.session.scalar(select(Account.id).limit(1)) is not None:
            empty_database()  # something was committed after all: start again from nothing
        before = set(vars(self))
        self._build()
        db.session.flush()
        state = {name: value for name, value in vars(self).items() if name not in before}
        start = db.session.info[START_KEY] = LivedInStart(db.session().get_transaction(), state)
        return start

    def _build(self) -> None:
        factories.ensure_plans()
        self.now = START
        self.oracle = Oracle(now=START)
        # An unlimited plan: no change here is refused for seats.
        self.acme = factories.make_account(ACME, plan="self_hosted")
        rival = factories.make_account(RIVAL)
        self.groups = {
            "HQ": factories.default_group(self.acme),
            "North": factories.make_group(self.acme, "North"),
            "South": factories.make_group(self.acme, "South"),
            "Rival HQ": factories.default_group(rival),
        }
        self.users = {"Acme owner": factories.owner_of(self.acme), "Rival owner": factories.owner_of(rival)}
        self.oracle.roles[("Acme owner", ACME)] = "owner"
        self.oracle.roles[("Rival owner", RIVAL)] = "owner"
        for name in MEMBERS:
            self.users[name] = factories.make_member(self.acme, START_ROLES[name], name=name)
            self.oracle.roles[(name, ACME)] = START_ROLES[name]
        self.user_ids = {name: user.id for name, user in self.users.items()}
        self.person_of = {user_id: name for name, user_id in self.user_ids.items()}
        self.memberships = {
            name: db.session.scalar(select(Membership).where(
                Membership.user_id == self.user_ids[name], Membership.account_id == self.acme.id))
            for name in MEMBERS
        }
        self.teams = {name: factories.make_user_group(self.acme, name).id for name in USER_GROUPS}
        self.group_ids = {name: group.id for name, group in self.groups.items()}
        self._set_up_approvals()
        self._settle_in()

    def _set_up_approvals(self) -> None:
        """A social set in North and one in South, each with a profile whose posts wait for approval,
        and a review link for each approver covering every post."""
        networks = {"@north": Network.INSTAGRAM, "@south": Network.TIKTOK}
        self.profiles = {}
        posts = []
        for handle, group in PROFILES.items():
            social_set = factories.make_social_set(self.groups[group], f"{group} set")
            profile = factories.make_profile(social_set, networks[handle], handle=handle.removeprefix("@"))
            profile.needs_approval = True
            self.profiles[handle] = profile
            waiting = [factories.make_post(profile, PostStatus.PENDING_APPROVAL, in_days=days) for days in (1, 2)]
            posts += [*waiting, factories.make_post(profile, PostStatus.SCHEDULED)]
            self.oracle.pending[handle] = {post.id for post in waiting}
        with clock_at(self.now):
            self.links = {person: review.issue_link(self.users[person], posts, self.users["Acme owner"])[0]
                          for person in APPROVERS}

    def _settle_in(self) -> None:
        """Start from a lived-in account, so that every example begins with something to change."""
        # Ada enters South, so of the two user groups only Analysts (granted on South) is hers to change.
        for person, group in (("Ada", "HQ"), ("Ada", "South"), ("Bo", "North"), ("Di", "South")):
            self.add_to_users_tab(person, group)
        self.grant_own_right("Di", "media.view")
        self.add_user_group_right("Reviewers", "posts.approve")
        self.grant_user_group("Reviewers", "North")
        self.add_to_user_group("Cy", "Reviewers")  # Cy enters North only through Reviewers...
        self._end_user_group_membership("Reviewers", "Cy", 3)  # ...for three more hours
        for right in ("analytics.view", "inbox.manage"):
            self.add_user_group_right("Analysts", right)
        self.grant_user_group("Analysts", "South")
        for person in ("Bo", "Di"):
            self.add_to_user_group(person, "Analysts")
        # Di's duty for @north is stored but does not count: she may not enter North.
        for person, profile in (("Cy", "@north"), ("Di", "@south"), ("Di", "@north")):
            self.add_approver(person, profile)

    def teardown(self) -> None:
        """Check batching once per example, then go back to the start."""
        grounds = policy.load_grounds(list(self.user_ids.values()), now=self.now)
        for person, user_id in self.user_ids.items():
            assert grounds[user_id].permissions == load_permissions(user_id, now=self.now), \
                f"{person}: load_grounds and load_permissions disagree"
        if self.example.is_active:
            self.example.rollback()
        else:  # a rule ended the whole transaction: the next example builds its start again
            db.session.rollback()

    def _save(self) -> None:
        """Send the change to the database (one transaction per example, rolled back at the end)."""
        db.session.flush()

    def _end(self, hours: int) -> datetime:
        return self.now + timedelta(hours=hours)

    # the clock

    @rule(hours=st.integers(1, 4))
    def advance_clock(self, hours):
        self.now += timedelta(hours=hours)
        self.oracle.now = self.now

    # own rights

    @rule(member=st.sampled_from(MEMBERS), right=st.sampled_from(DESIGN_RIGHTS))
    def grant_own_right(self, member, right):
        if right not in self.oracle.own_rights[member]:
            db.session.add(MemberRight(membership_id=self.memberships[member].id, name=right))
            self._save()
            self.oracle.own_rights[member].add(right)

    @precondition(lambda self: any(self.oracle.own_rights.values()))
    @rule(data=st.data())
    def revoke_own_right(self, data):
        member, right = data.draw(st.sampled_from(sorted(
            (m, r) for m, rights in self.oracle.own_rights.items() for r in rights)))
        db.session.execute(delete(MemberRight).where(
            MemberRight.membership_id == self.memberships[member].id, MemberRight.name == right))
        self._save()
        self.oracle.own_rights[member].discard(right)

    # the Users tab

    @rule(person=st.sampled_from(PEOPLE), group=st.sampled_from(sorted(GROUPS)))
    def add_to_users_tab(self, person, group):
        if (person, group) not in self.oracle.users_tab:
            db.session.add(GroupUser(access_group_id=self.group_ids[group], user_id=self.user_ids[person]))
            self._save()
            self.oracle.users_tab[(person, group)] = None

    @precondition(lambda self: self.oracle.users_tab)
    @rule(data=st.data())
    def remove_from_users_tab(self, data):
        person, group = data.draw(st.sampled_from(sorted(self.oracle.users_tab)))
        db.session.execute(delete(GroupUser).where(
            GroupUser.access_group_id == self.group_ids[group], GroupUser.user_id == self.user_ids[person]))
        self._save()
        del self.oracle.users_tab[(person, group)]

    @precondition(lambda self: self.oracle.users_tab)
    @rule(data=st.data(), hours=st.integers(1, 3))
    def end_users_tab_entry(self, data, hours):
        person, group = data.draw(st.sampled_from(sorted(self.oracle.users_tab)))
        self._users_tab_entry(person, group).expires_at = self._end(hours)
        self._save()
        self.oracle.users_tab[(person, group)] = self._end(hours)

    @precondition(lambda self: any(self.oracle.users_tab.values()))
    @rule(data=st.data())
    def clear_users_tab_end(self, data):
        person, group = data.draw(st.sampled_from(sorted(
            key for key, end in self.oracle.users_tab.items() if end is not None)))
        self._users_tab_entry(person, group).expires_at = None
        self._save()
        self.oracle.users_tab[(person, group)] = None

    def _users_tab_entry(self, person: str, group: str) -> GroupUser:
        return db.session.get(GroupUser, (self.group_ids[group], self.user_ids[person]))

    # user groups: members, grants on access groups, rights

    @rule(person=st.sampled_from(PEOPLE), team=st.sampled_from(USER_GROUPS))
    def add_to_user_group(self, person, team):
        if person not in self.oracle.team_members[team]:
            db.session.add(UserGroupMember(user_group_id=self.teams[team], user_id=self.user_ids[person]))
            self._save()
            self.oracle.team_members[team][person] = None

    @precondition(lambda self: any(self.oracle.team_members.values()))
    @rule(data=st.data())
    def remove_from_user_group(self, data):
        team, person = data.draw(st.sampled_from(self._team_memberships()))
        db.session.execute(delete(UserGroupMember).where(
            UserGroupMember.user_group_id == self.teams[team],
            UserGroupMember.user_id == self.user_ids[person]))
        self._save()
        del self.oracle.team_members[team][person]

    @precondition(lambda self: any(self.oracle.team_members.values()))
    @rule(data=st.data(), hours=st.integers(1, 3))
    def end_user_group_membership(self, data, hours):
        team, person = data.draw(st.sampled_from(self._team_memberships()))
        self._end_user_group_membership(team, person, hours)

    def _end_user_group_membership(self, team: str, person: str, hours: int) -> None:
        db.session.get(UserGroupMember, (self.teams[team], self.user_ids[person])).expires_at = self._end(hours)
        self._save()
        self.oracle.team_members[team][person] = self._end(hours)

    @precondition(lambda self: any(end for people in self.oracle.team_members.values() for end in people.values()))
    @rule(data=st.data())
    def clear_user_group_membership_end(self, data):
        team, person = data.draw(st.sampled_from(sorted(
            (t, p) for t, people in self.oracle.team_members.items() for p, end in people.items()
            if end is not None)))
        db.session.get(UserGroupMember, (self.teams[team], self.user_ids[person])).expires_at = None
        self._save()
        self.oracle.team_members[team][person] = None

    def _team_memberships(self) -> list[tuple[str, str]]:
        return sorted((t, p) for t, people in self.oracle.team_members.items() for p in people)

    @rule(team=st.sampled_from(USER_GROUPS), group=st.sampled_from(sorted(GROUPS)))
    def grant_user_group(self, team, group):
        """Grant a user group on an access group (Rival HQ too: the policy must not follow it)."""
        if group not in self.oracle.team_grants[team]:
            db.session.add(UserGroupGrant(
                user_group_id=self.teams[team], access_group_id=self.group_ids[group]))
            self._save()
            self.oracle.team_grants[team].add(group)

    @precondition(lambda self: any(self.oracle.team_grants.values()))
    @rule(data=st.data())
    def revoke_user_group(self, data):
        team, group = data.draw(st.sampled_from(sorted(
            (t, g) for t, groups in self.oracle.team_grants.items() for g in groups)))
        db.session.execute(delete(UserGroupGrant).where(
            UserGroupGrant.user_group_id == self.teams[team],
            UserGroupGrant.access_group_id == self.group_ids[group]))
        self._save()
        self.oracle.team_grants[team].discard(group)

    @rule(team=st.sampled_from(USER_GROUPS), right=st.sampled_from(DESIGN_RIGHTS))
    def add_user_group_right(self, team, right):
        if right not in self.oracle.team_rights[team]:
            db.session.add(UserGroupRight(user_group_id=self.teams[team], name=right))
            self._save()
            self.oracle.team_rights[team].add(right)

    @precondition(lambda self: any(self.oracle.team_rights.values()))
    @rule(data=st.data())
    def remove_user_group_right(self, data):
        team, right = data.draw(st.sampled_from(sorted(
            (t, r) for t, rights in self.oracle.team_rights.items() for r in rights)))
        db.session.execute(delete(UserGroupRight).where(
            UserGroupRight.user_group_id == self.teams[team], UserGroupRight.name == right))
        self._save()
        self.oracle.team_rights[team].discard(right)

    # memberships and people

    @rule(member=st.sampled_from(MEMBERS), role=st.sampled_from(("admin", "manager", "client")))
    def change_role(self, member, role):
        self.memberships[member].role = Role(role).value
        self._save()
        self.oracle.roles[(member, ACME)] = role

    @rule(member=st.sampled_from(MEMBERS))
    def deactivate(self, member):
        self.memberships[member].deactivated_at = self.now
        self._save()
        self.oracle.deactivated.add(member)

    @precondition(lambda self: self.oracle.deactivated)
    @rule(data=st.data())
    def reactivate(self, data):
        member = data.draw(st.sampled_from(sorted(self.oracle.deactivated)))
        self.memberships[member].deactivated_at = None
        self._save()
        self.oracle.deactivated.discard(member)

    @rule(member=st.sampled_from(MEMBERS), hours=st.integers(1, 3))
    def end_membership(self, member, hours):
        self.memberships[member].expires_at = self._end(hours)
        self._save()
        self.oracle.membership_ends[member] = self._end(hours)

    @precondition(lambda self: self.oracle.membership_ends)
    @rule(data=st.data())
    def clear_membership_end(self, data):
        member = data.draw(st.sampled_from(sorted(self.oracle.membership_ends)))
        self.memberships[member].expires_at = None
        self._save()
        del self.oracle.membership_ends[member]

    @rule(person=st.sampled_from(PEOPLE))
    def deactivate_person(self, person):
        """The person may no longer sign in: no membership of theirs gives anything."""
        self.users[person].active = False
        self._save()
        self.oracle.inactive.add(person)

    @precondition(lambda self: self.oracle.inactive)
    @rule(data=st.data())
    def reactivate_person(self, data):
        person = data.draw(st.sampled_from(sorted(self.oracle.inactive)))
        self.users[person].active = True
        self._save()
        self.oracle.inactive.discard(person)

    # profiles: approvers, and clients removing a profile from their own view

    @rule(person=st.sampled_from(APPROVERS), profile=st.sampled_from(sorted(PROFILES)))
    def add_approver(self, person, profile):
        """Store an approver, whether or not their duty counts (the readers must filter)."""
        if (person, profile) not in self.oracle.approvers:
            db.session.add(ProfileApprover(social_profile_id=self.profiles[profile].id,
                                           user_id=self.user_ids[person]))
            self._save()
            self.oracle.approvers.add((person, profile))

    @precondition(lambda self: self.oracle.approvers)
    @rule(data=st.data())
    def remove_approver(self, data):
        person, profile = data.draw(st.sampled_from(sorted(self.oracle.approvers)))
        db.session.execute(delete(ProfileApprover).where(
            ProfileApprover.social_profile_id == self.profiles[profile].id,
            ProfileApprover.user_id == self.user_ids[person]))
        self._save()
        self.oracle.approvers.discard((person, profile))

    def _clients(self) -> list[str]:
        return [m for m in MEMBERS if self.oracle.roles[(m, ACME)] == "client"]

    @precondition(lambda self: self._clients())
    @rule(data=st.data(), profile=st.sampled_from(sorted(PROFILES)))
    def remove_profile_from_own_view(self, data, profile):
        """A client removes a profile: only their own access to it ends."""
        person = data.draw(st.sampled_from(self._clients()), label="client")
        if (person, profile) not in self.oracle.removed:
            db.session.add(ProfileAccessRemoval(social_profile_id=self.profiles[profile].id,
                                                user_id=self.user_ids[person], removed_at=self.now))
            self._save()
            self.oracle.removed.add((person, profile))

    @precondition(lambda self: self.oracle.removed)
    @rule(data=st.data())
    def restore_profile_to_view(self, data):
        person, profile = data.draw(st.sampled_from(sorted(self.oracle.removed)))
        db.session.execute(delete(ProfileAccessRemoval).where(
            ProfileAccessRemoval.social_profile_id == self.profiles[profile].id,
            ProfileAccessRemoval.user_id == self.user_ids[person]))
        self._save()
        self.oracle.removed.discard((person, profile))

    # an admin (or the owner) changing a user group through the rules the product runs

    def _actors(self) -> list[str]:
        """Who may manage user groups now: the owner, and Ada while she is a live admin."""
        return [person for person, role in (("Acme owner", "owner"), ("Ada", "admin"))
                if self.oracle.role(person, ACME) == role]

    @precondition(lambda self: hasattr(user_groups, "BeyondReach") and self._actors())
    @rule(data=st.data())
    def change_user_group_as_admin(self, data):
        """An admin may change a user group only if they may enter every group it opens (the owner always)."""
        oracle = self.oracle
        actor = data.draw(st.sampled_from(self._actors()), label="actor")
        team = data.draw(st.sampled_from(USER_GROUPS), label="user group")
        members = oracle.team_members[team]
        addable = [p for p in ACME_PEOPLE if oracle.role(p, ACME) is not None
                   and not (p in members and is_live(members[p], self.now))]
        offered = [g for g in ACME_GROUPS if oracle.enters(actor, g)]  # the groups the page offers
        changes = ["set_rights", "delete_user_group"]
        changes += ["add_member"] * bool(addable) + ["remove_member"] * bool(members)
        changes += ["set_grants"] * bool(offered)
        change = data.draw(st.sampled_from(changes), label="change")
        user_group = db.session.get(UserGroup, self.teams[team])
        by = self.users[actor]

        if change == "add_member":
            person = data.draw(st.sampled_from(addable), label="member")
            days = data.draw(st.none() | st.integers(0, 2), label="until today plus days")
            until = None if days is None else self.now.date() + timedelta(days=days)
            if self._attempt(actor, team, change, lambda: user_groups.add_member(
                    self.acme, user_group, self.user_ids[person], until, by)):
                members[person] = end_of_day(until)
        elif change == "remove_member":
            person = data.draw(st.sampled_from(sorted(members)), label="member")
            if self._attempt(actor, team, change, lambda: user_groups.remove_member(
                    user_group, self.user_ids[person], by)):
                del members[person]
                oracle.end_lost_duties()
        elif change == "set_rights":
            toggled = data.draw(st.sets(st.sampled_from(DESIGN_RIGHTS), min_size=1, max_size=2),
                                label="rights toggled")
            chosen = oracle.team_rights[team] ^ toggled
            if self._attempt(actor, team, change, lambda: user_groups.set_rights(
                    self.acme, user_group, chosen, by)):
                oracle.team_rights[team] = chosen
        elif change == "set_grants":
            toggled = data.draw(st.sampled_from(offered), label="grant toggled")
            current = oracle.team_grants[team]
            chosen = (current & set(offered)) ^ {toggled}
            if self._attempt(actor, team, change, lambda: user_groups.set_grants(
                    user_group, [self.group_ids[g] for g in sorted(chosen)], [self.group_ids[g] for g in offered], by)):
                # Grants on groups the actor was not offered stay as they are.
                oracle.team_grants[team] = chosen | (current - set(offered))
                if toggled in current:
                    oracle.end_lost_duties()
        elif self._attempt(actor, team, change, lambda: user_groups.delete_user_group(user_group, by)):
            oracle.team_members[team], oracle.team_rights[team], oracle.team_grants[team] = {}, set(), set()
            oracle.end_lost_duties()
            # The same name again, empty, so that every rule keeps both user groups to work on.
            self.teams[team] = factories.make_user_group(self.acme, team).id

    def _attempt(self, actor: str, team: str, change: str, make_change) -> bool:
        """Make the change as `actor` at the machine's time; whether it went through, checked against
        the oracle's verdict on whether the user group is beyond the actor's reach."""
        beyond = self.oracle.beyond_reach(actor, team)
        with clock_at(self.now):
            assert policy.permissions_for(self.users[actor]) == load_permissions(self.user_ids[actor], self.now), \
                "the rules read a clock other than the machine's"
            try:
                make_change()
            except user_groups.BeyondReach:
                refused = True
            else:
                refused = False
        self._save()
        assert refused == beyond, (
            f"{actor}: {change} on {team} (granted on {sorted(self.oracle.team_grants[team])}) "
            f"{'was refused' if refused else 'went through'}; DESIGN.md says it is "
            f"{'beyond' if beyond else 'within'} their reach")
        return not refused

    # after every step

    @invariant()
    def policy_follows_design(self):
        """For every person, access group, profile and action, the policy's verdict is the oracle's,
        and the "Why?" explainer agrees with the verdict and lists exactly the oracle's paths."""
        grounds = policy.load_grounds(list(self.user_ids.values()), now=self.now)
        team_of = {team_id: name for name, team_id in self.teams.items()}
        wrong = []
        for person in PEOPLE:
            mine = grounds[self.user_ids[person]]
            perms = mine.permissions  # the same as `load_permissions` gives one person: checked in `teardown`
            for group_name, group in self.groups.items():
                for action, expected in self.oracle.verdicts(person, group_name).items():
                    got = decide(perms, action, group)
                    if got is not expected:
                        wrong.append(f"{person}: {action} in {group_name}: policy says {got.name}, "
                                     f"DESIGN.md says {expected.name}")
                for action in (ENTER, *DESIGN_RIGHTS):
                    told = policy.explain(mine, action, group)
                    entry = {(r.kind, team_of.get(r.user_group_id)) for r in told.entry}
                    right = {(r.kind, team_of.get(r.user_group_id)) for r in told.right}
                    if (entry, right) != self.oracle.paths(person, group_name, action):
                        wrong.append(f"{person}: {action} in {group_name}: explainer lists {entry} and {right}, "
                                     f"DESIGN.md gives {self.oracle.paths(person, group_name, action)}")
                    if told.allowed != (bool(entry) and (action == ENTER or bool(right))):
                        wrong.append(f"{person}: {action} in {group_name}: says {told.verdict.name} "
                                     f"with paths {entry} and {right}")
            for handle, profile in self.profiles.items():
                for action, expected in self.oracle.verdicts_on_profile(person, handle).items():
                    got = decide(perms, action, profile)
                    if got is not expected:
                        wrong.append(f"{person}: {action} on {handle}: policy says {got.name}, "
                                     f"DESIGN.md says {expected.name}")
            if person != "Rival owner" and self.group_ids["Rival HQ"] in perms.access_group_ids:
                wrong.append(f"{person} may enter Rival HQ")
        assert not wrong, "\n".join(wrong[:10])

    @invariant()
    def what_follows_from_access_follows_design(self):
        """Users-tab counts, seats, approver duty and review reach ask the policy at the machine's time."""
        names = self.person_of.get
        wrong = []
        entrants = policy.entrants_by_group([self.group_ids[g] for g in ACME_GROUPS], self.now, include_owner=False)
        for group in ACME_GROUPS:
            counted = {names(user_id) for user_id in entrants[self.group_ids[group]]}
            if counted != self.oracle.users_tab_people(group):
                wrong.append(f"Users tab of {group} counts {sorted(counted)}, "
                             f"DESIGN.md {sorted(self.oracle.users_tab_people(group))}")
        seats = plans.seats_used(self.acme, self.now)
        if seats != len(self.oracle.seat_holders()):
            wrong.append(f"Acme uses {seats} seats, DESIGN.md {len(self.oracle.seat_holders())}: "
                         f"{sorted(self.oracle.seat_holders())}")
        with clock_at(self.now):  # `approver_ids` asks the policy about the time it reads itself
            for handle, profile in self.profiles.items():
                duty = {names(user_id) for user_id in approvals.approver_ids(profile)}
                if duty != self.oracle.approvers_of(handle):
                    wrong.append(f"approvers of {handle} whose duty counts: {sorted(duty)}, "
                                 f"DESIGN.md {sorted(self.oracle.approvers_of(handle))}")
        for person in APPROVERS:
            expected = self.oracle.review_reach(person)
            reach = {post.id for post in review.pending_posts_for(self.users[person], self.acme.id, self.now)}
            if reach != expected:
                wrong.append(f"{person} is asked to review posts {sorted(reach)}, DESIGN.md {sorted(expected)}")
            opened = {post.id for post in review.open_posts(self.links[person], self.now)}
            if opened != expected:
                wrong.append(f"{person}'s review link opens posts {sorted(opened)}, DESIGN.md {sorted(expected)}")
        assert not wrong, "\n".join(wrong)


def end_of_day(day: date | None) -> datetime | None:
    """When access "until `day`" ends for Acme, which works in UTC: after the day's last instant."""
    return None if day is None else datetime.combine(day, time.max, tzinfo=timezone.utc)


def test_design_rights_are_the_policys_rights():
    """The oracle's list of rights, copied from DESIGN.md, is the policy's list."""
    assert set(DESIGN_RIGHTS) == set(policy.RIGHTS)


def test_publishing_rights_are_the_seat_rights():
    """The rights that make a client take a seat, read from DESIGN.md, are the product's."""
    assert PUBLISH_RIGHTS == rights.SEAT_RIGHTS


@pytest.mark.long
@pytest.mark.parametrize("share", range(SHARES))
def test_policy_follows_design_through_random_changes(app, share):
    """After any sequence of permission changes and hours passing, the policy answers as DESIGN.md says."""
    profile = settings.get_profile(PROFILE)
    run_state_machine_as_test(
        PermissionChanges,
        settings=settings(
            profile,
            max_examples=-(-profile.max_examples // SHARES),
            stateful_step_count=STEPS,
            deadline=None,
        ),
    )
