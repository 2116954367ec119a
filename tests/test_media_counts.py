"""Each group's count of media items stays exact through uploads, moves, deletes, races, the demo and restores,
and the library shows it without counting."""
from __future__ import annotations

import io
import os
import random
import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from werkzeug.datastructures import FileStorage

from webapp import media as rules
from webapp.backup import restore_backup, write_backup
from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.models import AccessGroup, MediaItem, Role, User
from webapp.storage import media_storage

from . import factories
from .html import HTMX, Html, squeeze
from .test_backup import roster

# A QuickTime file's first bytes: the library takes it as a video without decoding pictures.
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 64
GROUPS = ("maya", "leo", "nora")


@pytest.fixture
def agency(app):
    """Three creator groups and a manager who may upload, move and delete in all of them."""
    account = factories.make_account("Northstar")
    groups = {key: factories.make_group(account, f"{key.title()} Group") for key in GROUPS}
    manager = factories.make_member(account, Role.MANAGER, groups=list(groups.values()), name="Sam Manager")
    db.session.commit()
    return {"account": account, "manager": manager, **groups}


def assert_counts_exact() -> None:
    """Every group's count equals the items it holds, read afresh from the database."""
    db.session.expire_all()
    assert rules.media_count_drift() == {}


def counts(*groups: AccessGroup) -> list[int]:
    """The groups' counts as the database holds them now."""
    db.session.expire_all()
    return [db.session.get_one(AccessGroup, group.id).media_count for group in groups]


def held(group: AccessGroup) -> list[int]:
    """The ids of the items the group holds, oldest first."""
    return list(db.session.scalars(
        select(MediaItem.id).where(MediaItem.access_group_id == group.id).order_by(MediaItem.id)))


def add_items(group: AccessGroup, count: int) -> list[int]:
    """`count` items in the group, counted as an upload counts them, committed."""
    ids = [factories.make_media(group).id for _ in range(count)]
    db.session.commit()
    return ids


def upload(client, group: AccessGroup, *files: tuple[str, bytes], headers=None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/g/{group.id}/media/upload", data=data, content_type="multipart/form-data",
                       headers=headers or {})


def shown_count(client, group: AccessGroup) -> str:
    page = Html(client.get(f"/g/{group.id}/media"))
    return squeeze(page.one("[data-testid=media-count]").text())


# --- through the pages --------------------------------------------------------------------------------


def test_uploads_of_one_file_or_many_count_each_stored_file(agency, auth, client):
    auth.login(agency["manager"])
    assert upload(client, agency["maya"], ("clip.mov", MOV)).status_code == 303
    assert counts(agency["maya"]) == [1]
    # Three in one request, one of them refused: the two stored ones count.
    response = upload(client, agency["maya"], ("a.mov", MOV), ("virus.png", b"MZ" + b"\x00" * 40), ("b.mov", MOV),
                      headers=HTMX)
    assert response.status_code == 201
    assert squeeze(Html(response).one("[data-testid=media-count]").text()) == "3 items in this library"
    assert counts(agency["maya"], agency["leo"]) == [3, 0]
    assert shown_count(client, agency["maya"]) == "3 items in this library"
    assert_counts_exact()


def test_moves_both_ways_change_both_counts(agency, auth, client):
    ids = add_items(agency["maya"], 5)
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/media/move",
                           data={"item": ids[:3], "target": agency["leo"].id}, headers=HTMX)
    assert response.status_code == 200
    assert squeeze(Html(response).one("[data-testid=media-count]").text()) == "2 items in this library"
    assert counts(agency["maya"], agency["leo"]) == [2, 3]

    response = client.post(f"/g/{agency['leo'].id}/media/move",
                           data={"item": ids[1:3], "target": agency["maya"].id}, headers=HTMX)
    assert response.status_code == 200
    assert counts(agency["maya"], agency["leo"]) == [4, 1]
    assert shown_count(client, agency["leo"]) == "1 item in this library"
    assert_counts_exact()


@pytest.mark.parametrize("direction", ["to a later group", "to an earlier group"])
def test_a_move_adds_to_both_counts_in_the_database_in_the_order_of_their_ids(agency, direction):
    """One UPDATE per group whatever the number of items, each adding to the stored value (no count read
    in Python is written back), the lower id first: moves the opposite ways lock the counts in one order."""
    source, target = agency["maya"], agency["leo"]
    if direction == "to an earlier group":
        source, target = target, source
    ids = add_items(source, 4)
    updates: list[tuple[str, object]] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*UPDATE access_groups\b", statement, re.I):
            updates.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        rules.move_media_items(source, ids[:3], target, agency["manager"])
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    db.session.commit()
    assert len(updates) == 2
    for statement, _ in updates:
        assert re.search(r"SET media_count\s*=\s*\(?access_groups\.media_count \+", statement), statement
    changed = [(_parameter(parameters, 1), _parameter(parameters, 0)) for _, parameters in updates]
    moved = {source.id: -3, target.id: 3}
    assert changed == sorted(moved.items())
    assert counts(source, target) == [1, 3]
    assert_counts_exact()


