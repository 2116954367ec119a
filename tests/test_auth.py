"""First-run setup, signing in and out, sessions that end, and the sign-in rate limit."""
from __future__ import annotations

import logging
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from webapp.auth_session import SEEN_EVERY
from webapp.crypto import token_hash
from webapp.extensions import db
from webapp.models import AccessGroup, Account, AuditEvent, Membership, User, UserSession, utcnow

from . import factories

SETUP = {
    "agency_name": "  Brightside Agency ",
    "owner_name": "Dana Brooks",
    "email": "Dana@Brightside.test",
    "password": "a long enough password",
    "confirm": "a long enough password",
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_fresh_install_sends_visitors_to_setup(client):
    """With no account yet, the home page and the sign-in page lead to setup."""
    assert client.get("/").location.endswith("/setup")
    assert client.get("/login").location.endswith("/setup")
    assert b"Set up your agency" in client.get("/setup").data


def test_setup_creates_agency_owner_and_default_group(client):
    """Setup creates the account, its owner and default group, and signs the owner in."""
    response = client.post("/setup", data=SETUP)
    assert response.status_code == 303
    account = db.session.scalar(select(Account))
    assert account.name == "Brightside Agency"
    owner = db.session.scalar(select(User))
    assert owner.email == "dana@brightside.test"
    assert owner.password_hash != SETUP["password"] and owner.password_hash.startswith("pbkdf2")
    membership = db.session.scalar(select(Membership))
    assert (membership.role, membership.user_id, membership.account_id) == ("owner", owner.id, account.id)
    group = db.session.scalar(select(AccessGroup))
    assert group.is_default and group.name == "Brightside Agency"
    assert response.location.endswith(f"/g/{group.id}/")
    assert client.get(response.location).status_code == 200


@pytest.mark.parametrize("typed, saved", [("America/New_York", "America/New_York"), ("", "UTC")])
def test_setup_keeps_the_agencys_time_zone(client, typed, saved):
    """The zone the computer is on (filled in by the page) becomes the agency's; none given means UTC."""
    assert client.post("/setup", data={**SETUP, "time_zone": typed}).status_code == 303
    assert db.session.scalar(select(Account.time_zone)) == saved


def test_setup_is_gone_once_an_account_exists(client):
    """The setup page answers 404 after the first account exists, and creates nothing more."""
    client.post("/setup", data=SETUP)
    client.post("/logout")
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={**SETUP, "email": "intruder@example.test"}).status_code == 404
    assert count(Account) == 1 and count(User) == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("agency_name", "   ", b"Enter your agency&#39;s name."),
        ("email", "not-an-email", b"Enter a valid email address."),
        ("password", "short", b"Use at least 10 characters."),
        ("confirm", "something else", b"The two passwords differ."),
        ("time_zone", "Mars/Olympus", b"Choose a time zone from the list, such as Europe/London."),
    ],
)
def test_setup_refuses_bad_input_and_changes_nothing(client, field, value, message):
    """Bad setup input re-renders the form with 422 and a clear message; nothing is created."""
    response = client.post("/setup", data={**SETUP, field: value})
    assert response.status_code == 422
    assert message in response.data
    assert count(Account) == 0 and count(User) == 0


@pytest.fixture
def owner():
    account = factories.make_account("Acme")
    user = factories.owner_of(account)
    db.session.commit()
    return user


def test_sign_in_and_out(client, auth, owner):
    """Signing in opens the workspace; signing out closes it."""
    auth.login(owner)
    assert client.get("/").status_code == 303
    assert client.get("/settings/account").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303 and response.location.endswith("/login")
    assert client.get("/settings/account").location.startswith("/login")


def test_sign_out_needs_post(client, auth, owner):
    """A link or image cannot sign anybody out: GET is not allowed."""
    auth.login(owner)
    assert client.get("/logout").status_code == 405
    assert client.get("/settings/account").status_code == 200


def test_wrong_password_is_refused_and_logged(client, owner, caplog):
    """A wrong password gives one clear message, 422, and a log line."""
    with caplog.at_level(logging.WARNING):
        response = client.post("/login", data={"email": owner.email, "password": "wrong password!"})
    assert response.status_code == 422
    assert b"Email or password is incorrect." in response.data
    assert any("failed sign-in" in record.message for record in caplog.records)


