"""Facebook Pages and Instagram: connecting through the Page picker and publishing, against Meta's
Graph API v23.0.

pytest-httpserver plays graph.facebook.com (GRAPH_API_URL points at it; GRAPH_API_VERSION is v23.0).
Each test scripts Graph's answers in the order Roster should ask, then checks every request Roster
made: its method, its path with the version, the access token it sent and every other parameter.
The contract is Graph API v23.0 as documented: Facebook Login's code exchange and long-lived tokens,
GET /me/accounts, the Pages API (/{page-id}/feed, /{page-id}/photos), Instagram content publishing
(/{ig-user-id}/content_publishing_limit, /{ig-user-id}/media, /{container-id}?fields=status_code,
/{ig-user-id}/media_publish, /{media-id}?fields=permalink) and Graph's error handling (code 190 for a
dead token, 4, 17, 32 and 613 for rate limits, whatever the HTTP status).
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from webapp import crypto, media_links
from webapp.extensions import db
from webapp.models import (
    Network,
    Post,
    PostMedia,
    PostStatus,
    Role,
    SocialProfile,
    utcnow,
)
from webapp.networks import network_client, network_setup
from webapp.page_picker import PAGE_FIELDS, PICKER_KEY
from webapp.profiles import PENDING_KEY
from webapp.publishers import instagram
from webapp.publishing import PublishReport, publish_due

from . import factories
from .html import Html

VERSION = "v23.0"
META_APP = {"OAUTH_FACEBOOK_CLIENT_ID": "roster-meta-app", "OAUTH_FACEBOOK_CLIENT_SECRET": "meta-app-secret"}
ROSTER = "http://roster.test"

MAYA_PAGE = {
    "id": "1111", "name": "Maya Lopez Studio", "access_token": "PAGE-TOKEN-1111",
    "picture": {"data": {"url": "https://scontent.example/maya-page.jpg", "is_silhouette": False}},
    "instagram_business_account": {"id": "17841400000001111", "username": "maya.creates",
                                   "profile_picture_url": "https://scontent.example/maya-ig.jpg"},
}
JONAH_PAGE = {
    "id": "2222", "name": "Jonah Reed Music", "access_token": "PAGE-TOKEN-2222",
    "picture": {"data": {"url": "https://scontent.example/jonah-page.jpg", "is_silhouette": False}},
}
ACCOUNTS = {"data": [MAYA_PAGE, JONAH_PAGE], "paging": {"cursors": {"before": "QVFIUb", "after": "QVFIUa"}}}


class FakeGraph:
    """The Graph API at a local server: answers given in order, every request kept."""

    def __init__(self, server) -> None:
        self.server = server

    def answers(self, method: str, path: str, answer: dict, status: int = 200, headers: dict | None = None) -> None:
        """Graph's next request must be `method` /v23.0/`path`; it gets `answer`."""
        self.server.expect_ordered_request(f"/{VERSION}/{path}", method=method).respond_with_json(
            answer, status=status, headers=headers or {})

    @property
    def requests(self) -> list[tuple[str, str, dict]]:
        """(method, path, parameters) of each request Graph got: a GET's query, a POST's form."""
        return [(request.method, request.path, (request.args if request.method == "GET" else request.form).to_dict())
                for request, _ in self.server.log]

    def header(self, number: int, name: str) -> str | None:
        return self.server.log[number][0].headers.get(name)


@pytest.fixture
def graph(app, httpserver):
    app.config.update(GRAPH_API_URL=httpserver.url_for("/").rstrip("/"), GRAPH_API_VERSION=VERSION, **META_APP)
    fake = FakeGraph(httpserver)
    yield fake
    httpserver.check_assertions()  # a request Graph was not told to expect fails here
    assert not httpserver.ordered_handlers, "Roster did not make every call the test expected"


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    world = {"account": account, "group": group, "owner": factories.owner_of(account),
             "maya": factories.make_member(account, Role.CLIENT, groups=[group], name="Maya"),
             "set": factories.make_social_set(group, "Maya Main"),
             "other_set": factories.make_social_set(group, "Maya Music")}
    db.session.commit()
    return world


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def stored(post: Post) -> Post:
    return db.session.scalars(select(Post).where(Post.id == post.id).execution_options(populate_existing=True)).one()


def stored_profile(profile_id: int) -> SocialProfile:
    return db.session.scalars(select(SocialProfile).where(SocialProfile.id == profile_id)
                              .execution_options(populate_existing=True)).one()


