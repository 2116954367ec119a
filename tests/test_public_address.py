"""ROSTER_URL is the only base of links and callbacks; other hosts are refused; proxies and production."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from webapp import approvals, create_app, posts, review, urls
from webapp.extensions import db, limiter
from webapp.models import Mail, Network
from webapp.networks import callback_url, network_client
from webapp.sandbox import ROSTER_CLIENT_ID
from webapp.sandbox.server import find_client

from . import factories
from .conftest import TEST_CONFIG

ALIAS = "http://alias.example"
FORGED = "http://evil.example"
REPO = Path(__file__).resolve().parent.parent


def mail_bodies() -> str:
    db.session.expire_all()
    return "\n".join(f"{mail.text_body}\n{mail.html_body or ''}" for mail in db.session.scalars(select(Mail)))


def sign_in(client, user, base_url: str) -> None:
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD}, base_url=base_url)
    assert response.status_code == 303


def assert_links_at_roster_url(bodies: str, path: str) -> None:
    assert f"http://roster.test{path}" in bodies
    assert "evil.example" not in bodies and "alias.example" not in bodies


# --- other hosts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("GET", "/login"), ("POST", "/login"), ("GET", "/review/some-token"), ("GET", "/invitations/some-token"),
    ("GET", "/oauth/callback/instagram?code=x&state=y"), ("POST", "/sandbox/token"), ("GET", "/static/app.css"),
])
def test_a_request_naming_another_host_is_refused(client, method, path):
    """Before any view runs: a 400 that says where Roster is, and no page built on the forged host."""
    response = client.open(path, method=method, base_url=FORGED)
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Roster is not served at this address. Open http://roster.test instead.\n"


def test_a_forged_host_cannot_sign_in(client, app):
    owner = factories.owner_of(factories.make_account("Northstar"))
    db.session.commit()
    response = client.post("/login", data={"email": owner.email, "password": factories.PASSWORD}, base_url=FORGED)
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


@pytest.mark.app_config(ROSTER_TRUSTED_HOSTS="alias.example, other.example")
def test_trusted_hosts_answer_but_links_still_use_roster_url(app, client):
    """A second name people may use (ROSTER_TRUSTED_HOSTS): pages answer, invitation mail links ROSTER_URL."""
    account = factories.make_account("Northstar")
    owner = factories.owner_of(account)
    factories.add_to_group(owner, factories.default_group(account))
    db.session.commit()
    assert app.config["TRUSTED_HOSTS"] == ["roster.test", "alias.example", "other.example"]
    assert client.get("/login", base_url=ALIAS).status_code == 200
    sign_in(client, owner, ALIAS)
    response = client.post("/settings/team/invitations", base_url=ALIAS, data={
        "email": "ben@example.test", "role": "manager", "access_groups": [factories.default_group(account).id],
    })
    assert response.status_code == 303
    assert_links_at_roster_url(mail_bodies(), "/invitations/")


def test_review_activity_and_approval_mail_link_roster_url_whatever_the_request_host(app, review_agency):
    """Each mail that carries a link, sent while handling a request for a forged host, links ROSTER_URL."""
    agency = review_agency
    with app.test_request_context("/", base_url=FORGED):
        review.send_review_link(agency["maya"], agency["sam"], agency["account"].id)
        posts._notify_author(agency["first"], agency["maya"], "comment")
        approvals._tell_admins_nobody_approves(agency["account"].id, [agency["instagram"].id])
    db.session.commit()
    bodies = mail_bodies()
    assert_links_at_roster_url(bodies, "/review/")
    # The comment's email links the author's notification, which opens the post.
    assert_links_at_roster_url(bodies, "/notifications/")
    assert_links_at_roster_url(bodies, f"/settings/access-groups/{agency['group'].id}/profiles/")
    assert db.session.scalar(select(db.func.count()).select_from(Mail)) == 3


def test_links_keep_a_path_prefix_and_are_built_outside_requests(app):
    """Behind a proxy that serves Roster under a path, links carry it; a worker builds them with no request."""
    urls.use_public_url(app, "https://social.agency.example/roster/")
    try:
        assert urls.external_url("invitations.show", token="abc") == \
            "https://social.agency.example/roster/invitations/abc"
        assert callback_url(Network.TIKTOK) == "https://social.agency.example/roster/oauth/callback/tiktok"
    finally:
        urls.use_public_url(app, TEST_CONFIG["ROSTER_URL"])


@pytest.mark.parametrize("url", ["social.agency.example", "ftp://social.agency.example", "https://",
                                 "https://social.agency.example/?x=1"])
def test_a_roster_url_that_is_not_an_address_stops_the_app(url):
    with pytest.raises(urls.ConfigurationError, match="ROSTER_URL must be the address people open Roster at"):
        create_app({**TEST_CONFIG, "ROSTER_URL": url})


def test_in_development_every_loopback_name_answers(app):
    urls.use_public_url(app, "http://127.0.0.1:5000")
    try:
        assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost", "::1"]
    finally:
        urls.use_public_url(app, TEST_CONFIG["ROSTER_URL"])


# --- the sandbox's redirect URIs -------------------------------------------------------------------------


def test_the_sandbox_registers_exactly_roster_urls_callbacks(app):
    """Only ROSTER_URL's callbacks, whatever host a request named; a new ROSTER_URL replaces the old ones."""
    with app.test_request_context("/", base_url=FORGED):
        client = network_client(Network.INSTAGRAM)
    db.session.commit()
    expected = [f"http://roster.test/oauth/callback/{network.value}" for network in Network]
    assert find_client(ROSTER_CLIENT_ID).redirect_uris == expected
    assert client.authorize_url == "http://roster.test/sandbox/instagram/authorize"
    assert client.token_url == "http://roster.test/sandbox/token"

    urls.use_public_url(app, "https://social.agency.example")
    try:
        network_client(Network.INSTAGRAM)
        db.session.commit()
        db.session.expire_all()
        assert find_client(ROSTER_CLIENT_ID).redirect_uris == [
            f"https://social.agency.example/oauth/callback/{network.value}" for network in Network]
    finally:
        urls.use_public_url(app, TEST_CONFIG["ROSTER_URL"])


