""""View on <network>": a published post links to where its network shows it, on the post page and the calendar."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from webapp import posts as rules
from webapp.extensions import db
from webapp.models import Network, Post, PostStatus, Role

from . import factories
from .html import HTMX, Html

BLUESKY_URL = "https://bsky.app/profile/maya.example.com/post/3kq2abc"
# What a network (or a bad row) might store that must never become a link.
NOT_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/post",
    "/g/1/posts/1",
    "https://",
    "https:///no-host",
    "http://[broken",
    "https://bsky.app/post/\x07x",
    "https://bsky.app/post/a b",
]


@pytest.fixture
def agency(app):
    """Maya's group with a Bluesky profile, a manager there, and Maya's posts of yesterday."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    bluesky = factories.make_profile(factories.make_social_set(maya), Network.BLUESKY, handle="maya.example.com")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager")
    db.session.commit()
    return dict(account=account, maya=maya, bluesky=bluesky, manager=manager)


def yesterday() -> datetime:
    return (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def post_of(agency, url: str | None, status: PostStatus = PostStatus.PUBLISHED, caption: str = "Out now") -> Post:
    post = Post(social_profile_id=agency["bluesky"].id, access_group_id=agency["maya"].id, caption=caption,
                status=status.value, scheduled_at=yesterday(), external_url=url,
                published_at=yesterday() if status is PostStatus.PUBLISHED else None)
    db.session.add(post)
    db.session.commit()
    return post


VIEW_ON = re.compile(r"^View on ")


def view_links(page: Html) -> list:
    return page.all_by_role("link", VIEW_ON)


def assert_opens_in_a_new_tab(link, url: str) -> None:
    assert link.attributes["href"] == url
    assert link.attributes["target"] == "_blank"
    assert set(link.attributes["rel"].split()) >= {"noopener", "noreferrer"}


def hrefs(page: Html) -> list[str]:
    return [node.attributes.get("href") or "" for node in page.css("a")]


# --- the rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [BLUESKY_URL, "http://mastodon.example/@maya/1", "HTTPS://bsky.app/x"])
def test_a_published_posts_web_address_is_its_public_url(url):
    assert rules.public_url(Post(status=PostStatus.PUBLISHED.value, external_url=url)) == url


@pytest.mark.parametrize("url", NOT_LINKS + ["https://bsky.app/post/\x00x", None, ""])
def test_anything_but_a_web_address_is_no_public_url(url):
    assert rules.public_url(Post(status=PostStatus.PUBLISHED.value, external_url=url)) is None


@pytest.mark.parametrize("status", [status for status in PostStatus if status is not PostStatus.PUBLISHED])
def test_a_post_not_published_has_no_public_url(status):
    assert rules.public_url(Post(status=status.value, external_url=BLUESKY_URL)) is None


# --- the post page ----------------------------------------------------------------------------------


def post_page(client, agency, post) -> Html:
    response = client.get(f"/g/{agency['maya'].id}/posts/{post.id}")
    assert response.status_code == 200
    return Html(response)


def test_the_post_page_links_to_the_published_post_beside_its_status(agency, auth, client):
    post = post_of(agency, BLUESKY_URL)
    auth.login(agency["manager"])
    page = post_page(client, agency, post)
    link = page.by_role("link", "View on Bluesky (opens in a new tab)")
    assert_opens_in_a_new_tab(link, BLUESKY_URL)
    # It sits with the status, in the page's heading part.
    status_line = page.by_text("Published", "[data-testid=post-status]").parent
    assert link.parent == status_line


def test_the_post_page_has_no_link_without_an_address_or_before_publishing(agency, auth, client):
    sandboxed = post_of(agency, None)
    scheduled = post_of(agency, BLUESKY_URL, PostStatus.SCHEDULED)
    auth.login(agency["manager"])
    for post in (sandboxed, scheduled):
        page = post_page(client, agency, post)
        assert view_links(page) == [] and BLUESKY_URL not in hrefs(page)


@pytest.mark.parametrize("url", NOT_LINKS)
def test_the_post_page_never_links_a_stored_address_that_is_not_a_web_address(agency, auth, client, url):
    post = post_of(agency, url)
    auth.login(agency["manager"])
    page = post_page(client, agency, post)
    assert view_links(page) == []
    assert not [href for href in hrefs(page) if "script:" in href.lower() or href.startswith("data:")]


# --- the calendar -----------------------------------------------------------------------------------


def calendar(client, agency, query: str, headers=None) -> Html:
    response = client.get(f"/g/{agency['maya'].id}/calendar?{query}", headers=headers or {})
    assert response.status_code == 200
    return Html(response)


def card(page: Html, post) -> Html:
    return page.within(page.one(f"#post-{post.id}"))


CALENDAR_VIEWS = {
    "month": lambda day: f"view=month&date={day.isoformat()}",
    "week": lambda day: f"view=week&date={day.isoformat()}",
    "day": lambda day: f"view=day&date={day.isoformat()}",
    "list": lambda day: "view=list&when=past",
}


@pytest.mark.parametrize("view", sorted(CALENDAR_VIEWS))
def test_every_calendar_view_links_a_published_card_to_its_network(agency, auth, client, view):
    published = post_of(agency, BLUESKY_URL, caption="On Bluesky")
    sandboxed = post_of(agency, None, caption="In the sandbox")
    auth.login(agency["manager"])
    page = calendar(client, agency, CALENDAR_VIEWS[view](yesterday().date()))
    # Named for its post among the many cards ("View on Bluesky the post of @maya.example.com at 12:00 UTC").
    link = card(page, published).by_role(
        "link", re.compile(r"^View on Bluesky the post of @maya\.example\.com at .+ \(opens in a new tab\)$"))
    assert_opens_in_a_new_tab(link, BLUESKY_URL)
    assert view_links(card(page, sandboxed)) == []


def test_the_list_views_next_page_links_its_cards_too(agency, auth, client):
    published = post_of(agency, BLUESKY_URL)
    auth.login(agency["manager"])
    page = calendar(client, agency, "view=list&when=past&cursor=2999-01-01T00:00:00%2B00:00~1", HTMX)
    assert_opens_in_a_new_tab(card(page, published).by_role("link", VIEW_ON), BLUESKY_URL)


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", " javascript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>"])
def test_the_calendar_never_links_a_stored_address_that_is_not_a_web_address(agency, auth, client, url):
    post = post_of(agency, url)
    auth.login(agency["manager"])
    for query in (make(yesterday().date()) for make in CALENDAR_VIEWS.values()):
        page = calendar(client, agency, query)
        assert view_links(card(page, post)) == []
        assert not [href for href in hrefs(page) if "script:" in href.lower() or href.startswith("data:")]