# --- settings ---------------------------------------------------------------------------------------


@pytest.mark.app_config(SANDBOX_PROVIDER=False)
def test_instagram_signs_in_with_facebooks_client_unless_it_has_its_own(app):
    """Facebook needs only its client id and secret (Facebook Login at GRAPH_API_VERSION); Instagram,
    with no client of its own, uses Facebook's and says so when neither is set."""
    with app.test_request_context():
        assert network_setup(Network.INSTAGRAM).hint == (
            "Set OAUTH_FACEBOOK_CLIENT_ID and _CLIENT_SECRET to connect Instagram through Facebook Login.")
        app.config.update(META_APP, GRAPH_API_VERSION="v24.0")
        client = network_client(Network.INSTAGRAM)
        assert (client.network, client.client_id, client.client_secret, client.token_auth) == (
            Network.INSTAGRAM, "roster-meta-app", "meta-app-secret", "client_secret_post")
        assert client.authorize_url == "https://www.facebook.com/v24.0/dialog/oauth"
        assert client.token_url == "https://graph.facebook.com/v24.0/oauth/access_token"
        assert client.userinfo_url == "https://graph.facebook.com/v24.0/me?fields=id,name"
        app.config.update(OAUTH_INSTAGRAM_CLIENT_ID="ig-app", OAUTH_INSTAGRAM_CLIENT_SECRET="ig-secret")
        setup = network_setup(Network.INSTAGRAM)
        assert not setup.ready and setup.hint == (
            "Set OAUTH_INSTAGRAM_AUTHORIZE_URL, _TOKEN_URL and _USERINFO_URL to connect Instagram.")


# --- connecting: Facebook Login, then the Page picker ------------------------------------------------


def sign_in_with_facebook(client, graph, social_set, network: str, reconnect: bool = False, pages: dict | None = None):
    """Add (or Reconnect) on the slot, Facebook's consent, and back to Roster's callback (where Graph
    lists `pages` when given); returns the callback's answer and the requests Roster should have
    made to sign in."""
    response = client.post(f"/social-sets/{social_set.id}/connect",
                           data={"network": network, "origin": "group", **({"reconnect": "y"} if reconnect else {})})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.startswith(f"https://www.facebook.com/{VERSION}/dialog/oauth?")
    params = query_of(response.location)
    assert params["client_id"] == "roster-meta-app" and params["response_type"] == "code"
    assert params["redirect_uri"] == f"{ROSTER}/oauth/callback/{network}"
    assert params["scope"] == ("pages_show_list,pages_read_engagement,pages_manage_posts,instagram_basic,"
                               "instagram_content_publish,business_management")
    verifier = session_of(client)[PENDING_KEY][params["state"]]["verifier"]
    graph.answers("POST", "oauth/access_token", {"access_token": "SHORT-USER-TOKEN", "token_type": "bearer",
                                                 "expires_in": 3600})
    graph.answers("GET", "me", {"id": "10150001", "name": "Maya Lopez"})
    graph.answers("POST", "oauth/access_token", {"access_token": "LONG-USER-TOKEN", "token_type": "bearer",
                                                 "expires_in": 5183944})
    if pages is not None:
        graph.answers("GET", "me/accounts", pages)
    answer = client.get(f"/oauth/callback/{network}?state={params['state']}&code=the-code")
    expected = [
        ("POST", f"/{VERSION}/oauth/access_token", {
            "grant_type": "authorization_code", "code": "the-code", "redirect_uri": f"{ROSTER}/oauth/callback/{network}",
            "client_id": "roster-meta-app", "client_secret": "meta-app-secret", "code_verifier": verifier}),
        ("GET", f"/{VERSION}/me", {"fields": "id,name"}),
        ("POST", f"/{VERSION}/oauth/access_token", {
            "grant_type": "fb_exchange_token", "client_id": "roster-meta-app", "client_secret": "meta-app-secret",
            "fb_exchange_token": "SHORT-USER-TOKEN"}),
    ]
    return answer, expected


LIST_PAGES = ("GET", f"/{VERSION}/me/accounts", {"fields": PAGE_FIELDS, "limit": "100",
                                                 "access_token": "LONG-USER-TOKEN"})


