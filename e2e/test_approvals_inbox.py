"""Approvals as a client expects, in a browser: three posts scheduled in a row send the approver one
email with one link; the creator signs in, opens "Waiting for your approval" from the sidebar, approves,
gives feedback, rejects, and undoes a decision, each card changing in place.

The test works in Leo Park's group (Ivy, a manager, writes for it; Leo approves its first profile). The
demo's own posts waiting for Leo are set aside as drafts while it runs and put back afterwards.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select, update

from webapp.extensions import db
from webapp.models import Post, PostStatus, ReviewLink, User

from .helpers import sign_in
from .test_posts import approval_profile

AGENT = "ivy@northstar.example"
APPROVER = "leo@northstar.example"
GROUP = "Leo Park"
SHOTS = Path("/tmp/shots")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 800}}


@pytest.fixture
def leos_queue(live_server) -> Iterator[dict]:
    """Nothing waits for Leo when the test starts; what the test made goes, and the demo's posts come back."""
    app = live_server.app
    profile = approval_profile(live_server, GROUP)
    with app.app_context():
        leo = db.session.scalar(select(User).where(User.email == APPROVER))
        set_aside = list(db.session.scalars(select(Post.id).where(
            Post.social_profile_id == profile.id, Post.status == PostStatus.PENDING_APPROVAL.value)))
        if set_aside:
            db.session.execute(update(Post).where(Post.id.in_(set_aside)).values(status=PostStatus.DRAFT.value))
        before = set(db.session.scalars(select(Post.id).where(Post.social_profile_id == profile.id)))
        db.session.commit()
        leo_id = leo.id
        db.session.remove()
    yield {"profile": profile, "leo_id": leo_id}
    with app.app_context():
        made = [post_id for post_id in db.session.scalars(
            select(Post.id).where(Post.social_profile_id == profile.id)) if post_id not in before]
        if made:
            db.session.execute(delete(Post).where(Post.id.in_(made)))
        db.session.execute(delete(ReviewLink).where(ReviewLink.reviewer_id == leo_id))
        if set_aside:
            db.session.execute(update(Post).where(Post.id.in_(set_aside))
                               .values(status=PostStatus.PENDING_APPROVAL.value))
        db.session.commit()
        db.session.remove()


def statuses(live_server, captions: list[str]) -> dict[str, str]:
    with live_server.app.app_context():
        found = dict(db.session.execute(select(Post.caption, Post.status).where(Post.caption.in_(captions))).all())
        db.session.remove()
    return found