def _parameter(parameters, position: int):
    """The value bound at `position` (the driver's parameters are a tuple on SQLite, a dict on PostgreSQL)."""
    return list(parameters.values())[position] if isinstance(parameters, dict) else parameters[position]


def test_a_refused_move_or_delete_leaves_every_count(agency, auth, client):
    mine, theirs = add_items(agency["maya"], 2), add_items(agency["leo"], 1)
    auth.login(agency["manager"])
    refused = [
        client.post(f"/g/{agency['maya'].id}/media/move", data={"item": [mine[0], theirs[0]],
                                                                "target": agency["nora"].id}, headers=HTMX),
        client.post(f"/g/{agency['maya'].id}/media/move", data={"item": [mine[0], 999999],
                                                                "target": agency["leo"].id}, headers=HTMX),
        client.post(f"/g/{agency['maya'].id}/media/delete", data={"item": [mine[1], theirs[0]]}, headers=HTMX),
    ]
    assert [response.status_code for response in refused] == [422, 422, 422]
    assert counts(agency["maya"], agency["leo"], agency["nora"]) == [2, 1, 0]
    assert held(agency["maya"]) == mine and held(agency["leo"]) == theirs
    assert_counts_exact()


def test_deletes_of_one_item_or_many_count_them_out(agency, auth, client):
    ids = add_items(agency["maya"], 6)
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/media/delete", data={"item": ids[0]}, headers=HTMX)
    assert squeeze(Html(response).one("[data-testid=media-count]").text()) == "5 items in this library"
    response = client.post(f"/g/{agency['maya'].id}/media/delete", data={"item": ids[1:5]})
    assert response.status_code == 303
    assert counts(agency["maya"]) == [1]
    assert shown_count(client, agency["maya"]) == "1 item in this library"
    assert_counts_exact()


def test_the_library_counts_without_a_query_however_many_items(agency, auth, client, count_queries):
    """The whole library's count is the group's own: no COUNT runs, and the page's queries stay the same."""
    add_items(agency["maya"], 3)
    auth.login(agency["manager"])
    url = f"/g/{agency['maya'].id}/media"
    client.get(url)  # the first visit remembers the group

    def visit() -> tuple[int, list[str], str]:
        with count_queries() as counter:
            page = Html(client.get(url))
        counted = [statement for statement in counter.statements
                   if re.search(r"\bcount\(.*\bFROM media_items\b", statement, re.I | re.S)]
        return counter.count, counted, squeeze(page.one("[data-testid=media-count]").text())

    small = visit()
    add_items(agency["maya"], 297)
    large = visit()
    assert small[1] == large[1] == []
    assert (small[2], large[2]) == ("3 items in this library", "300 items in this library")
    assert small[0] == large[0]


def test_a_filtered_library_counts_its_matches_against_the_kept_count(agency, auth, client):
    for name in ("beach-1.png", "beach-2.png", "city.png"):
        factories.make_media(agency["maya"], name)
    db.session.commit()
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['maya'].id}/media?q=beach&kind=", headers=HTMX))
    assert page.has_text("2 of 3 items match the filter.")


def test_the_group_home_shows_the_kept_count(agency, auth, client):
    add_items(agency["leo"], 4)
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['leo'].id}/"))
    assert page.one("[data-testid=media-count]").text() == "4"


# --- the rules, step by step --------------------------------------------------------------------------


