"""Settings › Social Sets & Access Groups in a browser: create, plan limit, the long list paged and
filtered as you type, Users tab add and remove, user groups and end dates."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.access_groups import GROUPS_PER_PAGE
from webapp.accounts import hash_password
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db
from webapp.models import AccessGroup, Account, GroupUser, Membership, Role, User, UserGroup, UserGroupMember

from .conftest import LiveServer, own_demo_server
from .helpers import GROUP_URL, expect_group_shown, sign_in


def add_member(live_server, email: str, name: str, role: Role, group_names: list[str],
               account_name: str = "Northstar Talent", plan: str | None = None) -> None:
    """Put a member straight into the live server's database (invitations are tested elsewhere)."""
    with live_server.app.app_context():
        account = db.session.scalar(select(Account).where(Account.name == account_name))
        if account is None:
            account = Account(name=account_name, plan_code=plan or "self_hosted")
            db.session.add(account)
            db.session.flush()
            db.session.add(AccessGroup(account_id=account.id, name=f"{account_name} HQ", is_default=True))
        user = User(email=email, name=name, password_hash=hash_password(DEMO_PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(account_id=account.id, user_id=user.id, role=role.value))
        for group_name in group_names:
            group_id = db.session.scalar(select(AccessGroup.id).where(
                AccessGroup.account_id == account.id, AccessGroup.name == group_name))
            db.session.add(GroupUser(access_group_id=group_id, user_id=user.id))
        db.session.commit()
        db.session.remove()


def add_user_group(live_server, name: str, member_emails: list[str],
                   account_name: str = "Northstar Talent") -> None:
    """Put a user group with these members straight into the live server's database."""
    with live_server.app.app_context():
        account_id = db.session.scalar(select(Account.id).where(Account.name == account_name))
        user_group = UserGroup(account_id=account_id, name=name)
        db.session.add(user_group)
        db.session.flush()
        for email in member_emails:
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=user_id))
        db.session.commit()
        db.session.remove()


def open_access_groups(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Social Sets & Access Groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Social Sets & Access Groups")


def test_owner_creates_a_group_in_place_and_finds_it_in_the_switcher(page: Page):
    """The new group appears without a reload, and the switcher offers it."""
    sign_in(page, "owner@northstar.example")
    open_access_groups(page)
    page.evaluate("window.__rosterMarker = 1")
    page.get_by_label("Name").fill("  Zoe   Quartz ")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_text("Access group “Zoe Quartz” created.")).to_be_visible()
    groups = page.get_by_role("list", name="Access groups")
    expect(groups.get_by_role("heading", name="Zoe Quartz")).to_be_visible()
    assert page.evaluate("window.__rosterMarker") == 1, "creating a group reloaded the page"
    expect(page.get_by_label("Name")).to_have_value("")

    page.locator("#switcher summary").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Zoe Quartz").click()
    expect_group_shown(page, "Zoe Quartz")


def test_starter_plan_refuses_a_second_group(page: Page, live_server, browser_problems):
    """On a Starter account a second group is refused with the plan's limit, and nothing is made."""
    browser_problems.expect_status(422)
    add_member(live_server, "solo@starter.example", "Solo Owner", Role.OWNER, ["Starter Co HQ"],
               account_name="Starter Co", plan="starter")
    sign_in(page, "solo@starter.example")
    open_access_groups(page)
    page.get_by_label("Name").fill("Second group")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_text("Your Starter plan includes 1 access group.")).to_be_visible()
    expect(page.get_by_role("list", name="Access groups").get_by_role("heading", name="Second group")).to_have_count(0)


def test_users_tab_adds_with_filter_and_removes_after_confirmation(page: Page, new_context, live_server,
                                                                   browser_problems):
    """Add a member by typing their name; Remove asks first; the removed user's next click lands safely."""
    browser_problems.expect_status(404)  # Rita's click on her lost group is answered 404 + HX-Redirect
    add_member(live_server, "rita@northstar.example", "Rita Removable", Role.MANAGER, ["Jonah Reed", "Leo Park"])

    # Rita works in Leo Park's group in her own browser.
    rita = new_context().new_page()
    sign_in(rita, "rita@northstar.example")
    rita.goto(f"/g/{live_server.group_id('Leo Park')}/")
    expect_group_shown(rita, "Leo Park")

    # The owner adds her to Maya's group with the type-to-filter list.
    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{live_server.group_id('Maya Lopez')}")
    page.get_by_role("link", name="Users").click()
    expect(page).to_have_url(re.compile(r"tab=users$"))
    page.get_by_text("Add User").click()
    page.get_by_label("Find a member").fill("rita")
    page.get_by_role("button", name="Add Rita Removable").click()
    expect(page.get_by_role("row", name=re.compile("Rita Removable"))).to_be_visible()
    expect(page.get_by_text("Rita Removable can now enter “Maya Lopez”.")).to_be_visible()

    # ... and removes her from Leo Park's group, after confirming in a dialog.
    page.goto(f"/settings/access-groups/{live_server.group_id('Leo Park')}?tab=users")
    row = page.get_by_role("row", name=re.compile("Rita Removable"))
    row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog", name="Remove Rita Removable?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove").click()
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Rita Removable was removed from “Leo Park”.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Rita Removable"))).to_have_count(0)

    # Rita's next click in her open tab lands on a group she may still enter.
    rita.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(rita).to_have_url(GROUP_URL)
    expect(rita.get_by_role("main").get_by_role("heading", level=1)).not_to_have_text("Leo Park")
    rita.locator("#switcher summary").click()
    options = rita.get_by_role("list", name="Access groups")
    expect(options.get_by_role("link", name="Maya Lopez")).to_be_visible()
    expect(options.get_by_role("link", name="Leo Park")).to_have_count(0)


