"""Roster against a Mastodon instance, as the Mastodon 4.x API documentation describes it
(docs.joinmastodon.org, Mastodon 4.4: methods/apps, methods/oauth and spec/oauth with PKCE S256,
methods/accounts verify_credentials, methods/instance v2, methods/media v2 with 202 and 206 while
processing, methods/statuses with Idempotency-Key, X-RateLimit-Reset and {"error": ...} answers).

The instance runs on a local port (tests/mastodon_instance.py) and keeps every request: each test
checks the method, path, headers and body of what Roster sent.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from webapp import mastodon, publishing
from webapp.extensions import db
from webapp.models import (
    MediaItem,
    Network,
    NetworkApp,
    Post,
    PostMedia,
    PostStatus,
    Role,
    SocialProfile,
    utcnow,
)
from webapp.profiles import PENDING_KEY
from webapp.publishers import mastodon as adapter_module
from webapp.storage import media_storage

from . import factories
from .html import Html
from .mastodon_instance import ACCOUNT, SCOPES, Answer, MastodonInstance

ROSTER = "http://roster.test"
CALLBACK = f"{ROSTER}/oauth/callback/mastodon"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def instance(httpserver) -> MastodonInstance:
    return MastodonInstance(httpserver)


@pytest.fixture
def agency(app):
    """Northstar: Maya's group with an empty set, and Sam, a manager there."""
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    world = {
        "account": account, "group": group, "owner": factories.owner_of(account),
        "sam": factories.make_member(account, Role.MANAGER, groups=[group], name="Sam"),
        "set": factories.make_social_set(group, "Maya Main"),
        "second_set": factories.make_social_set(group, "Maya Extra"),
    }
    db.session.commit()
    return world


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The adapter's pauses while media is processed, recorded instead of waited."""
    taken: list[float] = []
    monkeypatch.setattr(adapter_module, "sleep", taken.append)
    return taken


def connect_url(social_set, **query) -> str:
    suffix = "&".join(f"{name}={value}" for name, value in query.items())
    return f"/social-sets/{social_set.id}/connect/mastodon" + (f"?{suffix}" if suffix else "")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == ROSTER, url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def start(client, social_set, instance_text: str, **data) -> str:
    """Name the instance on Roster's form; returns where Roster sends the browser."""
    response = client.post(connect_url(social_set), data={"instance": instance_text, "origin": "settings", **data})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.location


def connect(client, instance: MastodonInstance, social_set, account: dict | None = None):
    """The whole round trip: Roster's form, the instance's consent, Roster's callback."""
    location = start(client, social_set, instance.url)
    return client.get(path_of(instance.consent(location, account)))


def stored(model, *conditions) -> list:
    return list(db.session.scalars(
        select(model).where(*conditions).order_by(model.id).execution_options(populate_existing=True)))


def mastodon_profile(social_set, instance: MastodonInstance, token: str = "token-of-maya") -> SocialProfile:
    """A profile connected on the instance, with a token the instance knows."""
    profile = factories.make_profile(social_set, Network.MASTODON, f"maya@{instance.host}")
    profile.external_id = ACCOUNT["id"]
    profile.service_url = instance.url
    profile.access_token, profile.refresh_token = token, None
    instance.tokens[token] = ACCOUNT
    return profile


def image(group, name: str, alt_text: str | None) -> MediaItem:
    item = factories.make_media(group, name)
    item.storage_key = media_storage().save(PNG + name.encode(), ".png")
    item.alt_text = alt_text
    return item


def due_post(profile: SocialProfile, caption: str = "Spring drop is live", media=(), **options) -> Post:
    post = factories.make_post(profile, PostStatus.SCHEDULED, in_days=-1 / (24 * 60), caption=caption)
    post.options = options or None
    for position, item in enumerate(media):
        db.session.add(PostMedia(post_id=post.id, media_item_id=item.id, position=position))
    db.session.commit()
    return post


def reread(post: Post) -> Post:
    [post] = stored(Post, Post.id == post.id)
    return post


# --- connecting ---------------------------------------------------------------------------------------


