"""Reviewing from an emailed link in a browser: the approver's email over real SMTP, the page without
signing in, feedback then approval, a GET that decides nothing, and an expired link.

The post waiting for approval is made through the live server's app (the composer has its own
tests): Sam, an agent, wrote it for Jonah Reed's Instagram profile, which needs Jonah's approval.
The test touches only the posts, media item and review links it makes, and removes them when it ends.
"""
from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from webapp import review
from webapp.extensions import db
from webapp.mail import send_pending
from webapp.models import ApprovalDecision, MediaItem, Membership, Post, PostStatus, ReviewLink, SocialProfile, User
from webapp.storage import media_storage

AGENT = "sam@northstar.example"
APPROVER = "jonah@northstar.example"
PHONE = {"width": 390, "height": 844}


class ReviewWorld:
    """Posts waiting for Jonah's approval, made and read through the live server's app."""

    def __init__(self, live_server) -> None:
        self.server = live_server
        self.app = live_server.app
        self.post_ids: list[int] = []
        self.media_ids: list[int] = []
        self.link_ids: list[int] = []

    def _user(self, email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    def pending_post(self, caption: str, with_image: bool = False) -> int:
        """A post by Sam for Jonah's profile that needs approval, waiting for it, in three days."""
        with self.app.app_context():
            sam, jonah = self._user(AGENT), self._user(APPROVER)
            profile = db.session.scalar(
                select(SocialProfile).where(SocialProfile.connected_by_id == jonah.id,
                                            SocialProfile.needs_approval.is_(True)).order_by(SocialProfile.id))
            post = Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, author_id=sam.id,
                        caption=caption, status=PostStatus.PENDING_APPROVAL.value, version=1,
                        scheduled_at=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3))
            if with_image:
                buffer = io.BytesIO()
                Image.new("RGB", (120, 80), "#059669").save(buffer, format="PNG")
                item = MediaItem(access_group_id=profile.access_group_id, uploaded_by_id=sam.id,
                                 name=f"review-{uuid.uuid4().hex[:8]}.png", kind="image", content_type="image/png",
                                 byte_size=len(buffer.getvalue()), width=120, height=80,
                                 storage_key=media_storage().save(buffer.getvalue(), ".png"))
                db.session.add(item)
                db.session.flush()
                self.media_ids.append(item.id)
                post.media_items = [item]
            db.session.add(post)
            db.session.commit()
            self.post_ids.append(post.id)
            post_id = post.id
            db.session.remove()
        return post_id

    def send_review_link(self) -> int:
        """Email Jonah his review link now, as Resend on a post page does (other tests on this server may
        have emailed him within the digest's wait), and deliver it; returns its id."""
        with self.app.test_request_context(base_url=self.server.url):
            jonah = self._user(APPROVER)
            account_id = db.session.scalar(select(Membership.account_id).where(Membership.user_id == jonah.id))
            link = review.resend(jonah, account_id, self._user(AGENT))
            db.session.commit()
            link_id = link.id
            send_pending()
            db.session.remove()
        if link_id not in self.link_ids:  # posts sent later join the approver's open link
            self.link_ids.append(link_id)
        return link_id

    def deliver_queued_mail(self) -> None:
        """Send what is still queued, as `flask mail send-pending` from cron does.

        The app sends mail once a response is closed, but the development server skips closing when
        the browser resets the connection after a redirect; the queue is the safety net for that.
        """
        with self.app.app_context():
            send_pending()
            db.session.remove()

    def expire(self, link_id: int) -> None:
        with self.app.app_context():
            db.session.get(ReviewLink, link_id).expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
            db.session.commit()
            db.session.remove()

    def status_and_decisions(self, post_id: int) -> tuple[str, list[tuple[str, str, bool]]]:
        """The post's status and its decisions: (decision, note, made through a link)."""
        with self.app.app_context():
            status = db.session.get(Post, post_id).status
            decisions = [(d.decision, d.note, d.review_link_id is not None) for d in db.session.scalars(
                select(ApprovalDecision).where(ApprovalDecision.post_id == post_id).order_by(ApprovalDecision.id))]
            db.session.remove()
        return status, decisions

    def clean_up(self) -> None:
        """Remove what the test made, so other tests sharing the server see the demo as it was."""
        with self.app.app_context():
            for post_id in self.post_ids:
                db.session.delete(db.session.get(Post, post_id))
            db.session.flush()
            for item_id in self.media_ids:
                db.session.delete(db.session.get(MediaItem, item_id))
            for link_id in self.link_ids:  # they also covered the demo's own pending post
                db.session.delete(db.session.get(ReviewLink, link_id))
            db.session.commit()
            db.session.remove()


@pytest.fixture
def review_world(live_server) -> Iterator[ReviewWorld]:
    world = ReviewWorld(live_server)
    yield world
    world.clean_up()


