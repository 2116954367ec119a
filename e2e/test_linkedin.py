"""Connecting LinkedIn in a browser: signing in at LinkedIn (played by a local server), then choosing
who posts, the member or a Page they administer. Screenshots of the choice go to /tmp/shots.

The local LinkedIn answers as LinkedIn's OpenID Connect sign-in and its REST API (version 202607)
do; tests/test_linkedin_contract.py checks each call's details.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import current_app
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from webapp.extensions import db
from webapp.models import SocialProfile, SocialSet

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

SHOTS = Path("/tmp/shots")
SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 900}}
SCOPES = "openid profile w_member_social w_organization_social r_organization_social rw_organization_admin"
PAGES = {2414183: ("Northstar Talent", "northstar-talent"),
         5515715: ("Harbour & Co Creative Partnerships International", "harbour-co-creative-partnerships-international")}


def _back_to_roster(request: Request) -> Response:
    """LinkedIn's consent, already given: straight back to Roster with a code."""
    query = urlencode({"code": "e2e-code", "state": request.args["state"]})
    return Response(status=302, headers={"Location": f"{request.args['redirect_uri']}?{query}"})


@pytest.fixture
def linkedin_server(tmp_path, httpserver) -> Iterator[LiveServer]:
    """The demo agency, with Roster's LinkedIn app pointed at a local LinkedIn."""
    httpserver.expect_request("/oauth/v2/authorization").respond_with_handler(_back_to_roster)
    httpserver.expect_request("/oauth/v2/accessToken", method="POST").respond_with_json(
        {"access_token": "e2e-member-token", "expires_in": 5_184_000, "scope": SCOPES.replace(" ", ",")})
    httpserver.expect_request("/v2/userinfo").respond_with_json({"sub": "e2eMember", "name": "Maya Lopez"})
    httpserver.expect_request("/rest/organizationAcls").respond_with_json({"elements": [
        {"organization": f"urn:li:organization:{page_id}", "role": "ADMINISTRATOR", "state": "APPROVED"}
        for page_id in PAGES]})
    httpserver.expect_request("/rest/organizations").respond_with_json({"results": {
        str(page_id): {"id": page_id, "localizedName": name, "vanityName": vanity}
        for page_id, (name, vanity) in PAGES.items()}})

    def use_local_linkedin() -> None:
        current_app.config.update(
            LINKEDIN_API_URL=httpserver.url_for("/").rstrip("/"),
            OAUTH_LINKEDIN_CLIENT_ID="roster-linkedin", OAUTH_LINKEDIN_CLIENT_SECRET="linkedin-app-secret",
            OAUTH_LINKEDIN_AUTHORIZE_URL=httpserver.url_for("/oauth/v2/authorization"),
            OAUTH_LINKEDIN_TOKEN_URL=httpserver.url_for("/oauth/v2/accessToken"),
            OAUTH_LINKEDIN_USERINFO_URL=httpserver.url_for("/v2/userinfo"), OAUTH_LINKEDIN_SCOPE=SCOPES,
            OAUTH_LINKEDIN_PKCE="off", OAUTH_LINKEDIN_TOKEN_AUTH="client_secret_post")

    with own_demo_server(tmp_path, use_local_linkedin) as server:
        yield server


@pytest.fixture
def base_url(linkedin_server: LiveServer) -> str:
    return linkedin_server.url


def linkedin_profiles(server: LiveServer, set_name: str) -> list[tuple[str | None, str, bool]]:
    with server.app.app_context():
        rows = db.session.execute(
            select(SocialProfile.external_id, SocialProfile.handle, SocialProfile.needs_reconnect)
            .join(SocialSet, SocialSet.id == SocialProfile.social_set_id)
            .where(SocialSet.name == set_name, SocialProfile.network == "linkedin")
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_a_creator_connects_linkedin_as_a_page_she_administers(page: Page, linkedin_server: LiveServer):
    sign_in(page, "maya@northstar.example")
    slots_url = f"/g/{linkedin_server.group_id('Maya Lopez')}/profiles"
    page.goto(slots_url)
    page.get_by_role("button", name="Add Social Profile for LinkedIn in Maya Main").click()

    expect(page.get_by_role("heading", name="Who posts on LinkedIn?", level=1)).to_be_visible()
    choices = page.get_by_role("group", name="Post as")
    expect(choices.get_by_role("radio")).to_have_count(3)
    expect(choices.get_by_role("radio", name="Yourself Maya Lopez")).not_to_be_checked()
    assert linkedin_profiles(linkedin_server, "Maya Main") == [(None, "Maya Lopez", True)]

    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"linkedin-author-{size_name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size_name

    choices.get_by_text("Harbour & Co Creative Partnerships International").click()
    page.get_by_role("button", name="Connect").click()

    expect(page).to_have_url(re.compile(re.escape(slots_url) + "$"))
    expect(page.get_by_text("LinkedIn Page @harbour-co-creative-partnerships-international connected to "
                            "“Maya Main”.")).to_be_visible()
    assert linkedin_profiles(linkedin_server, "Maya Main") == [
        ("urn:li:organization:5515715", "harbour-co-creative-partnerships-international", False)]