def test_facebook_login_then_the_picker_stores_the_chosen_page_with_its_token_encrypted(client, auth, agency, graph):
    """Add on a Facebook slot → Facebook Login → the picker lists the Pages → the chosen Page is the profile,
    its own (never-expiring) Page token encrypted at rest; the session only ever held ciphertext."""
    auth.login(agency["maya"])
    callback, signing_in = sign_in_with_facebook(client, graph, agency["set"], "facebook")

    assert callback.status_code == 303
    picker_url = callback.location
    assert urlsplit(picker_url).path == f"/social-sets/{agency['set'].id}/connect/facebook/choose"
    picker_id = query_of(picker_url)["picker"]
    assert graph.requests == signing_in
    assert graph.header(1, "Authorization") == "Bearer SHORT-USER-TOKEN"
    entry = session_of(client)[PICKER_KEY][picker_id]
    assert crypto.decrypt(entry["user_token"].encode()) == "LONG-USER-TOKEN"
    assert entry["signed_in_as"] == "Maya Lopez" and entry["social_set_id"] == agency["set"].id
    assert not any(token in json.dumps(session_of(client))
                   for token in ("SHORT-USER-TOKEN", "LONG-USER-TOKEN", "PAGE-TOKEN"))

    graph.answers("GET", "me/accounts", ACCOUNTS)
    shown = client.get(picker_url)
    assert "PAGE-TOKEN" not in shown.get_data(as_text=True)
    page = Html(shown)
    assert page.by_role("heading", "Choose a Facebook Page") is not None
    assert page.has_text("You signed in to Facebook as Maya Lopez.")
    radios = page.all_by_role("radio")
    assert [page.name_of(radio) for radio in radios] == ["Maya Lopez Studio", "Jonah Reed Music"]
    assert [radio.attributes["value"] for radio in radios] == ["1111", "2222"]

    graph.answers("GET", "me/accounts", ACCOUNTS)
    chosen = client.post(picker_url, data={"choice": "1111"})
    assert chosen.status_code == 303 and chosen.location == f"/g/{agency['group'].id}/profiles"
    assert Html(client.get(chosen.location)).has_text(
        "Facebook profile @Maya Lopez Studio connected to “Maya Main”.")
    assert graph.requests == [*signing_in, LIST_PAGES, LIST_PAGES]

    profile = db.session.scalars(select(SocialProfile).where(SocialProfile.social_set_id == agency["set"].id)).one()
    assert (profile.network, profile.external_id, profile.handle, profile.display_name) == (
        "facebook", "1111", "Maya Lopez Studio", "Maya Lopez Studio")
    assert profile.avatar_url == "https://scontent.example/maya-page.jpg"
    assert profile.access_token == "PAGE-TOKEN-1111" and profile.token_expires_at is None
    assert profile.connected_by_id == agency["maya"].id
    raw = db.session.execute(text("SELECT access_token FROM social_profiles WHERE id = :id"), {"id": profile.id}).scalar()
    assert b"PAGE-TOKEN-1111" not in bytes(raw)
    # The choice was used up: sending it again changes nothing.
    assert PICKER_KEY not in session_of(client) or not session_of(client)[PICKER_KEY]
    again = client.post(picker_url, data={"choice": "2222"})
    assert again.status_code == 400 and "no longer valid" in again.get_data(as_text=True)


def test_an_instagram_slot_signs_in_with_facebook_and_picks_the_linked_account(client, auth, agency, graph):
    """With no Instagram client of its own, Instagram's Add starts Facebook Login; the picker lists the
    Instagram accounts linked to the person's Pages and says which Pages have none."""
    auth.login(agency["owner"])
    callback, signing_in = sign_in_with_facebook(client, graph, agency["set"], "instagram")
    picker_url = callback.location
    assert urlsplit(picker_url).path == f"/social-sets/{agency['set'].id}/connect/instagram/choose"

    graph.answers("GET", "me/accounts", ACCOUNTS)
    page = Html(client.get(picker_url))
    assert page.by_role("heading", "Choose an Instagram account") is not None
    [radio] = page.all_by_role("radio")
    assert page.name_of(radio) == "@maya.creates" and radio.attributes["value"] == "17841400000001111"
    assert page.description_of(radio) == "Linked to the Page Maya Lopez Studio"
    assert page.has_text("Your Page Jonah Reed Music has no Instagram professional account linked.")

    graph.answers("GET", "me/accounts", ACCOUNTS)
    assert client.post(picker_url, data={}).status_code == 422, "nothing chosen"
    graph.answers("GET", "me/accounts", ACCOUNTS)
    chosen = client.post(picker_url, data={"choice": "17841400000001111"})
    assert chosen.status_code == 303
    assert graph.requests == [*signing_in, LIST_PAGES, LIST_PAGES, LIST_PAGES]
    profile = db.session.scalars(select(SocialProfile).where(SocialProfile.social_set_id == agency["set"].id)).one()
    assert (profile.network, profile.external_id, profile.handle, profile.display_name) == (
        "instagram", "17841400000001111", "maya.creates", "Maya Lopez Studio")
    # Instagram publishing uses the token of the Page the account is linked to.
    assert profile.access_token == "PAGE-TOKEN-1111"


