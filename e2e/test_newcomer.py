"""A path for newcomers in a browser: a client invited by name on a phone lands on next steps they can
take, and a new group's Overview carries a checklist that ticks as the group is set up."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.mail import send_pending
from webapp.models import AccessGroup, Account

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
NEW_PASSWORD = "a long new password"


@pytest.fixture(scope="module")
def newcomer_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The demo agency with one more group, "Nia Studio", that nobody has set up yet."""

    def add_studio() -> None:
        account = db.session.scalar(select(Account).where(Account.name == "Northstar Talent"))
        db.session.add(AccessGroup(account_id=account.id, name="Nia Studio"))

    with own_demo_server(tmp_path_factory.mktemp("newcomer"), add_studio) as server:
        yield server


@pytest.fixture
def base_url(newcomer_server: LiveServer) -> str:
    return newcomer_server.url


def invitation_link(server: LiveServer, email: str, timeout: float = 10.0) -> str:
    """The link in the invitation email to `email`, from the server's outbox (delivering what is queued)."""
    outbox = Path(server.app.config["MAIL_OUTBOX"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.app.app_context():
            send_pending()
            db.session.remove()
        for path in sorted(outbox.glob("*.eml"), key=lambda item: item.stat().st_mtime, reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
            if message["To"] == email:
                return re.search(r"https?://\S+/invitations/\S+", message.get_body(("plain",)).get_content()).group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail to {email}")


def test_a_client_invited_by_name_on_a_phone_lands_on_next_steps(new_context, newcomer_server, browser_problems):
    """Invite from Team at 390 px (a client needs a group), accept with the name filled in, follow the first step."""
    browser_problems.expect_status(422)  # the invitation sent without a group, on purpose
    email = f"nia-{uuid.uuid4().hex[:8]}@example.test"
    owner = new_context(**PHONE).new_page()
    sign_in(owner, "owner@northstar.example")
    owner.goto("/settings/team")
    invite = owner.get_by_role("region", name="Invite someone")
    invite.get_by_label("Name").fill("Nia Newcomer")
    invite.get_by_label("Email").fill(email)
    client_role = invite.get_by_role("radio", name="Client", exact=True)
    expect(client_role).to_be_checked()
    expect(client_role).to_have_accessible_description(re.compile("^A creator or client: sees only their own group"))
    for box in invite.get_by_role("checkbox").all():  # no group is chosen for a client
        expect(box).not_to_be_checked()

    invite.get_by_role("button", name="Send invitation").tap()
    problem = owner.get_by_role("region", name="Invite someone").get_by_role("alert")
    expect(problem).to_have_text(re.compile("Choose the access group of the client or creator you invite"))
    expect(owner.get_by_label("Name")).to_have_value("Nia Newcomer")  # nothing typed is lost

    owner.get_by_label("Nia Studio", exact=True).check()
    owner.get_by_role("button", name="Send invitation").tap()
    sent = owner.get_by_role("status").filter(has_text=f"Invitation sent to {email}.")
    expect(sent).to_be_visible()
    expect(sent).to_be_in_viewport()

    their_page = new_context(**PHONE).new_page()
    their_page.goto(invitation_link(newcomer_server, email))
    expect(their_page.get_by_role("heading", name="Join Northstar Talent")).to_be_visible()
    expect(their_page.get_by_label("Your name")).to_have_value("Nia Newcomer")
    their_page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    their_page.get_by_label("Repeat password").fill(NEW_PASSWORD)
    their_page.get_by_role("button", name="Join Northstar Talent").tap()

    expect(their_page).to_have_url(re.compile(rf"/g/{newcomer_server.group_id('Nia Studio')}/$"))
    steps = their_page.get_by_role("region", name="Your next steps")
    expect(steps).to_contain_text("Your agency is still setting up “Nia Studio”. Once Nora Quinn adds a social set")
    expect(their_page.get_by_role("region", name="Media library")).to_contain_text(
        "You do not have access to this group's media library. To use it, ask Nora Quinn.")
    first_step = steps.get_by_role("link").first
    expect(first_step).to_have_text("Choose your emails")
    first_step.tap()
    expect(their_page).to_have_url(re.compile(r"/settings/notifications$"))
    expect(their_page.get_by_role("heading", level=1)).to_be_visible()
    width = their_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px wide"


def test_a_new_groups_checklist_ticks_as_it_is_set_up_and_can_be_dismissed(new_context):
    """Create a group, open its Overview, add a social set from the checklist, see it ticked, put it away."""
    page = new_context(**DESKTOP).new_page()
    sign_in(page, "owner@northstar.example")
    page.goto("/settings/access-groups")
    page.get_by_label("Name").fill("Orbit Studio")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("link", name="Open the Overview of Orbit Studio").click()

    checklist = page.get_by_role("region", name="Get “Orbit Studio” ready")
    expect(checklist).to_be_visible()
    expect(checklist.get_by_test_id("checklist-progress")).to_have_text("0 of 5 done")
    expect(checklist.get_by_role("listitem").first).to_contain_text("Add a social set (not done yet)")
    overview = page.url

    checklist.get_by_role("link", name="Create a social set").click()
    page.get_by_label("Set name").fill("Orbit Main")
    page.get_by_role("button", name="Create set").click()
    expect(page.get_by_role("list", name="Social sets").get_by_role("heading", name="Orbit Main")).to_be_visible()

    page.goto(overview)
    expect(checklist.get_by_test_id("checklist-progress")).to_have_text("1 of 5 done")
    expect(checklist.get_by_role("listitem").first).to_contain_text("Add a social set (done)")
    expect(checklist.get_by_role("link", name="Create a social set")).to_have_count(0)
    expect(checklist.get_by_role("link", name="Connect profiles")).to_be_visible()

    checklist.get_by_role("button", name="Hide this checklist").click()
    expect(checklist).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orbit Studio")
    expect(page.get_by_role("region", name="Get “Orbit Studio” ready")).to_have_count(0)
