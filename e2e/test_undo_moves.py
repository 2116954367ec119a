"""On a phone (390 × 844, touch): media selected with "Select" and a long press, moved, and brought back with
Undo; a calendar post dragged by finger onto a day's date number, and the move undone; a post let go outside
every day goes back with nothing saved."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.models import Network, Post, PostStatus, SocialProfile

from .conftest import LiveServer
from .helpers import sign_in
from .test_media import check_box, expect_count, image_file, media_count, open_library, selection_count, tile, \
    unique, upload

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
MANAGER = "sam@northstar.example"  # works in Maya Lopez's group; may add media to Jonah Reed's


@pytest.fixture
def phone(new_context, browser_problems) -> Page:
    page = new_context(**PHONE).new_page()
    browser_problems.watch(page)
    return page


def centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not on the page"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


class Finger:
    """One finger on the touch screen, sending the touch events a phone sends."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.session = page.context.new_cdp_session(page)

    def _touch(self, kind: str, x: float | None = None, y: float | None = None) -> None:
        points = [] if x is None else [{"x": x, "y": y}]
        self.session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def long_press(self, target: Locator, hold_ms: int = 800) -> None:
        x, y = centre(target)
        self._touch("touchStart", x, y)
        self.page.wait_for_timeout(hold_ms)
        self._touch("touchEnd")

    def press(self, source: Locator, hold_ms: int = 350) -> None:
        """Put the finger on `source` and hold it (the calendar waits a moment before a post moves)."""
        source.scroll_into_view_if_needed()
        self.at = centre(source)
        self._touch("touchStart", *self.at)
        self.page.wait_for_timeout(hold_ms)

    def slide(self, to: tuple[float, float], steps: int = 20) -> None:
        x, y = self.at
        for step in range(1, steps + 1):
            self._touch("touchMove", x + (to[0] - x) * step / steps, y + (to[1] - y) * step / steps)
            self.page.wait_for_timeout(30)
        self.at = to
        self.page.wait_for_timeout(150)

    def lift(self) -> None:
        self._touch("touchEnd")


def toast(page: Page) -> Locator:
    return page.locator(".undo-toast")