def test_users_tab_grants_a_user_group_and_gives_an_entrant_an_end_date(page: Page, live_server):
    """Type part of a user group's name, add the group and see it listed; give a person an end date."""
    # People and a user group of this test's own, so the demo's groups keep the users other tests expect.
    add_member(live_server, "oona@northstar.example", "Oona Nightly", Role.MANAGER, [])
    add_member(live_server, "ezra@northstar.example", "Ezra Endicott", Role.MANAGER, ["Priya Shah"])
    add_user_group(live_server, "Overnight Editors", ["oona@northstar.example"])

    sign_in(page, "owner@northstar.example")
    page.goto(f"/settings/access-groups/{live_server.group_id('Priya Shah')}?tab=users")
    granted = page.get_by_role("table", name="User groups", exact=True)
    expect(granted.get_by_role("row", name=re.compile("Overnight Editors"))).to_have_count(0)

    page.get_by_text("Add User").click()
    page.get_by_label("Find a member or user group").fill("overnig")
    offered = page.get_by_role("list", name="User groups you can add")
    expect(offered.get_by_role("listitem").filter(has_text="Overnight Editors")).to_contain_text("1 member")
    offered.get_by_role("button", name="Add group Overnight Editors").click()
    granted_message = "Members of the user group “Overnight Editors” can now enter “Priya Shah”."
    expect(page.get_by_text(granted_message)).to_be_visible()
    row = granted.get_by_role("row", name=re.compile("Overnight Editors"))
    expect(row).to_contain_text("1 member")
    expect(row.get_by_role("button", name="Remove")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Oona Nightly"))).to_contain_text("user group Overnight Editors")

    # Ezra may enter until a day two weeks from now (the demo agency works in UTC).
    last_day = datetime.now(timezone.utc).date() + timedelta(days=14)
    ezra = page.get_by_role("row", name=re.compile("Ezra Endicott"))
    ezra.get_by_text("Set end date").click()
    ezra.get_by_label("Last day Ezra Endicott may enter").fill(last_day.isoformat())
    ezra.get_by_role("button", name="Save end date").click()
    expect(page.get_by_text(f"Ezra Endicott may enter “Priya Shah” until {last_day:%d %b %Y}.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Ezra Endicott"))).to_contain_text(
        f"Users tab until {last_day:%d %b %Y}")


def add_client_groups() -> None:
    """70 more access groups in the demo agency, "Client 000" to "Client 069"."""
    account_id = db.session.scalar(select(Account.id).where(Account.name == "Northstar Talent"))
    db.session.add_all(AccessGroup(account_id=account_id, name=f"Client {n:03}") for n in range(70))


@pytest.fixture
def crowded_server(tmp_path) -> Iterator[LiveServer]:
    with own_demo_server(tmp_path, add_client_groups) as server:
        yield server


def show_every_page(page, cards, total: int) -> None:
    """Follow "More groups" until the list holds all `total` groups and offers no more."""
    for shown in range(GROUPS_PER_PAGE, total, GROUPS_PER_PAGE):
        expect(cards).to_have_count(shown)
        page.get_by_role("link", name="More groups").click()
    expect(cards).to_have_count(total)
    expect(page.get_by_role("link", name="More groups")).to_have_count(0)


def test_a_long_list_comes_a_page_at_a_time_and_filters_as_you_type(new_context, crowded_server):
    """75 groups: a page of them, then the rest on "More groups"; typing narrows the list without a reload,
    the address keeps the filter, and "More groups" keeps it too."""
    page = new_context(base_url=crowded_server.url).new_page()
    sign_in(page, "owner@northstar.example")
    open_access_groups(page)
    cards = page.get_by_role("main").get_by_role("list", name="Access groups").get_by_role("heading", level=2)
    expect(cards).to_have_count(GROUPS_PER_PAGE)
    expect(cards.first).to_have_text("Northstar HQ Default")
    show_every_page(page, cards, 75)
    assert len(set(cards.all_inner_texts())) == 75

    page.evaluate("window.__rosterMarker = 1")
    page.get_by_label("Find a group").fill("client 06")
    expect(page).to_have_url(re.compile(r"/settings/access-groups\?q=client(\+|%20)06$"))
    expect(cards).to_have_text([f"Client {n:03}" for n in range(60, 70)])
    expect(page.get_by_label("Find a group")).to_be_focused()

    page.get_by_label("Find a group").fill("CLIENT")
    expect(page).to_have_url(re.compile(r"\?q=CLIENT$"))
    expect(cards).to_have_count(GROUPS_PER_PAGE)
    show_every_page(page, cards, 70)
    expect(cards).to_have_text([f"Client {n:03}" for n in range(70)])  # every match once, none of the others

    page.get_by_label("Find a group").fill("zebra")
    expect(page.get_by_text("No access group matches “zebra”.")).to_be_visible()
    assert page.evaluate("window.__rosterMarker") == 1, "filtering reloaded the page"

    page.reload()
    expect(page.get_by_label("Find a group")).to_have_value("zebra")
    expect(page.get_by_text("No access group matches “zebra”.")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?q=CLIENT$"))
    expect(page.get_by_label("Find a group")).to_have_value("CLIENT")
    expect(cards).to_have_count(GROUPS_PER_PAGE)
