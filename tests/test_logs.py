"""Logs: every request has an id and one access line, text or JSON, and no credential reaches any line."""
from __future__ import annotations

import io
import json
import logging
import re
import secrets

import pytest
from flask import Flask

from webapp import logs, policy
from webapp.logs import REDACTED, redact

from . import factories
from .scenarios import issue

GENERATED_ID = re.compile(r"[0-9a-f]{16}")


class Captured:
    """What Roster's own handler wrote while the test ran, as lines."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def access_lines(self) -> list[str]:
        return [line for line in self.lines if f" {logs.ACCESS_LOGGER} " in line]


@pytest.fixture
def log_output(caplog):
    """`log_output("text" | "json")`: Roster's handler, as `init_logging` installs it, on the root logger."""
    handlers = []

    def attach(log_format: str = "text") -> Captured:
        stream = io.StringIO()
        handler = logs.make_handler(stream, log_format)
        logging.getLogger().addHandler(handler)
        handlers.append(handler)
        return Captured(stream)

    caplog.set_level(logging.INFO)  # the root logger's level, put back after the test
    yield attach
    for handler in handlers:
        logging.getLogger().removeHandler(handler)


# --- the request id ------------------------------------------------------------------------------


def test_each_response_carries_a_new_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert GENERATED_ID.fullmatch(first.headers["X-Request-Id"])
    assert GENERATED_ID.fullmatch(second.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_a_safe_incoming_request_id_is_kept(client):
    """A proxy's id ties its log to ours."""
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.9C_01"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.9C_01"


@pytest.mark.parametrize("incoming", [
    "short", "x" * 65, "two words here", "id;drop=1", "<script>x</script>", "ünïcödé-request",
])
def test_an_unsafe_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-Id"])


@pytest.mark.fresh_app
def test_every_record_during_a_request_has_its_id_and_none_outside(app, client, log_output):
    captured = log_output("text")

    @app.get("/test/logs-something")
    @policy.public
    def logs_something():
        app.logger.warning("something worth knowing")
        return "done"

    response = client.get("/test/logs-something")
    app.logger.warning("between requests")

    request_id = response.headers["X-Request-Id"]
    [inside] = [line for line in captured.lines if "something worth knowing" in line]
    [outside] = [line for line in captured.lines if "between requests" in line]
    assert f"WARNING webapp [{request_id}] something worth knowing" in inside
    assert "[-] between requests" in outside
    [access] = captured.access_lines()
    assert f"[{request_id}] GET /test/logs-something 200" in access


# --- the access line -----------------------------------------------------------------------------


def test_one_access_line_per_request_in_text(client, log_output):
    captured = log_output("text")
    response = client.get("/healthz?probe=1", headers={"X-Request-Id": "probe-000001"})
    [line] = captured.access_lines()
    assert re.fullmatch(
        r"\S+Z INFO roster\.access \[probe-000001\] GET /healthz\?probe=1 200 duration=\d+\.\dms "
        rf"size={len(response.data)} client=127\.0\.0\.1 user=-", line)


def test_access_lines_name_the_signed_in_user(client, auth, log_output):
    captured = log_output("text")
    account = factories.make_account()
    owner = factories.owner_of(account)
    auth.login(owner)
    client.get("/")
    sign_in, home = captured.access_lines()
    assert " POST /login 303 " in sign_in and sign_in.endswith(f" user={owner.id}")
    assert " GET / 303 " in home and home.endswith(f" user={owner.id}")


def test_json_lines_are_objects_with_the_request_and_access_fields(app, client, log_output):
    captured = log_output("json")
    response = client.get("/healthz", headers={"X-Request-Id": "probe-000002"})
    app.logger.warning("outside any request")

    entries = [json.loads(line) for line in captured.lines]
    [access] = [entry for entry in entries if entry["logger"] == logs.ACCESS_LOGGER]
    assert {key: access[key] for key in ("level", "request_id", "method", "path", "status", "size", "client",
                                         "user_id")} == {
        "level": "INFO", "request_id": "probe-000002", "method": "GET", "path": "/healthz", "status": 200,
        "size": len(response.data), "client": "127.0.0.1", "user_id": None,
    }
    assert isinstance(access["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access["time"])
    assert access["message"].startswith("GET /healthz 200 ")
    [other] = [entry for entry in entries if entry["message"] == "outside any request"]
    assert (other["level"], other["logger"], other["request_id"]) == ("WARNING", "webapp", "-")


def test_an_exception_is_one_json_line_with_its_traceback(log_output):
    captured = log_output("json")
    try:
        raise RuntimeError("token=abc123 went wrong")
    except RuntimeError:
        logging.getLogger("webapp").exception("publishing failed")
    [line] = captured.lines
    entry = json.loads(line)
    assert entry["message"] == "publishing failed"
    assert "RuntimeError: token=[redacted] went wrong" in entry["exception"]
    assert "abc123" not in line


def test_an_unknown_log_format_is_refused_at_startup():
    app = Flask(__name__)
    app.config.update(TESTING=True, LOG_FORMAT="xml")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.init_logging(app)


# --- no credential in any line -------------------------------------------------------------------


TOKEN = "Qm9uanNvaXItdGhpcy1pcy1hLXRva2VuLTEyMzQ1Njc4"


@pytest.mark.parametrize("logged, secrets_in_it", [
    (f"GET /review/{TOKEN} HTTP/1.1", [TOKEN]),
    (f"https://roster.test/invitations/{TOKEN}", [TOKEN]),
    (f"POST /invitations/{TOKEN}/sign-out", [TOKEN]),
    ("GET /oauth/callback/instagram?code=C0DE-123&state=ST4TE-456", ["C0DE-123", "ST4TE-456"]),
    ("GET /login?next=%2Foauth%2Fcallback%2Fx%3Fcode%3DC0DE-123%26state%3DST4TE-456", ["C0DE-123", "ST4TE-456"]),
    (f"POST /login?next=%2Finvitations%2F{TOKEN}", [TOKEN]),
    ("token endpoint said access_token=AT-1&refresh_token=RT-2&client_secret=CS-3", ["AT-1", "RT-2", "CS-3"]),
    ('answer {"access_token": "AT-1", "token_type": "bearer"}', ["AT-1"]),
    ("Authorization: Bearer eyJhbGciOi.payload.signature", ["eyJhbGciOi"]),
    ("called the API with bearer eyJhbGciOi.payload.signature", ["eyJhbGciOi"]),
    ("Cookie: session=s3ss10n; roster_review=r3v13w", ["s3ss10n", "r3v13w"]),
])
def test_redaction_masks_every_kind_of_credential(logged, secrets_in_it):
    masked = redact(logged)
    assert REDACTED in masked
    for secret in secrets_in_it:
        assert secret not in masked
    assert redact(masked) == masked


@pytest.mark.parametrize("logged", [
    "GET /review 200", "POST /review/posts/12 303", "GET /review/media/3 200",
    "POST /settings/team/invitations/5/resend 303", "GET /g/3/posts?error_code=7&postcode=10115 200",
    "failed sign-in for 'ana@example.test' from 10.0.0.1",
])
def test_redaction_leaves_what_is_not_a_credential(logged):
    assert redact(logged) == logged


def test_the_filter_masks_any_record_of_any_logger(log_output, caplog):
    captured = log_output("text")
    logging.getLogger("authlib.some.client").warning("sent %s", "Authorization: Bearer abc.def.ghi")
    assert "abc.def.ghi" not in captured.text
    assert f"sent Authorization: {REDACTED}" in captured.text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_opening_an_emailed_review_link_leaves_no_token_in_the_logs(app, client, review_agency, log_output, caplog,
                                                                     log_format):
    """The real link (then the page it leads to) and a made-up one: the token is in no line of either."""
    captured = log_output(log_format)
    _, token = issue(review_agency)
    made_up = secrets.token_urlsafe(32)

    assert client.get(f"/review/{token}").status_code == 303
    assert client.get(f"/review/{made_up}").status_code < 500
    assert client.get(f"/invitations/{made_up}").status_code < 500

    assert len(captured.lines) >= 3
    for secret in (token, made_up):
        assert secret not in captured.text
        assert secret not in caplog.text
    assert f"GET /review/{REDACTED} 303" in captured.text.replace("\\/", "/")


def test_the_oauth_callback_leaves_no_code_or_state_in_the_logs(client, log_output, caplog):
    """Signed out at the callback: sent to sign in with the callback in `next`, and that is masked too."""
    captured = log_output("text")
    response = client.get("/oauth/callback/instagram?code=C0DE-9f8e7d&state=ST4TE-1a2b3c")
    client.get(response.location)
    for secret in ("C0DE-9f8e7d", "ST4TE-1a2b3c"):
        assert secret not in captured.text and secret not in caplog.text
    assert f"GET /oauth/callback/instagram?code={REDACTED}&state={REDACTED} " in captured.text


# --- gunicorn ------------------------------------------------------------------------------------


def test_gunicorns_own_messages_go_through_roster_handler(monkeypatch):
    """`--logger-class webapp.logs.GunicornLogger`: its error log in Roster's JSON, one handler on the root."""
    from gunicorn.config import Config

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    error_log = logging.getLogger("gunicorn.error")
    saved_error = list(error_log.handlers), error_log.propagate, error_log.level
    monkeypatch.setenv("LOG_FORMAT", "json")
    try:
        logs.GunicornLogger(Config())
        [handler] = [handler for handler in root.handlers if getattr(handler, "_roster", False)]
        stream = io.StringIO()
        handler.setStream(stream)
        error_log.info("Booting worker with pid: %s", 42)
        entry = json.loads(stream.getvalue())
        assert (entry["logger"], entry["message"], entry["request_id"]) == (
            "gunicorn.error", "Booting worker with pid: 42", "-")
        assert not [handler for handler in error_log.handlers if getattr(handler, "_gunicorn", False)]
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        error_log.handlers[:], error_log.propagate = saved_error[0], saved_error[1]
        error_log.setLevel(saved_error[2])
