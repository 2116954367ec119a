"""Settings › Team › a member: role limits, ownership transfer, own rights and client grants, seats,
approver duty, end dates, and who may reach any of it."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from webapp import members as rules
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    GroupUser,
    MemberRight,
    Membership,
    Network,
    ProfileApprover,
    Role,
    User,
    UserGroup,
    UserGroupGrant,
    UserGroupMember,
    UserGroupRight,
    utcnow,
)
from webapp.policy import load_permissions
from webapp.zones import local_day

from . import factories
from .html import HTMX, Html, squeeze

SEAT_MESSAGE = "Your Starter plan includes 2 team seats. Upgrade the plan to add more."


@pytest.fixture
def agency():
    agency = factories.three_group_agency()
    account, hq, maya, leo = agency["account"], agency["hq"], agency["maya"], agency["leo"]
    main_set = factories.make_social_set(maya, "Maya Main")
    profiles = {
        "instagram": factories.make_profile(main_set, Network.INSTAGRAM, "mayalopez"),
        "tiktok": factories.make_profile(main_set, Network.TIKTOK, "mayatok"),
        "leo_youtube": factories.make_profile(factories.make_social_set(leo), Network.YOUTUBE, "leopark"),
    }
    people = {
        "admin2": factories.make_member(account, Role.ADMIN, groups=[hq], name="Ari Admin"),
        "manager": factories.make_member(account, Role.MANAGER, groups=[maya], rights=["team.invite"],
                                         name="Sam Manager"),
        "creator": factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez",
                                         email="maya@example.test"),
        "sister": factories.make_member(account, Role.CLIENT, groups=[maya], name="Mia Lopez"),
    }
    rival = factories.make_account("Rival")
    db.session.commit()
    return {**agency, "rival": rival,
            "rival_owner": factories.owner_of(rival), **profiles, **people}


@pytest.fixture
def starter():
    """A Starter account (2 seats): the owner and a manager fill them; a client and an admin-to-be wait."""
    account = factories.make_account("Small Shop", plan="starter")
    group = factories.default_group(account)
    owner = factories.owner_of(account)
    factories.add_to_group(owner, group)
    profile = factories.make_profile(factories.make_social_set(group), Network.INSTAGRAM, "smallshop")
    manager = factories.make_member(account, Role.MANAGER, groups=[group], name="Sue Manager")
    client = factories.make_member(account, Role.CLIENT, groups=[group], name="Cat Client")
    db.session.commit()
    return {"account": account, "group": group, "owner": owner, "manager": manager, "client": client,
            "profile": profile}


def membership(account, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def rights_of(account, user) -> set[str]:
    return set(db.session.scalars(
        select(MemberRight.name).join(Membership).where(Membership.account_id == account.id,
                                                        Membership.user_id == user.id)))


def approvers(profile) -> set[int]:
    return set(db.session.scalars(
        select(ProfileApprover.user_id).where(ProfileApprover.social_profile_id == profile.id)))


def audit(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def snapshot() -> tuple:
    """Everything a refused change must leave as it was."""
    roles = tuple(db.session.execute(
        select(Membership.user_id, Membership.role, Membership.expires_at).order_by(Membership.id)
        .execution_options(populate_existing=True)).all())
    rights = tuple(db.session.execute(
        select(MemberRight.membership_id, MemberRight.name)
        .order_by(MemberRight.membership_id, MemberRight.name)).all())
    approver_rows = tuple(db.session.execute(
        select(ProfileApprover.social_profile_id, ProfileApprover.user_id).order_by(ProfileApprover.social_profile_id,
                                                                                      ProfileApprover.user_id)).all())
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    entries = db.session.scalar(select(func.count()).select_from(GroupUser))
    return roles, rights, approver_rows, events, entries


def member_url(user, action: str = "") -> str:
    return f"/settings/team/members/{user.id}" + (f"/{action}" if action else "")


def edit(section: str, fields: dict) -> dict:
    """The member page's one form as sent with only `section` shown (the others are left as they are)."""
    return {"sections": section, **fields}


# --- reaching the page ---------------------------------------------------------------------------


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("admin", 200), ("manager", 403), ("creator", 403),
])
def test_only_owner_and_admins_reach_a_member_page(client, auth, agency, who, status):
    """members.manage decides; a manager granted team.invite still may not manage members."""
    auth.login(agency[who])
    assert client.get(member_url(agency["sister"])).status_code == status


