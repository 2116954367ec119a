"""Settings › User Groups: the rules, the pages, who reaches them, end dates, seats and the union of rights."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from webapp import user_groups as rules
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Membership,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
    utcnow,
)
from webapp.policy import load_permissions
from webapp.zones import end_of_day

from . import factories
from .html import HTMX, Html, squeeze

BASE = "/settings/user-groups"


@pytest.fixture
def agency():
    agency = factories.three_group_agency()
    account, hq, maya = agency["account"], agency["hq"], agency["maya"]
    people = {
        "manager": factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager"),
        "client": factories.make_member(account, Role.CLIENT, groups=[hq], name="Casey Client",
                                        email="casey@example.test"),
        "creator": factories.make_member(account, Role.CLIENT, groups=[maya], rights=["media.view"],
                                         name="Maya Lopez", email="maya@example.test"),
    }
    other = factories.make_account("Rival")
    db.session.commit()
    return {**agency, "other": other,
            "rival": factories.owner_of(other), "rival_hq": factories.default_group(other), **people}


def fresh(model, *keys):
    """`model` as the database has it now (the request wrote it in another session)."""
    return db.session.get(model, keys[0] if len(keys) == 1 else keys, populate_existing=True)


def counts() -> tuple[int, ...]:
    """User groups, their members, rights, grants and audit events: what a refusal must leave alone."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (UserGroup, UserGroupMember, UserGroupRight, UserGroupGrant, AuditEvent))


def verbs() -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.verb).where(AuditEvent.object_type == "user_group").order_by(AuditEvent.id)))


def rights_in(user: User, group) -> frozenset[str]:
    return load_permissions(user.id).group_rights(group.id)


# --- the list and creating -----------------------------------------------------------------------


def test_index_lists_groups_with_icon_and_member_count(client, auth, agency):
    staff = factories.make_user_group(agency["account"], "Staff", members=[agency["client"], agency["manager"]])
    db.session.add(UserGroupMember(user_group_id=factories.make_user_group(agency["account"], "Alumni").id,
                                   user_id=agency["creator"].id, expires_at=utcnow() - timedelta(days=1)))
    factories.make_user_group(agency["other"], "Rival secret")
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(BASE))
    assert page.by_role("link", "Staff").attributes["href"] == f"{BASE}/{staff.id}"
    assert page.by_role("row", re.compile(r"^Staff 2 members\b"))
    alumni = page.within(page.by_role("row", re.compile(r"^Alumni 0 members \(1 ended\)")))
    assert alumni.by_text("(1 ended)").attributes["class"] == "muted"
    assert page.css("svg.ug-icon")
    assert not page.has_text("Rival secret")
    assert page.by_role("link", "User Groups")  # the settings tab


def test_index_has_an_empty_state(client, auth, agency):
    auth.login(agency["owner"])
    assert "No user groups yet." in client.get(BASE).get_data(as_text=True)


