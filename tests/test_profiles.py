"""Connecting social profiles over OAuth through the built-in sandbox, transferring and removing them.

The app's server-to-server calls (token exchange, userinfo) go through `requests`; an adapter
mounted for http://roster.test/ carries them into the app itself, each in an app context of its
own, as another process would answer them.
"""
from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text

from webapp import approvals
from webapp.extensions import db
from webapp.models import (
    SERVER_NETWORKS,
    AuditEvent,
    Campaign,
    CampaignProfile,
    Network,
    Post,
    ProfileAccessRemoval,
    Role,
    SocialProfile,
    utcnow,
)
from webapp.networks import network_client, network_setup, profile_from_userinfo
from webapp.profiles import PENDING_KEY, TRANSFER_KEY, access_token_for
from webapp.sandbox import revoke_sandbox_tokens
from webapp.sandbox.models import SandboxAccount

from . import factories
from .conftest import AppTransport
from .html import HTMX, Html

BASE = "http://roster.test"
NO_LONGER_VALID = "This connection link is no longer valid. Start again from the slot."


@pytest.fixture(autouse=True)
def transport(app) -> AppTransport:
    adapter = AppTransport(app)
    app.config["OUTBOUND_HTTP_ADAPTERS"] = {f"{BASE}/": adapter}
    return adapter


@pytest.fixture
def agency():
    """Northstar: Maya's group (client Maya, manager Sam) and Jonah's group (Sam only), one set each."""
    account = factories.make_account("Northstar")
    maya_group = factories.make_group(account, "Maya Lopez")
    jonah_group = factories.make_group(account, "Jonah Reed")
    people = {
        "owner": factories.owner_of(account),
        "admin": factories.make_member(account, Role.ADMIN, groups=[maya_group, jonah_group], name="Alex"),
        "sam": factories.make_member(account, Role.MANAGER, groups=[maya_group, jonah_group], name="Sam"),
        "maya": factories.make_member(account, Role.CLIENT, groups=[maya_group], name="Maya"),
    }
    world = {
        **people,
        "account": account,
        "maya_group": maya_group,
        "jonah_group": jonah_group,
        "maya_set": factories.make_social_set(maya_group, "Maya Main"),
        "jonah_set": factories.make_social_set(jonah_group, "Jonah Main"),
    }
    db.session.commit()
    return world


def path_of(url: str) -> str:
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}" == BASE, url
    return split.path + (f"?{split.query}" if split.query else "")


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def start(client, social_set, network: str = "instagram", headers=None, origin: str = "settings"):
    return client.post(f"/social-sets/{social_set.id}/connect", data={"network": network, "origin": origin},
                       headers=headers or {})


def consent_location(client, social_set, network: str = "instagram", origin: str = "settings") -> str:
    """Start connecting and return the sandbox consent URL Roster sends the browser to."""
    response = start(client, social_set, network, origin=origin)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.startswith(f"{BASE}/sandbox/{network}/authorize?")
    return response.location


def answer_consent(client, location: str, handle: str = "maya.creates", allow: bool = True) -> str:
    """Sign in to the sandbox as `handle` and allow (or deny); returns Roster's callback URL."""
    assert client.get(path_of(location)).status_code == 200
    choice = {"allow": "Allow"} if allow else {"deny": "Deny"}
    answer = client.post(path_of(location), data={"handle": handle, **choice})
    assert answer.status_code == 303
    return answer.location


def connect(client, social_set, network: str = "instagram", handle: str = "maya.creates", **options):
    """The whole round trip through the sandbox; returns Roster's answer to the callback."""
    callback = answer_consent(client, consent_location(client, social_set, network, **options), handle)
    return client.get(path_of(callback))


def profiles_in(social_set) -> list[SocialProfile]:
    return list(db.session.scalars(select(SocialProfile).where(SocialProfile.social_set_id == social_set.id)))


def profile_count() -> int:
    return db.session.scalar(select(func.count(SocialProfile.id)))


def audit_verbs() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.verb).order_by(AuditEvent.id)))


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


# --- the whole flow ---------------------------------------------------------------------------------