def test_a_member_of_another_account_is_not_found(client, auth, agency):
    """Another agency's owner, or someone who is not a member here: 404, for the page and every change."""
    auth.login(agency["rival_owner"])
    assert client.get(member_url(agency["creator"])).status_code == 404
    before = snapshot()
    assert client.post(member_url(agency["creator"]), data=edit("role", {"role": "manager"})).status_code == 404
    assert client.post(member_url(agency["creator"]),
                       data=edit("expiry", {"expires_on": "2030-01-01"})).status_code == 404
    auth.logout()
    auth.login(agency["owner"])
    assert client.get(member_url(agency["rival_owner"])).status_code == 404
    assert client.post(member_url(agency["rival_owner"]), data=edit("role", {"role": "client"})).status_code == 404
    assert client.post(member_url(agency["rival_owner"], "transfer-ownership")).status_code == 404
    assert snapshot() == before


def test_team_page_links_members_for_those_who_manage_them(client, auth, agency):
    """Owner and admins get links to each member page; a manager who may invite sees plain names."""
    auth.login(agency["owner"])
    page = Html(client.get("/settings/team"))
    assert page.by_role("link", "Maya Lopez").attributes["href"] == f"/settings/team/members/{agency['creator'].id}"
    auth.logout()
    auth.login(agency["manager"])
    page = Html(client.get("/settings/team"))
    assert page.has_text("Maya Lopez")
    assert not [link for link in page.all_by_role("link") if "/settings/team/members/" in link.attributes["href"]]


def test_member_page_shows_the_member_and_their_sections(client, auth, agency):
    """Name, email, role, joined date; a client's grants and approver duty; the "Why?" placeholder."""
    auth.login(agency["owner"])
    page = Html(client.get(member_url(agency["creator"])))
    assert page.by_role("heading", "Maya Lopez").tag == "h1"
    assert page.has_text("maya@example.test") and page.has_text("Joined")
    for grant in ("Publish", "Social inbox", "Analytics"):
        assert page.by_role("checkbox", grant).attributes["name"] == "grants"
    assert page.has_text("Takes a team seat.")
    assert page.has_text("Approver for Instagram @mayalopez")
    assert not page.has_text("@leopark")  # she cannot see Leo's group
    assert page.one("#why")
    admin_page = client.get(member_url(agency["admin"])).get_data(as_text=True)
    assert "Admins hold every right except creating access groups and changing the plan or owner." in admin_page
    manager_page = Html(client.get(member_url(agency["manager"])))
    assert "team.invite" in manager_page.checked("rights")
    offered = [box.attributes.get("value") for box in manager_page.all_by_role("checkbox")]
    assert "posts.create" not in offered  # a manager has it already


# --- roles ---------------------------------------------------------------------------------------


def test_owner_changes_a_role_and_rights_the_role_cannot_hold_are_dropped(client, auth, agency):
    """Manager → client: team.invite goes (not a client grant); the change is audited."""
    manager = membership(agency["account"], agency["manager"])
    db.session.add(MemberRight(membership_id=manager.id, name="analytics.view"))
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["manager"]), data=edit("role", {"role": "client"}))
    assert response.status_code == 303
    assert membership(agency["account"], agency["manager"]).role == "client"
    assert rights_of(agency["account"], agency["manager"]) == {"analytics.view"}
    event = audit("member.role_changed")[-1]
    assert event.before == {"role": "manager", "rights": ["analytics.view", "team.invite"]}
    assert event.after == {"role": "client", "rights": ["analytics.view"]}


def test_promoting_drops_rights_the_new_baseline_covers(app, agency):
    """Client with Publish → manager: the publishing rights come with the role now."""
    account = agency["account"]
    creator = membership(account, agency["creator"])
    creator.rights = [MemberRight(name=name)
                      for name in ("posts.create", "posts.edit", "posts.publish", "inbox.manage")]
    db.session.flush()
    rules.change_role(account, creator, "manager", agency["owner"], "owner")
    db.session.commit()
    assert rights_of(account, agency["creator"]) == {"inbox.manage"}


