"""Backup and restore: every table and every media file in one zip, portable between SQLite and PostgreSQL.

The archive holds `tables/<table>.jsonl` (one JSON object per row, in primary-key order), `media/<file>`
(each file as it is on disk) and `manifest.json`, written last: the database's migration revision,
each table's columns and row count, each part's SHA-256, and a note on the encryption key. Values are
the stored ones, read and written below the models' types, so ciphertext stays ciphertext.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import click
from alembic.script import ScriptDirectory
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    delete,
    func,
    insert,
    inspect,
    null,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import crypto
from .extensions import db
from .media import human_size, recount_media
from .models import EncryptedText, MediaItem, Plan
from .plans import REFERENCE_PLANS
from .storage import LocalStorage, media_storage

FORMAT = "roster-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH_SIZE = 1000
CHUNK_SIZE = 1024 * 1024
# Files LocalStorage is still writing; never part of the library.
UNFINISHED_UPLOAD = ".upload-"
KEY_CHECK = "roster backup key check"
KEY_NOTE = ("Social profile tokens are kept encrypted, exactly as in the database. Restore with the same "
            "TOKEN_ENCRYPTION_KEY (or, where that is not set, the same SECRET_KEY), or they cannot be read.")
# Kinds whose stored values are JSON values already.
PLAIN_KINDS = {"integer", "text"}
MEDIA_KEY_COLUMNS = (MediaItem.__table__.c.storage_key, MediaItem.__table__.c.thumbnail_key)


class BackupRefused(click.ClickException):
    """Why a backup or restore did not happen; nothing was written."""


@dataclass
class BackupReport:
    """What a backup wrote."""

    path: Path
    revision: str
    tables: int = 0
    rows: int = 0
    media_files: int = 0
    media_bytes: int = 0
    archive_bytes: int = 0
    missing_media: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"Wrote the backup {self.path} ({human_size(self.archive_bytes)}):",
            f"  {_count(self.rows, 'row')} in {_count(self.tables, 'table')} (database version {self.revision})",
            f"  {_count(self.media_files, 'media file')}, {human_size(self.media_bytes)}",
            KEY_NOTE,
            "Keep the file as safe as the database itself: it holds everything in Roster, password hashes included.",
        ]
        if self.missing_media:
            listed = ", ".join(self.missing_media[:10]) + (", ..." if len(self.missing_media) > 10 else "")
            lines.append(f"Warning: {_count(len(self.missing_media), 'file')} that the media library refers to "
                         f"could not be found in the media folder, so could not be backed up: {listed}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RestoreReport:
    """What a restore wrote."""

    path: Path
    revision: str
    made_at: str
    made_from: str
    media_root: Path
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    media_already_there: int

    def summary(self) -> str:
        made_from = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(self.made_from, self.made_from)
        already = f" ({self.media_already_there:,} of them were there already)" if self.media_already_there else ""
        return "\n".join([
            f"Restored the backup {self.path}, made {self.made_at} from a {made_from} database:",
            f"  {_count(self.rows, 'row')} in {_count(self.tables, 'table')} (database version {self.revision})",
            f"  {_count(self.media_files, 'media file')}, {human_size(self.media_bytes)}, in {self.media_root}{already}",
        ])


def _count(count: int, noun: str) -> str:
    """12 -> "12 rows", 1 -> "1 row"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- stored values as portable JSON ---------------------------------------------------------------


def stored_type(column: Column) -> Any:
    """The type the database stores the column as, beneath any TypeDecorator (UTCDateTime, EncryptedText)."""
    column_type = column.type
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type


def column_kind(column: Column) -> str:
    """How the column's values travel in the archive: integer, text, boolean, datetime, date, bytes or json."""
    column_type = stored_type(column)
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, DateTime) and column_type.timezone:
        return "datetime"
    if isinstance(column_type, Date) and not isinstance(column_type, DateTime):
        return "date"
    if isinstance(column_type, Integer):
        return "integer"
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, LargeBinary):
        return "bytes"
    if isinstance(column_type, String):
        return "text"
    raise TypeError(f"a backup cannot carry {column.table.name}.{column.name} ({column_type!r}) yet")