def test_owner_connects_a_profile_through_the_sandbox(client, auth, agency, transport):
    """Connect → consent → callback: the profile sits in the slot with its tokens encrypted at rest."""
    auth.login(agency["owner"])
    location = consent_location(client, agency["maya_set"])
    params = query_of(location)
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == f"{BASE}/oauth/callback/instagram"
    assert params["client_id"] == "roster" and params["response_type"] == "code"
    assert len(params["state"]) >= 43
    pending = session_of(client)[PENDING_KEY][params["state"]]
    assert pending["user_id"] == agency["owner"].id and pending["social_set_id"] == agency["maya_set"].id
    assert pending["access_group_id"] == agency["maya_group"].id and pending["network"] == "instagram"
    assert 590 < pending["expires_at"] - time.time() <= 600

    callback = answer_consent(client, location, handle="maya.creates")
    assert query_of(callback)["state"] == params["state"]
    response = client.get(path_of(callback))

    assert response.status_code == 303
    assert response.location == f"/settings/access-groups/{agency['maya_group'].id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Instagram profile @maya.creates connected to “Maya Main”." in page
    assert "@maya.creates" in page
    assert transport.calls == ["/sandbox/token", "/sandbox/userinfo"]

    [profile] = profiles_in(agency["maya_set"])
    account = SandboxAccount("instagram", "maya.creates")
    assert (profile.network, profile.handle, profile.display_name) == ("instagram", "maya.creates", "Maya Creates")
    assert profile.external_id == account.id
    assert profile.avatar_url == f"{BASE}/sandbox/avatars/instagram/maya.creates.svg"
    assert profile.access_group_id == agency["maya_group"].id
    assert profile.connected_by_id == agency["owner"].id
    assert timedelta(minutes=55) < profile.token_expires_at - utcnow() <= timedelta(hours=1)
    assert len(profile.access_token) > 20 and len(profile.refresh_token) > 20

    # At rest the tokens are ciphertext: the raw bytes contain neither token.
    raw_access, raw_refresh = db.session.execute(
        text("SELECT access_token, refresh_token FROM social_profiles WHERE id = :id"), {"id": profile.id}
    ).one()
    for raw, token in ((raw_access, profile.access_token), (raw_refresh, profile.refresh_token)):
        assert token.encode() not in bytes(raw)
    # And the tokens work at the sandbox.
    userinfo = client.get("/sandbox/userinfo", headers={"Authorization": f"Bearer {profile.access_token}"})
    assert userinfo.json["handle"] == "maya.creates"

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "profile.connected"))
    assert event.actor_id == agency["owner"].id and event.object_id == profile.id
    assert event.after == {"network": "instagram", "handle": "maya.creates",
                           "social_set_id": agency["maya_set"].id, "access_group_id": agency["maya_group"].id}
    assert PENDING_KEY not in session_of(client) or not session_of(client)[PENDING_KEY]


def test_a_client_connects_into_their_own_group_and_returns_to_its_slots(client, auth, agency):
    """A client with profiles.connect connects themselves; they come back to the group's Social Profiles."""
    auth.login(agency["maya"])
    page = client.get(f"/g/{agency['maya_group'].id}/profiles").get_data(as_text=True)
    assert page.count("Add Social Profile<span") == len(Network)
    assert f'action="/social-sets/{agency["maya_set"].id}/connect"' in page

    response = connect(client, agency["maya_set"], "instagram", "maya.creates", origin="group")
    assert response.status_code == 303
    assert response.location == f"/g/{agency['maya_group'].id}/profiles"
    page = client.get(response.location).get_data(as_text=True)
    assert "Instagram profile @maya.creates connected to “Maya Main”." in page
    assert '<span class="handle">@maya.creates</span>' in page
    [profile] = profiles_in(agency["maya_set"])
    assert profile.connected_by_id == agency["maya"].id


def test_a_client_coming_from_the_settings_link_still_lands_where_they_may_go(client, auth, agency):
    """A client may not open the settings tab: they return to the group's slots whatever the origin."""
    auth.login(agency["maya"])
    response = connect(client, agency["maya_set"], origin="settings")
    assert response.location == f"/g/{agency['maya_group'].id}/profiles"


def test_a_manager_connects_into_another_of_their_groups(client, auth, agency):
    """Sam works in two groups and connects a TikTok into Jonah's set."""
    auth.login(agency["sam"])
    response = connect(client, agency["jonah_set"], "tiktok", "jonah.dances", origin="group")
    assert response.status_code == 303 and response.location == f"/g/{agency['jonah_group'].id}/profiles"
    [profile] = profiles_in(agency["jonah_set"])
    assert (profile.network, profile.handle, profile.access_group_id) == (
        "tiktok", "jonah.dances", agency["jonah_group"].id)


def test_a_client_cannot_start_a_connection_in_a_group_they_may_not_enter(client, auth, agency):
    """Another group's set is not found; nothing is started."""
    auth.login(agency["maya"])
    assert start(client, agency["jonah_set"]).status_code == 404
    assert not session_of(client).get(PENDING_KEY)