@pytest.mark.parametrize("editor, target, role, message", [
    ("admin", "manager", "admin", "only the owner makes admins"),
    ("admin", "admin2", "manager", "Only the owner can change an admin."),
    ("admin", "owner", "admin", "change only when the owner transfers ownership"),
    ("admin", "admin", "manager", "Nobody can change their own role"),
    ("owner", "owner", "admin", "Nobody can change their own role"),
    ("owner", "manager", "owner", "exactly one owner"),
    ("owner", "manager", "boss", "Choose a role."),
])
def test_role_changes_beyond_the_editor_are_refused_and_change_nothing(client, auth, agency, editor, target, role,
                                                                       message):
    """422 with a clear message; roles, rights and the audit log are as they were."""
    before = snapshot()
    auth.login(agency[editor])
    response = client.post(member_url(agency[target]), data=edit("role", {"role": role}), headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_admin_changes_managers_and_clients(client, auth, agency):
    auth.login(agency["admin"])
    assert client.post(member_url(agency["sister"]), data=edit("role", {"role": "manager"})).status_code == 303
    assert membership(agency["account"], agency["sister"]).role == "manager"


def test_a_role_change_that_takes_a_seat_the_plan_lacks_is_refused(client, auth, starter):
    """Starter has 2 seats, both taken: a client cannot become a manager; the message names the limit."""
    before = snapshot()
    auth.login(starter["owner"])
    response = client.post(member_url(starter["client"]), data=edit("role", {"role": "manager"}), headers=HTMX)
    assert response.status_code == 422
    assert SEAT_MESSAGE in response.get_data(as_text=True)
    assert snapshot() == before
    # Freeing a seat is always allowed, even on a full plan.
    assert client.post(member_url(starter["manager"]), data=edit("role", {"role": "client"})).status_code == 303
    assert membership(starter["account"], starter["manager"]).role == "client"


def test_a_client_who_is_the_last_approver_stays_a_client(client, auth, agency):
    """Only clients approve: a role change that would leave a profile needing approval without one is refused."""
    agency["instagram"].needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=agency["instagram"].id, user_id=agency["creator"].id))
    db.session.commit()
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["creator"]), data=edit("role", {"role": "manager"}), headers=HTMX)
    assert response.status_code == 422
    assert "only approver of @mayalopez" in response.get_data(as_text=True)
    assert snapshot() == before
    db.session.add(ProfileApprover(social_profile_id=agency["instagram"].id, user_id=agency["sister"].id))
    db.session.commit()
    assert client.post(member_url(agency["creator"]), data=edit("role", {"role": "manager"})).status_code == 303
    assert approvers(agency["instagram"]) == {agency["sister"].id}


# --- ownership -----------------------------------------------------------------------------------


def test_owner_transfers_ownership_and_becomes_an_admin(client, auth, agency):
    """Atomic: one owner before and after; the old owner keeps every group; audited."""
    account, owner, admin = agency["account"], agency["owner"], agency["admin"]
    auth.login(owner)
    page = Html(client.get(member_url(admin)))
    transfer = page.opened_by(page.by_role("button", "Make Alex Admin the owner…"))
    assert page.name_of(transfer) == "Make Alex Admin the owner of Northstar?"
    assert page.within(transfer).has_text("You become an admin")
    response = client.post(member_url(admin, "transfer-ownership"))
    assert response.status_code == 303 and response.location.endswith("/settings/team")
    assert membership(account, admin).role == "owner"
    assert membership(account, owner).role == "admin"
    owners = db.session.scalar(select(func.count()).select_from(Membership)
                               .where(Membership.account_id == account.id, Membership.role == "owner"))
    assert owners == 1
    event = audit("account.owner_transferred")[-1]
    assert event.before["owner_id"] == owner.id and event.after["owner_id"] == admin.id
    # As owner they entered Leo's group without being on its Users tab; as an admin they still do.
    perms = load_permissions(owner.id)
    assert perms.role_in(account.id) == "admin" and agency["leo"].id in perms.groups
    # The new owner now manages the former owner like any admin; the former owner cannot transfer back.
    assert client.post(member_url(admin, "transfer-ownership")).status_code == 403
    team = client.get("/settings/team").get_data(as_text=True)
    assert team.count(">Owner<") == 1


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_only_the_owner_transfers_ownership(client, auth, agency, who):
    before = snapshot()
    auth.login(agency[who])
    assert client.post(member_url(agency["admin2"], "transfer-ownership")).status_code == 403
    assert snapshot() == before


