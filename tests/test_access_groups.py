"""Settings › Social Sets & Access Groups: listing, creating, renaming, deleting, the Users tab."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AccessGroup, AuditEvent, GroupUser, Invitation, Network, Role, utcnow

from . import factories

HTMX = {"HX-Request": "true"}


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
    page = client.get("/settings/access-groups").get_data(as_text=True)
    assert "Northstar HQ" in page and 'Default</span>' in page
    assert "Maya Main" in page and "@mayadances" in page
    assert page.count('class="slot empty"') == len(Network) - 1
    assert "3 users" in page  # admin, manager and creator on Maya's Users tab
    assert "Create New Access Group" in page


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
    assert "<html" not in body and 'id="sidebar"' in body
    assert "<h2>Leo Park</h2>" in body  # the group's card, not just the message
    assert "Access group “Leo Park” created." in body
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
    page = client.get(f"/settings/access-groups/{empty.id}").get_data(as_text=True)
    assert '<dialog id="delete-dialog"' in page and 'data-dialog-open="delete-dialog"' in page
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
