"""Settings › Organize in a browser: drag profiles and sets between groups, preview, save, undo.

These tests move profiles and whole sets between access groups, so each one gets a demo agency of
its own: the session's shared server keeps the demo data other browser tests count on. That server
follows TEST_DATABASE_URL like the unit tests do (a scratch database on that PostgreSQL server), so
the run of the suite on PostgreSQL also races two admins' saves on PostgreSQL.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Post, SocialProfile, SocialSet

from .conftest import LiveServer
from .helpers import sign_in

OWNER = "owner@northstar.example"
ADMIN = "alex@northstar.example"
# Tall enough for the whole board: a drag never has to scroll the page on its way.
TALL = {"width": 1280, "height": 1000}
CURRENT_STATE = "Nothing was moved; the board now shows the current state."


@pytest.fixture
def base_url(demo_server: LiveServer) -> str:
    return demo_server.url


# --- finding things on the board ------------------------------------------------------------------


def open_board(page: Page) -> None:
    page.goto("/settings/organize")
    expect(page.get_by_role("heading", name="Organize", level=1)).to_be_visible()
    expect(pending(page)).to_have_text("No changes")


def board_as(new_context, email: str) -> Page:
    """A page of its own, signed in as `email`, showing the Organize board."""
    page = new_context(viewport=TALL).new_page()
    sign_in(page, email)
    open_board(page)
    return page


def sets_of(page: Page, group: str) -> Locator:
    """The list of social sets in the column of `group`."""
    return page.get_by_role("list", name=f"Social sets of {group}", exact=True)


def set_card(page: Page, group: str, name: str) -> Locator:
    return sets_of(page, group).get_by_role("listitem", name=f"Social set {name}", exact=True)


def profiles_in(page: Page, group: str, set_name: str) -> Locator:
    """The list of profile chips of the set `set_name` in the column of `group`."""
    return set_card(page, group, set_name).get_by_role("list", name=f"Profiles in {set_name}", exact=True)


def chip(page: Page, label: str) -> Locator:
    """The chip of the profile `label` ("Instagram @handle"), wherever it sits on the board."""
    return page.locator("li.chip").filter(has=page.get_by_role("button", name=f"Move to… ({label})", exact=True))


def chip_labels(page: Page, group: str, set_name: str) -> Locator:
    return profiles_in(page, group, set_name).locator("li.chip .handle")


def slot(page: Page, set_name: str, network: str) -> Locator:
    """The slot of `network` in the set `set_name` on a group's Social Profiles page."""
    return page.get_by_role("list", name=f"Network slots of {set_name}").get_by_role("listitem").filter(
        has_text=re.compile(rf"^\s*{network}\b"))


def pending(page: Page) -> Locator:
    return page.locator("#pending-count")


def message(page: Page) -> Locator:
    return page.locator("#organize-message")


def flash(page: Page, text: str) -> Locator:
    return page.locator("#flashes").get_by_text(text, exact=True)


def preview_dialog(page: Page, changes: int = 1) -> Locator:
    word = "change" if changes == 1 else "changes"
    return page.get_by_role("dialog", name=f"Save {changes} {word}?")


def open_preview(page: Page, changes: int = 1) -> Locator:
    page.get_by_role("button", name="Save Changes").click()
    dialog = preview_dialog(page, changes)
    expect(dialog).to_be_visible()
    return dialog


def expect_no_more_changes(page: Page) -> None:
    expect(pending(page)).to_have_text("No changes")
    expect(page.get_by_role("button", name="Save Changes")).to_be_disabled()


def move_with_dialog(page: Page, opener: Locator, select_label: str, destination: str) -> None:
    """Stage a move through the "Move to… (…)" button and its dialog, with the mouse."""
    opener.click()
    page.get_by_label(select_label, exact=True).select_option(label=destination)
    page.get_by_role("button", name="Stage move").click()
    expect(page.get_by_role("dialog", name="Move to…")).to_be_hidden()