def test_ownership_goes_only_to_another_active_member(client, auth, agency):
    account = agency["account"]
    membership(account, agency["admin2"]).expires_at = datetime.now(timezone.utc) - timedelta(days=1)
    db.session.commit()
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["admin2"], "transfer-ownership"), headers=HTMX)
    assert response.status_code == 422 and "ownership goes to an active member" in response.get_data(as_text=True)
    response = client.post(member_url(agency["owner"], "transfer-ownership"), headers=HTMX)
    assert response.status_code == 422 and "already the owner" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_transfer_that_takes_a_seat_the_plan_lacks_is_refused(client, auth, starter):
    """A client made owner would take a third seat (the old owner stays one as admin)."""
    before = snapshot()
    auth.login(starter["owner"])
    response = client.post(member_url(starter["client"], "transfer-ownership"), headers=HTMX)
    assert response.status_code == 422
    assert SEAT_MESSAGE in response.get_data(as_text=True)
    assert snapshot() == before


# --- own rights and client grants ------------------------------------------------------------------


def test_own_rights_are_replaced_by_the_chosen_ones(client, auth, agency):
    account, manager = agency["account"], agency["manager"]
    auth.login(agency["admin"])
    response = client.post(member_url(manager), data=edit("rights", {"rights": ["inbox.manage", "analytics.view"]}))
    assert response.status_code == 303
    assert rights_of(account, manager) == {"inbox.manage", "analytics.view"}
    event = audit("member.rights_changed")[-1]
    assert event.before["rights"] == ["team.invite"]
    assert event.after["rights"] == ["analytics.view", "inbox.manage"]
    assert client.post(member_url(manager), data=edit("rights", {})).status_code == 303
    assert rights_of(account, manager) == set()


@pytest.mark.parametrize("data, message", [
    ({"rights": ["posts.create"]}, "cannot be given these rights here: create posts"),
    ({"rights": ["root"]}, "Choose among the rights listed."),
])
def test_rights_a_role_cannot_be_given_are_refused(client, auth, agency, data, message):
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["manager"]), data=edit("rights", data), headers=HTMX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert snapshot() == before


def test_admins_have_no_own_rights_to_set(client, auth, agency):
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["admin"]), data=edit("rights", {"rights": ["organize"]}), headers=HTMX)
    assert response.status_code == 422
    assert snapshot() == before


def test_client_grants_map_to_their_rights():
    assert rules.rights_for_grants(["publish"]) == {"posts.create", "posts.edit", "posts.publish"}
    assert rules.rights_for_grants(["inbox", "analytics"]) == {"inbox.manage", "analytics.view"}
    with pytest.raises(rules.MemberError):
        rules.rights_for_grants(["everything"])
    assert rules.assignable_rights("client") == {"posts.create", "posts.edit", "posts.publish", "inbox.manage",
                                                 "analytics.view"}


def test_client_grants_are_saved_as_rights_and_earlier_rights_kept(client, auth, agency):
    """Publish + Analytics become four rights; media rights given earlier stay; the client can post next request."""
    account, creator = agency["account"], agency["creator"]
    membership(account, creator).rights = [MemberRight(name="media.view")]
    db.session.commit()
    creator_client = client.application.test_client()
    from .conftest import Auth

    Auth(creator_client).login(creator)
    new_post = f"/g/{agency['maya'].id}/posts/new"
    assert creator_client.get(new_post).status_code == 403
    auth.login(agency["owner"])
    response = client.post(member_url(creator), data=edit("rights", {"grants": ["publish", "analytics"]}))
    assert response.status_code == 303
    assert rights_of(account, creator) == {"posts.create", "posts.edit", "posts.publish", "analytics.view",
                                           "media.view"}
    page = Html(client.get(member_url(creator)))
    publish, inbox = page.by_role("checkbox", "Publish"), page.by_role("checkbox", "Social inbox")
    assert "checked" in publish.attributes and "checked" not in inbox.attributes
    assert page.description_of(publish) == "Create, edit and schedule posts. Takes a team seat."
    assert page.description_of(inbox) == "Answer messages and comments on their profiles."
    assert creator_client.get(new_post).status_code == 200  # on her very next request
    assert client.post(member_url(creator), data=edit("rights", {"grants": ["analytics"]})).status_code == 303
    assert rights_of(account, creator) == {"analytics.view", "media.view"}
    assert creator_client.get(new_post).status_code == 403