def test_unknown_email_gets_the_same_message(client, owner):
    """An unknown email is not told apart from a wrong password."""
    response = client.post("/login", data={"email": "nobody@example.test", "password": "whatever pw"})
    assert response.status_code == 422
    assert b"Email or password is incorrect." in response.data


def test_sign_in_follows_only_local_next(client, owner):
    """After sign-in `next` is followed only when it is a path on this site."""
    data = {"email": owner.email, "password": factories.PASSWORD}
    response = client.post("/login?next=/settings/account", data=data)
    assert response.location.endswith("/settings/account")
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.location == "/"
    client.post("/logout")
    response = client.post("/login?next=//evil.example/", data=data)
    assert response.location == "/"


def test_sign_in_starts_a_fresh_session(client, owner):
    """Whatever the visitor's session held before signing in is gone afterwards."""
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"email": owner.email, "password": factories.PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        session_id, secret = session["_user_id"].split(":")
    record = db.session.get(UserSession, int(session_id))
    assert record.user_id == owner.id and record.ended_at is None
    assert record.secret_hash == token_hash(secret)  # the secret itself is kept only in the cookie


def sign_in(browser, user) -> None:
    response = browser.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 303


def copy_cookie(source, target) -> None:
    """Give `target` the session cookie `source` holds, as someone copying it out of a browser would."""
    domain = source.application.config["SERVER_NAME"]
    target.set_cookie("session", source.get_cookie("session", domain=domain).value, domain=domain)


def home_path(user) -> str:
    group_id = db.session.scalar(
        select(AccessGroup.id).join(Membership, Membership.account_id == AccessGroup.account_id)
        .where(Membership.user_id == user.id, AccessGroup.is_default)
    )
    return f"/g/{group_id}/"


def sessions_of(user) -> list[UserSession]:
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)).all()


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, owner):
    """Signing out ends the session on the server: a copy of its cookie no longer opens the group."""
    laptop, copy = app.test_client(), app.test_client()
    sign_in(laptop, owner)
    copy_cookie(laptop, copy)
    assert copy.get(home_path(owner)).status_code == 200

    assert laptop.post("/logout").status_code == 303
    response = copy.get(home_path(owner))
    assert response.status_code == 303 and response.location.startswith("/login")
    assert copy.get("/settings/account").location.startswith("/login")
    [record] = sessions_of(owner)
    assert record.ended_at is not None


def test_signing_out_leaves_other_devices_signed_in(app, owner):
    """Signing out on the laptop ends the laptop's session only; the phone carries on."""
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, owner)
    sign_in(phone, owner)
    laptop.post("/logout")
    assert phone.get(home_path(owner)).status_code == 200
    assert laptop.get(home_path(owner)).location.startswith("/login")
    assert [record.ended_at is None for record in sessions_of(owner)] == [False, True]


def test_signing_in_again_ends_the_browsers_earlier_session(app, owner):
    """A new sign-in on the same browser ends the session it replaces, even another user's."""
    other = factories.make_member(db.session.get(Account, owner.memberships[0].account_id), "manager")
    db.session.commit()
    browser, copy = app.test_client(), app.test_client()
    sign_in(browser, owner)
    copy_cookie(browser, copy)
    sign_in(browser, other)
    assert copy.get("/settings/account").location.startswith("/login")
    assert browser.get("/settings/account").status_code == 200


def test_sign_out_everywhere_else_ends_the_others_and_keeps_this_one(app, owner):
    """The button ends every other session of the user, says how many, and is audited in each account."""
    second_account = factories.make_account("Beta", owner=owner)
    db.session.commit()
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    for browser in (laptop, phone, tablet):
        sign_in(browser, owner)

    response = laptop.post("/settings/account/sign-out-elsewhere")
    assert response.status_code == 303 and response.location.endswith("/settings/account")
    page = laptop.get(response.location)
    assert page.status_code == 200
    assert "Signed out of 2 other sessions." in page.get_data(as_text=True)
    assert laptop.get(home_path(owner)).status_code == 200
    for browser in (phone, tablet):
        assert browser.get(home_path(owner)).location.startswith("/login")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "user.signed_out_elsewhere")).all()
    # One event in each of the owner's two accounts (memberships come back in no particular order).
    assert sorted(event.account_id for event in events) == sorted({m.account_id for m in owner.memberships})
    assert second_account.id in {event.account_id for event in events} and len(events) == 2
    assert all(event.actor_id == owner.id and event.after == {"sessions_ended": 2} for event in events)

    again = laptop.post("/settings/account/sign-out-elsewhere", follow_redirects=True)
    assert "You were not signed in anywhere else." in again.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, owner):
    """Changing the password keeps this session and signs out every other one."""
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        browser.post("/login", data={"email": owner.email, "password": factories.PASSWORD})
    response = laptop.post("/settings/account", data={
        "current_password": factories.PASSWORD, "new_password": "a brand new password",
        "confirm": "a brand new password",
    })
    assert response.status_code == 303
    assert laptop.get("/settings/account").status_code == 200
    assert phone.get("/settings/account").location.startswith("/login")
    assert phone.post("/login", data={"email": owner.email, "password": factories.PASSWORD}).status_code == 422
    assert phone.post("/login", data={"email": owner.email, "password": "a brand new password"}).status_code == 303


