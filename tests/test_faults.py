"""Faults from below the app: the database going away mid-service, the disk filling up during an upload."""
from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import threading
from collections.abc import Iterator

import flask_migrate
import pytest
import requests
from flask import Flask
from PIL import Image
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import make_server

from webapp import create_app, demo, policy
from webapp import storage as storage_module
from webapp.extensions import db
from webapp.models import AccessGroup, Campaign, MediaItem, Role

from . import factories
from .conftest import TEST_CONFIG, RequestIsolatingClient
from .html import HTMX, Html
from .scratch_db import scratch_database
from .tcp_proxy import TCPProxy
from .test_media import image_bytes, items_of, upload

UNREACHABLE_TITLE = "Roster can't reach its database"
UNREACHABLE_MESSAGE = "Nothing was lost. Try again in a minute."


def outage_warnings(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records
            if record.levelno == logging.WARNING and "database could not be reached" in record.getMessage()]


# --- the database goes away (SQLite: its volume is unmounted) ------------------------------------------


@pytest.fixture
def volume_app(tmp_path) -> Iterator[dict]:
    """An app whose SQLite database lives alone in a folder (its "volume") that a test can take away."""
    volume = tmp_path / "volume"
    volume.mkdir()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{volume / 'roster.db'}",
                      "MEDIA_ROOT": str(tmp_path / "media"), "MAIL_OUTBOX": str(tmp_path / "outbox")})
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        db.create_all()
        account = factories.make_account("Northstar")
        owner = factories.owner_of(account)
        group = db.session.scalar(select(AccessGroup).where(AccessGroup.account_id == account.id))
        db.session.commit()
        yield {"app": app, "volume": volume, "owner": owner, "group": group}
        db.session.remove()
        db.engine.dispose()


def test_database_outage_on_sqlite_answers_503_from_the_user_loader_and_recovers(volume_app, tmp_path, caplog):
    app, volume, group = volume_app["app"], volume_app["volume"], volume_app["group"]
    client = app.test_client()
    assert client.post("/login", data={"email": volume_app["owner"].email,
                                       "password": factories.PASSWORD}).status_code == 303
    home = f"/g/{group.id}/"
    assert client.get(home).status_code == 200

    # Unmounted: pooled connections are gone and a new one cannot open the file.
    db.session.remove()
    db.engine.dispose()
    volume.rename(tmp_path / "unmounted")
    try:
        # Signed in, the first query is the user loader's, before any view runs.
        page = client.get(home)
        partial = client.get(home, headers=HTMX)
    finally:
        (tmp_path / "unmounted").rename(volume)

    assert (page.status_code, page.headers["Retry-After"]) == (503, "30")
    html = Html(page)
    assert html.by_role("heading", UNREACHABLE_TITLE) is not None and html.has_text(UNREACHABLE_MESSAGE)
    assert html.by_role("link", "Try again").attributes["href"] == home, "the way on is the same page again"
    assert (partial.status_code, partial.headers["Retry-After"]) == (503, "30")
    assert Html(partial).one("[data-error-message]").text().strip() == UNREACHABLE_MESSAGE
    assert "<html" not in partial.get_data(as_text=True)
    assert len(outage_warnings(caplog)) == 2
    assert all(record.exc_info is None for record in caplog.records)

    # Back without a restart: the same app and the same sign-in.
    assert client.get(home).status_code == 200


@pytest.mark.fresh_app
def test_a_mistaken_statement_is_a_bug_not_an_outage(app, client):
    """SQLite reports "no such table" as an OperationalError too: it must surface, not read as an outage."""

    @app.get("/mistaken-query")
    @policy.public
    def mistaken_query():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    with pytest.raises(DBAPIError):
        client.get("/mistaken-query")