def test_create_by_name_answers_the_list_fragment(client, auth, agency):
    auth.login(agency["admin"])
    response = client.post(BASE, data={"name": "  Field   Staff "}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert Html(body).one("#user-groups") and "<html" not in body
    assert "User group “Field Staff” created." in body
    user_group = db.session.scalar(select(UserGroup).where(UserGroup.name == "Field Staff"))
    assert user_group.account_id == agency["account"].id and user_group.icon == "users"
    assert verbs() == ["user_group.created"]


def test_create_without_htmx_opens_the_new_group(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(BASE, data={"name": "Staff"})
    assert response.status_code == 303
    user_group = db.session.scalar(select(UserGroup).where(UserGroup.name == "Staff"))
    assert response.location.endswith(f"{BASE}/{user_group.id}")


@pytest.mark.parametrize("name, message", [
    ("", "Enter a name for the user group."),
    ("   ", "Enter a name for the user group."),
    ("staff", "A user group called “staff” already exists."),
])
def test_blank_or_duplicate_names_are_refused_and_change_nothing(client, auth, agency, name, message):
    factories.make_user_group(agency["account"], "Staff")
    factories.make_user_group(agency["other"], "Editors")  # a name in another account is free
    db.session.commit()
    before = counts()
    auth.login(agency["owner"])
    response = client.post(BASE, data={"name": name}, headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == before
    assert client.post(BASE, data={"name": "Editors"}).status_code == 303


# --- who reaches the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "client", "creator"])
def test_managers_and_clients_are_refused_and_see_no_link(client, auth, agency, who):
    user_group = factories.make_user_group(agency["account"], "Staff")
    db.session.commit()
    auth.login(agency[who])
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/{user_group.id}").status_code == 403
    assert client.post(f"{BASE}/{user_group.id}/delete").status_code == 403
    assert fresh(UserGroup, user_group.id) is not None
    assert "User Groups" not in client.get("/settings/account").get_data(as_text=True)


@pytest.mark.parametrize("method, suffix, data", [
    ("GET", "", {}),
    ("GET", "/edit", {}),
    ("GET", "/rights", {}),
    ("GET", "/members/candidates", {}),
    ("POST", "/edit", {"name": "Taken over", "icon": "star"}),
    ("POST", "/rights", {"rights": ["organize"]}),
    ("POST", "/access-groups", {"access_groups": []}),
    ("POST", "/members", {"user_id": "{rival}"}),
    ("POST", "/members/{member}/remove", {}),
    ("POST", "/members/clear", {}),
    ("POST", "/delete", {}),
])
def test_a_user_group_of_another_account_is_not_found(client, auth, agency, method, suffix, data):
    user_group = factories.make_user_group(agency["account"], "Staff", rights=["media.view"],
                                           members=[agency["client"]], grants=[agency["maya"]])
    db.session.commit()
    before = counts()
    auth.login(agency["rival"])
    url = f"{BASE}/{user_group.id}{suffix}".format(member=agency["client"].id)
    form = {key: (value.format(rival=agency["rival"].id) if isinstance(value, str) else value)
            for key, value in data.items()}
    assert client.open(url, method=method, data=form).status_code == 404
    assert counts() == before


# --- the detail page -----------------------------------------------------------------------------


def rights_by_area(page: Html) -> dict[str, list[str]]:
    """The Rights panel as a reader sees it: each area's heading and the rights listed under it."""
    panel = page.within(page.by_role("region", "Rights"))
    areas = {}
    for heading in panel.css("h3"):
        listing = heading.next
        while listing.tag != "ul":
            listing = listing.next
        areas[heading.text(strip=True)] = [squeeze(item.text()) for item in listing.css("li")]
    return areas


def test_detail_shows_rights_by_area_members_with_end_dates_and_access_groups(client, auth, agency):
    account = agency["account"]
    user_group = factories.make_user_group(account, "Staff", rights=["media.upload", "posts.comment"],
                                           grants=[agency["maya"]])
    user_group.description = "Everyone at the front desk"
    db.session.add_all([
        UserGroupMember(user_group_id=user_group.id, user_id=agency["client"].id,
                        expires_at=end_of_day(account, date(2099, 3, 31))),
        UserGroupMember(user_group_id=user_group.id, user_id=agency["manager"].id,
                        expires_at=utcnow() - timedelta(hours=1)),
        UserGroupMember(user_group_id=user_group.id, user_id=agency["creator"].id),
    ])
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"{BASE}/{user_group.id}"))
    assert page.has_text("Everyone at the front desk")
    assert {"Created", "Modified"} <= {term.text() for term in page.css("dt")}
    assert rights_by_area(page) == {"Posts": ["Comment on posts"], "Media": ["Upload media"]}
    assert page.has_text("casey@example.test") and page.has_text("until 31 Mar 2099")
    sam = page.by_role("row", re.compile(r"^Sam Manager\b"))
    assert [squeeze(cell.text()) for cell in sam.css("td")][2:3] == ["Manager"]
    assert page.within(sam.css("td")[3]).by_text("Ended").attributes["class"] == "badge warn"
    assert page.has_text("Now: Maya Lopez.")
    assert page.checked("access_groups") == [str(agency["maya"].id)]
    # The delete dialog says who loses what: two live members, entry to Maya Lopez through the group.
    assert page.has_text("2 members lose the rights this group gives")
    assert page.has_text("lose entry through it to: Maya Lopez")


# --- Edit Group ----------------------------------------------------------------------------------


def test_edit_group_saves_title_description_and_icon(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff")
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"{BASE}/{user_group.id}/edit"))
    assert page.by_role("radio", "Camera").attributes["value"] == "camera" and page.by_label("Find a member")
    response = client.post(f"{BASE}/{user_group.id}/edit",
                           data={"name": "Studio", "description": " Shoots ", "icon": "camera"})
    assert response.status_code == 303 and response.location.endswith(f"{BASE}/{user_group.id}")
    saved = fresh(UserGroup, user_group.id)
    assert (saved.name, saved.description, saved.icon) == ("Studio", "Shoots", "camera")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user_group.updated"))
    assert event.before["name"] == "Staff" and event.after == {"name": "Studio", "description": "Shoots",
                                                               "icon": "camera"}


