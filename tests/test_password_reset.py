"""Getting back in: "Forgot password?", the emailed single-use link, and an admin sending one."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from webapp import password_resets as rules
from webapp.crypto import token_hash
from webapp.extensions import db
from webapp.models import AuditEvent, Mail, PasswordReset, Role, User, utcnow
from webapp.worker import purge_expired
from webapp.zones import style_for

from . import factories
from .html import Html

SENT = "If an account uses that address, we have emailed a link to set a new password. It works for one hour."
CHANGED = "Your password was changed. You are signed in; your other sessions were signed out."
NEW_PASSWORD = "a fresh long password"


@pytest.fixture
def agency(app) -> dict:
    """Northstar: its owner, an admin, a manager, a client Maya, and a deactivated former member."""
    account = factories.make_account("Northstar")
    group = factories.default_group(account)
    people = {
        "account": account,
        "owner": factories.owner_of(account),
        "admin": factories.make_member(account, Role.ADMIN, groups=[group], name="Ada Admin"),
        "manager": factories.make_member(account, Role.MANAGER, groups=[group], name="Max Manager"),
        "maya": factories.make_member(account, Role.CLIENT, groups=[group], name="Maya Lopez",
                                      email="maya@client.example"),
        "gone": factories.make_member(account, Role.MANAGER, groups=[group], name="Gus Gone",
                                      email="gus@northstar.example"),
    }
    people["gone"].active = False
    db.session.commit()
    return people


def mails_to(address: str) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.to_address == address).order_by(Mail.id)))


def link_in(mail: Mail) -> str:
    """The path of the reset link in an email's plain text."""
    [path] = re.findall(r"https?://[^/\s]+(/password/reset/\S+)", mail.text_body)
    return path


def ask_for_link(client, email: str, **kwargs):
    return client.post("/password/forgot", data={"email": email}, **kwargs)


def set_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    """Open the emailed link, then post the new password on the page it leads to."""
    opened = client.get(link)
    assert opened.status_code == 303, opened.status_code
    return client.post(opened.location, data={"new_password": password, "confirm": confirm or password})


def signs_in(client, email: str, password: str) -> bool:
    return client.post("/login", data={"email": email, "password": password}).status_code == 303


# --- asking for a link ---------------------------------------------------------------------------


def test_sign_in_page_links_to_forgot_password(client, agency):
    page = Html(client.get("/login"))
    assert page.by_role("link", "Forgot password?").attributes["href"] == "/password/forgot"
    form = Html(client.get("/password/forgot"))
    assert form.by_label("Email") is not None
    assert form.by_role("button", "Email me a link") is not None


@pytest.mark.parametrize("email", ["maya@client.example", "nobody@nowhere.example", "gus@northstar.example"])
def test_the_answer_is_the_same_for_known_unknown_and_deactivated_addresses(client, agency, email):
    """Same status, same place, same words: the page never says whether the address is in use."""
    response = ask_for_link(client, email)
    assert response.status_code == 303
    assert response.location == "/login"
    assert Html(client.get("/login")).has_text(SENT)


def test_only_an_active_person_gets_mail(client, agency):
    for email in ("MAYA@client.example ", "nobody@nowhere.example", "gus@northstar.example"):
        ask_for_link(client, email)
    assert db.session.scalar(select(func.count()).select_from(Mail)) == 1
    [mail] = mails_to("maya@client.example")
    assert mail.subject == "Set a new password for Roster"
    assert mail.sender_name == "Northstar via Roster"  # her first live membership's agency
    assert "/password/reset/" in mail.html_body
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 1


def test_an_invalid_address_is_asked_again(client, agency):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 422
    assert Html(response).has_text("Enter a valid email address.")
    assert db.session.scalar(select(func.count()).select_from(Mail)) == 0


def test_the_token_is_stored_only_as_its_hash(client, agency):
    ask_for_link(client, "maya@client.example")
    token = link_in(mails_to("maya@client.example")[0]).rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, url-safe base64
    reset = db.session.scalar(select(PasswordReset))
    assert reset.token_hash == token_hash(token)
    stored = [str(value) for value in db.session.execute(select(PasswordReset.__table__)).one()]
    assert not any(token in value for value in stored)


