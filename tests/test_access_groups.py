"""Settings › Social Sets & Access Groups: listing, creating, renaming, deleting, the Users tab."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from webapp import access_groups as rules
from webapp import paging
from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    AuditEvent,
    GroupUser,
    Invitation,
    Network,
    Role,
    UserGroupGrant,
    UserGroupMember,
    utcnow,
)
from webapp.policy import load_permissions

from . import factories
from .html import HTMX, Html, squeeze


@pytest.fixture
def agency():
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    social_set = factories.make_social_set(maya, "Maya Main")
    factories.make_profile(social_set, Network.TIKTOK, handle="mayadances")
    admin = factories.make_member(account, Role.ADMIN, groups=[maya], name="Alex Admin")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    db.session.commit()
    return {"account": account, "maya": maya, "owner": factories.owner_of(account), "admin": admin,
            "manager": manager, "creator": creator, "hq": factories.default_group(account)}


def audit_verbs() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.verb).order_by(AuditEvent.id)))


def group_named(name: str) -> AccessGroup | None:
    return db.session.scalar(select(AccessGroup).where(AccessGroup.name == name))


def test_page_lists_groups_with_default_sets_slots_and_user_counts(client, auth, agency):
    """Each group shows its name, default marker, sets with filled and empty slots, and user count."""
    auth.login(agency["owner"])
    page = Html(client.get("/settings/access-groups"))
    assert page.by_role("heading", "Northstar HQ Default").css_first(".badge").text() == "Default"
    assert page.has_text("Maya Main") and page.has_text("@mayadances")
    assert len(page.css(".slot.empty")) == len(Network) - 1
    assert page.has_text("3 users")  # admin, manager and creator on Maya's Users tab
    assert page.by_role("heading", "Create New Access Group")


def test_only_owner_and_admins_reach_the_page_and_see_the_link(client, auth, agency):
    """Managers and clients get 403 and no link to the page."""
    for who in ("manager", "creator"):
        auth.login(agency[who])
        assert client.get("/settings/access-groups").status_code == 403
        assert "Social Sets &amp; Access Groups" not in client.get("/settings/account").get_data(as_text=True)
        auth.logout()
    auth.login(agency["admin"])
    assert "Social Sets &amp; Access Groups" in client.get("/settings/account").get_data(as_text=True)
    page = client.get("/settings/access-groups").get_data(as_text=True)
    assert "Create New Access Group" not in page  # only the owner creates groups


def test_owner_creates_a_group_that_appears_in_place_and_in_the_switcher(client, auth, agency):
    """Creating by htmx returns the updated list and refreshes the sidebar, without a reload."""
    auth.login(agency["owner"])
    response = client.post("/settings/access-groups", data={"name": "  Leo   Park "}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = Html(body)
    assert "<html" not in body and page.one("#sidebar")
    assert page.by_role("heading", "Leo Park").tag == "h2"  # the group's card, not just the message
    assert page.has_text("Access group “Leo Park” created.")
    created = group_named("Leo Park")
    assert created is not None and not created.is_default
    assert "access_group.created" in audit_verbs()
    switcher = client.get(f"/g/{created.id}/switcher", headers=HTMX).get_data(as_text=True)
    assert "Leo Park" in switcher


@pytest.mark.parametrize("name, message", [
    ("", "Enter a name for the access group."),
    ("maya lopez", "An access group called “maya lopez” already exists."),
])
def test_bad_group_names_are_refused_and_change_nothing(client, auth, agency, name, message):
    """An empty or duplicate name (ignoring case) re-renders with 422 and a clear message."""
    auth.login(agency["owner"])
    before = db.session.scalar(select(func.count(AccessGroup.id)))
    response = client.post("/settings/access-groups", data={"name": name}, headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AccessGroup.id))) == before


def test_starter_plan_allows_one_access_group(client, auth, app):
    """On the Starter plan a second group is refused with a message naming the plan and limit."""
    account = factories.make_account("Tiny", plan="starter")
    db.session.commit()
    auth.login(factories.owner_of(account))
    response = client.post("/settings/access-groups", data={"name": "Second"}, headers=HTMX)
    assert response.status_code == 422
    assert "Your Starter plan includes 1 access group." in response.get_data(as_text=True)
    assert group_named("Second") is None


def test_admin_may_not_create_groups(client, auth, agency):
    """Creating access groups is for the owner alone."""
    auth.login(agency["admin"])
    assert client.post("/settings/access-groups", data={"name": "Sneaky"}).status_code == 403
    assert group_named("Sneaky") is None


def test_rename_keeps_names_unique(client, auth, agency):
    """A group can be renamed, but not to another group's name."""
    auth.login(agency["admin"])
    url = f"/settings/access-groups/{agency['maya'].id}/rename"
    refused = client.post(url, data={"name": "Northstar HQ"}, headers=HTMX)
    assert refused.status_code == 422 and "already exists" in refused.get_data(as_text=True)
    assert client.post(url, data={"name": "Maya L."}).status_code == 303
    assert db.session.get(AccessGroup, agency["maya"].id).name == "Maya L."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "access_group.renamed"))
    assert event.before == {"name": "Maya Lopez"} and event.after == {"name": "Maya L."}


