"""`flask roster backup` and `restore`: every row and file comes back, on SQLite and PostgreSQL and from one to
the other; a backup sees one moment; a damaged backup, a database with data or of another version is refused."""
from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import (
    JSON,
    LargeBinary,
    Text,
    cast,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    type_coerce,
)
from werkzeug.datastructures import FileStorage

from webapp import create_app
from webapp.backup import BackupRefused, restore_backup, write_backup
from webapp.demo import seed_demo
from webapp.extensions import db
from webapp.media import UploadLimits, add_media_item
from webapp.models import (
    AccessGroup,
    AuditEvent,
    EncryptedText,
    Mail,
    MediaItem,
    SocialProfile,
    User,
)
from webapp.plans import REFERENCE_PLANS
from webapp.sandbox import register_sandbox_client
from webapp.sandbox.models import SandboxPublication
from webapp.storage import media_storage

from .conftest import TEST_CONFIG
from .scratch_db import scratch_database

SERVER_URL = os.environ.get("TEST_DATABASE_URL")
SECRET_KEY = "backup-test-secret-key"
needs_postgresql = pytest.mark.skipif(not SERVER_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
ENGINES = ["sqlite", pytest.param("postgresql", marks=needs_postgresql)]
MOVES = [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgresql", marks=needs_postgresql),
    pytest.param("postgresql", "postgresql", marks=needs_postgresql),
    pytest.param("postgresql", "sqlite", marks=needs_postgresql),
]
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), "#db2777").save(buffer, "PNG")
    return buffer.getvalue()


# --- Roster instances on new databases ----------------------------------------------------------------


@contextlib.contextmanager
def roster(engine: str, directory: Path, revision: str = "head", template: Path | None = None,
           **config) -> Iterator[Flask]:
    """An app on a new database the migrations brought to `revision`, with a media folder of its own.

    On SQLite, a copy of `template` (a database already at the head revision) saves running them again.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if engine == "sqlite":
            url = f"sqlite:///{directory / 'roster.db'}"
        else:
            url = stack.enter_context(scratch_database(SERVER_URL, "roster_backup"))
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(directory / "media"),
                          "MAIL_OUTBOX": str(directory / "outbox"), "SECRET_KEY": SECRET_KEY, **config})
        if template is not None and engine == "sqlite" and revision == "head":
            shutil.copyfile(template, directory / "roster.db")
        else:
            with app.app_context():
                upgrade(revision=revision)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def seed_agency() -> None:
    """The demo agency with its files, and what the demo lacks: uploads (one video), a file no row names, an
    unfinished upload, a file a row names that is gone, a user's last group (a key restored last), a stored
    JSON null beside SQL NULLs, and a sandbox client (a JSON list)."""
    seed_demo()
    db.session.commit()
    owner = db.session.scalar(select(User).where(User.email == "owner@northstar.example"))
    group = db.session.scalar(select(AccessGroup).order_by(AccessGroup.id))
    storage = media_storage()
    for name, content in (("cover.png", png()), ("teaser.mp4", MP4)):
        add_media_item(group, FileStorage(io.BytesIO(content), name), owner, storage, UploadLimits.from_config())
    owner.last_access_group_id = group.id
    db.session.add(AuditEvent(account_id=group.account_id, actor_id=owner.id, verb="note", object_type="account",
                              before=JSON.NULL, after={"caption": "Été ✨", "values": [1, 2.5, None, True]}))
    register_sandbox_client("Other app", ["https://other.test/callback", "https://other.test/again"])
    db.session.commit()
    root = Path(current_app.config["MEDIA_ROOT"])
    (root / "older").mkdir()
    (root / "older" / "notes.txt").write_bytes(b"kept by hand")
    (root / ".upload-unfinished").write_bytes(b"half a file")
    gone = db.session.scalar(select(MediaItem).order_by(MediaItem.id.desc()).limit(1).offset(3))
    (root / gone.thumbnail_key).unlink()


@dataclass
class Agency:
    """A seeded Roster and the backup made of it."""

    app: Flask
    backup: Path
    output: str


@pytest.fixture(scope="module")
def agencies(tmp_path_factory) -> Iterator[Callable[[str], Agency]]:
    """The seeded agency on an engine, made and backed up (by the command) the first time it is asked for."""
    made: dict[str, Agency] = {}
    with contextlib.ExitStack() as stack:

        def agency(engine: str) -> Agency:
            if engine not in made:
                directory = tmp_path_factory.mktemp(f"agency-{engine}")
                app = stack.enter_context(roster(engine, directory))
                backup = directory / "northstar.zip"
                with app.app_context():
                    seed_agency()
                    result = app.test_cli_runner().invoke(args=["roster", "backup", str(backup)])
                assert result.exit_code == 0, result.output
                made[engine] = Agency(app, backup, result.output)
            return made[engine]

        yield agency


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty SQLite database at the head revision, to copy."""
    directory = tmp_path_factory.mktemp("template")
    with roster("sqlite", directory):
        pass
    return directory / "roster.db"