def encode_value(kind: str, value: Any) -> Any:
    """A stored value as JSON: datetimes ISO 8601 in UTC, dates ISO, bytes base64, JSON documents wrapped.

    A JSON column's document is `{"json": document}`, so a stored JSON null stays apart from SQL NULL.
    """
    if value is None:
        return None
    match kind:
        case "datetime":
            # SQLite gives back the naive UTC value that UTCDateTime stored.
            moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            return moment.isoformat()
        case "date":
            return value.isoformat()
        case "bytes":
            return base64.b64encode(bytes(value)).decode("ascii")
        case "json":
            return {"json": json.loads(value)}  # read as the stored text (see _read_expression)
        case "boolean":
            return bool(value)
    return value


def decode_value(kind: str, value: Any) -> Any:
    """The value to insert for what `encode_value` wrote."""
    match kind:
        case "json":
            if value is None:
                return null()  # SQL NULL; a JSON column binds None as the document null
            document = value["json"]
            return JSON.NULL if document is None else document
        case _ if value is None:
            return None
        case "datetime":
            # In UTC: SQLite keeps the digits and drops the zone.
            return datetime.fromisoformat(value).astimezone(UTC)
        case "date":
            return date.fromisoformat(value)
        case "bytes":
            return base64.b64decode(value, validate=True)
        case "boolean":
            if not isinstance(value, bool):
                raise TypeError(f"not a boolean: {value!r}")
    return value


def _stored_table(table: Table) -> Table:
    """`table` with its stored types only: rows read and written through it are the values as stored."""
    return Table(table.name, MetaData(), *(Column(column.name, stored_type(column)) for column in table.columns))


def _read_expression(stored: Table, name: str, kind: str):
    # JSON is read as its text: parsed by the driver, a stored JSON null would look like SQL NULL.
    return cast(stored.c[name], Text).label(name) if kind == "json" else stored.c[name]


# --- the database: revision, snapshot, emptiness --------------------------------------------------


def code_revision() -> str:
    """The migration revision this version of Roster runs at."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def database_revision(connection: Connection) -> str | None:
    """The migration revision the database is at, or None before `flask db upgrade`."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    heads = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
    return ",".join(sorted(heads)) if heads else None


@contextlib.contextmanager
def _read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One connection whose reads all see the database as it was at the first one."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads; in WAL mode an explicit one is a snapshot.
            connection.exec_driver_sql("BEGIN")
        else:
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        try:
            yield connection
        finally:
            connection.rollback()


@contextlib.contextmanager
def _write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction, committed when the block ends without error."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock now, so no other writer slips in between the check and the inserts.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.begin()
        yield connection
        connection.commit()


def _rows_in_the_way(connection: Connection) -> dict[str, int]:
    """Rows per table that a restore would mix with: every row, except the plans `flask db upgrade` inserts."""
    reference_codes = [plan["code"] for plan in REFERENCE_PLANS]
    found = {}
    for table in db.metadata.sorted_tables:
        query = select(func.count()).select_from(table)
        if table is Plan.__table__:
            query = query.where(table.c.code.not_in(reference_codes))
        count = connection.scalar(query)
        if count:
            found[table.name] = count
    return found


def _refuse_unless_empty(connection: Connection) -> None:
    found = _rows_in_the_way(connection)
    if found:
        listed = ", ".join(f"{count:,} in {table}" for table, count in list(found.items())[:4])
        raise BackupRefused(
            f"Nothing was restored: this database already holds data (rows: {listed}"
            f"{', ...' if len(found) > 4 else ''}). Restore only into a new, empty database: create it, "
            "run `flask db upgrade` on it, then restore.")


# --- backup ---------------------------------------------------------------------------------------