def test_htmx_gets_hx_redirect_to_the_provider(client, auth, agency):
    """From the slot's htmx form the browser is sent to the provider with HX-Redirect."""
    auth.login(agency["maya"])
    response = start(client, agency["maya_set"], headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith(f"{BASE}/sandbox/instagram/authorize?")


# --- refusals -----------------------------------------------------------------------------------------


def test_a_taken_slot_is_refused_with_the_reason(client, auth, agency):
    """A set holds one profile per network: a second Instagram is refused before leaving Roster."""
    auth.login(agency["maya"])
    connect(client, agency["maya_set"], handle="maya.creates")
    response = start(client, agency["maya_set"])
    assert response.status_code == 422
    assert ("This set already has an Instagram profile (@maya.creates). A set holds one profile per network."
            in response.get_data(as_text=True))
    htmx = start(client, agency["maya_set"], headers=HTMX)
    assert htmx.status_code == 422 and htmx.headers["HX-Retarget"] == "#flashes"
    body = htmx.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="flashes"') and 'role="alert"' in body
    assert "(@maya.creates)" in body
    assert profile_count() == 1


def test_a_slot_filled_during_consent_is_refused_at_the_callback(client, auth, agency):
    """Two tabs race for one slot: the second callback finds it filled and stores nothing."""
    auth.login(agency["maya"])
    first = answer_consent(client, consent_location(client, agency["maya_set"]), handle="maya.creates")
    second = answer_consent(client, consent_location(client, agency["maya_set"]), handle="maya.second")
    assert client.get(path_of(first)).status_code == 303
    response = client.get(path_of(second))
    assert response.status_code == 422
    assert "This set already has an Instagram profile (@maya.creates)." in response.get_data(as_text=True)
    assert [p.handle for p in profiles_in(agency["maya_set"])] == ["maya.creates"]


def test_a_tampered_state_is_refused_and_nothing_is_stored(client, auth, agency):
    """The provider sends back whatever state it got: a changed one matches no flow of this session."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"])
    state = query_of(location)["state"]
    callback = answer_consent(client, location.replace(state, state[:-4] + "AAAA"))
    response = client.get(path_of(callback))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert NO_LONGER_VALID in page
    assert profile_count() == 0 and "profile.connected" not in audit_verbs()


def test_a_state_works_once(client, auth, agency):
    """Reloading the callback (or replaying it) finds the flow used up."""
    auth.login(agency["maya"])
    callback = answer_consent(client, consent_location(client, agency["maya_set"]))
    assert client.get(path_of(callback)).status_code == 303
    again = client.get(path_of(callback))
    assert again.status_code == 400 and NO_LONGER_VALID in again.get_data(as_text=True)
    assert profile_count() == 1


def test_a_used_state_cannot_bring_a_second_code(client, auth, agency):
    """Even with a fresh code from the provider, a used state is refused."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"])
    assert client.get(path_of(answer_consent(client, location, handle="maya.creates"))).status_code == 303
    replay = client.get(path_of(answer_consent(client, location, handle="maya.other")))
    assert replay.status_code == 400 and NO_LONGER_VALID in replay.get_data(as_text=True)
    assert not db.session.scalar(select(SocialProfile).where(SocialProfile.handle == "maya.other"))


def test_an_expired_flow_is_refused(client, auth, agency):
    """Ten minutes after starting, the flow is gone."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"])
    state = query_of(location)["state"]
    with client.session_transaction() as session:
        flows = session[PENDING_KEY]
        flows[state]["expires_at"] = time.time() - 1
        session[PENDING_KEY] = flows
    response = client.get(path_of(answer_consent(client, location)))
    assert response.status_code == 400 and NO_LONGER_VALID in response.get_data(as_text=True)
    assert profile_count() == 0


def test_another_users_flow_is_refused(client, auth, agency):
    """A flow started by one user does not finish for another signed in on the same browser."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"])
    callback = answer_consent(client, location)
    state = query_of(location)["state"]
    flows = session_of(client)[PENDING_KEY]
    auth.logout()
    auth.login(agency["sam"])
    with client.session_transaction() as session:
        session[PENDING_KEY] = flows  # as if the session had survived the change of user
    assert flows[state]["user_id"] == agency["maya"].id
    response = client.get(path_of(callback))
    assert response.status_code == 400 and NO_LONGER_VALID in response.get_data(as_text=True)
    assert profile_count() == 0


