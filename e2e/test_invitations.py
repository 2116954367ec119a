"""Inviting someone in a browser: the Team page, the email over real SMTP, and joining from its link."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from .helpers import expect_group_shown, sign_in

NEW_PASSWORD = "a long new password"


def open_team(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")


def send_invitation(page: Page, email: str, role: str, groups: dict[str, bool]) -> None:
    """Fill in the invite form: the email, a role, and which access groups are ticked."""
    page.get_by_label("Email").fill(email)
    page.get_by_label(role, exact=True).check()
    for name, ticked in groups.items():
        page.get_by_label(name, exact=True).set_checked(ticked)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()


def link_in(message) -> str:
    """The invitation link in the plain-text part of an email."""
    [link] = re.findall(r"https?://\S+/invitations/\S+", message.get_body(("plain",)).get_content())
    return link


def test_owner_invites_by_email_and_the_person_joins_in_their_group(page: Page, new_context, live_server, smtp_server):
    """Invite on the Team page; the emailed link, opened in a fresh browser, ends in the chosen group."""
    email = f"nia-{uuid.uuid4().hex[:8]}@example.test"
    sign_in(page, "owner@northstar.example")
    open_team(page)
    # A client starts in no group (she belongs in her own); staff roles start in the default group.
    expect(page.get_by_label("Northstar HQ", exact=True)).not_to_be_checked()
    page.get_by_label("Manager", exact=True).check()
    expect(page.get_by_label("Northstar HQ", exact=True)).to_be_checked()
    page.get_by_label("Client", exact=True).check()
    expect(page.get_by_label("Northstar HQ", exact=True)).not_to_be_checked()
    send_invitation(page, email, "Client", {"Maya Lopez": True})
    pending = page.get_by_role("table", name="Invitations not accepted yet")
    expect(pending.get_by_role("row").filter(has_text=email)).to_contain_text("Maya Lopez")
    expect(page.get_by_label("Email")).to_have_value("")

    message = smtp_server.wait_for(email)
    assert message["Subject"] == "Nora Quinn invited you to Northstar Talent on Roster"

    their_browser = new_context().new_page()
    their_browser.goto(link_in(message))
    expect(their_browser.get_by_role("heading", name="Join Northstar Talent")).to_be_visible()
    expect(their_browser.get_by_label("Email")).to_have_value(email)
    their_browser.get_by_label("Your name").fill("Nia Newcomer")
    their_browser.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    their_browser.get_by_label("Repeat password").fill(NEW_PASSWORD)
    their_browser.get_by_role("button", name="Join Northstar Talent").click()

    expect(their_browser).to_have_url(re.compile(rf"/g/{live_server.group_id('Maya Lopez')}/$"))
    expect_group_shown(their_browser, "Maya Lopez")
    expect(their_browser.get_by_text("Welcome to Northstar Talent, Nia Newcomer.")).to_be_visible()

    page.reload()
    expect(page.get_by_role("table", name=re.compile("^Members of")).get_by_role("row").filter(has_text=email)).to_contain_text("Client")
    expect(pending.get_by_role("row").filter(has_text=email)).to_have_count(0)


def test_a_revoked_invitation_link_says_it_was_withdrawn(page: Page, new_context, smtp_server, browser_problems):
    """Revoke asks for confirmation in a dialog; afterwards the emailed link no longer works."""
    email = f"leo-agent-{uuid.uuid4().hex[:8]}@example.test"
    sign_in(page, "alex@northstar.example")
    open_team(page)
    send_invitation(page, email, "Manager", {})
    link = link_in(smtp_server.wait_for(email))

    page.get_by_role("button", name=f"Revoke the invitation to {email}").click()
    dialog = page.get_by_role("dialog", name=f"Revoke the invitation to {email}?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=f"Revoke the invitation to {email}").click()
    dialog.get_by_role("button", name="Revoke invitation").click()
    expect(page.get_by_text(f"The invitation to {email} was revoked.")).to_be_visible()

    browser_problems.expect_status(410)
    their_browser = new_context().new_page()
    their_browser.goto(link)
    expect(their_browser.get_by_role("heading", name="This invitation was withdrawn")).to_be_visible()


def remove_from_group(page: Page, live_server, group: str, name: str) -> None:
    """On the group's Users tab, Remove `name` and confirm in the dialog."""
    page.goto(f"/settings/access-groups/{live_server.group_id(group)}?tab=users")
    page.get_by_role("row", name=re.compile(name)).get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name=f"Remove {name}?").get_by_role("button", name="Remove").click()
    expect(page.get_by_text(f"{name} was removed from “{group}”.")).to_be_visible()


def test_invited_person_moves_between_groups_and_loses_access(page: Page, new_context, live_server,
                                                              smtp_server, browser_problems):
    """Invite, join, add to a second group, remove from the default: they see only the second group;
    removed from that too, their next click lands on a page they may see."""
    browser_problems.expect_status(404)  # their click into the group they just lost
    email = f"omar-{uuid.uuid4().hex[:8]}@example.test"
    sign_in(page, "owner@northstar.example")
    open_team(page)
    send_invitation(page, email, "Manager", {})  # the default group, Northstar HQ, stays ticked
    their_browser = new_context().new_page()
    their_browser.goto(link_in(smtp_server.wait_for(email)))
    their_browser.get_by_label("Your name").fill("Omar Onboard")
    their_browser.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    their_browser.get_by_label("Repeat password").fill(NEW_PASSWORD)
    their_browser.get_by_role("button", name="Join Northstar Talent").click()
    expect_group_shown(their_browser, "Northstar HQ")

    # The owner adds Omar to Jonah's group on its Users tab, then takes him off the default group.
    page.goto(f"/settings/access-groups/{live_server.group_id('Jonah Reed')}?tab=users")
    page.get_by_text("Add User").click()
    page.get_by_label("Find a member").fill("omar")
    page.get_by_role("button", name="Add Omar Onboard").click()
    expect(page.get_by_role("row", name=re.compile("Omar Onboard"))).to_be_visible()
    remove_from_group(page, live_server, "Northstar HQ", "Omar Onboard")

    # Signed in, Omar sees only Jonah's group: its name, not a menu.
    their_browser.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect_group_shown(their_browser, "Jonah Reed")
    expect(their_browser.get_by_role("navigation", name="Main").locator("summary")).to_have_count(0)

    # Removed from Jonah's group too, his next click lands on a page he may see.
    remove_from_group(page, live_server, "Jonah Reed", "Omar Onboard")
    their_browser.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(their_browser.get_by_role("heading", name="No access group yet")).to_be_visible()