def test_the_email_shows_the_expiry_in_the_recipients_zone(client, agency):
    maya = agency["maya"]
    maya.time_zone = "America/New_York"
    db.session.commit()
    ask_for_link(client, maya.email)
    reset = db.session.scalar(select(PasswordReset))
    assert reset.expires_at - reset.created_at == timedelta(hours=1)
    shown = style_for(maya, agency["account"]).format(reset.expires_at, "datetime")
    assert re.search(r"E[SD]T", shown)
    [mail] = mails_to(maya.email)
    assert f"until {shown}" in mail.text_body
    assert f"until {shown}" in mail.html_body


def test_a_new_link_ends_the_earlier_ones(client, agency):
    ask_for_link(client, "maya@client.example")
    ask_for_link(client, "maya@client.example")
    first, second = (link_in(mail) for mail in mails_to("maya@client.example"))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 303


# --- the link ------------------------------------------------------------------------------------


def test_opening_the_link_moves_the_token_out_of_the_url_and_uses_nothing(client, agency):
    ask_for_link(client, "maya@client.example")
    link = link_in(mails_to("maya@client.example")[0])
    for _ in range(2):  # a mail scanner's visit, then the person's
        opened = client.get(link)
        assert opened.status_code == 303
        assert opened.location == "/password/reset"
        assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/password/reset")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = Html(page)
    assert html.by_label("New password") is not None and html.by_label("Repeat new password") is not None
    assert html.has_text("maya@client.example")
    assert db.session.scalar(select(PasswordReset.used_at)) is None


def test_setting_a_password_ends_other_sessions_and_signs_in(app, client, auth, agency):
    maya = agency["maya"]
    elsewhere = app.test_client()
    assert signs_in(elsewhere, maya.email, factories.PASSWORD)
    assert elsewhere.get("/settings/account").status_code == 200
    ask_for_link(client, maya.email)

    response = set_password(client, link_in(mails_to(maya.email)[0]))
    assert response.status_code == 303 and response.location == "/"
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert Html(home).has_text(CHANGED)
    assert client.get("/settings/account").status_code == 200  # signed in here
    assert elsewhere.get("/settings/account").location.startswith("/login")  # and nowhere else
    assert not signs_in(app.test_client(), maya.email, factories.PASSWORD)
    assert signs_in(app.test_client(), maya.email, NEW_PASSWORD)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user.password_reset"))
    assert event.actor_id == maya.id and event.object_id == maya.id


def test_the_link_works_once(client, agency):
    ask_for_link(client, "maya@client.example")
    link = link_in(mails_to("maya@client.example")[0])
    assert set_password(client, link).status_code == 303
    client.post("/logout")
    again = client.get(link)
    assert again.status_code == 404
    assert Html(again).has_text("This link does not work")
    assert Html(again).by_role("link", "Ask for a new link").attributes["href"] == "/password/forgot"


def test_a_second_post_from_another_tab_is_refused(app, client, agency):
    """Two tabs opened the link; the first to post wins, the second is told the link no longer works."""
    ask_for_link(client, "maya@client.example")
    link = link_in(mails_to("maya@client.example")[0])
    other_tab = app.test_client()
    client.get(link)
    other_tab.get(link)
    form = {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post("/password/reset", data=form).status_code == 303
    refused = other_tab.post("/password/reset", data={"new_password": "another password!", "confirm": "another password!"})
    assert refused.status_code == 404
    assert signs_in(app.test_client(), "maya@client.example", NEW_PASSWORD)


def test_claiming_the_link_changes_one_row_once(agency):
    """The claim is an UPDATE that only an open link matches: the one that changes no row is refused."""
    reset = rules.issue(agency["maya"], None, agency["account"])
    db.session.commit()
    rules.use(reset, NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(rules.ResetClosed):
        rules.use(reset, "another password!")
    db.session.rollback()


def test_two_posts_at_the_same_moment_use_the_link_once(app, agency):
    """Both requests found the link open before either claimed it; the database lets one win."""
    reset_id = rules.issue(agency["maya"], None, agency["account"]).id
    db.session.commit()
    both_found = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def post(password: str) -> None:
        with app.app_context():
            try:
                reset = db.session.get(PasswordReset, reset_id)
                assert reset.used_at is None
                db.session.commit()  # holds nothing while waiting for the other request
                both_found.wait()
                rules.use(reset, password)
                db.session.commit()
                outcomes.append("used")
            except rules.ResetClosed:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post, args=(password,)) for password in ("first password!", "second password!")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "used"]


