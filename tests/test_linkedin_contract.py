"""LinkedIn's side of connecting a profile and publishing to it, played by a local server.

The contract follows LinkedIn's Marketing API documentation (Community Management) for the versioned
REST API, version 202607 (learn.microsoft.com, views li-lms-2026-01 to li-lms-2026-05): every REST call carries
`LinkedIn-Version: 202607` and `X-Restli-Protocol-Version: 2.0.0`; the Posts API answers 201 with the
post's URN in x-restli-id; the Images API's initializeUpload names an uploadUrl and an image URN, and the
bytes go there by PUT; the MultiImage API takes 2 to 20 images; Organization Access Control by Role
(organizationAcls, roleAssignee finder) and Organization Lookup (BATCH_GET organizations, ids=List(...))
name the Pages a member administers; errors read {"message", "serviceErrorCode", "status"}. Signing in
follows Sign In with LinkedIn using OpenID Connect (authorization code, client secret in the token
request's body, userinfo `sub`), and refreshing follows LinkedIn's programmatic refresh tokens.

Every request's method, path, headers and body are checked: ordered expectations fail the test on any
call out of place, and each test ends with `fake.done()` (all expected calls made, nothing else).
"""
from __future__ import annotations

import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    MediaItem,
    Network,
    Post,
    PostMedia,
    PostStatus,
    SocialProfile,
    utcnow,
)
from webapp.profiles import access_token_for
from webapp.publishers.linkedin import AUTHORS_KEY, little_text
from webapp.publishing import PublishReport, publish_due
from webapp.storage import media_storage

from . import factories
from .html import Html, squeeze

API_VERSION = "202607"
SCOPES = "openid profile w_member_social w_organization_social r_organization_social rw_organization_admin"
MEMBER_SUB = "782bbtaQ"
MEMBER = f"urn:li:person:{MEMBER_SUB}"
NORTHSTAR, HARBOUR = 2414183, 5515715
USERINFO = {"sub": MEMBER_SUB, "name": "Maya Lopez", "given_name": "Maya", "family_name": "Lopez",
            "picture": "https://media.licdn.com/dms/image/maya-lopez.jpg", "locale": {"language": "en", "country": "US"},
            "email": "maya@example.com", "email_verified": True}
PAGES = {NORTHSTAR: {"localizedName": "Northstar Talent", "vanityName": "northstar-talent"},
         HARBOUR: {"localizedName": "Harbour & Co", "vanityName": "harbour-co"}}