def test_a_callback_for_another_network_is_refused(client, auth, agency):
    """The redirect URI is per network: a state started for Instagram does not finish a TikTok."""
    auth.login(agency["maya"])
    callback = answer_consent(client, consent_location(client, agency["maya_set"]))
    response = client.get(path_of(callback).replace("/instagram?", "/tiktok?"))
    assert response.status_code == 400 and profile_count() == 0


def test_a_callback_without_a_state_is_refused(client, auth, agency):
    auth.login(agency["maya"])
    response = client.get("/oauth/callback/instagram?code=abc")
    assert response.status_code == 400 and NO_LONGER_VALID in response.get_data(as_text=True)
    assert client.get("/oauth/callback/myspace?code=abc&state=x").status_code == 404


def test_the_callback_needs_a_signed_in_user(client, agency):
    response = client.get("/oauth/callback/instagram?code=abc&state=xyz")
    assert response.status_code == 303 and "/login" in response.location


def test_denied_consent_says_so_and_stores_nothing(client, auth, agency):
    """Deny at the provider: a clear page, the flow used up, nothing stored."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"], origin="group")
    callback = answer_consent(client, location, allow=False)
    assert query_of(callback)["error"] == "access_denied"
    response = client.get(path_of(callback))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Connection was cancelled at Instagram" in page
    assert f'href="/g/{agency["maya_group"].id}/profiles"' in page
    assert profile_count() == 0 and "profile.connected" not in audit_verbs()
    assert client.get(path_of(callback)).status_code == 400  # and the state is used up


def test_a_failed_code_exchange_is_a_clear_page(client, auth, agency):
    """A code the provider does not accept (here: already redeemed) ends on a page, nothing stored."""
    auth.login(agency["maya"])
    location = consent_location(client, agency["maya_set"])
    callback = answer_consent(client, location)
    state = query_of(location)["state"]
    flows = session_of(client)[PENDING_KEY]
    flows[state]["verifier"] = "x" * 64  # a wrong PKCE verifier: the sandbox refuses the code
    with client.session_transaction() as session:
        session[PENDING_KEY] = flows
    response = client.get(path_of(callback))
    assert response.status_code == 502
    assert "Instagram did not accept the sign-in" in response.get_data(as_text=True)
    assert profile_count() == 0


# --- not configured -----------------------------------------------------------------------------------


@pytest.mark.app_config(SANDBOX_PROVIDER=False)
def test_without_a_client_or_the_sandbox_a_network_is_not_configured(client, auth, agency):
    """No broken button: the slot says "Not configured" and names the settings to add. Bluesky and
    Mastodon need no app of the agency's (the person names their server), so they can always be added."""
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya_group'].id}").get_data(as_text=True)
    assert page.count("Not configured") == len(Network) - len(SERVER_NETWORKS)
    assert ("Set OAUTH_X_CLIENT_ID, _CLIENT_SECRET, _AUTHORIZE_URL, _TOKEN_URL and _USERINFO_URL "
            "to connect X.") in page.replace("<wbr>", "")
    adds = Html(page).all_by_role("button", re.compile(r"^Add Social Profile"))
    assert [Html(page).name_of(button) for button in adds] == [
        "Add Social Profile for Bluesky in Maya Main", "Add Social Profile for Mastodon in Maya Main"]
    response = start(client, agency["maya_set"], "x")
    assert response.status_code == 422 and "OAUTH_X_CLIENT_ID" in response.get_data(as_text=True)
    assert not session_of(client).get(PENDING_KEY)


@pytest.mark.app_config(OAUTH_X_CLIENT_ID="x-id", OAUTH_X_CLIENT_SECRET="x-secret")
def test_a_half_configured_network_names_what_is_missing(app, agency):
    """A client id without the endpoints does not fall back to the sandbox: it says what is missing."""
    with app.test_request_context():
        setup = network_setup(Network.X)
        assert not setup.ready
        assert setup.hint == "Set OAUTH_X_AUTHORIZE_URL, _TOKEN_URL and _USERINFO_URL to connect X."
        assert network_setup(Network.INSTAGRAM).sandbox