def test_delete_says_what_still_holds_the_group(client, auth, agency):
    """A group with content cannot be deleted; the page and the refusal say what holds it."""
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}").get_data(as_text=True)
    assert "still holds 1 social set" in page and "delete-dialog" not in page
    response = client.post(f"/settings/access-groups/{agency['maya'].id}/delete", follow_redirects=True)
    assert "still holds 1 social set" in response.get_data(as_text=True)
    assert db.session.get(AccessGroup, agency["maya"].id) is not None


def test_default_group_cannot_be_deleted(client, auth, agency):
    """The default group stays, whatever it holds."""
    auth.login(agency["owner"])
    response = client.post(f"/settings/access-groups/{agency['hq'].id}/delete", follow_redirects=True)
    assert "The default access group cannot be deleted." in response.get_data(as_text=True)
    assert db.session.get(AccessGroup, agency["hq"].id) is not None


def test_empty_group_is_deleted_after_a_confirmation_dialog(client, auth, agency):
    """An empty group offers a confirmation dialog; confirming deletes it and records it."""
    empty = factories.make_group(agency["account"], "Empty")
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"/settings/access-groups/{empty.id}"))
    assert page.name_of(page.opened_by(page.by_role("button", "Delete group…"))) == "Delete “Empty”?"
    response = client.post(f"/settings/access-groups/{empty.id}/delete")
    assert response.status_code == 303
    assert group_named("Empty") is None
    assert "access_group.deleted" in audit_verbs()


