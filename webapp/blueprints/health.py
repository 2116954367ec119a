"""Probes for a load balancer or an orchestrator: is the process alive, and is Roster ready to serve?

Both are public, small JSON and never cached; neither is rate limited nor checked for CSRF, since a
probe carries no session and must not be turned away for asking often. They tell an outsider
nothing useful: no database address, no error text, only which check failed, in general words (the
server log has the error).
"""
from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, has_request_context, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import MIGRATIONS_DIR, heartbeat, policy
from .. import mail as mail_rules
from ..extensions import csrf, db, limiter
from ..models import utcnow

bp = Blueprint("health", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

# A worker beats far more often than this; silence this long means none is running.
WORKER_MAX_SILENCE = timedelta(seconds=120)
DATABASE_DOWN = "database did not answer"

Check = dict[str, Any]  # {"ok": bool, "detail": str, and the figures it read}


class _QuietDuringProbes(logging.Filter):
    """Alembic names its dialect each time a migration context is made: once per probe is only noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        in_probe = has_request_context() and request.blueprint == bp.name
        return record.levelno > logging.INFO or not in_probe


logging.getLogger("alembic.runtime.migration").addFilter(_QuietDuringProbes())


@bp.get("/healthz")
@policy.public
def alive():
    """The process answers; nothing else is asked, not even the database."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@policy.public
def ready():
    """Each readiness check by name: 200 when every one passes, 503 when any fails."""
    checks = _readiness()
    passed = all(check["ok"] for check in checks.values())
    return _answer({"status": "ready" if passed else "not ready", "checks": checks}, 200 if passed else 503)


def _answer(body: dict[str, Any], status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _readiness() -> dict[str, Check]:
    database = _run("database", _database, failed=DATABASE_DOWN)
    if not database["ok"]:
        skipped = {"ok": False, "detail": f"not checked: {DATABASE_DOWN}"}
        return {"database": database, "migrations": skipped, "worker": skipped, "mail": skipped}
    return {"database": database, "migrations": _run("migrations", _migrations),
            "worker": _run("worker", _worker), "mail": _run("mail", _mail)}


def _run(name: str, check: Callable[[], Check], failed: str = "could not be checked") -> Check:
    """One check's answer; a check that breaks fails, and the probe still answers."""
    try:
        return check()
    except Exception as error:
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()  # on PostgreSQL the failed statement would fail every later check
        # The first line only: enough for an operator, and a probe failing every few seconds stays short.
        summary = (str(error).strip().splitlines() or [""])[0][:300]
        current_app.logger.warning("Readiness check %s failed: %s: %s", name, type(error).__name__, summary)
        return {"ok": False, "detail": failed}


def _database() -> Check:
    db.session.execute(text("SELECT 1"))
    return {"ok": True, "detail": "answered"}


@functools.cache
def _code_heads() -> frozenset[str]:
    """The revisions the migrations folder ends in, read once per process: the code does not change under it."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def _migrations() -> Check:
    expected = _code_heads()
    current = frozenset(MigrationContext.configure(db.session.connection()).get_current_heads())
    found = ", ".join(sorted(current)) or "no revision"
    if current == expected:
        return {"ok": True, "detail": f"at {found}"}
    return {"ok": False, "detail": f"database at {found}, code at {', '.join(sorted(expected))}"}


def _worker() -> Check:
    last = heartbeat.last_heartbeat()
    if last is None:
        return {"ok": False, "detail": "no worker has started", "age_seconds": None}
    age = max(utcnow() - last, timedelta(0))
    seconds = int(age.total_seconds())
    return {"ok": age < WORKER_MAX_SILENCE, "detail": f"last heartbeat {seconds} s ago", "age_seconds": seconds}


def _mail() -> Check:
    oldest = mail_rules.oldest_unsent()
    if oldest is None:
        return {"ok": True, "detail": "no mail waiting", "age_seconds": None}
    limit = timedelta(minutes=current_app.config.get("READY_MAIL_MAX_AGE_MINUTES", 15))
    age = max(utcnow() - oldest, timedelta(0))
    seconds = int(age.total_seconds())
    if age <= limit:
        return {"ok": True, "detail": f"oldest unsent mail queued {seconds} s ago", "age_seconds": seconds}
    return {"ok": False, "age_seconds": seconds,
            "detail": f"oldest unsent mail queued {seconds} s ago, over {int(limit.total_seconds())} s"}