@pytest.fixture
def new_roster(tmp_path, sqlite_template) -> Iterator[Callable[..., Flask]]:
    """`new_roster(engine="sqlite", revision="head", **config)`: a Roster on a new, empty database."""
    numbers = itertools.count(1)
    with contextlib.ExitStack() as stack:

        def make(engine: str = "sqlite", revision: str = "head", **config) -> Flask:
            directory = tmp_path / f"roster-{next(numbers)}"
            return stack.enter_context(roster(engine, directory, revision, template=sqlite_template, **config))

        yield make


# --- what a database and a media folder hold ------------------------------------------------------------


def stored_rows() -> dict[str, list[tuple]]:
    """Every row of every table of the app's database, in key order, as stored: ciphertext as its bytes,
    JSON as its text (so a JSON null differs from SQL NULL), times as moments."""

    def stored(column):
        if isinstance(column.type, EncryptedText):
            return type_coerce(column, LargeBinary)
        if isinstance(column.type, JSON):
            return cast(column, Text)
        return column

    with db.engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    select(*map(stored, table.columns)).order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables}


def media_files(app: Flask) -> dict[str, bytes]:
    """Every file in the app's media folder but unfinished uploads, by its path there."""
    root = Path(app.config["MEDIA_ROOT"])
    return {file.relative_to(root).as_posix(): file.read_bytes() for file in sorted(root.rglob("*"))
            if file.is_file() and not file.name.startswith(".upload-")} if root.exists() else {}


def restored_nothing(app: Flask) -> bool:
    """The database holds only the plans `flask db upgrade` inserts, and the media folder no file."""
    with app.app_context(), db.engine.connect() as connection:
        counts = {table: connection.scalar(text(f"SELECT count(*) FROM {table}"))
                  for table in inspect(connection).get_table_names() if table != "alembic_version"}
    return counts.pop("plans") == len(REFERENCE_PLANS) and not any(counts.values()) and not media_files(app)


def archive_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_archive(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


# --- round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source_engine", "target_engine"), MOVES)
def test_a_restore_brings_back_every_row_and_file(agencies, new_roster, tmp_path, source_engine, target_engine):
    """Restored into a new database of either kind, every stored value and every file is as it was."""
    source = agencies(source_engine)
    with source.app.app_context():
        rows = stored_rows()
    target = new_roster(target_engine)

    with target.app_context():
        result = target.test_cli_runner().invoke(args=["roster", "restore", str(source.backup)])
        assert result.exit_code == 0, result.output
        assert stored_rows() == rows
    files = media_files(source.app)
    assert media_files(target) == files
    assert "older/notes.txt" in files, "files no row names come along"
    row_count = sum(len(table_rows) for table_rows in rows.values())
    assert f"{row_count:,} rows in {len(rows)} tables" in result.output
    assert f"{len(files)} media files" in result.output

    with target.app_context():
        # The same key reads the same ciphertext.
        profile = db.session.scalar(select(SocialProfile).order_by(SocialProfile.id))
        assert profile.access_token == f"sandbox-access-{profile.network}-{profile.handle}"
        # A backup of the restored database has the very same parts as the first.
        again = write_backup(tmp_path / "again.zip")
        assert again.rows == row_count
    first, second = archive_parts(source.backup), archive_parts(tmp_path / "again.zip")
    assert {name: part for name, part in second.items() if name != "manifest.json"} == {
        name: part for name, part in first.items() if name != "manifest.json"}
    assert json.loads(second["manifest.json"])["tables"] == json.loads(first["manifest.json"])["tables"]

    with target.app_context():
        # New rows take fresh ids: PostgreSQL's sequences were moved past the restored ones.
        last_user = max(row[0] for row in rows["users"])
        user = User(email="new@northstar.example", name="New", password_hash="x")
        db.session.add(user)
        db.session.commit()
        assert user.id == last_user + 1
        if target_engine == "postgresql":
            behind = _sequences_behind()
            assert behind == [], "every sequence continues after its table's largest id"


def _sequences_behind() -> list[str]:
    """Tables whose id sequence would hand out an id their rows already have (PostgreSQL)."""
    behind = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None:
                continue
            largest = connection.scalar(select(func.max(column)))
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                         {"table": table.name, "column": column.name})
            last_value, is_called = connection.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            following = last_value + 1 if is_called else last_value
            if largest is not None and following <= largest:
                behind.append(table.name)
    return behind