@pytest.mark.parametrize("data, message", [
    ({"name": "Editors", "icon": "users"}, "A user group called “Editors” already exists."),
    ({"name": "", "icon": "users"}, "Enter a name for the user group."),
    ({"name": "Studio", "icon": "rocket"}, "Choose one of the icons shown."),
])
def test_edit_group_refuses_bad_input_and_changes_nothing(client, auth, agency, data, message):
    user_group = factories.make_user_group(agency["account"], "Staff")
    factories.make_user_group(agency["account"], "Editors")
    db.session.commit()
    before = counts()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/edit", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == before and fresh(UserGroup, user_group.id).name == "Staff"


def test_picker_filters_active_members_not_in_the_group(client, auth, agency):
    account = agency["account"]
    user_group = factories.make_user_group(account, "Staff", members=[agency["admin"]])
    gone = factories.make_member(account, Role.CLIENT, name="Casey Gone")
    db.session.scalar(select(Membership).where(Membership.user_id == gone.id)).deactivated_at = utcnow()
    factories.make_member(agency["other"], Role.CLIENT, name="Casey Rival")
    db.session.commit()
    auth.login(agency["owner"])
    response = client.get(f"{BASE}/{user_group.id}/members/candidates?q=CASEY", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and Html(body).one("#member-candidates")
    assert "Casey Client" in body
    assert "Casey Gone" not in body and "Casey Rival" not in body
    everyone = client.get(f"{BASE}/{user_group.id}/members/candidates", headers=HTMX).get_data(as_text=True)
    assert "Sam Manager" in everyone and "Alex Admin" not in everyone  # already in the group
    assert "Nobody matches that." in client.get(f"{BASE}/{user_group.id}/members/candidates?q=zzz",
                                                headers=HTMX).get_data(as_text=True)


def test_picker_is_capped_with_a_hint_to_type(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff")
    for number in range(25):
        factories.make_member(agency["account"], Role.CLIENT, name=f"Fan {number:02}")
    db.session.commit()
    auth.login(agency["owner"])
    body = client.get(f"{BASE}/{user_group.id}/members/candidates?q=fan", headers=HTMX).get_data(as_text=True)
    assert len(Html(body).all_by_role("button", re.compile(r"^Add Fan "))) == 20
    assert "type to narrow the list" in body


def test_add_member_with_an_end_date_stores_the_end_of_that_day_in_the_account_zone(client, auth, agency):
    account = agency["account"]
    account.time_zone = "America/New_York"
    user_group = factories.make_user_group(account, "Staff")
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/members", headers=HTMX,
                           data={"user_id": agency["client"].id, "expires_on": "2099-01-15"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert Html(body).one("#group-members") and "until 15 Jan 2099" in body
    assert "Casey Client is now in “Staff” until 15 Jan 2099." in body
    entry = fresh(UserGroupMember, user_group.id, agency["client"].id)
    # 23:59:59.999999 on 15 January in New York is 04:59:59.999999 on the 16th in UTC.
    assert entry.expires_at == datetime(2099, 1, 16, 4, 59, 59, 999999, tzinfo=timezone.utc)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user_group.member_added"))
    assert event.after["user_id"] == agency["client"].id and event.after["expires_at"].startswith("2099-01-16")


@pytest.mark.parametrize("who, expires_on, message", [
    ("rival", "", "Only active members of the team can be added."),
    ("client", "2000-01-01", "That end date has passed."),
    ("admin", "", "Alex Admin is already in “Staff”."),
    ("client", "not a date", "Not a valid date value."),
])
def test_add_member_refusals_change_nothing(client, auth, agency, who, expires_on, message):
    user_group = factories.make_user_group(agency["account"], "Staff", members=[agency["admin"]])
    db.session.commit()
    before = counts()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/members", headers=HTMX,
                           data={"user_id": agency[who].id, "expires_on": expires_on})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == before


def test_an_ended_membership_is_shown_as_ended_and_can_be_renewed(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff")
    db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=agency["client"].id,
                                   expires_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"{BASE}/{user_group.id}/edit"))
    casey = page.within(page.by_role("row", re.compile(r"^Casey Client\b")))
    assert casey.by_text("Ended").attributes["class"] == "badge warn"
    picker = client.get(f"{BASE}/{user_group.id}/members/candidates?q=casey", headers=HTMX).get_data(as_text=True)
    assert "Add Casey Client" in picker
    assert client.post(f"{BASE}/{user_group.id}/members", headers=HTMX,
                       data={"user_id": agency["client"].id}).status_code == 200
    assert fresh(UserGroupMember, user_group.id, agency["client"].id).expires_at is None


def test_remove_one_member_and_remove_all(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff",
                                           members=[agency["client"], agency["manager"], agency["creator"]])
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/members/{agency['client'].id}/remove", headers=HTMX)
    assert response.status_code == 200
    assert "Casey Client was removed from “Staff”." in response.get_data(as_text=True)
    assert fresh(UserGroupMember, user_group.id, agency["client"].id) is None
    assert client.post(f"{BASE}/{user_group.id}/members/{agency['client'].id}/remove",
                       headers=HTMX).status_code == 422
    page = client.get(f"{BASE}/{user_group.id}/edit").get_data(as_text=True)
    assert "Remove all 2 members?" in page
    response = client.post(f"{BASE}/{user_group.id}/members/clear")
    assert response.status_code == 303 and response.location.endswith(f"{BASE}/{user_group.id}/edit")
    assert db.session.scalar(select(func.count()).select_from(UserGroupMember)) == 0
    assert verbs() == ["user_group.member_removed", "user_group.members_cleared"]


# --- Edit User Rights ----------------------------------------------------------------------------


def test_rights_page_groups_checkboxes_by_area_and_saving_replaces_the_set(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", rights=["media.view", "organize"])
    db.session.commit()
    auth.login(agency["admin"])
    page = Html(client.get(f"{BASE}/{user_group.id}/rights"))
    assert {"Media", "People"} <= {legend.text() for legend in page.css("legend")}
    assert "media.view" in page.checked("rights") and "media.upload" not in page.checked("rights")
    assert page.by_label("View the media library").attributes["value"] == "media.view"
    assert page.by_label("Upload media").attributes["value"] == "media.upload"
    response = client.post(f"{BASE}/{user_group.id}/rights", data={"rights": ["media.view", "media.upload"]})
    assert response.status_code == 303
    assert rules.rights_of(user_group) == {"media.view", "media.upload"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user_group.rights_changed"))
    assert event.before == {"rights": ["media.view", "organize"]}
    assert event.after == {"rights": ["media.upload", "media.view"]}


def test_an_unknown_right_is_refused_and_changes_nothing(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", rights=["media.view"])
    db.session.commit()
    before = counts()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/rights", data={"rights": ["media.view", "groups.create"]})
    assert response.status_code == 422
    assert "Choose rights from the list shown." in response.get_data(as_text=True)
    assert counts() == before and rules.rights_of(user_group) == {"media.view"}


# --- access groups -------------------------------------------------------------------------------


def test_grants_are_saved_as_the_ticked_set(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", grants=[agency["hq"]])
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/access-groups", headers=HTMX,
                           data={"access_groups": [agency["maya"].id, agency["leo"].id]})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = Html(body)
    assert page.one("#grants") and page.has_text("Now: Leo Park, Maya Lopez.")
    assert page.one("dialog#delete-user-group").attributes["hx-swap-oob"] == "true"  # the dialog's impact follows
    assert {group.name for group in rules.granted_groups(user_group)} == {"Maya Lopez", "Leo Park"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user_group.grants_changed"))
    assert event.before == {"access_group_ids": [agency["hq"].id]}


@pytest.mark.parametrize("value", ["rival_hq", "garbage"])
def test_grants_outside_the_account_are_refused_and_change_nothing(client, auth, agency, value):
    user_group = factories.make_user_group(agency["account"], "Staff", grants=[agency["hq"]])
    db.session.commit()
    before = counts()
    auth.login(agency["owner"])
    chosen = agency[value].id if value in agency else value
    response = client.post(f"{BASE}/{user_group.id}/access-groups", headers=HTMX,
                           data={"access_groups": [agency["maya"].id, chosen]})
    assert response.status_code == 422
    assert "Choose access groups from the list shown." in response.get_data(as_text=True)
    assert counts() == before
    assert [group.name for group in rules.granted_groups(user_group)] == ["Northstar HQ"]


def test_an_admin_sees_a_user_group_that_reaches_beyond_them_but_changes_nothing_of_it(client, auth, agency):
    """Finding: an admin added anyone (or a second account of their own) to a user group granted on a
    group they cannot enter, and rewrote its rights, and so opened that group. Now every change is 403."""
    user_group = factories.make_user_group(agency["account"], "Back door", rights=["media.view"],
                                           members=[agency["manager"]], grants=[agency["leo"]])
    db.session.commit()
    auth.login(agency["admin"])  # enters HQ and Maya Lopez, not Leo Park
    page = client.get(f"{BASE}/{user_group.id}").get_data(as_text=True)
    assert "Leo Park" not in page and "1 group you cannot enter" in page
    assert "you can see it but not change it" in page and "Edit User Rights" not in page
    before = (sorted(rules.rights_of(user_group)), [m.user.id for m in rules.members(agency["account"], user_group)],
              [group.id for group in rules.granted_groups(user_group)])
    attempts = {
        "add someone": (f"{BASE}/{user_group.id}/members", {"user_id": agency["client"].id}),
        "add oneself": (f"{BASE}/{user_group.id}/members", {"user_id": agency["admin"].id}),
        "rewrite rights": (f"{BASE}/{user_group.id}/rights", {"rights": ["media.view", "posts.create"]}),
        "grant more": (f"{BASE}/{user_group.id}/access-groups", {"access_groups": [agency["maya"].id]}),
        "rename": (f"{BASE}/{user_group.id}/edit", {"name": "Front door", "icon": "users"}),
        "remove a member": (f"{BASE}/{user_group.id}/members/{agency['manager'].id}/remove", {}),
        "empty it": (f"{BASE}/{user_group.id}/members/clear", {}),
        "delete it": (f"{BASE}/{user_group.id}/delete", {}),
    }
    for what, (url, data) in attempts.items():
        response = client.post(url, data=data)
        assert response.status_code == 403, what
        assert "lets its members into access groups you cannot enter" in response.get_data(as_text=True), what
    for page_url in (f"{BASE}/{user_group.id}/edit", f"{BASE}/{user_group.id}/rights"):
        assert client.get(page_url).status_code == 403
    db.session.expire_all()
    assert (sorted(rules.rights_of(user_group)), [m.user.id for m in rules.members(agency["account"], user_group)],
            [group.id for group in rules.granted_groups(user_group)]) == before
    assert not load_permissions(agency["client"].id).may_enter(agency["leo"].id)
    assert not load_permissions(agency["admin"].id).may_enter(agency["leo"].id)

    auth.login(agency["owner"])  # the owner enters every group, and so may change it
    assert client.post(f"{BASE}/{user_group.id}/members", data={"user_id": agency["client"].id}).status_code == 303


def test_an_admin_changes_a_user_group_granted_only_where_they_enter(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", grants=[agency["maya"]])
    db.session.commit()
    auth.login(agency["admin"])
    assert "you can see it but not change it" not in client.get(f"{BASE}/{user_group.id}").get_data(as_text=True)
    assert client.post(f"{BASE}/{user_group.id}/members", data={"user_id": agency["client"].id}).status_code == 303
    assert client.post(f"{BASE}/{user_group.id}/access-groups",
                       data={"access_groups": [agency["maya"].id]}).status_code == 303


# --- deleting ------------------------------------------------------------------------------------


def test_delete_takes_rights_and_entry_from_members(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", rights=["media.upload"],
                                           members=[agency["client"]], grants=[agency["maya"]])
    db.session.commit()
    user_group_id = user_group.id
    assert "media.upload" in rights_in(agency["client"], agency["maya"])
    auth.login(agency["owner"])
    response = client.post(f"{BASE}/{user_group_id}/delete")
    assert response.status_code == 303 and response.location.endswith(BASE)
    assert db.session.scalar(select(func.count()).select_from(UserGroup).where(UserGroup.id == user_group_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(UserGroupMember)) == 0
    assert not load_permissions(agency["client"].id).may_enter(agency["maya"].id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user_group.deleted"))
    assert event.before == {"name": "Staff", "rights": ["media.upload"], "member_ids": [agency["client"].id],
                            "access_group_ids": [agency["maya"].id]}


# --- seats ---------------------------------------------------------------------------------------


@pytest.fixture
def free_agency():
    """A Free plan account (one team seat, the owner's) with a client in the default group."""
    account = factories.make_account("Tiny", plan="free")
    hq = factories.default_group(account)
    owner = factories.owner_of(account)
    factories.add_to_group(owner, hq)
    client_user = factories.make_member(account, Role.CLIENT, groups=[hq], name="Cleo Client")
    db.session.commit()
    return {"account": account, "owner": owner, "client": client_user}


def test_publishing_rights_for_a_group_with_a_client_are_refused_past_the_seats(client, auth, free_agency):
    user_group = factories.make_user_group(free_agency["account"], "Writers", rights=["media.view"],
                                           members=[free_agency["client"]])
    db.session.commit()
    before = counts()
    auth.login(free_agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/rights", data={"rights": ["media.view", "posts.create"]})
    assert response.status_code == 422
    assert "Your Free plan includes 1 team seat." in response.get_data(as_text=True)
    assert counts() == before and rules.rights_of(user_group) == {"media.view"}
    # Rights that take no seat are fine.
    assert client.post(f"{BASE}/{user_group.id}/rights",
                       data={"rights": ["media.view", "analytics.view"]}).status_code == 303


def test_adding_a_client_to_a_publishing_group_is_refused_past_the_seats(client, auth, free_agency):
    user_group = factories.make_user_group(free_agency["account"], "Writers", rights=["posts.publish"])
    db.session.commit()
    before = counts()
    auth.login(free_agency["owner"])
    response = client.post(f"{BASE}/{user_group.id}/members", headers=HTMX,
                           data={"user_id": free_agency["client"].id})
    assert response.status_code == 422
    assert "Your Free plan includes 1 team seat." in response.get_data(as_text=True)
    assert counts() == before
    # The owner already holds the seat: adding them takes no new one.
    assert client.post(f"{BASE}/{user_group.id}/members", headers=HTMX,
                       data={"user_id": free_agency["owner"].id}).status_code == 200


# --- what members get: end dates and the union of rights ------------------------------------------


def test_an_end_date_drops_the_groups_rights_and_entry_after_that_day(app, agency):
    account = agency["account"]
    user_group = factories.make_user_group(account, "Staff", rights=["media.upload"], grants=[agency["leo"]])
    rules.add_member(account, user_group, agency["client"].id, date(2099, 6, 30), agency["owner"],
                     today=date(2099, 6, 1))
    db.session.commit()
    client_id, leo, hq = agency["client"].id, agency["leo"].id, agency["hq"].id
    during = load_permissions(client_id, now=datetime(2099, 6, 30, 23, 0, tzinfo=timezone.utc))
    assert during.may_enter(leo) and "media.upload" in during.group_rights(leo)
    assert "media.upload" in during.group_rights(hq)
    after = load_permissions(client_id, now=datetime(2099, 7, 1, 0, 0, 1, tzinfo=timezone.utc))
    assert not after.may_enter(leo)
    assert "media.upload" not in after.group_rights(hq)
    assert after.group_rights(hq) == {"posts.view", "posts.comment", "profiles.connect"}


def test_removal_from_one_group_keeps_rights_another_group_or_own_rights_give(app, agency):
    account, owner = agency["account"], agency["owner"]
    creator, client_user, maya = agency["creator"], agency["client"], agency["maya"]
    staff = factories.make_user_group(account, "Staff", rights=["media.view", "media.upload"],
                                      members=[creator, client_user], grants=[maya])
    uploaders = factories.make_user_group(account, "Uploaders", rights=["media.upload"], members=[client_user])
    db.session.commit()
    assert {"media.view", "media.upload"} <= rights_in(client_user, maya)

    rules.remove_member(staff, client_user.id, owner)
    db.session.commit()
    # The client loses entry to Maya's group (only Staff let them in) and media.view; Uploaders keeps upload.
    assert not load_permissions(client_user.id).may_enter(maya.id)
    assert rights_in(client_user, agency["hq"]) >= {"media.upload"}
    assert "media.view" not in rights_in(client_user, agency["hq"])

    rules.remove_member(staff, creator.id, owner)
    db.session.commit()
    # The creator is on Maya's Users tab and holds media.view herself: both stay; upload came from Staff.
    assert "media.view" in rights_in(creator, maya)
    assert "media.upload" not in rights_in(creator, maya)

    rules.remove_member(uploaders, client_user.id, owner)
    db.session.commit()
    assert "media.upload" not in rights_in(client_user, agency["hq"])


def test_a_member_feels_a_change_on_their_next_request(client, auth, agency):
    user_group = factories.make_user_group(agency["account"], "Staff", rights=["media.view"],
                                           members=[agency["client"]], grants=[agency["leo"]])
    db.session.commit()
    auth.login(agency["client"])
    assert client.get(f"/g/{agency['leo'].id}/media").status_code == 200
    rules.remove_member(user_group, agency["client"].id, agency["owner"])
    db.session.commit()
    assert client.get(f"/g/{agency['leo'].id}/media").status_code == 404


# --- bounded queries -----------------------------------------------------------------------------


def _grow(account, user_group, how_many: int) -> None:
    """`how_many` more members of the account in the user group, and as many more user groups."""
    for _ in range(how_many):
        user = factories.make_member(account, Role.CLIENT)
        db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=user.id))
    db.session.execute(insert(UserGroup), [
        {"account_id": account.id, "name": f"Grown {how_many}-{n}",
         "description": "", "icon": "star"} for n in range(how_many)])
    for n in range(how_many):
        group = factories.make_group(account)
        db.session.add(UserGroupGrant(user_group_id=user_group.id, access_group_id=group.id))
    db.session.commit()


@pytest.mark.parametrize("suffix, headers", [
    (None, {}), ("", {}), ("/edit", {}), ("/members/candidates?q=user", HTMX), ("/rights", {}),
])
def test_pages_run_the_same_queries_with_2_and_50_members_and_groups(client, auth, count_queries, agency,
                                                                     suffix, headers):
    account = agency["account"]
    user_group = factories.make_user_group(account, "Staff", rights=["media.view", "posts.view"])
    db.session.commit()
    url = BASE if suffix is None else f"{BASE}/{user_group.id}{suffix}"
    auth.login(agency["owner"])

    def measure() -> int:
        client.get(url, headers=headers)
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        return counter.count

    _grow(account, user_group, 2)
    small = measure()
    _grow(account, user_group, 48)
    large = measure()
    assert small == large, f"queries grew with data: {small} -> {large}"
    assert large <= 11  # with the sidebar's count of unread notifications
