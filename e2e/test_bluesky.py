"""Bluesky in a browser: connect a profile with an app password, schedule a post, and see the worker
publish it to a real PDS (@atproto/pds 0.4.217 as @atproto/dev-env 0.3.215 runs it, tests/pds).

The AT Protocol HTTP API (XRPC) as Bluesky documents it (docs.bsky.app, 2025) is the contract; the
post is read back from the PDS with com.atproto.repo.listRecords.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import worker
from webapp.extensions import db
from webapp.models import Post, utcnow

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

REPO = Path(__file__).resolve().parent.parent
SAM = "sam@northstar.example"


@contextlib.contextmanager
def worker_beside(server: LiveServer, directory: Path) -> Iterator[Callable[[], None]]:
    """`flask roster worker` on the live server's database, as `make run` starts one beside the web
    server; yields what wakes it (rather than wait for the next minute)."""
    queue_path = directory / "queue.db"
    server.app.config["WORKER_QUEUE_PATH"] = str(queue_path)
    environment = {
        **os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": server.app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": server.app.config["SECRET_KEY"], "ROSTER_URL": server.url,
        "MEDIA_ROOT": server.app.config["MEDIA_ROOT"], "MAIL_OUTBOX": server.app.config["MAIL_OUTBOX"],
        "WORKER_QUEUE_PATH": str(queue_path),
    }
    log_path = directory / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "flask", "roster", "worker", "--threads", "1"], cwd=REPO,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield lambda: worker.wake(server.app)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log_path.read_text())  # shown when the test fails


def move_clock_to(server: LiveServer, caption: str) -> None:
    """The post's time has come: what the scheduler's clock would do by waiting, done at once."""
    with server.app.app_context():
        post = db.session.scalar(select(Post).where(Post.caption == caption))
        post.scheduled_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        db.session.remove()


def wait_for_status(page: Page, status: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while page.get_by_test_id("post-status").inner_text() != status and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(page.get_by_test_id("post-status")).to_have_text(status)


def test_a_manager_connects_bluesky_and_the_worker_publishes_the_scheduled_post(
        tmp_path, new_context, browser_problems, pds):
    browser_problems.expect_status(422)  # the wrong app password, answered on the form
    account = pds.create_account("maya")
    app_password = pds.create_app_password(account)
    caption = f"Tour dates are out: https://example.com/tour #mayalive {account.handle[-8:]}"
    with own_demo_server(tmp_path) as server, worker_beside(server, tmp_path) as wake:
        group_id = server.group_id("Maya Lopez")
        page = new_context(base_url=server.url).new_page()
        sign_in(page, SAM)

        # The Social Profiles page: the Bluesky slot of Maya Main offers Add Social Profile.
        page.goto(f"/g/{group_id}/profiles")
        page.get_by_role("button", name="Add Social Profile for Bluesky in Maya Main").click()
        expect(page.get_by_role("heading", name="Connect a Bluesky profile")).to_be_visible()
        expect(page.get_by_role("link", name="Make an app password on Bluesky")).to_have_attribute(
            "href", "https://bsky.app/settings/app-passwords")
        page.get_by_label("Handle").fill(account.handle)
        page.get_by_label("App password").fill("wrong-wrong-wrong-wrong")
        page.get_by_label("Server").fill(pds.url)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_text("Bluesky did not accept this handle and app password.")).to_be_visible()
        expect(page.get_by_label("Handle")).to_have_value(account.handle)
        expect(page.get_by_label("App password")).to_have_value("")
        page.get_by_label("App password").fill(app_password)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_text(f"Bluesky profile @{account.handle} connected to “Maya Main”.")).to_be_visible()
        expect(page).to_have_url(f"{server.url}/g/{group_id}/profiles")
        slot = page.get_by_role("list", name="Network slots of Maya Main").get_by_role("listitem").filter(
            has_text=re.compile(r"^\s*Bluesky\b"))
        expect(slot).to_contain_text(f"@{account.handle}")

        # The composer: a post for the new profile, scheduled for tomorrow noon.
        page.goto(f"/g/{group_id}/posts/new")
        page.get_by_role("checkbox", name=re.compile(re.escape(f"@{account.handle}"))).check()
        page.get_by_label("Caption").fill(caption)
        page.get_by_label("Date").fill((date.today() + timedelta(days=1)).isoformat())
        page.get_by_label("Time").fill("12:00")
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_test_id("post-status")).to_have_text("Scheduled")
        expect(page.get_by_role("link", name=re.compile(r"^View on Bluesky"))).to_have_count(0)

        move_clock_to(server, caption)
        wake()
        wait_for_status(page, "Published")

        [record] = pds.records(account.did)
        assert record["value"]["text"] == caption
        rkey = record["uri"].rsplit("/", 1)[1]
        expect(page.get_by_role("link", name=re.compile(r"^View on Bluesky"))).to_have_attribute(
            "href", f"https://bsky.app/profile/{account.handle}/post/{rkey}")
