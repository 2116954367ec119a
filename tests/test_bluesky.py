"""Bluesky: connecting a profile with an app password, and publishing to its PDS exactly once.

The contract is the AT Protocol HTTP API (XRPC) and the app.bsky lexicons as Bluesky documents them
(docs.bsky.app, 2025), played by a real PDS: @atproto/pds 0.4.217 as @atproto/dev-env 0.3.215 runs it
(tests/pds, one network per test session). Nothing here stands in for the PDS: sessions, app passwords,
uploads and records are its own, read back over XRPC as any Bluesky app would.
"""
from __future__ import annotations

import base64
import hmac
import io
import json
import re
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from webapp import media
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    MediaItem,
    Network,
    Post,
    PostMedia,
    PostStatus,
    Role,
    SocialProfile,
    utcnow,
)
from webapp.publishers import Refused, bluesky
from webapp.publishers.bluesky import (
    BlueskyAdapter,
    facets,
    graphemes,
    post_rkey,
    rich_text_spans,
    tid,
    token_expiry,
)
from webapp.publishing import PublishReport, publish_due
from webapp.storage import media_storage

from . import factories
from .conftest import free_port
from .html import HTMX, Html
from .pds_server import jwt_claims
from .test_publishing import stored, stored_post

# The secret @atproto/dev-env signs the local PDS's tokens with (its const.ts): a test can make a token
# the PDS itself would have issued, already expired.
DEV_ENV_JWT_SECRET = b"jwt-secret"


@pytest.fixture
def agency(app):
    """Northstar: Maya's group with one set (owner, client Maya), and a rival agency next door."""
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    rival = factories.make_account("Rival")
    world = {
        "account": account,
        "group": group,
        "owner": factories.owner_of(account),
        "maya": factories.make_member(account, Role.CLIENT, groups=[group], name="Maya"),
        "set": factories.make_social_set(group, "Maya Main"),
        "second_set": factories.make_social_set(group, "Maya Second"),
        "rival": factories.owner_of(rival),
        "rival_set": factories.make_social_set(factories.default_group(rival), "Rival Main"),
    }
    db.session.commit()
    return world


@pytest.fixture
def maya(pds):
    """Maya's account on the local PDS and an app password she made for Roster."""
    account = pds.create_account("maya")
    return account, pds.create_app_password(account)


def connect_url(social_set, **query) -> str:
    return f"/social-sets/{social_set.id}/connect/bluesky" + (f"?{urlencode(query)}" if query else "")


def send_form(client, social_set, handle: str, password: str, service_url: str, origin: str = "settings",
              reconnect: bool = False, headers=None):
    data = {"handle": handle, "app_password": password, "service_url": service_url, "origin": origin}
    if reconnect:
        data["reconnect"] = "y"
    return client.post(connect_url(social_set), data=data, headers=headers or {})


def profiles_in(social_set) -> list[SocialProfile]:
    return stored(SocialProfile, SocialProfile.social_set_id == social_set.id)


def profile_count() -> int:
    return db.session.scalar(select(func.count(SocialProfile.id)))


def connected(client, auth, agency, pds, maya) -> SocialProfile:
    """Maya's Bluesky profile, connected by the owner through the form."""
    account, password = maya
    auth.login(agency["owner"])
    response = send_form(client, agency["set"], account.handle, password, pds.url)
    assert response.status_code == 303, response.get_data(as_text=True)
    [profile] = profiles_in(agency["set"])
    return profile