@pytest.mark.app_config(
    OAUTH_X_CLIENT_ID="x-id", OAUTH_X_CLIENT_SECRET="x-secret",
    OAUTH_X_AUTHORIZE_URL="https://x.example/i/oauth2/authorize",
    OAUTH_X_TOKEN_URL="https://api.x.example/2/oauth2/token",
    OAUTH_X_USERINFO_URL="https://api.x.example/2/users/me?user.fields=profile_image_url",
    OAUTH_X_SCOPE="tweet.read users.read offline.access", OAUTH_X_TOKEN_AUTH="client_secret_post",
    OAUTH_X_PROFILE_FIELDS="external_id=data.id, handle=data.username",
    OAUTH_PINTEREST_CLIENT_ID="p", OAUTH_PINTEREST_CLIENT_SECRET="s",
    OAUTH_PINTEREST_AUTHORIZE_URL="https://p.example/a", OAUTH_PINTEREST_TOKEN_URL="https://p.example/t",
    OAUTH_PINTEREST_USERINFO_URL="https://p.example/u", OAUTH_PINTEREST_PKCE="off",
)
def test_a_network_with_its_own_client_uses_its_configuration(app, client, auth, agency):
    """Endpoints, scopes, PKCE, client authentication and where the profile is come from configuration."""
    with app.test_request_context():
        x = network_client(Network.X)
        assert not x.sandbox and x.client_id == "x-id" and x.token_auth == "client_secret_post"
        assert x.scope == "tweet.read users.read offline.access" and x.pkce
        found = profile_from_userinfo(x, {"data": {"id": "42", "username": "maya", "name": "Maya L",
                                                   "profile_image_url": "https://pbs.example/m.jpg"}})
        assert found == {"external_id": "42", "handle": "maya", "display_name": "Maya L",
                         "avatar_url": "https://pbs.example/m.jpg"}
        assert not network_client(Network.PINTEREST).pkce
    auth.login(agency["owner"])
    location = start(client, agency["maya_set"], "x").location
    assert location.startswith("https://x.example/i/oauth2/authorize?")
    params = query_of(location)
    assert params["client_id"] == "x-id" and params["scope"] == "tweet.read users.read offline.access"
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == f"{BASE}/oauth/callback/x"
    assert "code_challenge" not in query_of(start(client, agency["maya_set"], "pinterest").location)


@pytest.mark.app_config(SANDBOX_BASE_URL="http://sandbox.internal:8080/")
def test_sandbox_base_url_is_used_for_server_to_server_calls(app, agency):
    """The browser goes to the public address; Roster's server may reach the sandbox elsewhere."""
    with app.test_request_context():
        client = network_client(Network.TIKTOK)
        db.session.rollback()
    assert client.authorize_url == f"{BASE}/sandbox/tiktok/authorize"
    assert client.token_url == "http://sandbox.internal:8080/sandbox/token"
    assert client.userinfo_url == "http://sandbox.internal:8080/sandbox/userinfo"


# --- already connected: transfer ------------------------------------------------------------------------


def test_a_profile_already_in_the_account_is_offered_for_transfer_and_moves_with_its_posts(client, auth, agency):
    """No duplicate: the page says what moves, and Transfer moves the profile and its posts."""
    auth.login(agency["owner"])
    connect(client, agency["maya_set"], "instagram", "maya.creates")
    [profile] = profiles_in(agency["maya_set"])
    posts = [factories.make_post(profile) for _ in range(3)]
    campaign = Campaign(access_group_id=agency["maya_group"].id, name="Summer Launch")
    db.session.add(campaign)
    db.session.flush()
    db.session.add(CampaignProfile(campaign_id=campaign.id, social_profile_id=profile.id))
    db.session.commit()

    response = connect(client, agency["jonah_set"], "instagram", "maya.creates")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "@maya.creates is already connected" in page
    assert "in “Maya Main” of Maya Lopez" in page
    assert "Its 3 posts move with it." in page
    assert "Campaign of Maya Lopez that lose it:" in page and "Summer Launch" in page
    assert profile_count() == 1  # nothing added
    offer = page.split('name="offer" value="')[1].split('"')[0]
    assert offer in session_of(client)[TRANSFER_KEY]

    moved = client.post(f"/social-sets/{agency['jonah_set'].id}/transfer", data={"offer": offer})
    assert moved.status_code == 303
    assert moved.location == f"/settings/access-groups/{agency['jonah_group'].id}"
    db.session.expire_all()
    assert (profile.social_set_id, profile.access_group_id) == (agency["jonah_set"].id, agency["jonah_group"].id)
    for post in posts:
        assert db.session.get(Post, post.id).access_group_id == agency["jonah_group"].id
    assert db.session.scalar(select(func.count()).select_from(CampaignProfile)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "profile.transferred"))
    assert event.before == {"social_set_id": agency["maya_set"].id, "access_group_id": agency["maya_group"].id}
    assert event.after["posts"] == 3
    page = client.get(moved.location).get_data(as_text=True)
    assert "Instagram profile @maya.creates moved to “Jonah Main” with its 3 posts." in page

    again = client.post(f"/social-sets/{agency['jonah_set'].id}/transfer", data={"offer": offer})
    assert again.status_code == 400  # an offer works once


