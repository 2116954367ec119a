"""Settings › Activity in a browser: the owner narrows the audit log to one person and kind, reads the
newest event in words, pages to older events and downloads the filtered rows as CSV.

The test gets a demo agency of its own in which Sam Okafor uploaded 60 images to Maya Lopez's library
and then moved three of her items to Jonah Reed: more media events than one page holds.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import audit, media
from webapp.extensions import db
from webapp.models import AccessGroup, MediaItem, User

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

OWNER = "owner@northstar.example"
UPLOADS = 60
MOVE = "Sam Okafor moved 3 media items from Maya Lopez to Jonah Reed"


def sams_media_work() -> None:
    """60 uploads by Sam to Maya Lopez's library, then a move of three of her items to Jonah Reed."""
    sam = db.session.scalar(select(User).where(User.email == "sam@northstar.example"))
    maya = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Maya Lopez"))
    jonah = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Jonah Reed"))
    for number in range(UPLOADS):
        audit.record(maya.account_id, sam.id, "media.uploaded", "media_item", None,
                     after={"access_group_id": maya.id, "name": f"upload-{number:02d}.png"}, group_id=maya.id)
    items = db.session.scalars(select(MediaItem.id).where(MediaItem.access_group_id == maya.id)
                               .order_by(MediaItem.id).limit(3)).all()
    media.move_media_items(maya, list(items), jonah, sam)


@pytest.fixture
def activity_server(tmp_path) -> Iterator[LiveServer]:
    with own_demo_server(tmp_path, sams_media_work) as server:
        yield server


@pytest.fixture
def base_url(activity_server: LiveServer) -> str:
    return activity_server.url


def events(page: Page) -> list[str]:
    """The Event column of the list, as the page shows it."""
    cells = page.get_by_role("table", name=re.compile("^Activity in")).locator("td[data-label=Event]")
    return [" ".join(text.split()) for text in cells.all_inner_texts()]


def axe_violations(page: Page) -> list[str]:
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: "
                            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})")
    return [f"{violation['id']}: {violation['help']}" for violation in results["violations"]]


def test_owner_filters_the_activity_pages_back_and_downloads_the_rows(page: Page):
    sign_in(page, OWNER)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()

    # Narrowed to Sam's media work: the move comes first, in words.
    filters = page.get_by_role("search", name="Filter the activity")
    filters.get_by_label("Person").select_option(label="Sam Okafor")
    expect(page).to_have_url(re.compile(r"[?&]person=\d+"))
    filters.get_by_label("Kind").select_option(label="Media")
    expect(page).to_have_url(re.compile(r"[?&]kind=media"))
    table = page.get_by_role("table", name=re.compile("^Activity in"))
    expect(table.locator("td[data-label=Event]").first).to_have_text(MOVE)
    expect(table.locator("td[data-label='Access group']").first).to_have_text("Maya Lopez → Jonah Reed")
    expect(table.locator("tbody tr")).to_have_count(50)
    first_page = events(page)
    assert first_page[1:] == [f"Sam Okafor uploaded “upload-{n:02d}.png”" for n in range(59, 10, -1)]
    assert axe_violations(page) == []

    # Older: the rest of the uploads, none shown twice; Newer leads back.
    page.get_by_role("navigation", name="Pages of activity").get_by_role("link", name="Older").click()
    expect(table.locator("tbody tr")).to_have_count(11)
    assert events(page) == [f"Sam Okafor uploaded “upload-{n:02d}.png”" for n in range(10, -1, -1)]
    expect(page).to_have_url(re.compile(r"[?&]older="))
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.get_by_role("link", name="Newer").click()
    expect(table.locator("td[data-label=Event]").first).to_have_text(MOVE)

    # The CSV holds every filtered row, on both pages, with times in UTC and in the viewer's zone.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert re.fullmatch(r"activity-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["Event"] for row in rows] == [MOVE] + [
        f"Sam Okafor uploaded “upload-{n:02d}.png”" for n in range(UPLOADS - 1, -1, -1)]
    assert {(row["Person"], row["Kind"]) for row in rows} == {("Sam Okafor", "Media")}
    assert rows[0]["Access group"] == "Maya Lopez → Jonah Reed"
    assert rows[0]["Time (UTC)"].endswith("+00:00") and rows[0]["Time (local)"]


def test_the_activity_reads_on_a_phone(new_context):
    page = new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True).new_page()
    sign_in(page, OWNER)
    page.goto("/settings/activity?kind=media")
    first = page.get_by_role("table", name=re.compile("^Activity in")).locator("tbody tr").first
    expect(first).to_contain_text(MOVE)
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    assert axe_violations(page) == []
