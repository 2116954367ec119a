"""Logs: a request id on every line, one access line per request, text or JSON, and no credential in any.

Each request gets an id: the caller's `X-Request-Id` when it is a short safe token (a proxy's or a load
balancer's), else a new one. It is kept on `g.request_id`, sent back in the response's `X-Request-Id`,
and put on every log record emitted while the request runs ("-" outside requests). After each
response the `roster.access` logger writes one line: method, path, status, duration, size, client
address and the signed-in user's id.

One handler on the root logger writes every record (Roster's, Flask's, the libraries', gunicorn's with
`GunicornLogger`) to stderr: a readable line, or with LOG_FORMAT=json one JSON object per line. Its
filter masks the credentials that travel in URLs and headers (review and invitation link tokens, OAuth
codes and states, tokens, secrets and passwords given as `key=value`, Authorization and Cookie
headers) in each record's final message, so a log shipped anywhere grants nothing.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time
from datetime import datetime, timezone
from typing import Any, TextIO

from flask import Flask, g, has_request_context, request, request_finished, request_started
from flask.logging import default_handler
from gunicorn.glogging import Logger as _GunicornBaseLogger
from sqlalchemy import inspect
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-Id"
ACCESS_LOGGER = "roster.access"
LOG_FORMATS = ("text", "json")
REDACTED = "[redacted]"

# A caller's id is reused only when it cannot smuggle anything into a log line or a header.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

# --- redaction -----------------------------------------------------------------------------------

# Query, form and free-text parameters whose value is a credential.
SECRET_PARAMETERS = ("code", "state", "access_token", "refresh_token", "id_token", "token", "client_secret",
                     "code_verifier", "password")
_SLASH = r"(?:/|%2F)"  # a path inside another URL's query (`/login?next=%2Finvitations%2F...`) is encoded
_SEGMENT = r"(?:(?!%2F)[^/?#&\s\"'<>])+"
_KEY_START = r"(?:(?<=%3F)|(?<=%26)|(?<![A-Za-z0-9_]))"  # `code=` but not `error_code=`, also after `%3F`
_VALUE = r"(?:(?!%26)[^&\s\"'<>#;,])+"
_KEYS = "|".join(SECRET_PARAMETERS)
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        # The emailed links: the token after /review/ and /invitations/, not the pages' own paths
        # (/review/media/1, /review/posts/1) nor Team's /settings/team/invitations/<id>/resend.
        (rf"({_SLASH}review{_SLASH})(?!(?:media|posts){_SLASH}){_SEGMENT}", rf"\g<1>{REDACTED}"),
        (rf"({_SLASH}invitations{_SLASH})(?!\d+(?:{_SLASH}|[?#&\s\"'<>]|$)){_SEGMENT}", rf"\g<1>{REDACTED}"),
        (rf"{_KEY_START}((?:{_KEYS})(?:=|%3D)){_VALUE}", rf"\g<1>{REDACTED}"),
        (rf"(\"(?:{_KEYS})\"\s*:\s*\")[^\"]*", rf"\g<1>{REDACTED}"),  # "access_token": "..." in JSON
        (r"(\b(?:authorization|proxy-authorization|cookie)[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+",
         rf"\g<1>{REDACTED}"),
        (r"\b(bearer\s+)[^\s\"',;]+", rf"\g<1>{REDACTED}"),
    )
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def redact(text: str) -> str:
    """`text` with every credential it carries in a URL, a parameter or a header replaced by [redacted]."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


# --- records and how they are written ------------------------------------------------------------


def current_request_id() -> str:
    """The id of the request being handled, or "-" outside requests."""
    return g.get("request_id", "-") if has_request_context() else "-"