def test_the_backup_says_what_it_wrote_and_what_it_could_not_find(agencies):
    source = agencies("sqlite")
    with source.app.app_context():
        rows = stored_rows()
        gone = db.session.scalar(select(MediaItem).order_by(MediaItem.id.desc()).limit(1).offset(3))
    manifest = json.loads(archive_parts(source.backup)["manifest.json"])

    assert f"{sum(map(len, rows.values())):,} rows in {len(rows)} tables" in source.output
    assert f"{len(media_files(source.app))} media files" in source.output
    assert "TOKEN_ENCRYPTION_KEY" in source.output
    assert "1 file that the media library refers to could not be found" in source.output
    assert gone.thumbnail_key in source.output
    assert manifest["media"]["missing"] == [gone.thumbnail_key]
    assert manifest["schema_revision"] == _head_and_previous(source.app)[0]
    assert "TOKEN_ENCRYPTION_KEY" in manifest["encryption"]["note"]
    assert {entry["name"]: entry["rows"] for entry in manifest["tables"]} == {
        table: len(table_rows) for table, table_rows in rows.items()}
    assert "alembic_version" not in {entry["name"] for entry in manifest["tables"]}
    assert not any(name.startswith("media/.upload-") for name in archive_parts(source.backup))
    assert oct(source.backup.stat().st_mode & 0o777) == "0o600", "only its owner may read a backup"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_backup_sees_the_database_at_one_moment(new_roster, tmp_path, engine):
    """Rows committed to two tables while the backup reads, one read already and one not yet: it has neither."""
    source = new_roster(engine)
    order = [table.name for table in db.metadata.sorted_tables]
    assert order.index("mail") < order.index("plans") < order.index("sandbox_publications")
    committed = []

    def commit_meanwhile(connection, cursor, statement, parameters, context, executemany):
        if "FROM plans" in statement and not committed:
            with db.engine.begin() as other:
                other.execute(insert(Mail.__table__).values(to_address="a@b.example", subject="Hi", text_body="Hi"))
                other.execute(insert(SandboxPublication.__table__).values(
                    network="x", account_id="1", client_reference="post-1"))
            committed.append(True)

    with source.app_context():
        event.listen(db.engine, "after_cursor_execute", commit_meanwhile)
        try:
            write_backup(tmp_path / "moment.zip")
        finally:
            event.remove(db.engine, "after_cursor_execute", commit_meanwhile)
        assert committed and len(stored_rows()["sandbox_publications"]) == 1

    parts = archive_parts(tmp_path / "moment.zip")
    assert parts["tables/mail.jsonl"] == b""
    assert parts["tables/sandbox_publications.jsonl"] == b""


# --- refusals -------------------------------------------------------------------------------------------


def test_restore_refuses_a_database_that_holds_data(agencies, new_roster):
    source = agencies("sqlite")
    target = new_roster()
    with target.app_context():
        restore_backup(source.backup)
        db.session.add(User(email="late@northstar.example", name="Late", password_hash="x"))
        db.session.commit()
        before = stored_rows()

        result = target.test_cli_runner().invoke(args=["roster", "restore", str(source.backup)])

        assert result.exit_code == 1
        assert "Nothing was restored: this database already holds data" in result.output
        assert "in users" in result.output
        assert stored_rows() == before


def _head_and_previous(app: Flask) -> tuple[str, str]:
    with app.app_context():
        script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        head = script.get_revision(script.get_current_head())
        return head.revision, head.down_revision


def test_another_database_version_is_refused_both_ways(agencies, new_roster, tmp_path):
    """A database at an older revision is neither restored into nor backed up (before `flask db upgrade`)."""
    source = agencies("sqlite")
    head, previous = _head_and_previous(source.app)
    target = new_roster(revision=previous)

    with target.app_context(), pytest.raises(BackupRefused) as refused:
        restore_backup(source.backup)
    assert f"this database is at version {previous}, and the backup is of version {head}" in refused.value.message
    assert restored_nothing(target)

    with target.app_context(), pytest.raises(BackupRefused, match="Run `flask db upgrade`, then back up"):
        write_backup(tmp_path / "old.zip")
    assert not (tmp_path / "old.zip").exists()


def _changed_row(parts: dict[str, bytes]) -> None:
    parts["tables/posts.jsonl"] = parts["tables/posts.jsonl"].replace(b"Behind the scenes", b"Behind the scones", 1)


def _changed_file(parts: dict[str, bytes]) -> None:
    name = next(name for name in parts if name.endswith(".png"))
    parts[name] = parts[name][:-1] + bytes([parts[name][-1] ^ 1])


def _added_row_with_its_hash(parts: dict[str, bytes]) -> None:
    lines = parts["tables/comments.jsonl"].splitlines(keepends=True)
    parts["tables/comments.jsonl"] += lines[0]
    manifest = json.loads(parts["manifest.json"])
    entry = next(entry for entry in manifest["tables"] if entry["name"] == "comments")
    entry["sha256"] = hashlib.sha256(parts["tables/comments.jsonl"]).hexdigest()
    parts["manifest.json"] = json.dumps(manifest).encode()


