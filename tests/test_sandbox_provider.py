"""The sandbox OAuth provider, driven through the app the way a browser and a client's server drive it."""
from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import func, select, update

from webapp.config import from_environment
from webapp.extensions import db
from webapp.models import utcnow
from webapp.sandbox import (
    ensure_sandbox_client,
    expire_sandbox_access_tokens,
    revoke_sandbox_tokens,
)
from webapp.sandbox.models import SandboxAuthorizationCode, SandboxClient, SandboxToken

from .conftest import AppTransport

CALLBACK = "http://roster.test/profiles/callback"
STATE = "state-from-roster"


@dataclass
class Registration:
    client_id: str
    client_secret: str


@pytest.fixture
def roster(app) -> Registration:
    """Roster's own sandbox client, registered the way the connect flow registers it."""
    registration = Registration(*ensure_sandbox_client([CALLBACK]))
    db.session.commit()
    return registration


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def authorize_params(roster: Registration, verifier: str, **changes) -> dict:
    """A valid authorization request; a change of None leaves that parameter out."""
    params = {
        "response_type": "code",
        "client_id": roster.client_id,
        "redirect_uri": CALLBACK,
        "scope": "profile publish",
        "state": STATE,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def authorize_url(params: dict, network: str = "instagram") -> str:
    return f"/sandbox/{network}/authorize?{urlencode(params)}"


def returned_params(response) -> dict[str, str]:
    """The parameters the provider sends back to the client's redirect URI."""
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def consent(client, params: dict, network: str = "instagram", **form):
    """Answer the consent page: allow as the first preset handle unless told otherwise."""
    data = {"account": "maya.creates", "allow": "Allow", **form}
    return client.post(authorize_url(params, network), data=data)


def issue_code(client, roster: Registration, verifier: str, network: str = "instagram", **form) -> str:
    response = consent(client, authorize_params(roster, verifier), network, **form)
    assert response.status_code == 303
    return returned_params(response)["code"]


def basic_auth(roster: Registration) -> dict:
    credentials = f"{roster.client_id}:{roster.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def exchange(client, roster: Registration, code: str, verifier: str | None, basic: bool = False, **changes):
    """Trade a code at the token endpoint, authenticating by form fields or HTTP Basic."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "code_verifier": verifier}
    headers = {}
    if basic:
        headers = basic_auth(roster)
    else:
        data.update(client_id=roster.client_id, client_secret=roster.client_secret)
    data.update(changes)
    return client.post("/sandbox/token", data={k: v for k, v in data.items() if v is not None},
                       headers=headers)


def refresh(client, roster: Registration, refresh_token: str):
    return client.post("/sandbox/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                       headers=basic_auth(roster))


def userinfo(client, access_token: str):
    return client.get("/sandbox/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def connect(client, roster: Registration, network: str = "instagram", **form) -> dict:
    """The whole flow up to tokens, as the connect flow runs it."""
    verifier = new_verifier()
    response = exchange(client, roster, issue_code(client, roster, verifier, network, **form), verifier)
    assert response.status_code == 200, response.json
    return response.json


def codes_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(SandboxAuthorizationCode))


# --- consent ----------------------------------------------------------------------------------------


def test_consent_page_names_the_app_the_network_and_what_it_may_do(client, roster):
    """The consent page says who asks for which network and scopes, and offers handles to sign in as."""
    response = client.get(authorize_url(authorize_params(roster, new_verifier())))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Connect Roster to Instagram" in page
    assert "See your name, handle and profile picture" in page
    assert "Publish posts on your behalf" in page
    assert "Read the statistics" not in page  # not asked for
    for handle in ("@maya.creates", "@northstar.studio", "@leo_travels"):
        assert handle in page
    assert 'value="Allow"' in page and 'value="Deny"' in page
    assert "roster.test" in page  # where the answer goes
    assert "<script>" not in page and "style=" not in page


def test_unknown_network_is_not_found(client, roster):
    """Only the networks Roster knows have a sandbox."""
    params = authorize_params(roster, new_verifier())
    assert client.get(authorize_url(params, network="myspace")).status_code == 404
    assert consent(client, params, network="myspace").status_code == 404


def test_allow_with_a_preset_handle_runs_the_whole_flow(client, roster):
    """Allow → code and the same state; code + verifier → tokens; token → the chosen account."""
    verifier = new_verifier()
    response = consent(client, authorize_params(roster, verifier), account="northstar.studio")
    assert response.status_code == 303
    answer = returned_params(response)
    assert answer["state"] == STATE and answer["code"]

    response = exchange(client, roster, answer["code"], verifier)
    assert response.status_code == 200
    token = response.json
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "profile publish"
    assert token["access_token"] and token["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"

    profile = userinfo(client, token["access_token"]).json
    assert profile["handle"] == "northstar.studio"
    assert profile["name"] == "Northstar Studio"
    assert profile["network"] == "instagram"
    assert profile["avatar_url"] == "http://roster.test/sandbox/avatars/instagram/northstar.studio.svg"
    picture = client.get(urlsplit(profile["avatar_url"]).path)
    assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
    assert b">NS</text>" in picture.data

    stored = db.session.scalars(select(SandboxToken)).one()
    assert token["access_token"] not in (stored.access_token_hash, stored.refresh_token_hash)
    assert codes_stored() == 0  # a redeemed code is gone


def test_a_typed_handle_wins_and_basic_auth_works(client, roster):
    """A typed handle (with or without @, any case) is used instead of the preselected one."""
    verifier = new_verifier()
    code = issue_code(client, roster, verifier, handle=" @Leo.Makes ")
    response = exchange(client, roster, code, verifier, basic=True)
    assert response.status_code == 200
    assert userinfo(client, response.json["access_token"]).json["handle"] == "leo.makes"


def test_an_account_keeps_its_id_on_each_network(client, roster):
    """The id is stable for a network and handle, and differs between networks."""
    def account_id(network: str) -> str:
        token = connect(client, roster, network, handle="maya.creates")
        return userinfo(client, token["access_token"]).json["id"]

    first = account_id("instagram")
    assert account_id("instagram") == first
    assert account_id("tiktok") != first


@pytest.mark.parametrize("handle", ["a", "has space", "x" * 31, "émile", "dash-es"])
def test_a_bad_handle_is_refused_with_422(client, roster, handle):
    """An invalid typed handle re-renders the consent page with the rule, and issues no code."""
    response = consent(client, authorize_params(roster, new_verifier()), handle=handle)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a handle: use 2–30 letters, digits, dots or underscores." in page
    assert 'aria-invalid="true"' in page
    assert codes_stored() == 0


def test_deny_sends_access_denied_with_the_state(client, roster):
    """Deny goes back to the client with `access_denied` and its state, and issues no code."""
    response = consent(client, authorize_params(roster, new_verifier()), allow=None, deny="Deny")
    assert response.status_code == 303
    answer = returned_params(response)
    assert (answer["error"], answer["state"]) == ("access_denied", STATE)
    assert "code" not in answer
    assert codes_stored() == 0


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_consent_form_needs_its_csrf_token(client, roster):
    """A consent POST without the page's CSRF token is refused; the token endpoint needs none."""
    verifier = new_verifier()
    params = authorize_params(roster, verifier)
    refused = consent(client, params)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert codes_stored() == 0

    page = client.get(authorize_url(params)).get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = consent(client, params, csrf_token=csrf_token)
    assert response.status_code == 303
    assert exchange(client, roster, returned_params(response)["code"], verifier).status_code == 200


# --- bad authorization requests ---------------------------------------------------------------------


@pytest.mark.parametrize("changes", [{"client_id": "nobody"}, {"redirect_uri": CALLBACK + "/elsewhere"},
                                     {"redirect_uri": "http://evil.test/profiles/callback"}])
def test_a_request_from_an_unknown_client_or_redirect_stays_here(client, roster, changes):
    """Without a known client and an exactly registered redirect URI, the error shows here, never redirects."""
    response = client.get(authorize_url(authorize_params(roster, new_verifier(), **changes)))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Invalid sign-in request" in response.get_data(as_text=True)


@pytest.mark.parametrize("changes, error", [
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"scope": "profile followers"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_a_bad_request_from_a_known_client_goes_back_with_the_error(client, roster, changes, error):
    """PKCE with S256 is required; unknown scopes and response types are refused back to the client."""
    response = client.get(authorize_url(authorize_params(roster, new_verifier(), **changes)))
    assert response.status_code == 302
    answer = returned_params(response)
    assert answer["error"] == error and answer["state"] == STATE


# --- the token endpoint -----------------------------------------------------------------------------


@pytest.mark.parametrize("changes, status, error", [
    ({"code_verifier": new_verifier()}, 400, "invalid_grant"),
    ({"code_verifier": None}, 400, "invalid_request"),
    ({"redirect_uri": CALLBACK + "/elsewhere"}, 400, "invalid_grant"),
    ({"code": "made-up-code"}, 400, "invalid_grant"),
    ({"client_secret": "not-the-secret"}, 401, "invalid_client"),
    ({"client_id": "nobody"}, 400, "invalid_client"),
], ids=["wrong verifier", "no verifier", "wrong redirect_uri", "unknown code", "wrong secret",
        "unknown client"])
def test_a_bad_code_exchange_is_an_oauth_error(client, roster, changes, status, error):
    """Each wrong part of a code exchange gets its OAuth error, and no token is issued."""
    verifier = new_verifier()
    changes = dict(changes)
    code = changes.pop("code", issue_code(client, roster, verifier))
    response = exchange(client, roster, code, verifier, **changes)
    assert response.status_code == status
    assert response.json["error"] == error
    assert db.session.scalar(select(func.count()).select_from(SandboxToken)) == 0


def test_a_code_works_once(client, roster):
    """A second exchange of the same code is refused."""
    verifier = new_verifier()
    code = issue_code(client, roster, verifier)
    assert exchange(client, roster, code, verifier).status_code == 200
    again = exchange(client, roster, code, verifier)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_an_expired_code_is_refused(client, roster):
    """A code not redeemed within its ten minutes no longer works."""
    verifier = new_verifier()
    code = issue_code(client, roster, verifier)
    db.session.execute(update(SandboxAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = exchange(client, roster, code, verifier)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


# --- access and refresh -----------------------------------------------------------------------------


def test_userinfo_needs_a_live_bearer_token_with_the_profile_scope(client, roster):
    """No token, an unknown one, or one without `profile` is refused with the OAuth error."""
    assert client.get("/sandbox/userinfo").status_code == 401
    unknown = userinfo(client, "made-up-token")
    assert unknown.status_code == 401 and unknown.json["error"] == "invalid_token"

    verifier = new_verifier()
    response = consent(client, authorize_params(roster, verifier, scope="publish"))
    token = exchange(client, roster, returned_params(response)["code"], verifier).json
    assert token["scope"] == "publish"
    refused = userinfo(client, token["access_token"])
    assert refused.status_code == 403 and refused.json["error"] == "insufficient_scope"


def test_an_expired_access_token_is_refused_and_refresh_replaces_it(client, roster):
    """Once the access token runs out, userinfo refuses it; the refresh token gets a new pair, once."""
    token = connect(client, roster)
    assert expire_sandbox_access_tokens("instagram", "maya.creates") == 1
    db.session.commit()
    expired = userinfo(client, token["access_token"])
    assert expired.status_code == 401 and expired.json["error"] == "invalid_token"
    assert "Bearer" in expired.headers["WWW-Authenticate"]

    response = refresh(client, roster, token["refresh_token"])
    assert response.status_code == 200
    renewed = response.json
    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != token["refresh_token"]  # refresh tokens rotate
    assert renewed["expires_in"] == 3600 and renewed["scope"] == "profile publish"
    assert userinfo(client, renewed["access_token"]).json["handle"] == "maya.creates"

    reused = refresh(client, roster, token["refresh_token"])
    assert reused.status_code == 400 and reused.json["error"] == "invalid_grant"


@pytest.mark.app_config(SANDBOX_TOKEN_TTL=120)
def test_the_access_token_lifetime_is_configured(client, roster):
    """SANDBOX_TOKEN_TTL sets how long access tokens live."""
    assert connect(client, roster)["expires_in"] == 120


def test_a_revoked_grant_can_neither_refresh_nor_read(client, roster):
    """After the account withdraws its grant, refresh fails — the case a client marks 'reconnect needed'."""
    token = connect(client, roster)
    other = connect(client, roster, handle="someone.else")
    assert revoke_sandbox_tokens("instagram", "maya.creates") == 1
    db.session.commit()
    refused = refresh(client, roster, token["refresh_token"])
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    assert userinfo(client, token["access_token"]).status_code == 401
    assert refresh(client, roster, other["refresh_token"]).status_code == 200


def test_a_refresh_token_only_works_for_its_own_client(client, roster):
    """Another registered client cannot use Roster's refresh token."""
    from webapp.sandbox import register_sandbox_client

    token = connect(client, roster)
    stranger = Registration(*register_sandbox_client("Other app", ["https://other.test/cb"]))
    db.session.commit()
    response = refresh(client, stranger, token["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


# --- clients ----------------------------------------------------------------------------------------


def test_roster_registers_itself_idempotently(app):
    """Roster's client is created once; later calls add redirect URIs and give the same credentials."""
    first = ensure_sandbox_client([CALLBACK])
    second = ensure_sandbox_client([CALLBACK, "http://127.0.0.1:5000/profiles/callback"])
    db.session.commit()
    assert first == second
    registered = db.session.scalars(select(SandboxClient)).one()
    assert registered.redirect_uris == [CALLBACK, "http://127.0.0.1:5000/profiles/callback"]
    assert registered.client_secret_hash != first[1]
    assert registered.check_client_secret(first[1])


def test_a_new_secret_key_gives_roster_a_new_client_secret(app, client, roster):
    """The secret follows SECRET_KEY, so rotating the key retires the old secret."""
    app.config["SECRET_KEY"] = "a-rotated-secret-key"
    rotated = Registration(*ensure_sandbox_client([CALLBACK]))
    db.session.commit()
    assert rotated.client_id == roster.client_id and rotated.client_secret != roster.client_secret
    verifier = new_verifier()
    code = issue_code(client, rotated, verifier)
    assert exchange(client, roster, code, verifier).status_code == 401
    assert exchange(client, rotated, code, verifier).status_code == 200


def test_the_cli_registers_another_client(app):
    """`flask sandbox register-client` prints an id and a secret shown once, of which only a hash is kept."""
    result = app.test_cli_runner().invoke(args=["sandbox", "register-client", "Other app", "https://other.test/cb"])
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", result.output).group(1)
    registered = db.session.scalars(select(SandboxClient).where(SandboxClient.client_id == client_id)).one()
    assert registered.redirect_uris == ["https://other.test/cb"]
    assert registered.check_client_secret(secret) and secret not in registered.client_secret_hash


# --- a standard Authlib client ----------------------------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_an_authlib_client_connects_with_the_documented_settings(app, client, roster, auth_method):
    """Authlib's OAuth2Session, configured as Roster's client is, completes code + PKCE, userinfo and refresh."""
    session = OAuth2Session(
        roster.client_id, roster.client_secret, scope="profile publish", redirect_uri=CALLBACK,
        code_challenge_method="S256", token_endpoint_auth_method=auth_method,
    )
    session.mount("http://roster.test/", AppTransport(app))
    verifier = new_verifier()
    url, state = session.create_authorization_url("http://roster.test/sandbox/tiktok/authorize",
                                                  code_verifier=verifier)
    path = url.removeprefix("http://roster.test")
    assert client.get(path).status_code == 200
    answer = client.post(path, data={"account": "leo_travels", "allow": "Allow"})
    assert returned_params(answer)["state"] == state

    token = session.fetch_token("http://roster.test/sandbox/token",
                                authorization_response=answer.headers["Location"], code_verifier=verifier)
    profile = session.get("http://roster.test/sandbox/userinfo").json()
    assert (profile["network"], profile["handle"]) == ("tiktok", "leo_travels")

    renewed = session.refresh_token("http://roster.test/sandbox/token")
    assert renewed["access_token"] != token["access_token"]
    assert session.get("http://roster.test/sandbox/userinfo").status_code == 200


# --- switching the provider on and off --------------------------------------------------------------


@pytest.mark.parametrize("environment, served", [
    ({}, True),
    ({"ROSTER_ENV": "production"}, False),
    ({"ROSTER_ENV": "production", "SANDBOX_PROVIDER": "1"}, True),
    ({"SANDBOX_PROVIDER": "0"}, False),
])
def test_the_sandbox_is_on_except_in_production_unless_asked(monkeypatch, tmp_path, environment, served):
    """On by default; ROSTER_ENV=production turns it off; SANDBOX_PROVIDER=0/1 decides either way."""
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    for name in ("ROSTER_ENV", "SANDBOX_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert from_environment(tmp_path)["SANDBOX_PROVIDER"] is served


@pytest.mark.app_config(SANDBOX_PROVIDER=False)
def test_a_switched_off_sandbox_is_not_served(app, client):
    """With the provider off, none of its URLs exist."""
    assert not any(endpoint.startswith("sandbox.") for endpoint in app.view_functions)
    assert client.get("/sandbox/instagram/authorize").status_code == 404
    assert client.post("/sandbox/token").status_code == 404