def write_backup(path: Path | str, overwrite: bool = False) -> BackupReport:
    """Write every table (from one snapshot) and every media file to one zip at `path`, all or nothing."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise BackupRefused(f"{path} already exists, so nothing was written. Choose another name, or add "
                            "--overwrite to replace it.")
    if not path.parent.is_dir():
        raise BackupRefused(f"The folder {path.parent} does not exist, so nothing was written.")
    storage = _local_storage()
    # Written beside its final place, then renamed: a failed backup leaves no half file. mkstemp makes
    # it readable by its owner only, as it holds password hashes and encrypted tokens.
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as error:
        raise BackupRefused(f"Nothing was written: the backup cannot be written in {path.parent} "
                            f"({error.strerror}).") from None
    try:
        with os.fdopen(handle, "w+b") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                manifest, report, media_keys = _write_tables(archive, path)
                manifest["media"] = _write_media(archive, storage.root, media_keys, report, skip=Path(temporary))
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise BackupRefused(f"Nothing was written: the backup failed part way ({error.strerror or error}"
                            f"{f': {error.filename}' if error.filename else ''}).") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    report.archive_bytes = path.stat().st_size
    return report


def _local_storage() -> LocalStorage:
    storage = media_storage()
    if not isinstance(storage, LocalStorage):
        raise BackupRefused("Backup and restore know only media kept on local disk.")
    return storage


def _write_tables(archive: zipfile.ZipFile, path: Path) -> tuple[dict, BackupReport, set[str]]:
    """Every table from one snapshot; the manifest so far, the report, and the media keys rows refer to."""
    media_keys: set[str] = set()
    encrypted_values = 0
    tables = []
    with _read_snapshot(db.engine) as connection:
        revision = database_revision(connection)
        expected = code_revision()
        if revision != expected:
            raise BackupRefused(
                f"Nothing was written: the database is at version {revision or 'none (not set up)'}, and this "
                f"version of Roster runs at {expected}. Run `flask db upgrade`, then back up.")
        report = BackupReport(path=path, revision=revision)
        made_at = datetime.now(UTC)
        for table in db.metadata.sorted_tables:
            entry, keys, encrypted = _write_table(archive, connection, table, made_at)
            tables.append(entry)
            media_keys |= keys
            encrypted_values += encrypted
            report.tables += 1
            report.rows += entry["rows"]
        made_from = connection.dialect.name
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "made_at": made_at.isoformat(),
        "made_from": made_from,
        "schema_revision": revision,
        "encryption": {"note": KEY_NOTE, "encrypted_values": encrypted_values,
                       "key_check": crypto.encrypt(KEY_CHECK).decode("ascii")},
        "tables": tables,
    }
    return manifest, report, media_keys


def _write_table(archive: zipfile.ZipFile, connection: Connection, table: Table,
                 made_at: datetime) -> tuple[dict, set[str], int]:
    """Stream one table's rows into its part; its manifest entry, the media keys it names, its ciphertexts."""
    kinds = {column.name: column_kind(column) for column in table.columns}
    stored = _stored_table(table)
    query = (select(*(_read_expression(stored, name, kind) for name, kind in kinds.items()))
             .order_by(*(stored.c[column.name] for column in table.primary_key.columns))
             .execution_options(yield_per=BATCH_SIZE))
    key_columns = [column.name for column in MEDIA_KEY_COLUMNS if column.table is table]
    encrypted_columns = [column.name for column in table.columns if isinstance(column.type, EncryptedText)]
    media_keys: set[str] = set()
    encrypted = 0
    part = f"tables/{table.name}.jsonl"
    info = zipfile.ZipInfo(part, date_time=made_at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    encoded = [(name, kind) for name, kind in kinds.items() if kind not in PLAIN_KINDS]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256()
    rows = 0
    with archive.open(info, "w", force_zip64=True) as member:
        for batch in connection.execute(query).mappings().partitions():
            lines = []
            for row in batch:
                values = dict(row)
                values.update((name, encode_value(kind, values[name])) for name, kind in encoded)
                lines.append(encoder.encode(values))
                media_keys.update(row[name] for name in key_columns if row[name])
                encrypted += sum(row[name] is not None for name in encrypted_columns)
            chunk = "".join(line + "\n" for line in lines).encode()
            member.write(chunk)
            digest.update(chunk)
            rows += len(lines)
    entry = {"name": table.name, "part": part, "rows": rows, "sha256": digest.hexdigest(), "columns": kinds}
    return entry, media_keys, encrypted


def _media_files(root: Path, skip: Path) -> list[str]:
    """Every regular file under the media folder, as a relative POSIX path, but unfinished uploads."""
    if not root.is_dir():
        return []
    found = []
    for folder, folders, files in os.walk(root):
        folders.sort()
        for name in files:
            file = Path(folder) / name
            if name.startswith(UNFINISHED_UPLOAD) or file == skip or not file.is_file():
                continue
            found.append(file.relative_to(root).as_posix())
    return sorted(found)


def _write_media(archive: zipfile.ZipFile, root: Path, media_keys: set[str], report: BackupReport,
                 skip: Path) -> dict:
    """Copy the media files into the archive; their manifest entries and the referred-to ones missing."""
    files = []
    for name in _media_files(root, skip):
        digest = hashlib.sha256()
        size = 0
        try:
            info = zipfile.ZipInfo.from_file(root / name, f"media/{name}")
            info.compress_type = zipfile.ZIP_STORED  # images and videos are compressed already
            with (root / name).open("rb") as source, archive.open(info, "w", force_zip64=True) as member:
                while chunk := source.read(CHUNK_SIZE):
                    member.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except FileNotFoundError:
            # Deleted since it was listed (a library delete commits, then removes the files).
            continue
        files.append({"path": name, "bytes": size, "sha256": digest.hexdigest()})
        report.media_files += 1
        report.media_bytes += size
    present = {entry["path"] for entry in files}
    report.missing_media = sorted(media_keys - present)
    return {"files": files, "missing": report.missing_media}


# --- restore --------------------------------------------------------------------------------------


def restore_backup(path: Path | str) -> RestoreReport:
    """Load a backup into this empty, migrated database and its media folder: all of it, or nothing."""
    path = Path(path)
    storage = _local_storage()
    with _open_archive(path) as archive:
        manifest = _read_manifest(archive)
        _refuse_unless_it_fits(manifest)
        with db.engine.connect() as connection:
            _refuse_unless_same_revision(manifest, database_revision(connection))
            _refuse_unless_empty(connection)
        _refuse_unless_same_key(manifest)
        _verify_parts(archive, manifest, storage.root)
        to_write, already_there = _media_to_write(storage.root, manifest["media"]["files"])

        written: list[Path] = []
        try:
            for entry in to_write:
                written.append(_restore_file(archive, storage.root, entry))
            with _write_transaction(db.engine) as connection:
                _refuse_unless_empty(connection)  # again, now that nobody else may write
                connection.execute(delete(Plan.__table__))  # the reference plans: the backup has its own
                _restore_tables(archive, connection, manifest)
                _check_counts(connection, manifest)
                # Each group's count of media items comes from the items restored, whatever the backup said.
                recount_media(connection)
        except DBAPIError as error:
            _remove(written)
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise BackupRefused(f"Nothing was restored: the database refused the backup's rows ({reason}).") from None
        except OSError as error:
            _remove(written)
            raise BackupRefused(f"Nothing was restored: a media file could not be written ({error.strerror or error}"
                                f"{f': {error.filename}' if error.filename else ''}).") from None
        except BaseException:
            _remove(written)
            raise
    files = manifest["media"]["files"]
    return RestoreReport(path=path, revision=manifest["schema_revision"], made_at=_when(manifest["made_at"]),
                         made_from=manifest["made_from"], media_root=storage.root, tables=len(manifest["tables"]),
                         rows=sum(entry["rows"] for entry in manifest["tables"]), media_files=len(files),
                         media_bytes=sum(entry["bytes"] for entry in files), media_already_there=already_there)


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """The backup's zip; a file that is none, or is cut short or damaged, is refused with a reason."""
    if not path.is_file():
        raise BackupRefused(f"There is no file {path}.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise BackupRefused(f"Nothing was restored: {path} is not a complete Roster backup. It may have been cut "
                            f"short while copying, or it is another kind of file ({error}).") from None
    with archive:
        yield archive


def _damaged(path: str, why: str) -> BackupRefused:
    return BackupRefused(f"Nothing was restored: the backup is damaged or was changed after it was made "
                         f"({path} {why}). Use another copy of the backup.")


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupRefused("Nothing was restored: this zip has no manifest.json, so it is not a Roster backup, "
                            "or an incomplete one.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise _damaged(MANIFEST, f"cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("Nothing was restored: this zip is not a Roster backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(f"Nothing was restored: this backup has format version {manifest.get('format_version')}"
                            f", and this version of Roster reads version {FORMAT_VERSION}.")
    try:
        _check_manifest_shape(manifest)
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(MANIFEST, f"lacks what a backup's manifest has ({error!r})") from None
    return manifest


def _check_manifest_shape(manifest: dict) -> None:
    """Raise KeyError, TypeError or ValueError unless the manifest has every field restoring reads."""
    for name in ("schema_revision", "made_from"):
        if not isinstance(manifest[name], str):
            raise TypeError(name)
    datetime.fromisoformat(manifest["made_at"])
    int(manifest["encryption"]["encrypted_values"])
    for entry in manifest["tables"]:
        if not (isinstance(entry["name"], str) and isinstance(entry["part"], str) and isinstance(entry["rows"], int)
                and isinstance(entry["sha256"], str) and isinstance(entry["columns"], dict)):
            raise TypeError(entry.get("name"))
    for entry in manifest["media"]["files"]:
        if not (isinstance(entry["path"], str) and isinstance(entry["bytes"], int)
                and isinstance(entry["sha256"], str)):
            raise TypeError(entry.get("path"))


def _refuse_unless_it_fits(manifest: dict) -> None:
    """The backup was made at this version of Roster's revision, with its tables and columns."""
    revision, expected = manifest["schema_revision"], code_revision()
    if revision != expected:
        raise BackupRefused(
            f"Nothing was restored: the backup was made at database version {revision}, and this version of "
            f"Roster runs at {expected}. Restore it with the version of Roster that made it (then upgrade), "
            "or use a backup made by this one.")
    ours = [(table.name, {column.name: column_kind(column) for column in table.columns})
            for table in db.metadata.sorted_tables]
    theirs = [(entry["name"], entry["columns"]) for entry in manifest["tables"]]
    if ours != theirs:
        raise BackupRefused("Nothing was restored: the backup's tables differ from this version of Roster's, "
                            "although both are at the same database version.")


def _refuse_unless_same_revision(manifest: dict, revision: str | None) -> None:
    if revision is None:
        raise BackupRefused("Nothing was restored: this database is not set up. Run `flask db upgrade` on it "
                            "first, then restore.")
    if revision != manifest["schema_revision"]:
        raise BackupRefused(
            f"Nothing was restored: this database is at version {revision}, and the backup is of version "
            f"{manifest['schema_revision']}. Restore into a new database that `flask db upgrade` brought "
            "to the backup's version.")


def _refuse_unless_same_key(manifest: dict) -> None:
    """Tokens in the backup can be read with this server's key (no tokens, no key needed)."""
    encryption = manifest["encryption"]
    if not encryption["encrypted_values"]:
        return
    try:
        crypto.decrypt(encryption["key_check"].encode("ascii"))
    except InvalidToken:
        raise BackupRefused(
            "Nothing was restored: the backup's social profile tokens were encrypted with another key. Set "
            "TOKEN_ENCRYPTION_KEY (or, where the old server had none, SECRET_KEY) to the old server's value, "
            "then restore.") from None


def _verify_parts(archive: zipfile.ZipFile, manifest: dict, media_root: Path) -> None:
    """Every part is there, unchanged (SHA-256), with the rows the manifest counts; nothing else is."""
    expected = {MANIFEST}
    for entry in manifest["tables"]:
        expected.add(entry["part"])
        digest, lines = _read_part(archive, entry["part"])
        if digest != entry["sha256"]:
            raise _damaged(entry["part"], "does not match its SHA-256")
        if lines != entry["rows"]:
            raise _damaged(entry["part"], f"has {lines:,} rows, and the manifest counts {entry['rows']:,}")
    for entry in manifest["media"]["files"]:
        _media_path(media_root, entry["path"])  # a name that stays inside the media folder
        part = f"media/{entry['path']}"
        expected.add(part)
        digest, _ = _read_part(archive, part)
        if digest != entry["sha256"]:
            raise _damaged(part, "does not match its SHA-256")
    unexpected = sorted(set(archive.namelist()) - expected)
    if unexpected:
        raise _damaged(unexpected[0], "is not in the manifest")


def _read_part(archive: zipfile.ZipFile, part: str) -> tuple[str, int]:
    """A part's SHA-256 and its count of lines."""
    digest = hashlib.sha256()
    lines = 0
    try:
        with archive.open(part) as member:
            while chunk := member.read(CHUNK_SIZE):
                digest.update(chunk)
                lines += chunk.count(b"\n")
    except KeyError:
        raise _damaged(part, "is missing") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise _damaged(part, f"cannot be read: {error}") from None
    return digest.hexdigest(), lines


def _media_path(root: Path, name: str) -> Path:
    """Where a backed-up media file goes: under `root`, never outside it."""
    parts = PurePosixPath(name).parts
    if (not parts or PurePosixPath(name).is_absolute() or "\\" in name
            or any(part in ("", ".", "..") for part in parts)):
        raise _damaged(f"media/{name}", "is not a file name Roster makes")
    return root.joinpath(*parts)


def _media_to_write(root: Path, files: list[dict]) -> tuple[list[dict], int]:
    """The files to write, and how many are there already with the same content (a move on one machine)."""
    to_write, already_there = [], 0
    for entry in files:
        target = _media_path(root, entry["path"])
        if not target.exists():
            to_write.append(entry)
        elif target.is_file() and _file_sha256(target) == entry["sha256"]:
            already_there += 1
        else:
            raise BackupRefused(f"Nothing was restored: the media folder {root} already has a file {entry['path']} "
                                "with other content. Restore into an empty media folder.")
    return to_write, already_there


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _restore_file(archive: zipfile.ZipFile, root: Path, entry: dict) -> Path:
    """Write one media file beside its place, then rename it there; its path."""
    target = _media_path(root, entry["path"])
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=UNFINISHED_UPLOAD)
    try:
        with os.fdopen(handle, "wb") as file, archive.open(f"media/{entry['path']}") as member:
            while chunk := member.read(CHUNK_SIZE):
                file.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _remove(files: Iterable[Path]) -> None:
    for file in files:
        file.unlink(missing_ok=True)


def _late_columns(table: Table, filled: set[str]) -> list[str]:
    """Columns of foreign keys to tables not filled yet (itself, or one after it): set once all rows are in."""
    late = [element.parent.name for constraint in table.foreign_key_constraints
            if constraint.referred_table.name not in filled or constraint.referred_table is table
            for element in constraint.elements]
    for name in late:
        if not table.c[name].nullable:
            raise TypeError(f"{table.name}.{name} refers to a table restored later and cannot wait as NULL")
    return late


def _restore_tables(archive: zipfile.ZipFile, connection: Connection, manifest: dict) -> None:
    """Insert every table in foreign-key order, in batches; then the keys that had to wait, then sequences."""
    tables = {table.name: table for table in db.metadata.sorted_tables}
    filled: set[str] = set()
    waiting: list[tuple[Table, dict, list[str]]] = []
    for entry in manifest["tables"]:
        table = tables[entry["name"]]
        late = _late_columns(table, filled)
        _insert_rows(archive, connection, table, entry, late)
        filled.add(table.name)
        if late:
            waiting.append((table, entry, late))
    for table, entry, late in waiting:
        _fill_late_columns(archive, connection, table, entry, late)
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection, [tables[entry["name"]] for entry in manifest["tables"] if entry["rows"]])