def image(group, name: str, size: tuple[int, int], colour: str, alt: str | None) -> tuple[MediaItem, bytes]:
    """An image in the group's media library, stored as an upload stores it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    content = buffer.getvalue()
    item = MediaItem(access_group_id=group.id, name=name, kind="image", content_type="image/png",
                     byte_size=len(content), width=size[0], height=size[1],
                     storage_key=media_storage().save(content, ".png"), alt_text=alt)
    db.session.add(item)
    db.session.flush()
    media.adjust_media_counts({group.id: 1})
    return item, content


def due_post(profile: SocialProfile, caption: str, attachments: tuple[MediaItem, ...] = (), **options) -> Post:
    """A scheduled post whose time came five minutes ago, its attachments in the order given."""
    post = factories.make_post(profile, PostStatus.SCHEDULED, in_days=-5 / (24 * 60), caption=caption)
    post.options = options or None
    for position, item in enumerate(attachments):
        db.session.add(PostMedia(post_id=post.id, media_item_id=item.id, position=position))
    db.session.commit()
    return post


def facet_texts(record: dict) -> list[tuple[str, dict]]:
    """Each facet as the stretch of UTF-8 text it covers, with its feature."""
    raw = record["text"].encode("utf-8")
    return [(raw[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode("utf-8"), facet["features"][0])
            for facet in record.get("facets", [])]


def expired_access_token(did: str) -> str:
    """An access token as the local PDS signs them (HS256), ended a minute ago."""
    now = int(time.time())

    def part(value: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signed = part({"typ": "at+jwt", "alg": "HS256"}) + b"." + part({
        "scope": "com.atproto.appPass", "aud": "did:web:localhost", "sub": did, "iat": now - 7200, "exp": now - 60})
    signature = base64.urlsafe_b64encode(hmac.digest(DEV_ENV_JWT_SECRET, signed, "sha256")).rstrip(b"=")
    return (signed + b"." + signature).decode()


# --- publishing --------------------------------------------------------------------------------------


def test_a_scheduled_post_goes_out_with_its_links_mentions_tags_images_and_language(
        client, auth, agency, pds, maya):
    """Roster publishes the due post; the PDS holds it as written: text, facets at UTF-8 byte ranges,
    both images with their alt text in the composer's order, the language; the post page links to it."""
    profile = connected(client, auth, agency, pds, maya)
    account = maya[0]
    bob = pds.create_account("bob")
    nobody = f"nobody-{uuid.uuid4().hex[:6]}.test"
    link = "https://example.com/launch?ref=roster"
    caption = (f"Ça démarre à São Paulo 🎉 — tout est sur {link}. Merci @{bob.handle} "
               f"(et @{nobody}) #lançamento #2024")
    square, square_bytes = image(agency["group"], "square.png", (30, 30), "red", "A red square")
    banner, banner_bytes = image(agency["group"], "banner.png", (60, 20), "blue", None)
    post = due_post(profile, caption, (banner, square), language="fr")

    assert publish_due() == PublishReport(published=1)

    [record] = pds.records(account.did)
    value = record["value"]
    assert value["$type"] == "app.bsky.feed.post" and value["text"] == caption
    assert value["langs"] == ["fr"]
    assert facet_texts(value) == [
        (link, {"$type": "app.bsky.richtext.facet#link", "uri": link}),
        (f"@{bob.handle}", {"$type": "app.bsky.richtext.facet#mention", "did": bob.did}),
        ("#lançamento", {"$type": "app.bsky.richtext.facet#tag", "tag": "lançamento"}),
    ]
    # Byte offsets, not character offsets: the accents and the emoji before the link take more bytes.
    [link_facet, *_] = value["facets"]
    assert link_facet["index"]["byteStart"] == len(caption[:caption.index(link)].encode("utf-8"))
    assert link_facet["index"]["byteStart"] > caption.index(link)

    embed = value["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [(shown["alt"], shown["aspectRatio"]) for shown in embed["images"]] == [
        ("", {"width": 60, "height": 20}), ("A red square", {"width": 30, "height": 30})]
    for shown, content in zip(embed["images"], (banner_bytes, square_bytes)):
        blob = shown["image"]
        assert (blob["mimeType"], blob["size"]) == ("image/png", len(content))
        answer = pds.blob(account.did, blob["ref"]["$link"])
        assert answer.content == content

    post = stored_post(post)
    rkey = record["uri"].rsplit("/", 1)[1]
    assert rkey == post_rkey(post)
    assert (post.status, post.external_id) == ("published", record["uri"])
    assert post.external_url == f"https://bsky.app/profile/{account.handle}/post/{rkey}"
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}"))
    assert page.by_role("link", re.compile(r"^View on Bluesky")).attributes["href"] == post.external_url