def test_a_page_already_connected_is_marked_and_choosing_it_offers_the_transfer(client, auth, agency, graph):
    """The account connects each Page once: the picker marks it, and choosing it offers to move it here."""
    elsewhere = factories.make_profile(agency["other_set"], Network.FACEBOOK, "Jonah Reed Music")
    elsewhere.external_id = "2222"
    db.session.commit()
    auth.login(agency["owner"])
    callback, _ = sign_in_with_facebook(client, graph, agency["set"], "facebook")

    graph.answers("GET", "me/accounts", ACCOUNTS)
    page = Html(client.get(callback.location))
    jonah = page.by_role("radio", "Jonah Reed Music")
    assert page.description_of(jonah) == ("Facebook Page · Connected in “Maya Music” of Maya Lopez: "
                                          "choosing it offers to move it here")

    graph.answers("GET", "me/accounts", ACCOUNTS)
    offer = Html(client.post(callback.location, data={"choice": "2222"}))
    assert offer.by_role("heading", "Move it here instead?") is not None
    assert offer.by_role("button", "Transfer here") is not None
    assert stored_profile(elsewhere.id).social_set_id == agency["other_set"].id, "nothing moved yet"
    assert db.session.scalars(select(SocialProfile).where(SocialProfile.social_set_id == agency["set"].id)).all() == []


def test_reconnecting_a_page_takes_its_new_token_without_the_picker(client, auth, agency, graph):
    """A Page whose token stopped working: signing in again finds it among the person's Pages at once."""
    profile = factories.make_profile(agency["set"], Network.FACEBOOK, "Maya Lopez Studio")
    profile.external_id, profile.access_token, profile.needs_reconnect = "1111", "OLD-PAGE-TOKEN", True
    db.session.commit()
    auth.login(agency["owner"])
    callback, signing_in = sign_in_with_facebook(client, graph, agency["set"], "facebook", reconnect=True,
                                                 pages={"data": [{**MAYA_PAGE, "access_token": "NEW-PAGE-TOKEN"}]})

    assert callback.status_code == 303 and callback.location == f"/g/{agency['group'].id}/profiles"
    assert graph.requests == [*signing_in, LIST_PAGES]
    reconnected = stored_profile(profile.id)
    assert reconnected.access_token == "NEW-PAGE-TOKEN" and not reconnected.needs_reconnect
    assert Html(client.get(callback.location)).has_text("reconnected in “Maya Main”")


def test_a_picker_works_only_for_its_own_slot_and_person(client, auth, agency, graph):
    """Another set's URL, another network, or someone else's session: "no longer valid", nothing stored."""
    auth.login(agency["maya"])
    callback, _ = sign_in_with_facebook(client, graph, agency["set"], "facebook")
    picker = query_of(callback.location)["picker"]
    for url in (f"/social-sets/{agency['other_set'].id}/connect/facebook/choose?picker={picker}",
                f"/social-sets/{agency['set'].id}/connect/instagram/choose?picker={picker}",
                f"/social-sets/{agency['set'].id}/connect/facebook/choose?picker=forged"):
        assert client.post(url, data={"choice": "1111"}).status_code == 400
    maya_choice = session_of(client)[PICKER_KEY][picker]
    auth.logout()
    auth.login(agency["owner"])
    assert client.get(callback.location).status_code == 400, "signing in starts a fresh session"
    with client.session_transaction() as session:
        session[PICKER_KEY] = {picker: maya_choice}
    assert client.get(callback.location).status_code == 400, "Maya's choice, in someone else's session"
    assert db.session.scalars(select(SocialProfile)).all() == []


# --- publishing ----------------------------------------------------------------------------------------