def test_a_session_unused_for_longer_than_its_cookie_lasts_has_lapsed(app, owner):
    """A forgotten session lapses on the server as its cookie would, and is cleared at the next sign-in."""
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, owner)
    [record] = sessions_of(owner)
    record.last_seen_at = utcnow() - app.permanent_session_lifetime - timedelta(minutes=1)
    db.session.commit()
    assert laptop.get("/settings/account").location.startswith("/login")
    sign_in(phone, owner)
    [phones] = sessions_of(owner)  # the lapsed one is gone
    assert utcnow() - phones.last_seen_at < timedelta(minutes=1)


def test_sign_in_clears_out_the_users_long_over_sessions(app, owner):
    """Sessions ended or unused for longer than a cookie lasts are deleted when the user signs in."""
    long_ago = utcnow() - app.permanent_session_lifetime - timedelta(days=1)
    yesterday = utcnow() - timedelta(days=1)
    kept = UserSession(user_id=owner.id, secret_hash="x" * 64, ended_at=yesterday)
    db.session.add_all([
        UserSession(user_id=owner.id, secret_hash="x" * 64, created_at=long_ago, last_seen_at=long_ago),
        UserSession(user_id=owner.id, secret_hash="x" * 64, ended_at=long_ago),
        kept,
    ])
    db.session.commit()
    sign_in(app.test_client(), owner)
    remaining = sessions_of(owner)
    assert len(remaining) == 2 and remaining[0].id == kept.id and remaining[1].ended_at is None


def test_last_seen_is_written_every_few_minutes_not_every_request(app, owner):
    """A request refreshes the session's last-seen time only once it is a few minutes old."""
    laptop = app.test_client()
    sign_in(laptop, owner)
    [record] = sessions_of(owner)
    a_moment_ago = utcnow() - SEEN_EVERY + timedelta(seconds=30)
    record.last_seen_at = a_moment_ago
    db.session.commit()
    laptop.get("/settings/account")
    assert sessions_of(owner)[0].last_seen_at == a_moment_ago
    record = sessions_of(owner)[0]
    record.last_seen_at = utcnow() - SEEN_EVERY - timedelta(seconds=1)
    db.session.commit()
    laptop.get("/settings/account")
    assert utcnow() - sessions_of(owner)[0].last_seen_at < timedelta(seconds=30)


def test_password_change_needs_the_current_password(client, auth, owner):
    """A wrong current password changes nothing."""
    auth.login(owner)
    before = owner.password_hash
    response = client.post("/settings/account", data={
        "current_password": "not my password", "new_password": "a brand new password",
        "confirm": "a brand new password",
    })
    assert response.status_code == 422
    assert b"That is not your current password." in response.data
    db.session.refresh(owner)
    assert owner.password_hash == before


def test_deactivation_ends_sessions_and_sign_in(app, client, auth, owner):
    """`flask users deactivate` signs the user out everywhere and refuses new sign-ins."""
    auth.login(owner)
    result = app.test_cli_runner().invoke(args=["users", "deactivate", owner.email])
    assert result.exit_code == 0, result.output
    assert client.get("/settings/account").location.startswith("/login")
    response = client.post("/login", data={"email": owner.email, "password": factories.PASSWORD})
    assert response.status_code == 422