def test_publishing_again_finds_the_post_instead_of_posting_twice(client, auth, agency, pds, maya):
    """Published once; and when the answer was lost (the worker never recorded it), the next try finds
    the record under the post's own key and records that, with no second post."""
    profile = connected(client, auth, agency, pds, maya)
    did = maya[0].did
    post = due_post(profile, "Doors open at eight")
    assert publish_due() == PublishReport(published=1)
    [first] = pds.records(did)
    assert publish_due(now=utcnow() + timedelta(days=1)) == PublishReport(), "published once, not again"

    # As if the worker had stopped after the PDS took the post, before writing down that it did.
    db.session.execute(text("UPDATE posts SET status = 'scheduled', external_id = NULL, external_url = NULL, "
                            "published_at = NULL, publish_attempts = 0 WHERE id = :id"), {"id": post.id})
    db.session.commit()
    assert publish_due() == PublishReport(published=1)

    assert [record["uri"] for record in pds.records(did)] == [first["uri"]]
    assert stored_post(post).external_id == first["uri"]
    # And the adapter itself, asked twice, answers the same post both times.
    post, profile = stored_post(post), profiles_in(agency["set"])[0]
    assert BlueskyAdapter().publish(post, profile) == BlueskyAdapter().publish(post, profile)
    assert len(pds.records(did)) == 1


def test_two_tries_at_once_make_one_post(client, auth, agency, pds, maya, monkeypatch):
    """A try that found no record, then lost the race to another one, finds the winner's record when the
    PDS refuses the same key twice (it answers 500), and reports that post as its own."""
    profile = connected(client, auth, agency, pds, maya)
    post = due_post(profile, "Only once")
    first = BlueskyAdapter().publish(post, profile)
    looked = []
    real_existing = bluesky._Repository.existing

    def not_there_yet(repository, rkey):
        looked.append(rkey)
        return None if len(looked) == 1 else real_existing(repository, rkey)

    monkeypatch.setattr(bluesky._Repository, "existing", not_there_yet)
    assert BlueskyAdapter().publish(post, profile) == first
    assert looked == [post_rkey(post)] * 2
    assert len(pds.records(maya[0].did)) == 1


def test_an_access_token_past_its_time_is_renewed_first_and_the_new_tokens_kept(client, auth, agency, pds, maya):
    """Roster sees the access token has run out, renews the session before posting, and keeps the new
    (rotated) tokens and their expiry."""
    profile = connected(client, auth, agency, pds, maya)
    old_refresh = profile.refresh_token
    profile.token_expires_at = utcnow() - timedelta(minutes=1)
    post = due_post(profile, "Renewed first")

    assert publish_due() == PublishReport(published=1)

    [profile] = profiles_in(agency["set"])
    # The refresh token rotates (the access token may read the same when issued within the same second).
    assert profile.refresh_token != old_refresh
    assert profile.token_expires_at == token_expiry(profile.access_token) > utcnow() + timedelta(hours=1)
    assert not profile.needs_reconnect
    session = pds.call("GET", "com.atproto.server.getSession",
                       headers={"Authorization": f"Bearer {profile.access_token}"}).json()
    assert session["did"] == maya[0].did
    assert stored_post(post).status == "published"


@pytest.mark.parametrize("stale", ["expired", "invalid"])
def test_an_access_token_the_pds_refuses_is_renewed_and_the_post_sent(client, auth, agency, pds, maya, stale):
    """Roster's clock says the token is good, the PDS says ExpiredToken (or InvalidToken): renew, try again."""
    profile = connected(client, auth, agency, pds, maya)
    old_refresh = profile.refresh_token
    profile.access_token = expired_access_token(maya[0].did) if stale == "expired" else "not-a-token"
    profile.token_expires_at = utcnow() + timedelta(hours=1)
    post = due_post(profile, f"Sent after renewing an {stale} token")

    assert publish_due() == PublishReport(published=1)

    [profile] = profiles_in(agency["set"])
    assert profile.refresh_token != old_refresh and jwt_claims(profile.access_token)["sub"] == maya[0].did
    assert [record["value"]["text"] for record in pds.records(maya[0].did)] == [stored_post(post).caption]


