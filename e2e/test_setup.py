"""First-run setup on an empty install: the agency and its owner."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import GROUP_URL, expect_group_shown, sign_in, sign_out

AGENCY = "Harbor Lane Agency"
OWNER = "Ada Byrne"
EMAIL = "ada@harborlane.example"
PASSWORD = "tide-and-harbour-42"


@pytest.fixture
def base_url(empty_server) -> str:
    """These tests start from an install that has no account yet."""
    return empty_server.url


def fill_setup(page: Page, password: str = PASSWORD, repeat: str = PASSWORD) -> None:
    page.get_by_label("Agency name").fill(AGENCY)
    page.get_by_label("Your name").fill(OWNER)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(repeat)
    page.get_by_role("button", name="Create agency").click()


def test_first_run_setup_creates_the_agency_and_its_owner(new_context, browser_problems):
    page = new_context(timezone_id="Asia/Tokyo").new_page()
    browser_problems.watch(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Set up your agency")).to_be_visible()

    # The agency's time zone starts as the computer's.
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    fill_setup(page)
    expect(page).to_have_url(GROUP_URL)
    expect(page.get_by_text(f"Welcome to Roster, {OWNER}. {AGENCY} is ready.")).to_be_visible()
    expect_group_shown(page, AGENCY)
    home = page.url
    # Times show in the zone the computer was on: Settings › Agency says so.
    page.goto("/settings/agency")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")

    sign_out(page)
    sign_in(page, EMAIL, PASSWORD)
    expect(page).to_have_url(home)
    expect_group_shown(page, AGENCY)

    # Setup is gone once the agency exists.
    browser_problems.expect_status(404)
    page.goto("/setup")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_setup_with_differing_passwords_creates_nothing(page: Page, browser_problems):
    browser_problems.expect_status(422)
    page.goto("/")
    fill_setup(page, repeat=PASSWORD + "x")

    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_label("Agency name")).to_have_value(AGENCY)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Set up your agency")).to_be_visible()


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 900}],
                         ids=["390", "1366"])
def test_the_setup_page_fits_the_screen_and_passes_axe(new_context, viewport):
    from .test_every_page import problems_on

    page = new_context(viewport=viewport).new_page()
    page.goto("/setup")
    problems = problems_on(page, "first-run setup")
    assert not problems, "\n".join(problems)