def _added_file(parts: dict[str, bytes]) -> None:
    parts["media/extra.png"] = png()


def _missing_part(parts: dict[str, bytes]) -> None:
    del parts["tables/users.jsonl"]


def _missing_manifest(parts: dict[str, bytes]) -> None:
    del parts["manifest.json"]


def _escaping_name(parts: dict[str, bytes]) -> None:
    manifest = json.loads(parts["manifest.json"])
    manifest["media"]["files"][0]["path"] = "../outside.png"
    parts["manifest.json"] = json.dumps(manifest).encode()


@pytest.mark.parametrize(("spoil", "reason"), [
    pytest.param(_changed_row, r"tables/posts\.jsonl does not match its SHA-256", id="a row changed"),
    pytest.param(_changed_file, r"media/\w+\.png does not match its SHA-256", id="a file changed"),
    pytest.param(_added_row_with_its_hash, r"tables/comments\.jsonl has (\d+) rows, and the manifest counts (?!\1)\d+",
                 id="a row added, with its hash"),
    pytest.param(_added_file, r"media/extra\.png is not in the manifest", id="a file added"),
    pytest.param(_missing_part, r"tables/users\.jsonl is missing", id="a part missing"),
    pytest.param(_missing_manifest, r"no manifest\.json", id="no manifest"),
    pytest.param(_escaping_name, r"\.\./outside\.png is not a file name Roster makes", id="a file outside the folder"),
])
def test_restore_refuses_a_changed_backup(agencies, new_roster, tmp_path, spoil, reason):
    source = agencies("sqlite")
    parts = archive_parts(source.backup)
    spoil(parts)
    target = new_roster()

    with target.app_context(), pytest.raises(BackupRefused) as refused:
        restore_backup(write_archive(tmp_path / "changed.zip", parts))

    assert re.search(reason, refused.value.message), refused.value.message
    assert refused.value.message.startswith("Nothing was restored")
    assert restored_nothing(target)
    assert not (tmp_path / "outside.png").exists()


@pytest.mark.parametrize("cut", ["half", "all but the last byte", "not a zip"])
def test_restore_refuses_a_file_cut_short(agencies, new_roster, tmp_path, cut):
    content = agencies("sqlite").backup.read_bytes()
    content = {"half": content[: len(content) // 2], "all but the last byte": content[:-1],
               "not a zip": b"roster" * 100}[cut]
    (tmp_path / "cut.zip").write_bytes(content)
    target = new_roster()

    with target.app_context(), pytest.raises(BackupRefused, match="is not a complete Roster backup"):
        restore_backup(tmp_path / "cut.zip")
    assert restored_nothing(target)


def test_restore_refuses_another_encryption_key(agencies, new_roster):
    target = new_roster(SECRET_KEY="another-secret-key")
    with target.app_context(), pytest.raises(BackupRefused, match="encrypted with another key"):
        restore_backup(agencies("sqlite").backup)
    assert restored_nothing(target)


def test_rows_the_database_refuses_leave_no_row_and_no_file(agencies, new_roster, tmp_path):
    """A backup intact by its manifest whose rows break a constraint: rolled back, and its files removed."""
    parts = archive_parts(agencies("sqlite").backup)
    users = parts["tables/users.jsonl"].splitlines(keepends=True)
    parts["tables/users.jsonl"] += users[0]  # the same id twice
    manifest = json.loads(parts["manifest.json"])
    entry = next(entry for entry in manifest["tables"] if entry["name"] == "users")
    entry["sha256"] = hashlib.sha256(parts["tables/users.jsonl"]).hexdigest()
    entry["rows"] += 1
    parts["manifest.json"] = json.dumps(manifest).encode()
    target = new_roster()

    with target.app_context(), pytest.raises(BackupRefused, match="the database refused the backup's rows"):
        restore_backup(write_archive(tmp_path / "twice.zip", parts))
    assert restored_nothing(target)


def test_backup_keeps_an_existing_file_unless_told_and_leaves_no_half_file(agencies, tmp_path, monkeypatch):
    source = agencies("sqlite")
    existing = tmp_path / "existing.zip"
    existing.write_bytes(b"an older backup")
    with source.app.app_context():
        with pytest.raises(BackupRefused, match="already exists"):
            write_backup(existing)
        assert existing.read_bytes() == b"an older backup"

        def disk_full(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("webapp.backup._write_media", disk_full)
        with pytest.raises(BackupRefused, match=r"Nothing was written: the backup failed part way \(No space left"):
            write_backup(existing, overwrite=True)
    assert existing.read_bytes() == b"an older backup"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.zip"], "no half-written file is left"
