"""Settings › Team: who reaches it, the members and seats it shows, and sending, resending, revoking invitations."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import invitations as rules
from webapp.crypto import token_hash
from webapp.extensions import db
from webapp.models import AuditEvent, Invitation, Mail, Membership, Role, utcnow

from . import factories
from .html import HTMX, Html


@pytest.fixture
def agency():
    agency = factories.three_group_agency()
    account, maya = agency["account"], agency["maya"]
    people = {
        "manager": factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager"),
        "recruiter": factories.make_member(account, Role.MANAGER, groups=[maya], rights=["team.invite"],
                                           name="Rita Recruiter"),
        "creator": factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez",
                                         email="maya@example.test"),
        "scout": factories.make_member(account, Role.CLIENT, groups=[maya], rights=["team.invite"],
                                       name="Sid Scout"),
    }
    db.session.commit()
    return {**agency, **people}


def invite(agency, email: str, role: str = "client", groups=None, by: str = "owner") -> rules.SentInvitation:
    """Invite through the rule, as the team page does, and commit."""
    groups = [agency["hq"]] if groups is None else groups
    sent = rules.invite(agency["account"], agency[by], email, role, [group.id for group in groups])
    db.session.commit()
    return sent


def invitations() -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).order_by(Invitation.id).execution_options(populate_existing=True)
    ))


def counts() -> tuple[int, int, int, int]:
    """Invitations, mail, audit events and memberships: what a refused request must leave alone."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Invitation, Mail, AuditEvent, Membership))


def audit_verbs() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.verb).order_by(AuditEvent.id)))


# --- reaching the page ---------------------------------------------------------------------------


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("admin", 200), ("recruiter", 200), ("scout", 200), ("manager", 403), ("creator", 403),
])
def test_owner_admins_and_those_granted_team_invite_reach_the_team_page(client, auth, agency, who, status):
    """team.invite decides: managers and clients without it get 403 and no Team tab."""
    auth.login(agency[who])
    assert client.get("/settings/team").status_code == status
    settings = Html(client.get("/settings/account"))
    assert ("/settings/team" in [link.attributes["href"] for link in settings.all_by_role("link")]) is (status == 200)


def test_another_agency_sees_only_its_own_team(client, auth, agency):
    """The rival owner's Team page is their own; this agency's invitations are not found from there."""
    sent = invite(agency, "guest@example.test")
    rival = factories.make_account("Rival")
    db.session.commit()
    auth.login(factories.owner_of(rival))
    page = client.get("/settings/team").get_data(as_text=True)
    assert "Rival Owner" in page and "Maya Lopez" not in page and "guest@example.test" not in page
    invitation_id = sent.invitation.id
    assert client.post(f"/settings/team/invitations/{invitation_id}/resend").status_code == 404
    assert client.post(f"/settings/team/invitations/{invitation_id}/revoke").status_code == 404
    assert invitations()[0].revoked_at is None


def test_page_lists_members_seats_and_pending_invitations(client, auth, agency):
    """Members with roles, the seats they take, and each pending invitation with its actions."""
    invite(agency, "ben@example.test", role="manager", groups=[agency["hq"], agency["maya"]])
    auth.login(agency["owner"])
    page = Html(client.get("/settings/team"))
    assert page.has_text("Alex Admin") and page.has_text("Sam Manager") and page.has_text("maya@example.test")
    # Owner, admin and two managers take seats; the two clients do not. The plan has no limit.
    assert page.has_text("4 team seats used; the Self-hosted plan has no seat limit.")
    assert page.has_text("ben@example.test") and page.has_text("Manager") and page.has_text("Maya Lopez, Northstar HQ")
    assert page.has_text("Northstar Owner")  # invited by
    assert page.by_role("button", "Resend the invitation to ben@example.test")
    revoke = page.opened_by(page.by_role("button", "Revoke the invitation to ben@example.test"))
    assert page.name_of(revoke) == "Revoke the invitation to ben@example.test?"


def test_seats_count_members_and_pending_invitations_against_the_plan(client, auth, app):
    """On a plan with a seat limit the page says how many seats are used, held and left."""
    account = factories.make_account("Tiny", plan="growth")
    factories.make_member(account, Role.MANAGER)
    factories.make_member(account, Role.CLIENT)
    db.session.commit()
    owner = factories.owner_of(account)
    rules.invite(account, owner, "new-manager@example.test", "manager", [])
    db.session.commit()
    auth.login(owner)
    page = client.get("/settings/team").get_data(as_text=True)
    assert "2 of 10 team seats used, 1 held by pending invitations;" in page
    assert "7 available on the Growth plan." in page