def connected(agency, network: Network) -> SocialProfile:
    if network == Network.FACEBOOK:
        profile = factories.make_profile(agency["set"], Network.FACEBOOK, "Maya Lopez Studio")
        profile.external_id = "1111"
    else:
        profile = factories.make_profile(agency["set"], Network.INSTAGRAM, "maya.creates")
        profile.external_id = "17841400000001111"
    profile.access_token, profile.refresh_token = "PAGE-TOKEN-1111", None
    return profile


def due_post(profile: SocialProfile, caption: str, media=()) -> Post:
    post = factories.make_post(profile, in_days=-5 / (24 * 60), caption=caption)
    for position, item in enumerate(media):
        db.session.add(PostMedia(post_id=post.id, media_item_id=item.id, position=position))
    db.session.commit()
    return post


def photo(agency, alt_text: str | None = None):
    item = factories.make_media(agency["group"])
    item.alt_text = alt_text
    return item


def video(agency):
    item = factories.make_media(agency["group"], "reel.mp4")
    item.kind, item.content_type = "video", "video/mp4"
    return item


def assert_signed_link(app, url: str, item) -> None:
    """`url` is the item's hour-long signed address at ROSTER_URL, valid now."""
    assert url.startswith(f"{ROSTER}/media/shared/{item.id}/")
    endpoint, values = app.url_map.bind("roster.test").match(urlsplit(url).path)
    assert endpoint == "media.signed_file" and values["item_id"] == item.id
    assert media_links.link_state(item.id, values["expires"], values["signature"]) == "valid"
    assert timedelta(minutes=59) < timedelta(seconds=values["expires"] - utcnow().timestamp()) <= timedelta(hours=1)


def assert_published(post: Post, remote_id: str, url: str | None) -> None:
    post = stored(post)
    assert (post.status, post.external_id, post.external_url, post.publish_error) == (
        PostStatus.PUBLISHED.value, remote_id, url, None)


@pytest.mark.parametrize(("caption", "link"), [
    ("Studio day, new songs soon", None),
    ("Tickets are live: https://tickets.example/maya?tour=2027. See you there!", "https://tickets.example/maya?tour=2027"),
])
def test_a_facebook_text_post_goes_to_the_page_feed_with_its_first_link(agency, graph, caption, link):
    post = due_post(connected(agency, Network.FACEBOOK), caption)
    graph.answers("POST", "1111/feed", {"id": "1111_5001"})
    graph.answers("GET", "1111_5001", {"permalink_url": "https://www.facebook.com/1111/posts/5001", "id": "1111_5001"})

    assert publish_due() == PublishReport(published=1)
    assert graph.requests == [
        ("POST", f"/{VERSION}/1111/feed", {"message": caption, **({"link": link} if link else {}),
                                            "access_token": "PAGE-TOKEN-1111"}),
        ("GET", f"/{VERSION}/1111_5001", {"fields": "permalink_url", "access_token": "PAGE-TOKEN-1111"}),
    ]
    assert_published(post, "1111_5001", "https://www.facebook.com/1111/posts/5001")


def test_one_photo_goes_to_the_page_photos_with_its_caption_and_alt_text(app, agency, graph):
    item = photo(agency, "Maya at the piano, smiling")
    post = due_post(connected(agency, Network.FACEBOOK), "Rehearsal", [item])
    graph.answers("POST", "1111/photos", {"id": "9001", "post_id": "1111_5002"})
    graph.answers("GET", "1111_5002", {"permalink_url": "https://www.facebook.com/photo/?fbid=9001", "id": "1111_5002"})

    assert publish_due() == PublishReport(published=1)
    (method, path, sent), permalink = graph.requests
    assert (method, path) == ("POST", f"/{VERSION}/1111/photos")
    assert_signed_link(app, sent.pop("url"), item)
    assert sent == {"caption": "Rehearsal", "alt_text_custom": "Maya at the piano, smiling",
                    "access_token": "PAGE-TOKEN-1111"}
    assert permalink == ("GET", f"/{VERSION}/1111_5002", {"fields": "permalink_url", "access_token": "PAGE-TOKEN-1111"})
    assert_published(post, "1111_5002", "https://www.facebook.com/photo/?fbid=9001")