def test_publish_for_a_client_on_a_full_plan_is_refused(client, auth, starter):
    """Publish takes a seat: on Starter with both seats taken it is refused, naming the limit; nothing changes."""
    before = snapshot()
    auth.login(starter["owner"])
    response = client.post(member_url(starter["client"]), data=edit("rights", {"grants": ["publish"]}), headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert SEAT_MESSAGE in body and "<html" not in body and Html(body).one("#member")
    assert snapshot() == before
    assert rights_of(starter["account"], starter["client"]) == set()
    # Analytics takes no seat.
    assert client.post(member_url(starter["client"]), data=edit("rights", {"grants": ["analytics"]})).status_code == 303
    assert rights_of(starter["account"], starter["client"]) == {"analytics.view"}


def test_publish_fits_once_a_seat_is_free(client, auth, starter):
    db.session.add(Membership(account_id=starter["account"].id, user_id=factories.make_user().id, role="client"))
    membership(starter["account"], starter["manager"]).role = "client"
    db.session.commit()
    auth.login(starter["owner"])
    assert client.post(member_url(starter["client"]), data=edit("rights", {"grants": ["publish"]})).status_code == 303
    assert "posts.publish" in rights_of(starter["account"], starter["client"])


# --- approver ------------------------------------------------------------------------------------


def test_a_client_is_made_approver_of_profiles_they_can_see(client, auth, agency):
    creator, instagram, tiktok = agency["creator"], agency["instagram"], agency["tiktok"]
    auth.login(agency["owner"])
    response = client.post(member_url(creator), data=edit("approver", {"profiles": [instagram.id, tiktok.id]}))
    assert response.status_code == 303
    assert approvers(instagram) == {creator.id} and approvers(tiktok) == {creator.id}
    event = audit("member.approver_changed")[-1]
    assert event.before == {"profile_ids": []} and event.after == {"profile_ids": sorted([instagram.id, tiktok.id])}
    assert client.post(member_url(creator), data=edit("approver", {"profiles": [tiktok.id]})).status_code == 303
    assert approvers(instagram) == set() and approvers(tiktok) == {creator.id}


def test_a_profile_the_client_cannot_see_is_refused(client, auth, agency):
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["creator"]),
                           data=edit("approver", {"profiles": [agency["leo_youtube"].id]}), headers=HTMX)
    assert response.status_code == 422
    assert "only approve posts for profiles they can see" in response.get_data(as_text=True)
    response = client.post(member_url(agency["manager"]),
                           data=edit("approver", {"profiles": [agency["instagram"].id]}), headers=HTMX)
    assert response.status_code == 422 and "Only clients approve posts." in response.get_data(as_text=True)
    assert snapshot() == before


def test_an_admin_sees_and_changes_approver_duty_only_in_groups_they_enter(client, auth, agency):
    """Alex (HQ and Maya's) neither sees nor changes the creator's duty in Leo's group."""
    creator, leo_youtube, instagram = agency["creator"], agency["leo_youtube"], agency["instagram"]
    factories.add_to_group(creator, agency["leo"])
    db.session.add(ProfileApprover(social_profile_id=leo_youtube.id, user_id=creator.id))
    db.session.commit()
    auth.login(agency["admin"])
    page = client.get(member_url(creator)).get_data(as_text=True)
    assert "@mayalopez" in page and "@leopark" not in page and "Leo Park" not in page

    response = client.post(member_url(creator), data=edit("approver", {"profiles": [leo_youtube.id]}), headers=HTMX)
    assert response.status_code == 422 and approvers(leo_youtube) == {creator.id}
    # Saving what Alex sees leaves the duty Alex cannot see as it was.
    assert client.post(member_url(creator), data=edit("approver", {"profiles": [instagram.id]})).status_code == 303
    assert approvers(instagram) == {creator.id} and approvers(leo_youtube) == {creator.id}


