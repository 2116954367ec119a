"""Upgrading a database that holds data keeps every row, on SQLite (where batch mode rebuilds tables) and PostgreSQL."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from webapp import create_app
from webapp.extensions import db

from .conftest import TEST_CONFIG, fresh_database_url

WHEN = "2026-03-02 09:30:00+00:00"

# One row in every table of the first revision, with the columns it has there: the rows that refer to a
# table are the ones a rebuild of that table loses when foreign keys fire (ON DELETE CASCADE, SET NULL).
AGENCY_AT_0001 = {
    "users": [
        {"id": 1, "email": "owner@example.test", "name": "Olive", "password_hash": "x", "session_version": 1,
         "active": True, "created_at": WHEN},
        {"id": 2, "email": "maya@example.test", "name": "Maya", "password_hash": "x", "session_version": 1,
         "active": True, "created_at": WHEN},
    ],
    "accounts": [{"id": 1, "name": "Agency", "plan_code": "self_hosted", "time_zone": "UTC", "created_at": WHEN}],
    "access_groups": [{"id": 1, "account_id": 1, "name": "Clients", "is_default": True, "created_at": WHEN}],
    "memberships": [
        {"id": 1, "account_id": 1, "user_id": 1, "role": "owner", "created_at": WHEN},
        {"id": 2, "account_id": 1, "user_id": 2, "role": "client", "created_at": WHEN},
    ],
    "member_rights": [{"membership_id": 2, "name": "approve_posts"}],
    "group_users": [{"access_group_id": 1, "user_id": 2, "added_at": WHEN}],
    "user_groups": [{"id": 1, "account_id": 1, "name": "Reviewers", "description": "", "icon": "users",
                     "created_at": WHEN, "updated_at": WHEN}],
    "user_group_members": [{"user_group_id": 1, "user_id": 2}],
    "user_group_grants": [{"user_group_id": 1, "access_group_id": 1}],
    "user_group_rights": [{"user_group_id": 1, "name": "review"}],
    "invitations": [{"id": 1, "account_id": 1, "email": "new@example.test", "role": "client", "token_hash": "i" * 64,
                     "invited_by_id": 1, "add_to_default_group": True, "created_at": WHEN, "expires_at": WHEN}],
    "invitation_access_groups": [{"invitation_id": 1, "access_group_id": 1}],
    "audit_events": [{"id": 1, "account_id": 1, "actor_id": 1, "verb": "campaign.create", "object_type": "campaign",
                      "object_id": 1, "created_at": WHEN}],
    "social_sets": [{"id": 1, "access_group_id": 1, "name": "Maya", "position": 0, "version": 1, "created_at": WHEN}],
    "social_profiles": [{"id": 1, "social_set_id": 1, "access_group_id": 1, "network": "instagram", "handle": "maya",
                         "display_name": "Maya", "needs_reconnect": False, "needs_approval": True,
                         "connected_by_id": 1, "version": 1, "created_at": WHEN}],
    "profile_approvers": [{"social_profile_id": 1, "user_id": 2}],
    "profile_access_removals": [{"social_profile_id": 1, "user_id": 1, "removed_at": WHEN}],
    "campaigns": [{"id": 1, "access_group_id": 1, "name": "Launch", "starts_on": "2026-03-01",
                   "ends_on": "2026-03-31", "created_at": WHEN}],
    "campaign_profiles": [{"campaign_id": 1, "social_profile_id": 1}],
    "media_items": [{"id": 1, "access_group_id": 1, "uploaded_by_id": 1, "name": "cover.png", "kind": "image",
                     "content_type": "image/png", "byte_size": 100, "storage_key": "1/cover.png",
                     "created_at": WHEN}],
    "posts": [{"id": 1, "social_profile_id": 1, "access_group_id": 1, "author_id": 1, "caption": "Launch day",
               "status": "pending_approval", "scheduled_at": WHEN, "version": 1, "created_at": WHEN,
               "updated_at": WHEN}],
    "post_media": [{"post_id": 1, "media_item_id": 1, "position": 0}],
    "comments": [{"id": 1, "post_id": 1, "author_id": 2, "body": "Shorter, please", "created_at": WHEN}],
    "review_links": [{"id": 1, "reviewer_id": 2, "created_by_id": 1, "token_hash": "r" * 64, "created_at": WHEN,
                      "expires_at": WHEN}],
    "review_link_posts": [{"review_link_id": 1, "post_id": 1, "post_version": 1}],
    "approval_decisions": [{"id": 1, "post_id": 1, "reviewer_id": 2, "review_link_id": 1, "decision": "feedback",
                            "note": "Shorter", "created_at": WHEN}],
    "mail": [{"id": 1, "to_address": "maya@example.test", "subject": "Review", "text_body": "Please review",
              "status": "queued", "attempts": 0, "next_attempt_at": WHEN, "created_at": WHEN}],
}


@contextlib.contextmanager
def database_at(directory, revision: str) -> Iterator[None]:
    """An app context on a fresh database that the migrations have brought up to `revision`."""
    with fresh_database_url(directory) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=revision)
            try:
                yield
            finally:
                db.session.remove()
                db.engine.dispose()


def insert_rows(tables: dict[str, list[dict]]) -> None:
    """Insert the rows with plain SQL, table by table in the order given."""
    with db.engine.begin() as connection:
        for table, rows in tables.items():
            for row in rows:
                columns = ", ".join(row)
                values = ", ".join(f":{column}" for column in row)
                connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def every_row() -> dict[str, tuple[set[str], list[dict]]]:
    """Each table's columns and rows, as the database has them now."""
    tables = {}
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table != "alembic_version":
                result = connection.execute(text(f"SELECT * FROM {table}"))
                tables[table] = (set(result.keys()), [dict(row) for row in result.mappings()])
    return tables