def test_a_long_mixed_sequence_keeps_every_count_exact(agency):
    """Two hundred uploads, moves and deletes (some refused) in a seeded random order, each in its own
    transaction as the pages run them; after each one, every count matches a tally kept here and the rows."""
    chance = random.Random(20260302)
    groups = [agency[key] for key in GROUPS]
    manager = agency["manager"]
    storage, limits = media_storage(), rules.UploadLimits.from_config()
    tally = {group.id: 0 for group in groups}
    for step in range(200):
        group = chance.choice(groups)
        mine = held(group)
        action = chance.choice(["upload", "upload", "move", "move", "delete", "refused move", "refused delete"])
        if action == "upload" or not mine:
            for number in range(chance.randint(1, 3)):
                rules.add_media_item(group, FileStorage(io.BytesIO(MOV), f"step-{step}-{number}.mov"), manager,
                                     storage, limits)
                db.session.commit()
                tally[group.id] += 1
        elif action == "move":
            target = chance.choice([other for other in groups if other is not group])
            chosen = chance.sample(mine, chance.randint(1, len(mine)))
            assert rules.move_media_items(group, chosen, target, manager).after["media_item_ids"] == chosen
            db.session.commit()
            tally[group.id] -= len(chosen)
            tally[target.id] += len(chosen)
        elif action == "delete":
            chosen = chance.sample(mine, chance.randint(1, len(mine)))
            rules.discard_files(storage, rules.delete_media_items(group, chosen, manager))
            db.session.commit()
            tally[group.id] -= len(chosen)
        else:
            # One chosen item is elsewhere (or gone): nothing happens, as the pages roll back.
            stranger = chance.choice([*(item for other in groups if other is not group for item in held(other)),
                                      999999])
            chosen = [*chance.sample(mine, chance.randint(1, len(mine))), stranger]
            with pytest.raises(rules.MediaError):
                if action == "refused move":
                    target = chance.choice([other for other in groups if other is not group])
                    rules.move_media_items(group, chosen, target, manager)
                else:
                    rules.delete_media_items(group, chosen, manager)
            db.session.rollback()
        assert dict(zip(tally, counts(*groups))) == tally, f"step {step}: {action}"
        assert rules.media_count_drift() == {}, f"step {step}: {action}"
    assert sum(tally.values()) == db.session.scalar(select(func.count()).select_from(MediaItem))


def test_a_count_read_in_the_same_transaction_sees_the_change(agency):
    """The session forgets a loaded group's count when the database changes it, so the page after a
    change shows the new figure even before the commit."""
    maya = agency["maya"]
    assert maya.media_count == 0
    factories.make_media(maya)
    factories.make_media(maya)
    assert maya.media_count == 2
    [first, second] = held(maya)
    rules.move_media_items(maya, [first], agency["leo"], agency["manager"])
    assert (maya.media_count, agency["leo"].media_count) == (1, 1)
    rules.delete_media_items(maya, [second], agency["manager"])
    assert maya.media_count == 0
    db.session.commit()
    assert_counts_exact()


def test_drift_is_found_and_a_recount_mends_it(agency):
    add_items(agency["maya"], 3)
    db.session.execute(update(AccessGroup).where(AccessGroup.id == agency["leo"].id).values(media_count=7))
    db.session.commit()
    assert rules.media_count_drift() == {agency["leo"].id: (7, 0)}
    rules.recount_media()
    db.session.commit()
    assert counts(agency["maya"], agency["leo"]) == [3, 0]
    assert_counts_exact()


# --- at the same moment ---------------------------------------------------------------------------------