def test_the_last_approver_of_a_profile_needing_approval_cannot_be_unticked(client, auth, agency):
    instagram, creator, sister = agency["instagram"], agency["creator"], agency["sister"]
    instagram.needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=instagram.id, user_id=creator.id))
    db.session.commit()
    before = snapshot()
    auth.login(agency["admin"])
    response = client.post(member_url(creator), data=edit("approver", {}), headers=HTMX)
    assert response.status_code == 422
    assert ("Maya Lopez is the only approver of @mayalopez, which needs client approval"
            in response.get_data(as_text=True))
    assert snapshot() == before
    assert client.post(member_url(sister), data=edit("approver", {"profiles": [instagram.id]})).status_code == 303
    assert client.post(member_url(creator), data=edit("approver", {})).status_code == 303
    assert approvers(instagram) == {sister.id}


# --- end date ------------------------------------------------------------------------------------


def test_an_end_date_is_the_end_of_that_day_in_the_account_time_zone(client, auth, agency):
    account, sister = agency["account"], agency["sister"]
    account.time_zone = "America/New_York"
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(member_url(sister), data=edit("expiry", {"expires_on": "2030-06-30"}))
    assert response.status_code == 303
    expected = datetime.combine(date(2030, 6, 30), time.max, tzinfo=ZoneInfo("America/New_York"))
    stored = membership(account, sister).expires_at
    assert stored == expected and stored.tzinfo is not None
    assert stored.astimezone(timezone.utc).date() == date(2030, 7, 1)  # already the next day in UTC
    event = audit("member.expiry_changed")[-1]
    assert event.before == {"expires_at": None} and event.after["last_day"] == "2030-06-30"
    team = client.get("/settings/team").get_data(as_text=True)
    last_day = Html(team).by_datetime("2030-06-30")
    assert last_day.text() == "30 Jun 2030" and "until 30 Jun 2030" in squeeze(last_day.parent.text())
    # Access holds through that day and ends after it.
    assert account.id in load_permissions(sister.id, now=expected - timedelta(minutes=1)).roles
    assert load_permissions(sister.id, now=expected + timedelta(minutes=1)).roles == {}
    assert client.post(member_url(sister), data=edit("expiry", {"expires_on": ""})).status_code == 303
    assert membership(account, sister).expires_at is None


def test_an_end_date_in_the_past_ends_access_on_the_next_request(client, auth, agency):
    sister = agency["sister"]
    sister_client = client.application.test_client()
    from .conftest import Auth

    Auth(sister_client).login(sister)
    group_home = f"/g/{agency['maya'].id}/"
    assert sister_client.get(group_home).status_code == 200
    auth.login(agency["admin"])
    yesterday = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()
    assert client.post(member_url(sister), data=edit("expiry", {"expires_on": yesterday})).status_code == 303
    assert sister_client.get(group_home).status_code == 404
    assert load_permissions(sister.id).roles == {}
    assert "Access ended" in client.get("/settings/team").get_data(as_text=True)


@pytest.mark.parametrize("editor, target", [("admin", "owner"), ("owner", "owner"), ("admin", "admin"),
                                            ("admin", "admin2")])
def test_no_end_date_for_the_owner_yourself_or_another_admin_as_admin(client, auth, agency, editor, target):
    before = snapshot()
    auth.login(agency[editor])
    response = client.post(member_url(agency[target]), data=edit("expiry", {"expires_on": "2030-01-01"}), headers=HTMX)
    assert response.status_code == 422
    assert snapshot() == before


def test_a_bad_date_is_refused_with_a_message(client, auth, agency):
    before = snapshot()
    auth.login(agency["owner"])
    response = client.post(member_url(agency["sister"]), data=edit("expiry", {"expires_on": "next tuesday"}),
                           headers=HTMX)
    assert response.status_code == 422
    assert "Enter the last day as a date" in response.get_data(as_text=True)
    assert snapshot() == before


# --- htmx and query budget -----------------------------------------------------------------------


