"""Connecting social profiles in a browser, through the built-in sandbox provider's consent page.

These tests add profiles, so they run against a demo agency of their own: the session's shared
server keeps the demo data other browser tests count on.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.models import Post, SocialProfile, SocialSet, User

from .conftest import LiveServer, build_app, serve
from .helpers import sign_in

NO_LONGER_VALID = "This connection link is no longer valid. Start again from the slot."


@pytest.fixture(scope="module")
def profiles_server(tmp_path_factory) -> Iterator[LiveServer]:
    app = build_app(tmp_path_factory.mktemp("e2e-profiles"))
    with app.app_context():
        seed_demo(with_files=False)
        db.session.commit()
        db.session.remove()
    with serve(app) as server:
        yield server


@pytest.fixture
def base_url(profiles_server: LiveServer) -> str:
    return profiles_server.url


def profiles_in(server: LiveServer, set_name: str, group: str | None = None) -> list[tuple[str, str, str | None]]:
    """(network, handle, who connected it) of each profile in the set called `set_name`."""
    with server.app.app_context():
        query = (
            select(SocialProfile.network, SocialProfile.handle, User.email)
            .join(SocialSet, SocialSet.id == SocialProfile.social_set_id)
            .outerjoin(User, User.id == SocialProfile.connected_by_id)
            .where(SocialSet.name == set_name).order_by(SocialProfile.network)
        )
        if group is not None:
            query = query.where(SocialSet.access_group_id == server.group_id(group))
        rows = db.session.execute(query).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def post_count(server: LiveServer, handle: str) -> int:
    with server.app.app_context():
        count = db.session.scalar(
            select(func.count(Post.id)).join(SocialProfile, SocialProfile.id == Post.social_profile_id)
            .where(SocialProfile.handle == handle)
        )
        db.session.remove()
    return count


def slots_of(page: Page, set_name: str):
    return page.get_by_role("list", name=f"Network slots of {set_name}")


def slot(page: Page, set_name: str, network: str):
    return slots_of(page, set_name).get_by_role("listitem").filter(has_text=re.compile(rf"^\s*{network}\b"))


def create_set_as_owner(page: Page, server: LiveServer, group: str, name: str) -> None:
    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{server.group_id(group)}")
    page.get_by_label("Set name").fill(name)
    page.get_by_role("button", name="Create set").click()
    expect(page.get_by_text(f"Social set “{name}” created.")).to_be_visible()


def test_a_creator_connects_her_instagram_and_cannot_add_a_second_one(
    page: Page, new_context, profiles_server, browser_problems
):
    """Maya connects through the consent page, sees the profile in the slot; a second Instagram is refused."""
    browser_problems.expect_status(422)  # the second Instagram is answered 422 on purpose
    create_set_as_owner(page, profiles_server, "Maya Lopez", "Maya Fresh")

    maya = new_context()
    page = maya.new_page()
    stale = maya.new_page()
    sign_in(page, "maya@northstar.example")
    slots_url = f"/g/{profiles_server.group_id('Maya Lopez')}/profiles"
    page.goto(slots_url)
    stale.goto(slots_url)  # a second tab, still showing the empty slot
    expect(page.get_by_role("heading", name="Social Profiles", level=1)).to_be_visible()

    page.get_by_role("button", name="Add Social Profile for Instagram in Maya Fresh").click()
    expect(page.get_by_role("heading", name="Connect Roster to Instagram")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/sandbox/instagram/authorize\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    page.get_by_label("@maya.creates").check()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(re.escape(slots_url) + "$"))
    expect(page.get_by_text("Instagram profile @maya.creates connected to “Maya Fresh”.")).to_be_visible()
    expect(slot(page, "Maya Fresh", "Instagram")).to_contain_text("@maya.creates")
    expect(slot(page, "Maya Fresh", "Instagram").get_by_role("button", name=re.compile("^Add"))).to_have_count(0)
    assert profiles_in(profiles_server, "Maya Fresh") == [("instagram", "maya.creates", "maya@northstar.example")]

    # The other tab still offers the slot; trying it is refused with the reason, and nothing is added.
    stale.get_by_role("button", name="Add Social Profile for Instagram in Maya Fresh").click()
    expect(stale.get_by_role("alert")).to_have_text(
        "This set already has an Instagram profile (@maya.creates). A set holds one profile per network."
    )
    expect(stale).to_have_url(re.compile(re.escape(slots_url) + "$"))
    assert profiles_in(profiles_server, "Maya Fresh") == [("instagram", "maya.creates", "maya@northstar.example")]


def test_an_agent_connects_a_tiktok_into_another_group(page: Page, profiles_server):
    """Sam, a manager in Maya's and Jonah's groups, connects Jonah's TikTok with a typed handle."""
    sign_in(page, "sam@northstar.example")
    slots_url = f"/g/{profiles_server.group_id('Jonah Reed')}/profiles"
    page.goto(slots_url)
    page.get_by_role("button", name="Add Social Profile for TikTok in Jonah Main").click()
    expect(page.get_by_role("heading", name="Connect Roster to TikTok")).to_be_visible()
    page.get_by_label("Or type another handle").fill("@Jonah.Moves")
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(re.escape(slots_url) + "$"))
    expect(page.get_by_text("TikTok profile @jonah.moves connected to “Jonah Main”.")).to_be_visible()
    expect(slot(page, "Jonah Main", "TikTok")).to_contain_text("@jonah.moves")
    expect(page.get_by_test_id("current-group")).to_have_text("Jonah Reed")
    assert ("tiktok", "jonah.moves", "sam@northstar.example") in profiles_in(profiles_server, "Jonah Main")


