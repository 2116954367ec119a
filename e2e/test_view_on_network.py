""""View on <network>" in a browser at 390 px: a published post's page and its calendar card open the post on
its network in a new tab, which cannot reach back into Roster."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.models import Network, Post, PostStatus, SocialProfile

from .conftest import LiveServer
from .helpers import sign_in
from .test_activity import axe_violations

PHONE = {"width": 390, "height": 844}
VIEW_ON_TIKTOK = re.compile(r"^View on TikTok")


@dataclass(frozen=True)
class PublishedPost:
    id: int
    group_id: int
    caption: str
    day: date
    url: str


@pytest.fixture
def published_post(live_server: LiveServer) -> Iterator[PublishedPost]:
    """A post of Maya's TikTok that went out yesterday at 10:00 (the demo account's zone is UTC), with the
    address TikTok gave it.

    The server is shared by every browser test; this post is deleted afterwards.
    """
    caption = f"Out on TikTok {uuid.uuid4().hex[:8]}"
    when = (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    with live_server.app.app_context():
        profile = db.session.scalar(select(SocialProfile).where(
            SocialProfile.handle == "mayalopez", SocialProfile.network == Network.TIKTOK.value))
        post = Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=caption,
                    status=PostStatus.PUBLISHED.value, scheduled_at=when, published_at=when,
                    external_id="7301234567890")
        db.session.add(post)
        db.session.flush()
        post.external_url = f"https://www.tiktok.com/@mayalopez/video/{7301234567890 + post.id}"
        made = PublishedPost(post.id, profile.access_group_id, caption, when.date(), post.external_url)
        db.session.commit()
        db.session.remove()
    yield made
    with live_server.app.app_context():
        db.session.execute(delete(Post).where(Post.id == made.id))
        db.session.commit()
        db.session.remove()


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


def opens_in_a_new_tab(page: Page, link: Locator, url: str) -> None:
    """The link opens `url` in a new tab that has no hold on this one (no opener) and is told nothing of it."""
    expect(link).to_be_visible()
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"(?=.*\bnoopener\b)(?=.*\bnoreferrer\b)"))
    with page.expect_popup() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == url
    assert tab.evaluate("window.opener === null && document.referrer === ''")
    tab.close()


def phone(new_context) -> Page:
    """A phone-sized page whose browser answers TikTok's addresses itself: the tests never go online."""
    context = new_context(viewport=PHONE)
    context.route("https://www.tiktok.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><title>TikTok</title><link rel=icon href='data:,'><p>The post on TikTok</p>"))
    return context.new_page()


def test_the_post_page_links_to_the_published_post_on_a_phone(new_context, published_post: PublishedPost):
    page = phone(new_context)
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{published_post.group_id}/posts/{published_post.id}")
    expect(page.get_by_test_id("post-status")).to_have_text("Published")
    link = page.get_by_role("link", name="View on TikTok (opens in a new tab)")
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    opens_in_a_new_tab(page, link, published_post.url)


def test_the_calendar_card_links_to_the_published_post_on_a_phone(new_context, published_post: PublishedPost):
    page = phone(new_context)
    sign_in(page, "sam@northstar.example")
    for query in (f"view=month&date={published_post.day.isoformat()}", "view=list&when=past"):
        page.goto(f"/g/{published_post.group_id}/calendar?{query}")
        card = page.locator(f"#post-{published_post.id}")
        expect(card).to_contain_text(published_post.caption)
        link = card.get_by_role("link", name=VIEW_ON_TIKTOK)
        expect(link).to_have_accessible_name(re.compile(
            r"^View on TikTok the post of @mayalopez at 10:00 UTC \(opens in a new tab\)$"))
        assert no_sideways_scroll(page)
        opens_in_a_new_tab(page, link, published_post.url)
        # Other published posts of the demo went out in the sandbox, which gives no address: no link.
        expect(page.get_by_role("link", name=re.compile(r"^View on "))).to_have_count(1)
