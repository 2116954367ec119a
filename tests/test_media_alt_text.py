"""Alt text of media items: written on the item's page, shown in the grid, missed in the composer."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from webapp import activity, audit
from webapp import media as rules
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    MediaItem,
    MemberRight,
    Network,
    Post,
    PostStatus,
    Role,
)
from webapp.zones import TimeStyle

from . import factories
from .html import HTMX, Html

VERB = "media.alt_text_changed"


@pytest.fixture
def agency(app):
    """Maya's library with a photo and a video; Leo's group; Sam (manager) in both; Maya (client) with
    rights to see the library and write posts, not to change it; Vic (client) who sees only posts; an
    agency next door."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    profile = factories.make_profile(factories.make_social_set(maya), Network.INSTAGRAM, handle="maya")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    creator.memberships[0].rights = [MemberRight(name=right) for right in
                                     ("media.view", "posts.create", "posts.edit")]
    viewer = factories.make_member(account, Role.CLIENT, groups=[maya], name="Vic Viewer")
    photo = factories.make_media(maya, "beach.png")
    video = factories.make_media(maya, "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    leo_photo = factories.make_media(leo, "leo.png")
    rival = factories.make_account("Rival")
    rival_group = factories.default_group(rival)
    factories.add_to_group(factories.owner_of(rival), rival_group)
    rival_photo = factories.make_media(rival_group, "rival.png")
    db.session.commit()
    return dict(account=account, maya=maya, leo=leo, profile=profile, manager=manager, creator=creator,
                viewer=viewer, photo=photo, video=video, leo_photo=leo_photo, rival=rival,
                rival_group=rival_group, rival_photo=rival_photo, owner=factories.owner_of(account),
                rival_owner=factories.owner_of(rival))


def item_url(group, item, suffix: str = "") -> str:
    return f"/g/{group.id}/media/{item.id}{suffix}"


def stored(item) -> str | None:
    db.session.expire_all()
    return db.session.get(MediaItem, item.id).alt_text


def events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == VERB).order_by(AuditEvent.id)))


def describe(client, group, item, text: str, headers=HTMX):
    return client.post(item_url(group, item, "/alt-text"), data={"alt_text": text}, headers=headers)


# --- writing it ------------------------------------------------------------------------------------