def test_a_revoked_app_password_needs_reconnecting_and_reconnecting_sends_the_post(client, auth, agency, pds, maya):
    """The person deleted Roster's app password on Bluesky: renewing the session is refused, the profile
    shows "Reconnect needed" and the post says why; a new app password brings both back."""
    profile = connected(client, auth, agency, pds, maya)
    account = maya[0]
    pds.revoke_app_password(account)
    # The last access token works until it runs out (two hours); then renewing it is refused.
    profile.token_expires_at = utcnow() - timedelta(seconds=1)
    post = due_post(profile, "Waiting for a reconnect")

    assert publish_due() == PublishReport(failed=1, given_up=1)

    [profile] = profiles_in(agency["set"])
    post = stored_post(post)
    assert profile.needs_reconnect
    assert post.status == "scheduled" and post.next_publish_at is None
    assert post.publish_error.startswith("Bluesky no longer accepts this profile's sign-in: reconnect it.")
    assert "revoked" in post.publish_error
    assert pds.records(account.did) == []
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}"))
    assert page.by_role("alert").text().startswith("Publishing failed: Bluesky no longer accepts")
    slots = Html(client.get(f"/settings/access-groups/{agency['group'].id}"))
    assert slots.has_text("Reconnect needed")
    assert slots.by_role("button", f"Reconnect @{account.handle}")

    reconnect = client.post(f"/social-sets/{agency['set'].id}/connect", data={"network": "bluesky", "reconnect": "y"})
    assert reconnect.status_code == 303 and "reconnect=y" in reconnect.location
    form = Html(client.get(reconnect.location))
    assert form.by_role("heading", f"Reconnect @{account.handle}")
    assert form.by_label("Handle").attributes["value"] == account.handle
    new_password = pds.create_app_password(account, "Roster again")
    response = send_form(client, agency["set"], account.handle, new_password, pds.url, reconnect=True)
    assert response.status_code == 303
    assert "Bluesky profile @" in client.get(response.location).get_data(as_text=True)

    [again] = profiles_in(agency["set"])
    assert again.id == profile.id and not again.needs_reconnect and profile_count() == 1
    assert stored_post(post).publish_error is None
    assert "profile.reconnected" in list(db.session.scalars(select(AuditEvent.verb)))
    assert publish_due() == PublishReport(published=1)
    assert [record["value"]["text"] for record in pds.records(account.did)] == ["Waiting for a reconnect"]


def test_what_bluesky_would_not_take_is_refused_before_any_call(app, agency):
    """Too long, too many images, a video, an image over 1 MB: refused with the reason, and the PDS
    (here a port nobody listens on) is never called, or the answer would be "could not be reached"."""
    profile = factories.make_profile(agency["set"], Network.BLUESKY, "maya.bsky.social")
    profile.external_id, profile.service_url = "did:plc:maya", f"http://127.0.0.1:{free_port()}"
    group = agency["group"]

    def refusal(caption: str, attachments=()) -> str:
        post = due_post(profile, caption, tuple(attachments))
        with pytest.raises(Refused) as refused:
            BlueskyAdapter().publish(post, profile)
        return refused.value.message

    family = "👩‍👩‍👧"  # one grapheme of five code points
    assert "301" in refusal(family * 301)
    assert "4 images" in refusal("Five", [factories.make_media(group) for _ in range(5)])
    video = factories.make_media(group)
    video.kind, video.content_type = "video", "video/mp4"
    assert "images only" in refusal("A clip", [video])
    large = factories.make_media(group)
    large.byte_size = 1_000_001
    assert "up to 1 MB" in refusal("Large", [large])


def test_a_pds_that_asks_to_slow_down_is_tried_again_when_it_says(app, agency, httpserver):
    """Bluesky's rate limits answer 429 with RateLimit-Reset (epoch seconds): the post waits until then."""
    profile = factories.make_profile(agency["set"], Network.BLUESKY, "maya.bsky.social")
    profile.external_id, profile.service_url = "did:plc:maya", httpserver.url_for("/").rstrip("/")
    profile.access_token, profile.token_expires_at = "access", utcnow() + timedelta(hours=1)
    post = due_post(profile, "Slowly")
    httpserver.expect_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
        {"error": "RecordNotFound", "message": "Could not locate record"}, status=400)
    reset = int(time.time()) + 600
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_json(
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429,
        headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})

    assert publish_due() == PublishReport(failed=1)

    post = stored_post(post)
    assert post.publish_error == "Bluesky asked Roster to slow down: Rate Limit Exceeded."
    assert timedelta(minutes=9) < post.next_publish_at - utcnow() <= timedelta(minutes=10)
    created = [request for request, _ in httpserver.log if request.path.endswith("createRecord")]
    assert [request.headers["Authorization"] for request in created] == ["Bearer access"]