def mail_mentioning(smtp_server, to_address: str, text: str, timeout: float = 10):
    """The newest message to `to_address` whose plain text mentions `text`, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(smtp_server.messages):
            if message["To"] == to_address and text in message.get_body(("plain",)).get_content():
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to_address} mentioning {text!r} arrived within {timeout} seconds")


def mail_with_subject(smtp_server, review_world: ReviewWorld, to_address: str, subject: str, timeout: float = 10):
    """The message to `to_address` with `subject`, delivering the queue if it is not out yet."""
    review_world.deliver_queued_mail()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(smtp_server.messages):
            if message["To"] == to_address and message["Subject"] == subject:
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to_address} about {subject!r} arrived within {timeout} seconds")


def review_link_in(message) -> str:
    [link] = re.findall(r"https?://\S+/review/\S+", message.get_body(("plain",)).get_content())
    return link


def test_the_approver_reviews_from_the_emailed_link_without_signing_in(new_context, live_server, smtp_server,
                                                                        review_world, browser_problems):
    """Email → fresh phone browser → clean /review → feedback → approve; opening the link again decides nothing;
    a second link, once expired, opens a clear page."""
    caption = f"Studio session recap {uuid.uuid4().hex[:6]}, swipe for the bloopers"
    post_id = review_world.pending_post(caption, with_image=True)
    review_world.send_review_link()
    message = mail_mentioning(smtp_server, APPROVER, caption[:40])
    assert message["Subject"].endswith("waiting for your approval")
    link = review_link_in(message)

    # Jonah opens the link on his phone, not signed in: the token leaves the address bar.
    their = new_context(viewport=PHONE).new_page()
    response = their.goto(link)
    expect(their).to_have_url(f"{live_server.url}/review")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    expect(their.get_by_role("heading", name="Posts waiting for your approval")).to_be_visible()
    expect(their.get_by_role("navigation", name="Main")).to_have_count(0)  # no app shell, no sidebar
    post = their.locator(f"article#post-{post_id}")
    expect(post.get_by_role("heading", name="Instagram @jonahreed")).to_be_visible()
    expect(post.get_by_text(caption)).to_be_visible()
    image = post.get_by_role("img")
    expect(image).to_be_visible()
    their.wait_for_function("image => image.complete && image.naturalWidth === 120", arg=image.element_handle())

    # Feedback first: the post keeps waiting; the card says so in place, with Undo.
    post.get_by_text("Feedback", exact=True).click()
    expect(post.get_by_text("The post stays waiting; its author is asked to change it.")).to_be_visible()
    post.get_by_label("Your feedback").fill("Lovely. Could the first slide be the group shot?")
    post.get_by_role("button", name="Send feedback").click()
    expect(post.get_by_text("Feedback sent")).to_be_visible()
    expect(post.get_by_role("button", name="Undo")).to_be_visible()
    their.reload()
    expect(post.get_by_text("Could the first slide be the group shot?")).to_be_visible()
    assert review_world.status_and_decisions(post_id) == (
        PostStatus.PENDING_APPROVAL.value, [("feedback", "Lovely. Could the first slide be the group shot?", True)])
    mail_with_subject(smtp_server, review_world, AGENT, "Jonah Reed left feedback on your Instagram post")

    # Then approve: the post leaves the waiting list and shows under Decided.
    post.get_by_role("button", name="Approve").click()
    expect(post.get_by_text("Approved — will publish")).to_be_visible()
    their.reload()
    expect(their.get_by_role("article").filter(has_text=caption)).to_have_count(0)
    decided = their.get_by_role("region", name="Decided")
    expect(decided.get_by_role("listitem").filter(has_text=caption)).to_contain_text("You approved it.")
    decided_state = review_world.status_and_decisions(post_id)
    assert decided_state[0] == PostStatus.APPROVED.value
    assert [d[0] for d in decided_state[1]] == ["feedback", "approve"]
    mail_with_subject(smtp_server, review_world, AGENT, "Jonah Reed approved your Instagram post")

    # Opening the emailed link again, as a mail scanner would, decides nothing more.
    fetched = their.request.get(link)
    assert fetched.ok
    their.goto(link)
    expect(their).to_have_url(f"{live_server.url}/review")
    assert review_world.status_and_decisions(post_id) == decided_state

    # A new post joins the same link (no new email within the digest's wait); expired, it opens a clear page.
    second_caption = f"Giveaway details {uuid.uuid4().hex[:6]}"
    review_world.pending_post(second_caption)
    second_link_id = review_world.send_review_link()
    assert second_link_id == review_world.link_ids[0]
    second_link = link
    review_world.expire(second_link_id)
    browser_problems.expect_status(410)
    later = new_context(viewport=PHONE).new_page()
    expired = later.goto(second_link)
    assert expired.status == 410
    expect(later.get_by_role("heading", name="This review link has expired")).to_be_visible()
    expect(later.get_by_text("Ask the agency that sent it for a new link.")).to_be_visible()
    expect(later.get_by_role("article")).to_have_count(0)
