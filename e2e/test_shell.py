"""The app shell: moving between access groups with the switcher, and who sees which group."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .helpers import expect_group_shown, sign_in

CREATOR_GROUPS = ["Maya Lopez", "Jonah Reed", "Priya Shah", "Leo Park"]


def group_url(live_server, name: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"{live_server.url}/g/{live_server.group_id(name)}/") + "$")


def switch_group(page: Page, name: str) -> None:
    """Open the access group switcher at the bottom of the sidebar and pick `name`."""
    sidebar = page.get_by_role("navigation", name="Main")
    # A <summary> has no ARIA role, so it is found by its text.
    sidebar.locator("summary").filter(has_text="switch access group").click()
    sidebar.get_by_role("list", name="Access groups").get_by_role("link", name=name).click()


def test_owner_switches_groups_without_reloading_the_page(page: Page, live_server):
    sign_in(page, "owner@northstar.example")
    page.goto(f"/g/{live_server.group_id('Northstar HQ')}/")
    expect_group_shown(page, "Northstar HQ")
    page.evaluate("window.__rosterMarker = 1")

    for name in CREATOR_GROUPS:
        switch_group(page, name)
        expect(page).to_have_url(group_url(live_server, name))
        expect_group_shown(page, name)
        expect(page).to_have_title(f"{name} · Roster")
        assert page.evaluate("window.__rosterMarker") == 1, f"switching to {name} reloaded the page"

    # Back from the last group (Leo Park) to the one before it.
    page.go_back()
    expect(page).to_have_url(group_url(live_server, "Priya Shah"))
    expect_group_shown(page, "Priya Shah")
    assert page.evaluate("window.__rosterMarker") == 1, "going back reloaded the page"

    # A pushed URL loaded directly is the whole page, not just the content that was swapped in.
    page.goto(f"/g/{live_server.group_id('Jonah Reed')}/")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect_group_shown(page, "Jonah Reed")
    assert page.evaluate("window.__rosterMarker") is None


def test_going_back_leaves_the_switcher_closed(page: Page, live_server):
    """Back restores the previous group with the switcher closed, not frozen open."""
    sign_in(page, "alex@northstar.example")
    page.goto(f"/g/{live_server.group_id('Northstar HQ')}/")
    switch_group(page, "Maya Lopez")
    expect_group_shown(page, "Maya Lopez")

    page.go_back()
    expect_group_shown(page, "Northstar HQ")
    sidebar = page.get_by_role("navigation", name="Main")
    expect(sidebar.get_by_role("list", name="Access groups")).to_be_hidden(timeout=1_000)


def test_a_switcher_opened_before_the_scripts_arrive_still_lists_the_groups(page: Page, live_server):
    """Someone quick opens the switcher while htmx is still on its way: the groups load once it is."""
    sign_in(page, "owner@northstar.example")
    held = []
    page.route(re.compile(r"/static/vendor/htmx\.min\.js"), lambda route: held.append(route))
    page.goto(f"/g/{live_server.group_id('Northstar HQ')}/", wait_until="commit")
    while not held:
        page.wait_for_timeout(50)
    sidebar = page.get_by_role("navigation", name="Main")
    sidebar.locator("summary").filter(has_text="switch access group").click()
    expect(page.locator("#switcher")).to_have_attribute("open", "")

    held[0].continue_()
    options = sidebar.get_by_role("list", name="Access groups")
    for name in CREATOR_GROUPS:
        expect(options.get_by_role("link", name=name)).to_be_visible()
    options.get_by_role("link", name="Maya Lopez").click()
    expect_group_shown(page, "Maya Lopez")


def test_creator_sees_only_her_group(page: Page, live_server, browser_problems):
    sign_in(page, "maya@northstar.example")
    expect(page).to_have_url(group_url(live_server, "Maya Lopez"))
    expect_group_shown(page, "Maya Lopez")
    # With one group the switcher is just the group's name, not a menu.
    sidebar = page.get_by_role("navigation", name="Main")
    expect(sidebar.locator("summary")).to_have_count(0)
    expect(sidebar.get_by_text("switch access group")).to_have_count(0)

    browser_problems.expect_status(404)
    for other in ["Northstar HQ", "Jonah Reed"]:
        response = page.goto(f"/g/{live_server.group_id(other)}/")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text(other)).to_have_count(0)

    page.get_by_role("link", name="Go to my workspace").click()
    expect(page).to_have_url(group_url(live_server, "Maya Lopez"))
    expect_group_shown(page, "Maya Lopez")