@pytest.mark.app_config(RATELIMIT_ENABLED=True)
def test_failed_sign_ins_are_rate_limited(client, owner):
    """After five failures a minute, sign-in answers 429 even with the right password."""
    for _ in range(5):
        assert client.post("/login", data={"email": owner.email, "password": "wrong password"}).status_code == 422
    blocked = client.post("/login", data={"email": owner.email, "password": factories.PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins" in blocked.data


def test_successful_sign_ins_do_not_count_against_the_limit(client, owner):
    """Only failures count: a person signing in and out all day is never blocked."""
    for _ in range(8):
        assert client.post("/login", data={"email": owner.email, "password": factories.PASSWORD}).status_code == 303
        client.post("/logout")


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_token_required_on_every_form(client):
    """With CSRF on (as in production), posts without the token are refused and change nothing."""
    response = client.post("/setup", data=SETUP)
    assert response.status_code == 400
    assert count(Account) == 0
    page = client.get("/setup").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/setup", data={**SETUP, "csrf_token": token}).status_code == 303
    assert client.post("/logout").status_code == 400
    assert client.get("/settings/account").status_code == 200
    # sends the token as a header, set once in the base template.
    signed_in_page = client.get("/settings/account").get_data(as_text=True)
    header_token = signed_in_page.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post("/logout", headers={"X-CSRFToken": header_token}).status_code == 303


class PageForms(HTMLParser):
    """A page's hidden form fields, and its confirmation dialogs with the buttons that open them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.openers: dict[str, str] = {}  # a button's text -> the id of the dialog it opens
        self.dialogs: dict[str, dict] = {}  # dialog id -> its form's action, hidden fields and submit button
        self._dialog: str | None = None
        self._button: dict | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "dialog":
            self._dialog = attrs["id"]
        elif tag == "form" and self._dialog:
            self.dialogs[self._dialog] = {"action": attrs["action"], "fields": {}}
        elif tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs["value"]
            if self._dialog:
                self.dialogs[self._dialog]["fields"][attrs["name"]] = attrs["value"]
        elif tag == "button":
            self._button, self._text = attrs, []

    def handle_data(self, data):
        if self._button is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            text = "".join(self._text).strip()
            if "data-dialog-open" in self._button:
                self.openers[text] = self._button["data-dialog-open"]
            elif self._dialog and self._button.get("type") == "submit":
                self.dialogs[self._dialog]["submit"] = text
            self._button = None
        elif tag == "dialog":
            self._dialog = None


def sign_in_through_the_form(browser, user) -> None:
    """Sign in as a browser does with CSRF protection on: the form's token goes along."""
    token = PageForms(browser.get("/login").get_data(as_text=True)).hidden["csrf_token"]
    data = {"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    assert browser.post("/login", data=data).status_code == 303


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_sign_out_everywhere_else_is_confirmed_and_needs_the_forms_token(app, owner):
    """The button opens a confirmation; only its form, token included, signs the other sessions out."""
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        sign_in_through_the_form(browser, owner)
    page = PageForms(laptop.get("/settings/account").get_data(as_text=True))
    dialog = page.dialogs[page.openers["Sign out everywhere else…"]]
    assert dialog["submit"] == "Sign out everywhere else"

    assert laptop.post(dialog["action"]).status_code == 400
    assert phone.get("/settings/account").status_code == 200
    assert laptop.post(dialog["action"], data=dialog["fields"]).status_code == 303
    assert phone.get("/settings/account").location.startswith("/login")
    assert laptop.get("/settings/account").status_code == 200


def test_signed_in_visitor_skips_the_sign_in_page(client, auth, owner):
    """Opening the sign-in page while signed in leads to the workspace."""
    auth.login(owner)
    assert client.get("/login").location == "/"


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_rate_limit_is_shared_between_workers_through_redis(_schema, tmp_path, app):
    """Two app processes sharing Redis count failures together, as gunicorn workers do."""
    import uuid

    from webapp import create_app
    from .conftest import TEST_CONFIG, RequestIsolatingClient

    account = factories.make_account()
    owner = factories.owner_of(account)
    db.session.commit()
    shared = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": _schema, "MEDIA_ROOT": str(tmp_path),
              "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
              "RATELIMIT_KEY_PREFIX": f"roster-test-{uuid.uuid4().hex}"}
    workers = [create_app(shared), create_app(shared)]
    clients = []
    for worker in workers:
        worker.test_client_class = RequestIsolatingClient
        clients.append(worker.test_client())
    wrong = {"email": owner.email, "password": "wrong password"}
    for attempt in range(5):
        assert clients[attempt % 2].post("/login", data=wrong).status_code == 422
    right = {"email": owner.email, "password": factories.PASSWORD}
    assert clients[1].post("/login", data=right).status_code == 429
    assert clients[0].post("/login", data=right).status_code == 429