def test_connecting_registers_roster_signs_in_with_pkce_and_stores_the_profile(client, auth, agency, instance):
    """Form → app registration → the instance's authorize URL (PKCE S256) → callback → token exchange
    with the verifier → verify_credentials → the profile in the slot, its token encrypted at rest."""
    auth.login(agency["owner"])
    form = Html(client.get(connect_url(agency["set"], origin="settings")))
    assert form.by_role("heading", "Connect a Mastodon profile")
    assert form.by_label("Your Mastodon server").attributes["name"] == "instance"

    location = start(client, agency["set"], f"{instance.url}/@maya")

    # Roster read the instance's limits, then registered itself: form-encoded, no credentials.
    assert instance.calls() == [("GET", "/api/v2/instance"), ("POST", "/api/v1/apps")]
    reading, registering = instance.seen
    assert "Authorization" not in reading.headers and "Authorization" not in registering.headers
    assert registering.content_type == "application/x-www-form-urlencoded"
    assert registering.form == {"client_name": ["Roster"], "redirect_uris": [CALLBACK], "scopes": [SCOPES],
                                "website": [ROSTER]}
    [client_id] = instance.apps

    # Off to the instance's own sign-in, with PKCE.
    assert location.startswith(f"{instance.url}/oauth/authorize?")
    params = query_of(location)
    assert params == {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": SCOPES,
                      "state": params["state"], "code_challenge": params["code_challenge"],
                      "code_challenge_method": "S256"}
    with client.session_transaction() as session:
        pending = session[PENDING_KEY][params["state"]]
        kept = json.dumps(dict(session))
    assert pending["network"] == "mastodon" and pending["server_url"] == instance.url
    assert s256(pending["verifier"]) == params["code_challenge"]
    assert instance.apps[client_id]["client_secret"] not in kept  # the app's secret stays in the database

    instance.forget()
    answer = client.get(path_of(instance.consent(location)))
    assert answer.status_code == 303 and answer.location == f"/settings/access-groups/{agency['group'].id}"

    # The code went back with the verifier and the app's credentials; the profile was read with the token.
    assert instance.calls() == [("POST", "/oauth/token"), ("GET", "/api/v1/accounts/verify_credentials")]
    exchange, lookup = instance.seen
    assert exchange.content_type.partition(";")[0] == "application/x-www-form-urlencoded"
    assert exchange.form == {"grant_type": ["authorization_code"], "code": exchange.form["code"],
                             "redirect_uri": [CALLBACK], "code_verifier": [pending["verifier"]],
                             "client_id": [client_id], "client_secret": [instance.apps[client_id]["client_secret"]]}
    [token] = instance.tokens
    assert lookup.headers["Authorization"] == f"Bearer {token}"

    page = Html(client.get(answer.location))
    assert page.has_text(f"Mastodon profile @maya@{instance.host} connected to “Maya Main”.")
    [profile] = stored(SocialProfile, SocialProfile.social_set_id == agency["set"].id)
    assert (profile.network, profile.handle, profile.display_name, profile.external_id) == (
        "mastodon", f"maya@{instance.host}", "Maya Lopez", ACCOUNT["id"])
    assert profile.service_url == instance.url and profile.avatar_url == ACCOUNT["avatar_static"]
    assert profile.access_token == token and profile.refresh_token is None and profile.token_expires_at is None
    raw_token = db.session.execute(text("SELECT access_token FROM social_profiles WHERE id = :id"),
                                   {"id": profile.id}).scalar_one()
    assert token.encode() not in bytes(raw_token)

    [registered] = stored(NetworkApp)
    assert (registered.network, registered.server_url, registered.client_id, registered.redirect_uri) == (
        "mastodon", instance.url, client_id, CALLBACK)
    assert registered.client_secret == instance.apps[client_id]["client_secret"]
    raw_secret = db.session.execute(text("SELECT client_secret FROM network_apps")).scalar_one()
    assert registered.client_secret.encode() not in bytes(raw_secret)
    assert registered.limits["max_characters"] == 1000 and registered.limits_read_at is not None