# --- the database restarts (PostgreSQL behind a proxy that goes down) ------------------------------------


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free loopback port from a thread until the block ends; yields its address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="roster-faults-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextlib.contextmanager
def cut_at_first_insert(app: Flask, proxy: TCPProxy) -> Iterator[None]:
    """Take the proxy down just as the next INSERT goes out: the database restarts mid-transaction."""
    with app.app_context():
        engine = db.engine

    def cut(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT") and proxy.listening:
            proxy.stop()

    event.listen(engine, "before_cursor_execute", cut)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", cut)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_database_outage_answers_503_and_recovers_without_a_restart(tmp_path, caplog):
    server_url = make_url(os.environ["TEST_DATABASE_URL"])
    proxy = TCPProxy((server_url.host or "127.0.0.1", server_url.port or 5432))
    proxy.start()
    with scratch_database(os.environ["TEST_DATABASE_URL"], "roster_faults") as direct_url:
        through_proxy = make_url(direct_url).set(host="127.0.0.1", port=proxy.port)
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": through_proxy.render_as_string(hide_password=False),
            "MEDIA_ROOT": str(tmp_path / "media"), "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "SECRET_KEY": "faults-secret-key", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
        })
        with app.app_context():
            flask_migrate.upgrade()
            demo.seed_demo(with_files=False)
            db.session.commit()
            group_id = db.session.scalar(select(AccessGroup.id).where(AccessGroup.name == "Northstar HQ"))
            db.session.remove()

        def campaigns_named(name: str) -> int:
            with app.app_context():
                count = db.session.scalar(select(func.count()).select_from(Campaign).where(Campaign.name == name))
                db.session.remove()
            return count

        try:
            with serve(app) as base_url:
                browser = requests.Session()
                home = f"{base_url}/g/{group_id}/"
                campaigns = f"{base_url}/g/{group_id}/campaigns"
                signed_in = browser.post(f"{base_url}/login", allow_redirects=False, data={
                    "email": f"owner@{demo.DEMO_DOMAIN}", "password": demo.DEMO_PASSWORD})
                assert signed_in.status_code == 303
                assert browser.get(home, allow_redirects=False).status_code == 200

                # The restart: nothing listens, and the connections the pool holds are cut.
                proxy.stop()
                page = browser.get(home, allow_redirects=False)
                partial = browser.get(home, headers=HTMX, allow_redirects=False)
                refused_post = browser.post(campaigns, data={"name": "Launch while down"}, allow_redirects=False)
                proxy.start()

                # A second restart, this time in the middle of a request's transaction.
                with cut_at_first_insert(app, proxy):
                    cut_post = browser.post(campaigns, data={"name": "Launch mid-restart"}, allow_redirects=False)
                assert not proxy.listening
                proxy.start()

                # Back: the same app and pool, the same sign-in, reading and writing.
                after = browser.get(home, allow_redirects=False)
                partial_after = browser.get(home, headers=HTMX, allow_redirects=False)
                created = browser.post(campaigns, data={"name": "Launch after"}, allow_redirects=False)
            written = {name: campaigns_named(name) for name in ("Launch while down", "Launch mid-restart",
                                                                 "Launch after")}
        finally:
            proxy.stop()
            with app.app_context():
                db.engine.dispose()

        for response in (page, partial, refused_post, cut_post):
            assert (response.status_code, response.headers["Retry-After"]) == (503, "30"), response.text
            assert "Traceback" not in response.text
        html = Html(page.text)
        assert html.by_role("heading", UNREACHABLE_TITLE) is not None and html.has_text(UNREACHABLE_MESSAGE)
        assert Html(partial.text).one("[data-error-message]").text().strip() == UNREACHABLE_MESSAGE
        assert "<html" not in partial.text

        assert (after.status_code, partial_after.status_code, created.status_code) == (200, 200, 303)
        assert written == {"Launch while down": 0, "Launch mid-restart": 0, "Launch after": 1}

        warnings = outage_warnings(caplog)
        assert len(warnings) == 4  # one line for each request that failed, no traceback
        assert all(record.exc_info is None for record in caplog.records)
        assert not any(f":{proxy.port}/" in record.getMessage() or "postgresql" in record.getMessage()
                       for record in warnings)


# --- the disk fills up during an upload ----------------------------------------------------------------


class FullDisk:
    """A disk with `room` bytes free: a write past them stores what fits, then fails with ENOSPC.

    Stands in for `os.fdopen` in the storage module, the call that opens the file each upload is
    written to, so the failure comes from the file's own write as the operating system's would.
    """

    def __init__(self, room: int) -> None:
        self.room = room
        self.finished: list[int] = []  # sizes of files written whole
        self.partial: list[int] = []  # sizes on disk of files whose write failed, when it failed
        self._fdopen = os.fdopen

    def fdopen(self, fd: int, *args, **kwargs):
        return _FileOnFullDisk(self, self._fdopen(fd, *args, **kwargs))


