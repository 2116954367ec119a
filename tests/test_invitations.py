"""The emailed invitation link: from the email to a member in the chosen groups, once, and nothing else."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import invitations as rules
from webapp.extensions import db
from webapp.links import LinkState
from webapp.models import (
    AccessGroup, Account, AuditEvent, GroupUser, Invitation, Mail, Membership, Role, User, UserSession, utcnow,
)

from . import factories
from .scenarios import tables_holding

NEW_MEMBER = {"name": "Ben Okafor", "password": "a long new password", "confirm": "a long new password"}


@pytest.fixture
def agency():
    account = factories.make_account("Northstar")
    hq = factories.default_group(account)
    maya = factories.make_group(account, "Maya Lopez")
    owner = factories.owner_of(account)
    factories.add_to_group(owner, hq)
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez",
                                    email="maya@example.test")
    db.session.commit()
    return {"account": account, "owner": owner, "hq": hq, "maya": maya, "creator": creator}


def invite(agency, email: str = "ben@example.test", role: str = "client", groups=None) -> rules.SentInvitation:
    """An invitation from the owner, made by the rule the Team page uses, committed."""
    groups = [agency["hq"], agency["maya"]] if groups is None else groups
    sent = rules.invite(agency["account"], agency["owner"], email, role, [group.id for group in groups])
    db.session.commit()
    return sent


def link(sent: rules.SentInvitation) -> str:
    return f"/invitations/{sent.token}"


def fresh(invitation: Invitation) -> Invitation:
    """The invitation as the database has it now."""
    return db.session.scalars(
        select(Invitation).where(Invitation.id == invitation.id).execution_options(populate_existing=True)
    ).one()


def snapshot() -> tuple:
    """Everything opening or accepting a link could change."""
    counted = tuple(db.session.scalar(select(func.count()).select_from(model))
                    for model in (User, Membership, GroupUser, AuditEvent, Mail))
    states = tuple(db.session.execute(
        select(Invitation.id, Invitation.accepted_at, Invitation.revoked_at, Invitation.token_hash)
        .order_by(Invitation.id).execution_options(populate_existing=True)
    ).all())
    return counted + states


def groups_of(user: User) -> set[str]:
    return set(db.session.scalars(
        select(AccessGroup.name).join(GroupUser, GroupUser.access_group_id == AccessGroup.id)
        .where(GroupUser.user_id == user.id)
    ))


def user_with(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email).execution_options(populate_existing=True))


def memberships_of(user: User) -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Account.name, Membership.role).join(Account)
        .where(Membership.user_id == user.id).order_by(Account.name)
    )]


# --- from the email to a member ------------------------------------------------------------------


def test_invitation_email_over_smtp_leads_to_a_member_in_the_chosen_groups(app, client, auth, agency, smtp_server):
    """Invite on the Team page → the mail arrives → its link → set a password → in the chosen groups."""
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations", data={
        "email": "Ben@Example.test", "role": "manager", "access_groups": [agency["hq"].id, agency["maya"].id],
    })
    assert response.status_code == 303
    response.close()  # the mail goes out once the response is done

    [message] = smtp_server.messages
    assert message["To"] == "ben@example.test"
    assert message["Subject"] == "Northstar Owner invited you to Northstar on Roster"
    text = message.get_body(("plain",)).get_content()
    [path] = re.findall(r"http://roster\.test(/invitations/\S+)", text)
    assert f'href="http://roster.test{path}"' in message.get_body(("html",)).get_content()
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    # The invitation keeps only the token's hash, and the sent email keeps no body.
    assert tables_holding(token) == set()

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Join Northstar" in body and "Create your login" in body and "ben@example.test" in body
    assert "Maya Lopez, Northstar HQ" in body or "Northstar HQ, Maya Lopez" in body

    joined = newcomer.post(path, data=NEW_MEMBER)
    assert joined.status_code == 303
    assert joined.location.endswith(f"/g/{agency['hq'].id}/")  # the default group first
    home = newcomer.get(joined.location)
    assert home.status_code == 200 and "Welcome to Northstar, Ben Okafor." in home.get_data(as_text=True)
    assert newcomer.get(f"/g/{agency['maya'].id}/").status_code == 200

    ben = user_with("ben@example.test")
    assert ben.name == "Ben Okafor"
    assert memberships_of(ben) == [("Northstar", "manager")]
    assert groups_of(ben) == {"Northstar HQ", "Maya Lopez"}
    [invitation] = db.session.scalars(select(Invitation)).all()
    assert fresh(invitation).accepted_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "invitation.accepted"))
    assert event.actor_id == ben.id and event.after["access_groups"] == ["Northstar HQ", "Maya Lopez"]
    assert tables_holding(token) == set()


def test_the_link_is_bound_to_the_invited_email(app, agency):
    """Whatever else is posted, the new user signs in with the email the invitation was sent to."""
    sent = invite(agency)
    app.test_client().post(link(sent), data={**NEW_MEMBER, "email": "someone.else@example.test"})
    assert user_with("ben@example.test") is not None and user_with("someone.else@example.test") is None


def test_accepting_starts_a_fresh_session(app, agency):
    """Nothing from the browser's earlier session survives, even another user's sign-in."""
    sent = invite(agency)
    browser = app.test_client()
    browser.post("/login", data={"email": "maya@example.test", "password": factories.PASSWORD})
    with browser.session_transaction() as session:
        session["left_over"] = "from before"
    page = browser.get(link(sent)).get_data(as_text=True)
    assert "You are signed in as maya@example.test" in page
    assert browser.post(link(sent), data=NEW_MEMBER).status_code == 303
    with browser.session_transaction() as session:
        assert "left_over" not in session
        session_id = int(session["_user_id"].split(":")[0])
    assert db.session.get(UserSession, session_id).user_id == user_with("ben@example.test").id


def test_no_groups_ticked_means_the_new_member_waits_for_one(app, agency):
    """With every group unticked (staff only: a client needs one) the member exists but lands on the page
    saying no group is open yet."""
    sent = invite(agency, role="manager", groups=[])
    browser = app.test_client()
    joined = browser.post(link(sent), data=NEW_MEMBER)
    assert joined.status_code == 303
    landing = browser.get(joined.location, follow_redirects=True)
    assert "No access group yet" in landing.get_data(as_text=True)
    assert groups_of(user_with("ben@example.test")) == set()


@pytest.mark.parametrize("data, message", [
    ({**NEW_MEMBER, "name": "  "}, "Enter your name."),
    ({**NEW_MEMBER, "password": "short", "confirm": "short"}, "Use at least 10 characters."),
    ({**NEW_MEMBER, "confirm": "something else entirely"}, "The two passwords differ."),
])
def test_a_bad_new_member_form_says_why_and_changes_nothing(app, agency, data, message):
    """422 with the message; no user, no membership, the link still works."""
    sent = invite(agency)
    before = snapshot()
    response = app.test_client().post(link(sent), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before
    assert rules.link_state(fresh(sent.invitation)) is LinkState.OPEN


# --- opening the link changes nothing ------------------------------------------------------------


def test_opening_the_link_never_changes_anything(app, agency):
    """Mail scanners open links: any number of GETs, signed in or not, leave everything as it was."""
    sent = invite(agency)
    existing = invite(agency, email="maya@elsewhere.test")
    factories.make_user(email="maya@elsewhere.test")
    db.session.commit()
    before = snapshot()
    anonymous, invitee = app.test_client(), app.test_client()
    invitee.post("/login", data={"email": "maya@elsewhere.test", "password": factories.PASSWORD})
    for _ in range(3):
        assert anonymous.get(link(sent)).status_code == 200
        assert invitee.get(link(existing)).status_code == 200
        assert anonymous.get(link(existing)).status_code == 200
    assert snapshot() == before


def test_link_pages_never_leak_the_token_in_a_referer(app, agency):
    """The token is in the URL, so these pages send no Referer at all."""
    sent = invite(agency)
    browser = app.test_client()
    for response in (browser.get(link(sent)), browser.get("/invitations/not-a-token")):
        assert response.headers["Referrer-Policy"] == "no-referrer"


def make_dead(sent: rules.SentInvitation, state: str) -> str:
    """Put the invitation in `state` and return the path that will be opened."""
    invitation = sent.invitation
    if state == "expired":
        invitation.expires_at = utcnow() - timedelta(seconds=1)
    elif state == "revoked":
        invitation.revoked_at = utcnow()
    elif state == "accepted":
        invitation.accepted_at = utcnow()
    db.session.commit()
    return "/invitations/" + ("x" * 43 if state == "unknown" else sent.token)


@pytest.mark.parametrize("state, status, heading", [
    ("expired", 410, "This invitation has expired"),
    ("revoked", 410, "This invitation was withdrawn"),
    ("accepted", 410, "This invitation was already accepted"),
    ("unknown", 404, "This invitation link does not work"),
])
def test_a_dead_link_says_why_and_changes_nothing(app, agency, state, status, heading):
    """Expired, revoked, used or unknown: a clear page on GET and POST, and nothing created."""
    path = make_dead(invite(agency), state)
    before = snapshot()
    browser = app.test_client()
    for response in (browser.get(path), browser.post(path, data=NEW_MEMBER)):
        assert response.status_code == status
        assert heading in response.get_data(as_text=True)
    assert snapshot() == before
    assert user_with("ben@example.test") is None
    if state == "accepted":
        assert 'href="/login"' in browser.get(path).get_data(as_text=True)


def test_a_used_link_cannot_be_used_again(app, agency):
    """Accepting twice never makes a second user or membership; the second try says it was used."""
    sent = invite(agency)
    browser = app.test_client()
    assert browser.post(link(sent), data=NEW_MEMBER).status_code == 303
    before = snapshot()
    again = app.test_client().post(link(sent), data={**NEW_MEMBER, "name": "Second Ben"})
    assert again.status_code == 410
    assert "This invitation was already accepted" in again.get_data(as_text=True)
    assert snapshot() == before
    assert db.session.scalar(select(func.count(Membership.id)).where(
        Membership.user_id == user_with("ben@example.test").id)) == 1


def test_of_two_accepts_racing_only_one_wins(app, agency):
    """The claim is one conditional UPDATE: a second accept of the same invitation is refused."""
    ben = factories.make_user(email="ben@example.test")
    sent = invite(agency)
    rules.accept_as_member(sent.invitation, ben)
    with pytest.raises(rules.LinkNoLongerWorks) as refused:
        rules.accept_as_member(sent.invitation, ben)
    assert refused.value.state is LinkState.ACCEPTED
    db.session.commit()
    assert memberships_of(ben) == [("Northstar", "client")]


# --- someone who already has a login -------------------------------------------------------------


@pytest.fixture
def rival_owner():
    """Ben, who owns another agency and so already signs in to Roster."""
    ben = factories.make_user(email="ben@rival.test", name="Ben Rival")
    factories.make_account("Rival", owner=ben)
    db.session.commit()
    return ben


def test_an_existing_user_signs_in_as_the_invitee_then_accepts(app, agency, rival_owner):
    """Not signed in: the page offers sign-in for that email and comes back; then Accept joins."""
    sent = invite(agency, email="ben@rival.test")
    browser = app.test_client()
    page = browser.get(link(sent)).get_data(as_text=True)
    assert "Sign in to accept" in page and 'value="ben@rival.test" readonly' in page
    assert f'action="/login?next=/invitations/{sent.token}"' in page
    before = snapshot()
    assert browser.post(link(sent)).location.endswith(link(sent))  # not signed in: nothing happens
    assert snapshot() == before

    signed_in = browser.post(f"/login?next={link(sent)}",
                             data={"email": "ben@rival.test", "password": factories.PASSWORD})
    assert signed_in.location.endswith(link(sent))
    page = browser.get(link(sent)).get_data(as_text=True)
    assert "Accept invitation" in page
    assert snapshot() == before

    accepted = browser.post(link(sent))
    assert accepted.status_code == 303 and accepted.location.endswith(f"/g/{agency['hq'].id}/")
    assert memberships_of(rival_owner) == [("Northstar", "client"), ("Rival", "owner")]
    assert groups_of(rival_owner) >= {"Northstar HQ", "Maya Lopez"}
    assert browser.get(f"/g/{agency['maya'].id}/").status_code == 200


def test_signed_in_as_someone_else_the_page_says_so_and_offers_to_sign_out(app, agency, rival_owner):
    """The wrong user cannot accept; signing out from the page comes back to the link."""
    sent = invite(agency, email="ben@rival.test")
    browser = app.test_client()
    browser.post("/login", data={"email": "maya@example.test", "password": factories.PASSWORD})
    page = browser.get(link(sent)).get_data(as_text=True)
    assert "Signed in as someone else" in page and "maya@example.test" in page
    assert f'action="/invitations/{sent.token}/sign-out"' in page
    before = snapshot()
    assert browser.post(link(sent)).status_code == 303
    assert snapshot() == before
    assert memberships_of(rival_owner) == [("Rival", "owner")]

    signed_out = browser.post(f"{link(sent)}/sign-out")
    assert signed_out.location.endswith(link(sent))
    assert "Sign in to accept" in browser.get(link(sent)).get_data(as_text=True)
    assert browser.get("/settings/account").status_code == 303  # really signed out


def test_someone_who_became_a_member_meanwhile_keeps_one_membership_and_their_role(app, agency, rival_owner):
    """Accepting when already a member adds the groups, never a second membership or a new role."""
    sent = invite(agency, email="ben@rival.test", role="manager")
    factories.make_member(agency["account"], Role.CLIENT, user=rival_owner)
    db.session.commit()
    browser = app.test_client()
    browser.post("/login", data={"email": "ben@rival.test", "password": factories.PASSWORD})
    accepted = browser.post(link(sent), follow_redirects=True)
    assert "You are already a member of Northstar." in accepted.get_data(as_text=True)
    assert memberships_of(rival_owner) == [("Northstar", "client"), ("Rival", "owner")]
    assert groups_of(rival_owner) >= {"Northstar HQ", "Maya Lopez"}


def test_a_full_plan_refuses_the_acceptance_and_keeps_the_link(app, agency):
    """If the seats filled up meanwhile, accepting says so and changes nothing."""
    account = factories.make_account("Tiny", plan="starter")
    owner = factories.owner_of(account)
    db.session.commit()
    sent = rules.invite(account, owner, "ben@example.test", "manager", [])
    db.session.commit()
    factories.make_member(account, Role.ADMIN)  # takes the last seat directly
    db.session.commit()
    before = snapshot()
    response = app.test_client().post(link(sent), data=NEW_MEMBER)
    assert response.status_code == 422
    assert "Tiny has no free team seat for you right now." in response.get_data(as_text=True)
    assert snapshot() == before
    assert rules.link_state(fresh(sent.invitation)) is LinkState.OPEN


def test_invitation_mail_survives_an_smtp_outage_and_arrives_once(client, auth, agency, smtp_server):
    """SMTP down during the invite: the mail waits in the queue, then goes out exactly once."""
    from webapp.mail import send_pending
    from webapp.models import Mail, MailStatus, utcnow

    smtp_server.stop()
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations", data={
        "email": "outage@example.test", "role": "client", "access_groups": [agency["hq"].id],
    })
    assert response.status_code == 303  # the invite itself succeeds
    response.close()  # the attempt after the response fails quietly
    [queued] = db.session.scalars(select(Mail).execution_options(populate_existing=True)).all()
    assert queued.status == MailStatus.QUEUED.value and queued.attempts == 1 and queued.last_error
    assert smtp_server.messages == []

    smtp_server.start()
    later = utcnow() + timedelta(hours=1)
    assert send_pending(now=later).sent == 1
    assert send_pending(now=later + timedelta(hours=1)).sent == 0
    assert [message["To"] for message in smtp_server.messages] == ["outage@example.test"]
    assert "/invitations/" in smtp_server.messages[0].get_body(("plain",)).get_content()