def test_roster_registers_once_per_instance_and_again_when_its_address_changes(client, auth, agency, instance, app):
    auth.login(agency["owner"])
    assert connect(client, instance, agency["set"]).status_code == 303
    assert [call for call in instance.calls() if call == ("POST", "/api/v1/apps")] == [("POST", "/api/v1/apps")]

    instance.forget()
    start(client, agency["second_set"], instance.url)
    assert instance.calls() == [("GET", "/api/v2/instance")], "the app registered before is used again"
    assert len(instance.apps) == 1

    instance.forget()
    app.config["ROSTER_URL"] = "http://new-roster.test"
    location = start(client, agency["second_set"], instance.url)
    assert instance.calls() == [("GET", "/api/v2/instance"), ("POST", "/api/v1/apps")]
    assert instance.seen[1].form["redirect_uris"] == ["http://new-roster.test/oauth/callback/mastodon"]
    assert instance.seen[1].form["website"] == ["http://new-roster.test"]
    new_client_id = query_of(location)["client_id"]
    [registered] = stored(NetworkApp)
    assert registered.client_id == new_client_id and len(instance.apps) == 2
    assert registered.redirect_uri == "http://new-roster.test/oauth/callback/mastodon"
    assert query_of(location)["redirect_uri"] == registered.redirect_uri


def test_the_instance_limits_are_read_when_connecting_then_once_a_day_by_the_worker(client, auth, agency, instance):
    auth.login(agency["owner"])
    connect(client, instance, agency["set"])
    [profile] = stored(SocialProfile)
    instance.forget()

    limits = mastodon.instance_limits(profile)
    assert (limits["max_characters"], limits["max_media_attachments"], limits["characters_reserved_per_url"]) == (
        1000, 6, 23)
    assert (limits["image_size_limit"], limits["video_size_limit"], limits["description_limit"]) == (
        10485760, 41943040, 1500)
    assert "video/mp4" in limits["supported_mime_types"] and limits["known"] is True
    assert instance.calls() == [], "read less than a day ago"

    [registered] = stored(NetworkApp)
    registered.limits_read_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    instance.configuration = {**instance.configuration, "statuses": {
        "max_characters": 5000, "max_media_attachments": 4, "characters_reserved_per_url": 23}}
    assert mastodon.instance_limits(profile)["max_characters"] == 1000
    assert instance.calls() == [], "a page or a schedule never waits on the instance"
    assert mastodon.refresh_stale_limits() == 1
    assert mastodon.refresh_stale_limits() == 0, "kept for a day"
    assert mastodon.instance_limits(profile)["max_characters"] == 5000
    assert instance.calls() == [("GET", "/api/v2/instance")]
    [registered] = stored(NetworkApp)
    assert registered.limits["max_characters"] == 5000 and utcnow() - registered.limits_read_at < timedelta(minutes=1)


def test_an_instance_roster_knows_nothing_of_has_mastodons_defaults(app, agency):
    profile = factories.make_profile(agency["set"], Network.MASTODON, "maya@unknown.example")
    limits = mastodon.instance_limits(profile)
    assert (limits["max_characters"], limits["max_media_attachments"], limits["known"]) == (500, 4, False)


def test_the_limits_of_many_profiles_take_one_query(app, agency, instance, count_queries):
    known = mastodon_profile(agency["set"], instance)
    db.session.add(NetworkApp(network="mastodon", server_url=instance.url, client_id="c", client_secret="s",
                              redirect_uri=CALLBACK, limits={"max_characters": 1000}, limits_read_at=utcnow()))
    unknown = factories.make_profile(agency["second_set"], Network.MASTODON, "leo@elsewhere.social")
    unknown.service_url = "https://elsewhere.social"
    db.session.commit()
    profiles = list(db.session.scalars(select(SocialProfile).order_by(SocialProfile.id)))  # as a page loads them
    with count_queries() as counter:
        limits = mastodon.limits_by_profile(profiles)
    assert counter.count == 1 and instance.calls() == []
    assert limits[known.id]["max_characters"] == 1000 and limits[known.id]["known"]
    assert limits[unknown.id]["max_characters"] == 500 and not limits[unknown.id]["known"]


# --- publishing ---------------------------------------------------------------------------------------