class _FileOnFullDisk:
    def __init__(self, disk: FullDisk, file) -> None:
        self.disk, self.file = disk, file

    def write(self, data: bytes) -> int:
        fits = bytes(data[: self.disk.room])
        self.file.write(fits)
        self.disk.room -= len(fits)
        if len(fits) < len(data):
            self.file.flush()
            self.disk.partial.append(os.fstat(self.file.fileno()).st_size)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            self.file.flush()
            self.disk.finished.append(os.fstat(self.file.fileno()).st_size)
        self.file.close()


def stored_files(app) -> set[str]:
    """Every file in the media folder, temporary ones included."""
    root = app.config["MEDIA_ROOT"]
    return set(os.listdir(root)) if os.path.isdir(root) else set()


def disk_full_message(name: str) -> str:
    return f"The server's disk is full, so “{name}” was not saved. Nothing was added. Tell your administrator."


def disk_errors(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records
            if record.levelno == logging.ERROR and "Media storage is full" in record.getMessage()]


@pytest.fixture
def uploader(app, auth):
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    manager = factories.make_member(account, Role.MANAGER, groups=[group], name="Sam Manager")
    db.session.commit()
    auth.login(manager)
    return group


def photo_bytes(size: tuple[int, int] = (900, 600)) -> bytes:
    """A JPEG with a photo's fine detail, so that even its thumbnail takes tens of kilobytes."""
    out = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


PHOTO = photo_bytes()


@pytest.mark.parametrize("room, failing", [
    (len(PHOTO) // 2, "original"),  # the upload itself does not fit
    (len(PHOTO) + 1024, "thumbnail"),  # the upload fits, its thumbnail does not
])
def test_a_full_disk_refuses_the_upload_and_leaves_nothing_behind(app, client, uploader, monkeypatch, caplog,
                                                                   room, failing):
    before = stored_files(app)
    disk = FullDisk(room)
    monkeypatch.setattr(storage_module.os, "fdopen", disk.fdopen)

    response = upload(client, uploader, ("beach.jpg", PHOTO), headers=HTMX)

    assert response.status_code == 422
    assert Html(response).one("[data-error-message]").text().strip() == disk_full_message("beach.jpg")
    assert disk.partial and disk.partial[0] > 0  # part of the file had reached the disk
    if failing == "thumbnail":
        assert disk.finished == [len(PHOTO)]  # the original was written whole, then removed
    assert items_of(uploader) == []
    assert stored_files(app) == before  # no file, half file or `.upload-*` temporary left
    assert len(disk_errors(caplog)) == 1

    monkeypatch.undo()  # room again
    assert upload(client, uploader, ("beach.jpg", PHOTO), headers=HTMX).status_code == 201
    assert [item.name for item in items_of(uploader)] == ["beach.jpg"]


def test_a_full_disk_keeps_the_files_saved_before_it_filled(app, client, uploader, monkeypatch, caplog):
    """Each file of an upload is added on its own: those saved before the disk filled stay."""
    small = image_bytes("PNG")  # one colour: it and its thumbnail take a few hundred bytes
    disk = FullDisk(room=len(small) + len(PHOTO) // 2)
    monkeypatch.setattr(storage_module.os, "fdopen", disk.fdopen)

    response = upload(client, uploader, ("logo.png", small), ("beach.jpg", PHOTO))

    assert response.status_code == 303
    [logo] = items_of(uploader)
    assert logo.name == "logo.png"
    assert stored_files(app) == {logo.storage_key, logo.thumbnail_key}
    page = Html(client.get(response.headers["Location"]))
    assert page.has_text("Uploaded 1 item.") and page.has_text(disk_full_message("beach.jpg"))
    assert len(disk_errors(caplog)) == 1
    assert db.session.scalar(select(func.count()).select_from(MediaItem)) == 1


def test_other_write_errors_still_remove_what_was_written(app, client, uploader, monkeypatch):
    """A failing disk (not a full one) is a server error, but leaves no half-stored item either."""
    disk = FullDisk(room=len(PHOTO) + 1024)
    real_write = _FileOnFullDisk.write

    def broken_write(self, data):
        try:
            return real_write(self, data)
        except OSError:
            raise OSError(errno.EIO, os.strerror(errno.EIO)) from None

    monkeypatch.setattr(_FileOnFullDisk, "write", broken_write)
    monkeypatch.setattr(storage_module.os, "fdopen", disk.fdopen)
    before = stored_files(app)
    with pytest.raises(OSError):
        upload(client, uploader, ("beach.jpg", PHOTO), headers=HTMX)
    assert stored_files(app) == before
    assert items_of(uploader) == []

