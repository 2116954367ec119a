"""Signing in and out."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from .conftest import BrowserProblems
from .helpers import GROUP_URL, sign_in, sign_out, submit_sign_in
from webapp.demo import DEMO_PASSWORD


def test_sign_out_then_a_group_page_asks_to_sign_in(page: Page):
    sign_in(page, "alex@northstar.example")
    group_path = urlsplit(page.url).path

    sign_out(page)
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.goto(group_path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    assert parse_qs(urlsplit(page.url).query)["next"] == [group_path]
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()

    # Signing in again goes back to the page that was asked for.
    submit_sign_in(page, "alex@northstar.example")
    expect(page).to_have_url(re.compile(re.escape(group_path) + "$"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_wrong_password_is_refused(page: Page, browser_problems):
    browser_problems.expect_status(422)
    page.goto("/login")
    submit_sign_in(page, "owner@northstar.example", "not-the-password")

    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("owner@northstar.example")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page).not_to_have_url(GROUP_URL)


def test_sign_out_everywhere_else_signs_the_other_browser_out(new_context, browser_problems: BrowserProblems):
    laptop, phone = new_context().new_page(), new_context().new_page()
    for page in (laptop, phone):
        browser_problems.watch(page)
        sign_in(page, "jonah@northstar.example")
    group_path = urlsplit(laptop.url).path

    laptop.goto("/settings/account")
    laptop.get_by_role("button", name="Sign out everywhere else…").click()
    dialog = laptop.get_by_role("dialog", name="Sign out everywhere else?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Sign out everywhere else").click()
    expect(laptop.get_by_text(re.compile(r"Signed out of \d+ other sessions?\."))).to_be_visible()

    # The other browser's next page load asks it to sign in; this one carries on.
    phone.reload()
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    expect(phone.get_by_role("heading", name="Sign in to Roster")).to_be_visible()
    laptop.goto(group_path)
    expect(laptop).to_have_url(re.compile(re.escape(group_path) + "$"))
    expect(laptop.get_by_role("navigation", name="Main")).to_be_visible()


def _forget_form_tokens(page: Page) -> None:
    """What a page open across a new sign-in holds: form tokens the session no longer accepts."""
    page.evaluate("""() => {
        document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": "stale"}));
        document.querySelectorAll("input[name=csrf_token]").forEach((input) => { input.value = "stale"; });
    }""")


def test_a_page_open_too_long_says_so_and_changes_nothing(page: Page, browser_problems: BrowserProblems):
    """A stale form sent by htmx is answered in the page's flash area; a plain one with a page of its own."""
    browser_problems.watch(page)
    browser_problems.expect_status(400)
    sign_in(page, "owner@northstar.example")
    page.goto("/settings/access-groups")
    _forget_form_tokens(page)
    page.get_by_label("Name").fill("Sent from a stale page")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"This page was open too long to send\. Nothing was changed"))
    page.reload()
    expect(page.get_by_role("list", name="Access groups")).not_to_contain_text("Sent from a stale page")

    page.goto("/settings/account")
    _forget_form_tokens(page)
    page.get_by_label("Current password").fill(DEMO_PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new password")
    page.get_by_label("Repeat new password").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="This page has expired")).to_be_visible()
    expect(page.get_by_role("link", name="Go to my workspace")).to_be_visible()