# --- the invite form -----------------------------------------------------------------------------


def radio_labels(page: str, name: str) -> list[str]:
    """The labels of the radio buttons or checkboxes called `name`, in page order."""
    form = Html(page)
    return [form.name_of(choice) for choice in form.css("input[type=radio], input[type=checkbox]")
            if choice.attributes.get("name") == name]


@pytest.mark.parametrize("who, roles", [
    ("owner", ["Admin", "Manager", "Client"]),
    ("admin", ["Manager", "Client"]),
    ("recruiter", ["Manager", "Client"]),
    ("scout", ["Client"]),
])
def test_invite_form_offers_roles_at_or_below_ones_own(client, auth, agency, who, roles):
    """Nobody but the owner makes admins, and nobody grants a role above their own."""
    auth.login(agency[who])
    page = client.get("/settings/team").get_data(as_text=True)
    assert radio_labels(page, "role") == roles


def test_invite_form_offers_the_groups_one_may_enter_with_none_ticked_for_a_client(client, auth, agency):
    """The owner sees every group; an admin only those they enter. The form starts on Client, so no group
    is ticked: the inviter chooses the creator's own group (the page ticks the default one for staff)."""
    auth.login(agency["owner"])
    page = client.get("/settings/team").get_data(as_text=True)
    assert radio_labels(page, "access_groups") == ["Northstar HQ", "Leo Park", "Maya Lopez"]
    assert Html(page).checked("role") == ["client"]
    assert Html(page).checked("access_groups") == []
    assert Html(page).by_label("Northstar HQ").attributes["type"] == "checkbox"
    assert Html(page).by_label("Northstar HQ").attributes["data-default-group"] == "true"
    auth.logout()
    auth.login(agency["admin"])
    page = client.get("/settings/team").get_data(as_text=True)
    assert radio_labels(page, "access_groups") == ["Northstar HQ", "Maya Lopez"]


def test_owner_invites_someone_and_the_email_is_queued_with_the_change(client, auth, agency):
    """One request: the invitation (lowercased email, role, groups), its email and an audit event."""
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations", headers=HTMX, data={
        "email": "  Ben.Okafor@Example.TEST ", "role": "manager",
        "access_groups": [agency["hq"].id, agency["maya"].id],
    })
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and Html(body).one("#team")
    assert "Invitation sent to ben.okafor@example.test." in body
    [invitation] = invitations()
    assert (invitation.email, invitation.role, invitation.invited_by_id) == (
        "ben.okafor@example.test", "manager", agency["owner"].id)
    assert sorted(group.name for group in invitation.access_groups) == ["Maya Lopez", "Northstar HQ"]
    assert invitation.add_to_default_group
    ttl = invitation.expires_at - utcnow()
    assert timedelta(days=6, hours=23) < ttl <= timedelta(days=7)
    [mail] = db.session.scalars(select(Mail)).all()
    assert mail.to_address == "ben.okafor@example.test"
    assert mail.subject == "Northstar Owner invited you to Northstar on Roster"
    [token] = re.findall(r"http://roster\.test/invitations/(\S+)", mail.text_body)
    assert token_hash(token) == invitation.token_hash
    links = [link.attributes["href"] for link in Html(mail.html_body).all_by_role("link")]
    assert f"http://roster.test/invitations/{token}" in links
    assert "as Manager" in mail.text_body and "Northstar HQ, Maya Lopez" in mail.text_body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "invitation.created"))
    assert (event.actor_id, event.object_id) == (agency["owner"].id, invitation.id)
    assert event.after == {"email": "ben.okafor@example.test", "role": "manager",
                           "access_groups": ["Northstar HQ", "Maya Lopez"]}


def test_a_plain_form_post_redirects_back_to_the_team_page(client, auth, agency):
    """Without htmx, success is a 303 back to the page, which shows the new invitation."""
    auth.login(agency["admin"])
    response = client.post("/settings/team/invitations",
                           data={"email": "ana@example.test", "role": "client", "access_groups": [agency["maya"].id]})
    [invitation] = invitations()
    assert response.status_code == 303
    assert response.location.endswith(f"/settings/team?sent={invitation.id}#invite-result")
    page = Html(client.get(response.location))
    # The confirmation sits beside the form, not in the messages at the top of the page.
    invite_panel = page.within(page.by_role("region", "Invite someone"))
    assert invite_panel.by_role("status").attributes["id"] == "invite-result"
    assert invite_panel.has_text("Invitation sent to ana@example.test.")
    assert not page.within(page.one("#flashes")).text


