"""Cost of a policy check: Roster's `load_permissions` + `decide` against a pycasbin enforcer.

The casbin side is RBAC with domains, in its "shared role permissions" form: an access group is a
domain; permissions are written once per role with the domain wildcard `*` (matched by keyMatch);
a user gets a role *in each group they may enter*:

    p, role:manager, *, group, posts.edit          (role baselines, from webapp.policy)
    p, rights:12, *, group, analytics.view         (membership 12's own rights, as a personal role)
    p, team:3, *, group, inbox.manage              (a user group's rights, as a role)
    g, user:7, role:manager, 42                    (user 7 may enter group 42 ...)
    g, user:7, rights:12, 42                       (... carries their own rights there ...)
    g, user:7, team:3, 42                          (... and the rights of each of their user groups)

Who may enter which group (Users tab, user-group grants, ownership) and every expiry is worked out
when the enforcer is built, from the same rows `load_permissions` reads: RBAC with domains cannot
express "the union of rights, wherever one may enter". User groups are therefore modelled as roles
given in each enterable domain, not as domains of their own, so both sides should agree exactly.
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

import casbin
from casbin.model import FastModel, Model
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    GroupUser,
    MemberRight,
    Membership,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
)
from webapp.policy import ENTER, RIGHTS, ROLE_BASELINE, Verdict, decide, load_permissions

from .pages import QueryCounter

MODEL_TEMPLATE = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = {matcher}
"""
# The matcher as casbin's documentation writes it, and the same tests with the cheap ones first
# (the matcher is evaluated once per policy rule, and `&&` stops at the first false term).
DOCUMENTED_MATCHER = "g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && r.obj == p.obj && r.act == p.act"
CHEAP_FIRST_MATCHER = "r.act == p.act && r.obj == p.obj && keyMatch(r.dom, p.dom) && g(r.sub, p.sub, r.dom)"
OBJECT = "group"
ACTIONS = (*RIGHTS, ENTER)


@dataclass
class CasbinRules:
    """Policy (`p`) and grouping (`g`) rules derived from the database."""

    policies: list[list[str]]
    groupings: list[list[str]]


@dataclass
class PolicyReport:
    """Everything measured about policy checks."""

    users: int
    groups: int
    load_us: list[float]
    load_queries: set[int]
    read_rules_ms: float
    policies: int
    groupings: int
    checks: int
    allowed: int
    decide_us: float
    variants: list[VariantResult]


def _live(column, now: datetime):
    """The row has no expiry, or expires after `now`."""
    return or_(column.is_(None), column > now)


