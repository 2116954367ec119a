"""Settings › User Groups in a browser: create a group, give it rights, add members with the picker,
grant it on an access group, and see what a member gains, and loses when they are taken out.

The test changes who may enter which group, so it gets a demo agency of its own: the session's shared
server keeps the demo data other browser tests count on.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.accounts import hash_password
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db
from webapp.models import AccessGroup, Account, GroupUser, MemberRight, Membership, Role, User

from .conftest import LiveServer, own_demo_server
from .helpers import expect_group_shown, sign_in

OWNER = "owner@northstar.example"
CASEY = "casey@northstar.example"  # a client with no rights of her own, on the HQ Users tab only
LEO = "leo@northstar.example"  # Leo Park's creator: on his group's Users tab, media rights of his own


def add_casey_and_leos_own_rights() -> None:
    """Casey, a client on the HQ Users tab only; Leo holding the media rights himself."""
    account = db.session.scalar(select(Account).where(Account.name == "Northstar Talent"))
    casey = User(email=CASEY, name="Casey Client", password_hash=hash_password(DEMO_PASSWORD))
    db.session.add(casey)
    db.session.flush()
    db.session.add(Membership(account_id=account.id, user_id=casey.id, role=Role.CLIENT.value))
    hq = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Northstar HQ"))
    db.session.add(GroupUser(access_group_id=hq.id, user_id=casey.id))
    # Leo holds the media rights himself too, whatever user groups the demo puts him in.
    leo = db.session.scalar(select(Membership).join(User).where(User.email == LEO))
    leo.rights = [MemberRight(name=right) for right in ("media.view", "media.upload")]


@pytest.fixture
def user_groups_server(tmp_path) -> Iterator[LiveServer]:
    with own_demo_server(tmp_path, add_casey_and_leos_own_rights) as server:
        yield server


@pytest.fixture
def base_url(user_groups_server: LiveServer) -> str:
    return user_groups_server.url


def pick_member(page: Page, typed: str, name: str, until: date | None = None) -> None:
    """Type part of a name in the member picker and add the person it offers."""
    panel = page.get_by_role("region", name="Members")
    # htmx wires up swapped-in content when it settles: a picker typed into before that never searches.
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping')")
    picker = page.get_by_label("Find a member")
    if not picker.is_visible():
        panel.get_by_text("Add member", exact=True).click()
    picker.fill(typed)
    candidates = page.get_by_role("list", name="Members you can add")
    expect(candidates.get_by_role("button", name=re.compile("^Add "))).to_have_count(1)
    candidates.get_by_role("button", name=f"Add {name}").click()
    ending = f" until {until.strftime('%-d %b %Y')}" if until else ""
    expect(page.get_by_text(f"{name} is now in “Staff”{ending}.")).to_be_visible()
    row = panel.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text(ending.strip() or "No end date")


def open_actions(page: Page, action: str) -> None:
    page.locator("summary", has_text="Actions").click()
    page.get_by_role("list", name=re.compile("^Actions for")).get_by_role("link", name=action).click()


def test_a_user_group_lets_its_members_in_with_its_rights_until_they_are_removed(
        page: Page, new_context, user_groups_server: LiveServer, browser_problems):
    browser_problems.expect_status(404)  # Casey's request after her removal
    leo_group = user_groups_server.group_id("Leo Park")

    # The owner creates "Staff" with the "+" form.
    sign_in(page, OWNER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="User Groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("User Groups")
    page.get_by_text("New user group").click()
    page.get_by_label("Name").fill("Staff")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_text("User group “Staff” created.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"Staff\s+0 members"))).to_be_visible()
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")

    # Two rights a client lacks, both visible: the Media library and its Upload control.
    open_actions(page, "Edit User Rights")
    page.get_by_label("View the media library").check()
    page.get_by_label("Upload media").check()
    page.get_by_role("button", name="Save rights").click()
    rights = page.get_by_role("region", name="Rights")
    expect(rights.get_by_role("listitem")).to_have_text(["View the media library", "Upload media"])

    # Members, picked by typing part of their names: two clients not on Leo Park's Users tab, and Leo.
    open_actions(page, "Edit Group")
    pick_member(page, "casey", "Casey Client")
    # Jonah's membership ends on a day: the date rides along with the pick.
    ends_on = date.today() + timedelta(days=30)
    page.get_by_label("Membership ends on").fill(ends_on.isoformat())
    pick_member(page, "jona", "Jonah Reed", until=ends_on)
    pick_member(page, "leo p", "Leo Park")

    # Grant it on Leo Park's access group.
    page.get_by_role("link", name="User Groups").click()
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Casey Client"))).to_be_visible()
    grants = page.get_by_role("region", name="Access groups")
    grants.get_by_label("Leo Park").check()
    grants.get_by_role("button", name="Save access groups").click()
    expect(page.get_by_text("Now: Leo Park.")).to_be_visible()

    # Casey, in her own browser: Leo Park is in her switcher, she may upload media there, not create posts.
    casey = new_context().new_page()
    sign_in(casey, CASEY)
    casey.locator("#switcher summary").click()
    casey.get_by_role("navigation", name="Main").get_by_role("list", name="Access groups") \
        .get_by_role("link", name="Leo Park").click()
    expect_group_shown(casey, "Leo Park")
    casey.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(casey).to_have_url(re.compile(rf"/g/{leo_group}/calendar"))
    expect(casey.get_by_role("main").get_by_role("link", name="New post")).to_have_count(0)
    casey.get_by_role("navigation", name="Main").get_by_role("link", name="Media").click()
    expect(casey).to_have_url(re.compile(rf"/g/{leo_group}/media"))
    expect(casey.get_by_text("Upload files…")).to_be_visible()

    # Leo works in his own group's library too.
    leo = new_context().new_page()
    sign_in(leo, LEO)
    leo.goto(f"/g/{leo_group}/media")
    expect(leo.get_by_text("Upload files…")).to_be_visible()

    # The owner takes Casey and Leo out of the group, each with the button beside their name.
    page.goto("/settings/user-groups")
    page.get_by_role("link", name="Staff", exact=True).click()
    open_actions(page, "Edit Group")
    members = page.get_by_role("region", name="Members")
    members.get_by_role("button", name="Remove Casey Client").click()
    expect(page.get_by_text("Casey Client was removed from “Staff”.")).to_be_visible()
    members.get_by_role("button", name="Remove Leo Park").click()
    expect(page.get_by_text("Leo Park was removed from “Staff”.")).to_be_visible()
    expect(members.get_by_role("row", name=re.compile("Casey Client|Leo Park"))).to_have_count(0)

    # Casey's next request to Leo Park's group is the 404 page.
    casey.reload()
    expect(casey.get_by_role("heading", name="Page not found")).to_be_visible()

    # Leo is on his group's Users tab and holds the media rights himself: nothing changes for him.
    leo.reload()
    expect(leo.get_by_text("Upload files…")).to_be_visible()

    # Deleting the group says what the one member left loses, after a confirmation.
    page.goto("/settings/user-groups")
    page.get_by_role("link", name="Staff", exact=True).click()
    page.locator("summary", has_text="Actions").click()
    page.get_by_role("button", name="Delete Group…").click()
    dialog = page.get_by_role("dialog", name="Delete “Staff”?")
    expect(dialog).to_contain_text("1 member loses the rights this group gives")
    expect(dialog).to_contain_text("Leo Park")
    dialog.get_by_role("button", name="Delete group").click()
    expect(page.get_by_text("User group “Staff” deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)
