"""Settings › Access review in a browser: the table a page at a time, its CSV download, and the "Why?"
explainer.

The test gets a demo agency of its own, in which the Creators user group is granted on Maya Lopez's
group and also gives analytics: Maya then enters her group both from its Users tab and through
Creators, and holds "View analytics" both on her own and through Creators.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.accounts import hash_password
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    Account,
    GroupUser,
    Membership,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupRight,
)
from webapp.policy import RIGHTS
from webapp.rights import label

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

OWNER = "owner@northstar.example"


def grant_creators_on_maya() -> None:
    """Creators granted on Maya Lopez's group, and giving analytics too."""
    creators = db.session.scalar(select(UserGroup).where(UserGroup.name == "Creators"))
    maya_group = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Maya Lopez"))
    db.session.add(UserGroupRight(user_group_id=creators.id, name="analytics.view"))
    db.session.add(UserGroupGrant(user_group_id=creators.id, access_group_id=maya_group.id))


@pytest.fixture
def review_server(tmp_path) -> Iterator[LiveServer]:
    with own_demo_server(tmp_path, grant_creators_on_maya) as server:
        yield server


@pytest.fixture
def base_url(review_server: LiveServer) -> str:
    return review_server.url


def table_rows(page: Page) -> list[list[str]]:
    """The review table's rows, cell by cell, as the page shows them."""
    rows = page.locator("#access-review-table tbody tr")
    return [[" ".join(cell.split()) for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def test_owner_reviews_access_downloads_the_same_rows_and_asks_why(page: Page):
    sign_in(page, OWNER)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Access review").click()
    expect(page.get_by_role("heading", name="Access review", level=1)).to_be_visible()

    # Jonah enters Maya Lopez's group only through the Creators user group.
    table = page.get_by_role("table", name="Who can enter which access group")
    jonah = table.get_by_role("row").filter(has_text="jonah@northstar.example").filter(has_text="Maya Lopez")
    expect(jonah).to_have_count(1)
    expect(jonah.get_by_role("cell").nth(3)).to_have_text("User group Creators")
    maya = table.get_by_role("row").filter(has_text="maya@northstar.example").filter(has_text="Maya Lopez")
    expect(maya.get_by_role("cell").nth(3)).to_have_text("Users tab; User group Creators")

    # The CSV lists exactly the rows of the table.
    shown = table_rows(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("access-review-")
    with open(download.path(), newline="", encoding="utf-8") as file:
        header, *listed = list(csv.reader(file))
    assert header[:5] == ["name", "email", "role", "access group", "entry through"]
    assert len(listed) == len(shown) > 10
    for (name, email, role, group, entry, rights, beyond, ends), row in zip(listed, shown):
        assert row[0] == f"{name} {email}"
        assert row[1].startswith(role)
        assert row[2:4] == [group, entry]
        names = rights.split(" ")
        assert row[4] == ("Every right" if set(names) == set(RIGHTS) else ", ".join(label(r) for r in names))
        assert row[5] == (beyond or "None")
        assert ends == "" and row[6] == "No end date"

    # Filtering by person narrows the table, and the URL keeps the filter.
    page.get_by_role("search", name="Filter the review").get_by_label("Person").fill("jonah")
    expect(page).to_have_url(re.compile(r"[?&]q=jonah"))
    expect(table.get_by_role("row").filter(has_text="@northstar.example")).to_have_count(
        len([row for row in shown if "jonah@northstar.example" in row[0]])
    )

    # Why may Maya see analytics in her group? On her own, and through Creators.
    why = page.get_by_role("region", name="Why?")
    why.get_by_label("Person").select_option(label="Maya Lopez (maya@northstar.example)")
    why.get_by_label("Access group").select_option(label="Maya Lopez")
    why.get_by_label("Can they").select_option(label="View analytics")
    answer = why.get_by_role("status")
    expect(answer).to_contain_text("Yes: Maya Lopez can view analytics in “Maya Lopez”.")
    expect(answer).to_contain_text("Maya Lopez holds “View analytics” as an own right.")
    expect(answer).to_contain_text("User group “Creators” gives “View analytics”; Maya Lopez is in it.")
    expect(answer).to_contain_text("Maya Lopez is on the Users tab of “Maya Lopez”.")
    expect(answer).to_contain_text("Maya Lopez is in user group “Creators”, which is granted on “Maya Lopez”.")

    # And a no: Jonah cannot manage the inbox there.
    why.get_by_label("Person").select_option(label="Jonah Reed (jonah@northstar.example)")
    why.get_by_label("Can they").select_option(label="Manage the social inbox")
    expect(answer).to_contain_text("No: Jonah Reed cannot manage the social inbox in “Maya Lopez”.")
    expect(answer).to_contain_text("No path grants “Manage the social inbox”")

    # Each row of the table asks why on its own page: Jonah enters Maya Lopez's group through Creators.
    table.get_by_role("link", name="Why can Jonah Reed enter Maya Lopez?").click()
    expect(page.get_by_role("heading", name="Why?", level=1)).to_be_visible()
    answer = page.get_by_role("region", name="Ask why").get_by_role("status")
    expect(answer).to_contain_text("Yes: Jonah Reed can enter “Maya Lopez”.")
    expect(answer).to_contain_text("Jonah Reed is in user group “Creators”, which is granted on “Maya Lopez”.")


def add_crew_to_maya() -> None:
    """60 more clients of the demo agency, "Crew 00" to "Crew 59", each on Maya Lopez's Users tab."""
    account_id = db.session.scalar(select(Account.id).where(Account.name == "Northstar Talent"))
    maya_group = db.session.scalar(select(AccessGroup.id).where(AccessGroup.name == "Maya Lopez"))
    password_hash = hash_password(DEMO_PASSWORD)
    for number in range(60):
        user = User(email=f"crew{number:02}@northstar.example", name=f"Crew {number:02}", password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(account_id=account_id, user_id=user.id, role=Role.CLIENT.value))
        db.session.add(GroupUser(access_group_id=maya_group, user_id=user.id))


@pytest.fixture
def crowded_server(tmp_path) -> Iterator[LiveServer]:
    directory = tmp_path / "crowded"  # beside the module's own server, which has `tmp_path`
    directory.mkdir()
    with own_demo_server(directory, add_crew_to_maya) as server:
        yield server


def test_a_long_review_comes_a_page_at_a_time_and_the_csv_has_every_row(new_context, crowded_server):
    """The first 50 rows, then the rest on "More entries"; the CSV lists every row; a filter keeps to
    its rows on every page."""
    page = new_context(base_url=crowded_server.url).new_page()
    sign_in(page, OWNER)
    page.goto("/settings/access-review")
    table = page.get_by_role("table", name="Who can enter which access group")
    people = table.get_by_role("row").filter(has_text="@northstar.example")
    expect(people).to_have_count(50)
    total = int(page.get_by_test_id("review-count").inner_text().split(" ")[0])
    assert total > 60  # the crew and the demo agency's own rows: more than a page
    while page.get_by_role("link", name="More entries").count():
        shown = people.count()
        page.get_by_role("link", name="More entries").click()
        expect(people).not_to_have_count(shown)
    expect(people).to_have_count(total)
    rows = table_rows(page)
    assert len({(row[0], row[2]) for row in rows}) == total  # each person and group once

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    with open(download_info.value.path(), newline="", encoding="utf-8") as file:
        _header, *listed = list(csv.reader(file))
    assert [(f"{name} {email}", group) for name, email, _role, group, *_rest in listed] == [
        (row[0], row[2]) for row in rows]

    page.get_by_role("search", name="Filter the review").get_by_label("Person").fill("crew")
    expect(page).to_have_url(re.compile(r"[?&]q=crew"))
    expect(people).to_have_count(50)
    page.get_by_role("link", name="More entries").click()
    expect(people).to_have_count(60)
    expect(page.get_by_role("link", name="More entries")).to_have_count(0)
    assert all(row[0].startswith("Crew ") and row[2] == "Maya Lopez" for row in table_rows(page))
