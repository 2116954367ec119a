"""Posts in a browser: an agent schedules a post that needs approval, the client approves it from the email."""
from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from webapp import posts as rules
from webapp.extensions import db
from webapp.models import Comment, Post, PostStatus, SocialProfile

from .helpers import sign_in


def review_link(message) -> str:
    """The review link in an approval email's plain-text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://\S+/review/\S+", text).group(0)


def wait_for_subject(mailbox, address: str, start: str, timeout: float = 10) -> None:
    """Wait until a message to `address` whose subject starts with `start` has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m["To"] == address and m["Subject"].startswith(start) for m in list(mailbox.messages)):
            return
        mailbox.deliver_queued()
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} starting {start!r} arrived")


def approval_profile(live_server, group: str) -> SocialProfile:
    """The group's profile that needs client approval (the creator approves it, in the demo)."""
    with live_server.app.app_context():
        profile = db.session.scalar(select(SocialProfile).where(
            SocialProfile.access_group_id == live_server.group_id(group), SocialProfile.needs_approval.is_(True)))
        db.session.expunge(profile)
        db.session.remove()
    return profile


def test_an_agent_schedules_a_post_the_client_approves_from_the_email(
    page: Page, new_context, live_server, smtp_server, browser_problems
):
    """Composer → pending → the approver's email → feedback, then approval, without signing in → history."""
    caption = f"Tour dates are out! {uuid.uuid4().hex[:6]}"
    profile = approval_profile(live_server, "Jonah Reed")
    group_id = live_server.group_id("Jonah Reed")
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{group_id}/posts/new")
    page.get_by_role("checkbox", name=re.compile(f"@{profile.handle}")).first.check()
    page.get_by_label("Caption").fill(caption)
    expect(page.locator("#caption-count")).to_contain_text(f"{len(caption)} / ")
    page.get_by_role("checkbox", name="jonah-shoot-1.jpg").check()  # Instagram needs an image or a video
    day = (datetime.now(timezone.utc) + timedelta(days=3)).date()
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time").fill("11:45")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text(re.compile(r"^Sent to .+ for approval\.$"))).to_be_visible()
    expect(page.get_by_test_id("post-status")).to_have_text("Awaiting approval")
    post_url = page.url

    mail = smtp_server.wait_for("jonah@northstar.example")
    assert mail["Subject"].endswith("waiting for your approval")
    link = review_link(mail)

    # The approver opens the link in a browser that never signed in: the token leaves the URL.
    reviewer = new_context().new_page()
    browser_problems.watch(reviewer)
    reviewer.goto(link)
    expect(reviewer).to_have_url(re.compile(r"/review$"))
    article = reviewer.get_by_role("article").filter(has_text=caption)
    expect(article).to_be_visible()
    article = reviewer.locator(f"article#{article.get_attribute('id')}")  # its text changes once decided
    article.get_by_text("Feedback", exact=True).click()
    article.get_by_label("Your feedback").fill("Add the Berlin date")
    article.get_by_role("button", name="Send feedback").click()
    expect(article.get_by_text("Feedback sent")).to_be_visible()  # in place, with Undo
    reviewer.reload()
    expect(article.get_by_text("Add the Berlin date")).to_be_visible()
    article.get_by_role("button", name="Approve").click()
    expect(article.get_by_text("Approved — will publish")).to_be_visible()
    reviewer.reload()
    expect(reviewer.get_by_text("You approved it")).to_be_visible()

    # Opening the link again decides nothing more: the post stays approved, nothing is pending.
    reviewer.goto(link)
    with live_server.app.app_context():
        status = db.session.scalar(select(Post.status).where(Post.caption == caption))
        db.session.remove()
    assert status == "approved"

    # The agent sees the decisions and the history on the post page, and was emailed about them.
    page.goto(post_url)
    expect(page.get_by_test_id("post-status")).to_have_text("Approved")
    decisions = page.get_by_role("list", name="Approval decisions")
    expect(decisions).to_contain_text("left feedback")
    expect(decisions).to_contain_text("Add the Berlin date")
    expect(decisions).to_contain_text("approved")
    expect(decisions).to_contain_text("(from the emailed link)")
    history = page.get_by_role("list", name="Status history")
    expect(history).to_contain_text("Sent for approval by Sam Okafor")
    expect(history).to_contain_text("Approved by Jonah Reed")
    wait_for_subject(smtp_server, "sam@northstar.example", "Jonah Reed approved your")


