"""The app shell on a phone (390 × 844, touch): a top bar with the access group switcher and a Menu
button, the navigation in a panel that Escape, a tap outside or following a link closes."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import expect_group_shown, sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone(new_context, browser_problems) -> Page:
    page = new_context(**PHONE).new_page()
    browser_problems.watch(page)
    return page


def test_menu_opens_navigates_and_closes(phone: Page, live_server):
    sign_in(phone, "owner@northstar.example")
    phone.goto(f"/g/{live_server.group_id('Maya Lopez')}/")
    heading = phone.get_by_role("main").get_by_role("heading", level=1)
    expect(heading).to_have_text("Maya Lopez")
    assert heading.bounding_box()["y"] < 120, "the page's content starts too far down"

    sidebar = phone.get_by_role("navigation", name="Main")
    menu_button = sidebar.get_by_role("button", name="Menu", exact=True)
    calendar_link = sidebar.get_by_role("link", name="Calendar")
    expect(calendar_link).to_be_hidden()
    expect(menu_button).to_have_attribute("aria-expanded", "false")

    # Open: the links show and focus is on the page being shown; Escape closes and returns focus.
    menu_button.tap()
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    expect(calendar_link).to_be_visible()
    expect(sidebar.get_by_role("link", name="Overview")).to_be_focused()
    phone.keyboard.press("Escape")
    expect(calendar_link).to_be_hidden()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    expect(menu_button).to_be_focused()

    # A tap outside the panel closes it, and so does its Close button.
    menu_button.tap()
    expect(calendar_link).to_be_visible()
    panel = sidebar.locator("#sidebar-menu").bounding_box()
    assert panel["x"] > 40 and panel["x"] + panel["width"] <= 390, "the panel does not fit beside the page"
    phone.touchscreen.tap(20, 600)
    expect(calendar_link).to_be_hidden()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    menu_button.tap()
    sidebar.get_by_role("button", name="Close menu").tap()
    expect(calendar_link).to_be_hidden()

    # Following a link closes the panel and shows the page.
    menu_button.tap()
    calendar_link.tap()
    expect(phone).to_have_url(re.compile(r"/calendar$"))
    expect(phone.get_by_role("main").get_by_role("heading", level=1)).to_contain_text("Calendar")
    expect(calendar_link).to_be_hidden()
    expect(menu_button).to_have_attribute("aria-expanded", "false")

    # The menu still works on the page that came in, and signing out is in it.
    menu_button.tap()
    expect(calendar_link).to_have_attribute("aria-current", "page")
    sidebar.get_by_role("button", name="Sign out").tap()
    expect(phone).to_have_url(re.compile(r"/login$"))


def test_switcher_in_the_top_bar_changes_the_group(phone: Page, live_server):
    sign_in(phone, "owner@northstar.example")
    phone.goto(f"/g/{live_server.group_id('Northstar HQ')}/")
    sidebar = phone.get_by_role("navigation", name="Main")
    switcher = sidebar.locator("summary").filter(has_text="switch access group")
    expect(switcher).to_be_visible()
    assert switcher.bounding_box()["y"] < 60, "the switcher is not in the top bar"

    switcher.tap()
    options = sidebar.get_by_role("list", name="Access groups")
    expect(options.get_by_role("link", name="Jonah Reed")).to_be_visible()
    box = options.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "the list of groups runs off the screen"
    options.get_by_role("link", name="Jonah Reed").tap()
    expect(phone).to_have_url(f"{live_server.url}/g/{live_server.group_id('Jonah Reed')}/")
    expect_group_shown(phone, "Jonah Reed")
    expect(options).to_be_hidden()

    # The menu that came with the new group leads into it.
    sidebar.get_by_role("button", name="Menu", exact=True).tap()
    sidebar.get_by_role("link", name="Media").tap()
    expect(phone).to_have_url(f"{live_server.url}/g/{live_server.group_id('Jonah Reed')}/media")
    expect(phone.get_by_role("main").get_by_role("heading", level=1)).to_have_text("Media")


def test_a_client_with_one_group_sees_its_name_in_the_top_bar(phone: Page):
    sign_in(phone, "maya@northstar.example")
    sidebar = phone.get_by_role("navigation", name="Main")
    expect(phone.get_by_test_id("current-group")).to_have_text("Maya Lopez")
    assert phone.get_by_test_id("current-group").bounding_box()["y"] < 60
    expect(sidebar.locator("summary")).to_have_count(0)
    sidebar.get_by_role("button", name="Menu", exact=True).tap()
    expect(sidebar.get_by_role("link", name="Waiting for your approval")).to_be_visible()