@pytest.mark.app_config(ROSTER_TRUSTED_HOSTS="alias.example")
def test_connecting_through_another_name_sends_the_code_to_roster_url(app, client):
    account = factories.make_account("Northstar")
    group = factories.default_group(account)
    owner = factories.owner_of(account)
    factories.add_to_group(owner, group)
    social_set = factories.make_social_set(group, "Maya")
    db.session.commit()
    sign_in(client, owner, ALIAS)
    response = client.post(f"/social-sets/{social_set.id}/connect",
                           data={"network": "instagram"}, base_url=ALIAS)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    location = urlsplit(response.location)
    assert (location.scheme, location.netloc, location.path) == ("http", "roster.test", "/sandbox/instagram/authorize")
    assert parse_qs(location.query)["redirect_uri"] == ["http://roster.test/oauth/callback/instagram"]


# --- behind a proxy: who is signing in ----------------------------------------------------------------


def failed_sign_in(client, email: str, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"email": email, "password": "wrong password"}, headers=headers)


def limiter_keys(app) -> list[str]:
    """The keys the sign-in counters are kept under (the in-memory store of the tests)."""
    return list(limiter.storage.storage) + list(limiter.storage.events)


LIMITS = {"RATELIMIT_ENABLED": True, "SIGN_IN_RATE_LIMIT": "2 per minute",
          "SIGN_IN_ADDRESS_RATE_LIMIT": "3 per minute"}


