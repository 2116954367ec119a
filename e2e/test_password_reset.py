"""Getting back in from a browser: "Forgot password?", the email over real SMTP, and its link."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db
from webapp.models import Account, Role

from .helpers import GROUP_URL, sign_in, sign_out, submit_sign_in

NEW_PASSWORD = "a long new password"


def new_member(live_server, name: str) -> str:
    """A manager of Northstar Talent of this test's own (the shared demo people keep their passwords)."""
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.test"
    with live_server.app.app_context():
        account = db.session.scalar(select(Account).where(Account.name == "Northstar Talent"))
        factories.make_member(account, Role.MANAGER, groups=[factories.default_group(account)],
                              email=email, name=name, password=DEMO_PASSWORD)
        db.session.commit()
        db.session.remove()
    return email


def link_in(message) -> str:
    """The reset link in the plain-text part of an email."""
    [link] = re.findall(r"https?://\S+/password/reset/\S+", message.get_body(("plain",)).get_content())
    return link


def test_forgotten_password_is_set_again_from_the_emailed_link(page: Page, live_server, smtp_server,
                                                               browser_problems):
    """Sign-in page › Forgot password? › the email › its link › a new password: signed in, and only the
    new password works from then on."""
    browser_problems.expect_status(422)  # the mistyped repeat, and the old password refused
    email = new_member(live_server, "Rae Reset")
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_text("If an account uses that address, we have emailed a link to set a new password. "
                            "It works for one hour.")).to_be_visible()

    message = smtp_server.wait_for(email)
    assert message["Subject"] == "Set a new password for Roster"
    assert "Northstar Talent via Roster" in message["From"]
    page.goto(link_in(message))
    expect(page).to_have_url(re.compile(r"/password/reset$"))  # the token left the address bar
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill("not the same password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()

    expect(page).to_have_url(GROUP_URL)
    expect(page.get_by_text("Your password was changed. You are signed in; your other sessions were signed out."
                            )).to_be_visible()
    sign_out(page)
    submit_sign_in(page, email, DEMO_PASSWORD)
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
    submit_sign_in(page, email, NEW_PASSWORD)
    expect(page).to_have_url(GROUP_URL)


def test_owner_sends_a_member_a_reset_link(page: Page, live_server, smtp_server):
    """From a member's page, after a confirmation; the member's mail names who sent it."""
    email = new_member(live_server, "Sol Sender")
    sign_in(page, "owner@northstar.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Sol Sender").click()
    page.get_by_role("button", name="Send password reset link…").click()
    dialog = page.get_by_role("dialog", name="Send Sol Sender a password reset link?")
    expect(dialog).to_contain_text(email)
    dialog.get_by_role("button", name="Send link").click()
    expect(page.get_by_text(f"A password reset link was sent to {email}.")).to_be_visible()
    message = smtp_server.wait_for(email)
    assert "Nora Quinn of Northstar Talent sent you a link" in message.get_body(("plain",)).get_content()