def read_rules(now: datetime) -> CasbinRules:
    """Translate memberships, Users tabs, user groups and grants into casbin rules."""
    members = db.session.execute(
        select(Membership.user_id, Membership.account_id, Membership.role, Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(User.active.is_(True), Membership.deactivated_at.is_(None), _live(Membership.expires_at, now))
    ).all()
    membership_of = {(user_id, account_id): (role, mid) for user_id, account_id, role, mid in members}
    own_rights: dict[int, set[str]] = defaultdict(set)
    for mid, name in db.session.execute(select(MemberRight.membership_id, MemberRight.name)):
        own_rights[mid].add(name)
    groups_of_account: dict[int, list[int]] = defaultdict(list)
    account_of_group: dict[int, int] = {}
    for group_id, account_id in db.session.execute(select(AccessGroup.id, AccessGroup.account_id)):
        groups_of_account[account_id].append(group_id)
        account_of_group[group_id] = account_id
    team_account = dict(db.session.execute(select(UserGroup.id, UserGroup.account_id)).all())
    team_rights: dict[int, set[str]] = defaultdict(set)
    for team_id, name in db.session.execute(select(UserGroupRight.user_group_id, UserGroupRight.name)):
        team_rights[team_id].add(name)
    team_grants: dict[int, set[int]] = defaultdict(set)
    for team_id, group_id in db.session.execute(select(UserGroupGrant.user_group_id, UserGroupGrant.access_group_id)):
        team_grants[team_id].add(group_id)
    teams_of_user: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in db.session.execute(
        select(UserGroupMember.user_group_id, UserGroupMember.user_id).where(_live(UserGroupMember.expires_at, now))
    ):
        teams_of_user[user_id].add(team_id)
    tabs: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in db.session.execute(
        select(GroupUser.access_group_id, GroupUser.user_id).where(_live(GroupUser.expires_at, now))
    ):
        tabs[user_id].add(group_id)

    known = set(RIGHTS)
    policies = [[f"role:{role}", "*", OBJECT, right]
                for role, rights in ROLE_BASELINE.items() for right in sorted(rights | {ENTER})]
    policies += [[f"rights:{mid}", "*", OBJECT, right]
                 for mid, names in own_rights.items() for right in sorted(names & known)]
    policies += [[f"team:{team_id}", "*", OBJECT, right]
                 for team_id, names in team_rights.items() for right in sorted(names & known)]

    groupings = []
    for (user_id, account_id), (role, mid) in membership_of.items():
        teams = {t for t in teams_of_user[user_id] if team_account.get(t) == account_id}
        if role == Role.OWNER.value:
            enterable = set(groups_of_account[account_id])
        else:
            enterable = {g for g in tabs[user_id] if account_of_group[g] == account_id}
            enterable |= {g for t in teams for g in team_grants[t] if account_of_group[g] == account_id}
        roles = [f"role:{role}"]
        roles += [f"rights:{mid}"] if own_rights[mid] & known else []
        roles += [f"team:{t}" for t in sorted(teams) if team_rights[t] & known]
        groupings += [[f"user:{user_id}", name, str(g)] for g in sorted(enterable) for name in roles]
    return CasbinRules(policies, groupings)


@dataclass(frozen=True)
class Variant:
    """One way of running casbin on the same rules."""

    label: str
    matcher: str
    index_by_object_and_action: bool = False

    def build(self, rules: CasbinRules) -> casbin.Enforcer:
        """An enforcer with this variant's model, loaded from text, holding `rules`."""
        text = MODEL_TEMPLATE.format(matcher=self.matcher)
        if self.index_by_object_and_action:
            # FastEnforcer keeps `p` rules in a dict keyed by (obj, act) and only evaluates those.
            model = FastModel(INDEX_ORDER)
            model.load_model_from_text(text)
            enforcer = casbin.FastEnforcer(model, cache_key_order=INDEX_ORDER)
        else:
            model = Model()
            model.load_model_from_text(text)
            enforcer = casbin.Enforcer(model)
        enforcer.add_policies(rules.policies)
        enforcer.add_grouping_policies(rules.groupings)
        return enforcer


INDEX_ORDER = [2, 3]  # positions of obj and act, in the request and in `p` rules alike
VARIANTS = [
    Variant("casbin Enforcer, documented matcher", DOCUMENTED_MATCHER),
    Variant("casbin Enforcer, cheap tests first", CHEAP_FIRST_MATCHER),
    Variant("casbin FastEnforcer (obj, act index)", CHEAP_FIRST_MATCHER, index_by_object_and_action=True),
]


@dataclass
class VariantResult:
    """Build time, check time and agreement with Roster for one casbin variant."""

    label: str
    build_ms: float
    us_per_check: float
    agree: int
    disagreements: list[tuple[int, int, str, bool, bool]]


def _timed(calls: list[tuple], check) -> tuple[list[bool], float]:
    """The answers of `check` to each argument tuple, and the microseconds per call."""
    started = time.perf_counter()
    answers = [check(*args) for args in calls]
    return answers, (time.perf_counter() - started) / len(calls) * 1e6


def run(checks: int, load_calls: int, seed: int = 7) -> PolicyReport:
    """Time Roster and each casbin variant on the current app's database; compare their answers.

    `checks` (user, group, action) triples are drawn at random from all of them (0: all of them).
    """
    now = datetime.now(timezone.utc)
    user_ids = sorted(db.session.scalars(select(Membership.user_id).distinct()))
    groups = {group.id: group for group in db.session.scalars(select(AccessGroup))}
    db.session.expunge_all()  # decide() only reads ids; keep the session out of the loops

    counter = QueryCounter(db.engine)
    load_us, load_queries = [], set()
    with counter.listening():
        for call in range(load_calls):
            counter.reset()
            started = time.perf_counter()
            load_permissions(user_ids[call % len(user_ids)], now)
            load_us.append((time.perf_counter() - started) * 1e6)
            load_queries.add(counter.count)
    perms = {user_id: load_permissions(user_id, now) for user_id in user_ids}

    everything = [(u, g, a) for u in user_ids for g in groups for a in ACTIONS]
    sample = everything if not checks or checks >= len(everything) else random.Random(seed).sample(everything, checks)
    roster, decide_us = _timed(
        [(perms[u], a, groups[g]) for u, g, a in sample], lambda p, a, o: decide(p, a, o) is Verdict.ALLOWED
    )

    started = time.perf_counter()
    rules = read_rules(now)
    read_ms = (time.perf_counter() - started) * 1000
    requests = [(f"user:{u}", str(g), OBJECT, a) for u, g, a in sample]
    results = []
    for variant in VARIANTS:
        started = time.perf_counter()
        enforcer = variant.build(rules)
        build_ms = (time.perf_counter() - started) * 1000
        theirs, enforce_us = _timed(requests, enforcer.enforce)
        disagreements = [(u, g, a, mine, other)
                         for (u, g, a), mine, other in zip(sample, roster, theirs) if mine != other]
        results.append(VariantResult(variant.label, build_ms, enforce_us,
                                     len(sample) - len(disagreements), disagreements))
    return PolicyReport(
        users=len(user_ids), groups=len(groups), load_us=load_us, load_queries=load_queries,
        read_rules_ms=read_ms, policies=len(rules.policies), groupings=len(rules.groupings),
        checks=len(sample), allowed=sum(roster), decide_us=decide_us, variants=results,
    )
