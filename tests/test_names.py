"""Names unique in their scope, in any case: access groups and user groups in their account, social
sets and campaigns in their access group. The rules refuse a twin with a clear message, a twin saved
at the same moment gets that same message, and the database refuses a twin written past the rules."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from webapp import access_groups, campaigns, create_app, names, social_sets, user_groups
from webapp.extensions import db
from webapp.models import AccessGroup, AuditEvent, Campaign, SocialSet, UserGroup

from . import factories
from .conftest import TEST_CONFIG, fresh_database_url
from .html import HTMX


@dataclass(frozen=True)
class Kind:
    """One kind of named thing: its scope, how the rules create and rename one, and their refusal."""

    model: Any
    scope_column: Any
    in_account: bool  # scoped by account, else by access group
    rules: ModuleType
    error: type[Exception]
    create: Callable[[dict, str], Any]
    rename: Callable[[dict, Any, str], Any]
    refusal: str
    create_url: Callable[[dict], str]

    def scope_id(self, agency: dict) -> int:
        return agency["account"].id if self.in_account else agency["maya"].id

    def other_scope_id(self, agency: dict) -> int:
        return agency["other"].id if self.in_account else agency["leo"].id

    def row(self, scope_id: int, name: str) -> dict:
        """The columns of a row written past the rules."""
        return {self.scope_column.key: scope_id, "name": name}

    def twins(self, agency: dict, name: str) -> list[str]:
        """The names in the scope that are `name` in some case, oldest first."""
        return db.session.scalars(
            select(self.model.name).where(self.scope_column == self.scope_id(agency),
                                          func.lower(self.model.name) == name.lower())
            .order_by(self.model.id)
        ).all()


KINDS = {
    "access group": Kind(
        AccessGroup, AccessGroup.account_id, True, access_groups, access_groups.AccessGroupError,
        create=lambda agency, name: access_groups.create_access_group(agency["account"], name, agency["owner"]),
        rename=lambda agency, row, name: access_groups.rename_access_group(row, name, agency["owner"]),
        refusal="An access group called “{name}” already exists.",
        create_url=lambda agency: "/settings/access-groups",
    ),
    "user group": Kind(
        UserGroup, UserGroup.account_id, True, user_groups, user_groups.UserGroupError,
        create=lambda agency, name: user_groups.create_user_group(agency["account"], name, agency["owner"]),
        rename=lambda agency, row, name: user_groups.update_user_group(row, name, "", "users", agency["owner"]),
        refusal="A user group called “{name}” already exists.",
        create_url=lambda agency: "/settings/user-groups",
    ),
    "social set": Kind(
        SocialSet, SocialSet.access_group_id, False, social_sets, social_sets.SocialSetError,
        create=lambda agency, name: social_sets.create_social_set(agency["maya"], name, agency["owner"]),
        rename=lambda agency, row, name: social_sets.rename_social_set(row, name, agency["owner"]),
        refusal="“Maya Lopez” already has a social set called “{name}”.",
        create_url=lambda agency: f"/settings/access-groups/{agency['maya'].id}/social-sets",
    ),
    "campaign": Kind(
        Campaign, Campaign.access_group_id, False, campaigns, campaigns.CampaignError,
        create=lambda agency, name: campaigns.create_campaign(
            agency["maya"], campaigns.CampaignDetails(name), [], agency["owner"]),
        rename=lambda agency, row, name: campaigns.update_campaign(
            row, campaigns.CampaignDetails(name), [], agency["owner"]),
        refusal="“Maya Lopez” already has a campaign called “{name}”.",
        create_url=lambda agency: f"/g/{agency['maya'].id}/campaigns",
    ),
}
each_kind = pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())


@pytest.fixture
def agency(app):
    """Northstar with its HQ, Maya Lopez and Leo Park groups, and another account."""
    agency = factories.three_group_agency()
    other = factories.make_account("Rival")
    db.session.commit()
    return {**agency, "other": other}


def created_events() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.verb.like("%.created")))


def saved_meanwhile(monkeypatch, kind: Kind, agency: dict, name: str) -> None:
    """Another request saves `name` just after the rule checked it, as when two people press Save at once."""
    check = kind.rules._name_taken

    def check_then_lose_the_race(*args, **kwargs) -> bool:
        taken = check(*args, **kwargs)
        with db.engine.begin() as connection:
            connection.execute(insert(kind.model).values(kind.row(kind.scope_id(agency), name)))
        return taken

    monkeypatch.setattr(kind.rules, "_name_taken", check_then_lose_the_race)


# --- the rules -----------------------------------------------------------------------------------


@each_kind
@pytest.mark.parametrize("name, shown", [("summer launch", "summer launch"), ("  SUMMER   launch ", "SUMMER launch")])
def test_a_name_taken_in_another_case_is_refused(agency, kind, name, shown):
    """Creating or renaming to a taken name, in any case and spacing, is refused with the clear message."""
    kind.create(agency, "Summer Launch")
    draft = kind.create(agency, "Draft")
    db.session.commit()
    for attempt in (lambda: kind.create(agency, name), lambda: kind.rename(agency, draft, name)):
        with pytest.raises(kind.error) as refused:
            attempt()
        assert str(refused.value) == kind.refusal.format(name=shown)
        db.session.rollback()
    assert kind.twins(agency, "summer launch") == ["Summer Launch"]
    assert db.session.get(kind.model, draft.id).name == "Draft"


@each_kind
def test_a_row_may_change_the_case_of_its_own_name_and_share_it_with_another_scope(agency, kind):
    """A name is taken only by other rows, and only in the same account or access group."""
    row = kind.create(agency, "Summer Launch")
    kind.rename(agency, row, "SUMMER launch")
    db.session.execute(insert(kind.model).values(kind.row(kind.other_scope_id(agency), "summer launch")))
    db.session.commit()
    assert kind.twins(agency, "summer launch") == ["SUMMER launch"]


@each_kind
def test_a_twin_saved_at_the_same_moment_gets_the_same_message(agency, kind, monkeypatch):
    """The database refuses the second save; the rule answers as its own check would, and only its own
    change is undone, so the page can be shown again before anything is rolled back."""
    events = created_events()
    saved_meanwhile(monkeypatch, kind, agency, "summer launch")
    with pytest.raises(kind.error) as refused:
        kind.create(agency, "Summer Launch")
    assert str(refused.value) == kind.refusal.format(name="Summer Launch")
    assert kind.twins(agency, "summer launch") == ["summer launch"]
    db.session.commit()
    assert created_events() == events


@each_kind
def test_a_rename_to_a_twin_saved_at_the_same_moment_gets_the_same_message(agency, kind, monkeypatch):
    """A rename that loses the race keeps the old name."""
    draft = kind.create(agency, "Draft")
    db.session.commit()
    saved_meanwhile(monkeypatch, kind, agency, "summer launch")
    with pytest.raises(kind.error) as refused:
        kind.rename(agency, draft, "Summer Launch")
    assert str(refused.value) == kind.refusal.format(name="Summer Launch")
    assert db.session.get(kind.model, draft.id).name == "Draft"
    assert kind.twins(agency, "summer launch") == ["summer launch"]


@each_kind
def test_the_race_answers_on_the_page_as_the_check_does(client, auth, agency, kind, monkeypatch):
    """Through the page: 422 with the same message, not an error page, and only the other save kept."""
    auth.login(agency["owner"])
    saved_meanwhile(monkeypatch, kind, agency, "summer launch")
    response = client.post(kind.create_url(agency), data={"name": "Summer Launch"}, headers=HTMX)
    assert response.status_code == 422
    assert kind.refusal.format(name="Summer Launch") in response.get_data(as_text=True)
    assert kind.twins(agency, "summer launch") == ["summer launch"]


def test_another_refusal_by_the_database_is_not_called_a_taken_name(agency):
    """Only a clash of names becomes the friendly message; any other refusal stays what it is."""
    refusal = access_groups.AccessGroupError("taken")
    with pytest.raises(IntegrityError):
        with names.claiming(AccessGroup, AccessGroup.account_id, agency["account"].id, "Nowhere", refusal):
            db.session.add(AccessGroup(account_id=agency["account"].id, name="Nowhere", is_default=True))
    db.session.rollback()


@pytest.mark.parametrize("stored, asked", [("émile", "Émile"), ("Émile", "ÉMILE")])
def test_letters_beyond_a_to_z_are_compared_by_both_foldings(agency, stored, asked):
    """Python's lower() of the new name meets the stored one as people expect; the database's lower()
    of both meets it as the index does (SQLite's folds only A to Z, and so keeps "Émile" and "ÉMILE" apart
    from "émile" but not from each other)."""
    factories.make_group(agency["account"], stored)
    assert names.name_taken(AccessGroup, AccessGroup.account_id, agency["account"].id, asked)


# --- the database --------------------------------------------------------------------------------


@each_kind
def test_the_database_refuses_a_twin_written_past_the_rules(agency, kind):
    kind.create(agency, "Summer Launch")
    db.session.commit()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(insert(kind.model).values(kind.row(kind.scope_id(agency), "SUMMER LAUNCH")))
    assert kind.twins(agency, "summer launch") == ["Summer Launch"]


EXTRA_COLUMNS = {  # what each table needs besides its scope, its name and its timestamps
    "access_groups": {"is_default": False},
    "user_groups": {"description": "", "icon": "users"},
    "social_sets": {"position": 0, "version": 1},
    "campaigns": {},
}


def add_row(connection, table: str, **values) -> None:
    """A row written straight into `table`, as data from before 0007 may have been."""
    values = {**EXTRA_COLUMNS[table], **values}
    stamps = ["created_at", "updated_at"] if table == "user_groups" else ["created_at"]
    columns = ", ".join([*values, *stamps])
    bound = ", ".join([f":{column}" for column in values] + ["CURRENT_TIMESTAMP"] * len(stamps))
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({bound})"), values)


def test_the_migration_numbers_twins_then_refuses_new_ones(tmp_path):
    """Rows whose names differed only in case before 0007 keep their data under numbered names (the
    oldest keeps the name); after it, the database refuses a twin in every scope."""
    long_upper, long_lower = "L" * 120, "l" * 120
    with fresh_database_url(tmp_path) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision="0006")
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO plans (code, name) VALUES ('x', 'X') ON CONFLICT DO NOTHING"))
                for account_id in (1, 2):
                    connection.execute(text("INSERT INTO accounts (id, name, plan_code, time_zone, created_at) "
                                            "VALUES (:id, 'A', 'x', 'UTC', CURRENT_TIMESTAMP)"), {"id": account_id})
                for group_id, account_id, name, default in ((1, 1, "HQ", True), (2, 1, "Maya", False),
                                                            (3, 1, "MAYA", False), (4, 1, "maya (2)", False),
                                                            (5, 2, "maya", True)):
                    add_row(connection, "access_groups", id=group_id, account_id=account_id, name=name,
                            is_default=default)
                for user_group_id, name in ((1, "Editors"), (2, "EDITORS"), (3, long_upper), (4, long_lower)):
                    add_row(connection, "user_groups", id=user_group_id, account_id=1, name=name)
                for set_id, group_id, name in ((1, 1, "Main"), (2, 1, "Main"), (3, 1, "main"), (4, 2, "MAIN")):
                    add_row(connection, "social_sets", id=set_id, access_group_id=group_id, name=name)
                for campaign_id, name in ((1, "Launch"), (2, "LAUNCH")):
                    add_row(connection, "campaigns", id=campaign_id, access_group_id=1, name=name)
            upgrade()
            with db.engine.connect() as connection:
                def names_in(table: str) -> list[str]:
                    return connection.execute(text(f"SELECT name FROM {table} ORDER BY id")).scalars().all()

                assert names_in("access_groups") == ["HQ", "Maya", "MAYA (3)", "maya (2)", "maya"]
                assert names_in("user_groups") == ["Editors", "EDITORS (2)", long_upper, "l" * 116 + " (2)"]
                assert names_in("social_sets") == ["Main", "Main (2)", "main (3)", "MAIN"]
                assert names_in("campaigns") == ["Launch", "LAUNCH (2)"]
            for table, scope, twin in (("access_groups", "account_id", "hq"), ("user_groups", "account_id", "editors"),
                                       ("social_sets", "access_group_id", "MAIN (2)"),
                                       ("campaigns", "access_group_id", "launch")):
                with pytest.raises(IntegrityError), db.engine.begin() as connection:
                    add_row(connection, table, **{scope: 1}, name=twin)
            db.session.remove()
            downgrade(revision="base")
            db.engine.dispose()


def test_a_claimed_name_is_saved_with_the_callers_transaction_not_before_it(agency):
    """The savepoint nests in the caller's transaction, even when the name is its first write: a
    rename rolled back afterwards (say its audit entry failed) leaves the old name."""
    group = agency["maya"]
    db.session.commit()
    refusal = access_groups.AccessGroupError("taken")
    with names.claiming(AccessGroup, AccessGroup.account_id, agency["account"].id, "Maya Renamed", refusal,
                        except_id=group.id):
        group.name = "Maya Renamed"
    db.session.rollback()
    assert db.session.scalar(select(AccessGroup.name).where(AccessGroup.id == group.id)) == "Maya Lopez"
