"""Each network's rules for a post: its text as the network counts it, and its attachments.

The limits follow the networks' documentation as webapp/network_rules.py names it: the Bluesky lexicons
app.bsky.feed.post and app.bsky.embed.images; Mastodon 4's GET /api/v2/instance configuration and its
status length counting; the Instagram Graph API's content publishing (IG User Media, v21); the Facebook
Graph API's Page Photos; LinkedIn's Images API (versioned, 2024). The composer applies them live (its
page carries them here) and scheduling applies them again on the server.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp import network_rules
from webapp import posts as rules
from webapp.extensions import db
from webapp.models import (
    MediaItem,
    Network,
    NetworkApp,
    Post,
    PostStatus,
    ProfileApprover,
    Role,
    SocialProfile,
    utcnow,
)
from webapp.network_rules import GB, MB

from . import factories
from .html import HTMX, Html

_ids = iter(range(1000, 100000))


def profile(network: Network, service_url: str | None = None) -> SocialProfile:
    """A profile as the rules see it (not saved)."""
    return SocialProfile(id=next(_ids), network=network.value, handle="someone", service_url=service_url)


def image(name: str = "photo.jpg", content_type: str = "image/jpeg", byte_size: int = 200_000,
          width: int | None = 1080, height: int | None = 1080) -> MediaItem:
    return MediaItem(name=name, kind="image", content_type=content_type, byte_size=byte_size, width=width,
                     height=height)


def video(name: str = "clip.mp4", byte_size: int = 2_000_000) -> MediaItem:
    return MediaItem(name=name, kind="video", content_type="video/mp4", byte_size=byte_size)


def messages(caption: str = "Hello", media: list[MediaItem] | None = None, profiles=(), options=None) -> list[str]:
    return [problem.message for problem in network_rules.problems(caption, media or [], list(profiles), options)]


# --- text ----------------------------------------------------------------------------------------------

NOUNS = {Network.INSTAGRAM: "captions", Network.TIKTOK: "captions", Network.PINTEREST: "descriptions",
         Network.YOUTUBE: "descriptions"}


@pytest.mark.parametrize("network", list(Network), ids=lambda network: network.value)
def test_each_network_takes_text_up_to_its_limit_and_names_it_one_over(app, network):
    limit = network_rules.CAPTION_LIMITS[network.value]
    chosen = [profile(network)]
    media = [image()]  # Instagram needs one
    assert messages("x" * limit, media, chosen) == []
    noun = NOUNS.get(network, "posts")
    assert messages("x" * (limit + 1), media, chosen) == [
        f"{network.label} takes {noun} of up to {limit:,} characters; this one has {limit + 1:,}."]


def test_the_limits_are_the_networks_own():
    assert {network: network_rules.CAPTION_LIMITS[network.value] for network in (
        Network.BLUESKY, Network.MASTODON, Network.X, Network.INSTAGRAM, Network.LINKEDIN)} == {
        Network.BLUESKY: 300, Network.MASTODON: 500, Network.X: 280, Network.INSTAGRAM: 2200, Network.LINKEDIN: 3000}


@pytest.mark.parametrize("character, code_points", [
    ("👍🏽", 2),  # an emoji with its skin tone
    ("🇫🇷", 2),  # a flag: two regional indicators
    ("e\u0301", 2),  # e and a combining acute accent
    ("👩‍👩‍👧‍👦", 7),  # a family joined by zero-width joiners
    ("각", 1),  # one precomposed syllable
])
def test_bluesky_counts_what_a_reader_sees_as_one_character(app, character, code_points):
    assert len(character) == code_points
    bluesky = [profile(Network.BLUESKY)]
    assert network_rules.graphemes(character * 300) == 300
    assert messages(character * 300, profiles=bluesky) == []
    assert messages(character * 301, profiles=bluesky) == [
        "Bluesky takes posts of up to 300 characters; this one has 301."]


def test_x_counts_code_points_as_before(app):
    x = [profile(Network.X)]
    assert messages("👍🏽" * 140, profiles=x) == []  # 280 code points
    assert messages("👍🏽" * 140 + "!", profiles=x) == ["X takes posts of up to 280 characters; this one has 281."]


def test_mastodon_counts_each_link_as_23_characters_and_a_mention_by_its_local_part(app):
    mastodon = [profile(Network.MASTODON)]
    link = "https://example.com/" + "long-path/" * 20  # 220 characters
    text = "a" * 476 + " " + link  # 476 + 1 + 23 = 500
    assert len(text) > 600
    assert network_rules.RULES["mastodon"].length(text) == 500
    assert messages(text, profiles=mastodon) == []
    assert messages("a" + text, profiles=mastodon) == [
        "Mastodon takes posts of up to 500 characters; this one has 501."]
    # Punctuation after a link ends the sentence, not the link; a link glued to a word is no link.
    assert network_rules.mastodon_text("see https://example.com/a_(b)). ok") == "see " + "x" * 23 + "). ok"
    assert network_rules.mastodon_text("nohttps://example.com") == "nohttps://example.com"
    # @name@server counts as @name; an address in an email is no mention.
    assert network_rules.mastodon_text("hi @alice@very.long.instance.example!") == "hi @alice!"
    assert network_rules.mastodon_text("mail bob@example.com") == "mail bob@example.com"
    mention = "@alice@very.long.instance.example "
    assert messages(mention + "b" * (500 - len("@alice ")), profiles=mastodon) == []


def test_mastodon_counts_graphemes_and_its_content_warning_with_the_text(app):
    mastodon = [profile(Network.MASTODON)]
    assert messages("🇫🇷" * 500, profiles=mastodon) == []
    warning = {"content_warning": "Spoilers for the finale"}  # 23 characters
    assert messages("a" * 477, profiles=mastodon, options=warning) == []
    assert messages("a" * 478, profiles=mastodon, options=warning) == [
        "Mastodon takes posts of up to 500 characters, content warning included; this one has 501."]
    # Only Mastodon counts it: Bluesky's text alone is measured.
    assert messages("a" * 300, profiles=[profile(Network.BLUESKY)], options=warning) == []


def mastodon_instance(server_url: str, limits: dict | None) -> NetworkApp:
    app_row = NetworkApp(network=Network.MASTODON.value, server_url=server_url, client_id="roster",
                         redirect_uri="http://roster.test/oauth/callback/mastodon", limits=limits,
                         limits_read_at=utcnow())  # read just now: nothing is asked of the instance
    db.session.add(app_row)
    db.session.flush()
    return app_row


def test_a_mastodon_instance_sets_its_own_limits_and_is_named_in_the_message(app):
    mastodon_instance("https://big.example", {"max_characters": 1000, "max_media_attachments": 6,
                                              "characters_reserved_per_url": 30, "image_size_limit": 2 * MB,
                                              "video_size_limit": 40 * MB})
    big = [profile(Network.MASTODON, "https://big.example")]
    unknown = [profile(Network.MASTODON, "https://mastodon.social")]  # Roster has not read its limits
    assert messages("a" * 1000, profiles=big) == []
    assert messages("a" * 1001, profiles=big) == [
        "Mastodon (big.example) takes posts of up to 1,000 characters; this one has 1,001."]
    assert network_rules.rules_for(big)[big[0].id].length("https://example.com") == 30
    assert messages("a" * 501, profiles=unknown) == [
        "Mastodon (mastodon.social) takes posts of up to 500 characters; this one has 501."]
    six = [image(f"p{n}.jpg") for n in range(6)]
    assert messages(media=six, profiles=big) == []
    assert messages(media=six[:5], profiles=unknown) == [
        "Mastodon (mastodon.social) takes up to 4 attachments; this post has 5."]
    assert messages(media=[image("big.jpg", byte_size=2 * MB + 1)], profiles=big) == [
        "Mastodon (big.example) takes images of up to 2 MB; “big.jpg” is 2.1 MB."]


def test_profiles_on_one_instance_ask_for_its_limits_once(app, monkeypatch):
    asked = []
    monkeypatch.setattr(network_rules, "instance_limits", lambda profile: asked.append(profile.service_url) or {})
    chosen = [profile(Network.MASTODON, "https://mastodon.social"),
              profile(Network.MASTODON, "https://mastodon.social/"), profile(Network.MASTODON, "https://fosstodon.org")]
    assert {rules.name for rules in network_rules.rules_for(chosen).values()} == {
        "Mastodon (mastodon.social)", "Mastodon (fosstodon.org)"}
    assert asked == ["https://mastodon.social", "https://fosstodon.org"]


# --- media ---------------------------------------------------------------------------------------------


def test_bluesky_takes_up_to_four_images_of_a_million_bytes_and_no_video(app):
    bluesky = [profile(Network.BLUESKY)]
    four = [image(f"p{n}.jpg") for n in range(4)]
    assert messages(media=four, profiles=bluesky) == []
    assert messages(media=four + [image("p5.jpg")], profiles=bluesky) == [
        "Bluesky takes up to 4 images; this post has 5."]
    assert messages(media=[image("big.png", "image/png", 1_000_000)], profiles=bluesky) == []
    assert messages(media=[image("big.png", "image/png", 1_000_001)], profiles=bluesky) == [
        "Bluesky takes images of up to 1,000,000 bytes; “big.png” is 1,000,001 bytes."]
    assert messages(media=[video("clip.mp4")], profiles=bluesky) == [
        "Bluesky posts from Roster take images only for now; “clip.mp4” is a video."]


def test_instagram_needs_media_up_to_ten_and_jpeg_images_within_its_size_and_shape(app):
    instagram = [profile(Network.INSTAGRAM)]
    assert messages(profiles=instagram) == ["Instagram needs at least one image or video."]
    ten = [image(f"p{n}.jpg") for n in range(9)] + [video()]
    assert messages(media=ten, profiles=instagram) == []
    assert messages(media=ten + [image()], profiles=instagram) == [
        "Instagram takes up to 10 attachments; this post has 11."]
    assert messages(media=[image("beach.png", "image/png")], profiles=instagram) == [
        "Instagram takes JPEG images only; “beach.png” is in another format."]
    assert messages(media=[image("big.jpg", byte_size=8 * MB)], profiles=instagram) == []
    assert messages(media=[image("big.jpg", byte_size=8 * MB + 1)], profiles=instagram) == [
        "Instagram takes images of up to 8 MB; “big.jpg” is 8.1 MB."]
    for width, height in ((1080, 1350), (1910, 1000), (1080, 1080)):  # 4:5, 1.91:1, square
        assert messages(media=[image("fits.jpg", width=width, height=height)], profiles=instagram) == []
    assert messages(media=[image("tall.jpg", width=1080, height=1351)], profiles=instagram) == [
        "Instagram takes images with an aspect ratio from 4:5 to 1.91:1; “tall.jpg” is 1080 × 1351 pixels."]
    assert messages(media=[image("wide.jpg", width=1911, height=1000)], profiles=instagram) == [
        "Instagram takes images with an aspect ratio from 4:5 to 1.91:1; “wide.jpg” is 1911 × 1000 pixels."]
    assert messages(media=[image("unknown.jpg", width=None, height=None)], profiles=instagram) == []
    assert messages(media=[video("reel.mp4", GB)], profiles=instagram) == []
    assert messages(media=[video("reel.mp4", GB + 1)], profiles=instagram) == [
        "Instagram takes videos of up to 1 GB; “reel.mp4” is 1.1 GB."]


def test_mastodon_takes_four_attachments_by_default_and_a_video_alone(app):
    mastodon = [profile(Network.MASTODON)]
    assert messages(media=[image(f"p{n}.jpg") for n in range(4)], profiles=mastodon) == []
    assert messages(media=[image(f"p{n}.jpg") for n in range(5)], profiles=mastodon) == [
        "Mastodon takes up to 4 attachments; this post has 5."]
    assert messages(media=[video()], profiles=mastodon) == []
    assert messages(media=[video("clip.mp4"), image("still.jpg")], profiles=mastodon) == [
        "Mastodon takes a video only on its own; this post has 2 attachments."]
    assert messages(media=[image("big.png", "image/png", 16 * MB)], profiles=mastodon) == []
    assert messages(media=[image("big.png", "image/png", 16 * MB + 1)], profiles=mastodon) == [
        "Mastodon takes images of up to 16 MB; “big.png” is 16.1 MB."]
    assert messages(media=[video("long.mov", 99 * MB + 1)], profiles=mastodon) == [
        "Mastodon takes videos of up to 99 MB; “long.mov” is 99.1 MB."]


def test_facebook_takes_up_to_ten_photos_of_four_megabytes_and_no_video(app):
    facebook = [profile(Network.FACEBOOK)]
    ten = [image(f"p{n}.png", "image/png", 4 * MB) for n in range(10)]
    assert messages(media=ten, profiles=facebook) == []
    assert messages(media=ten + [image()], profiles=facebook) == ["Facebook takes up to 10 images; this post has 11."]
    assert messages(media=[image("big.png", "image/png", 4 * MB + 1)], profiles=facebook) == [
        "Facebook takes images of up to 4 MB; “big.png” is 4.1 MB."]
    assert messages(media=[video("clip.mp4")], profiles=facebook) == [
        "Facebook posts from Roster take images only for now; “clip.mp4” is a video."]


def test_linkedin_takes_up_to_twenty_jpeg_gif_or_png_images_within_its_pixels(app):
    linkedin = [profile(Network.LINKEDIN)]
    twenty = [image(f"p{n}.gif", "image/gif") for n in range(20)]
    assert messages(media=twenty, profiles=linkedin) == []
    assert messages(media=twenty + [image()], profiles=linkedin) == [
        "LinkedIn takes up to 20 images; this post has 21."]
    assert messages(media=[image("art.webp", "image/webp")], profiles=linkedin) == [
        "LinkedIn takes JPEG, GIF or PNG images only; “art.webp” is in another format."]
    assert messages(media=[image("huge.jpg", width=7360, height=4912)], profiles=linkedin) == []  # 36,152,320
    assert messages(media=[image("huge.jpg", width=7361, height=4912)], profiles=linkedin) == [
        "LinkedIn takes images of up to 36,152,320 pixels; “huge.jpg” is 7361 × 4912 pixels."]
    assert messages(media=[video()], profiles=linkedin) == [
        "LinkedIn posts from Roster take images only for now; “clip.mp4” is a video."]


@pytest.mark.parametrize("network", [Network.X, Network.TIKTOK, Network.THREADS, Network.YOUTUBE],
                         ids=lambda network: network.value)
def test_the_other_networks_keep_ten_attachments_of_any_kind(app, network):
    chosen = [profile(network)]
    ten = [image(f"p{n}.png", "image/png", 50 * MB) for n in range(9)] + [video("clip.mp4", 2 * GB)]
    assert messages(media=ten, profiles=chosen) == []
    assert messages(media=ten + [image()], profiles=chosen) == [
        f"{network.label} takes up to 10 attachments; this post has 11."]


def test_every_chosen_networks_rules_apply_the_strictest_text_limit_first(app):
    chosen = [profile(Network.INSTAGRAM), profile(Network.BLUESKY), profile(Network.X),
              profile(Network.MASTODON), profile(Network.BLUESKY)]  # two Bluesky profiles: said once
    media = [video("clip.mp4"), image("still.png", "image/png")]
    assert messages("y" * 310, media, chosen) == [
        "X takes posts of up to 280 characters; this one has 310.",
        "Bluesky takes posts of up to 300 characters; this one has 310.",
        "Instagram takes JPEG images only; “still.png” is in another format.",
        "Bluesky posts from Roster take images only for now; “clip.mp4” is a video.",
        "Mastodon takes a video only on its own; this post has 2 attachments.",
    ]
    found = network_rules.problems("y" * 310, media, chosen)
    assert [problem.field for problem in found] == ["caption", "caption", "media", "media", "media"]


def test_the_composer_gets_the_same_sentences_with_places_for_the_numbers(app):
    chosen = [profile(Network.BLUESKY), profile(Network.MASTODON, "https://mastodon.social")]
    setup = network_rules.for_composer(network_rules.rules_for(chosen))
    assert setup["profiles"] == {str(chosen[0].id): "Bluesky", str(chosen[1].id): "Mastodon (mastodon.social)"}
    bluesky = setup["rules"]["Bluesky"]
    assert (bluesky["max"], bluesky["counting"], bluesky["maxMedia"], bluesky["kinds"]) == (
        300, "graphemes", 4, ["image"])
    assert bluesky["say"]["long"].replace("{count}", "312") == (
        "Bluesky takes posts of up to 300 characters; this one has 312.")
    assert bluesky["say"]["video"].replace("{item}", "clip.mp4") == (
        network_rules.RULES["bluesky"].video_not_taken("clip.mp4"))
    assert "aspect" not in bluesky["say"]  # no rule, no sentence
    mastodon = setup["rules"]["Mastodon (mastodon.social)"]
    assert (mastodon["counting"], mastodon["urlLength"], mastodon["videoAlone"]) == ("mastodon", 23, True)
    assert set(setup["patterns"]) == {"link", "linkEnd", "mention"}


# --- scheduling ------------------------------------------------------------------------------------------


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    social_set = factories.make_social_set(maya, "Maya Main")
    bluesky = factories.make_profile(social_set, Network.BLUESKY, handle="maya.bsky.social")
    mastodon = factories.make_profile(social_set, Network.MASTODON, handle="maya@mastodon.social")
    mastodon.service_url = "https://mastodon.social"
    instagram = factories.make_profile(social_set, Network.INSTAGRAM, handle="maya")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager")
    clip = factories.make_media(maya, "clip.mp4")
    clip.kind, clip.content_type = "video", "video/mp4"
    photo = factories.make_photo(maya, "beach.jpg")
    db.session.commit()
    return dict(account=account, maya=maya, bluesky=bluesky, mastodon=mastodon, instagram=instagram,
                manager=manager, clip=clip, photo=photo)


def compose(**fields) -> dict:
    day = (datetime.now(timezone.utc) + timedelta(days=2)).date()
    data = {"caption": "Summer is here", "date": day.isoformat(), "time": "09:30", "schedule": "y"}
    data.update(fields)
    return data


def test_scheduling_is_refused_with_the_first_broken_rule_and_nothing_is_saved(agency, auth, client):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts", data=compose(
        profiles=[agency["bluesky"].id, agency["instagram"].id], caption="é" * 301, media=[agency["clip"].id]))
    assert response.status_code == 422
    page = Html(response)
    assert page.by_role("alert").text().strip() == "Bluesky takes posts of up to 300 characters; this one has 301."
    # Every broken rule is listed under the post, the first among them.
    assert [item.text() for item in page.css("#composer-rules li")] == [
        "Bluesky takes posts of up to 300 characters; this one has 301.",
        "Bluesky posts from Roster take images only for now; “clip.mp4” is a video."]
    assert db.session.scalars(select(Post)).all() == []


def test_a_draft_may_break_the_rules_until_it_is_scheduled(agency, auth, client):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts", data=compose(
        profiles=[agency["instagram"].id], caption="Idea", schedule=None, save_draft="y"))
    assert response.status_code == 303
    post = db.session.scalars(select(Post)).one()
    assert post.status == PostStatus.DRAFT.value
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}", data=compose(caption="Idea"))
    assert response.status_code == 422
    assert Html(response).by_role("alert").text().strip() == "Instagram needs at least one image or video."
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.DRAFT.value
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}", data=compose(
        caption="Idea", media=[agency["photo"].id]))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.SCHEDULED.value


def test_the_rules_raise_the_first_problem_with_its_field(agency):
    draft = rules.Draft([agency["mastodon"]], "Hello", [agency["clip"], agency["photo"]],
                        datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(rules.PostError) as refused:
        rules.create_posts(agency["maya"], draft, agency["manager"], schedule=True)
    assert (str(refused.value), refused.value.field) == (
        "Mastodon (mastodon.social) takes a video only on its own; this post has 2 attachments.", "media")


# --- the composer page -----------------------------------------------------------------------------------


def test_the_composer_carries_each_profiles_rules_and_each_items_facts(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['maya'].id}/posts/new"))
    form = page.one("form[data-composer]")
    setup = json.loads(form.attributes["data-rules"])
    assert setup["profiles"] == {str(agency["bluesky"].id): "Bluesky", str(agency["instagram"].id): "Instagram",
                                 str(agency["mastodon"].id): "Mastodon (mastodon.social)"}
    assert setup["rules"]["Instagram"]["types"] == ["image/jpeg"]
    picker = Html(client.get(f"/g/{agency['maya'].id}/posts/media-picker?media={agency['clip'].id}", headers=HTMX))
    clip = picker.by_role("checkbox", "clip.mp4")
    assert {name: clip.attributes.get(f"data-{name}") for name in ("name", "kind", "type", "bytes")} == {
        "name": "clip.mp4", "kind": "video", "type": "video/mp4", "bytes": "1234"}
    photo = picker.by_role("checkbox", "beach.jpg")
    assert (photo.attributes["data-width"], photo.attributes["data-height"]) == ("1080", "1080")
    assert page.by_role("textbox", "Caption").attributes["aria-describedby"] == "caption-count composer-rules"
    assert page.one("#composer-rules").attributes["aria-live"] == "polite"


def test_network_options_are_offered_only_where_a_profile_takes_them(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['maya'].id}/posts/new"))
    assert page.options(page.by_label("Who can see it (Mastodon)")) == [
        "Public", "Unlisted", "Followers only", "Mentioned people only"]
    assert page.by_label("Language (Bluesky, Mastodon)")
    assert page.by_label("Content warning (Mastodon, optional)")
    post = factories.make_post(agency["instagram"], status=PostStatus.DRAFT)
    db.session.commit()
    edit = Html(client.get(f"/g/{agency['maya'].id}/posts/{post.id}/edit"))
    assert edit.css(".composer-options") == [] and not edit.has_text("Network options")


# --- options ---------------------------------------------------------------------------------------------


def test_each_post_keeps_the_options_of_its_own_network(agency, auth, client):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts", data=compose(
        profiles=[agency["bluesky"].id, agency["mastodon"].id, agency["instagram"].id], media=[agency["photo"].id],
        content_warning="  Finale spoilers ", visibility="private", language="de"))
    assert response.status_code == 303
    options = {post.social_profile.network: post.options for post in db.session.scalars(select(Post))}
    assert options == {
        "bluesky": {"language": "de"},
        "mastodon": {"content_warning": "Finale spoilers", "visibility": "private", "language": "de"},
        "instagram": None,
    }


def test_a_mastodon_post_is_public_unless_chosen_and_sets_no_language_unless_chosen(agency, auth, client):
    auth.login(agency["manager"])
    client.post(f"/g/{agency['maya'].id}/posts", data=compose(profiles=[agency["mastodon"].id]))
    assert db.session.scalars(select(Post.options)).one() == {"visibility": "public"}


@pytest.mark.parametrize("fields, message", [
    ({"visibility": "everyone"},
     "Choose who can see the post: public, unlisted, followers only or mentioned people only."),
    ({"language": "klingon"}, "Choose the post's language from the list, or leave it not set."),
    ({"content_warning": "w" * 501}, "Keep the content warning to 500 characters."),
])
def test_unknown_options_are_refused_and_nothing_is_saved(agency, auth, client, fields, message):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts", data=compose(profiles=[agency["mastodon"].id], **fields))
    assert response.status_code == 422
    assert Html(response).by_role("alert").text().strip() == message
    assert db.session.scalars(select(Post)).all() == []


def test_editing_keeps_and_changes_the_options_and_the_post_page_shows_them(agency, auth, client):
    auth.login(agency["manager"])
    client.post(f"/g/{agency['maya'].id}/posts", data=compose(
        profiles=[agency["mastodon"].id], content_warning="Spoilers", visibility="unlisted", language="fr"))
    post = db.session.scalars(select(Post)).one()
    edit = Html(client.get(f"/g/{agency['maya'].id}/posts/{post.id}/edit"))
    assert edit.by_label("Content warning (Mastodon, optional)").attributes["value"] == "Spoilers"
    assert edit.one("#visibility option[selected]").text() == "Unlisted"
    assert edit.one("#language option[selected]").text() == "French"
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}", data=compose(
        content_warning="", visibility="direct", language="fr"))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).options == {"visibility": "direct", "language": "fr"}
    page = Html(client.get(f"/g/{agency['maya'].id}/posts/{post.id}"))
    assert page.by_role("heading", "Mastodon options")
    assert [(row.css_first("dt").text(), row.css_first("dd").text()) for row in page.css(".post-options div")] == [
        ("Visibility", "Mentioned people only"), ("Language", "French")]


def test_changing_the_options_of_an_approved_post_sends_it_back_for_approval(agency, auth, client):
    approver = factories.make_member(agency["account"], Role.CLIENT, groups=[agency["maya"]], name="Maya Lopez")
    agency["mastodon"].needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=agency["mastodon"].id, user_id=approver.id))
    db.session.commit()
    [post] = rules.create_posts(agency["maya"], rules.Draft(
        [agency["mastodon"]], "Launch", [], datetime.now(timezone.utc) + timedelta(days=2), {"visibility": "public"}),
        agency["manager"], schedule=True)
    rules.decide(post, approver, "approve")
    db.session.commit()
    rules.update_post(post, rules.Draft([agency["mastodon"]], "Launch", [], post.scheduled_at,
                                        {"visibility": "public", "content_warning": "Loud"}), agency["manager"],
                      schedule=False)
    assert post.status == PostStatus.PENDING_APPROVAL.value and post.options["content_warning"] == "Loud"