def test_unticking_every_group_invites_staff_into_no_group(client, auth, agency):
    """The default group is only a default: the inviter may untick it for staff."""
    auth.login(agency["owner"])
    client.post("/settings/team/invitations", data={"email": "solo@example.test", "role": "manager"})
    [invitation] = invitations()
    assert invitation.access_groups == [] and not invitation.add_to_default_group


@pytest.mark.parametrize("who, data, message", [
    ("owner", {"email": "not-an-email", "role": "client"}, "Enter a valid email address."),
    ("owner", {"email": "", "role": "client"}, "Enter the email address of the person to invite."),
    ("owner", {"email": "MAYA@example.test", "role": "client"}, "maya@example.test is already a member of Northstar."),
    ("owner", {"email": "x@example.test", "role": "owner"}, "An account has exactly one owner"),
    ("owner", {"email": "x@example.test", "role": "boss"}, "Choose a role."),
    ("admin", {"email": "x@example.test", "role": "admin"}, "Only the owner can invite admins."),
    ("recruiter", {"email": "x@example.test", "role": "admin"}, "Only the owner can invite admins."),
    ("scout", {"email": "x@example.test", "role": "manager"},
     "You cannot invite someone as Manager: that is above your own role."),
    ("admin", {"email": "x@example.test", "role": "client", "access_groups": "leo"},
     "You can only invite people into access groups you can enter."),
    ("recruiter", {"email": "x@example.test", "role": "client", "access_groups": "hq"},
     "You can only invite people into access groups you can enter."),
    ("owner", {"email": "x@example.test", "role": "client", "access_groups": "rival"},
     "You can only invite people into access groups you can enter."),
    ("owner", {"email": "x@example.test", "role": "client", "access_groups": "garbage"},
     "could not be coerced"),
])
def test_refused_invitations_say_why_and_change_nothing(client, auth, agency, who, data, message):
    """Each refusal re-renders the form with 422 and a clear message; no invitation, mail or audit."""
    rival_group = factories.default_group(factories.make_account("Rival"))
    db.session.commit()
    group_ids = {"leo": agency["leo"].id, "hq": agency["hq"].id, "rival": rival_group.id, "garbage": "x"}
    if "access_groups" in data:
        data = {**data, "access_groups": [group_ids[data["access_groups"]]]}
    before = counts()
    auth.login(agency[who])
    response = client.post("/settings/team/invitations", data=data, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and Html(body).css("[role=alert]")
    assert counts() == before


def test_an_invitation_already_waiting_is_offered_for_resending(client, auth, agency):
    """Inviting the same email twice is refused, with a button to resend the first invitation."""
    sent = invite(agency, "ben@example.test")
    before = counts()
    auth.login(agency["admin"])
    response = client.post("/settings/team/invitations", headers=HTMX,
                           data={"email": "BEN@example.test", "role": "client"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "ben@example.test already has an invitation waiting. Resend it instead." in body
    page = Html(body)
    resend = page.form_of(page.by_role("button", "Resend invitation to ben@example.test"))
    assert resend.attributes["action"] == f"/settings/team/invitations/{sent.invitation.id}/resend"
    assert counts() == before


def test_an_expired_invitation_is_replaced_by_a_new_one(client, auth, agency):
    """Inviting an email whose invitation ran out sends a new one and retires the old."""
    old = invite(agency, "ben@example.test").invitation
    old.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    auth.login(agency["owner"])
    assert client.post("/settings/team/invitations",
                       data={"email": "ben@example.test", "role": "client",
                             "access_groups": [agency["maya"].id]}).status_code == 303
    first, second = invitations()
    assert first.revoked_at is not None and second.revoked_at is None and second.expires_at > utcnow()


def test_seat_limit_counts_members_and_pending_invitations_but_not_clients(client, auth, app):
    """Starter has 2 seats: the owner and one pending manager fill them; clients still get in."""
    account = factories.make_account("Tiny", plan="starter")
    db.session.commit()
    auth.login(factories.owner_of(account))
    assert client.post("/settings/team/invitations", data={"email": "m1@example.test", "role": "manager"},
                       headers=HTMX).status_code == 200
    before = counts()
    refused = client.post("/settings/team/invitations", data={"email": "m2@example.test", "role": "admin"},
                          headers=HTMX)
    assert refused.status_code == 422
    assert "Your Starter plan includes 2 team seats. Upgrade the plan to add more." in refused.get_data(as_text=True)
    assert counts() == before
    assert client.post("/settings/team/invitations", headers=HTMX, data={
        "email": "c1@example.test", "role": "client", "access_groups": [factories.default_group(account).id],
    }).status_code == 200


# --- the newcomer's name, the roles explained, a client's group ------------------------------------


def test_each_role_is_explained_in_one_line_beside_its_choice(client, auth, agency):
    """Every role radio is described by a one-line explanation of what the role may do."""
    auth.login(agency["owner"])
    page = Html(client.get("/settings/team"))
    hints = {page.name_of(radio): page.description_of(radio) for radio in page.all_by_role("radio")}
    assert set(hints) == {"Admin", "Manager", "Client"}
    assert hints["Client"].startswith("A creator or client: sees only their own group")
    assert "Takes a seat." in hints["Manager"] and "Takes a seat." in hints["Admin"]


def test_the_name_given_is_stored_shown_and_offered_when_they_accept(client, auth, agency):
    """The inviter's name for the person rides with the invitation to the acceptance form, pre-filled."""
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations", headers=HTMX, data={
        "name": "  Nia   Newcomer ", "email": "nia@example.test", "role": "client", "access_groups": [agency["maya"].id],
    })
    assert response.status_code == 200
    [invitation] = invitations()
    assert invitation.name == "Nia Newcomer"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "invitation.created"))
    assert event.after["name"] == "Nia Newcomer"
    # The answer is the team block, with the confirmation beside the form and the form emptied.
    page = Html(response)
    invite_panel = page.within(page.by_role("region", "Invite someone"))
    assert "data-reveal" in invite_panel.by_role("status").attributes
    assert invite_panel.has_text("Invitation sent to nia@example.test.")
    assert page.by_label("Name").attributes.get("value") in (None, "")
    pending = page.within(page.by_role("table", re.compile("^Invitations not accepted yet")))
    assert pending.has_text("Nia Newcomer nia@example.test")

    [mail] = db.session.scalars(select(Mail)).all()
    [token] = re.findall(r"http://roster\.test/invitations/(\S+)", mail.text_body)
    auth.logout()
    offer = Html(client.get(f"/invitations/{token}"))
    assert offer.by_label("Your name").attributes["value"] == "Nia Newcomer"


