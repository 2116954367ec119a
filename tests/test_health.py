"""The probes: /healthz says the process answers, /readyz checks the database, migrations, worker and mail."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from webapp import MIGRATIONS_DIR, create_app, heartbeat
from webapp.extensions import db, limiter
from webapp.mail import queue_mail
from webapp.models import MailStatus, utcnow

from .conftest import TEST_CONFIG

SCRIPTS = ScriptDirectory(str(MIGRATIONS_DIR))


@pytest.fixture
def stamp(app):
    """`stamp(revision)` records the test database at a revision (its schema comes from the models);
    it starts at the migrations' head, and the version table goes when the test ends."""

    def stamp_at(revision: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            MigrationContext.configure(connection).stamp(SCRIPTS, revision)

    db.session.commit()
    stamp_at("head")
    yield stamp_at
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def worker_alive(app):
    heartbeat.beat("worker-1")


def readiness(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def queue_mail_aged(minutes: float, status: MailStatus = MailStatus.QUEUED) -> None:
    mail = queue_mail("ben@example.test", "Join Northstar Talent", "Join here.")
    mail.created_at = utcnow() - timedelta(minutes=minutes)
    mail.status = status.value
    db.session.commit()


# --- /healthz ------------------------------------------------------------------------------------


def test_healthz_answers_ok_without_asking_the_database(client, count_queries):
    """Alive means the process answers: no sign-in, no query, never cached."""
    with count_queries() as counter:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert counter.count == 0


# --- /readyz: everything fine ----------------------------------------------------------------------


def test_readyz_is_ready_when_every_check_passes(client, stamp, worker_alive):
    """Database answers, at the migrations' head, a worker beat just now, no mail waiting."""
    status, body = readiness(client)
    assert status == 200
    assert body["status"] == "ready"
    checks = body["checks"]
    assert set(checks) == {"database", "migrations", "worker", "mail"}
    assert all(check["ok"] for check in checks.values())
    assert checks["migrations"]["detail"] == f"at {SCRIPTS.get_current_head()}"
    assert checks["worker"]["age_seconds"] < 5
    assert checks["mail"] == {"ok": True, "detail": "no mail waiting", "age_seconds": None}


def test_readyz_logs_nothing_of_its_own_when_ready(client, stamp, worker_alive, caplog):
    """A probe every few seconds must not fill the log: alembic's dialect lines are dropped for probes."""
    caplog.set_level(logging.INFO)
    assert readiness(client)[0] == 200
    assert [record.name for record in caplog.records] == ["roster.access"]


# --- each check failing ----------------------------------------------------------------------------


def test_a_database_behind_the_migrations_is_not_ready(client, stamp, worker_alive):
    """The code expects a revision the database has not reached (an upgrade not yet run)."""
    head = SCRIPTS.get_current_head()
    previous = SCRIPTS.get_revision(head).down_revision
    stamp(previous)
    status, body = readiness(client)
    assert (status, body["status"]) == (503, "not ready")
    assert body["checks"]["migrations"] == {"ok": False, "detail": f"database at {previous}, code at {head}"}
    assert body["checks"]["database"]["ok"] and body["checks"]["worker"]["ok"] and body["checks"]["mail"]["ok"]


def test_a_database_never_migrated_is_not_ready(client, worker_alive):
    """No version table at all (the schema made some other way) is not the code's schema."""
    status, body = readiness(client)
    assert status == 503
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["detail"].startswith("database at no revision, code at ")


def test_no_worker_ever_started_is_not_ready(client, stamp):
    status, body = readiness(client)
    assert status == 503
    assert body["checks"]["worker"] == {"ok": False, "detail": "no worker has started", "age_seconds": None}


def test_a_worker_silent_for_minutes_is_not_ready(client, stamp):
    """The newest heartbeat counts: an old one alone says the worker stopped."""
    heartbeat.beat("worker-1", now=utcnow() - timedelta(minutes=5))
    status, body = readiness(client)
    assert status == 503
    worker = body["checks"]["worker"]
    assert worker["ok"] is False
    assert 299 <= worker["age_seconds"] <= 310
    assert worker["detail"] == f"last heartbeat {worker['age_seconds']} s ago"

    heartbeat.beat("worker-2")
    assert readiness(client)[1]["checks"]["worker"]["ok"] is True


@pytest.mark.parametrize("status", [MailStatus.QUEUED, MailStatus.SENDING])
def test_mail_waiting_too_long_is_not_ready(client, stamp, worker_alive, status):
    """Mail queued (or retrying) 20 minutes ago means delivery is stuck; the figure is reported."""
    queue_mail_aged(minutes=20, status=status)
    queue_mail_aged(minutes=1)
    code, body = readiness(client)
    assert code == 503
    mail = body["checks"]["mail"]
    assert mail["ok"] is False
    assert 1200 <= mail["age_seconds"] <= 1210
    assert mail["detail"] == f"oldest unsent mail queued {mail['age_seconds']} s ago, over 900 s"


def test_mail_waiting_a_little_and_mail_sent_or_given_up_long_ago_are_fine(client, stamp, worker_alive):
    queue_mail_aged(minutes=60, status=MailStatus.SENT)
    queue_mail_aged(minutes=60, status=MailStatus.FAILED)
    queue_mail_aged(minutes=2)
    status, body = readiness(client)
    assert status == 200
    mail = body["checks"]["mail"]
    assert mail["ok"] is True and 120 <= mail["age_seconds"] <= 130


def test_how_old_waiting_mail_may_get_is_a_setting(app, client, stamp, worker_alive):
    app.config["READY_MAIL_MAX_AGE_MINUTES"] = 30
    queue_mail_aged(minutes=20)
    assert readiness(client)[1]["checks"]["mail"]["ok"] is True
    app.config["READY_MAIL_MAX_AGE_MINUTES"] = 10
    assert readiness(client)[1]["checks"]["mail"]["ok"] is False


# --- no database at all ----------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", [
    "postgresql+psycopg://roster-user:s3cret-pw@127.0.0.1:1/roster",  # nothing listens on port 1
    "sqlite:////nonexistent-roster-dir/private-name.db",
], ids=["postgresql-closed-port", "sqlite-missing-folder"])
def test_an_unreachable_database_answers_503_in_json_and_names_nothing(database_url, caplog):
    """The probe answers, in general words: no address, user, password, path or driver error in the body."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()

    assert client.get("/healthz").status_code == 200
    status, body = readiness(client)
    assert (status, body["status"]) == (503, "not ready")
    assert body["checks"]["database"] == {"ok": False, "detail": "database did not answer"}
    assert all(check["ok"] is False for check in body["checks"].values())
    answer = client.get("/readyz").get_data(as_text=True)
    for secret in ("127.0.0.1", "roster-user", "s3cret-pw", "nonexistent-roster-dir", "private-name",
                   "psycopg", "sqlite", "OperationalError"):
        assert secret not in answer
    assert any("Readiness check database failed" in record.getMessage() for record in caplog.records)


# --- probes are never turned away ----------------------------------------------------------------


@pytest.fixture
def strict_rate_limits():
    """Every request counts against a tight application-wide limit, as an operator might set one."""
    yield
    # The one rate limiter keeps application limits once set: leave none for the tests after.
    limiter.limit_manager.set_application_limits([])


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_APPLICATION="3 per minute")
def test_probes_are_not_rate_limited(client, strict_rate_limits):
    """A probe asking every second must never get 429, while the limit holds for pages."""
    for _ in range(6):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
    assert [client.get("/login").status_code for _ in range(4)][-1] == 429