def test_users_tab_shows_role_and_how_each_user_got_in(client, auth, agency):
    """Direct entries and user-group entries are both listed, with the path."""
    outsider = factories.make_member(agency["account"], Role.MANAGER, name="Ivy Assistant")
    factories.make_user_group(agency["account"], "Assistants", members=[outsider], grants=[agency["maya"]])
    db.session.commit()
    auth.login(agency["admin"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}?tab=users", headers=HTMX).get_data(as_text=True)
    assert "Sam Manager" in page and "Users tab" in page
    assert "Ivy Assistant" in page and "user group Assistants" in page


def test_add_user_lists_accepted_members_and_greys_pending_invitations(client, auth, agency):
    """Candidates are accepted members not yet in the group; pending invitations cannot be added."""
    newcomer = factories.make_member(agency["account"], Role.MANAGER, name="Nina Newcomer")
    db.session.add(Invitation(account_id=agency["account"].id, email="pending@example.test", role="client",
                              token_hash="0" * 64, expires_at=utcnow() + timedelta(days=7)))
    db.session.commit()
    auth.login(agency["admin"])
    url = f"/settings/access-groups/{agency['maya'].id}/users/candidates"
    body = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "Nina Newcomer" in body and "Add Nina Newcomer" in body
    assert "Sam Manager" not in body  # already in the group
    assert "pending@example.test" in body and "invitation not accepted yet" in body
    filtered = client.get(url, query_string={"q": "nina"}, headers=HTMX).get_data(as_text=True)
    assert "Nina Newcomer" in filtered and "pending@example.test" not in filtered
    assert newcomer.id


def test_adding_and_removing_a_user_takes_effect_at_once(app, client, auth, agency):
    """Add puts a member on the Users tab; Remove takes them off and their next request gets 404."""
    newcomer = factories.make_member(agency["account"], Role.MANAGER, name="Nina Newcomer")
    db.session.commit()
    auth.login(agency["admin"])
    maya = agency["maya"]
    added = client.post(f"/settings/access-groups/{maya.id}/users", data={"user_id": newcomer.id}, headers=HTMX)
    assert added.status_code == 200 and "Nina Newcomer" in added.get_data(as_text=True)
    assert db.session.get(GroupUser, (maya.id, newcomer.id)) is not None

    their_browser = app.test_client()
    their_browser.post("/login", data={"email": newcomer.email, "password": factories.PASSWORD})
    assert their_browser.get(f"/g/{maya.id}/").status_code == 200

    removed = client.post(f"/settings/access-groups/{maya.id}/users/{newcomer.id}/remove", headers=HTMX)
    assert removed.status_code == 200
    assert "Nina Newcomer was removed" in removed.get_data(as_text=True)
    assert db.session.get(GroupUser, (maya.id, newcomer.id)) is None
    assert their_browser.get(f"/g/{maya.id}/").status_code == 404
    assert audit_verbs()[-2:] == ["access_group.user_added", "access_group.user_removed"]


def test_cannot_add_someone_from_another_account(client, auth, agency):
    """Only members of this account can be added; anything else changes nothing."""
    stranger = factories.owner_of(factories.make_account("Rival"))
    db.session.commit()
    auth.login(agency["admin"])
    response = client.post(f"/settings/access-groups/{agency['maya'].id}/users",
                           data={"user_id": stranger.id}, headers=HTMX)
    assert response.status_code == 422
    assert "Only members who accepted their invitation can be added." in response.get_data(as_text=True)
    assert db.session.get(GroupUser, (agency["maya"].id, stranger.id)) is None


# --- end dates on the Users tab ------------------------------------------------------------------


def local_today(zone: str = "UTC") -> date:
    return datetime.now(ZoneInfo(zone)).date()


def says_until(page: str, day: date) -> bool:
    """Whether the Users tab says an entry lasts until `day`, in words and as a machine-readable <time>."""
    written = f"{day:%d %b %Y}"
    return any(squeeze(time.text()) == written and f"until {written}" in squeeze(time.parent.text(separator=" "))
               for time in Html(page).css("time") if time.attributes.get("datetime") == day.isoformat())


def events(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def signed_in(app, user):
    """Another browser, signed in as `user`."""
    browser = app.test_client()
    assert browser.post("/login", data={"email": user.email, "password": factories.PASSWORD}).status_code == 303
    return browser


def test_add_user_with_an_end_date_keeps_them_until_that_day_ends_in_the_account_time_zone(client, auth, agency):
    """The end date is the end of that day where the agency works, stored as aware UTC, and audited."""
    agency["account"].time_zone = "America/New_York"
    newcomer = factories.make_member(agency["account"], Role.MANAGER, name="Nina Newcomer")
    db.session.commit()
    auth.login(agency["admin"])
    maya = agency["maya"]
    ends_on = local_today("America/New_York") + timedelta(days=10)
    response = client.post(f"/settings/access-groups/{maya.id}/users",
                           data={"user_id": newcomer.id, "ends_on": ends_on.isoformat()}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Nina Newcomer can now enter “Maya Lopez”." in body and says_until(body, ends_on)
    entry = db.session.get(GroupUser, (maya.id, newcomer.id))
    expected = datetime.combine(ends_on, time.max, tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)
    assert entry.expires_at == expected and entry.expires_at.utcoffset() == timedelta(0)
    assert events("access_group.user_added")[-1].after == {
        "user_id": newcomer.id, "email": newcomer.email, "expires_at": expected.isoformat()}


def test_an_end_date_is_set_then_cleared_and_both_are_audited(client, auth, agency):
    """Someone with group.users sets a day, the row says until when; clearing it removes the end."""
    auth.login(agency["admin"])
    maya, creator = agency["maya"], agency["creator"]
    url = f"/settings/access-groups/{maya.id}/users/{creator.id}/expiry"
    ends_on = local_today() + timedelta(days=5)
    response = client.post(url, data={"ends_on": ends_on.isoformat()}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert says_until(body, ends_on) and f"may enter “Maya Lopez” until {ends_on:%d %b %Y}" in body
    expires_at = db.session.get(GroupUser, (maya.id, creator.id)).expires_at
    assert expires_at == datetime.combine(ends_on, time.max, tzinfo=timezone.utc)

    cleared = client.post(url, data={"ends_on": ends_on.isoformat(), "clear": "1"}, headers=HTMX)
    assert cleared.status_code == 200
    assert "may enter “Maya Lopez” with no end date" in cleared.get_data(as_text=True)
    assert not says_until(cleared.get_data(as_text=True), ends_on)
    assert db.session.get(GroupUser, (maya.id, creator.id)).expires_at is None

    changes = events("access_group.user_expiry_changed")
    who = {"user_id": creator.id, "email": creator.email}
    assert [(event.before, event.after) for event in changes] == [
        ({**who, "expires_at": None}, {**who, "expires_at": expires_at.isoformat()}),
        ({**who, "expires_at": expires_at.isoformat()}, {**who, "expires_at": None}),
    ]
    assert client.post(url, data={"ends_on": ""}).status_code == 303  # a plain form: back to the tab
    assert len(events("access_group.user_expiry_changed")) == 2  # nothing to change, nothing recorded


@pytest.mark.parametrize("ends_on, message", [
    pytest.param((date.today() - timedelta(days=2)).isoformat(),
                 "That end date has passed. Choose today or a later day.", id="past"),
    pytest.param("31/02/2027", "Enter the end date as a day, such as 2027-03-31.", id="not-a-date"),
])
def test_bad_end_dates_are_refused_with_422_and_change_nothing(client, auth, agency, ends_on, message):
    """A day already past, or no day at all, is refused with a clear message, both when adding and setting."""
    newcomer = factories.make_member(agency["account"], Role.MANAGER, name="Nina Newcomer")
    maya, creator = agency["maya"], agency["creator"]
    kept = utcnow() + timedelta(days=30)
    db.session.get(GroupUser, (maya.id, creator.id)).expires_at = kept
    db.session.commit()
    auth.login(agency["admin"])
    audit_before = audit_verbs()

    refused = client.post(f"/settings/access-groups/{maya.id}/users/{creator.id}/expiry",
                          data={"ends_on": ends_on}, headers=HTMX)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert Html(refused).css("[role=alert]")  # said beside the date, too
    assert db.session.get(GroupUser, (maya.id, creator.id)).expires_at == kept

    plain = client.post(f"/settings/access-groups/{maya.id}/users/{creator.id}/expiry", data={"ends_on": ends_on})
    assert plain.status_code == 422 and message in plain.get_data(as_text=True)

    not_added = client.post(f"/settings/access-groups/{maya.id}/users",
                            data={"user_id": newcomer.id, "ends_on": ends_on}, headers=HTMX)
    assert not_added.status_code == 422 and message in not_added.get_data(as_text=True)
    assert db.session.get(GroupUser, (maya.id, newcomer.id)) is None
    assert audit_verbs() == audit_before


def test_setting_an_end_date_for_someone_not_on_the_tab_is_refused(client, auth, agency):
    """Only entries on the Users tab have an end date to set."""
    outsider = factories.make_member(agency["account"], Role.MANAGER)
    db.session.commit()
    auth.login(agency["admin"])
    response = client.post(f"/settings/access-groups/{agency['maya'].id}/users/{outsider.id}/expiry",
                           data={"ends_on": (local_today() + timedelta(days=3)).isoformat()}, headers=HTMX)
    assert response.status_code == 422
    assert "That person is not on this group&#39;s Users tab." in response.get_data(as_text=True)
    assert db.session.get(GroupUser, (agency["maya"].id, outsider.id)) is None


def test_after_the_end_date_access_ends_on_the_next_request(app, client, auth, agency):
    """The policy stops counting the entry once its day is over; the person's next request gets 404."""
    maya, creator = agency["maya"], agency["creator"]
    auth.login(agency["admin"])
    ends_on = local_today() + timedelta(days=1)
    client.post(f"/settings/access-groups/{maya.id}/users/{creator.id}/expiry", data={"ends_on": ends_on.isoformat()})
    expires_at = db.session.get(GroupUser, (maya.id, creator.id)).expires_at
    assert maya.id in load_permissions(creator.id).groups
    assert maya.id in load_permissions(creator.id, now=expires_at - timedelta(seconds=1)).groups
    assert maya.id not in load_permissions(creator.id, now=expires_at + timedelta(microseconds=1)).groups

    their_browser = signed_in(app, creator)
    assert their_browser.get(f"/g/{maya.id}/").status_code == 200
    # The day passes: the end date is now behind us.
    db.session.get(GroupUser, (maya.id, creator.id)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert their_browser.get(f"/g/{maya.id}/").status_code == 404

    page = Html(client.get(f"/settings/access-groups/{maya.id}?tab=users", headers=HTMX))
    row = page.within(page.by_role("row", re.compile(r"^Maya Lopez ")))
    assert row.has_text("Access ended") and not row.has_text("until")
    entrant = next(e for e in rules.entrants(maya) if e.user.id == creator.id)
    assert entrant.direct.ended and not entrant.may_enter
    assert "2 users" in client.get("/settings/access-groups").get_data(as_text=True)  # she no longer counts


def test_user_group_paths_past_their_end_are_marked_ended(app, agency):
    """A user group membership that has ended is shown, marked ended, and not counted as a way in."""
    outsider = factories.make_member(agency["account"], Role.MANAGER, name="Ivy Assistant")
    night = factories.make_user_group(agency["account"], "Night Desk", members=[outsider], grants=[agency["maya"]])
    day_desk = factories.make_user_group(agency["account"], "Day Desk", members=[outsider], grants=[agency["maya"]])
    db.session.get(UserGroupMember, (night.id, outsider.id)).expires_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    entrant = next(e for e in rules.entrants(agency["maya"]) if e.user.id == outsider.id)
    assert [(path.label, path.ended) for path in entrant.paths] == [
        ("user group Day Desk", False), ("user group Night Desk", True)]
    assert entrant.user_groups == ["Day Desk"] and entrant.may_enter and entrant.direct is None
    assert day_desk.id


# --- user groups on the Users tab ----------------------------------------------------------------


def test_add_user_picker_offers_matching_user_groups_with_member_counts(client, auth, agency):
    """Typing part of a user group's name lists it with its member count; granted ones are not offered."""
    account = agency["account"]
    factories.make_user_group(account, "Night Desk", members=[agency["manager"], agency["creator"]])
    factories.make_user_group(account, "Day Desk", grants=[agency["maya"]])
    factories.make_user_group(account, "Weekend Crew")
    db.session.commit()
    auth.login(agency["admin"])
    url = f"/settings/access-groups/{agency['maya'].id}/users/candidates"
    body = client.get(url, query_string={"q": "desk"}, headers=HTMX).get_data(as_text=True)
    assert "<html" not in body
    assert "Night Desk" in body and "user group · 2 members" in body and "Add group Night Desk" in body
    assert "Day Desk" not in body and "Weekend Crew" not in body


def test_granting_a_user_group_lets_its_members_in_and_revoking_keeps_other_paths(app, client, auth, agency):
    """Members enter with the grant; on removal only those with no other path lose entry."""
    maya, sam = agency["maya"], agency["manager"]  # Sam is also on the Users tab
    nina = factories.make_member(agency["account"], Role.MANAGER, name="Nina Night")
    desk = factories.make_user_group(agency["account"], "Night Desk", members=[nina, sam])
    db.session.commit()
    nina_browser, sam_browser = signed_in(app, nina), signed_in(app, sam)
    assert nina_browser.get(f"/g/{maya.id}/").status_code == 404

    auth.login(agency["owner"])
    granted = client.post(f"/settings/access-groups/{maya.id}/user-groups", data={"user_group_id": desk.id},
                          headers=HTMX)
    assert granted.status_code == 200
    body = granted.get_data(as_text=True)
    assert "Members of the user group “Night Desk” can now enter “Maya Lopez”." in body
    assert Html(body).by_role("row", re.compile(r"^Night Desk 2 members\b"))
    assert "Nina Night" in body and "user group Night Desk" in body
    assert db.session.get(UserGroupGrant, (desk.id, maya.id)) is not None
    assert nina_browser.get(f"/g/{maya.id}/").status_code == 200

    page = client.get(f"/settings/access-groups/{maya.id}?tab=users").get_data(as_text=True)
    assert "Its members lose entry to “Maya Lopez” at once, unless the Users tab or another user group" in page
    revoked = client.post(f"/settings/access-groups/{maya.id}/user-groups/{desk.id}/remove", headers=HTMX)
    assert revoked.status_code == 200
    assert "“Night Desk” no longer lets its members into “Maya Lopez”." in revoked.get_data(as_text=True)
    assert db.session.get(UserGroupGrant, (desk.id, maya.id)) is None
    assert nina_browser.get(f"/g/{maya.id}/").status_code == 404
    assert sam_browser.get(f"/g/{maya.id}/").status_code == 200  # still on the Users tab

    named = {"user_group_id": desk.id, "name": "Night Desk"}
    assert events("access_group.user_group_granted")[-1].after == named
    assert events("access_group.user_group_revoked")[-1].before == named

    again = client.post(f"/settings/access-groups/{maya.id}/user-groups/{desk.id}/remove", headers=HTMX)
    assert again.status_code == 422 and "is not granted on" in again.get_data(as_text=True)


def test_user_groups_of_another_account_are_refused(client, auth, agency):
    """Another account's user group can be neither granted (422) nor removed (404); nothing changes."""
    rival = factories.make_account("Rival")
    theirs = factories.make_user_group(rival, "Rival Desk", members=[factories.owner_of(rival)])
    db.session.commit()
    auth.login(agency["owner"])
    maya = agency["maya"]
    audit_before = audit_verbs()
    refused = client.post(f"/settings/access-groups/{maya.id}/user-groups", data={"user_group_id": theirs.id},
                          headers=HTMX)
    assert refused.status_code == 422
    assert "Choose a user group of this account." in refused.get_data(as_text=True)
    assert client.post(f"/settings/access-groups/{maya.id}/user-groups/{theirs.id}/remove").status_code == 404
    assert client.post(f"/settings/access-groups/{maya.id}/user-groups", data={"user_group_id": "x"},
                       headers=HTMX).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(UserGroupGrant)) == 0
    assert audit_verbs() == audit_before
    picker = client.get(f"/settings/access-groups/{maya.id}/users/candidates", query_string={"q": "rival"},
                        headers=HTMX).get_data(as_text=True)
    assert "Rival Desk" not in picker


def test_a_manager_with_group_users_manages_end_dates_but_only_sees_user_groups(client, auth, agency):
    """group.users lets a manager change the Users tab; granting user groups stays with owner and admins."""
    maya = agency["maya"]
    lead = factories.make_member(agency["account"], Role.MANAGER, groups=[maya], rights=["group.users"],
                                 name="Lee Lead")
    night = factories.make_user_group(agency["account"], "Night Desk")
    day_desk = factories.make_user_group(agency["account"], "Day Desk", grants=[maya])
    db.session.commit()
    auth.login(lead)
    picker = client.get(f"/settings/access-groups/{maya.id}/users/candidates", query_string={"q": "desk"},
                        headers=HTMX)
    assert picker.status_code == 200 and "Night Desk" not in picker.get_data(as_text=True)
    assert client.post(f"/settings/access-groups/{maya.id}/user-groups",
                       data={"user_group_id": night.id}).status_code == 403
    assert client.post(f"/settings/access-groups/{maya.id}/user-groups/{day_desk.id}/remove").status_code == 403
    assert db.session.get(UserGroupGrant, (night.id, maya.id)) is None
    assert db.session.get(UserGroupGrant, (day_desk.id, maya.id)) is not None
    ends_on = local_today() + timedelta(days=7)
    response = client.post(f"/settings/access-groups/{maya.id}/users/{agency['creator'].id}/expiry",
                           data={"ends_on": ends_on.isoformat()}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert says_until(body, ends_on)
    page = Html(body)
    day_desk_row = page.within(page.by_role("row", re.compile(r"^Day Desk\b")))
    assert not day_desk_row.all_by_role("button") and not page.css("dialog[id^=revoke-]")  # listed, no Remove


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_users_tab_posts_need_the_csrf_token(client, agency):
    """With CSRF on, as in production, the new Users-tab posts are refused without the page's token."""
    desk = factories.make_user_group(agency["account"], "Night Desk")
    db.session.commit()
    login_page = client.get("/login").get_data(as_text=True)
    token = Html(login_page).hidden_value("csrf_token")
    client.post("/login", data={"email": agency["owner"].email, "password": factories.PASSWORD, "csrf_token": token})
    maya, creator = agency["maya"], agency["creator"]
    day = (local_today() + timedelta(days=3)).isoformat()
    posts = [
        (f"/settings/access-groups/{maya.id}/users/{creator.id}/expiry", {"ends_on": day}),
        (f"/settings/access-groups/{maya.id}/user-groups", {"user_group_id": desk.id}),
    ]
    for url, form in posts:
        assert client.post(url, data=form).status_code == 400
    assert db.session.get(GroupUser, (maya.id, creator.id)).expires_at is None
    assert db.session.get(UserGroupGrant, (desk.id, maya.id)) is None
    page = client.get(f"/settings/access-groups/{maya.id}?tab=users").get_data(as_text=True)
    token = Html(page).hidden_value("csrf_token")
    for url, form in posts:
        assert client.post(url, data={**form, "csrf_token": token}).status_code == 303
    assert db.session.get(GroupUser, (maya.id, creator.id)).expires_at is not None
    assert db.session.get(UserGroupGrant, (desk.id, maya.id)) is not None


def grow_users_tab(agency, start: int, stop: int) -> None:
    """Entrants with and without end dates (some ended), granted user groups, and user groups on offer."""
    account, maya = agency["account"], agency["maya"]
    for n in range(start, stop):
        member = factories.make_member(account, Role.MANAGER, groups=[maya], name=f"Grown {n}")
        entry = db.session.get(GroupUser, (maya.id, member.id))
        entry.expires_at = (None, utcnow() + timedelta(days=n + 1), utcnow() - timedelta(days=1))[n % 3]
        granted = factories.make_user_group(account, f"Granted desk {n}", members=[member], grants=[maya])
        if n % 2:
            db.session.get(UserGroupMember, (granted.id, member.id)).expires_at = utcnow() + timedelta(days=n)
        factories.make_user_group(account, f"Offered desk {n}", members=[member])
    db.session.commit()


USERS_TAB_PAGES = {
    "users tab": ("?tab=users", HTMX),
    "users tab, whole page": ("?tab=users", {}),
    "candidates": ("/users/candidates", HTMX),
    "candidates filtered": ("/users/candidates?q=desk", HTMX),
}


@pytest.mark.parametrize("page", sorted(USERS_TAB_PAGES))
def test_users_tab_queries_do_not_grow_with_entrants_and_user_groups(client, auth, agency, count_queries, page):
    """The same number of queries with 3 and with 40 entrants, grants and user groups."""
    suffix, headers = USERS_TAB_PAGES[page]
    url = f"/settings/access-groups/{agency['maya'].id}{suffix}"
    auth.login(agency["owner"])

    def measure() -> int:
        client.get(url, headers=headers)
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        return counter.count

    grow_users_tab(agency, 0, 3)
    small = measure()
    grow_users_tab(agency, 3, 40)
    large = measure()
    assert small == large, f"queries grew with the Users tab: {small} -> {large}"
    assert large <= 9, large


def test_an_admin_grants_nowhere_a_user_group_that_reaches_groups_beyond_them(client, auth, agency):
    """A user group also granted on a group the admin cannot enter is not the admin's to grant or revoke."""
    hidden, maya = factories.make_group(agency["account"], "Leo Park"), agency["maya"]
    wide = factories.make_user_group(agency["account"], "Wide Desk", members=[agency["manager"]], grants=[hidden])
    wider = factories.make_user_group(agency["account"], "Wider Desk", grants=[hidden, maya])
    db.session.commit()
    auth.login(agency["admin"])  # enters Maya Lopez only
    granted = client.post(f"/settings/access-groups/{maya.id}/user-groups", data={"user_group_id": wide.id},
                          headers=HTMX)
    assert granted.status_code == 422
    assert "lets its members into access groups you cannot enter" in granted.get_data(as_text=True)
    revoked = client.post(f"/settings/access-groups/{maya.id}/user-groups/{wider.id}/remove", headers=HTMX)
    assert revoked.status_code == 422
    assert db.session.get(UserGroupGrant, (wide.id, maya.id)) is None
    assert db.session.get(UserGroupGrant, (wider.id, maya.id)) is not None


# --- the list: a page at a time, filtered by name ------------------------------------------------


LIST = "/settings/access-groups"


def card_names(page: Html) -> list[str]:
    """The groups' names as their cards head them, in page order (the Default badge left out)."""
    return [squeeze(heading.text(separator=" ")).removesuffix(" Default")
            for heading in page.css(".group-card h2")]


def more_link(page: Html) -> str | None:
    links = page.all_by_role("link", "More groups")
    assert len(links) <= 1
    return links[0].attributes["href"] if links else None


def every_page(client, url: str) -> list[list[str]]:
    """The names on each page of the list, following "More groups" as htmx does: the first page whole,
    then each next one as the cards that follow."""
    page = Html(client.get(url))
    pages = [card_names(page)]
    while (url := more_link(page)) is not None:
        response = client.get(url, headers=HTMX)
        assert response.status_code == 200
        page = Html(response)
        assert "<html" not in response.get_data(as_text=True)
        assert all(node.tag == "li" for node in page.top_level)  # cards (and the next link) to add to the list
        pages.append(card_names(page))
    return pages


def make_groups(account, names: list[str]) -> None:
    for name in names:
        factories.make_group(account, name)
    db.session.commit()


def test_a_long_list_shows_every_group_once_a_page_at_a_time(client, auth, agency):
    """With more groups than a page holds, "More groups" brings the rest; each group appears exactly once,
    the default first and the others by name."""
    make_groups(agency["account"], [f"Client {n:03}" for n in range(70)])
    auth.login(agency["owner"])
    pages = every_page(client, LIST)
    shown = [name for names in pages for name in names]
    assert shown == ["Northstar HQ", *[f"Client {n:03}" for n in range(70)], "Maya Lopez"]
    assert len(pages) > 2 and all(len(names) == rules.GROUPS_PER_PAGE for names in pages[:-1])


def test_a_next_page_opened_directly_is_a_whole_page_with_a_way_back(client, auth, agency):
    """The "More groups" link works without JavaScript: the page after, with a link to the first one."""
    make_groups(agency["account"], [f"Client {n:03}" for n in range(60)])
    auth.login(agency["owner"])
    first = Html(client.get(LIST))
    page = Html(client.get(more_link(first)))
    assert page.by_role("heading", "Social Sets & Access Groups")
    ordered = ["Northstar HQ", *[f"Client {n:03}" for n in range(60)], "Maya Lopez"]
    assert card_names(page) == ordered[rules.GROUPS_PER_PAGE:2 * rules.GROUPS_PER_PAGE]
    assert page.by_role("link", "Back to the first groups").attributes["href"] == LIST


def test_the_filter_narrows_the_list_and_paging_keeps_it(client, auth, agency):
    """Typing part of a name lists the groups whose name holds it, in any case; "More groups" keeps the filter."""
    make_groups(agency["account"], [f"Client {n:03}" for n in range(55)] + ["Brand Clientele", "Other"])
    auth.login(agency["owner"])
    response = client.get(LIST, query_string={"q": "CLIENT"}, headers=HTMX)
    page = Html(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert [node.attributes.get("id") for node in page.top_level] == ["group-list"]  # the list alone
    assert "q=CLIENT" in more_link(page)
    pages = every_page(client, LIST + "?q=CLIENT")
    shown = [name for names in pages for name in names]
    assert shown == ["Brand Clientele", *[f"Client {n:03}" for n in range(55)]]
    narrow = Html(client.get(LIST, query_string={"q": "client 05"}))
    assert card_names(narrow) == [f"Client {n:03}" for n in range(50, 55)] and more_link(narrow) is None
    assert narrow.by_label("Find a group").attributes["value"] == "client 05"  # a reload keeps the filter


def test_the_filter_box_asks_for_the_list_as_you_type(client, auth, agency):
    """The search box fetches the list after a pause in typing and puts the filter in the address;
    without JavaScript it is an ordinary search form."""
    auth.login(agency["owner"])
    page = Html(client.get(LIST))
    box = page.by_label("Find a group")
    assert box.attributes["type"] == "search" and box.attributes["name"] == "q"
    assert box.attributes["hx-get"] == LIST
    assert box.attributes["hx-trigger"] == "input changed delay:300ms, search"
    assert box.attributes["hx-target"] == "#group-list" and box.attributes["hx-push-url"] == "true"
    form = page.form_of(box)
    assert form.attributes["method"] == "get" and form.attributes["action"] == LIST
    assert page.by_role("search", "Find access groups")


def test_no_group_matching_the_filter_says_so(client, auth, agency):
    auth.login(agency["owner"])
    page = Html(client.get(LIST, query_string={"q": "zebra%"}, headers=HTMX))
    assert card_names(page) == []
    assert page.has_text("No access group matches “zebra%”.")
    assert page.by_role("link", "Show every group").attributes["href"] == LIST


def test_the_list_shows_only_groups_the_viewer_may_enter_on_every_page(client, auth, agency):
    """An admin pages through the groups they may enter; a filter or a cursor finds no other."""
    make_groups(agency["account"], [f"Client {n:03}" for n in range(55)])
    auth.login(agency["admin"])  # on Maya Lopez's Users tab only
    assert every_page(client, LIST) == [["Maya Lopez"]]
    assert card_names(Html(client.get(LIST, query_string={"q": "client"}))) == []
    auth.logout()
    auth.login(agency["owner"])
    cursor = more_link(Html(client.get(LIST)))
    auth.logout()
    auth.login(agency["admin"])
    assert card_names(Html(client.get(cursor, headers=HTMX))) == ["Maya Lopez"]


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsIngiXQ", "W3RydWUsIngiLDFd", "WzEsIngiLDFd" * 200])
def test_a_cursor_that_names_no_row_means_the_first_page(client, auth, agency, cursor):
    """A mangled, mistyped ([true, "x", 1]) or overlong cursor is not an error: the list starts at the top."""
    auth.login(agency["owner"])
    response = client.get(LIST, query_string={"cursor": cursor})
    assert response.status_code == 200
    assert card_names(Html(response)) == ["Northstar HQ", "Maya Lopez"]


def test_each_card_counts_its_sets_profiles_and_users(client, auth, agency):
    factories.make_profile(db.session.get(AccessGroup, agency["maya"].id).social_sets[0], Network.YOUTUBE)
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(LIST))
    card = page.within(page.css(".group-card")[1])
    assert card.one(".group-counts").text(separator=" ").split() == [
        "1", "social", "set", "·", "2", "profiles", "·", "3", "users"]


def test_a_new_group_is_shown_however_long_the_list(client, auth, agency):
    """After creating a group the list is filtered to its name, so it shows even when it would sort past
    the first page; the address says so."""
    make_groups(agency["account"], [f"Client {n:03}" for n in range(60)])
    auth.login(agency["owner"])
    response = client.post(LIST, data={"name": "Zed Last"}, headers=HTMX)
    page = Html(response)
    assert response.status_code == 200
    assert card_names(page) == ["Zed Last"]
    assert response.headers["HX-Push-Url"] == "/settings/access-groups?q=Zed+Last"
    assert page.by_label("Find a group").attributes["value"] == "Zed Last"
    plain = client.post(LIST, data={"name": "Zed Later"})
    assert plain.status_code == 303 and plain.headers["Location"] == "/settings/access-groups?q=Zed+Later"


def test_a_refused_name_keeps_the_filter_of_the_list(client, auth, agency):
    make_groups(agency["account"], [f"Client {n:03}" for n in range(3)])
    auth.login(agency["owner"])
    page = Html(client.get(LIST, query_string={"q": "client"}))
    action = page.form_of(page.by_label("Name")).attributes["action"]
    assert action == "/settings/access-groups?q=client"
    response = client.post(action, data={"name": ""}, headers=HTMX)
    assert response.status_code == 422
    assert card_names(Html(response)) == ["Client 000", "Client 001", "Client 002"]


LIST_PAGES = {
    "first page": ("", {}),
    "filtered": ("?q=group", HTMX),
    "next page": ("?cursor=next", HTMX),
}


@pytest.mark.parametrize("page", sorted(LIST_PAGES))
def test_list_queries_do_not_grow_with_the_number_of_groups(client, auth, agency, count_queries, page):
    """The same number of queries with 3 groups and with 130 (more than two pages), each with a set and
    profiles; the page's cards alone are counted."""
    suffix, headers = LIST_PAGES[page]
    auth.login(agency["owner"])

    def grow(start: int, stop: int) -> None:
        for n in range(start, stop):
            group = factories.make_group(agency["account"], f"Group {n:03}")
            social_set = factories.make_social_set(group)
            factories.make_profile(social_set, Network.INSTAGRAM)
            factories.make_profile(social_set, Network.TIKTOK)
            factories.add_to_group(agency["manager"], group)
        db.session.commit()

    def measure() -> int:
        url = LIST + suffix
        if suffix == "?cursor=next":  # the cursor after the first group
            url = more_link(Html(client.get(LIST))) or LIST + "?cursor=" + paging.encode_key([0, "", 0])
        client.get(url, headers=headers)
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert len(Html(response).css(".group-card")) <= rules.GROUPS_PER_PAGE
        return counter.count

    grow(0, 3)
    small = measure()
    grow(3, 130)
    large = measure()
    assert small == large, f"queries grew with the groups: {small} -> {large}"
    assert large <= 10, large  # with the sidebar's count of unread notifications


def test_what_a_group_holds_is_counted_up_to_a_bound_and_its_media_from_its_own_count():
    held = rules.Holdings(social_sets=1, media_items=50_000, posts=rules.HELD_COUNTED + 1, campaigns=0)
    assert held.describe() == ["1 social set", "50,000 media items", f"more than {rules.HELD_COUNTED:,} posts"]
    assert not held.empty and rules.Holdings(0, 0, 0, 0).empty
