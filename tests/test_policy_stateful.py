"""Random sequences of permission changes, checked after every step against DESIGN.md's rule."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

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

from webapp import policy
from webapp.extensions import db
from webapp.models import (
    Account,
    GroupUser,
    MemberRight,
    Membership,
    Role,
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

# --- the oracle: DESIGN.md, Permissions, written out again without looking at webapp/policy.py ---

DESIGN_RIGHTS = (
    "posts.view", "posts.comment", "posts.create", "posts.edit", "posts.publish", "posts.approve",
    "media.view", "media.upload", "media.move", "media.delete",
    "profiles.connect", "profiles.manage", "campaigns.manage", "inbox.manage", "analytics.view",
    "group.users", "team.invite", "organize",
)
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
GROUPS = {"HQ": ACME, "North": ACME, "South": ACME, "Rival HQ": RIVAL}
USER_GROUPS = ("Reviewers", "Analysts")  # both Acme's


@dataclass
class Oracle:
    """Who may do what in which access group, in plain sets."""

    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (person, account) -> role
    deactivated: set[str] = field(default_factory=set)  # Acme members
    own_rights: dict[str, set[str]] = field(default_factory=lambda: {m: set() for m in MEMBERS})
    users_tab: set[tuple[str, str]] = field(default_factory=set)  # (person, access group)
    team_members: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in USER_GROUPS})
    team_rights: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in USER_GROUPS})
    team_grants: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in USER_GROUPS})

    def rights(self, person: str, group: str) -> frozenset[str] | None:
        """The person's rights in the group, or None when they may not enter it."""
        account = GROUPS[group]
        role = self.roles.get((person, account))
        if role is None or person in self.deactivated:
            return None
        if role == "owner":
            return frozenset(DESIGN_RIGHTS)
        teams = [t for t in USER_GROUPS if person in self.team_members[t]] if account == ACME else []
        may_enter = (person, group) in self.users_tab or any(group in self.team_grants[t] for t in teams)
        if not may_enter:
            return None
        inherited = set().union(*(self.team_rights[t] for t in teams))
        return BASELINE[role] | self.own_rights.get(person, set()) | inherited

    def verdicts(self, person: str, group: str) -> dict[str, Verdict]:
        """The verdict on every action in the group."""
        rights = self.rights(person, group)
        if rights is None:
            return dict.fromkeys(ACTIONS, Verdict.HIDDEN)
        role = self.roles[(person, GROUPS[group])]
        allowed = {ENTER} | rights | {action for action, roles in BY_ROLE.items() if role in roles}
        return {action: Verdict.ALLOWED if action in allowed else Verdict.DENIED for action in ACTIONS}

    def paths(self, person: str, group: str, action: str) -> tuple[set, set]:
        """Every way the person enters the group, and every way they hold `action` (a right) there."""
        account = GROUPS[group]
        role = self.roles.get((person, account))
        if role is None or person in self.deactivated:
            return set(), set()
        teams = [t for t in USER_GROUPS if person in self.team_members[t]] if account == ACME else []
        entry = {("user_group", t) for t in teams if group in self.team_grants[t]}
        if (person, group) in self.users_tab:
            entry.add(("users_tab", None))
        if role == "owner":
            entry.add(("owner", None))
        right = set()
        if action != ENTER:
            if role == "owner":
                right.add(("owner", None))
            else:
                if action in BASELINE[role]:
                    right.add(("role", None))
                if action in self.own_rights.get(person, set()):
                    right.add(("own", None))
                right |= {("user_group", t) for t in teams if action in self.team_rights[t]}
        return entry, right


# --- the machine ---------------------------------------------------------------------------------