def test_leaving_the_name_empty_offers_an_empty_name_field(client, auth, agency):
    sent = invite(agency, "ben@example.test", groups=[agency["maya"]])
    assert sent.invitation.name is None
    offer = Html(client.get(f"/invitations/{sent.token}"))
    assert offer.by_label("Your name").attributes.get("value") in (None, "")


@pytest.mark.parametrize("data, field, message", [
    ({"email": "nia@example.test", "role": "client"}, "access_groups",
     "Choose the access group of the client or creator you invite: a client sees only the groups ticked here."),
    ({"email": "nia@example.test", "role": "client", "name": "N" * 121, "access_groups": "maya"}, "name",
     "Keep the name to 120 characters or fewer."),
])
def test_a_client_without_a_group_or_a_too_long_name_is_refused_with_nothing_changed(client, auth, agency, data,
                                                                                      field, message):
    """422, the message beside its field, and no invitation, mail, audit event or membership."""
    if data.get("access_groups") == "maya":
        data = {**data, "access_groups": [agency["maya"].id]}
    before = counts()
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations", data=data, headers=HTMX)
    assert response.status_code == 422
    page = Html(response)
    alert = page.one(f"#{field}-error")
    assert alert.attributes["role"] == "alert" and message in page.name_of(alert)
    assert counts() == before


def test_the_rule_refuses_a_client_invitation_into_no_group(app, agency):
    """However the invitation is made, a client without a group is refused; staff may have none."""
    before = counts()
    with pytest.raises(rules.InvitationError, match="Choose the access group") as refused:
        rules.invite(agency["account"], agency["owner"], "nia@example.test", "client", [])
    assert refused.value.field == "access_groups"
    db.session.rollback()
    assert counts() == before
    assert invite(agency, "sam@example.test", role="manager", groups=[]).invitation.access_groups == []


# --- resend and revoke ---------------------------------------------------------------------------