def test_a_transfer_offer_only_works_for_its_set(client, auth, agency):
    """An offer made for one set does not move the profile into another."""
    auth.login(agency["owner"])
    connect(client, agency["maya_set"], "instagram", "maya.creates")
    page = connect(client, agency["jonah_set"], "instagram", "maya.creates").get_data(as_text=True)
    offer = page.split('name="offer" value="')[1].split('"')[0]
    other = factories.make_social_set(agency["jonah_group"], "Elsewhere")
    db.session.commit()
    assert client.post(f"/social-sets/{other.id}/transfer", data={"offer": offer}).status_code == 400
    assert profiles_in(agency["maya_set"])


def test_someone_who_may_not_move_the_profile_is_told_who_can(client, auth, agency):
    """Sam (a manager) sees where the profile is but may not take it from a set he did not fill."""
    auth.login(agency["owner"])
    connect(client, agency["maya_set"], "instagram", "maya.creates")
    auth.logout()
    auth.login(agency["sam"])
    page = connect(client, agency["jonah_set"], "instagram", "maya.creates").get_data(as_text=True)
    assert "Only an owner or admin, or whoever connected it, can move it" in page
    assert 'name="offer"' not in page
    assert profile_count() == 1


def test_a_profile_in_a_group_the_person_cannot_see_is_not_described(client, auth, agency):
    """The client hears only that the profile is elsewhere in the account, not where."""
    auth.login(agency["owner"])
    connect(client, agency["jonah_set"], "instagram", "maya.creates")
    auth.logout()
    auth.login(agency["maya"])
    page = connect(client, agency["maya_set"], "instagram", "maya.creates").get_data(as_text=True)
    assert "in a group you do not have access to" in page
    assert "Jonah" not in page.split('id="main"')[1]
    assert profile_count() == 1


# --- no token anywhere ----------------------------------------------------------------------------------


def test_no_token_is_ever_rendered_kept_in_the_session_or_logged(client, auth, agency, caplog):
    """Grep every page and fragment showing profiles, the flow's answers, the session and the logs."""
    caplog.set_level(logging.DEBUG)
    auth.login(agency["owner"])
    answers = []
    location = consent_location(client, agency["maya_set"])
    callback = answer_consent(client, location)
    answers.append(client.get(path_of(callback)))
    answers.append(connect(client, agency["jonah_set"], "instagram", "maya.creates"))  # the transfer offer
    answers.append(client.post(f"/social-sets/{agency['maya_set'].id}/connect", data={"network": "instagram"}))
    [profile] = profiles_in(agency["maya_set"])
    tokens = [profile.access_token, profile.refresh_token]
    group_id = agency["maya_group"].id
    pages = [f"/settings/access-groups/{group_id}", "/settings/access-groups", f"/g/{group_id}/",
             f"/g/{group_id}/profiles", f"/settings/access-groups/{group_id}?tab=profiles"]
    for path in pages:
        answers.append(client.get(path))
        answers.append(client.get(path, headers=HTMX))
    for answer in answers:
        assert answer.status_code < 500
        body = answer.get_data(as_text=True) + str(answer.headers)
        for token in tokens:
            assert token not in body
    cookie = client.get_cookie("session", domain="roster.test")
    session_text = str(session_of(client)) + (cookie.value if cookie else "")
    logged = "".join(record.getMessage() for record in caplog.records)
    for token in tokens:
        assert token not in session_text and token not in logged


# --- removing ------------------------------------------------------------------------------------------


def test_a_client_removing_a_profile_they_connected_ends_only_their_own_access(client, auth, agency):
    """Maya's removal hides it from her; the owner still has it, with its posts."""
    auth.login(agency["maya"])
    connect(client, agency["maya_set"], "instagram", "maya.creates", origin="group")
    [profile] = profiles_in(agency["maya_set"])
    factories.make_post(profile)
    db.session.commit()
    page = client.get(f"/g/{agency['maya_group'].id}/profiles").get_data(as_text=True)
    assert "Remove @maya.creates from your view?" in page
    assert "Only your own access ends" in page

    response = client.post(f"/profiles/{profile.id}/remove", data={"origin": "group"})
    assert response.status_code == 303 and response.location == f"/g/{agency['maya_group'].id}/profiles"
    page = client.get(response.location).get_data(as_text=True)
    assert "removed from your view. The agency keeps it." in page
    assert "@maya.creates</span>" not in page and ">In use<" in page
    assert db.session.get(ProfileAccessRemoval, (profile.id, agency["maya"].id)) is not None
    assert client.post(f"/profiles/{profile.id}/remove", data={"origin": "group"}).status_code == 404
    # And the slot stays taken, without saying by whom.
    refused = start(client, agency["maya_set"])
    assert refused.status_code == 422 and "maya.creates" not in refused.get_data(as_text=True)

    auth.logout()
    auth.login(agency["owner"])
    assert "@maya.creates" in client.get(f"/settings/access-groups/{agency['maya_group'].id}").get_data(as_text=True)
    assert "profile.access_removed" in audit_verbs()


