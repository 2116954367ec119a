"""Undo of a calendar move and of a media move: one statement back, within 30 seconds, refused when anything
newer touched what moved, and only for the person who moved (or, for media, someone who may move in both groups)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from webapp import media as media_rules
from webapp import posts as post_rules
from webapp.extensions import db
from webapp.models import AccessGroup, AuditEvent, GroupUser, MediaItem, Post, Role

from . import factories
from .html import HTMX, Html, squeeze


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def events(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def age(event: AuditEvent, seconds: int) -> None:
    """Make the move `seconds` old."""
    db.session.get_one(AuditEvent, event.id).created_at = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    db.session.commit()


def undo_form(html: str) -> dict:
    """The Undo form the toast offers."""
    page = Html(html)
    toast = page.within(page.one(".undo-toast[role=status]"))
    assert toast.by_role("button", "Undo")
    return toast.one("form[data-undo]").attributes


# --- the calendar ----------------------------------------------------------------------------------


@pytest.fixture
def calendar(app):
    """Maya's group with a post on 17 June 2031 at 09:00, the manager who moves it, and others who look on."""
    agency = factories.two_creator_agency()
    post = factories.make_post(agency["instagram"])
    post.scheduled_at = utc(2031, 6, 17, 9, 0)
    agency["admin"] = factories.make_member(agency["account"], Role.ADMIN, groups=[agency["maya"]], name="Ada Admin")
    db.session.commit()
    return {**agency, "post": post}


def reschedule_url(group, post) -> str:
    return f"/g/{group.id}/calendar/posts/{post.id}/reschedule"


def drag(client, calendar, day: str = "2031-06-20"):
    """The manager drops the post on `day` (the calendar's move form, as a drag sends it)."""
    return client.post(reschedule_url(calendar["maya"], calendar["post"]), headers=HTMX,
                       data={"new_date": day, "view": "month", "date": "2031-06-01"})


def scheduled_at(post) -> datetime:
    db.session.expire_all()
    return db.session.get_one(Post, post.id).scheduled_at


def test_a_move_offers_undo_which_puts_the_post_back(calendar, auth, client):
    auth.login(calendar["manager"])
    moved = drag(client, calendar)
    assert moved.status_code == 200 and scheduled_at(calendar["post"]) == utc(2031, 6, 20, 9, 0)
    html = moved.get_data(as_text=True)
    assert Html(html).top_level[0].attributes["id"] == "calendar"
    toast = Html(html).one(".undo-toast")
    assert toast.attributes["data-expires-in"] == "30"
    assert squeeze(toast.text()) == "Moved the Instagram post of @mayalopez to Fri 20 Jun 2031, 09:00 UTC. Undo"
    move = events("post.rescheduled")[0]
    form = undo_form(html)
    assert form["hx-post"] == form["action"] == f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo"
    assert form["hx-target"] == "#calendar"

    undone = client.post(form["action"], headers=HTMX, data={"view": "month", "date": "2031-06-01"})
    assert undone.status_code == 200
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 17, 9, 0)
    page = Html(undone)
    assert page.top_level[0].attributes["id"] == "calendar"
    assert page.has_text("Undone: the Instagram post of @mayalopez is back on Tue 17 Jun 2031, 09:00 UTC.")
    assert not page.css("form[data-undo]")  # nothing more to undo
    record = events("post.reschedule_undone")[0]
    assert record.object_id == calendar["post"].id and record.actor_id == calendar["manager"].id
    assert record.access_group_id == calendar["maya"].id
    assert record.after == {"scheduled_at": "2031-06-17T09:00:00+00:00", "undoes_event_id": move.id}

    # Once is enough: the same Undo again changes nothing.
    again = client.post(form["action"], headers=HTMX, data={"view": "month", "date": "2031-06-01"})
    assert again.status_code == 409
    assert Html(again).by_text("Could not undo: This move can no longer be undone: the post changed since.",
                               ".calendar-problem[role=alert]")
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 17, 9, 0)


def test_without_scripts_the_undo_answers_with_the_calendar_page(calendar, auth, client):
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    response = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo",
                           data={"view": "week", "date": "2031-06-17"})
    assert response.status_code == 303 and response.location.endswith("?view=week&date=2031-06-17")
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 17, 9, 0)


def moved_again(calendar) -> None:
    post_rules.reschedule(db.session.get_one(Post, calendar["post"].id), utc(2031, 6, 25, 9, 0), calendar["manager"])


