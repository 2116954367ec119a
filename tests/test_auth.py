"""First-run setup, signing in and out, sessions that end, and the sign-in rate limit."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AccessGroup, Account, Membership, User

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
        assert session["_user_id"] == f"{owner.id}:{owner.session_version}"


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
