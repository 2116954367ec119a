"""Area code only where it is used: a page htmx brings in fetches its area's scripts once and works, and it
shows only once its area's style sheet has arrived, never without its styles."""
from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from .helpers import sign_in

AREA_SCRIPTS = re.compile(r"/static/(js/[a-z_]+\.js|vendor/Sortable\.min\.js)$")


def open_from_sidebar(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_pages_brought_in_by_htmx_fetch_their_modules_once_and_work(page: Page, live_server, browser_problems):
    """Calendar and Media, opened in place again and again: each script comes once, and each page works."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if AREA_SCRIPTS.search(request.url) else None)
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{live_server.group_id('Maya Lopez')}/")
    assert page.evaluate("typeof Sortable") == "undefined" and not fetched

    for _ in range(2):
        open_from_sidebar(page, "Calendar")
        page.wait_for_function("""() => {
          const days = document.querySelectorAll(".day-posts[data-date]");
          return days.length > 0 && typeof Sortable !== "undefined" && [...days].every((day) => Sortable.get(day));
        }""")
        open_from_sidebar(page, "Media")
        selection = page.get_by_role("form", name="Selected items").locator("#selection-count")
        expect(selection).to_have_text("No items selected")
        page.get_by_role("list", name="Media items").get_by_role("checkbox").first.click()
        expect(selection).to_have_text("1 item selected")

    paths = sorted(AREA_SCRIPTS.search(url).group(1) for url in fetched)
    assert paths == ["js/calendar.js", "js/media.js", "vendor/Sortable.min.js"]


def test_a_page_waits_hidden_for_its_style_sheet(page: Page, live_server, browser_problems):
    """While Campaigns' sheet is on its way the page brought in stays hidden; it shows once the sheet is there."""
    sign_in(page, "sam@northstar.example")
    held: list[Route] = []
    page.route(re.compile(r"/static/css/campaigns\.css$"), lambda route: held.append(route))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns", exact=True).click()
    while not held:
        page.wait_for_timeout(20)
    heading = page.locator("#main h1")
    expect(heading).to_have_text("Campaigns")  # in the page, but not shown without its styles
    expect(heading).to_be_hidden()
    held[0].continue_()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    expect(page.locator("#main > header")).to_have_css("visibility", "visible")