def edited(calendar) -> None:
    db.session.get_one(Post, calendar["post"].id).version += 1


def back_to_draft(calendar) -> None:
    post_rules.unschedule(db.session.get_one(Post, calendar["post"].id), calendar["manager"])


def claimed_by_the_publisher(calendar) -> None:
    db.session.get_one(Post, calendar["post"].id).claim_token = "publisher"


def rescheduled_there_and_back(calendar) -> None:
    post = db.session.get_one(Post, calendar["post"].id)
    post_rules.reschedule(post, utc(2031, 6, 25, 9, 0), calendar["manager"])
    post_rules.reschedule(post, utc(2031, 6, 20, 9, 0), calendar["manager"])


@pytest.mark.parametrize("change", [moved_again, edited, back_to_draft, claimed_by_the_publisher,
                                    rescheduled_there_and_back])
def test_undo_is_refused_when_the_post_changed_since(calendar, auth, client, change):
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    change(calendar)
    db.session.commit()
    before = scheduled_at(calendar["post"])
    response = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo", headers=HTMX)
    assert response.status_code == 409
    assert "the post changed since" in response.get_data(as_text=True)
    assert scheduled_at(calendar["post"]) == before
    assert events("post.reschedule_undone") == []


def test_a_comment_since_the_move_does_not_stop_the_undo(calendar, auth, client):
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    post_rules.add_comment(db.session.get_one(Post, calendar["post"].id), calendar["creator"], "Looks good")
    db.session.commit()
    response = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo", headers=HTMX)
    assert response.status_code == 200 and scheduled_at(calendar["post"]) == utc(2031, 6, 17, 9, 0)


def test_a_calendar_undo_is_refused_after_its_thirty_seconds(calendar, auth, client):
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    age(move, 33)  # the offer is gone, but a click as it went still counts
    late_click = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo", headers=HTMX)
    assert late_click.status_code == 200
    drag(client, calendar, "2031-06-21")
    move = events("post.rescheduled")[-1]
    age(move, 40)
    response = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo", headers=HTMX)
    assert response.status_code == 409
    assert "Too late to undo: a move can be taken back for 30 seconds." in response.get_data(as_text=True)
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 21, 9, 0)


def test_undo_is_refused_once_the_old_time_has_passed(calendar):
    post = db.session.get_one(Post, calendar["post"].id)
    move = post_rules.reschedule(post, utc(2031, 6, 20, 9, 0), calendar["manager"])
    db.session.commit()
    later = utc(2031, 6, 17, 9, 0, 10)
    move.created_at = later - timedelta(seconds=5)
    with pytest.raises(post_rules.PostError, match="old time has passed"):
        post_rules.undo_reschedule(post, move, calendar["manager"], now=later)
    assert scheduled_at(post) == utc(2031, 6, 20, 9, 0)


@pytest.mark.parametrize("who, status", [("admin", 403), ("owner", 403), ("creator", 403), ("stranger", 404)])
def test_only_the_person_who_moved_the_post_may_undo(calendar, auth, client, who, status):
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    if who == "stranger":
        visitor = factories.owner_of(factories.make_account("Rival"))
        db.session.commit()
    else:
        visitor = calendar[who]
    auth.login(visitor)
    response = client.post(f"{reschedule_url(calendar['maya'], calendar['post'])}/{move.id}/undo", headers=HTMX)
    assert response.status_code == status
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 20, 9, 0)


def test_a_move_of_another_post_or_group_is_not_found(calendar, auth, client):
    other = factories.make_post(calendar["instagram"])
    leo_post = factories.make_post(calendar["leo_profile"])
    db.session.commit()
    auth.login(calendar["manager"])
    drag(client, calendar)
    move = events("post.rescheduled")[0]
    assert client.post(f"{reschedule_url(calendar['maya'], other)}/{move.id}/undo").status_code == 404
    assert client.post(f"{reschedule_url(calendar['leo'], leo_post)}/{move.id}/undo").status_code == 404
    assert client.post(f"{reschedule_url(calendar['leo'], calendar['post'])}/{move.id}/undo").status_code == 404
    assert scheduled_at(calendar["post"]) == utc(2031, 6, 20, 9, 0)


# --- media -----------------------------------------------------------------------------------------