# --- rich text and record keys -----------------------------------------------------------------------


def test_facets_sit_at_utf8_byte_offsets():
    """Each facet's byte range is where its text is in the UTF-8 encoding, whatever precedes it."""
    text = "Olá 👋🏽 mundo: https://a.example/x?y=1, @maya.test #café"
    dids = {"maya.test": "did:plc:maya"}
    found = facets(text, dids.get)
    raw = text.encode("utf-8")
    assert [(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["index"]["byteStart"]) for f in found] == [
        ("https://a.example/x?y=1", 21), ("@maya.test", 46), ("#café", 57)]
    assert text.index("https") == 14 and text.index("@maya") == 39  # characters, not bytes
    assert [f["features"][0] for f in found][1:] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:maya"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "café"}]


@pytest.mark.parametrize("text, expected", [
    ("See https://example.com/a.", [("link", "https://example.com/a")]),
    ("(more at https://example.com/a)", [("link", "https://example.com/a")]),
    ("https://en.wikipedia.org/wiki/Bird_(band)!", [("link", "https://en.wikipedia.org/wiki/Bird_(band)")]),
    ("Anchors: https://example.com/#top #real", [("link", "https://example.com/#top"), ("tag", "real")]),
    ("mail me@example.com, not a mention", []),
    ("@Maya.Bsky.Social said", [("mention", "maya.bsky.social")]),
    ("Thanks @maya.test.", [("mention", "maya.test")]),
    ("#2024 is a number, #2024recap a tag, #日本 too", [("tag", "2024recap"), ("tag", "日本")]),
    ("ftp://example.com and example.com are not links", []),
])
def test_links_mentions_and_tags_are_found_as_bluesky_shows_them(text, expected):
    assert [(span.kind, span.value) for span in rich_text_spans(text)] == expected