def test_several_photos_go_up_unpublished_then_one_feed_post_attaches_them(app, agency, graph):
    items = [photo(agency), photo(agency)]
    post = due_post(connected(agency, Network.FACEBOOK), "Two looks", items)
    graph.answers("POST", "1111/photos", {"id": "9101"})
    graph.answers("POST", "1111/photos", {"id": "9102"})
    graph.answers("POST", "1111/feed", {"id": "1111_5003"})
    graph.answers("GET", "1111_5003", {}, status=500)  # the address cannot be read: published all the same

    assert publish_due() == PublishReport(published=1)
    first, second, feed, _ = graph.requests
    for (method, path, sent), item in ((first, items[0]), (second, items[1])):
        assert (method, path) == ("POST", f"/{VERSION}/1111/photos")
        assert_signed_link(app, sent.pop("url"), item)
        assert sent == {"published": "false", "access_token": "PAGE-TOKEN-1111"}
    assert feed == ("POST", f"/{VERSION}/1111/feed", {
        "message": "Two looks", "attached_media[0]": '{"media_fbid": "9101"}',
        "attached_media[1]": '{"media_fbid": "9102"}', "access_token": "PAGE-TOKEN-1111"})
    assert_published(post, "1111_5003", "https://www.facebook.com/1111_5003")


IG = "17841400000001111"
LIMIT_OK = {"data": [{"quota_usage": 3, "config": {"quota_total": 100, "quota_duration": 86400}}]}
LIMIT_CALL = ("GET", f"/{VERSION}/{IG}/content_publishing_limit", {"fields": "quota_usage,config",
                                                                   "access_token": "PAGE-TOKEN-1111"})


def status_call(container: str) -> tuple:
    return ("GET", f"/{VERSION}/{container}", {"fields": "status_code,status", "access_token": "PAGE-TOKEN-1111"})


def publish_calls(container: str, media_id: str) -> list[tuple]:
    return [("POST", f"/{VERSION}/{IG}/media_publish", {"creation_id": container, "access_token": "PAGE-TOKEN-1111"}),
            ("GET", f"/{VERSION}/{media_id}", {"fields": "permalink", "access_token": "PAGE-TOKEN-1111"})]


def answers_publish(graph, container: str, media_id: str) -> None:
    graph.answers("POST", f"{IG}/media_publish", {"id": media_id})
    graph.answers("GET", media_id, {"permalink": f"https://www.instagram.com/p/{media_id}/", "id": media_id})


def test_an_instagram_photo_is_a_container_checked_then_published(app, agency, graph):
    item = photo(agency, "Maya on stage")
    post = due_post(connected(agency, Network.INSTAGRAM), "Tour starts tonight", [item])
    graph.answers("GET", f"{IG}/content_publishing_limit", LIMIT_OK)
    graph.answers("POST", f"{IG}/media", {"id": "C1"})
    graph.answers("GET", "C1", {"status_code": "FINISHED", "id": "C1"})
    answers_publish(graph, "C1", "M1")

    assert publish_due() == PublishReport(published=1)
    limit, (method, path, sent), *rest = graph.requests
    assert limit == LIMIT_CALL and (method, path) == ("POST", f"/{VERSION}/{IG}/media")
    assert_signed_link(app, sent.pop("image_url"), item)
    assert sent == {"caption": "Tour starts tonight", "alt_text": "Maya on stage", "access_token": "PAGE-TOKEN-1111"}
    assert rest == [status_call("C1"), *publish_calls("C1", "M1")]
    assert_published(post, "M1", "https://www.instagram.com/p/M1/")


def test_a_carousel_of_three_makes_a_container_per_item_then_one_for_the_carousel(app, agency, graph):
    items = [photo(agency, "First look"), photo(agency), photo(agency)]
    post = due_post(connected(agency, Network.INSTAGRAM), "Three looks", items)
    graph.answers("GET", f"{IG}/content_publishing_limit", LIMIT_OK)
    for number in (1, 2, 3):
        graph.answers("POST", f"{IG}/media", {"id": f"C{number}"})
    graph.answers("POST", f"{IG}/media", {"id": "C9"})
    graph.answers("GET", "C9", {"status_code": "FINISHED", "id": "C9"})
    answers_publish(graph, "C9", "M9")

    assert publish_due() == PublishReport(published=1)
    limit, *children, carousel, status, publish, permalink = graph.requests
    assert limit == LIMIT_CALL
    for (method, path, sent), item in zip(children, items, strict=True):
        assert (method, path) == ("POST", f"/{VERSION}/{IG}/media")
        assert_signed_link(app, sent.pop("image_url"), item)
        assert sent == {"is_carousel_item": "true", **({"alt_text": item.alt_text} if item.alt_text else {}),
                        "access_token": "PAGE-TOKEN-1111"}
    assert carousel == ("POST", f"/{VERSION}/{IG}/media", {
        "media_type": "CAROUSEL", "children": "C1,C2,C3", "caption": "Three looks", "access_token": "PAGE-TOKEN-1111"})
    assert [status, publish, permalink] == [status_call("C9"), *publish_calls("C9", "M9")]
    assert_published(post, "M9", "https://www.instagram.com/p/M9/")