def test_a_client_may_not_remove_a_profile_someone_else_connected(client, auth, agency):
    profile = factories.make_profile(agency["maya_set"])
    db.session.commit()
    auth.login(agency["maya"])
    page = client.get(f"/g/{agency['maya_group'].id}/profiles").get_data(as_text=True)
    assert "data-dialog-open=\"remove-profile-" not in page
    assert client.post(f"/profiles/{profile.id}/remove").status_code == 403
    auth.logout()
    auth.login(agency["sam"])
    assert client.post(f"/profiles/{profile.id}/remove").status_code == 403
    assert db.session.get(SocialProfile, profile.id) is not None


def test_owner_removal_disconnects_for_everyone_after_saying_how_many_posts_go(client, auth, agency):
    """The dialog counts the posts; removing deletes the profile and its posts."""
    profile = factories.make_profile(agency["maya_set"], handle="mayalopez")
    for _ in range(4):
        factories.make_post(profile)
    db.session.commit()
    profile_id = profile.id
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya_group'].id}").get_data(as_text=True)
    dialog = page.split(f'<dialog id="remove-profile-{profile_id}"')[1].split("</dialog>")[0]
    assert "Disconnect @mayalopez for everyone?" in dialog
    assert "Its 4 posts go with it and are deleted." in dialog
    response = client.post(f"/profiles/{profile_id}/remove", data={"origin": "settings"})
    assert response.status_code == 303
    assert response.location == f"/settings/access-groups/{agency['maya_group'].id}"
    db.session.expunge_all()
    assert db.session.get(SocialProfile, profile_id) is None
    assert db.session.scalar(select(func.count(Post.id))) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "profile.removed"))
    assert event.before["posts"] == 4 and event.before["handle"] == "mayalopez"


# --- refresh and reconnect ----------------------------------------------------------------------------


def connected_profile(client, auth, agency, handle: str = "maya.creates") -> SocialProfile:
    auth.login(agency["owner"])
    connect(client, agency["maya_set"], "instagram", handle)
    [profile] = profiles_in(agency["maya_set"])
    return profile