def shared_rows(tables: dict, other: dict) -> dict[str, list[dict]]:
    """The rows of `tables` cut down to the tables and columns `other` has too, in a stable order."""
    shared = {}
    for table, (columns, rows) in tables.items():
        if table in other:
            kept = columns & other[table][0]
            shared[table] = sorted(({column: row[column] for column in kept} for row in rows), key=repr)
    return shared


def campaign_links() -> list[tuple[int, int]]:
    """Every (campaign, profile) link in the database."""
    with db.engine.connect() as connection:
        return [tuple(link) for link in connection.execute(
            text("SELECT campaign_id, social_profile_id FROM campaign_profiles"))]


def test_campaign_links_survive_the_migration_that_makes_names_unique(tmp_path):
    """0005 rebuilds `campaigns` on SQLite; the links from campaigns to profiles stay, both ways."""
    with database_at(tmp_path, "0004"):
        insert_rows({table: AGENCY_AT_0001[table] for table in (
            "users", "accounts", "access_groups", "social_sets", "social_profiles", "campaigns", "campaign_profiles")})
        upgrade()
        assert campaign_links() == [(1, 1)]
        downgrade(revision="0004")
        assert campaign_links() == [(1, 1)]
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM campaigns"))
        assert campaign_links() == [], "foreign keys hold again after the migrations"


def test_every_migration_keeps_every_row_both_ways(tmp_path):
    """An agency with a row in every table goes up one revision at a time and back: nothing is lost or changed."""
    with database_at(tmp_path, "base"):
        script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
        upgrade(revision=revisions[0])
        insert_rows(AGENCY_AT_0001)
        with db.engine.begin() as connection:
            # Users and access groups refer to each other: the user's last group comes once both exist.
            connection.execute(text("UPDATE users SET last_access_group_id = 1 WHERE id = 1"))
        agency = every_row()
        assert all(rows for _, rows in agency.values()), "the agency has a row in every table"

        steps = [(upgrade, revision) for revision in revisions[1:]]
        steps += [(downgrade, revision) for revision in reversed(revisions[:-1])]
        for migrate, revision in steps:
            migrate(revision=revision)
            now = every_row()
            assert shared_rows(now, agency) == shared_rows(agency, now), f"{migrate.__name__} to {revision}"


def test_groups_count_the_media_items_they_already_hold(tmp_path):
    """0009 gives each access group the count of its media items, from the rows it holds; down, it goes."""
    with database_at(tmp_path, "0008"):
        # Users lost session_version in 0006.
        users = [{column: value for column, value in user.items() if column != "session_version"}
                 for user in AGENCY_AT_0001["users"]]
        insert_rows({"users": users, **{table: AGENCY_AT_0001[table] for table in ("accounts", "access_groups",
                                                                                 "media_items")}})
        insert_rows({
            "access_groups": [{"id": group_id, "account_id": 1, "name": name, "is_default": False, "created_at": WHEN}
                              for group_id, name in ((2, "Maya"), (3, "Leo"))],
            "media_items": [{**AGENCY_AT_0001["media_items"][0], "id": item_id, "access_group_id": 2,
                             "storage_key": f"2/photo-{item_id}.png"} for item_id in (2, 3, 4)],
        })
        upgrade(revision="0009")
        with db.engine.connect() as connection:
            counts = connection.execute(text("SELECT id, media_count FROM access_groups ORDER BY id")).all()
        assert [tuple(row) for row in counts] == [(1, 1), (2, 3), (3, 0)]
        downgrade(revision="0008")
        with db.engine.connect() as connection:
            assert "media_count" not in {column["name"] for column in inspect(connection).get_columns("access_groups")}
            assert connection.scalar(text("SELECT count(*) FROM media_items")) == 4