@pytest.mark.app_config(ROSTER_PROXIES=1, **LIMITS)
def test_behind_a_proxy_failures_count_per_real_address_and_per_email(app, client):
    owner = factories.owner_of(factories.make_account("Northstar"))
    db.session.commit()
    # One email tried from many addresses is stopped by its own count.
    assert failed_sign_in(client, owner.email, "203.0.113.5").status_code == 422
    assert failed_sign_in(client, owner.email.upper(), "203.0.113.6").status_code == 422
    assert failed_sign_in(client, owner.email, "203.0.113.7").status_code == 429
    # The counter is keyed on a digest: a huge email field cannot make a huge key.
    assert failed_sign_in(client, "x" * 100_000 + "@example.test", "203.0.113.8").status_code == 422
    keys = limiter_keys(app)
    assert any(key.endswith(":203.0.113.8") or "203.0.113.8" in key for key in keys), keys
    assert not any(len(key) > 200 for key in keys)
    # One address trying many emails is stopped by the address's count...
    for number in range(3):
        assert failed_sign_in(client, f"guess{number}@example.test", "198.51.100.7").status_code == 422
    assert failed_sign_in(client, "guess9@example.test", "198.51.100.7").status_code == 429
    # ...while the proxy's other clients sign in as usual: the proxy's own address is not what counts.
    assert failed_sign_in(client, "someone@example.test", "198.51.100.8").status_code == 422
    assert client.post("/login", headers={"X-Forwarded-For": "198.51.100.8"}, data={
        "email": "ben@example.test", "password": factories.PASSWORD}).status_code == 422


@pytest.mark.app_config(**LIMITS)
def test_without_a_proxy_a_forwarded_for_header_changes_nothing(app, client):
    """With ROSTER_PROXIES=0 a client cannot dodge the address count by naming other addresses."""
    factories.make_account("Northstar")
    db.session.commit()
    for number in range(3):
        assert failed_sign_in(client, f"guess{number}@example.test", f"192.0.2.{number}").status_code == 422
    assert failed_sign_in(client, "guess9@example.test", "192.0.2.99").status_code == 429


# --- production ------------------------------------------------------------------------------------------


PRODUCTION = {key: value for key, value in TEST_CONFIG.items() if key != "SECRET_KEY"}


@pytest.fixture
def no_secret_key_in_environment(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)


def test_production_refuses_to_start_without_a_fixed_secret_key(no_secret_key_in_environment, tmp_path):
    with pytest.raises(urls.ConfigurationError) as refusal:
        create_app({**PRODUCTION, "ROSTER_ENV": "production", "ROSTER_URL": "https://social.agency.example"})
    assert "set SECRET_KEY" in str(refusal.value) and "ROSTER_URL" not in str(refusal.value)


def test_production_refuses_to_start_without_an_https_address(no_secret_key_in_environment):
    with pytest.raises(urls.ConfigurationError) as refusal:
        create_app({**TEST_CONFIG, "ROSTER_ENV": "production", "ROSTER_URL": "http://social.agency.example"})
    assert "set ROSTER_URL to the https address" in str(refusal.value) and "SECRET_KEY" not in str(refusal.value)


def test_production_turns_on_secure_cookies_and_hsts(no_secret_key_in_environment):
    production = create_app({**TEST_CONFIG, "ROSTER_ENV": "production",
                             "ROSTER_URL": "https://social.agency.example", "SERVER_NAME": None})
    assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
    response = production.test_client().get("/static/favicon.svg", base_url="https://social.agency.example")
    assert response.headers["Strict-Transport-Security"] == urls.HSTS


def test_the_server_says_why_it_will_not_start(tmp_path):
    """`gunicorn wsgi:app` and `flask` print the reason in one line, not a traceback."""
    environment = {**os.environ, "ROSTER_ENV": "production", "ROSTER_URL": "http://social.agency.example",
                   "SECRET_KEY": "fixed", "DATABASE_URL": f"sqlite:///{tmp_path / 'roster.db'}"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("Roster cannot start: Roster will not start in production until you set "
                                    "ROSTER_URL to the https address")
    assert "Traceback" not in result.stderr