class FakeLinkedIn:
    """LinkedIn's OAuth and REST endpoints on a local server, each call expected in order."""

    def __init__(self, server) -> None:
        self.server = server

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    @staticmethod
    def rest_headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "LinkedIn-Version": API_VERSION,
                "X-Restli-Protocol-Version": "2.0.0"}

    # --- signing in

    def expect_token(self, answer: dict, status: int = 200) -> None:
        self.server.expect_ordered_request("/oauth/v2/accessToken", method="POST").respond_with_json(answer, status=status)

    def expect_userinfo(self, token: str, answer: dict = USERINFO) -> None:
        self.server.expect_ordered_request(
            "/v2/userinfo", method="GET", headers={"Authorization": f"Bearer {token}"}).respond_with_json(answer)

    def expect_acls(self, token: str, organizations: list[int]) -> None:
        elements = [{"roleAssignee": MEMBER, "state": "APPROVED", "role": "ADMINISTRATOR",
                     "organization": f"urn:li:organization:{organization}"} for organization in organizations]
        self.server.expect_ordered_request(
            "/rest/organizationAcls", method="GET", headers=self.rest_headers(token),
            query_string={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED", "start": "0", "count": "50"},
        ).respond_with_json({"paging": {"count": 50, "start": 0, "links": []}, "elements": elements})

    def expect_organizations(self, token: str, ids: list[int]) -> None:
        results = {str(page_id): {"id": page_id, **PAGES[page_id]} for page_id in ids}
        self.server.expect_ordered_request(
            "/rest/organizations", method="GET", headers=self.rest_headers(token),
            query_string=f"ids=List({','.join(str(page_id) for page_id in ids)})",
        ).respond_with_json({"results": results, "statuses": {key: 200 for key in results}, "errors": {}})

    # --- publishing

    def expect_image(self, token: str, owner: str, number: int, data: bytes) -> str:
        """initializeUpload for `owner`, then the PUT of exactly `data`; returns the image's URN."""
        image = f"urn:li:image:C4E10AQ{number}"
        self.server.expect_ordered_request(
            "/rest/images", method="POST", headers=self.rest_headers(token),
            query_string={"action": "initializeUpload"}, json={"initializeUploadRequest": {"owner": owner}},
        ).respond_with_json({"value": {"uploadUrlExpiresAt": 1_900_000_000_000,
                                       "uploadUrl": self.url(f"/dms-uploads/{number}/uploaded-image"),
                                       "image": image}})
        self.server.expect_ordered_request(
            f"/dms-uploads/{number}/uploaded-image", method="PUT", headers={"Authorization": f"Bearer {token}"},
            data=data,
        ).respond_with_data("", status=201)
        return image

    def expect_post(self, token: str, body: dict, status: int = 201, answer: dict | None = None,
                    headers: dict | None = None, urn: str = "urn:li:share:7123456789012345678") -> None:
        self.server.expect_ordered_request(
            "/rest/posts", method="POST", headers={**self.rest_headers(token), "Content-Type": "application/json"},
            json=body,
        ).respond_with_data(
            json.dumps(answer) if answer is not None else "", status=status, content_type="application/json",
            headers={"x-restli-id": urn, **(headers or {})} if status == 201 else (headers or {}))

    def requests_made(self) -> int:
        return len(self.server.log)

    def done(self) -> None:
        """Every expected call was made, and none out of place."""
        self.server.check_assertions()
        assert not self.server.ordered_handlers, f"calls LinkedIn never got: {self.server.ordered_handlers}"


@pytest.fixture
def fake(app, httpserver) -> FakeLinkedIn:
    """Roster's LinkedIn app, every address of it on the local server."""
    linkedin = FakeLinkedIn(httpserver)
    app.config.update(
        LINKEDIN_API_URL=linkedin.url("/").rstrip("/"), LINKEDIN_API_VERSION=API_VERSION,
        OAUTH_LINKEDIN_CLIENT_ID="roster-linkedin", OAUTH_LINKEDIN_CLIENT_SECRET="linkedin-app-secret",
        OAUTH_LINKEDIN_AUTHORIZE_URL=linkedin.url("/oauth/v2/authorization"),
        OAUTH_LINKEDIN_TOKEN_URL=linkedin.url("/oauth/v2/accessToken"),
        OAUTH_LINKEDIN_USERINFO_URL=linkedin.url("/v2/userinfo"), OAUTH_LINKEDIN_SCOPE=SCOPES,
        OAUTH_LINKEDIN_PKCE="off", OAUTH_LINKEDIN_TOKEN_AUTH="client_secret_post",
    )
    return linkedin


@pytest.fixture
def agency(app):
    """Northstar: the owner, a group with two sets ("Maya Main" empty, "Maya Extra" for what is elsewhere)."""
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    world = {"owner": factories.owner_of(account), "group": group,
             "main": factories.make_social_set(group, "Maya Main"),
             "extra": factories.make_social_set(group, "Maya Extra")}
    factories.add_to_group(world["owner"], group)
    db.session.commit()
    return world


def stored(model, *conditions) -> list:
    """Rows as the database has them now, whatever this session saw before."""
    return list(db.session.scalars(
        select(model).where(*conditions).order_by(model.id).execution_options(populate_existing=True)))


def linkedin_profile(social_set, author: str, handle: str = "Maya Lopez", token: str = "member-token") -> SocialProfile:
    profile = factories.make_profile(social_set, Network.LINKEDIN, handle)
    profile.external_id = author
    profile.access_token = token
    profile.refresh_token = "refresh-1"
    profile.token_expires_at = utcnow() + timedelta(days=50)
    return profile


def due_post(profile: SocialProfile, caption: str) -> Post:
    return factories.make_post(profile, PostStatus.SCHEDULED, in_days=-5 / (24 * 60), caption=caption)


def image_bytes(colour: str, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(out, kind)
    return out.getvalue()


def attach(post: Post, data: bytes, alt_text: str | None, position: int, content_type: str = "image/png") -> MediaItem:
    item = MediaItem(access_group_id=post.access_group_id, name=f"image-{position}", kind="image",
                     content_type=content_type, byte_size=len(data), width=4, height=3,
                     storage_key=media_storage().save(data, ".png"), alt_text=alt_text)
    db.session.add(item)
    db.session.flush()
    db.session.add(PostMedia(post_id=post.id, media_item_id=item.id, position=position))
    return item


def post_body(author: str, commentary: str, content: dict | None = None) -> dict:
    body = {"author": author, "commentary": commentary, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
    if content is not None:
        body["content"] = content
    return body


# --- publishing ---------------------------------------------------------------------------------------


def test_a_member_publishes_a_text_post_with_its_reserved_characters_escaped(agency, fake):
    """One POST /rest/posts as the member: the caption in LinkedIn's little format, hashtags kept."""
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "Launch day (finally)! Ask @ 9am #OpenSource [beta] a_b ~ *new* "
                             "https://example.com/a_b#top")
    db.session.commit()
    urn = "urn:li:share:7123456789012345678"
    fake.expect_post("member-token", post_body(
        MEMBER, "Launch day \\(finally\\)! Ask \\@ 9am #OpenSource \\[beta\\] a\\_b \\~ \\*new\\* "
                "https://example.com/a_b#top"), urn=urn)
    now = utcnow()

    assert publish_due(now=now) == PublishReport(published=1)

    fake.done()
    [post] = stored(Post, Post.id == post.id)
    assert (post.status, post.external_id, post.publish_error) == ("published", urn, None)
    assert post.external_url == f"https://www.linkedin.com/feed/update/{urn}"


def test_the_little_format_escapes_every_reserved_character_but_hashtags_and_address_parts():
    assert little_text("a|b {c} [d] (e) <f> \\ g @h #i # j *k* _l_ ~m") == \
        "a\\|b \\{c\\} \\[d\\] \\(e\\) \\<f\\> \\\\ g \\@h #i \\# j \\*k\\* \\_l\\_ \\~m"
    # In an address LinkedIn links, _ # @ stay; a parenthesis would still cut the post short.
    assert little_text("see https://en.wikipedia.org/wiki/Foo_(bar)#x_y and @me") == \
        "see https://en.wikipedia.org/wiki/Foo_\\(bar\\)#x_y and \\@me"


def test_a_page_publishes_two_images_with_their_alt_text(agency, fake):
    """initializeUpload and PUT for each image in the post's order, then one post with multiImage."""
    author = f"urn:li:organization:{NORTHSTAR}"
    profile = linkedin_profile(agency["main"], author, "northstar-talent", token="page-admin-token")
    post = due_post(profile, "Two new faces on the roster")
    first, second = image_bytes("red"), image_bytes("blue")
    # Stored in the other order than they show: the post's positions decide.
    attach(post, second, "Leo on stage", position=1)
    attach(post, first, "Maya at the studio", position=0)
    db.session.commit()
    image_one = fake.expect_image("page-admin-token", author, 1, first)
    image_two = fake.expect_image("page-admin-token", author, 2, second)
    fake.expect_post("page-admin-token", post_body(author, "Two new faces on the roster", {"multiImage": {"images": [
        {"id": image_one, "altText": "Maya at the studio"}, {"id": image_two, "altText": "Leo on stage"}]}}),
        urn="urn:li:share:7000000000000000001")

    assert publish_due(now=utcnow()) == PublishReport(published=1)

    fake.done()
    [post] = stored(Post, Post.id == post.id)
    assert (post.status, post.external_id) == ("published", "urn:li:share:7000000000000000001")


def test_one_image_goes_as_media_and_a_webp_is_sent_as_png(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "")
    attach(post, image_bytes("green", "WEBP"), None, position=0, content_type="image/webp")
    db.session.commit()
    png = io.BytesIO()
    with Image.open(io.BytesIO(image_bytes("green", "WEBP"))) as image:
        image.save(png, "PNG")
    image = fake.expect_image("member-token", MEMBER, 1, png.getvalue())
    fake.expect_post("member-token", post_body(MEMBER, "", {"media": {"id": image}}))

    assert publish_due(now=utcnow()) == PublishReport(published=1)

    fake.done()
    [put] = [request for request, _ in fake.server.log if request.method == "PUT"]
    assert put.get_data().startswith(b"\x89PNG")


def test_a_video_is_refused_before_anything_is_sent(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "Reel")
    attach(post, b"not really a video", None, position=0, content_type="video/mp4").kind = "video"
    db.session.commit()

    assert publish_due(now=utcnow()) == PublishReport(failed=1, given_up=1)

    assert fake.requests_made() == 0
    [post] = stored(Post, Post.id == post.id)
    assert post.status == "scheduled" and post.next_publish_at is None
    assert post.publish_error.startswith("Roster does not send videos to LinkedIn yet")


def test_a_token_linkedin_no_longer_takes_marks_the_profile_reconnect_needed(client, auth, agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "Hello")
    db.session.commit()
    fake.expect_post("member-token", post_body(MEMBER, "Hello"), status=401,
                     answer={"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                             "message": "The token used in the request has been revoked by the user"})

    assert publish_due(now=utcnow()) == PublishReport(failed=1, given_up=1)

    fake.done()
    [post], [profile] = stored(Post, Post.id == post.id), stored(SocialProfile, SocialProfile.id == profile.id)
    assert profile.needs_reconnect
    assert post.next_publish_at is None, "not retried until someone reconnects the profile"
    assert post.publish_error == ("LinkedIn no longer accepts this profile's sign-in: reconnect it. (The token used "
                                  "in the request has been revoked by the user (LinkedIn error 65601))")
    auth.login(agency["owner"])
    slots = Html(client.get(f"/g/{agency['group'].id}/profiles"))
    assert slots.by_role("button", "Reconnect @Maya Lopez")


def test_a_rate_limit_is_waited_out_no_sooner_than_linkedin_asked(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "Hello")
    db.session.commit()
    fake.expect_post("member-token", post_body(MEMBER, "Hello"), status=429, headers={"Retry-After": "600"},
                     answer={"status": 429, "serviceErrorCode": 101,
                             "message": "Resource level throttle MEMBER DAY limit for calls to this resource is reached."})
    now = utcnow()

    assert publish_due(now=now) == PublishReport(failed=1)

    [post] = stored(Post, Post.id == post.id)
    assert post.next_publish_at == now + timedelta(seconds=600)
    assert post.publish_error == ("LinkedIn asked Roster to slow down: Resource level throttle MEMBER DAY limit for "
                                  "calls to this resource is reached. (LinkedIn error 101).")
    assert publish_due(now=now + timedelta(seconds=599)) == PublishReport()
    assert fake.requests_made() == 1, "nothing sent before the wait is over"

    fake.expect_post("member-token", post_body(MEMBER, "Hello"), urn="urn:li:share:7000000000000000002")
    assert publish_due(now=now + timedelta(seconds=600)) == PublishReport(published=1)
    fake.done()
    [post] = stored(Post, Post.id == post.id)
    assert (post.status, post.external_id) == ("published", "urn:li:share:7000000000000000002")


def test_a_post_linkedin_refuses_shows_its_message_and_is_not_retried(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "x" * 3001)
    db.session.commit()
    fake.expect_post("member-token", post_body(MEMBER, "x" * 3001), status=422, answer={
        "status": 422, "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": "ERROR :: /commentary :: length of 3001 exceeds maximum length of 3000"})

    assert publish_due(now=utcnow()) == PublishReport(failed=1, given_up=1)

    fake.done()
    [post] = stored(Post, Post.id == post.id)
    assert post.publish_error == ("LinkedIn refused the post: ERROR :: /commentary :: length of 3001 exceeds "
                                  "maximum length of 3000")
    assert post.next_publish_at is None and post.status == "scheduled"


def test_a_sunset_api_version_says_which_setting_to_change(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER)
    post = due_post(profile, "Hello")
    db.session.commit()
    fake.expect_post("member-token", post_body(MEMBER, "Hello"), status=426, answer={
        "status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 202607 is not active"})

    assert publish_due(now=utcnow()) == PublishReport(failed=1, given_up=1)

    fake.done()
    [post] = stored(Post, Post.id == post.id)
    assert post.publish_error == ("LinkedIn refused the post: it no longer serves API version 202607; set "
                                  "LINKEDIN_API_VERSION to a current one (YYYYMM)")


def test_an_expired_access_token_is_refreshed_before_publishing(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER, token="old-token")
    profile.token_expires_at = utcnow() - timedelta(minutes=1)
    post = due_post(profile, "Hello")
    db.session.commit()
    fake.expect_token({"access_token": "fresh-token", "expires_in": 5_184_000, "refresh_token": "refresh-2",
                       "refresh_token_expires_in": 31_536_000, "scope": SCOPES})
    fake.expect_post("fresh-token", post_body(MEMBER, "Hello"))

    assert publish_due(now=utcnow()) == PublishReport(published=1)

    fake.done()
    refresh = parse_qs(fake.server.log[0][0].get_data(as_text=True))
    assert {name: values[0] for name, values in refresh.items() if name != "scope"} == {
        "grant_type": "refresh_token", "refresh_token": "refresh-1",
        "client_id": "roster-linkedin", "client_secret": "linkedin-app-secret"}
    [profile] = stored(SocialProfile, SocialProfile.id == profile.id)
    assert (profile.access_token, profile.refresh_token, profile.needs_reconnect) == ("fresh-token", "refresh-2", False)
    assert timedelta(days=59) < profile.token_expires_at - utcnow() <= timedelta(days=60)
    [post] = stored(Post, Post.id == post.id)
    assert post.status == "published"


def test_a_refreshed_token_is_kept_even_when_the_post_fails(agency, fake):
    """LinkedIn may rotate the refresh token: it is saved before the post is tried."""
    profile = linkedin_profile(agency["main"], MEMBER, token="old-token")
    profile.token_expires_at = utcnow() - timedelta(minutes=1)
    due_post(profile, "Hello")
    db.session.commit()
    fake.expect_token({"access_token": "fresh-token", "expires_in": 5_184_000, "refresh_token": "refresh-2"})
    fake.expect_post("fresh-token", post_body(MEMBER, "Hello"), status=503, answer={"status": 503, "message": "busy"})

    assert publish_due(now=utcnow()) == PublishReport(failed=1)

    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.id == profile.id)
    assert (profile.access_token, profile.refresh_token) == ("fresh-token", "refresh-2")


def test_a_refused_refresh_marks_the_profile_reconnect_needed(agency, fake):
    profile = linkedin_profile(agency["main"], MEMBER, token="old-token")
    profile.token_expires_at = utcnow() - timedelta(minutes=1)
    post = due_post(profile, "Hello")
    db.session.commit()
    fake.expect_token({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"},
                      status=400)

    assert publish_due(now=utcnow()) == PublishReport(failed=1, given_up=1)

    fake.done()
    [post], [profile] = stored(Post, Post.id == post.id), stored(SocialProfile, SocialProfile.id == profile.id)
    assert profile.needs_reconnect and profile.access_token == "old-token"
    assert post.publish_error == "LinkedIn no longer accepts this profile's sign-in: reconnect it."
    assert access_token_for(profile) is None


# --- connecting: who posts --------------------------------------------------------------------------


def start(client, fake, social_set, reconnect: bool = False) -> str:
    """Press Add (or Reconnect) on the LinkedIn slot; returns the state LinkedIn is sent."""
    data = {"network": "linkedin", "origin": "group", **({"reconnect": "y"} if reconnect else {})}
    response = client.post(f"/social-sets/{social_set.id}/connect", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.startswith(fake.url("/oauth/v2/authorization") + "?")
    params = {name: values[0] for name, values in parse_qs(urlsplit(response.location).query).items()}
    assert params["client_id"] == "roster-linkedin" and params["response_type"] == "code"
    assert params["redirect_uri"] == "http://roster.test/oauth/callback/linkedin"
    assert params["scope"] == SCOPES and "code_challenge" not in params
    return params["state"]


def signed_in(fake, token: str, scope: str = SCOPES.replace(" ", ",")) -> None:
    """LinkedIn trades the code for the member's token, then says who they are."""
    fake.expect_token({"access_token": token, "expires_in": 5_184_000, "refresh_token": "refresh-1",
                       "refresh_token_expires_in": 31_536_000, "scope": scope})
    fake.expect_userinfo(token)


def callback(client, state: str):
    return client.get(f"/oauth/callback/linkedin?code=linkedin-code&state={state}")


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def test_a_page_administrator_chooses_to_post_as_one_of_their_pages(client, auth, agency, fake):
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token")
    fake.expect_acls("member-token", [NORTHSTAR, HARBOUR])

    answer = callback(client, state)

    assert answer.status_code == 303
    picker_url = answer.location
    assert picker_url.startswith(f"/social-sets/{agency['main'].id}/linkedin/author?choice=")
    exchange = parse_qs(fake.server.log[0][0].get_data(as_text=True))
    assert {name: values[0] for name, values in exchange.items()} == {
        "grant_type": "authorization_code", "code": "linkedin-code",
        "redirect_uri": "http://roster.test/oauth/callback/linkedin",
        "client_id": "roster-linkedin", "client_secret": "linkedin-app-secret"}
    [waiting] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert (waiting.external_id, waiting.needs_reconnect, waiting.handle) == (None, True, "Maya Lopez")
    raw = db.session.execute(text("SELECT access_token FROM social_profiles WHERE id = :id"), {"id": waiting.id}).scalar()
    assert b"member-token" not in bytes(raw) and waiting.access_token == "member-token"
    assert "member-token" not in json.dumps(session_of(client), default=str)

    fake.expect_organizations("member-token", [NORTHSTAR, HARBOUR])
    page = Html(client.get(picker_url))
    assert squeeze(page.by_role("heading", "Who posts on LinkedIn?").text()) == "Who posts on LinkedIn?"
    assert [page.name_of(radio) for radio in page.all_by_role("radio")] == [
        "Yourself Maya Lopez", "Northstar Talent linkedin.com/company/northstar-talent",
        "Harbour & Co linkedin.com/company/harbour-co"]
    assert page.checked("author") == []

    fake.expect_organizations("member-token", [HARBOUR])
    choice = page.hidden_value("choice")
    answer = client.post(picker_url, data={"choice": choice, "author": str(HARBOUR)})

    assert answer.status_code == 303 and answer.location == f"/g/{agency['group'].id}/profiles"
    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert (profile.id, profile.external_id, profile.handle, profile.display_name, profile.avatar_url) == (
        waiting.id, f"urn:li:organization:{HARBOUR}", "harbour-co", "Harbour & Co", None)
    assert (profile.needs_reconnect, profile.access_token, profile.refresh_token) == (False, "member-token", "refresh-1")
    assert Html(client.get(answer.location)).has_text("LinkedIn Page @harbour-co connected to “Maya Main”.")
    [event] = stored(AuditEvent, AuditEvent.verb == "profile.connected")
    assert event.after == {"network": "linkedin", "handle": "harbour-co", "social_set_id": agency["main"].id,
                           "access_group_id": agency["group"].id, "author": "page"}
    assert not session_of(client).get(AUTHORS_KEY)

    again = client.post(picker_url, data={"choice": choice, "author": str(HARBOUR)})
    assert again.status_code == 400
    assert Html(again).has_text("This choice of who posts is no longer valid.")


def test_posting_as_yourself_needs_no_page_lookup(client, auth, agency, fake):
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token")
    fake.expect_acls("member-token", [NORTHSTAR])
    picker_url = callback(client, state).location
    fake.expect_organizations("member-token", [NORTHSTAR])
    choice = Html(client.get(picker_url)).hidden_value("choice")

    answer = client.post(picker_url, data={"choice": choice, "author": "me"})

    assert answer.status_code == 303
    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert (profile.external_id, profile.handle, profile.display_name, profile.avatar_url) == (
        MEMBER, "Maya Lopez", "Maya Lopez", USERINFO["picture"])


def test_an_answer_not_offered_is_asked_again(client, auth, agency, fake):
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token")
    fake.expect_acls("member-token", [NORTHSTAR])
    picker_url = callback(client, state).location
    fake.expect_organizations("member-token", [NORTHSTAR])
    choice = Html(client.get(picker_url)).hidden_value("choice")
    fake.expect_organizations("member-token", [NORTHSTAR])

    answer = client.post(picker_url, data={"choice": choice, "author": "999"})

    assert answer.status_code == 422
    assert Html(answer).by_role("alert").text().strip() == "Choose who posts: yourself or one of your Pages."
    fake.done()
    [waiting] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert waiting.external_id is None and session_of(client)[AUTHORS_KEY], "the choice is still open"


def test_a_member_without_page_rights_is_connected_as_themselves(client, auth, agency, fake):
    """No rw_organization_admin granted: no Pages to ask about, so no picker and no ACL call."""
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token", scope="openid,profile,w_member_social")

    answer = callback(client, state)

    assert answer.status_code == 303 and answer.location == f"/g/{agency['group'].id}/profiles"
    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert (profile.external_id, profile.handle, profile.needs_reconnect) == (MEMBER, "Maya Lopez", False)


def test_an_author_already_in_the_account_is_offered_as_a_transfer(client, auth, agency, fake):
    elsewhere = linkedin_profile(agency["extra"], MEMBER)
    db.session.commit()
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token")
    fake.expect_acls("member-token", [NORTHSTAR])
    picker_url = callback(client, state).location
    fake.expect_organizations("member-token", [NORTHSTAR])
    choice = Html(client.get(picker_url)).hidden_value("choice")

    answer = client.post(picker_url, data={"choice": choice, "author": "me"})

    assert answer.status_code == 200
    page = Html(answer)
    assert page.has_text("@Maya Lopez is already connected")
    assert page.by_role("button", "Transfer here")
    assert stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id) == [], "the waiting profile gave way"
    assert [profile.id for profile in stored(SocialProfile)] == [elsewhere.id]
    fake.done()


def test_a_page_is_reconnected_only_by_one_of_its_administrators(client, auth, agency, fake):
    page_profile = linkedin_profile(agency["main"], f"urn:li:organization:{NORTHSTAR}", "northstar-talent",
                                    token="old-token")
    page_profile.needs_reconnect = True
    db.session.commit()
    auth.login(agency["owner"])

    state = start(client, fake, agency["main"], reconnect=True)
    signed_in(fake, "other-token")
    fake.expect_acls("other-token", [HARBOUR])
    refused = callback(client, state)
    assert refused.status_code == 409
    assert Html(refused).has_text("does not administer the Page @northstar-talent")
    [kept] = stored(SocialProfile, SocialProfile.id == page_profile.id)
    assert (kept.access_token, kept.needs_reconnect) == ("old-token", True)

    state = start(client, fake, agency["main"], reconnect=True)
    signed_in(fake, "admin-token")
    fake.expect_acls("admin-token", [HARBOUR, NORTHSTAR])
    answer = callback(client, state)
    assert answer.status_code == 303
    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.id == page_profile.id)
    assert (profile.access_token, profile.needs_reconnect, profile.handle, profile.external_id) == (
        "admin-token", False, "northstar-talent", f"urn:li:organization:{NORTHSTAR}")


def test_a_choice_left_for_later_is_asked_again_on_reconnecting(client, auth, agency, fake):
    auth.login(agency["owner"])
    state = start(client, fake, agency["main"])
    signed_in(fake, "member-token")
    fake.expect_acls("member-token", [NORTHSTAR])
    callback(client, state)
    slots = Html(client.get(f"/g/{agency['group'].id}/profiles"))
    assert slots.has_text("Reconnect needed")

    state = start(client, fake, agency["main"], reconnect=True)
    signed_in(fake, "newer-token")
    fake.expect_acls("newer-token", [NORTHSTAR])
    picker_url = callback(client, state).location
    fake.expect_organizations("newer-token", [NORTHSTAR])
    choice = Html(client.get(picker_url)).hidden_value("choice")
    fake.expect_organizations("newer-token", [NORTHSTAR])
    assert client.post(picker_url, data={"choice": choice, "author": str(NORTHSTAR)}).status_code == 303

    fake.done()
    [profile] = stored(SocialProfile, SocialProfile.social_set_id == agency["main"].id)
    assert (profile.external_id, profile.access_token, profile.needs_reconnect) == (
        f"urn:li:organization:{NORTHSTAR}", "newer-token", False)
    assert [event.verb for event in stored(AuditEvent, AuditEvent.object_type == "social_profile")] == [
        "profile.connected"], "connected once it knows who posts"


def test_the_picker_of_another_tenant_is_not_found(client, auth, agency, fake):
    rival = factories.make_account("Rival")
    db.session.commit()
    auth.login(factories.owner_of(rival))
    assert client.get(f"/social-sets/{agency['main'].id}/linkedin/author?choice=x").status_code == 404
    assert client.post(f"/social-sets/{agency['main'].id}/linkedin/author",
                       data={"choice": "x", "author": "me"}).status_code == 404