def run_together(app: Flask, works: list) -> list[str]:
    """Each work in a thread and app context (a session and connection) of its own, all released at once
    by a barrier; each commits, or rolls back on a refusal. Returns each outcome: "done", or the error."""
    barrier = threading.Barrier(len(works))
    outcomes = [""] * len(works)

    def worker(number: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                works[number]()
                db.session.commit()
                outcomes[number] = "done"
            except Exception as error:
                db.session.rollback()
                outcomes[number] = repr(error)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished"
    return outcomes


def _uploading(group_id: int, user_id: int, name: str):
    def work() -> None:
        group, user = db.session.get_one(AccessGroup, group_id), db.session.get_one(User, user_id)
        rules.add_media_item(group, FileStorage(io.BytesIO(MOV), name), user, media_storage(),
                             rules.UploadLimits.from_config())
    return work


def _moving(source_id: int, item_ids: list[int], target_id: int, user_id: int):
    def work() -> None:
        rules.move_media_items(db.session.get_one(AccessGroup, source_id), item_ids,
                               db.session.get_one(AccessGroup, target_id), db.session.get_one(User, user_id))
    return work


def _deleting(group_id: int, item_ids: list[int], user_id: int):
    def work() -> None:
        rules.delete_media_items(db.session.get_one(AccessGroup, group_id), item_ids, db.session.get_one(User, user_id))
    return work


def test_uploads_moves_and_deletes_at_the_same_moment_all_count(app, agency):
    """Ten workers at once: uploads into both groups, moves each way and a delete, on disjoint items."""
    maya, leo, user = agency["maya"].id, agency["leo"].id, agency["manager"].id
    in_maya, in_leo = add_items(agency["maya"], 6), add_items(agency["leo"], 6)
    works = [_uploading(group, user, f"race-{number}.mov") for number, group in enumerate([maya, leo] * 3)]
    works += [_moving(maya, in_maya[:3], leo, user), _moving(leo, in_leo[:2], maya, user),
              _deleting(maya, in_maya[3:5], user), _deleting(leo, in_leo[2:3], user)]
    assert run_together(app, works) == ["done"] * len(works)
    # maya: 6 + 3 uploads - 3 moved out + 2 moved in - 2 deleted; leo: 6 + 3 + 3 - 2 - 1.
    assert counts(agency["maya"], agency["leo"]) == [6, 9]
    assert_counts_exact()


def test_a_delete_and_a_move_racing_for_the_same_items_keep_the_counts(app, agency):
    """Both pick the same items: whichever runs second finds them gone and changes nothing."""
    user = agency["manager"].id
    ids = add_items(agency["maya"], 4)
    outcomes = run_together(app, [_moving(agency["maya"].id, ids[:2], agency["leo"].id, user),
                                  _deleting(agency["maya"].id, ids[:3], user)])
    assert sorted(outcome == "done" for outcome in outcomes) == [False, True], outcomes
    assert all(outcome == "done" or "MediaError" in outcome for outcome in outcomes), outcomes
    assert counts(agency["maya"], agency["leo"]) in ([2, 2], [1, 0])
    assert_counts_exact()


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="SQLite lets one writer at a time: the workers cannot both be inside a transaction")
def test_counts_changed_by_transactions_open_at_once_all_land(app, agency, monkeypatch):
    """Every worker has changed its items and waits before counting them, so all the counter UPDATEs meet:
    a count read in Python and written back would lose some. The database adds each change to what it holds."""
    maya, leo, user = agency["maya"].id, agency["leo"].id, agency["manager"].id
    in_maya, in_leo = add_items(agency["maya"], 4), add_items(agency["leo"], 4)
    works = [_uploading(maya, user, "a.mov"), _uploading(maya, user, "b.mov"),
             _uploading(leo, user, "c.mov"), _moving(maya, in_maya[:2], leo, user),
             _moving(leo, in_leo[:1], maya, user), _deleting(leo, in_leo[1:3], user)]
    everyone_changed_items = threading.Barrier(len(works))
    adjust = rules.adjust_media_counts

    def adjust_once_everyone_changed_items(changes) -> None:
        everyone_changed_items.wait(timeout=30)
        adjust(changes)

    monkeypatch.setattr(rules, "adjust_media_counts", adjust_once_everyone_changed_items)
    assert run_together(app, works) == ["done"] * len(works)
    # maya: 4 + 2 - 2 + 1; leo: 4 + 1 + 2 - 1 - 2.
    assert counts(agency["maya"], agency["leo"]) == [5, 4]
    assert_counts_exact()


# --- the demo and a restore ----------------------------------------------------------------------------


def test_the_demo_agency_counts_its_media(app):
    seed_demo(with_files=False)
    db.session.commit()
    assert_counts_exact()
    held_counts = dict(db.session.execute(select(AccessGroup.name, AccessGroup.media_count)).all())
    assert held_counts["Maya Lopez"] == 6 and held_counts["Northstar HQ"] == 0


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_restore_counts_the_items_it_brings_back(tmp_path: Path, engine):
    """Counts are set from the restored items, even when the backup's own figures were wrong."""
    with roster(engine, tmp_path / "source") as source, source.app_context():
        account = factories.make_account("Northstar")
        maya, leo = factories.make_group(account, "Maya"), factories.make_group(account, "Leo")
        for group, number in ((maya, 3), (leo, 1)):
            for _ in range(number):
                factories.make_media(group)
        # Figures gone wrong before the backup was made.
        db.session.execute(update(AccessGroup).where(AccessGroup.id == maya.id).values(media_count=40))
        db.session.execute(update(AccessGroup).where(AccessGroup.id == leo.id).values(media_count=0))
        db.session.commit()
        write_backup(tmp_path / "backup.zip")
    with roster(engine, tmp_path / "target") as target, target.app_context():
        restore_backup(tmp_path / "backup.zip")
        assert rules.media_count_drift() == {}
        restored = dict(db.session.execute(select(AccessGroup.name, AccessGroup.media_count)).all())
        assert (restored["Maya"], restored["Leo"]) == (3, 1)