class PermissionChanges(RuleBasedStateMachine):
    """Acme (owner, four members, three groups, two user groups) and Rival, changed at random."""

    def __init__(self) -> None:
        super().__init__()
        db.session.rollback()  # each example runs in one transaction, rolled back in `teardown`
        if db.session.scalar(select(Account.id).limit(1)) is not None:
            empty_database()  # something was committed after all: start again from nothing
        factories.ensure_plans()
        self.oracle = Oracle()
        acme = factories.make_account(ACME)
        rival = factories.make_account(RIVAL)
        self.groups = {
            "HQ": factories.default_group(acme),
            "North": factories.make_group(acme, "North"),
            "South": factories.make_group(acme, "South"),
            "Rival HQ": factories.default_group(rival),
        }
        self.users = {"Acme owner": factories.owner_of(acme), "Rival owner": factories.owner_of(rival)}
        self.oracle.roles[("Acme owner", ACME)] = "owner"
        self.oracle.roles[("Rival owner", RIVAL)] = "owner"
        for name in MEMBERS:
            self.users[name] = factories.make_member(acme, START_ROLES[name], name=name)
            self.oracle.roles[(name, ACME)] = START_ROLES[name]
        self.user_ids = {name: user.id for name, user in self.users.items()}
        self.memberships = {
            name: db.session.scalar(select(Membership).where(
                Membership.user_id == self.user_ids[name], Membership.account_id == acme.id))
            for name in MEMBERS
        }
        self.teams = {name: factories.make_user_group(acme, name).id for name in USER_GROUPS}
        self.group_ids = {name: group.id for name, group in self.groups.items()}
        self._settle_in()

    def _settle_in(self) -> None:
        """Start from a lived-in account, so that every example begins with something to change."""
        for person, group in (("Ada", "HQ"), ("Bo", "North"), ("Di", "South")):
            self.add_to_users_tab(person, group)
        self.grant_own_right("Di", "media.view")
        self.add_user_group_right("Reviewers", "posts.approve")
        self.grant_user_group("Reviewers", "North")
        self.add_to_user_group("Cy", "Reviewers")  # Cy enters North only through Reviewers
        for right in ("analytics.view", "inbox.manage"):
            self.add_user_group_right("Analysts", right)
        self.grant_user_group("Analysts", "South")
        for person in ("Bo", "Di"):
            self.add_to_user_group(person, "Analysts")

    def teardown(self) -> None:
        db.session.rollback()

    def _save(self) -> None:
        """Send the change to the database (one transaction per example, rolled back at the end)."""
        db.session.flush()

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
            self.oracle.users_tab.add((person, group))

    @precondition(lambda self: self.oracle.users_tab)
    @rule(data=st.data())
    def remove_from_users_tab(self, data):
        person, group = data.draw(st.sampled_from(sorted(self.oracle.users_tab)))
        db.session.execute(delete(GroupUser).where(
            GroupUser.access_group_id == self.group_ids[group], GroupUser.user_id == self.user_ids[person]))
        self._save()
        self.oracle.users_tab.discard((person, group))

    # user groups: members, grants on access groups, rights

    @rule(person=st.sampled_from(PEOPLE), team=st.sampled_from(USER_GROUPS))
    def add_to_user_group(self, person, team):
        if person not in self.oracle.team_members[team]:
            db.session.add(UserGroupMember(user_group_id=self.teams[team], user_id=self.user_ids[person]))
            self._save()
            self.oracle.team_members[team].add(person)

    @precondition(lambda self: any(self.oracle.team_members.values()))
    @rule(data=st.data())
    def remove_from_user_group(self, data):
        team, person = data.draw(st.sampled_from(sorted(
            (t, p) for t, people in self.oracle.team_members.items() for p in people)))
        db.session.execute(delete(UserGroupMember).where(
            UserGroupMember.user_group_id == self.teams[team],
            UserGroupMember.user_id == self.user_ids[person]))
        self._save()
        self.oracle.team_members[team].discard(person)

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

    # memberships

    @rule(member=st.sampled_from(MEMBERS), role=st.sampled_from(("admin", "manager", "client")))
    def change_role(self, member, role):
        self.memberships[member].role = Role(role).value
        self._save()
        self.oracle.roles[(member, ACME)] = role

    @rule(member=st.sampled_from(MEMBERS))
    def deactivate(self, member):
        self.memberships[member].deactivated_at = datetime.now(timezone.utc)
        self._save()
        self.oracle.deactivated.add(member)

    @precondition(lambda self: self.oracle.deactivated)
    @rule(data=st.data())
    def reactivate(self, data):
        member = data.draw(st.sampled_from(sorted(self.oracle.deactivated)))
        self.memberships[member].deactivated_at = None
        self._save()
        self.oracle.deactivated.discard(member)

    # after every step

    @invariant()
    def policy_follows_design(self):
        """For every person, access group and action, the policy's verdict is the oracle's."""
        wrong = []
        for person in PEOPLE:
            perms = load_permissions(self.user_ids[person])
            for group_name, group in self.groups.items():
                for action, expected in self.oracle.verdicts(person, group_name).items():
                    got = decide(perms, action, group)
                    if got is not expected:
                        wrong.append(f"{person}: {action} in {group_name}: policy says {got.name}, "
                                     f"DESIGN.md says {expected.name}")
            if person != "Rival owner" and self.group_ids["Rival HQ"] in perms.access_group_ids:
                wrong.append(f"{person} may enter Rival HQ")
        assert not wrong, "\n".join(wrong)

    @invariant()
    def explainer_lists_every_path(self):
        """The "Why?" explainer agrees with the verdict and lists exactly the oracle's paths."""
        grounds = policy.load_grounds(list(self.user_ids.values()))
        team_of = {team_id: name for name, team_id in self.teams.items()}
        wrong = []
        for person in PEOPLE:
            mine = grounds[self.user_ids[person]]
            assert mine.permissions == load_permissions(self.user_ids[person])
            for group_name, group in self.groups.items():
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
        assert not wrong, "\n".join(wrong[:10])


def test_design_rights_are_the_policys_rights():
    """The oracle's list of rights, copied from DESIGN.md, is the policy's list."""
    assert set(DESIGN_RIGHTS) == set(policy.RIGHTS)


def test_policy_follows_design_through_random_changes(app):
    """After any sequence of permission changes, the policy answers as DESIGN.md says."""
    run_state_machine_as_test(
        PermissionChanges,
        settings=settings(
            settings.get_profile(PROFILE),
            stateful_step_count=STEPS,
            deadline=None,
        ),
    )
