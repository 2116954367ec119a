"""Settings › Team › a member in a browser: client grants against the plan's seats, and handing over ownership.

Each test changes who may do what in the demo agency, so each gets a demo agency of its own on a
fresh server; the session's shared server keeps the demo data other browser tests count on.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from webapp.extensions import db
from webapp.models import Account

from .conftest import LiveServer
from .helpers import sign_in

OWNER = "owner@northstar.example"
MAYA = "maya@northstar.example"
SEAT_MESSAGE = "Your Starter plan includes 2 team seats. Upgrade the plan to add more."


@pytest.fixture
def base_url(demo_server: LiveServer) -> str:
    return demo_server.url


def put_on_plan(server: LiveServer, plan_code: str) -> None:
    """Move the demo agency to another plan, as an operator would in the database."""
    with server.app.app_context():
        db.session.execute(update(Account).values(plan_code=plan_code))
        db.session.commit()
        db.session.remove()


def open_member(page: Page, name: str) -> None:
    """From the Team page, follow the member's name to their page."""
    page.goto("/settings/team")
    page.get_by_role("table", name=re.compile("Members of")).get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_publish_for_a_client_on_a_full_plan_is_refused_with_the_limit(page: Page, demo_server, browser_problems):
    """On Starter (2 seats, the staff already hold 4) ticking Publish is refused; after a reload it is unticked."""
    put_on_plan(demo_server, "starter")
    browser_problems.expect_status(422)
    sign_in(page, OWNER)
    open_member(page, "Maya Lopez")
    grants = page.get_by_role("region", name="Client grants")
    publish = grants.get_by_label("Publish", exact=True)
    expect(publish).not_to_be_checked()
    publish.check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("region", name="Client grants").get_by_role("alert")).to_have_text(SEAT_MESSAGE)
    page.reload()
    expect(page.get_by_role("region", name="Client grants").get_by_label("Publish", exact=True)).not_to_be_checked()


def test_a_client_given_publish_is_offered_new_post_in_their_group(page: Page, new_context, demo_server):
    """On a plan with room, Publish + Analytics are saved; signed in as the client, New post is there."""
    sign_in(page, OWNER)
    open_member(page, "Maya Lopez")
    grants = page.get_by_role("region", name="Client grants")
    grants.get_by_label("Publish", exact=True).check()
    grants.get_by_label("Analytics", exact=True).check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Maya Lopez's rights were saved.")).to_be_visible()
    page.reload()
    grants = page.get_by_role("region", name="Client grants")
    expect(grants.get_by_label("Publish", exact=True)).to_be_checked()
    expect(grants.get_by_label("Analytics", exact=True)).to_be_checked()
    expect(grants.get_by_label("Social inbox", exact=True)).not_to_be_checked()

    maya = new_context().new_page()
    sign_in(maya, MAYA)
    maya.goto(f"/g/{demo_server.group_id('Maya Lopez')}/calendar")
    expect(maya.get_by_role("link", name="New post", exact=True)).to_be_visible()


def test_owner_transfers_ownership_to_an_admin_through_the_dialog(page: Page):
    """The dialog says the owner becomes an admin; afterwards the Team page shows the old owner as Admin."""
    sign_in(page, OWNER)
    open_member(page, "Alex Rivera")
    page.get_by_role("button", name="Make Alex Rivera the owner…").click()
    dialog = page.get_by_role("dialog", name="Make Alex Rivera the owner of Northstar Talent?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You become an admin")
    dialog.get_by_role("button", name="Transfer ownership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    expect(page.get_by_text("Alex Rivera is now the owner of Northstar Talent. You are an admin.")).to_be_visible()
    members = page.get_by_role("table", name=re.compile("Members of"))
    expect(members.get_by_role("row").filter(has_text="Nora Quinn").get_by_role("cell").nth(2)).to_have_text("Admin")
    expect(members.get_by_role("row").filter(has_text="Alex Rivera").get_by_role("cell").nth(2)).to_have_text("Owner")