def test_a_video_is_a_reel_published_once_instagram_has_processed_it(app, agency, graph, monkeypatch):
    pauses = []
    monkeypatch.setattr(instagram, "sleep", pauses.append)
    item = video(agency)
    post = due_post(connected(agency, Network.INSTAGRAM), "New reel", [item])
    graph.answers("GET", f"{IG}/content_publishing_limit", LIMIT_OK)
    graph.answers("POST", f"{IG}/media", {"id": "R1"})
    graph.answers("GET", "R1", {"status_code": "IN_PROGRESS", "status": "In Progress", "id": "R1"})
    graph.answers("GET", "R1", {"status_code": "FINISHED", "id": "R1"})
    answers_publish(graph, "R1", "M2")

    assert publish_due() == PublishReport(published=1)
    limit, (method, path, sent), *rest = graph.requests
    assert limit == LIMIT_CALL and (method, path) == ("POST", f"/{VERSION}/{IG}/media")
    assert_signed_link(app, sent.pop("video_url"), item)
    assert sent == {"media_type": "REELS", "caption": "New reel", "access_token": "PAGE-TOKEN-1111"}
    assert rest == [status_call("R1"), status_call("R1"), *publish_calls("R1", "M2")]
    assert pauses == [1], "one pause before looking again"
    assert_published(post, "M2", "https://www.instagram.com/p/M2/")


def test_a_reel_still_processing_after_the_bound_is_tried_again_later(agency, graph, monkeypatch):
    monkeypatch.setattr(instagram, "sleep", lambda seconds: None)
    post = due_post(connected(agency, Network.INSTAGRAM), "Long reel", [video(agency)])
    graph.answers("GET", f"{IG}/content_publishing_limit", LIMIT_OK)
    graph.answers("POST", f"{IG}/media", {"id": "R2"})
    for _ in range(len(instagram.POLL_PAUSES) + 1):
        graph.answers("GET", "R2", {"status_code": "IN_PROGRESS", "id": "R2"})

    before = utcnow()
    assert publish_due() == PublishReport(failed=1)
    post = stored(post)
    assert post.status == PostStatus.SCHEDULED.value and post.publish_attempts == 1
    assert post.publish_error == "Instagram is still processing the post's media; Roster will try again."
    assert post.next_publish_at >= before + instagram.PROCESSING_WAIT
    assert not any(path.endswith("media_publish") for _, path, _ in graph.requests)


def test_a_container_instagram_could_not_prepare_is_refused_and_shown_on_the_post(client, auth, agency, graph):
    post = due_post(connected(agency, Network.INSTAGRAM), "Broken photo", [photo(agency)])
    graph.answers("GET", f"{IG}/content_publishing_limit", LIMIT_OK)
    graph.answers("POST", f"{IG}/media", {"id": "C5"})
    graph.answers("GET", "C5", {"status_code": "ERROR", "status": "Error: Media download has failed. (2207052)",
                                "id": "C5"})

    assert publish_due() == PublishReport(failed=1, given_up=1)
    post = stored(post)
    message = "Instagram could not prepare the post's media (ERROR): Error: Media download has failed. (2207052)."
    assert (post.status, post.publish_error, post.next_publish_at) == (PostStatus.SCHEDULED.value, message, None)
    assert graph.requests[-1] == status_call("C5")
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}"))
    assert page.by_role("alert", f"Publishing failed: {message}") is not None


def test_an_account_at_its_publishing_limit_waits_for_the_window(agency, graph):
    post = due_post(connected(agency, Network.INSTAGRAM), "One too many", [photo(agency)])
    graph.answers("GET", f"{IG}/content_publishing_limit",
                  {"data": [{"quota_usage": 100, "config": {"quota_total": 100, "quota_duration": 86400}}]})

    before = utcnow()
    assert publish_due() == PublishReport(failed=1)
    assert graph.requests == [LIMIT_CALL], "no container is made"
    post = stored(post)
    assert post.publish_error == ("@maya.creates has published 100 posts through apps in the last 24 hours, "
                                  "Instagram's limit; Roster will try again when the window frees up.")
    assert before + timedelta(minutes=59) < post.next_publish_at <= utcnow() + timedelta(hours=1)
    assert post.status == PostStatus.SCHEDULED.value