def test_an_htmx_change_answers_with_the_member_fragment(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(member_url(agency["sister"]), data=edit("role", {"role": "manager"}), headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert Html(body).one("#member") and "<html" not in body and "Mia Lopez is now manager." in body
    assert "HX-Request" in response.headers["Vary"]


def test_member_page_queries_do_not_grow_with_profiles_and_groups(client, auth, agency, count_queries):
    """Same number of queries for a client who sees 2 profiles and one who sees 40 in many groups."""
    account, owner = agency["account"], agency["owner"]
    wide = factories.make_member(account, Role.CLIENT, groups=[agency["maya"]], name="Wide Client")
    networks = list(Network)
    for number in range(9):
        group = factories.make_group(account, f"Extra {number}")
        factories.add_to_group(wide, group)
        social_set = factories.make_social_set(group)
        for network in networks[:4 if number < 8 else 6]:
            profile = factories.make_profile(social_set, network)
            db.session.add(ProfileApprover(social_profile_id=profile.id, user_id=wide.id))
    db.session.commit()
    auth.login(owner)

    def measure(user: User) -> int:
        client.get(member_url(user))
        with count_queries() as counter:
            response = client.get(member_url(user))
        assert response.status_code == 200
        return counter.count

    small = measure(agency["creator"])
    large = measure(wide)
    assert "Approver for" in client.get(member_url(wide)).get_data(as_text=True)
    assert small == large <= 16, (small, large)


# --- the member's user groups --------------------------------------------------------------------


def test_the_member_page_lists_their_user_groups_with_what_each_gives(client, auth, agency):
    account = agency["account"]
    editors = UserGroup(account_id=account.id, name="Editors")
    interns = UserGroup(account_id=account.id, name="interns")
    db.session.add_all([editors, interns])
    db.session.flush()
    soon = utcnow() + timedelta(days=3)
    db.session.add_all([
        UserGroupRight(user_group_id=editors.id, name="media.upload"),
        UserGroupRight(user_group_id=editors.id, name="media.view"),
        UserGroupGrant(user_group_id=editors.id, access_group_id=agency["maya"].id),
        UserGroupMember(user_group_id=editors.id, user_id=agency["creator"].id),
        UserGroupMember(user_group_id=interns.id, user_id=agency["creator"].id, expires_at=soon),
    ])
    db.session.commit()
    auth.login(agency["owner"])

    text = Html(client.get(member_url(agency["creator"]))).text
    assert ("Editors · no end date Gives: View the media library, Upload media. Enters: "
            f"{agency['maya'].name}.") in text
    assert (f"interns · until {local_day(account, soon).strftime('%-d %b %Y')} Gives: no rights. "
            "Enters: no access group.") in text
    # An admin who cannot enter Leo's group reads of it as a count, not by name.
    db.session.add(UserGroupGrant(user_group_id=editors.id, access_group_id=agency["leo"].id))
    db.session.commit()
    auth.login(agency["admin"])
    text = Html(client.get(member_url(agency["creator"]))).text
    assert f"Enters: {agency['maya'].name} and 1 group you cannot enter." in text
    assert "Leo Park" not in text
    auth.login(agency["owner"])
    # Someone in no user group says so.
    text = client.get(member_url(agency["manager"])).get_data(as_text=True)
    assert "is in no user group." in text


def test_an_admin_changes_nothing_of_a_member_who_enters_groups_beyond_them(client, auth, agency):
    """DESIGN.md: an admin gives nobody rights in a group the admin cannot enter. A manager who also
    enters Leo's group (which Alex cannot) keeps their role, rights and end date as they are."""
    manager = agency["manager"]
    factories.add_to_group(manager, agency["leo"])
    db.session.commit()
    before = snapshot()
    auth.login(agency["admin"])
    page = client.get(member_url(manager)).get_data(as_text=True)
    assert "can enter access groups you cannot enter, so only the owner can change" in page
    for action, data in (("role", {"role": "client"}), ("rights", {"rights": ["inbox.manage"]}),
                         ("expiry", {"expires_on": "2031-01-01"})):
        response = client.post(member_url(manager), data=edit(action, data))
        assert response.status_code == 403, action
        assert "only the owner can change" in response.get_data(as_text=True), action
    assert snapshot() == before
    auth.login(agency["owner"])
    assert client.post(member_url(manager), data=edit("rights", {"rights": ["inbox.manage"]})).status_code == 303
