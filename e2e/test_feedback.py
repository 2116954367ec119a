"""Feedback while working: a request on its way shows it at once, a failure says so and keeps what was
typed, a success is told where the person is looking, and a drag page reached by htmx still drags."""
from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from .helpers import sign_in

GROUPS_PAGE = re.compile(r"/settings/access-groups$")

# Notes the page makes of when the person clicked and when something first showed it was busy.
WATCH_BUSY = """() => {
  window.clickedAt = null;
  window.busyAt = null;
  document.addEventListener("click", () => { window.clickedAt = performance.now(); }, true);
  new MutationObserver(() => {
    if (window.busyAt === null && document.querySelector("[aria-busy=true]")) { window.busyAt = performance.now(); }
  }).observe(document.body, { attributes: true, attributeFilter: ["aria-busy"], subtree: true });
}"""


def hold_group_creation(page: Page) -> list[Route]:
    """Keep every "Create group" request waiting in the browser; the test lets each go (or fail) itself."""
    held: list[Route] = []
    page.route(GROUPS_PAGE, lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    return held


def wait_for(page: Page, held: list[Route]) -> Route:
    while not held:
        page.wait_for_timeout(20)
    return held.pop()


def test_a_slow_request_shows_progress_at_once_and_a_lost_connection_keeps_what_was_typed(
    page: Page, live_server, browser_problems
):
    """While the request is out the form is busy, its button disabled and the bar runs; then the network fails."""
    sign_in(page, "owner@northstar.example")
    page.goto("/settings/access-groups")
    held = hold_group_creation(page)
    page.evaluate(WATCH_BUSY)

    page.get_by_label("Name").fill("Sent while offline")
    create = page.get_by_role("button", name="Create group")
    create.click()
    request = wait_for(page, held)
    form = page.locator("form").filter(has=create)
    expect(form).to_have_attribute("aria-busy", "true")
    expect(page.locator("#access-groups")).to_have_attribute("aria-busy", "true")  # what the answer replaces
    expect(create).to_be_disabled()
    expect(page.locator(".progress-bar")).to_be_visible()
    assert page.evaluate("window.busyAt - window.clickedAt") < 100

    request.abort("internetdisconnected")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Roster could not be reached. Check your connection and try again. What you typed is still here.")
    expect(alert).to_be_in_viewport()
    expect(page.get_by_label("Name")).to_have_value("Sent while offline")
    expect(create).to_be_enabled()
    expect(form).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(".progress-bar")).to_be_hidden()
    # The browser and htmx log the lost request: those are the only problems this test allows.
    lost_request = ("ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest")
    unexpected = [seen for seen in browser_problems.clear() if not any(words in seen for words in lost_request)]
    assert not unexpected

    # Sent again once the connection is back, what was typed goes through.
    page.unroute(GROUPS_PAGE)
    create.click()
    expect(page.get_by_text("Access group “Sent while offline” created.")).to_be_in_viewport()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_server_error_says_so_in_words_and_keeps_what_was_typed(page: Page, live_server, browser_problems):
    """A 500 is told as a message a person understands; the form keeps its text and can be sent again."""
    browser_problems.expect_status(500)
    sign_in(page, "owner@northstar.example")
    page.goto("/settings/access-groups")
    held = hold_group_creation(page)

    page.get_by_label("Name").fill("Met a server error")
    page.get_by_role("button", name="Create group").click()
    wait_for(page, held).fulfill(status=500, content_type="text/html", body="<!doctype html><title>Error</title>")

    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Something went wrong on our side, so that did not go through. Try again in a moment."
                               " What you typed is still here.")
    expect(alert).to_be_in_viewport()
    expect(page.get_by_label("Name")).to_have_value("Met a server error")
    expect(page.get_by_role("button", name="Create group")).to_be_enabled()
    alert.get_by_role("button", name="Dismiss this message").click()
    expect(alert).to_have_count(0)


def test_a_success_is_told_in_view_after_scrolling_down(new_context, demo_server):
    """On a phone, renaming the last social set far down the page shows the news on screen, not above it."""
    page = new_context(base_url=demo_server.url, viewport={"width": 390, "height": 844}, has_touch=True).new_page()
    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{demo_server.group_id('Maya Lopez')}")
    card = page.get_by_role("list", name="Social sets").get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Brand Deals", exact=True))
    card.get_by_text("Rename").click()
    card.get_by_label("New name for Brand Deals").fill("Summer Deals")
    card.get_by_role("button", name="Save name").click()

    toast = page.get_by_text("Social set renamed to “Summer Deals”.")
    expect(toast).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 300  # the page stayed where the person was
    # Good news goes by itself after a few seconds.
    expect(toast).to_have_count(0, timeout=15_000)


def test_a_drag_page_reached_from_the_sidebar_gets_its_drag_script(page: Page, live_server):
    """SortableJS is not loaded on the Overview; opening the Calendar in place fetches it and its days take drops."""
    sign_in(page, "sam@northstar.example")
    assert page.evaluate("typeof Sortable") == "undefined"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()
    page.wait_for_function("""() => {
      const days = document.querySelectorAll(".day-posts[data-date]");
      return days.length > 0 && typeof Sortable !== "undefined" && [...days].every((day) => Sortable.get(day));
    }""")