@pytest.fixture
def library(app):
    """Maya's library of five items; Sam and Kim move media in Maya's and Leo's groups, Mo only in Maya's,
    Maya herself may not move media; a profile of Leo's, for his posts."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    items = [factories.make_media(maya, f"photo-{number}.png") for number in range(5)]
    people = {
        "sam": factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager"),
        "kim": factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Kim Manager"),
        "mo": factories.make_member(account, Role.MANAGER, groups=[maya], name="Mo Manager"),
        "creator": factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez"),
        "owner": factories.owner_of(account),
    }
    leo_profile = factories.make_profile(factories.make_social_set(leo, "Leo Main"))
    db.session.commit()
    return {"account": account, "maya": maya, "leo": leo, "items": items, "leo_profile": leo_profile, **people}


def move(client, library, chosen: list[MediaItem]):
    return client.post(f"/g/{library['maya'].id}/media/move", headers=HTMX,
                       data={"item": [item.id for item in chosen], "target": library["leo"].id})


def held(group: AccessGroup) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(MediaItem.id).where(MediaItem.access_group_id == group.id)
                                   .order_by(MediaItem.id)))


def counts(library) -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.get_one(AccessGroup, library["maya"].id).media_count,
            db.session.get_one(AccessGroup, library["leo"].id).media_count)


def undo_url(library, event: AuditEvent) -> str:
    return f"/g/{library['maya'].id}/media/moves/{event.id}/undo"


def test_the_move_dialog_chooses_no_group_and_refuses_until_one_is_chosen(library, auth, client):
    auth.login(library["sam"])
    item = library["items"][0]
    dialog = Html(client.get(f"/g/{library['maya'].id}/media/move?item={item.id}", headers=HTMX))
    radios = dialog.all_by_role("radio")
    assert [dialog.name_of(radio) for radio in radios] == ["Leo Park"]
    assert not [radio for radio in radios if "checked" in radio.attributes]
    response = client.post(f"/g/{library['maya'].id}/media/move", headers=HTMX, data={"item": item.id})
    assert response.status_code == 422
    assert Html(response).by_text("Choose the group to move the items to.", "[role=alert]")
    assert held(library["maya"]) == [item.id for item in library["items"]]


def test_a_move_offers_undo_which_brings_the_items_back_in_one_statement(library, auth, client, count_queries):
    auth.login(library["sam"])
    chosen = library["items"][1:4]
    moved = move(client, library, chosen)
    assert moved.status_code == 200
    assert held(library["leo"]) == [item.id for item in chosen] and counts(library) == (2, 3)
    event = events("media.moved")[0]
    assert (event.access_group_id, event.related_group_id) == (library["maya"].id, library["leo"].id)
    assert set(db.session.scalars(select(MediaItem.moved_by_event_id).where(
        MediaItem.id.in_([item.id for item in chosen])))) == {event.id}
    page = Html(moved)
    region = page.one("#media-undo")
    assert region.attributes["hx-swap-oob"] == "true"
    assert squeeze(region.text()) == "Moved 3 items to “Leo Park”. Undo"
    form = undo_form(moved.get_data(as_text=True))
    assert form["hx-post"] == form["action"] == undo_url(library, event)
    assert form["hx-target"] == "#library" and form["data-undo-focus"] == f"#media-{chosen[0].id} .media-check"

    with count_queries() as counter:
        undone = client.post(form["action"], headers=HTMX)
    assert undone.status_code == 200
    updates = [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE MEDIA_ITEMS")]
    assert len(updates) == 1
    assert held(library["maya"]) == [item.id for item in library["items"]] and held(library["leo"]) == []
    assert counts(library) == (5, 0)
    assert media_rules.media_count_drift() == {}
    assert set(db.session.scalars(select(MediaItem.moved_by_event_id))) == {None}
    page = Html(undone)
    assert page.top_level[0].attributes["id"] == "library"
    assert len(page.css("#library li.media-tile")) == 5
    assert squeeze(page.one("[data-testid=media-count]").text()) == "5 items in this library"
    assert squeeze(page.one("#media-undo").text()) == "Moved 3 items back from “Leo Park”."
    record = events("media.move_undone")[0]
    assert record.actor_id == library["sam"].id
    assert (record.access_group_id, record.related_group_id) == (library["leo"].id, library["maya"].id)
    assert record.after["undoes_event_id"] == event.id
    assert record.after["media_item_ids"] == [item.id for item in chosen]


def test_without_scripts_the_move_and_its_undo_answer_with_the_library(library, auth, client):
    auth.login(library["sam"])
    item = library["items"][0]
    response = client.post(f"/g/{library['maya'].id}/media/move", data={"item": item.id, "target": library["leo"].id})
    assert response.status_code == 303
    undone = client.post(undo_url(library, events("media.moved")[0]))
    assert undone.status_code == 303 and undone.location.endswith(f"/g/{library['maya'].id}/media")
    assert item.id in held(library["maya"])
    assert "Moved 1 item back from “Leo Park”." in client.get(undone.location).get_data(as_text=True)


def moved_on(library, chosen) -> None:
    """One of the items goes back to Maya by a move of its own, then to Leo again."""
    leo, maya = db.session.get_one(AccessGroup, library["leo"].id), db.session.get_one(AccessGroup, library["maya"].id)
    media_rules.move_media_items(leo, [chosen[0].id], maya, library["kim"])
    media_rules.move_media_items(maya, [chosen[0].id], leo, library["kim"])


def deleted(library, chosen) -> None:
    media_rules.delete_media_items(db.session.get_one(AccessGroup, library["leo"].id), [chosen[1].id], library["kim"])


def used_by_a_post_of_leo(library, chosen) -> None:
    post = factories.make_post(library["leo_profile"])
    post.media_items = [db.session.get_one(MediaItem, chosen[2].id)]


@pytest.mark.parametrize("change, message", [
    (moved_on, "Some of the items changed since the move"),
    (deleted, "Some of the items changed since the move"),
    (used_by_a_post_of_leo, "“photo-3.png” is now used by a post in “Leo Park”"),
])
def test_undo_is_refused_when_anything_newer_touched_the_items(library, auth, client, change, message):
    auth.login(library["sam"])
    chosen = library["items"][1:4]
    move(client, library, chosen)
    event = events("media.moved")[0]
    change(library, chosen)
    db.session.commit()
    in_leo, before = held(library["leo"]), counts(library)
    response = client.post(undo_url(library, event), headers=HTMX)
    assert response.status_code == 409
    page = Html(response)
    assert message in squeeze(page.one("#media-undo .toast-error[role=alert]").text())
    assert page.top_level[0].attributes["id"] == "library"
    assert held(library["leo"]) == in_leo and counts(library) == before
    assert events("media.move_undone") == []


def test_a_media_undo_is_refused_after_its_thirty_seconds(library, auth, client):
    auth.login(library["sam"])
    move(client, library, library["items"][:1])
    event = events("media.moved")[0]
    age(event, 40)
    response = client.post(undo_url(library, event), headers=HTMX)
    assert response.status_code == 409
    assert "Too late to undo: a move can be taken back for 30 seconds." in response.get_data(as_text=True)
    assert held(library["leo"]) == [library["items"][0].id] and counts(library) == (4, 1)


@pytest.mark.parametrize("who, status", [
    ("kim", 200),  # moves media in both groups
    ("owner", 200),
    ("mo", 404),  # moves media in Maya's group, does not enter Leo's
    ("creator", 403),  # may not move media at all
    ("stranger", 404),
])
def test_who_may_undo_someone_elses_move(library, auth, client, who, status):
    auth.login(library["sam"])
    move(client, library, library["items"][:2])
    event = events("media.moved")[0]
    if who == "stranger":
        visitor = factories.owner_of(factories.make_account("Rival"))
        db.session.commit()
    else:
        visitor = library[who]
    auth.login(visitor)
    response = client.post(undo_url(library, event), headers=HTMX)
    assert response.status_code == status
    back = status == 200
    assert held(library["maya"]) == [item.id for item in (library["items"] if back else library["items"][2:])]


def test_a_move_is_undone_only_from_the_library_it_left(library, auth, client):
    auth.login(library["sam"])
    move(client, library, library["items"][:1])
    event = events("media.moved")[0]
    response = client.post(f"/g/{library['leo'].id}/media/moves/{event.id}/undo", headers=HTMX)
    assert response.status_code == 404
    assert client.post(f"/g/{library['maya'].id}/media/moves/999999/undo", headers=HTMX).status_code == 404
    assert held(library["leo"]) == [library["items"][0].id]


def test_the_mover_who_has_since_lost_the_other_group_may_not_undo(library, auth, client):
    auth.login(library["sam"])
    move(client, library, library["items"][:2])
    event = events("media.moved")[0]
    db.session.execute(delete(GroupUser).where(GroupUser.user_id == library["sam"].id,
                                               GroupUser.access_group_id == library["leo"].id))
    db.session.commit()
    assert client.post(undo_url(library, event), headers=HTMX).status_code == 404
    assert held(library["leo"]) == [item.id for item in library["items"][:2]]
