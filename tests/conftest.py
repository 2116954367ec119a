"""Fixtures: an app on a fresh database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import contextlib
import email.policy
import os
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import urlsplit

import pytest
import requests
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from requests.structures import CaseInsensitiveDict
from sqlalchemy import event, text

from webapp import create_app
from webapp.extensions import db, limiter
from .scratch_db import scratch_database

from . import factories, scenarios
from .pds_server import pds  # noqa: F401  (a local Bluesky network, one per session, for the tests that ask)

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "SERVER_NAME": "roster.test",
    "ROSTER_URL": "http://roster.test",
    "RATELIMIT_ENABLED": False,
}


@contextlib.contextmanager
def fresh_database_url(directory) -> Iterator[str]:
    """A new, empty database: on PostgreSQL when TEST_DATABASE_URL names a server, else SQLite."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        with scratch_database(server_url, "roster_test") as url:
            yield url
    else:
        yield f"sqlite:///{directory / 'roster-test.db'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first: parallel workers then share out the rest around them, not wait on one at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    with fresh_database_url(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Create the schema once per session, from the models."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "MEDIA_ROOT": str(tmp_path_factory.mktemp("media"))})
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    return database_url


def empty_database() -> None:
    """Delete every row, leaving the schema (faster than recreating it for each test)."""
    db.session.rollback()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        # Users and access groups refer to each other: cut that link, then delete children first.
        # (DELETE beats TRUNCATE on PostgreSQL for tables this small.)
        connection.execute(text("UPDATE users SET last_access_group_id = NULL"))
        for table in tables:
            connection.execute(table.delete())


class RowSnapshot:
    """Every row of every table as it is now, put back in a few bulk statements.

    For a costly world that many tests start from: build it once, take a snapshot, and `restore()`
    before each test instead of building it again. Rows keep their ids; on PostgreSQL the sequences
    are not wound back, so rows a test adds never take an id of the snapshot's.
    """

    def __init__(self) -> None:
        db.session.commit()
        with db.engine.connect() as connection:
            self.rows = {table: [dict(row._mapping) for row in connection.execute(table.select())]
                         for table in db.metadata.sorted_tables}

    def restore(self) -> None:
        empty_database()
        last_groups = []
        with db.engine.begin() as connection:
            for table, rows in self.rows.items():
                if table.name == "users":
                    # Users and access groups refer to each other: users first, their last group after.
                    last_groups = [{"user_id": row["id"], "group_id": row["last_access_group_id"]}
                                   for row in rows if row["last_access_group_id"] is not None]
                    rows = [{**row, "last_access_group_id": None} for row in rows]
                if rows:
                    connection.execute(table.insert(), rows)
            if last_groups:
                connection.execute(
                    text("UPDATE users SET last_access_group_id = :group_id WHERE id = :user_id"), last_groups)


class RequestIsolatingClient(FlaskClient):
    """Runs each request in its own app context, as a server does: fresh `g`, fresh DB session.

    The test's own session commits before the request (so the request sees the test's data) and
    after it (so the test then reads what the request wrote).
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()
        return response


def _test_app(database_url: str, directory, **overrides) -> Flask:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "MEDIA_ROOT": str(directory / "media"), "MAIL_OUTBOX": str(directory / "outbox"), **overrides})
    app.test_client_class = RequestIsolatingClient
    return app


@pytest.fixture(scope="session")
def _shared_app(_schema, tmp_path_factory) -> tuple[Flask, dict]:
    """One app for every test that leaves the app itself alone, with the settings it started with.

    Building an app compiles every URL rule and opens a new connection pool: shared, that is done once.
    """
    app = _test_app(_schema, tmp_path_factory.mktemp("shared-app"))
    return app, dict(app.config)


@pytest.fixture
def app(_schema, _shared_app, tmp_path, request):
    """An app on a clean database, with folders of the test's own for media and mail.

    `@pytest.mark.app_config(KEY=value)` overrides settings, and `@pytest.mark.fresh_app` is for a test
    that changes the app itself (adds routes, swaps templates): both get an app of their own. Every
    other test shares one app, its settings put back as they were before each test.
    """
    marker = request.node.get_closest_marker("app_config")
    if marker or request.node.get_closest_marker("fresh_app"):
        app = _test_app(_schema, tmp_path, **(marker.kwargs if marker else {}))
    else:
        app, settings = _shared_app
        app.config.clear()
        app.config.update(settings, MEDIA_ROOT=str(tmp_path / "media"), MAIL_OUTBOX=str(tmp_path / "outbox"))
        limiter.init_app(app)  # the one rate limiter takes this app's settings again, as building it would
    with app.app_context():
        empty_database()
        factories.ensure_plans()
        db.session.commit()
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Sign a test client in and out the way a browser does."""

    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        response = self.client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 303, f"sign-in as {email} failed: {response.status_code}"
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter:` counts the SQL statements run inside the block."""

    @contextlib.contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


# --- a real SMTP server on loopback --------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message the server accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        # SMTP carries CRLF line ends; compare bodies the way they were written.
        content = envelope.content.replace(b"\r\n", b"\n")
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(content))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on loopback that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        assert self.controller is not None
        self.controller.stop()
        self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages


@pytest.fixture
def smtp_server(app):
    """A running SMTP server the app sends to; its port is only known once it runs."""
    server = SMTPServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False, MAIL_USERNAME=None)
    yield server
    if server.controller is not None:
        server.stop()


# --- the app as the far end of server-to-server HTTP calls -------------------------------------------


class AppTransport(requests.adapters.BaseAdapter):
    """Answers a `requests` call with the app itself, in an app context of its own (a fresh DB session)."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app
        self.calls: list[str] = []

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        self.calls.append(url.path)
        with self.app.app_context():
            answer = FlaskClient(self.app).open(
                url.path, query_string=url.query, method=request.method, headers=dict(request.headers),
                data=request.body, base_url=f"{url.scheme}://{url.netloc}",
            )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.get_data()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


# --- scenarios more than one test file starts from (built in tests/scenarios.py) --------------------


@pytest.fixture
def review_agency(app) -> dict:
    """Posts waiting for Maya's and Jonah's approval, on review links: see `scenarios.review_agency`."""
    return scenarios.review_agency()
