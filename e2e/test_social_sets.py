"""Social sets in a browser: the owner creates, renames and deletes a set on a group's Social Profiles tab."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from webapp.models import Network

from .helpers import sign_in


def set_card(page: Page, name: str):
    """The card of the social set called `name` on the Social Profiles tab."""
    return page.get_by_role("list", name="Social sets").get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def test_owner_creates_renames_and_deletes_a_set_and_is_told_why_a_full_one_stays(
    page: Page, live_server, browser_problems
):
    """Create, rename and delete in place through the dialog; a set with profiles cannot be deleted."""
    browser_problems.expect_status(422)  # the duplicate name is answered 422 on purpose
    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{live_server.group_id('Jonah Reed')}")
    expect(page.get_by_role("heading", name="Jonah Main", exact=True)).to_be_visible()
    page.evaluate("window.__rosterMarker = 1")

    # A duplicate name (ignoring case) is refused beside the field.
    page.get_by_label("Set name").fill("jonah main")
    page.get_by_role("button", name="Create set").click()
    expect(page.get_by_role("alert")).to_have_text("“Jonah Reed” already has a social set called “jonah main”.")
    expect(page.get_by_label("Set name")).to_have_attribute("aria-invalid", "true")

    # Create.
    page.get_by_label("Set name").fill("  Summer   Tour ")
    page.get_by_role("button", name="Create set").click()
    expect(page.get_by_text("Social set “Summer Tour” created.")).to_be_visible()
    card = set_card(page, "Summer Tour")
    expect(card).to_be_visible()
    expect(card.get_by_role("list", name="Network slots of Summer Tour").get_by_role("listitem")).to_have_count(len(Network))
    expect(card.get_by_text("Add Social Profile").first).to_be_visible()
    expect(page.get_by_label("Set name")).to_have_value("")
    expect(page.get_by_role("alert")).to_have_count(0)

    # Rename, through the set's own inline form.
    card.get_by_text("Rename").click()
    card.get_by_label("New name for Summer Tour").fill("Autumn Tour")
    card.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Social set renamed to “Autumn Tour”.")).to_be_visible()
    expect(set_card(page, "Autumn Tour")).to_be_visible()
    expect(page.get_by_role("heading", name="Summer Tour")).to_have_count(0)

    # Delete the empty set: the dialog asks first; Cancel keeps it.
    card = set_card(page, "Autumn Tour")
    card.get_by_role("button", name="Delete Autumn Tour").click()
    dialog = page.get_by_role("dialog", name="Delete “Autumn Tour”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_visible()
    card.get_by_role("button", name="Delete Autumn Tour").click()
    dialog.get_by_role("button", name="Delete set").click()
    expect(page.get_by_text("Social set “Autumn Tour” deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Autumn Tour")).to_have_count(0)

    # A set that still holds profiles explains why it stays, and offers no way to delete it.
    set_card(page, "Jonah Main").get_by_role("button", name="Delete Jonah Main").click()
    refusal = page.get_by_role("dialog", name="“Jonah Main” cannot be deleted yet")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("still holds 3 social profiles. Remove or move them before deleting the set.")
    expect(refusal.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
    refusal.get_by_role("button", name="Close").click()
    expect(refusal).to_be_hidden()
    expect(set_card(page, "Jonah Main")).to_be_visible()

    assert page.evaluate("window.__rosterMarker") == 1, "changing sets reloaded the page"

    # A full page load shows the same sets.
    page.reload()
    expect(set_card(page, "Jonah Main")).to_be_visible()
    expect(page.get_by_role("heading", name="Autumn Tour")).to_have_count(0)