def test_instagram_takes_no_post_without_media(agency, graph):
    post = due_post(connected(agency, Network.INSTAGRAM), "Words only")
    assert publish_due() == PublishReport(failed=1, given_up=1)
    assert stored(post).publish_error == "Instagram posts need a photo or a video. Attach one and schedule the post again."
    assert graph.requests == []


@pytest.mark.parametrize("network", [Network.FACEBOOK, Network.INSTAGRAM])
def test_a_withdrawn_token_code_190_needs_a_reconnect(agency, graph, network):
    """Graph says 190 with status 400: the profile shows "Reconnect needed" and the post waits for it."""
    profile = connected(agency, network)
    post = due_post(profile, "Hello", [photo(agency)])
    error = {"error": {"message": "Error validating access token: The user has changed their password.",
                       "type": "OAuthException", "code": 190, "error_subcode": 460, "fbtrace_id": "AbC"}}
    path = "1111/photos" if network == Network.FACEBOOK else f"{IG}/content_publishing_limit"
    graph.answers("POST" if network == Network.FACEBOOK else "GET", path, error, status=400)

    assert publish_due() == PublishReport(failed=1, given_up=1)
    assert stored_profile(profile.id).needs_reconnect
    assert stored(post).publish_error == (
        f"{network.label} no longer accepts this profile's sign-in: reconnect it. "
        "(Error validating access token: The user has changed their password.)")


@pytest.mark.parametrize(("code", "status"), [(4, 403), (17, 400), (32, 400), (613, 400)])
def test_graph_rate_limits_are_waited_out_whatever_their_status(agency, graph, code, status):
    profile = connected(agency, Network.FACEBOOK)
    post = due_post(profile, "Busy day")
    graph.answers("POST", "1111/feed", {"error": {"message": f"(#{code}) Application request limit reached",
                                                  "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}},
                  status=status)

    assert publish_due() == PublishReport(failed=1)
    post = stored(post)
    assert post.publish_error == f"Facebook asked Roster to slow down: (#{code}) Application request limit reached."
    assert post.status == PostStatus.SCHEDULED.value and post.next_publish_at is not None
    assert not stored_profile(profile.id).needs_reconnect


def test_a_rate_limit_waits_as_long_as_graph_estimates(agency, graph):
    post = due_post(connected(agency, Network.FACEBOOK), "Busy day")
    usage = {"1111": [{"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 30,
                       "estimated_time_to_regain_access": 20}]}
    graph.answers("POST", "1111/feed", {"error": {"message": "(#80001) There have been too many calls to this Page",
                                                  "type": "OAuthException", "code": 80001}},
                  status=400, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})

    before = utcnow()
    assert publish_due() == PublishReport(failed=1)
    assert before + timedelta(minutes=20) <= stored(post).next_publish_at <= utcnow() + timedelta(minutes=20)


def test_other_graph_errors_refuse_the_post_in_graphs_words(agency, graph):
    post = due_post(connected(agency, Network.FACEBOOK), "Same again")
    graph.answers("POST", "1111/feed", {"error": {
        "message": "(#506) Duplicate status message", "type": "OAuthException", "code": 506,
        "error_user_msg": "This status update is identical to the last one you posted.", "fbtrace_id": "AbC"}},
        status=400)

    assert publish_due() == PublishReport(failed=1, given_up=1)
    assert stored(post).publish_error == (
        "Facebook refused the post: This status update is identical to the last one you posted.")


def test_a_person_with_no_pages_is_told_what_roster_needs(client, auth, agency, graph):
    """No Page to choose: the picker says why and leads back to the slots, connecting nothing."""
    auth.login(agency["owner"])
    callback, _ = sign_in_with_facebook(client, graph, agency["set"], "instagram")
    graph.answers("GET", "me/accounts", {"data": [JONAH_PAGE]})
    page = Html(client.get(callback.location))
    assert page.all_by_role("radio") == []
    assert page.has_text("None of your Pages has an Instagram professional account linked.")
    assert page.has_text("Pages without one: Jonah Reed Music.")
    assert page.by_role("link", "Back to the slots").attributes["href"] == f"/g/{agency['group'].id}/profiles"