def test_the_link_expires_after_an_hour(client, agency):
    started = utcnow() - timedelta(minutes=59)
    rules.issue(agency["maya"], None, agency["account"], now=started)
    db.session.commit()
    link = link_in(mails_to("maya@client.example")[0])
    assert client.get(link).status_code == 303  # 59 minutes on: still open
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 404
    # The page already opened cannot use it either.
    refused = client.post("/password/reset", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 404
    assert signs_in(client, "maya@client.example", factories.PASSWORD)


def test_expired_used_and_unknown_links_look_the_same(client, agency):
    ask_for_link(client, "maya@client.example")
    used = link_in(mails_to("maya@client.example")[0])
    set_password(client, used)
    client.post("/logout")
    rules.issue(agency["manager"], None, agency["account"], now=utcnow() - timedelta(hours=2))
    db.session.commit()
    expired = link_in(mails_to(agency["manager"].email)[0])
    pages = [client.get(link) for link in (used, expired, "/password/reset/not-a-real-token", "/password/reset/" + "x" * 500)]
    assert {page.status_code for page in pages} == {404}
    # Alike but for the page's CSRF token, which carries the second it was signed in.
    assert len({re.sub(rb'"X-CSRFToken": "[^"]*"', b"", page.get_data()) for page in pages}) == 1
    assert client.get("/password/reset").status_code == 404  # no link in the session


def test_the_new_password_follows_the_settings_rules(client, agency):
    ask_for_link(client, "maya@client.example")
    client.get(link_in(mails_to("maya@client.example")[0]))
    short = client.post("/password/reset", data={"new_password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert Html(short).has_text("Use at least 10 characters.")
    differ = client.post("/password/reset", data={"new_password": NEW_PASSWORD, "confirm": "something else!"})
    assert differ.status_code == 422
    assert Html(differ).has_text("The two passwords differ.")
    assert db.session.scalar(select(PasswordReset.used_at)) is None  # still open after refusals


def test_a_deactivated_persons_link_opens_nothing(client, agency):
    rules.issue(agency["maya"], None, agency["account"])
    agency["maya"].active = False
    db.session.commit()
    assert client.get(link_in(mails_to("maya@client.example")[0])).status_code == 404


def test_changing_the_password_in_settings_ends_open_links(client, auth, agency):
    ask_for_link(client, "maya@client.example")
    auth.login(agency["maya"])
    client.post("/settings/account", data={"current_password": factories.PASSWORD,
                                           "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    auth.logout()
    assert client.get(link_in(mails_to("maya@client.example")[0])).status_code == 404


# --- rate limits ---------------------------------------------------------------------------------


@pytest.mark.app_config(RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="5 per hour",
                        PASSWORD_RESET_ADDRESS_RATE_LIMIT="100 per hour")
@pytest.mark.parametrize("email", ["maya@client.example", "nobody@nowhere.example"])
def test_requests_per_email_are_limited(client, agency, email):
    """Five an hour for one address, from wherever they come; the refusal says nothing about it."""
    for number in range(5):
        assert ask_for_link(client, email, environ_base={"REMOTE_ADDR": f"10.0.0.{number}"}).status_code == 303
        client.get("/login")  # where the browser goes, showing the message
    refused = ask_for_link(client, email.upper(), environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert refused.status_code == 429
    page = Html(refused)
    assert page.has_text("Too many reset links were asked for")
    assert page.by_label("Email") is not None
    assert not page.has_text(SENT)
    assert ask_for_link(client, "someone.else@client.example").status_code == 303
    assert len(mails_to("maya@client.example")) == (5 if email.startswith("maya") else 0)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="100 per hour",
                        PASSWORD_RESET_ADDRESS_RATE_LIMIT="3 per hour")
def test_requests_per_client_address_are_limited(client, agency):
    for number in range(3):
        assert ask_for_link(client, f"person{number}@example.test").status_code == 303
    refused = ask_for_link(client, "maya@client.example")
    assert refused.status_code == 429
    assert Html(refused).has_text("Too many reset links were asked for")
    assert mails_to("maya@client.example") == []
    other_client = ask_for_link(client, "maya@client.example", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_client.status_code == 303
    assert client.get("/password/forgot").status_code == 200  # only asking is limited


# --- an owner or admin sends a link ----------------------------------------------------------------


def reset_url(user: User) -> str:
    return f"/settings/team/members/{user.id}/password-reset"


@pytest.mark.parametrize("sender, member", [("owner", "maya"), ("owner", "admin"), ("admin", "maya"),
                                            ("admin", "manager")])
def test_owner_and_admin_send_a_link(client, auth, agency, sender, member):
    person = agency[member]
    auth.login(agency[sender])
    page = Html(client.get(f"/settings/team/members/{person.id}"))
    button = page.by_role("button", "Send password reset link…")
    dialog = page.opened_by(button)
    assert reset_url(person) in dialog.html

    response = client.post(reset_url(person))
    assert response.status_code == 303
    assert response.location == f"/settings/team/members/{person.id}"
    assert Html(client.get(response.location)).has_text(f"A password reset link was sent to {person.email}.")
    [mail] = mails_to(person.email)
    assert mail.sender_name == "Northstar via Roster"
    assert agency[sender].name in mail.text_body
    reset = db.session.scalar(select(PasswordReset))
    assert reset.requested_by_id == agency[sender].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "user.password_reset_sent"))
    assert (event.actor_id, event.object_id, event.account_id) == (agency[sender].id, person.id, agency["account"].id)
    # The password stays as it was until the link is used.
    assert signs_in(client.application.test_client(), person.email, factories.PASSWORD)


@pytest.mark.parametrize("sender, member, status", [
    ("manager", "maya", 403), ("maya", "manager", 403),  # not theirs to manage
    ("admin", "owner", 422), ("admin", "admin", 422),  # the owner's own; an admin managing themselves
    ("owner", "gone", 422),  # deactivated: a password would not let them in
])
def test_who_may_not_send_a_link(client, auth, agency, sender, member, status):
    auth.login(agency[sender])
    response = client.post(reset_url(agency[member]))
    assert response.status_code == status
    assert db.session.scalar(select(func.count()).select_from(Mail)) == 0


def test_an_admin_cannot_send_another_admin_a_link(client, auth, agency):
    other_admin = factories.make_member(agency["account"], Role.ADMIN, groups=[factories.default_group(agency["account"])])
    db.session.commit()
    auth.login(agency["admin"])
    assert client.post(reset_url(other_admin)).status_code == 422
    assert Html(client.get(f"/settings/team/members/{other_admin.id}")).all_by_role(
        "button", "Send password reset link…") == []


def test_another_agencys_member_is_not_found(client, auth, agency):
    rival = factories.make_account("Rival")
    stranger = factories.make_member(rival, Role.CLIENT, groups=[factories.default_group(rival)])
    db.session.commit()
    auth.login(agency["owner"])
    assert client.post(reset_url(stranger)).status_code == 404
    assert mails_to(stranger.email) == []


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_sending_a_link_needs_the_csrf_token(client, agency):
    owner, maya = agency["owner"], agency["maya"]
    login_page = Html(client.get("/login"))
    client.post("/login", data={"email": owner.email, "password": factories.PASSWORD,
                                "csrf_token": login_page.hidden_value("csrf_token")})
    assert client.post(reset_url(maya)).status_code == 400
    assert mails_to(maya.email) == []
    page = Html(client.get(f"/settings/team/members/{maya.id}"))
    token = page.hidden_value("csrf_token")
    assert client.post(reset_url(maya), data={"csrf_token": token}).status_code == 303
    assert len(mails_to(maya.email)) == 1


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_asking_for_and_using_a_link_need_the_csrf_token(client, agency):
    assert ask_for_link(client, "maya@client.example").status_code == 400
    token = Html(client.get("/password/forgot")).hidden_value("csrf_token")
    assert client.post("/password/forgot", data={"email": "maya@client.example", "csrf_token": token}).status_code == 303
    client.get(link_in(mails_to("maya@client.example")[0]))
    assert client.post("/password/reset", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400


# --- clearing away -------------------------------------------------------------------------------


def test_used_and_expired_links_are_purged_a_day_later(agency):
    now = utcnow()
    maya, manager = agency["maya"], agency["manager"]
    used_long_ago = rules.issue(maya, None, agency["account"], now=now - timedelta(days=2))
    used_long_ago.used_at = now - timedelta(days=2)
    rules.issue(manager, None, agency["account"], now=now - timedelta(days=2))
    expired_recently = rules.issue(agency["admin"], None, agency["account"], now=now - timedelta(hours=3))
    open_link = rules.issue(agency["owner"], None, agency["account"], now=now)
    db.session.commit()
    kept_ids = {expired_recently.id, open_link.id}
    assert purge_expired(now)["password resets"] == 2
    assert set(db.session.scalars(select(PasswordReset.id))) == kept_ids


def test_the_reset_page_runs_a_fixed_few_queries(client, agency, count_queries):
    ask_for_link(client, "maya@client.example")
    client.get(link_in(mails_to("maya@client.example")[0]))
    with count_queries() as counter:
        assert client.get("/password/reset").status_code == 200
    assert counter.count <= 2, counter.statements