def test_a_post_with_two_images_goes_out_with_alt_text_warning_visibility_and_language(app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    first = image(agency["group"], "look-1.png", "Maya in a green coat on a rooftop")
    second = image(agency["group"], "look-2.png", "Close-up of the coat's stitching")
    post = due_post(profile, "Spring drop is live 🌱", media=[first, second], content_warning="Fashion talk",
                    visibility="unlisted", language="en")

    assert publishing.publish_due().published == 1

    assert instance.calls() == [("POST", "/api/v2/media"), ("POST", "/api/v2/media"), ("POST", "/api/v1/statuses")]
    for upload, item in zip(instance.seen[:2], (first, second)):
        assert upload.headers["Authorization"] == "Bearer token-of-maya"
        assert upload.content_type.startswith("multipart/form-data; boundary=")
        assert upload.form == {"description": [item.alt_text]}
        assert upload.files == {"file": (item.name, "image/png", PNG + item.name.encode())}
        assert "Idempotency-Key" not in upload.headers
    status = instance.seen[2]
    assert status.headers["Authorization"] == "Bearer token-of-maya"
    assert status.headers["Idempotency-Key"] == f"roster-post-{post.id}"
    assert status.content_type == "application/x-www-form-urlencoded"
    assert status.form == {"status": ["Spring drop is live 🌱"], "visibility": ["unlisted"],
                           "media_ids[]": list(instance.media), "spoiler_text": ["Fashion talk"], "language": ["en"]}

    [made] = instance.statuses.values()
    post = reread(post)
    assert (post.status, post.external_id, post.external_url, post.publish_error) == (
        "published", made["id"], made["url"], None)


def test_plain_text_is_public_and_sends_no_choices_it_was_not_given(app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    due_post(profile, "Hello fediverse")
    assert publishing.publish_due().published == 1
    [status] = instance.seen
    assert status.form == {"status": ["Hello fediverse"], "visibility": ["public"]}


def test_media_still_processing_is_awaited_then_the_post_goes_out(app, agency, instance, pauses):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile, media=[image(agency["group"], "clip.png", None)])
    instance.processing_looks = 3

    assert publishing.publish_due().published == 1

    [media_id] = instance.media
    assert instance.calls() == [("POST", "/api/v2/media")] + [("GET", f"/api/v1/media/{media_id}")] * 3 + [
        ("POST", "/api/v1/statuses")]
    assert all(seen.headers["Authorization"] == "Bearer token-of-maya" for seen in instance.seen)
    assert pauses == [1, 2, 3], "growing pauses between looks"
    assert instance.seen[0].form == {}, "no description for an item without alt text"
    assert instance.seen[-1].form["media_ids[]"] == [media_id]
    assert reread(post).status == "published"


def test_media_processing_past_the_bound_tries_the_post_later(app, agency, instance, pauses):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile, media=[image(agency["group"], "long.png", "A long clip")])
    instance.processing_looks = 100
    now = utcnow()

    report = publishing.publish_due(now=now)

    assert (report.published, report.failed, report.given_up) == (0, 1, 0)
    assert pauses == list(adapter_module.MEDIA_WAITS) and 55 <= sum(pauses) <= 65
    assert ("POST", "/api/v1/statuses") not in instance.calls()
    post = reread(post)
    assert post.status == "scheduled" and post.next_publish_at > now
    assert post.publish_error == f"{instance.host} is still processing long.png; Roster will try the post again."


def test_a_rate_limit_is_waited_out_until_the_reset_it_names(app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile)
    reset = (utcnow() + timedelta(minutes=7)).replace(microsecond=0)
    instance.status_answers.append(Answer(429, {"error": "Too many requests"}, {
        "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")}))
    now = utcnow() + timedelta(seconds=2)

    assert publishing.publish_due(now=now).failed == 1
    post = reread(post)
    assert post.next_publish_at >= reset, "tried again no sooner than the instance's reset"
    assert post.publish_error == f"{instance.host} asked Roster to slow down: Too many requests."

    instance.forget()
    assert publishing.publish_due(now=reset - timedelta(seconds=1)).published == 0
    assert instance.calls() == []
    assert publishing.publish_due(now=post.next_publish_at).published == 1
    assert instance.calls() == [("POST", "/api/v1/statuses")]
    assert reread(post).status == "published"


