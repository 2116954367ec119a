"""Campaigns in a browser: a manager creates, edits and deletes a campaign of a creator's group, and a
long list shows its first campaigns and the rest on asking."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import delete

from webapp.campaigns import SHOWN
from webapp.extensions import db
from webapp.models import Campaign

from .helpers import sign_in
from .test_shell import switch_group


def campaign_card(page: Page, name: str) -> Locator:
    """The card of the campaign called `name` in the list."""
    return page.get_by_role("list", name="Campaigns").get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def chips(card: Locator, name: str) -> Locator:
    return card.get_by_role("list", name=f"Profiles of {name}").get_by_role("listitem")


def test_manager_creates_edits_and_deletes_a_campaign(page: Page, live_server, browser_problems):
    """Through the sidebar, in place: a refused name and refused dates, then Cancel keeps it, Delete removes it."""
    browser_problems.expect_status(422)  # the refused inputs are answered 422 on purpose
    name = f"Autumn Tour {uuid.uuid4().hex[:6]}"  # the session's server is shared: a name of our own
    maya = live_server.group_id("Maya Lopez")
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{maya}/")
    page.evaluate("window.__rosterMarker = 1")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page).to_have_url(re.compile(rf"/g/{maya}/campaigns$"))
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    demo = campaign_card(page, "Maya x Summer Launch")
    expect(demo.get_by_text("Upcoming", exact=True)).to_be_visible()
    expect(chips(demo, "Maya x Summer Launch")).to_have_count(2)

    # A name the group already uses, ignoring case, is refused beside the field; nothing is added.
    page.get_by_text("New campaign", exact=True).click()
    page.get_by_label("Name", exact=True).fill("maya x summer launch")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("alert")).to_have_text("“Maya Lopez” already has a campaign called “maya x summer launch”.")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")

    # Create, running from yesterday, for two of Maya's profiles.
    today = date.today()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Start date").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("End date").fill((today + timedelta(days=20)).isoformat())
    page.get_by_role("checkbox", name="Instagram @mayalopez", exact=True).check()
    page.get_by_role("checkbox", name="TikTok @mayalopez", exact=True).check()
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text(f"Campaign “{name}” created.")).to_be_visible()
    card = campaign_card(page, name)
    expect(card.get_by_text("Running", exact=True)).to_be_visible()
    expect(chips(card, name)).to_have_text(["Instagram @mayalopez", "TikTok @mayalopez"])
    expect(page.get_by_role("alert")).to_have_count(0)

    # Edit: an end before the start is refused and changes nothing; then a good edit saves.
    card.get_by_role("link", name=f"Edit {name}").click()
    expect(page).to_have_url(re.compile(rf"/g/{maya}/campaigns/\d+/edit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit “{name}”")
    expect(page.get_by_role("checkbox", name="TikTok @mayalopez", exact=True)).to_be_checked()
    page.get_by_label("End date").fill((today - timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("alert")).to_have_text("The end date cannot be before the start date.")
    expect(page.get_by_label("End date")).to_have_attribute("aria-invalid", "true")

    renamed = f"{name} II"
    page.get_by_label("Name", exact=True).fill(renamed)
    page.get_by_label("End date").fill((today + timedelta(days=30)).isoformat())
    page.get_by_role("checkbox", name="TikTok @mayalopez", exact=True).uncheck()
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text(f"Campaign “{renamed}” saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/g/{maya}/campaigns$"))
    card = campaign_card(page, renamed)
    expect(chips(card, renamed)).to_have_text(["Instagram @mayalopez"])
    expect(campaign_card(page, name)).to_have_count(0)

    # Delete: the dialog asks first, and Cancel keeps the campaign.
    card.get_by_role("button", name=f"Delete {renamed}").click()
    dialog = page.get_by_role("dialog", name=f"Delete “{renamed}”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_visible()
    card.get_by_role("button", name=f"Delete {renamed}").click()
    dialog.get_by_role("button", name="Delete campaign").click()
    expect(page.get_by_text(f"Campaign “{renamed}” deleted.")).to_be_visible()
    expect(campaign_card(page, renamed)).to_have_count(0)
    expect(campaign_card(page, "Maya x Summer Launch")).to_be_visible()

    assert page.evaluate("window.__rosterMarker") == 1, "working on campaigns reloaded the page"

    # A full load shows the same list; the switcher stays on Campaigns in the chosen group.
    page.reload()
    expect(campaign_card(page, "Maya x Summer Launch")).to_be_visible()
    expect(campaign_card(page, renamed)).to_have_count(0)
    switch_group(page, "Jonah Reed")
    expect(page).to_have_url(re.compile(rf"/g/{live_server.group_id('Jonah Reed')}/campaigns$"))
    expect(campaign_card(page, "Jonah x Summer Launch")).to_be_visible()


@pytest.fixture
def many_campaigns(live_server) -> Iterator[tuple[int, list[str]]]:
    """More campaigns than the list shows, in Leo Park's group, all ended; deleted afterwards."""
    group_id = live_server.group_id("Leo Park")
    tag = uuid.uuid4().hex[:6]
    names = [f"Past {tag} {n:02}" for n in range(SHOWN + 3)]
    today = date.today()
    with live_server.app.app_context():
        made = [Campaign(access_group_id=group_id, name=name, starts_on=today - timedelta(days=90 + n),
                         ends_on=today - timedelta(days=60 + n)) for n, name in enumerate(names)]
        db.session.add_all(made)
        db.session.commit()
        ids = [campaign.id for campaign in made]
        db.session.remove()
    yield group_id, names
    with live_server.app.app_context():
        db.session.execute(delete(Campaign).where(Campaign.id.in_(ids)))
        db.session.commit()
        db.session.remove()


def test_a_long_list_shows_its_first_campaigns_and_all_on_asking(page: Page, many_campaigns):
    group_id, names = many_campaigns
    sign_in(page, "owner@northstar.example")
    page.goto(f"/g/{group_id}/campaigns")
    cards = page.get_by_role("list", name="Campaigns").locator("h2.campaign-name")
    expect(cards).to_have_count(SHOWN)
    page.get_by_role("link", name=re.compile(r"^Show all \d+ campaigns$")).click()
    expect(page).to_have_url(re.compile(rf"/g/{group_id}/campaigns\?all=1$"))
    expect(cards.filter(has_text=re.compile(r"^Past "))).to_have_count(len(names))
    expect(page.get_by_role("link", name=re.compile("^Show all"))).to_have_count(0)