def test_a_mention_nobody_has_stays_plain_text():
    assert facets("Hi @ghost.test and @maya.test", {"maya.test": "did:plc:maya"}.get) == [
        {"index": {"byteStart": 19, "byteEnd": 29},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:maya"}]}]


def test_length_counts_graphemes():
    assert graphemes("👩‍👩‍👧e\u0301") == 2


def test_record_keys_are_tids_bluesky_would_make_and_the_same_for_a_post_every_time(app, agency):
    """The vectors are what @atproto/common-web's TID.fromTime gives for the same time and clock id."""
    assert tid(1733443200123456, 5) == "3lclut4x2m227"
    assert tid(1796510822000001, 517) == "3n3xf4q4tg3k7"
    assert tid(2**53 - 1, 1023) == "bzzzzzzzzzzzz"
    post = factories.make_post(factories.make_profile(agency["set"], Network.BLUESKY))
    db.session.commit()
    key = post_rkey(post)
    assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", key)
    microseconds = (post.created_at.timestamp() * 1_000_000)
    assert key == tid(round(microseconds), post.id)
    assert post_rkey(stored_post(post)) == key, "read back from the database, the key is the same"
    other = factories.make_post(post.social_profile)
    other.created_at = post.created_at
    assert post_rkey(other) != key, "two posts made in the same microsecond still differ"


# --- connecting ------------------------------------------------------------------------------------------


def test_owner_connects_a_profile_with_an_app_password(client, auth, agency, pds, maya):
    """The slot's Add button leads to the form; signing in stores the profile with its session, never the
    app password; the owner goes back to the group's settings."""
    account, password = maya
    pds.call("POST", "com.atproto.repo.createRecord", headers=account.auth, json={
        "repo": account.did, "collection": "app.bsky.actor.profile", "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "displayName": "Maya Lopez"}})
    auth.login(agency["owner"])
    settings = Html(client.get(f"/settings/access-groups/{agency['group'].id}"))
    assert settings.by_role("button", f"Add Social Profile for Bluesky in {agency['set'].name}")
    start = client.post(f"/social-sets/{agency['set'].id}/connect", data={"network": "bluesky"})
    assert start.status_code == 303 and start.location == connect_url(agency["set"], origin="settings")

    form = Html(client.get(start.location))
    assert form.by_role("heading", "Connect a Bluesky profile")
    assert form.by_role("link", "Make an app password on Bluesky").attributes["href"] == \
        "https://bsky.app/settings/app-passwords"
    assert form.by_label("Server").attributes["value"] == "https://bsky.social"
    assert form.by_label("App password").attributes["type"] == "password"

    response = send_form(client, agency["set"], f"@{account.handle}", password, pds.url)
    assert response.status_code == 303
    assert response.location == f"/settings/access-groups/{agency['group'].id}"
    page = client.get(response.location).get_data(as_text=True)
    assert f"Bluesky profile @{account.handle} connected to “Maya Main”." in page

    [profile] = profiles_in(agency["set"])
    assert (profile.network, profile.handle, profile.external_id) == ("bluesky", account.handle, account.did)
    assert (profile.display_name, profile.service_url) == ("Maya Lopez", pds.url)
    assert profile.connected_by_id == agency["owner"].id and not profile.needs_reconnect
    assert jwt_claims(profile.access_token)["scope"] == "com.atproto.appPass"
    assert jwt_claims(profile.refresh_token)["scope"] == "com.atproto.refresh"
    assert profile.token_expires_at == token_expiry(profile.access_token) > utcnow() + timedelta(hours=1)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "profile.connected"))
    assert event.after == {"network": "bluesky", "handle": account.handle, "social_set_id": agency["set"].id,
                           "access_group_id": agency["group"].id}
    # The app password is nowhere: not in any row, not in the session cookie.
    for table in ("social_profiles", "audit_events"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert password not in repr(tuple(row))
    with client.session_transaction() as session:
        assert password not in repr(dict(session))


def test_htmx_connects_and_is_sent_back_with_hx_redirect(client, auth, agency, pds, maya):
    account, password = maya
    auth.login(agency["maya"])
    response = send_form(client, agency["set"], account.handle, password, pds.url, origin="group", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/g/{agency['group'].id}/profiles"
    [profile] = profiles_in(agency["set"])
    assert profile.connected_by_id == agency["maya"].id


def test_a_wrong_app_password_is_said_on_the_form_and_nothing_is_stored(client, auth, agency, pds, maya):
    """The form comes back with the handle and server as typed, the password field empty."""
    account, _ = maya
    auth.login(agency["owner"])
    response = send_form(client, agency["set"], account.handle, "wrong-pass-word-1234", pds.url, headers=HTMX)
    assert response.status_code == 422
    form = Html(response)
    assert form.description_of(form.by_label("App password")).endswith(
        "Bluesky did not accept this handle and app password. Check both, or make a new app password.")
    assert form.by_label("Handle").attributes["value"] == account.handle
    assert form.by_label("Server").attributes["value"] == pds.url
    assert not form.by_label("App password").attributes.get("value")
    assert "wrong-pass-word-1234" not in response.get_data(as_text=True)
    assert profile_count() == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.verb == "profile.connected")) == 0


def test_the_account_password_is_refused(client, auth, agency, pds, maya):
    """Roster signs in only with an app password: the account's own password could change the account."""
    account, _ = maya
    auth.login(agency["owner"])
    response = send_form(client, agency["set"], account.handle, account.password, pds.url)
    assert response.status_code == 422
    assert "That is your account password." in Html(response).description_of(Html(response).by_label("App password"))
    assert profile_count() == 0


def test_an_unreachable_server_is_said_on_the_form(client, auth, agency):
    auth.login(agency["owner"])
    port = free_port()
    response = send_form(client, agency["set"], "maya.bsky.social", "abcd-efgh-ijkl-mnop", f"http://127.0.0.1:{port}")
    assert response.status_code == 422
    form = Html(response)
    assert form.description_of(form.by_label("Server")).endswith(
        "Roster could not reach 127.0.0.1. Check the server address, or try again in a moment.")
    assert profile_count() == 0


def test_a_server_that_is_no_pds_is_said_on_the_form(client, auth, agency, httpserver):
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_data(
        "<html>Not here</html>", status=404, content_type="text/html")
    auth.login(agency["owner"])
    response = send_form(client, agency["set"], "maya.bsky.social", "abcd-efgh-ijkl-mnop", httpserver.url_for("/"))
    assert response.status_code == 422
    assert "did not answer like a Bluesky server" in Html(response).text
    assert profile_count() == 0


@pytest.mark.parametrize("typed", ["bsky social", "https://bsky.social/some/path", "ftp://bsky.social"])
def test_a_server_address_that_is_no_address_is_refused(client, auth, agency, typed):
    auth.login(agency["owner"])
    response = send_form(client, agency["set"], "maya.bsky.social", "abcd-efgh-ijkl-mnop", typed)
    assert response.status_code == 422
    assert "Enter the address of a Bluesky server" in Html(response).text


def test_a_taken_slot_is_refused_before_signing_in(client, auth, agency):
    factories.make_profile(agency["set"], Network.BLUESKY, "someone.bsky.social")
    db.session.commit()
    auth.login(agency["owner"])
    for response in (client.get(connect_url(agency["set"])),
                     send_form(client, agency["set"], "maya.bsky.social", "abcd-efgh-ijkl-mnop",
                               f"http://127.0.0.1:{free_port()}")):
        assert response.status_code == 422
        assert "This set already has a Bluesky profile (@someone.bsky.social)." in Html(response).text
    assert profile_count() == 1


def test_reconnect_is_only_for_a_profile_that_needs_it(client, auth, agency, pds, maya):
    connected(client, auth, agency, pds, maya)
    account, password = maya
    assert client.get(connect_url(agency["set"], reconnect="y")).status_code == 422
    response = send_form(client, agency["set"], account.handle, password, pds.url, reconnect=True)
    assert response.status_code == 422 and profile_count() == 1


def test_reconnecting_as_another_profile_changes_nothing(client, auth, agency, pds, maya):
    profile = connected(client, auth, agency, pds, maya)
    profile.needs_reconnect = True
    db.session.commit()
    other = pds.create_account("other")
    response = send_form(client, agency["set"], other.handle, pds.create_app_password(other), pds.url, reconnect=True)
    assert response.status_code == 409
    assert f"this slot holds @{maya[0].handle}" in Html(response).text
    [profile] = profiles_in(agency["set"])
    assert profile.needs_reconnect and profile.external_id == maya[0].did


def test_a_profile_already_in_the_account_is_offered_for_transfer(client, auth, agency, pds, maya):
    connected(client, auth, agency, pds, maya)
    account, password = maya
    response = send_form(client, agency["second_set"], account.handle, password, pds.url)
    assert response.status_code == 200
    page = Html(response)
    assert page.by_role("heading", f"@{account.handle} is already connected")
    assert page.by_role("button", "Transfer here")
    assert profile_count() == 1 and profiles_in(agency["second_set"]) == []


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_connecting_needs_the_csrf_token(client, agency, pds, maya):
    """Without the form's token nothing is signed in or stored; with it, the same form connects."""
    account, password = maya
    signed_in = client.post("/login", data={"email": agency["owner"].email, "password": factories.PASSWORD,
                                            "csrf_token": Html(client.get("/login")).hidden_value("csrf_token")})
    assert signed_in.status_code == 303
    response = send_form(client, agency["set"], account.handle, password, pds.url)
    assert response.status_code == 400
    assert profile_count() == 0
    token = Html(client.get(connect_url(agency["set"]))).hidden_value("csrf_token")
    response = client.post(connect_url(agency["set"]), data={
        "handle": account.handle, "app_password": password, "service_url": pds.url, "csrf_token": token})
    assert response.status_code == 303 and profile_count() == 1


def test_another_agencys_set_is_not_found(client, auth, agency):
    auth.login(agency["owner"])
    assert client.get(connect_url(agency["rival_set"])).status_code == 404
    response = send_form(client, agency["rival_set"], "maya.bsky.social", "abcd-efgh-ijkl-mnop", "https://bsky.social")
    assert response.status_code == 404
    assert profile_count() == 0