def test_a_revoked_token_marks_the_profile_reconnect_needed(client, auth, app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile)
    instance.revoke_all()

    report = publishing.publish_due()

    assert (report.failed, report.given_up) == (1, 1)
    [profile] = stored(SocialProfile, SocialProfile.id == profile.id)
    assert profile.needs_reconnect
    post = reread(post)
    assert post.next_publish_at is None and "no longer accepts this profile's sign-in" in post.publish_error
    assert "The access token was revoked" in post.publish_error

    auth.login(agency["owner"])
    slots = Html(client.get(f"/settings/access-groups/{agency['group'].id}"))
    assert slots.has_text("Reconnect needed")
    instance.forget()
    assert publishing.publish_due(now=utcnow() + timedelta(hours=2)).failed == 0
    assert instance.calls() == [], "no retry until the profile is reconnected"


def test_reconnecting_on_the_same_instance_sends_the_failed_post_again(client, auth, app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile)
    instance.revoke_all()
    publishing.publish_due()
    db.session.add(NetworkApp(network="mastodon", server_url=instance.url, client_id="client-0",
                              client_secret="secret-0", redirect_uri="http://old-roster.test/oauth/callback/mastodon"))
    db.session.commit()

    auth.login(agency["owner"])
    form = Html(client.get(connect_url(agency["set"], origin="settings", reconnect="y")))
    assert form.by_role("heading", f"Reconnect @maya@{instance.host}")
    assert form.by_label("Your Mastodon server").attributes["value"] == instance.host

    refused = client.post(connect_url(agency["set"]), data={"instance": "mastodon.social", "reconnect": "y"})
    assert refused.status_code == 422
    assert Html(refused).has_text(f"@maya@{instance.host} is on {instance.host}: reconnect it there.")

    location = start(client, agency["set"], instance.url, reconnect="y")
    answer = client.get(path_of(instance.consent(location)))
    assert answer.status_code == 303
    assert Html(client.get(answer.location)).has_text(f"Mastodon profile @maya@{instance.host} reconnected in")
    [profile] = stored(SocialProfile)
    assert not profile.needs_reconnect and profile.access_token in instance.tokens
    post = reread(post)
    assert post.publish_error is None and post.publish_attempts == 0

    instance.forget()
    assert publishing.publish_due().published == 1
    assert instance.seen[0].headers["Authorization"] == f"Bearer {profile.access_token}"


def test_a_refusal_shows_the_instances_words_on_the_post_and_is_not_retried(client, auth, app, agency, instance):
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile, "x" * 1200)
    instance.status_answers.append(Answer(422, {"error": "Validation failed: Text character limit of 1000 exceeded"}))

    report = publishing.publish_due()

    assert (report.failed, report.given_up) == (1, 1)
    post = reread(post)
    assert post.publish_error == (f"{instance.host} refused the post: "
                                  "Validation failed: Text character limit of 1000 exceeded")
    assert post.next_publish_at is None and post.status == "scheduled"
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}"))
    assert page.has_text("Publishing failed: " + post.publish_error)
    instance.forget()
    publishing.publish_due(now=utcnow() + timedelta(days=1))
    assert instance.calls() == []


def test_a_second_try_after_a_lost_answer_sends_the_same_idempotency_key(app, agency, instance):
    """The instance made the status but its answer never came back (a 502 from its proxy): the next
    try carries the same key, and the instance hands back the status it made."""
    profile = mastodon_profile(agency["set"], instance)
    post = due_post(profile)
    instance.status_answers.append(Answer(502, {"error": "Bad gateway"}, made=True))
    now = utcnow()

    assert publishing.publish_due(now=now).failed == 1
    post = reread(post)
    assert post.status == "scheduled" and "had a problem on its side (502)" in post.publish_error

    assert publishing.publish_due(now=post.next_publish_at).published == 1
    first, second = instance.seen
    assert (first.method, first.path) == (second.method, second.path) == ("POST", "/api/v1/statuses")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == f"roster-post-{post.id}"
    assert first.form == second.form
    [made] = instance.statuses.values()
    post = reread(post)
    assert (post.status, post.external_id, post.external_url) == ("published", made["id"], made["url"])
