"""Notifications in a browser: a client comments on a post, its author sees the bell, follows the
notification to the post, and the count clears."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Notification, Post, User, utcnow

from .helpers import sign_in, sign_out

SHOTS = Path("/tmp/shots")


def sams_post_in_mayas_group(live_server) -> tuple[int, int]:
    """A post Sam wrote in Maya's group, with Sam's earlier notifications all read."""
    group_id = live_server.group_id("Maya Lopez")
    with live_server.app.app_context():
        sam = db.session.scalar(select(User).where(User.email == "sam@northstar.example"))
        post_id = db.session.scalar(select(Post.id).where(Post.access_group_id == group_id,
                                                          Post.author_id == sam.id).order_by(Post.id).limit(1))
        db.session.execute(update(Notification).where(Notification.user_id == sam.id, Notification.read_at.is_(None))
                           .values(read_at=utcnow()))
        db.session.commit()
        db.session.remove()
    return group_id, post_id


def test_the_author_follows_the_bell_to_the_clients_comment(page: Page, new_context, live_server):
    group_id, post_id = sams_post_in_mayas_group(live_server)
    text = f"Could we use the sunset photo? {uuid.uuid4().hex[:6]}"
    sign_in(page, "maya@northstar.example")
    page.goto(f"/g/{group_id}/posts/{post_id}")
    page.get_by_label("Add a comment").fill(text)
    page.get_by_role("button", name="Comment").click()
    expect(page.locator("#comments").get_by_text(text)).to_be_visible()
    sign_out(page)

    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1366, 800)):
        author = new_context(viewport={"width": width, "height": height}).new_page()
        sign_in(author, "sam@northstar.example")
        bell = author.get_by_role("link", name="Notifications, 1 unread")
        expect(bell).to_be_visible()
        expect(bell).to_have_text("1")
        author.screenshot(path=str(SHOTS / f"notifications-bell-{width}.png"))
        bell.click()
        expect(author).to_have_url(re.compile(r"/notifications$"))
        item = author.get_by_role("list", name="Notifications, newest first").get_by_role(
            "link", name=re.compile("Maya Lopez commented on your"))
        expect(item.first).to_be_visible()
        expect(author.get_by_role("button", name="Mark all as read")).to_be_visible()
        author.screenshot(path=str(SHOTS / f"notifications-list-{width}.png"), full_page=True)
        assert author.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        if width == 390:
            continue  # the wide window follows it
        item.first.click()
        expect(author).to_have_url(re.compile(f"/g/{group_id}/posts/{post_id}$"))
        expect(author.locator("#comments").get_by_text(text)).to_be_visible()
        expect(author.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
        expect(author.get_by_test_id("bell")).to_have_text("")
        author.goto("/notifications")
        author.screenshot(path=str(SHOTS / "notifications-read-1366.png"), full_page=True)
        author.goto("/settings/notifications")
        author.screenshot(path=str(SHOTS / "notifications-settings-1366.png"), full_page=True)
        expect(author.get_by_role("radio", name="Email at once").first).to_be_checked()
