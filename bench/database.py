"""Throwaway databases for the benchmark and the app configured to use them."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db
from tests.scratch_db import scratch_database

# Server URL of a PostgreSQL server on which fresh databases are created (and dropped afterwards).
SERVER_ENV = "BENCH_DATABASE_URL"

BENCH_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "SECRET_KEY": "bench-secret-key",
    # The test client asks for localhost, whatever address this machine's Roster is set to serve.
    "ROSTER_URL": "http://localhost",
}


def backend_name() -> str:
    """A short label for the database backend in use."""
    return "postgresql" if os.environ.get(SERVER_ENV) else "sqlite"


@contextlib.contextmanager
def temporary_database(label: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file under `workdir`, or PostgreSQL if configured."""
    server_url = os.environ.get(SERVER_ENV)
    if server_url:
        with scratch_database(server_url, f"roster_bench_{label}") as url:
            yield url
    else:
        yield f"sqlite:///{workdir / f'{label}.db'}"


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A temporary folder for SQLite files and uploaded media, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as folder:
        yield Path(folder)


def bench_app(database_url: str, workdir: Path) -> Flask:
    """The Roster app on `database_url`, configured the way the tests configure it."""
    return create_app(
        {**BENCH_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "MEDIA_ROOT": str(workdir / "media")}
    )


def analyze_like_autovacuum() -> None:
    """On PostgreSQL, gather the planner's statistics, as autovacuum does soon after a bulk load in
    production; measured on a freshly loaded database without them, plans would be those of empty tables."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
