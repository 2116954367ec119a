"""Browser tests: Chromium driven by Playwright against Roster served on a free local port.

The seeded server (`live_server`) holds the demo agency, Northstar Talent, and lives for the whole
session; `empty_server` is a fresh install with no account, for first-run setup. Every page a test
opens is watched: a console error, an uncaught exception or a Content-Security-Policy violation fails
the test at teardown, which guards the "no inline script or style, strict CSP" rule.
"""
from __future__ import annotations

import contextlib
import email.policy
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import flask_migrate
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from webapp import create_app, urls
from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.mail import send_pending
from webapp.models import AccessGroup
from tests.pds_server import pds  # noqa: F401  (a local Bluesky network, one per session, for the tests that ask)
from tests.scratch_db import scratch_database

E2E_DIR = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Chromium reports violations in the console too; this listener makes the report explicit and
# names the directive, so a failure says what was blocked.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`
    + ` in ${event.sourceFile || event.documentURI}:${event.lineNumber}`);
});
"""

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under e2e/ is a browser test (`-m "not e2e"` skips them)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


# --- the app on a live server -------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    """A running Roster: its address and the app behind it (for looking things up in its database)."""

    app: Flask
    url: str

    def group_id(self, name: str) -> int:
        """The id of the access group called `name`."""
        with self.app.app_context():
            group_id = db.session.scalar(select(AccessGroup.id).where(AccessGroup.name == name))
            db.session.remove()
        assert group_id is not None, f"no access group named {name!r}"
        return group_id


@contextlib.contextmanager
def own_database(directory: Path) -> Iterator[str]:
    """A new database for one test: on PostgreSQL when TEST_DATABASE_URL names a server, else SQLite."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        with scratch_database(server_url, "roster_e2e") as url:
            yield url
    else:
        yield f"sqlite:///{directory / 'roster-e2e.db'}"


def build_app(directory: Path, database_url: str | None = None) -> Flask:
    """A Roster app, its schema made by the real migrations; on its own SQLite file by default.

    The shared servers stay on SQLite, since they test the pages; a test that changes what other
    tests count on takes `demo_server`, which follows TEST_DATABASE_URL like the unit tests do.
    Not TESTING: CSRF protection and error pages behave as in production.
    """
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{directory / 'roster-e2e.db'}",
            "MEDIA_ROOT": str(directory / "media"),
            "MAIL_OUTBOX": str(directory / "outbox"),
            "SECRET_KEY": "e2e-secret-key",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
    return app


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` from a daemon thread until the block ends."""
    # Port 0: the operating system picks a free port when binding, so there is no race for it.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="roster-e2e-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    urls.use_public_url(app, url)
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def seeded(app: Flask) -> Flask:
    """`app` with the demo agency, Northstar Talent, in its database."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """Roster with the demo agency, Northstar Talent, for the whole session."""
    with serve(seeded(build_app(tmp_path_factory.mktemp("e2e-demo")))) as server:
        yield server


@contextlib.contextmanager
def own_demo_server(directory: Path, prepare: Callable[[], None] | None = None) -> Iterator[LiveServer]:
    """A demo agency of its own on a fresh server, after `prepare` (if any) changed it in the app.

    Its database follows TEST_DATABASE_URL like the unit tests do.
    """
    with own_database(directory) as url:
        app = seeded(build_app(directory, url))
        if prepare is not None:
            with app.app_context():
                prepare()
                db.session.commit()
                db.session.remove()
        with serve(app) as server:
            yield server


@pytest.fixture
def demo_server(tmp_path) -> Iterator[LiveServer]:
    """A demo agency for one test alone, for tests that change what others count on."""
    with own_demo_server(tmp_path) as server:
        yield server


@pytest.fixture
def empty_server(tmp_path) -> Iterator[LiveServer]:
    """A fresh install with no account yet, for first-run setup."""
    with serve(build_app(tmp_path)) as server:
        yield server


@pytest.fixture
def base_url(live_server: LiveServer) -> str:
    """Where pages open by default; a module may override it (first-run setup uses the empty server)."""
    return live_server.url


class Mailbox:
    """An aiosmtpd handler keeping every message the live server sends, for tests to wait on.

    The app sends mail when a response closes. The development server skips that close when the
    browser resets the connection after a redirect, so a wait also delivers what is still queued,
    as `flask mail send-pending` from cron does in production.
    """

    def __init__(self, deliver_queued: Callable[[], None] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.deliver_queued = deliver_queued

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.content.replace(b"\r\n", b"\n")
        self.messages.append(BytesParser(policy=email.policy.default).parsebytes(content))
        return "250 Message accepted for delivery"

    def wait_for(self, to_address: str, timeout: float = 10) -> EmailMessage:
        """The newest message to `to_address`, waiting for it (mail goes out after the response)."""
        started = time.monotonic()
        deadline = started + timeout
        delivered_at = started
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if message["To"] == to_address:
                    return message
            if self.deliver_queued and time.monotonic() - delivered_at > 1:
                self.deliver_queued()
                delivered_at = time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to_address} arrived within {timeout} seconds")


@pytest.fixture(scope="session")
def smtp_server(live_server: LiveServer) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that the live server delivers its mail to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    def deliver_queued() -> None:
        with live_server.app.app_context():
            send_pending()
            db.session.remove()

    mailbox = Mailbox(deliver_queued)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    live_server.app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USERNAME=None)
    try:
        yield mailbox
    finally:
        live_server.app.config.update(MAIL_SERVER=None)
        controller.stop()


# --- the browser --------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """$CHROMIUM_PATH, else Debian's /usr/bin/chromium, else None for Playwright's bundled browser."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; each test gets its own context in it."""
    with sync_playwright() as playwright:
        executable = find_chromium()
        options = {"executable_path": executable} if executable else {}
        browser = playwright.chromium.launch(headless=True, args=CHROMIUM_ARGS, **options)
        yield browser
        browser.close()


class BrowserProblems:
    """Console errors, uncaught exceptions and CSP violations seen by a test's pages."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._expected_statuses: set[int] = set()
        self._watched: set[int] = set()

    def expect_status(self, status: int) -> None:
        """This test loads a page answering `status` on purpose (Chromium logs it as an error)."""
        self._expected_statuses.add(status)

    def watch(self, page: Page) -> None:
        if id(page) in self._watched:
            return
        self._watched.add(id(page))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught exception on {page.url}: {error}"))

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(f"the server responded with a status of {status} " in text  # Chromium's own line
               or f"Response Status Error Code {status} " in text  # htmx's, for a request it sent
               for status in self._expected_statuses):
            return
        self.seen.append(f"console error at {message.location.get('url') or '?'}: {text}")

    def clear(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def new_context(
    browser: Browser, base_url: str, browser_problems: BrowserProblems
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh browser context (its own cookies, so its own session), watched for problems."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = browser.new_context(**{"base_url": base_url, **options})
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_REPORTER)
        context.on("page", browser_problems.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    if browser_problems.seen:
        pytest.fail("the browser reported problems:\n" + "\n".join(browser_problems.seen), pytrace=False)


@pytest.fixture
def page(new_context: Callable[..., BrowserContext], browser_problems: BrowserProblems) -> Page:
    """A page in a context of its own, so no session leaks from one test into the next."""
    page = new_context().new_page()
    browser_problems.watch(page)  # in case the context's "page" event comes after new_page returns
    return page