def _part_rows(archive: zipfile.ZipFile, entry: dict) -> Iterator[dict]:
    """The rows of a table's part, decoded to the values to insert."""
    names = list(entry["columns"])
    decoded = [(name, kind) for name, kind in entry["columns"].items() if kind not in PLAIN_KINDS]
    with archive.open(entry["part"]) as member:
        for number, line in enumerate(member, start=1):
            try:
                row = json.loads(line)
                values = {name: row[name] for name in names}
                values.update((name, decode_value(kind, row[name])) for name, kind in decoded)
                yield values
            except (ValueError, KeyError, TypeError) as error:
                raise _damaged(entry["part"], f"has a row that cannot be read, line {number}: {error!r}") from None


def _batches(rows: Iterable[dict]) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_rows(archive: zipfile.ZipFile, connection: Connection, table: Table, entry: dict,
                 late: list[str]) -> None:
    statement = insert(_stored_table(table))
    for batch in _batches(_part_rows(archive, entry)):
        for row in batch:
            row.update(dict.fromkeys(late))
        connection.execute(statement, batch)


def _fill_late_columns(archive: zipfile.ZipFile, connection: Connection, table: Table, entry: dict,
                       late: list[str]) -> None:
    stored = _stored_table(table)
    keys = [column.name for column in table.primary_key.columns]
    statement = (update(stored)
                 .where(*(stored.c[name] == bindparam(f"key_{name}") for name in keys))
                 .values({name: bindparam(f"value_{name}") for name in late}))
    rows = (row for row in _part_rows(archive, entry) if any(row[name] is not None for name in late))
    for batch in _batches(rows):
        connection.execute(statement, [{**{f"key_{name}": row[name] for name in keys},
                                        **{f"value_{name}": row[name] for name in late}} for row in batch])


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Move each id sequence past the restored ids, so the next new row gets a fresh one (PostgreSQL)."""
    quote = connection.dialect.identifier_preparer
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        name = quote.format_table(table)
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, :column), max({quote.quote(column.name)})) "
                 f"FROM {name} HAVING max({quote.quote(column.name)}) IS NOT NULL"),
            {"table": name, "column": column.name})


def _check_counts(connection: Connection, manifest: dict) -> None:
    """Each table now holds the rows the manifest counts."""
    tables = {table.name: table for table in db.metadata.sorted_tables}
    for entry in manifest["tables"]:
        count = connection.scalar(select(func.count()).select_from(tables[entry["name"]]))
        if count != entry["rows"]:
            raise BackupRefused(f"Nothing was restored: {entry['name']} held {count:,} rows after loading, "
                                f"and the backup has {entry['rows']:,}.")

