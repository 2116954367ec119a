"""The migrations build exactly the models' schema, and the database enforces the model's rules."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from webapp import create_app
from webapp.extensions import db
from webapp.models import Membership, Network, Plan, Post, Role, SocialProfile, SocialSet

from . import factories
from .conftest import TEST_CONFIG, fresh_database_url


# SQLite cannot reflect the indexes on lower(name), and Alembic leaves them out of the comparison there;
# test_names.py checks that the migrations build them.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models_and_downgrade_cleanly(tmp_path):
    """`flask db upgrade` gives the models' schema and the reference plans; downgrade empties it."""
    with fresh_database_url(tmp_path) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            plans = {plan.code: plan.max_access_groups for plan in db.session.scalars(select(Plan))}
            assert plans["self_hosted"] is None and plans["starter"] == 1 and plans["free"] == 1
            db.session.remove()
            downgrade(revision="base")
            with db.engine.connect() as connection:
                tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
            assert tables == set()
            db.engine.dispose()


def test_campaign_twins_are_numbered_before_names_become_unique(tmp_path):
    """Campaigns saved with the same name before 0005 keep their data under a numbered name."""
    with fresh_database_url(tmp_path) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision="0004")
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO plans (code, name) VALUES ('x', 'X') ON CONFLICT DO NOTHING"))
                connection.execute(text("INSERT INTO accounts (id, name, plan_code, time_zone, created_at) "
                                        "VALUES (1, 'A', 'x', 'UTC', CURRENT_TIMESTAMP)"))
                connection.execute(text("INSERT INTO access_groups (id, account_id, name, is_default, created_at) "
                                        "VALUES (1, 1, 'G', TRUE, CURRENT_TIMESTAMP)"))
                for campaign_id, name in ((1, "Launch"), (2, "launch"), (3, "Launch (2)"), (4, "Launch")):
                    connection.execute(text("INSERT INTO campaigns (id, access_group_id, name, created_at) "
                                            "VALUES (:id, 1, :name, CURRENT_TIMESTAMP)"),
                                       {"id": campaign_id, "name": name})
            upgrade()
            with db.engine.connect() as connection:
                names = connection.execute(text("SELECT name FROM campaigns ORDER BY id")).scalars().all()
            assert names == ["Launch", "launch (3)", "Launch (2)", "Launch (4)"]
            db.session.remove()
            downgrade(revision="base")
            db.engine.dispose()


@pytest.fixture
def social_set(app):
    account = factories.make_account()
    social_set = factories.make_social_set(factories.default_group(account))
    db.session.commit()
    return social_set


def test_one_profile_per_network_per_set(social_set):
    """A set's Instagram slot holds one profile; the database refuses a second."""
    factories.make_profile(social_set, Network.INSTAGRAM)
    with pytest.raises(IntegrityError):
        factories.make_profile(social_set, Network.INSTAGRAM)
    db.session.rollback()


def test_one_owner_per_account(app):
    """An account has exactly one owner: the database refuses a second."""
    account = factories.make_account()
    db.session.commit()
    with pytest.raises(IntegrityError):
        factories.make_member(account, Role.OWNER)
    db.session.rollback()


def test_one_default_group_per_account(app):
    """Exactly one access group is the default."""
    account = factories.make_account()
    db.session.commit()
    with pytest.raises(IntegrityError):
        factories.make_group(account, "Second default", default=True)
    db.session.rollback()


def test_a_profile_lives_in_its_sets_group(social_set):
    """A profile cannot claim another group than its set's."""
    other = factories.make_group(db.session.get(type(social_set.access_group), social_set.access_group_id).account)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(SocialProfile(social_set_id=social_set.id, access_group_id=other.id,
                                     network=Network.X.value, handle="wrong"))
        db.session.flush()
    db.session.rollback()


def test_moving_a_set_carries_its_profiles_and_posts(social_set):
    """Changing a set's group is one statement; the database carries profiles and posts along."""
    profile = factories.make_profile(social_set, Network.TIKTOK)
    post = factories.make_post(profile)
    target = factories.make_group(social_set.access_group.account, "Target")
    db.session.commit()
    db.session.execute(update(SocialSet).where(SocialSet.id == social_set.id).values(access_group_id=target.id))
    db.session.commit()
    assert db.session.get(SocialProfile, profile.id).access_group_id == target.id
    assert db.session.get(Post, post.id).access_group_id == target.id


def test_profile_tokens_are_encrypted_at_rest(social_set):
    """The stored bytes of a token are ciphertext; the model reads the plaintext back."""
    profile = factories.make_profile(social_set, Network.YOUTUBE)
    db.session.commit()
    raw = db.session.execute(
        text("SELECT access_token FROM social_profiles WHERE id = :id"), {"id": profile.id}
    ).scalar_one()
    assert b"secret-access-token" not in bytes(raw)
    db.session.expire_all()
    assert db.session.get(SocialProfile, profile.id).access_token == "secret-access-token"


def test_unknown_role_and_network_are_refused(app):
    """Check constraints keep roles and networks to the known ones."""
    account = factories.make_account()
    user = factories.make_user()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(Membership(account_id=account.id, user_id=user.id, role="emperor"))
        db.session.flush()
    db.session.rollback()


def test_one_open_invitation_per_email(app):
    """Two open invitations for one email in one account are refused by the database."""
    from datetime import timedelta

    from webapp.models import Invitation, utcnow

    account = factories.make_account()
    db.session.commit()
    for number in range(2):
        db.session.add(Invitation(account_id=account.id, email="twice@example.test", role="client",
                                  token_hash=f"{number}" * 64, expires_at=utcnow() + timedelta(days=1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