def test_a_manager_adds_alt_text_from_the_items_page(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    auth.login(agency["manager"])
    page = Html(client.get(item_url(maya, photo)))
    field = page.by_label("Describe the image for people who cannot see it")
    assert field.tag == "textarea" and field.text() == ""
    assert "1,500 characters" in page.description_of(field)
    form = page.form_of(field)
    assert form.attributes["action"] == item_url(maya, photo, "/alt-text")
    assert form.attributes["hx-post"] == form.attributes["action"]

    response = describe(client, maya, photo, "  A red beach towel on white sand.\r\nWaves behind it.  ")
    assert response.status_code == 200
    fragment = Html(response)
    # The fragment is the field, swapped for the one that sent it, and the words for the status line,
    # swapped into the line already on the page (a live region that is there before it speaks).
    assert [(node.tag, node.attributes.get("id"), node.attributes.get("hx-swap-oob")) for node in fragment.top_level
            if node.attributes.get("id")] == [("div", "alt-text-field", None), ("p", "alt-text-status", "innerHTML")]
    assert fragment.by_role("status").text(strip=True) == "Alt text saved."
    assert fragment.by_label("Describe the image for people who cannot see it").text() == (
        "A red beach towel on white sand.\nWaves behind it.")
    assert stored(photo) == "A red beach towel on white sand.\nWaves behind it."
    [event] = events()
    assert (event.actor_id, event.access_group_id, event.object_type, event.object_id) == (
        agency["manager"].id, maya.id, "media_item", photo.id)
    assert event.before == {"name": "beach.png", "alt_text": None}
    assert event.after == {"name": "beach.png", "alt_text": "A red beach towel on white sand.\nWaves behind it."}
    # The page now shows the text, and the preview reads it to people who cannot see the image.
    page = Html(client.get(item_url(maya, photo)))
    assert page.by_label("Describe the image for people who cannot see it").text() == (
        "A red beach towel on white sand.\nWaves behind it.")
    assert page.by_role("region", "Preview").css_first("img").attributes["alt"].startswith("A red beach towel")


def test_changing_and_clearing_alt_text_are_recorded(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    auth.login(agency["manager"])
    describe(client, maya, photo, "A towel")
    response = describe(client, maya, photo, "A red towel")
    assert Html(response).by_role("status").text(strip=True) == "Alt text saved."
    assert stored(photo) == "A red towel"
    response = describe(client, maya, photo, "   \n ")
    assert response.status_code == 200 and Html(response).by_role("status").text(strip=True) == "Alt text removed."
    assert stored(photo) is None
    assert [(event.before["alt_text"], event.after["alt_text"]) for event in events()] == [
        (None, "A towel"), ("A towel", "A red towel"), ("A red towel", None)]


def test_saving_the_same_text_changes_and_records_nothing(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    auth.login(agency["manager"])
    describe(client, maya, photo, "A towel")
    response = describe(client, maya, photo, "A towel  ")
    assert response.status_code == 200 and Html(response).by_role("status").text(strip=True) == "No change to save."
    assert len(events()) == 1


def test_control_characters_are_dropped_and_line_breaks_kept(agency):
    assert rules.clean_alt_text("A\x00 towel\x1b\r\non sand\tand sea\u200d") == "A towel\non sand\tand sea\u200d"
    assert rules.clean_alt_text("\x00 \x07") is None
    assert rules.clean_alt_text(None) is None


def test_alt_text_of_1500_characters_is_taken_and_one_more_is_refused_changing_nothing(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    auth.login(agency["manager"])
    describe(client, maya, photo, "A towel")
    longest = "é" * rules.ALT_TEXT_MAX_LENGTH
    assert describe(client, maya, photo, longest).status_code == 200
    assert stored(photo) == longest

    too_long = "w" * (rules.ALT_TEXT_MAX_LENGTH + 1)
    response = describe(client, maya, photo, too_long)
    assert response.status_code == 422
    fragment = Html(response)
    field = fragment.by_label("Describe the image for people who cannot see it")
    assert field.attributes.get("aria-invalid") == "true"
    assert fragment.by_role("alert").text(strip=True) == (
        "Alt text may be up to 1,500 characters; this one has 1,501. Shorten it and save again.")
    assert field.text() == too_long  # what was typed stays, to shorten
    assert fragment.by_role("status").text(strip=True) == ""  # the last save's words go
    assert stored(photo) == longest
    assert len(events()) == 2


def test_without_htmx_a_save_goes_back_to_the_page_and_a_refusal_shows_the_whole_page(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    auth.login(agency["manager"])
    response = describe(client, maya, photo, "A towel", headers={})
    assert response.status_code == 303 and response.headers["Location"].endswith(item_url(maya, photo))
    assert "Alt text saved." in Html(client.get(item_url(maya, photo))).text
    response = describe(client, maya, photo, "w" * 2000, headers={})
    assert response.status_code == 422
    page = Html(response)
    assert page.by_role("heading", "beach.png") and page.by_role("heading", "Where it is used")
    assert "may be up to 1,500 characters" in page.by_role("alert").text()
    assert stored(photo) == "A towel"


def test_a_video_is_described_as_a_video(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(item_url(agency["maya"], agency["video"])))
    assert page.by_label("Describe the video for people who cannot see it").tag == "textarea"


# --- who may ----------------------------------------------------------------------------------------


def test_other_tenants_and_other_groups_items_are_not_found(agency, auth, client):
    maya = agency["maya"]
    auth.login(agency["rival_owner"])
    assert describe(client, maya, agency["photo"], "Mine now").status_code == 404
    # Their own group's URL does not reach the item either.
    assert describe(client, agency["rival_group"], agency["photo"], "Mine now").status_code == 404
    auth.logout()
    auth.login(agency["manager"])
    # Leo's item through Maya's library, and the other agency's item through Maya's: not here.
    assert describe(client, maya, agency["leo_photo"], "Wrong library").status_code == 404
    assert describe(client, maya, agency["rival_photo"], "Wrong agency").status_code == 404
    assert stored(agency["photo"]) is None and stored(agency["leo_photo"]) is None
    assert stored(agency["rival_photo"]) is None and events() == []


def test_clients_without_the_right_to_change_the_library_are_refused_and_see_no_form(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    photo.alt_text = "A red towel"
    db.session.commit()
    # Vic sees the group but not its library: refused as he is on the library itself.
    auth.login(agency["viewer"])
    assert describe(client, maya, photo, "Changed").status_code == 403
    auth.logout()
    # Maya sees the library and reads the text, but may not change it.
    auth.login(agency["creator"])
    assert describe(client, maya, photo, "Changed").status_code == 403
    page = Html(client.get(item_url(maya, photo)))
    section = page.within(page.by_role("region", "Alt text"))
    assert section.has_text("A red towel") and not section.css("textarea") and not section.css("form")
    assert stored(photo) == "A red towel" and events() == []


def test_a_client_given_the_upload_right_may_describe(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    agency["creator"].memberships[0].rights.append(MemberRight(name="media.upload"))
    db.session.commit()
    auth.login(agency["creator"])
    assert describe(client, maya, photo, "Maya's towel").status_code == 200
    assert stored(photo) == "Maya's towel"


def test_anonymous_visitors_are_sent_to_sign_in(agency, client):
    response = describe(client, agency["maya"], agency["photo"], "Sneaky", headers={})
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    assert stored(agency["photo"]) is None


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_saving_needs_the_pages_csrf_token(agency, client):
    maya, photo = agency["maya"], agency["photo"]
    token = Html(client.get("/login")).hidden_value("csrf_token")
    client.post("/login", data={"email": agency["manager"].email, "password": factories.PASSWORD,
                                "csrf_token": token})
    assert describe(client, maya, photo, "No token").status_code == 400
    assert stored(photo) is None and events() == []
    page = Html(client.get(item_url(maya, photo)))
    form = page.form_of(page.by_label("Describe the image for people who cannot see it"))
    token = page.within(form).hidden_value("csrf_token")
    response = client.post(form.attributes["action"], data={"alt_text": "With token", "csrf_token": token})
    assert response.status_code == 303 and stored(photo) == "With token"


# --- where it shows ---------------------------------------------------------------------------------


def test_the_grid_marks_items_with_alt_text(agency, auth, client):
    maya, photo, video = agency["maya"], agency["photo"], agency["video"]
    photo.alt_text = "A red towel"
    db.session.commit()
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{maya.id}/media"))
    described = page.within(page.one(f"#media-{photo.id}"))
    undescribed = page.within(page.one(f"#media-{video.id}"))
    assert described.has_text("Has alt text") and described.has_text("ALT")
    assert not undescribed.has_text("Has alt text") and not undescribed.has_text("ALT")


def test_the_activity_log_says_what_changed(agency):
    account, maya, photo = agency["account"], agency["maya"], agency["photo"]

    def sentence(before, after) -> str:
        event = audit.record(account.id, agency["owner"].id, VERB, "media_item", photo.id,
                             before={"name": "beach.png", "alt_text": before},
                             after={"name": "beach.png", "alt_text": after}, group_id=maya.id)
        db.session.flush()
        [entry] = activity.entries([event], account, activity.Scope(account.id, None),
                                   TimeStyle(zone=ZoneInfo("UTC")))
        return entry.sentence

    owner = agency["owner"].name
    assert sentence(None, "A towel") == f"{owner} added alt text to “beach.png”"
    assert sentence("A towel", "A red towel") == f"{owner} changed the alt text of “beach.png”"
    assert sentence("A red towel", None) == f"{owner} removed the alt text of “beach.png”"
    assert activity.kind_of(VERB) == "media"


# --- the composer -----------------------------------------------------------------------------------


def attached_post(agency, *items) -> Post:
    post = Post(social_profile_id=agency["profile"].id, access_group_id=agency["maya"].id, caption="Beach day",
                status=PostStatus.DRAFT.value)
    post.media_items = list(items)
    db.session.add(post)
    db.session.commit()
    return post


def test_the_composer_points_out_attached_images_without_alt_text(agency, auth, client):
    maya, photo, video = agency["maya"], agency["photo"], agency["video"]
    described = factories.make_media(maya, "described.png")
    described.alt_text = "Sunset"
    post = attached_post(agency, photo, video, described)
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{maya.id}/posts/{post.id}/edit"))
    assert page.description_of(page.by_role("checkbox", "beach.png")) == (
        "No alt text: add it in the media library (opens in a new tab)")
    link = page.by_role("link", "add it in the media library (opens in a new tab)")
    assert link.attributes["href"] == item_url(maya, photo)
    assert link.attributes["target"] == "_blank" and "noopener" in link.attributes["rel"]
    # A described image and a video say nothing.
    assert page.description_of(page.by_role("checkbox", "described.png")) == ""
    assert page.description_of(page.by_role("checkbox", "clip.mp4")) == ""
    # The picker, which shows the chosen items again as the person searches, says the same.
    picker = Html(client.get(f"/g/{maya.id}/posts/media-picker?media={photo.id}&media={described.id}",
                             headers=HTMX))
    assert picker.description_of(picker.by_role("checkbox", "beach.png")).startswith("No alt text")
    assert picker.by_role("link", "add it in the media library (opens in a new tab)").attributes["href"] == (
        item_url(maya, photo))
    assert picker.description_of(picker.by_role("checkbox", "described.png")) == ""


def test_the_composer_hint_has_no_link_for_those_who_may_not_change_the_library(agency, auth, client):
    maya, photo = agency["maya"], agency["photo"]
    post = attached_post(agency, photo)
    auth.login(agency["creator"])
    page = Html(client.get(f"/g/{maya.id}/posts/{post.id}/edit"))
    assert page.description_of(page.by_role("checkbox", "beach.png")) == (
        "No alt text: someone who manages the media library can add it")
    assert not page.all_by_role("link", "add it in the media library (opens in a new tab)")
