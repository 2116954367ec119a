"""Steps the browser tests share, written the way a person moves through Roster."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from webapp.demo import DEMO_PASSWORD

GROUP_URL = re.compile(r"/g/(\d+)/$")


def submit_sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill in and send the sign-in form already on `page`."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Open the sign-in page, sign in and land on a group home."""
    page.goto("/login")
    submit_sign_in(page, email, password)
    expect(page).to_have_url(GROUP_URL)


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def expect_group_shown(page: Page, name: str) -> None:
    """The content and the switcher both show the access group `name`."""
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_test_id("current-group")).to_have_text(name)