def test_resend_makes_a_new_link_and_expiry_and_kills_the_old_link(client, auth, agency):
    """The old token stops working, a new email with a new token is queued, and it is recorded."""
    sent = invite(agency, "ben@example.test")
    invitation = sent.invitation
    invitation.expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    auth.login(agency["admin"])
    response = client.post(f"/settings/team/invitations/{invitation.id}/resend", headers=HTMX)
    assert response.status_code == 200
    assert "A new invitation was sent to ben@example.test. The earlier link no longer works." in response.get_data(as_text=True)
    [invitation] = invitations()
    assert invitation.token_hash != token_hash(sent.token)
    assert invitation.expires_at > utcnow() + timedelta(days=6)
    first, second = db.session.scalars(select(Mail).order_by(Mail.id)).all()
    assert sent.token in first.text_body and sent.token not in second.text_body
    [new_token] = re.findall(r"http://roster\.test/invitations/(\S+)", second.text_body)
    assert token_hash(new_token) == invitation.token_hash
    assert client.get(f"/invitations/{sent.token}").status_code == 404
    assert audit_verbs()[-1] == "invitation.resent"


def test_an_expired_invitation_can_be_resent(client, auth, agency):
    """Resending is how an expired invitation comes back to life, with a fresh expiry."""
    invitation = invite(agency, "ben@example.test").invitation
    invitation.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    auth.login(agency["owner"])
    page = client.get("/settings/team").get_data(as_text=True)
    assert "Expired" in page
    assert client.post(f"/settings/team/invitations/{invitation.id}/resend").status_code == 303
    assert invitations()[0].expires_at > utcnow()


def test_resending_an_expired_seat_invitation_respects_the_seat_limit(client, auth, app):
    """An expired invitation held no seat: bringing it back needs a free one."""
    account = factories.make_account("Tiny", plan="starter")
    owner = factories.owner_of(account)
    db.session.commit()
    expired = rules.invite(account, owner, "m1@example.test", "manager", []).invitation
    expired.expires_at = utcnow() - timedelta(days=1)
    rules.invite(account, owner, "m2@example.test", "manager", [])
    db.session.commit()
    auth.login(owner)
    response = client.post(f"/settings/team/invitations/{expired.id}/resend", headers=HTMX)
    assert response.status_code == 422
    assert "Your Starter plan includes 2 team seats." in response.get_data(as_text=True)
    assert invitations()[0].expires_at < utcnow()


def test_revoke_kills_the_link_and_is_recorded(client, auth, agency):
    """Revoking (after the dialog) ends the link at once; revoking again says it already was."""
    sent = invite(agency, "ben@example.test")
    auth.login(agency["recruiter"])
    response = client.post(f"/settings/team/invitations/{sent.invitation.id}/revoke", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The invitation to ben@example.test was revoked." in body
    assert "No invitations are waiting." in body
    assert invitations()[0].revoked_at is not None
    assert audit_verbs()[-1] == "invitation.revoked"
    link = client.get(f"/invitations/{sent.token}")
    assert link.status_code == 410 and "This invitation was withdrawn" in link.get_data(as_text=True)
    again = client.post(f"/settings/team/invitations/{sent.invitation.id}/revoke", headers=HTMX)
    assert again.status_code == 422
    assert "The invitation to ben@example.test was revoked." in again.get_data(as_text=True)


def test_resend_and_revoke_refuse_an_accepted_invitation(client, auth, agency):
    """An accepted invitation is history: it cannot be resent or revoked."""
    invitation = invite(agency, "ben@example.test").invitation
    invitation.accepted_at = utcnow()
    db.session.commit()
    auth.login(agency["owner"])
    for action in ("resend", "revoke"):
        response = client.post(f"/settings/team/invitations/{invitation.id}/{action}", follow_redirects=True)
        assert "ben@example.test already accepted this invitation." in response.get_data(as_text=True)
    assert invitations()[0].revoked_at is None


def test_only_the_owner_resends_or_revokes_an_admin_invitation(client, auth, agency):
    """Acting on an invitation means granting its role: admins cannot touch an admin invitation."""
    invitation = invite(agency, "new-admin@example.test", role="admin").invitation
    before = counts()
    auth.login(agency["admin"])
    for action in ("resend", "revoke"):
        response = client.post(f"/settings/team/invitations/{invitation.id}/{action}", headers=HTMX)
        assert response.status_code == 422
        assert "Only the owner can invite admins." in response.get_data(as_text=True)
    assert counts() == before


# --- query budget --------------------------------------------------------------------------------


def test_team_page_queries_do_not_grow_with_the_team(client, auth, agency, count_queries):
    """The same number of queries with 2 or 30 more members and invitations."""
    auth.login(agency["owner"])

    def grow(n: int) -> int:
        for number in range(n):
            factories.make_member(agency["account"], Role.MANAGER, groups=[agency["maya"]])
            invite(agency, f"grow-{n}-{number}@example.test", groups=[agency["hq"], agency["maya"]])
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/settings/team").status_code == 200
        return counter.count

    small, large = grow(2), grow(30)
    assert small == large <= 12