def test_an_expiring_access_token_is_refreshed_with_the_refresh_token(app, client, auth, agency):
    """Near its expiry the access token is renewed; the refresh token rotates; both stay encrypted."""
    profile = connected_profile(client, auth, agency)
    old_access, old_refresh = profile.access_token, profile.refresh_token
    profile.token_expires_at = utcnow() + timedelta(seconds=30)
    db.session.commit()
    with app.test_request_context():
        token = access_token_for(profile)
        db.session.commit()
    assert token and token != old_access
    db.session.refresh(profile)
    assert profile.access_token == token and profile.refresh_token != old_refresh
    assert profile.token_expires_at - utcnow() > timedelta(minutes=55)
    assert not profile.needs_reconnect
    assert client.get("/sandbox/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_token_far_from_expiry_is_used_as_it_is(app, client, auth, agency, transport):
    profile = connected_profile(client, auth, agency)
    calls = len(transport.calls)
    with app.test_request_context():
        assert access_token_for(profile) == profile.access_token
    assert len(transport.calls) == calls


def test_a_refused_refresh_marks_the_profile_reconnect_needed_and_reconnecting_fixes_it(app, client, auth, agency):
    """The grant was withdrawn at the network: "Reconnect needed" shows, and signing in again clears it."""
    profile = connected_profile(client, auth, agency)
    revoke_sandbox_tokens("instagram", "maya.creates")
    profile.token_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with app.test_request_context():
        assert access_token_for(profile) is None
        db.session.commit()
    db.session.refresh(profile)
    assert profile.needs_reconnect
    assert "profile.reconnect_needed" in audit_verbs()

    page = client.get(f"/settings/access-groups/{agency['maya_group'].id}").get_data(as_text=True)
    assert "Reconnect needed" in page and "Reconnect<span" in page

    # Signing in as somebody else does not touch it.
    location = client.post(f"/social-sets/{agency['maya_set'].id}/connect",
                           data={"network": "instagram", "reconnect": "y"}).location
    refused = client.get(path_of(answer_consent(client, location, handle="someone.else")))
    assert refused.status_code == 409
    assert "this slot holds @maya.creates" in refused.get_data(as_text=True)
    db.session.refresh(profile)
    assert profile.needs_reconnect

    location = client.post(f"/social-sets/{agency['maya_set'].id}/connect",
                           data={"network": "instagram", "reconnect": "y"}).location
    response = client.get(path_of(answer_consent(client, location, handle="maya.creates")))
    assert response.status_code == 303
    assert "Instagram profile @maya.creates reconnected in “Maya Main”." in client.get(
        response.location).get_data(as_text=True)
    db.session.refresh(profile)
    assert not profile.needs_reconnect and profile_count() == 1
    assert client.get("/sandbox/userinfo",
                      headers={"Authorization": f"Bearer {profile.access_token}"}).status_code == 200
    assert "profile.reconnected" in audit_verbs()


def test_reconnect_is_only_for_a_profile_that_needs_it(client, auth, agency):
    """A working profile's slot stays taken, reconnect or not."""
    connected_profile(client, auth, agency)
    response = client.post(f"/social-sets/{agency['maya_set'].id}/connect",
                           data={"network": "instagram", "reconnect": "y"})
    assert response.status_code == 422


# --- the group's slots page ----------------------------------------------------------------------------


def test_the_slots_page_runs_a_fixed_number_of_queries(client, auth, agency, count_queries):
    """However many sets and profiles, the group's slots page costs the same."""
    def measure() -> int:
        with count_queries() as counter:
            assert client.get(f"/g/{agency['maya_group'].id}/profiles").status_code == 200
        return counter.count

    factories.make_post(factories.make_profile(agency["maya_set"]))
    db.session.commit()
    auth.login(agency["owner"])
    small = measure()
    for number in range(6):
        social_set = factories.make_social_set(agency["maya_group"], f"Extra {number}")
        for network in list(Network)[:4]:
            factories.make_post(factories.make_profile(social_set, network))
    db.session.commit()
    assert measure() == small <= 9


# --- a profile's approval settings ---------------------------------------------------------------------


class Checkboxes(HTMLParser):
    """The page's checkboxes by the text of the label around each: {label text: ticked}."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.ticked: dict[str, bool] = {}
        self._label: tuple[list[str], list[bool]] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "label":
            self._label = ([], [])
        elif tag == "input" and dict(attrs).get("type") == "checkbox" and self._label is not None:
            self._label[1].append("checked" in dict(attrs))

    def handle_data(self, data):
        if self._label is not None:
            self._label[0].append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self._label is not None:
            texts, boxes = self._label
            if boxes:
                self.ticked[" ".join("".join(texts).split())] = boxes[0]
            self._label = None


def test_approval_settings_tick_and_untick_needs_client_approval(client, auth, agency):
    """The page's "Needs client approval" box says how the profile is set, and saving it turns approval on or off."""
    profile = factories.make_profile(agency["maya_set"], Network.INSTAGRAM, handle="maya")
    db.session.commit()
    url = f"/settings/access-groups/{agency['maya_group'].id}/profiles/{profile.id}/approval"
    auth.login(agency["admin"])
    maya = f"Maya {agency['maya'].email}"
    assert Checkboxes(client.get(url).get_data(as_text=True)).ticked == {"Needs client approval": False, maya: False}

    refused = client.post(url, data={"needs_approval": "y"})
    assert refused.status_code == 422 and "Choose at least one approver" in refused.get_data(as_text=True)
    assert Checkboxes(refused.get_data(as_text=True)).ticked["Needs client approval"] is True  # as it was sent

    assert client.post(url, data={"needs_approval": "y", "approvers": [agency["maya"].id]}).status_code == 303
    assert db.session.get(SocialProfile, profile.id).needs_approval is True
    assert approvals.approver_ids(profile) == [agency["maya"].id]
    assert Checkboxes(client.get(url).get_data(as_text=True)).ticked == {"Needs client approval": True, maya: True}

    assert client.post(url, data={"approvers": [agency["maya"].id]}).status_code == 303  # the box left empty
    db.session.expire_all()
    assert db.session.get(SocialProfile, profile.id).needs_approval is False and approvals.approver_ids(profile) == []
