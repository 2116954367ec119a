"""A post scheduled a minute ahead publishes by itself on a server started the way `make run` starts it."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from .conftest import own_database
from .helpers import sign_in

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAM = "sam@northstar.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def started_like_make_run(directory: Path, database_url: str) -> Iterator[str]:
    """`make run`'s steps: migrate, seed the demo, then the Procfile's web server and worker together."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "FLASK_APP": "wsgi", "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-make-run", "ROSTER_URL": url, "ROSTER_PORT": str(port),
        "MEDIA_ROOT": str(directory / "media"), "MAIL_OUTBOX": str(directory / "outbox"),
        "WORKER_QUEUE_PATH": str(directory / "queue.db"),
    }
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([BIN / "flask", *step], cwd=REPO, env=environment, check=True, capture_output=True)
    log = (directory / "honcho.log").open("w")
    honcho = subprocess.Popen([BIN / "honcho", "start", "--no-colour", "-f", "Procfile"], cwd=REPO, env=environment,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or honcho.poll() is not None:
                    raise AssertionError((directory / "honcho.log").read_text())
                time.sleep(0.3)
        yield url
    finally:
        # Ctrl-C in the terminal: the whole group gets SIGINT, and both processes stop.
        os.killpg(honcho.pid, signal.SIGINT)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
        said = (directory / "honcho.log").read_text()
        assert "web.1 stopped" in said and "worker.1 stopped" in said, said


def next_whole_minute(zone: ZoneInfo, at_least: timedelta) -> datetime:
    """The first whole minute at least `at_least` from now, in `zone` (the composer's minutes)."""
    soon = datetime.now(timezone.utc) + at_least
    return (soon.replace(second=0, microsecond=0) + timedelta(minutes=1)).astimezone(zone)


@pytest.mark.long
def test_a_post_scheduled_a_minute_ahead_publishes_with_nothing_else_set_up(tmp_path, new_context):
    caption = f"Doors open at eight {uuid.uuid4().hex[:6]}"
    with own_database(tmp_path) as database_url, started_like_make_run(tmp_path, database_url) as url:
        engine = create_engine(database_url)
        with engine.connect() as connection:
            group_id, handle, zone = connection.execute(text(
                "SELECT p.access_group_id, p.handle, a.time_zone FROM social_profiles p "
                "JOIN access_groups g ON g.id = p.access_group_id JOIN accounts a ON a.id = g.account_id "
                "JOIN group_users gu ON gu.access_group_id = g.id JOIN users u ON u.id = gu.user_id "
                "WHERE NOT p.needs_approval AND u.email = :email ORDER BY p.id LIMIT 1"), {"email": SAM}).one()
        engine.dispose()
        page = new_context(base_url=url).new_page()
        sign_in(page, SAM)
        page.goto(f"/g/{group_id}/posts/new")
        page.get_by_role("checkbox", name=re.compile(f"@{re.escape(handle)}")).first.check()
        page.get_by_label("Caption").fill(caption)
        when = next_whole_minute(ZoneInfo(zone or "UTC"), at_least=timedelta(seconds=20))
        page.get_by_label("Date").fill(when.date().isoformat())
        page.get_by_label("Time").fill(when.strftime("%H:%M"))
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_test_id("post-status")).to_have_text("Scheduled")

        # Nobody runs a command: the worker `make run` started publishes it within a minute of its time.
        remaining = (when - datetime.now(timezone.utc)).total_seconds()
        deadline = time.monotonic() + max(remaining, 0) + 75
        while time.monotonic() < deadline:
            page.reload()
            if page.get_by_test_id("post-status").inner_text() == "Published":
                break
            time.sleep(3)
        expect(page.get_by_test_id("post-status")).to_have_text("Published")
        assert datetime.now(timezone.utc) >= when, "not before its time"