# --- the keyboard ---------------------------------------------------------------------------------


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator, backwards: bool = False, limit: int = 250) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, as someone without a mouse would."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if is_focused(target):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} never reached {target}")


def arrow_to(page: Page, select: Locator, label: str, limit: int = 30) -> None:
    """Press ArrowDown in the focused `select` until the option `label` is chosen."""
    for _ in range(limit):
        if select.evaluate("element => element.selectedOptions[0]?.textContent") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"ArrowDown never chose {label!r}")


# --- checking the database behind the pages -------------------------------------------------------


def groups_holding(server: LiveServer, handle: str) -> set[int]:
    """The groups holding the set of the profile @`handle`, its profiles and their posts: one if whole."""
    with server.app.app_context():
        social_set = db.session.scalar(
            select(SocialSet).join(SocialSet.profiles).where(SocialProfile.handle == handle))
        profile_ids = [p.id for p in social_set.profiles]
        groups = {social_set.access_group_id} | {p.access_group_id for p in social_set.profiles}
        groups |= set(db.session.scalars(select(Post.access_group_id).where(Post.social_profile_id.in_(profile_ids))))
        db.session.remove()
    return groups


# --- the tests ------------------------------------------------------------------------------------


def test_a_profile_dragged_to_another_group_takes_its_posts_and_leaves_its_media(
    page: Page, new_context, demo_server
):
    """Maya's Instagram goes to Leo's set: the preview says what happens; Maya then sees neither it nor its posts."""
    maya_group, leo_group = demo_server.group_id("Maya Lopez"), demo_server.group_id("Leo Park")
    # Maya, in a session of her own, sees her Instagram, its three upcoming posts and the photo one uses.
    maya = new_context().new_page()
    sign_in(maya, "maya@northstar.example")
    maya.goto(f"/g/{maya_group}/")
    upcoming_instagram = maya.get_by_role("region", name="Upcoming posts").get_by_role("listitem").filter(
        has_text="Instagram")
    expect(upcoming_instagram).to_have_count(3)
    main_set = maya.get_by_role("article", name="Social set Maya Main")
    expect(main_set.get_by_role("listitem").filter(has_text="Instagram")).to_contain_text("@mayalopez")

    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Organize").click()
    expect(page.get_by_role("heading", name="Organize", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Maya Lopez").get_by_role("heading", name="Maya Main")).to_be_visible()

    instagram = chip(page, "Instagram @mayalopez")
    instagram.drag_to(profiles_in(page, "Leo Park", "Leo Main"), steps=20)
    expect(pending(page)).to_have_text("1 change not saved yet")
    expect(profiles_in(page, "Leo Park", "Leo Main").locator(instagram)).to_have_count(1)
    expect(profiles_in(page, "Maya Lopez", "Maya Main").locator(instagram)).to_have_count(0)

    dialog = open_preview(page)
    impact = dialog.get_by_role("region", name="Instagram @mayalopez", exact=True)
    expect(impact.get_by_role("heading")).to_have_text("Instagram @mayalopez: Maya Lopez → Leo Park")
    expect(impact.get_by_test_id("posts-moving")).to_have_text(
        "3 posts move with it (1 approved, 1 pending approval, 1 rejected).")
    expect(impact.get_by_text("Campaigns in Maya Lopez lose it: Maya x Summer Launch.", exact=True)).to_be_visible()
    expect(impact.get_by_text("Approvers who lose it: Maya Lopez. It will have no approver: its posts wait for "
                              "approval until you choose one.", exact=True)).to_be_visible()
    expect(impact.get_by_text("1 post is waiting for approval.", exact=True)).to_be_visible()
    expect(impact.get_by_text("No longer see it: Maya Lopez, Sam Okafor.", exact=True)).to_be_visible()
    expect(impact.get_by_text("Now see it: Ivy Chen, Leo Park.", exact=True)).to_be_visible()
    staying = dialog.get_by_role("region", name="Media that stays").get_by_role("listitem")
    expect(staying).to_have_text([f"maya-shoot-{n}.jpg (Maya Lopez), used by 1 moving post" for n in (2, 3, 4)])

    # Cancel changes nothing; Move applies.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(pending(page)).to_have_text("1 change not saved yet")
    dialog = open_preview(page)
    dialog.get_by_role("button", name="Move").click()
    expect(flash(page, "Saved 1 change; 3 posts moved with their profiles.")).to_be_visible()
    expect(page.get_by_role("status").filter(has=page.get_by_role("button", name="Undo"))).to_be_visible()
    expect_no_more_changes(page)
    expect(profiles_in(page, "Leo Park", "Leo Main").locator(instagram)).to_have_count(1)
    page.reload()
    expect(profiles_in(page, "Leo Park", "Leo Main").locator(instagram)).to_have_count(1)
    # Her TikTok and YouTube stay.
    expect(chip_labels(page, "Maya Lopez", "Maya Main")).to_have_text(["@mayalopez", "@mayalopez"])
    expect(chip(page, "TikTok @mayalopez")).to_have_count(1)
    expect(chip(page, "Instagram @mayalopez")).to_have_count(1)

    # Maya no longer sees the profile or its posts: not on her Social Profiles page, not on the overview.
    maya.goto(f"/g/{maya_group}/profiles")
    expect(maya.get_by_role("heading", name="Social Profiles", level=1)).to_be_visible()
    expect(slot(maya, "Maya Main", "Instagram")).not_to_contain_text("@mayalopez")
    expect(slot(maya, "Maya Main", "TikTok")).to_contain_text("@mayalopez")
    maya.goto(f"/g/{maya_group}/")
    expect(main_set.get_by_role("listitem").filter(has_text="Instagram")).to_contain_text("Empty")
    expect(upcoming_instagram).to_have_count(0)
    expect(maya.get_by_role("region", name="Upcoming posts").get_by_role("listitem")).to_have_count(2)

    # The photos those posts use stay in her library; she just no longer sees a post using them.
    maya.goto(f"/g/{maya_group}/media")
    expect(maya.get_by_test_id("media-count")).to_have_text("6 items in this library")
    for name in ("maya-shoot-2.jpg", "maya-shoot-3.jpg", "maya-shoot-4.jpg"):
        expect(maya.get_by_role("img", name=name, exact=True)).to_be_visible()
    maya.get_by_role("link", name=re.compile(r"maya-shoot-3\.jpg")).first.click()
    expect(maya.get_by_role("heading", name="maya-shoot-3.jpg", level=1)).to_be_visible()
    expect(maya.get_by_text("No post you can see uses this item.")).to_be_visible()

    # Her campaign lost the profile; Leo, in the group it went to, now has it.
    maya.goto(f"/g/{maya_group}/campaigns")
    expect(maya.get_by_role("list", name="Profiles of Maya x Summer Launch")).to_have_text(
        re.compile(r"^\s*TikTok\s+@mayalopez\s*$"))
    leo = new_context().new_page()
    sign_in(leo, "leo@northstar.example")
    leo.goto(f"/g/{leo_group}/profiles")
    expect(slot(leo, "Leo Main", "Instagram")).to_contain_text("@mayalopez")


def test_a_whole_set_dragged_by_its_handle_moves_to_the_other_group(page: Page, demo_server):
    """Maya's Brand Deals goes to Leo's column with both its profiles; a reload shows it there."""
    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    open_board(page)
    brand_deals = set_card(page, "Maya Lopez", "Brand Deals")
    brand_deals.locator(".drag-handle").drag_to(sets_of(page, "Leo Park"), steps=20)
    expect(pending(page)).to_have_text("1 change not saved yet")
    expect(set_card(page, "Leo Park", "Brand Deals")).to_be_visible()
    expect(set_card(page, "Maya Lopez", "Brand Deals")).to_have_count(0)

    dialog = open_preview(page)
    expect(dialog).to_contain_text("The set Brand Deals moves from Maya Lopez to Leo Park with its 2 profiles.")
    expect(dialog.get_by_role("region", name="Instagram @mayalopezdeals").get_by_test_id("posts-moving")).to_have_text(
        "1 post moves with it (1 published).")
    expect(dialog.get_by_role("region", name="X @mayalopezdeals").get_by_test_id("posts-moving")).to_have_text(
        "0 posts move with it.")
    dialog.get_by_role("button", name="Move").click()
    expect(flash(page, "Saved 1 change; 1 post moved with their profiles.")).to_be_visible()
    expect_no_more_changes(page)

    page.reload()
    expect(set_card(page, "Leo Park", "Brand Deals")).to_be_visible()
    expect(set_card(page, "Maya Lopez", "Brand Deals")).to_have_count(0)
    expect(chip_labels(page, "Leo Park", "Brand Deals")).to_have_text(["@mayalopezdeals", "@mayalopezdeals"])
    expect(sets_of(page, "Maya Lopez").get_by_role("listitem", name=re.compile("^Social set"))).to_have_count(1)
    assert groups_holding(demo_server, "mayalopezdeals") == {demo_server.group_id("Leo Park")}


def test_a_profile_dropped_on_a_set_that_has_that_network_is_refused(page: Page, demo_server):
    """Northstar (HQ) has an Instagram: Jonah's Instagram cannot go there, and nothing is staged."""
    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    open_board(page)
    instagram = chip(page, "Instagram @jonahreed")
    instagram.drag_to(profiles_in(page, "Northstar HQ", "Northstar"), steps=20)

    expect(message(page)).to_have_text(
        "The Instagram slot of “Northstar” is taken; a social set holds one profile of each network.")
    expect_no_more_changes(page)
    expect(profiles_in(page, "Jonah Reed", "Jonah Main").locator(instagram)).to_have_count(1)
    expect(chip_labels(page, "Northstar HQ", "Northstar")).to_have_text(["@northstartalent"] * 3)

    # The keyboard path refuses the same slot: the option is there but cannot be chosen.
    instagram.get_by_role("button").click()
    select = page.get_by_label("Move Instagram @jonahreed to", exact=True)
    expect(select.get_by_role("option", name="Northstar HQ › Northstar (Instagram slot taken)")).to_be_disabled()
    page.get_by_role("button", name="Cancel").click()
    expect_no_more_changes(page)


def test_a_refused_drop_after_crossing_another_set_stages_nothing(page: Page, demo_server):
    """Maya's Instagram dragged to Jonah Main passes over Leo Main on the way: it must not stay there."""
    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    open_board(page)
    instagram = chip(page, "Instagram @mayalopez")
    instagram.drag_to(profiles_in(page, "Jonah Reed", "Jonah Main"), steps=20)
    expect(message(page)).to_have_text(
        "The Instagram slot of “Jonah Main” is taken; a social set holds one profile of each network.")
    expect(profiles_in(page, "Maya Lopez", "Maya Main").locator(instagram)).to_have_count(1, timeout=2_000)
    expect(pending(page)).to_have_text("No changes", timeout=1_000)


def test_undo_puts_everything_back(page: Page, demo_server):
    """Jonah's YouTube goes to Northstar HQ and comes back with Undo, its campaign link restored."""
    jonah_group = demo_server.group_id("Jonah Reed")
    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    open_board(page)
    youtube = chip(page, "YouTube @jonahreed")
    youtube.drag_to(profiles_in(page, "Northstar HQ", "Northstar"), steps=20)
    expect(pending(page)).to_have_text("1 change not saved yet")
    dialog = open_preview(page)
    expect(dialog.get_by_test_id("posts-moving")).to_have_text(
        "3 posts move with it (1 draft, 1 published, 1 scheduled).")
    expect(dialog.get_by_text("Campaigns in Jonah Reed lose it: Jonah x Summer Launch.", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Move").click()
    expect(flash(page, "Saved 1 change; 3 posts moved with their profiles.")).to_be_visible()
    expect(profiles_in(page, "Northstar HQ", "Northstar").locator(youtube)).to_have_count(1)
    # In another tab: the campaign lost the profile.
    campaigns = page.context.new_page()
    campaigns.goto(f"/g/{jonah_group}/campaigns")
    campaign_profiles = campaigns.get_by_role("list", name="Profiles of Jonah x Summer Launch")
    expect(campaign_profiles).to_have_text(re.compile(r"^\s*Instagram\s+@jonahreed\s*$"))

    toast = page.get_by_role("status").filter(has=page.get_by_role("button", name="Undo"))
    expect(toast).to_contain_text("You can undo this for 30 seconds.")
    toast.get_by_role("button", name="Undo").click()
    expect(flash(page, "Undone: everything is back where it was.")).to_be_visible()
    expect(toast).to_have_count(0)
    expect(profiles_in(page, "Jonah Reed", "Jonah Main").locator(youtube)).to_have_count(1)
    expect(profiles_in(page, "Northstar HQ", "Northstar").locator(youtube)).to_have_count(0)
    expect_no_more_changes(page)

    page.reload()
    expect(profiles_in(page, "Jonah Reed", "Jonah Main").locator(youtube)).to_have_count(1)
    expect(chip_labels(page, "Northstar HQ", "Northstar")).to_have_text(["@northstartalent"] * 3)
    campaigns.reload()
    expect(campaign_profiles).to_contain_text("YouTube @jonahreed")

    # The same move again is previewed exactly as the first time: the undo left nothing behind.
    open_board(page)
    chip(page, "YouTube @jonahreed").drag_to(profiles_in(page, "Northstar HQ", "Northstar"), steps=20)
    dialog = open_preview(page)
    expect(dialog.get_by_test_id("posts-moving")).to_have_text(
        "3 posts move with it (1 draft, 1 published, 1 scheduled).")
    expect(dialog.get_by_text("Campaigns in Jonah Reed lose it: Jonah x Summer Launch.", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_the_same_move_with_the_keyboard_alone(page: Page, demo_server):
    """Tab to "Move to… (…)", choose the set with the arrow keys, stage, save and confirm: no mouse."""
    page.set_viewport_size(TALL)
    sign_in(page, OWNER)
    open_board(page)

    move_button = page.get_by_role("button", name="Move to… (Instagram @mayalopez)", exact=True)
    tab_to(page, move_button)
    page.keyboard.press("Enter")
    move_dialog = page.get_by_role("dialog", name="Move to…")
    expect(move_dialog).to_be_visible()
    select = move_dialog.get_by_label("Move Instagram @mayalopez to", exact=True)
    expect(select).to_be_focused()
    arrow_to(page, select, "Leo Park › Leo Main")
    stage = move_dialog.get_by_role("button", name="Stage move")
    tab_to(page, stage)
    page.keyboard.press("Space")
    expect(move_dialog).to_be_hidden()
    expect(pending(page)).to_have_text("1 change not saved yet")
    expect(profiles_in(page, "Leo Park", "Leo Main").locator(chip(page, "Instagram @mayalopez"))).to_have_count(1)
    expect(move_button).to_be_focused()

    tab_to(page, page.get_by_role("button", name="Save Changes"), backwards=True)
    page.keyboard.press("Enter")
    dialog = preview_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("posts-moving")).to_have_text(
        "3 posts move with it (1 approved, 1 pending approval, 1 rejected).")
    tab_to(page, dialog.get_by_role("button", name="Move"))
    page.keyboard.press("Enter")
    expect(flash(page, "Saved 1 change; 3 posts moved with their profiles.")).to_be_visible()
    expect_no_more_changes(page)

    page.reload()
    expect(profiles_in(page, "Leo Park", "Leo Main").locator(chip(page, "Instagram @mayalopez"))).to_have_count(1)
    expect(profiles_in(page, "Maya Lopez", "Maya Main").locator(chip(page, "Instagram @mayalopez"))).to_have_count(0)


def test_two_admins_moving_the_same_set_one_wins_and_nothing_is_half_moved(
    new_context, demo_server, browser_problems
):
    """The owner sends Priya's Brand Deals to Leo, Alex sends it to Jonah, both confirm: one wins, whole."""
    browser_problems.expect_status(409)  # the loser is answered 409 on purpose
    owner, admin = board_as(new_context, OWNER), board_as(new_context, ADMIN)
    destinations = {owner: "Leo Park", admin: "Jonah Reed"}
    for page, destination in destinations.items():
        opener = set_card(page, "Priya Shah", "Brand Deals").get_by_role("button", name="Move to… (set Brand Deals)")
        move_with_dialog(page, opener, "Move the set Brand Deals to", destination)
        expect(pending(page)).to_have_text("1 change not saved yet")
        expect(set_card(page, destination, "Brand Deals")).to_be_visible()
        dialog = open_preview(page)
        expect(dialog).to_contain_text(
            f"The set Brand Deals moves from Priya Shah to {destination} with its 1 profile.")

    # Both confirm, one right after the other, before either answer is back.
    for page in destinations:
        preview_dialog(page).get_by_role("button", name="Move").click()
    saved = "Saved 1 change; 1 post moved with their profiles."
    conflict = re.compile(r"^(A social set was moved by someone else a moment ago\.|“Brand Deals” was changed by "
                          r"someone else since you loaded the page\.) " + re.escape(CURRENT_STATE) + "$")
    for page in destinations:
        expect(flash(page, saved).or_(message(page).filter(has_text=conflict))).to_be_visible()
    winners = [page for page in destinations if flash(page, saved).is_visible()]
    assert len(winners) == 1, "exactly one of the two saves must win"
    winner = winners[0]
    loser = next(page for page in destinations if page is not winner)
    expect(message(loser)).to_have_text(conflict)
    expect(flash(loser, saved)).to_have_count(0)
    expect(message(winner)).to_have_text("")

    # Both boards show the set where the winner put it, and only there.
    moved_to, not_moved_to = destinations[winner], destinations[loser]
    for page in destinations:
        expect_no_more_changes(page)
        expect(set_card(page, moved_to, "Brand Deals")).to_be_visible()
        expect(set_card(page, not_moved_to, "Brand Deals")).to_have_count(0)
        expect(set_card(page, "Priya Shah", "Brand Deals")).to_have_count(0)
        page.reload()
        expect(set_card(page, moved_to, "Brand Deals")).to_be_visible()
        expect(chip_labels(page, moved_to, "Brand Deals")).to_have_text(["@priyashahdeals"])
        expect(set_card(page, not_moved_to, "Brand Deals")).to_have_count(0)

    # Its profile and its post are in that group too, and nowhere else.
    for group in (moved_to, not_moved_to, "Priya Shah"):
        group_id = demo_server.group_id(group)
        here = 1 if group == moved_to else 0
        winner.goto(f"/g/{group_id}/profiles")
        deals = winner.get_by_role("list", name="Social sets").get_by_role("listitem", name="Brand Deals", exact=True)
        expect(winner.get_by_role("heading", name="Social Profiles", level=1)).to_be_visible()
        expect(deals).to_have_count(here)
        if here:
            expect(deals).to_contain_text("@priyashahdeals")
        winner.goto(f"/g/{group_id}/")
        expect(winner.get_by_role("article", name="Social set Brand Deals")).to_have_count(here)
        expect(winner.get_by_role("region", name="Upcoming posts").get_by_role("listitem").filter(
            has_text="LinkedIn")).to_have_count(here)
    assert groups_holding(demo_server, "priyashahdeals") == {demo_server.group_id(moved_to)}
