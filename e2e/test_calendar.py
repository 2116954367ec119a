"""The calendar in a browser: the month view, moving between months, a busy day's whole list, dragging
a post to another day, and the keyboard's Reschedule dialog."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import delete, select

from webapp.calendar import DAY_LIMIT
from webapp.extensions import db
from webapp.models import Network, Post, PostStatus, SocialProfile

from .conftest import LiveServer
from .helpers import sign_in

MANAGER = "sam@northstar.example"  # works in Maya Lopez's group
TALL = {"width": 1280, "height": 1600}  # the whole month in view, so a drag needs no scrolling


@dataclass(frozen=True)
class OwnPost:
    id: int
    group_id: int
    caption: str
    day: date


@pytest.fixture
def own_post(live_server: LiveServer) -> Iterator[OwnPost]:
    """A post of this test alone, on Maya's TikTok three days from now at 09:30 (the demo account's zone is UTC).

    The server is shared by every browser test, so the demo posts stay where they are; this one is
    deleted afterwards.
    """
    caption = f"Calendar test {uuid.uuid4().hex[:8]}"
    day = (datetime.now(timezone.utc) + timedelta(days=3)).date()
    with live_server.app.app_context():
        profile = db.session.scalar(select(SocialProfile).where(
            SocialProfile.handle == "mayalopez", SocialProfile.network == Network.TIKTOK.value))
        post = Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=caption,
                    status=PostStatus.SCHEDULED.value, scheduled_at=datetime.combine(day, time(9, 30), timezone.utc))
        db.session.add(post)
        db.session.flush()
        made = OwnPost(post.id, profile.access_group_id, caption, day)
        db.session.commit()
        db.session.remove()
    yield made
    with live_server.app.app_context():
        db.session.execute(delete(Post).where(Post.id == made.id))
        db.session.commit()
        db.session.remove()


def stored_time(live_server: LiveServer, post: OwnPost) -> datetime:
    with live_server.app.app_context():
        scheduled_at = db.session.scalar(select(Post.scheduled_at).where(Post.id == post.id))
        db.session.remove()
    return scheduled_at


def beside(day: date) -> date:
    """Another day in the same week (so in the same month grid), still in the future."""
    return day - timedelta(days=1) if day.weekday() == 6 else day + timedelta(days=1)


def posts_on(page: Page, day: date) -> Locator:
    return page.get_by_role("list", name=f"Posts on {day:%A} {day.day} {day:%B %Y}", exact=True)


def post_card(page: Page, day: date, caption: str) -> Locator:
    return posts_on(page, day).get_by_role("listitem").filter(has_text=caption)


def calendar_title(page: Page) -> Locator:
    return page.locator("#calendar-title")


def open_month_of(page: Page, post: OwnPost) -> None:
    page.goto(f"/g/{post.group_id}/calendar?view=month&date={post.day.isoformat()}")
    expect(calendar_title(page)).to_have_text(f"{post.day:%B %Y}")


def card_in_its_month(page: Page, post: OwnPost) -> Locator:
    """Sign in as the manager, open the month of `post` and find its card."""
    sign_in(page, MANAGER)
    open_month_of(page, post)
    return post_card(page, post.day, post.caption)


def month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=31)).replace(day=1)


def month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def tall_page(new_context, browser_problems) -> Page:
    page = new_context(viewport=TALL).new_page()
    browser_problems.watch(page)
    return page


def test_the_month_view_shows_the_posts_and_moves_between_months(tall_page: Page, own_post: OwnPost):
    page = tall_page
    sign_in(page, MANAGER)
    page.goto(f"/g/{own_post.group_id}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page).to_have_url(re.compile(rf"/g/{own_post.group_id}/calendar$"))
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()
    this_month = datetime.now(timezone.utc).date()
    expect(calendar_title(page)).to_have_text(f"{this_month:%B %Y}")
    expect(page.locator(".day.today")).to_contain_text("Today")

    # Previous, Next and Today swap the calendar without loading the page again, and push the URL.
    page.evaluate("window.calendarTestMarker = true")
    page.get_by_role("link", name="Next month").click()
    expect(calendar_title(page)).to_have_text(f"{month_after(this_month):%B %Y}")
    expect(page).to_have_url(re.compile(rf"\?view=month&date={month_after(this_month).isoformat()}$"))
    page.get_by_role("link", name="Previous month").click()
    expect(calendar_title(page)).to_have_text(f"{this_month:%B %Y}")
    page.get_by_role("link", name="Previous month").click()
    expect(calendar_title(page)).to_have_text(f"{month_before(this_month):%B %Y}")
    page.get_by_role("link", name="Today", exact=True).click()
    expect(calendar_title(page)).to_have_text(f"{this_month:%B %Y}")
    expect(page).to_have_url(re.compile(r"\?view=month$"))
    assert page.evaluate("window.calendarTestMarker") is True
    page.go_back()
    expect(calendar_title(page)).to_have_text(f"{month_before(this_month):%B %Y}")

    # Each post shows its profile, time, caption, status and the thumbnail of its first attachment.
    open_month_of(page, own_post)
    card = post_card(page, own_post.day, own_post.caption)
    expect(card).to_contain_text("09:30")
    expect(card).to_contain_text("TikTok @mayalopez")
    expect(card).to_contain_text("Scheduled")
    thumbnail = page.locator("#calendar img.post-thumb").first
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    card.locator("a.post-link").click()
    expect(page).to_have_url(re.compile(rf"/g/{own_post.group_id}/posts/{own_post.id}$"))


@pytest.fixture
def busy_day(live_server: LiveServer) -> Iterator[tuple[int, date, list[str]]]:
    """Nine posts of this test alone on one day of a far month, an hour apart; deleted afterwards."""
    day = date(2033, 5, 3 + uuid.uuid4().int % 20)
    captions = [f"Busy {n} {uuid.uuid4().hex[:6]}" for n in range(9)]
    with live_server.app.app_context():
        profile = db.session.scalar(select(SocialProfile).where(
            SocialProfile.handle == "mayalopez", SocialProfile.network == Network.TIKTOK.value))
        posts = [Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=caption,
                      status=PostStatus.SCHEDULED.value, scheduled_at=datetime.combine(day, time(8 + n), timezone.utc))
                 for n, caption in enumerate(captions)]
        db.session.add_all(posts)
        db.session.commit()
        made = (profile.access_group_id, day, captions)
        ids = [post.id for post in posts]
        db.session.remove()
    yield made
    with live_server.app.app_context():
        db.session.execute(delete(Post).where(Post.id.in_(ids)))
        db.session.commit()
        db.session.remove()


def test_a_busy_day_shows_its_count_and_its_more_link_lists_every_post(tall_page: Page, busy_day):
    group_id, day, captions = busy_day
    page = tall_page
    sign_in(page, MANAGER)
    page.goto(f"/g/{group_id}/calendar?view=month&date={day.isoformat()}")
    cell = page.locator(f'li.day[data-date="{day.isoformat()}"]')
    expect(cell.locator(".day-count")).to_have_text("9 posts")
    expect(posts_on(page, day).get_by_role("listitem")).to_have_count(DAY_LIMIT)
    cell.get_by_role("link", name=re.compile(rf"^{9 - DAY_LIMIT} more")).click()

    expect(calendar_title(page)).to_have_text(f"{day:%A} {day.day} {day:%B %Y}")
    expect(page).to_have_url(re.compile(rf"\?view=day&date={day.isoformat()}$"))
    expect(page.get_by_text("9 posts this day")).to_be_visible()
    listed = page.get_by_role("list", name=f"Posts on {day:%A} {day.day} {day:%B %Y}")
    expect(listed.locator("li.calendar-post")).to_have_count(9)
    expect(listed.locator("li.calendar-post").last).to_contain_text(captions[-1])
    page.get_by_role("link", name="Next day").click()
    expect(page.get_by_text("No posts this day.")).to_be_visible()


def test_dragging_a_post_to_another_day_reschedules_it(tall_page: Page, own_post: OwnPost, live_server):
    page = tall_page
    card = card_in_its_month(page, own_post)
    target = beside(own_post.day)
    card.drag_to(posts_on(page, target), steps=20)

    expect(page.get_by_text(f"Moved the TikTok post of @mayalopez to {target:%a} {target.day} {target:%b %Y}, 09:30 UTC.")
           ).to_be_visible()
    expect(post_card(page, target, own_post.caption)).to_contain_text("09:30")
    expect(post_card(page, own_post.day, own_post.caption)).to_have_count(0)
    page.reload()
    expect(post_card(page, target, own_post.caption)).to_be_visible()
    assert stored_time(live_server, own_post) == datetime.combine(target, time(9, 30), timezone.utc)


def test_the_reschedule_form_moves_a_post_without_a_mouse(tall_page: Page, own_post: OwnPost, live_server):
    page = tall_page
    card = card_in_its_month(page, own_post)
    target = beside(own_post.day)
    card.get_by_role("link", name=re.compile("^Reschedule")).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reschedule the TikTok post of @mayalopez")
    expect(dialog.get_by_label("Date")).to_be_focused()
    page.keyboard.type(f"{target:%m%d%Y}")
    dialog.get_by_label("Time", exact=False).fill("11:45")
    dialog.get_by_label("Time", exact=False).press("Enter")

    moved = post_card(page, target, own_post.caption)
    expect(moved).to_contain_text("11:45")
    expect(moved.locator("a.post-link")).to_be_focused()
    assert stored_time(live_server, own_post) == datetime.combine(target, time(11, 45), timezone.utc)


def test_a_refused_move_says_why_and_the_post_stays(tall_page: Page, own_post: OwnPost, live_server,
                                                     browser_problems):
    browser_problems.expect_status(422)
    page = tall_page
    card = card_in_its_month(page, own_post)
    card.get_by_role("link", name=re.compile("^Reschedule")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Date").fill((own_post.day - timedelta(days=7)).isoformat())
    dialog.get_by_role("button", name="Move").click()

    expect(page.get_by_role("alert")).to_have_text("Choose a time in the future.")
    expect(post_card(page, own_post.day, own_post.caption)).to_contain_text("09:30")
    assert stored_time(live_server, own_post) == datetime.combine(own_post.day, time(9, 30), timezone.utc)