class RequestLogFilter(logging.Filter):
    """Puts the request id on every record and masks credentials in its final message and traceback."""

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        try:
            message = record.getMessage()
        except Exception:  # a malformed logging call is still written, masked like the rest
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message`: one readable line (a traceback follows on its own lines)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
                         defaults={"request_id": "-"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, and an access line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            **getattr(record, "access", {}),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_handler(stream: TextIO | None = None, log_format: str = "text") -> logging.Handler:
    """The handler Roster logs through: `stream` (stderr by default), the filter, and the format's formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestLogFilter())
    handler.setFormatter(JsonFormatter() if _checked_format(log_format) == "json" else TextFormatter())
    handler._roster = True  # type: ignore[attr-defined]
    return handler


def install(log_format: str = "text", level: str | int = "INFO") -> None:
    """Make Roster's handler the root logger's, once however often this runs, at `level`."""
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if getattr(handler, "_roster", False)]:
        root.removeHandler(handler)
    root.addHandler(make_handler(sys.stderr, log_format))
    root.setLevel(_checked_level(level))


def _checked_format(log_format: str) -> str:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return log_format


def _checked_level(level: str | int) -> int:
    number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    if not isinstance(number, int):
        raise ValueError(f"LOG_LEVEL is not a logging level: {level!r}")
    return number


# --- requests ------------------------------------------------------------------------------------


def init_logging(app: Flask) -> None:
    """Give every request an id and an access line; outside tests, send all logs through Roster's handler."""
    app.config.setdefault("LOG_FORMAT", "text")
    app.config.setdefault("LOG_LEVEL", "INFO")
    _checked_format(app.config["LOG_FORMAT"])
    _checked_level(app.config["LOG_LEVEL"])
    # Signals, not before/after_request: the id must exist before any hook logs (CSRF, the rate
    # limiter), and the access line must see the response every after_request hook has finished.
    request_started.connect(_start_request, app)
    request_finished.connect(_log_access, app)
    app.after_request(_send_request_id)
    if app.testing:
        return  # tests attach a handler of their own (`make_handler`) where they need one
    install(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # Flask's own would write each app record a second time


def _start_request(sender: Flask, **extra: Any) -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
    g._request_started = time.perf_counter()


def _send_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def _signed_in_user_id() -> int | None:
    # Only a user this request already loaded (Flask-Login keeps it in g), by its identity, which
    # needs no query: the access line never makes a request ask the database anything (not even
    # `is_authenticated`, which reads an attribute a commit may have expired). The anonymous user
    # is not a mapped object, so it has no identity.
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    return state.identity[0] if state is not None and state.identity else None


def _logged_path() -> str:
    """The request's path and query as a log shows it: no control characters, no credentials."""
    path = request.path
    if request.query_string:
        path = f"{path}?{request.query_string.decode('utf-8', 'replace')}"
    return redact(_CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", path))


def _log_access(sender: Flask, response: Response, **extra: Any) -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.isEnabledFor(logging.INFO):
        return  # nothing would write the line: spare the request its redaction
    started = g.get("_request_started")
    fields = {
        "method": request.method,
        "path": _logged_path(),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "size": response.content_length,
        "client": request.remote_addr,
        "user_id": _signed_in_user_id(),
    }
    logger.info(
        "%s %s %s duration=%sms size=%s client=%s user=%s", fields["method"], fields["path"], fields["status"],
        fields["duration_ms"], _or_dash(fields["size"]), _or_dash(fields["client"]), _or_dash(fields["user_id"]),
        extra={"access": fields},
    )


def _or_dash(value: Any) -> Any:
    return "-" if value is None else value


# --- gunicorn ------------------------------------------------------------------------------------


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's own messages (workers booting, timeouts) through Roster's handler, in Roster's format.

    `gunicorn --logger-class webapp.logs.GunicornLogger`: LOG_FORMAT and LOG_LEVEL come from the
    environment, as for the app; gunicorn's `--log-level` still chooses which of its messages to write.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in [handler for handler in self.error_log.handlers if getattr(handler, "_gunicorn", False)]:
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True
        install((os.environ.get("LOG_FORMAT") or "text").lower(), os.environ.get("LOG_LEVEL") or "INFO")