def shoot(page: Page, name: str) -> None:
    """Screenshots of the page at a phone's and a laptop's size, in /tmp/shots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{size_name}.png"), full_page=True)
        # No sideways scrolling at either size.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size_name


def test_three_posts_one_email_then_the_creator_decides_from_the_waiting_page(
    page: Page, new_context, live_server, smtp_server, leos_queue, browser_problems
):
    profile = leos_queue["profile"]
    group_id = live_server.group_id(GROUP)
    tag = uuid.uuid4().hex[:6]
    captions = [f"Road trip vlog {tag}", f"Merch drop teaser {tag}", f"Studio Q&A {tag}"]
    day = (datetime.now(timezone.utc) + timedelta(days=4)).date()

    # Ivy schedules three posts in a row; each needs Leo's approval.
    sign_in(page, AGENT)
    for number, caption in enumerate(captions):
        page.goto(f"/g/{group_id}/posts/new")
        page.get_by_role("checkbox", name=re.compile(f"@{profile.handle} Needs approval")).check()
        page.get_by_label("Caption").fill(caption)
        page.get_by_label("Date").fill(day.isoformat())
        page.get_by_label("Time").fill(f"1{number}:30")
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_text("Sent to Leo Park for approval.")).to_be_visible()

    # One email with one link, listing the first post; the others wait for the digest.
    message = smtp_server.wait_for(APPROVER)
    time.sleep(0.5)
    smtp_server.deliver_queued()
    to_leo = [m for m in smtp_server.messages if m["To"] == APPROVER]
    assert len(to_leo) == 1, [m["Subject"] for m in to_leo]
    assert message["Subject"] == "1 post is waiting for your approval"
    text = message.get_body(("plain",)).get_content()
    assert len(re.findall(r"https?://\S+/review/\S+", text)) == 1
    assert captions[0] in text

    # Leo signs in and opens "Waiting for your approval" from the sidebar.
    leo = new_context(viewport=SIZES["desktop"]).new_page()
    browser_problems.watch(leo)
    sign_in(leo, APPROVER)
    entry = leo.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("Waiting for your approval"))
    expect(entry).to_contain_text("3")
    entry.click()
    expect(leo.get_by_role("heading", name="Waiting for your approval", level=1)).to_be_visible()
    cards = leo.locator("article.approval-card")
    expect(cards).to_have_count(3)
    shoot(leo, "waiting")
    leo.set_viewport_size(SIZES["desktop"])

    def card(caption: str):
        return leo.locator("article.approval-card").filter(has=leo.get_by_text(caption))

    approve_card, feedback_card, reject_card = (card(c) for c in captions)
    ids = [c.get_attribute("id") for c in (approve_card, feedback_card, reject_card)]
    approve_card, feedback_card, reject_card = (leo.locator(f"article#{i}") for i in ids)

    # Approve: the card says when it will publish, and keeps its height.
    height = approve_card.bounding_box()["height"]
    approve_card.get_by_role("button", name=re.compile("^Approve")).click()
    expect(approve_card.get_by_text("Approved — will publish")).to_be_visible()
    assert abs(approve_card.bounding_box()["height"] - height) < 2
    expect(leo.locator("#waiting-count")).to_contain_text("2")

    # Feedback: explained where it appears; the post keeps waiting.
    feedback_card.get_by_text("Feedback", exact=True).click()
    expect(feedback_card.get_by_text("The post stays waiting; its author is asked to change it.")).to_be_visible()
    feedback_card.get_by_label("Your feedback").fill("Could the thumbnail show the van?")
    feedback_card.get_by_role("button", name="Send feedback").click()
    expect(feedback_card.get_by_text("Feedback sent")).to_be_visible()

    # Reject with a reason, then undo it: the card is back as it was.
    reject_card.get_by_text("Reject", exact=True).click()
    reject_card.get_by_label("Why reject it?").fill("Not this week, please.")
    reject_card.get_by_role("button", name="Reject post").click()
    expect(reject_card.get_by_text("Rejected")).to_be_visible()
    assert statuses(live_server, captions)[captions[2]] == PostStatus.REJECTED.value
    reject_card.get_by_role("button", name="Undo").click()
    expect(reject_card.get_by_text("Decision undone")).to_be_visible()
    expect(reject_card.get_by_role("button", name=re.compile("^Approve"))).to_be_visible()

    shoot(leo, "waiting-decided")
    leo.set_viewport_size(SIZES["desktop"])
    assert statuses(live_server, captions) == {
        captions[0]: PostStatus.APPROVED.value,
        captions[1]: PostStatus.PENDING_APPROVAL.value,
        captions[2]: PostStatus.PENDING_APPROVAL.value,
    }

    # Ivy's post page lists Leo once, with when he was emailed, Resend and Revoke.
    page.goto(f"/g/{group_id}/posts/{ids[1].split('-')[1]}")
    links = page.get_by_role("list", name="Review links")
    expect(links.get_by_role("listitem")).to_have_count(1)
    expect(links).to_contain_text("Leo Park")
    expect(links).to_contain_text("emailed ")
    expect(links.get_by_role("button", name="Resend to Leo Park")).to_be_visible()
    shoot(page, "post-review-links")
    page.set_viewport_size(SIZES["desktop"])
    links.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("dialog", name="Revoke Leo Park's review link?")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # The Overview shows the same panel with what still waits in this group.
    leo.goto(f"/g/{group_id}/")
    panel = leo.get_by_role("region", name="Waiting for your approval")
    expect(panel.locator("article.approval-card")).to_have_count(2)
    shoot(leo, "overview")

    # Leo decides from the Overview's panel too: the still-waiting feedback post is approved in place.
    on_overview = panel.locator(f"article#{ids[1]}")
    on_overview.get_by_role("button", name=re.compile("^Approve")).click()
    expect(on_overview.get_by_text("Approved — will publish")).to_be_visible()
    assert statuses(live_server, captions)[captions[1]] == PostStatus.APPROVED.value