def test_a_tampered_state_ends_on_the_error_page_with_nothing_stored(page: Page, profiles_server, browser_problems):
    """Changing the state on the way to the provider: the callback refuses it and stores nothing."""
    browser_problems.expect_status(400)
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{profiles_server.group_id('Jonah Reed')}/profiles")
    before = profiles_in(profiles_server, "Jonah Main")
    page.get_by_role("button", name="Add Social Profile for Pinterest in Jonah Main").click()
    expect(page.get_by_role("heading", name="Connect Roster to Pinterest")).to_be_visible()
    state = parse_qs(urlsplit(page.url).query)["state"][0]
    page.goto(page.url.replace(f"state={state}", "state=tampered-" + state[:8]))
    page.get_by_label("@northstar.studio").check()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(r"/oauth/callback/pinterest\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connection link expired")
    expect(page.get_by_text(NO_LONGER_VALID)).to_be_visible()
    assert profiles_in(profiles_server, "Jonah Main") == before


def test_owner_disconnects_a_profile_after_the_dialog_counts_its_posts(page: Page, profiles_server):
    """On the Social Profiles tab, Remove asks first and says how many posts go; Cancel keeps it."""
    posts = post_count(profiles_server, "priyashahdeals")
    assert posts == 1
    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{profiles_server.group_id('Priya Shah')}")
    page.get_by_role("button", name="Remove @priyashahdeals from Brand Deals").click()
    dialog = page.get_by_role("dialog", name="Disconnect @priyashahdeals for everyone?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Its 1 post goes with it and is deleted.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Remove @priyashahdeals from Brand Deals").click()
    dialog.get_by_role("button", name="Disconnect for everyone").click()
    expect(page.get_by_text("LinkedIn profile @priyashahdeals was disconnected for everyone.")).to_be_visible()
    expect(slot(page, "Brand Deals", "LinkedIn").get_by_role("button", name=re.compile("^Add Social Profile"))) \
        .to_be_visible()
    assert profiles_in(profiles_server, "Brand Deals", group="Priya Shah") == []
    assert post_count(profiles_server, "priyashahdeals") == 0