def test_a_client_comments_on_a_queued_post(page: Page, live_server, smtp_server):
    """The creator, a client, comments on a scheduled post; the comment shows and its author is emailed."""
    group_id = live_server.group_id("Leo Park")
    with live_server.app.app_context():
        post = db.session.scalars(select(Post).where(Post.access_group_id == group_id,
                                                      Post.status == "scheduled", Post.author_id.is_not(None))).first()
        post_id = post.id
        db.session.remove()
    text = f"Can we post this an hour later? {uuid.uuid4().hex[:6]}"
    sign_in(page, "leo@northstar.example")
    page.goto(f"/g/{group_id}/posts/{post_id}")
    page.get_by_label("Add a comment").fill(text)
    page.get_by_role("button", name="Comment").click()
    comments = page.locator("#comments")
    expect(comments.get_by_text(text)).to_be_visible()
    expect(comments).to_contain_text("Leo Park")
    expect(page.get_by_label("Add a comment")).to_have_value("")
    # Clients see the post but may not edit it.
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)


@pytest.fixture
def long_thread(live_server):
    """A post of Leo's with more comments than the post page and the first "Show all" page hold."""
    count = rules.LIST_PREVIEW + rules.LIST_PAGE_SIZE + 3
    group_id = live_server.group_id("Leo Park")
    start = datetime.now(timezone.utc) - timedelta(days=1)
    with live_server.app.app_context():
        profile = db.session.scalars(select(SocialProfile).where(SocialProfile.access_group_id == group_id)).first()
        post = Post(social_profile_id=profile.id, access_group_id=group_id, caption="A long thread",
                    status=PostStatus.DRAFT.value)
        db.session.add(post)
        db.session.flush()
        db.session.add_all(Comment(post_id=post.id, body=f"Thread comment {n:02}", created_at=start + timedelta(minutes=n))
                           for n in range(count))
        post_id = post.id
        db.session.commit()
        db.session.remove()
    yield group_id, post_id, count
    with live_server.app.app_context():
        db.session.execute(delete(Post).where(Post.id == post_id))
        db.session.commit()
        db.session.remove()


def test_show_all_loads_earlier_comments_in_place(page: Page, long_thread):
    """The post page shows the newest comments; "Show all" and then "Earlier comments" load the rest above them."""
    group_id, post_id, count = long_thread
    sign_in(page, "leo@northstar.example")
    page.goto(f"/g/{group_id}/posts/{post_id}")
    expect(page.get_by_role("heading", name=f"Comments ({count})")).to_be_visible()
    comments = page.get_by_role("list", name="Comments")
    rows = comments.locator(".comment-body")
    expect(rows).to_have_count(rules.LIST_PREVIEW)
    expect(rows.last).to_have_text(f"Thread comment {count - 1:02}")
    comments.get_by_role("link", name=f"Show all {count} comments").click()
    expect(rows).to_have_count(rules.LIST_PREVIEW + rules.LIST_PAGE_SIZE)
    expect(page).to_have_url(re.compile(rf"/posts/{post_id}$"))  # loaded in place, no new page
    comments.get_by_role("link", name="Earlier comments").click()
    expect(rows).to_have_count(count)
    expect(comments.get_by_role("link", name="Earlier comments")).to_have_count(0)
    expect(rows).to_have_text([f"Thread comment {n:02}" for n in range(count)])  # each once, oldest first