def expect_in_view(page: Page, locator: Locator) -> None:
    """On screen where the person is looking, whatever the page's scroll."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 844 and box["x"] + box["width"] <= 390


# --- media -------------------------------------------------------------------------------------------


def test_media_is_selected_by_touch_moved_and_brought_back_with_undo(phone: Page, live_server, browser_problems):
    browser_problems.expect_status(422)  # Move without a group is refused on purpose
    page = phone
    names = [f"{unique('phone-undo')}-{letter}.png" for letter in "ab"]
    sign_in(page, MANAGER)
    open_library(page, live_server, "Maya Lopez")
    before = media_count(page)
    upload(page, [image_file(names[0], "#0ea5e9"), image_file(names[1], "#f97316")])
    expect_count(page, before + 2)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")

    # Without hover, the checkmarks stay hidden until "Select" turns selection mode on.
    first, second = check_box(page, names[0]), check_box(page, names[1])
    expect(first).to_have_css("opacity", "0")
    select = page.get_by_role("button", name="Select", exact=True)
    select.tap()
    expect(select).to_have_attribute("aria-pressed", "true")
    expect(first).to_have_css("opacity", "1")
    tile(page, names[0]).get_by_role("img").tap()  # a tap selects instead of opening the item
    expect(first).to_be_checked()
    expect(selection_count(page)).to_have_text("1 item selected")
    select.tap()  # selection mode off: what is selected stays selected
    expect(select).to_have_attribute("aria-pressed", "false")
    expect(first).to_be_checked()

    # A long press selects a tile too, and turns selection mode on.
    Finger(page).long_press(tile(page, names[1]).get_by_role("img"))
    expect(second).to_be_checked()
    expect(select).to_have_attribute("aria-pressed", "true")
    expect(selection_count(page)).to_have_text("2 items selected")
    expect(page).to_have_url(f"{live_server.url}/g/{live_server.group_id('Maya Lopez')}/media")

    # No group is chosen for the person: Move is refused, saying why, until one is.
    page.get_by_role("button", name="Move…").tap()
    dialog = page.get_by_role("dialog", name="Move 2 items to another group")
    expect(dialog.get_by_role("radio", checked=True)).to_have_count(0)
    dialog.get_by_role("button", name="Move", exact=True).tap()
    expect(dialog.get_by_role("alert")).to_have_text("Choose the group to move the items to.")
    expect(tile(page, names[0])).to_have_count(1)
    dialog.get_by_role("radio", name="Jonah Reed").tap()
    dialog.get_by_role("button", name="Move", exact=True).tap()

    offer = toast(page)
    expect(offer).to_contain_text("Moved 2 items to “Jonah Reed”.")
    expect_in_view(page, offer)
    for name in names:
        expect(tile(page, name)).to_have_count(0)
    expect_count(page, before)

    offer.get_by_role("button", name="Undo").tap()
    expect(toast(page)).to_have_text("Moved 2 items back from “Jonah Reed”.")
    for name in names:
        expect(tile(page, name)).to_have_count(1)
    expect_count(page, before + 2)
    expect(first).to_be_focused()
    page.reload()
    for name in names:
        expect(tile(page, name)).to_have_count(1)


# --- the calendar ------------------------------------------------------------------------------------


@pytest.fixture
def two_days(live_server: LiveServer) -> Iterator[tuple[int, int, str, date, date]]:
    """A post of this test alone at 09:30 on a day of a far month, and another post four days later (so
    both days show on a phone, which hides days without posts); deleted afterwards."""
    day = date(2035 + uuid.uuid4().int % 20, 1 + uuid.uuid4().int % 12, 3 + uuid.uuid4().int % 10)
    other_day = day + timedelta(days=4)
    caption = f"Phone drag {uuid.uuid4().hex[:8]}"
    with live_server.app.app_context():
        profile = db.session.scalar(select(SocialProfile).where(
            SocialProfile.handle == "mayalopez", SocialProfile.network == Network.TIKTOK.value))
        posts = [Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=text,
                      status=PostStatus.SCHEDULED.value, scheduled_at=datetime.combine(when, time(9, 30), timezone.utc))
                 for text, when in ((caption, day), (f"Neighbour {caption}", other_day))]
        db.session.add_all(posts)
        db.session.commit()
        ids = [post.id for post in posts]
        made = (profile.access_group_id, ids[0], caption, day, other_day)
        db.session.remove()
    yield made
    with live_server.app.app_context():
        db.session.execute(delete(Post).where(Post.id.in_(ids)))
        db.session.commit()
        db.session.remove()


def stored_time(live_server: LiveServer, post_id: int) -> datetime:
    with live_server.app.app_context():
        scheduled_at = db.session.scalar(select(Post.scheduled_at).where(Post.id == post_id))
        db.session.remove()
    return scheduled_at


def day_cell(page: Page, day: date) -> Locator:
    return page.locator(f'#calendar li.day[data-date="{day.isoformat()}"]')


def card(page: Page, day: date, caption: str) -> Locator:
    return page.get_by_role("list", name=f"Posts on {day:%A} {day.day} {day:%B %Y}", exact=True) \
        .get_by_role("listitem").filter(has_text=caption).filter(has_not_text="Neighbour")


def test_a_post_dragged_by_finger_onto_a_date_number_lands_there_and_undo_takes_it_back(
        phone: Page, live_server, two_days):
    group_id, post_id, caption, day, other_day = two_days
    page = phone
    sign_in(page, MANAGER)
    page.goto(f"/g/{group_id}/calendar?view=month&date={day.isoformat()}")
    post = card(page, day, caption)
    expect(post).to_be_visible()

    date_number = day_cell(page, other_day).locator(".day-head time")
    day_cell(page, other_day).scroll_into_view_if_needed()
    finger = Finger(page)
    finger.press(post)
    finger.slide(centre(date_number))
    expect(day_cell(page, other_day)).to_have_class(re.compile(r"\bdrop-day\b"))  # where it would land
    finger.lift()

    offer = toast(page)
    expect(offer).to_contain_text(
        f"Moved the TikTok post of @mayalopez to {other_day:%a} {other_day.day} {other_day:%b %Y}, 09:30 UTC.")
    expect_in_view(page, offer)
    expect(card(page, other_day, caption)).to_be_visible()
    expect(card(page, day, caption)).to_have_count(0)
    assert stored_time(live_server, post_id) == datetime.combine(other_day, time(9, 30), timezone.utc)

    offer.get_by_role("button", name="Undo").tap()
    expect(toast(page)).to_contain_text(
        f"Undone: the TikTok post of @mayalopez is back on {day:%a} {day.day} {day:%b %Y}, 09:30 UTC.")
    expect(card(page, day, caption)).to_be_visible()
    expect(card(page, other_day, caption)).to_have_count(0)
    expect(card(page, day, caption).locator(".post-link")).to_be_focused()
    assert stored_time(live_server, post_id) == datetime.combine(day, time(9, 30), timezone.utc)


def test_a_post_let_go_outside_every_day_goes_back_and_nothing_is_saved(phone: Page, live_server, two_days):
    group_id, post_id, caption, day, other_day = two_days
    page = phone
    sign_in(page, MANAGER)
    page.goto(f"/g/{group_id}/calendar?view=month&date={day.isoformat()}")
    page.evaluate("document.getElementById('calendar-title').scrollIntoView()")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method) if request.method == "POST" else None)

    # Over the other day's posts, which take it in while it passes, then on up to the calendar's title,
    # outside every day.
    finger = Finger(page)
    finger.press(card(page, day, caption))
    finger.slide(centre(page.get_by_role("list", name=f"Posts on {other_day:%A} {other_day.day} {other_day:%B %Y}")))
    expect(card(page, other_day, caption)).to_have_count(1)
    expect(day_cell(page, other_day)).to_have_class(re.compile(r"\bdrop-day\b"))
    finger.slide(centre(page.locator("#calendar-title")))
    expect(page.locator("#calendar li.drop-day")).to_have_count(0)
    finger.lift()

    expect(card(page, day, caption)).to_be_visible()
    expect(card(page, other_day, caption)).to_have_count(0)
    expect(toast(page)).to_have_count(0)
    page.wait_for_timeout(300)
    assert requests == []
    assert stored_time(live_server, post_id) == datetime.combine(day, time(9, 30), timezone.utc)


def test_a_post_dropped_by_mouse_on_a_date_number_lands_on_that_day(new_context, browser_problems, live_server,
                                                                     two_days):
    group_id, post_id, caption, day, other_day = two_days
    page = new_context(viewport={"width": 1366, "height": 1600}).new_page()
    browser_problems.watch(page)
    sign_in(page, MANAGER)
    page.goto(f"/g/{group_id}/calendar?view=month&date={day.isoformat()}")
    card(page, day, caption).drag_to(day_cell(page, other_day).locator(".day-head time"), steps=20)
    expect(card(page, other_day, caption)).to_be_visible()
    expect(toast(page).get_by_role("button", name="Undo")).to_be_visible()
    assert stored_time(live_server, post_id) == datetime.combine(other_day, time(9, 30), timezone.utc)


# --- Organize ----------------------------------------------------------------------------------------


def test_organize_stages_a_profile_dragged_by_finger(new_context, browser_problems):
    """On a touch screen a chip is held, then dragged: a taken slot refuses it, a free one stages the move."""
    page = new_context(viewport={"width": 1280, "height": 1000}, has_touch=True).new_page()
    browser_problems.watch(page)
    sign_in(page, "owner@northstar.example")
    page.goto("/settings/organize")
    pending = page.locator("#pending-count")
    expect(pending).to_have_text("No changes")
    northstar = page.get_by_role("list", name="Social sets of Northstar HQ", exact=True) \
        .get_by_role("list", name="Profiles in Northstar", exact=True)
    finger = Finger(page)

    finger.press(page.locator('li.chip[data-label="Instagram @jonahreed"] .handle'))
    finger.slide(centre(northstar))
    finger.lift()
    expect(page.locator("#organize-message")).to_have_text(
        "The Instagram slot of “Northstar” is taken; a social set holds one profile of each network.")
    expect(pending).to_have_text("No changes")

    youtube = page.locator('li.chip[data-label="YouTube @jonahreed"]')
    finger.press(youtube.locator(".handle"))
    finger.slide(centre(northstar))
    finger.lift()
    expect(pending).to_have_text("1 change not saved yet")
    expect(northstar.locator('li.chip[data-label="YouTube @jonahreed"]')).to_have_count(1)
