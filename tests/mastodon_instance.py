"""A Mastodon instance on a local port, answering as the Mastodon 4.x API documentation says
(docs.joinmastodon.org: methods/apps, methods/oauth with spec/oauth's PKCE, methods/accounts,
methods/instance, methods/media, methods/statuses), and keeping every request it got for the tests
to check: method, path, headers and body.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SCOPES = "read write:statuses write:media"
ACCOUNT = {
    "id": "109372843234567890", "username": "maya", "acct": "maya", "display_name": "Maya Lopez",
    "avatar": "https://files.example/avatars/maya.png", "avatar_static": "https://files.example/avatars/maya-static.png",
    "url": "https://mastodon.example/@maya",
}
INSTANCE_CONFIGURATION = {
    "urls": {"streaming": "wss://mastodon.example"},
    "accounts": {"max_featured_tags": 10},
    "statuses": {"max_characters": 1000, "max_media_attachments": 6, "characters_reserved_per_url": 23},
    "media_attachments": {
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
        "image_size_limit": 10485760, "image_matrix_limit": 16777216, "video_size_limit": 41943040,
        "video_frame_rate_limit": 60, "video_matrix_limit": 2304000, "description_limit": 1500,
    },
    "polls": {"max_options": 4},
}


@dataclass
class Seen:
    """One request as the instance received it."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    files: dict[str, tuple[str, str, bytes]]  # field -> (file name, content type, bytes)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class Answer:
    """A queued answer to the next status request: its code, body and headers; `made` says whether
    the instance made the status all the same (an answer lost on the way back)."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    made: bool = False


class MastodonInstance:
    """The instance's state: registered apps, codes and tokens, media and statuses."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.seen: list[Seen] = []
        self.apps: dict[str, dict[str, str]] = {}  # client_id -> its registration
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict] = {}  # idempotency key (or a fresh one) -> status
        self.processing_looks = 0  # how many looks at an upload find it still processing
        self.status_answers: list[Answer] = []
        self.media_answers: list[Answer] = []
        self.configuration = INSTANCE_CONFIGURATION
        self._numbers = itertools.count(1)
        server.expect_request("/api/v1/apps", method="POST").respond_with_handler(self._register_app)
        server.expect_request("/api/v2/instance", method="GET").respond_with_handler(self._instance)
        server.expect_request("/oauth/token", method="POST").respond_with_handler(self._token)
        server.expect_request("/api/v1/accounts/verify_credentials", method="GET").respond_with_handler(
            self._verify_credentials)
        server.expect_request("/api/v2/media", method="POST").respond_with_handler(self._upload)
        server.expect_request(re.compile(r"^/api/v1/media/[^/]+$"), method="GET").respond_with_handler(self._media)
        server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self._status)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname

    def calls(self) -> list[tuple[str, str]]:
        return [(seen.method, seen.path) for seen in self.seen]

    def forget(self) -> None:
        """Start counting requests afresh."""
        self.seen.clear()

    # --- the person at the instance --------------------------------------------------------------

    def consent(self, authorize_url: str, account: dict | None = None) -> str:
        """The person signs in at the instance and allows Roster: the URL the instance sends them back to."""
        parts = urlsplit(authorize_url)
        assert f"{parts.scheme}://{parts.netloc}" == self.url and parts.path == "/oauth/authorize"
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        registration = self.apps[params["client_id"]]
        assert params["redirect_uri"] == registration["redirect_uri"]
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"client_id": params["client_id"], "redirect_uri": params["redirect_uri"],
                            "challenge": params.get("code_challenge"), "account": account or ACCOUNT}
        return f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"

    def revoke_all(self) -> None:
        self.tokens.clear()

    # --- the API ---------------------------------------------------------------------------------

    def _record(self, request: Request) -> Seen:
        seen = Seen(
            method=request.method, path=request.path, headers=dict(request.headers),
            query={name: request.args.getlist(name) for name in request.args},
            form={name: request.form.getlist(name) for name in request.form},
            files={name: (upload.filename, upload.mimetype, upload.read()) for name, upload in request.files.items()},
        )
        self.seen.append(seen)
        return seen

    def _account_of(self, seen: Seen) -> dict | None:
        scheme, _, token = seen.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme == "Bearer" else None

    def _register_app(self, request: Request) -> Response:
        seen = self._record(request)
        client_id = f"client-{next(self._numbers)}"
        registration = {"name": seen.value("client_name"), "redirect_uri": seen.value("redirect_uris"),
                        "scopes": seen.value("scopes"), "website": seen.value("website"),
                        "client_secret": f"secret-{secrets.token_hex(8)}"}
        self.apps[client_id] = registration
        return _json({"id": str(len(self.apps)), "name": registration["name"], "website": registration["website"],
                      "scopes": registration["scopes"].split(), "redirect_uri": registration["redirect_uri"],
                      "redirect_uris": [registration["redirect_uri"]], "client_id": client_id,
                      "client_secret": registration["client_secret"], "client_secret_expires_at": 0,
                      "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="})

    def _instance(self, request: Request) -> Response:
        self._record(request)
        return _json({"domain": self.host, "title": "Mastodon Example", "version": "4.4.0",
                      "configuration": self.configuration, "registrations": {"enabled": False}})

    def _token(self, request: Request) -> Response:
        seen = self._record(request)
        grant = self.codes.pop(seen.value("code") or "", None)
        registration = self.apps.get(seen.value("client_id") or "")
        verifier = seen.value("code_verifier") or ""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (grant is None or registration is None or seen.value("grant_type") != "authorization_code"
                or seen.value("client_secret") != registration["client_secret"]
                or grant["client_id"] != seen.value("client_id")
                or seen.value("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]):
            return _json({"error": "invalid_grant", "error_description": "The provided authorization grant is "
                          "invalid, expired, revoked, does not match the redirection URI used in the "
                          "authorization request, or was issued to another client."}, 400)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = grant["account"]
        return _json({"access_token": token, "token_type": "Bearer", "scope": SCOPES, "created_at": 1733400000})

    def _verify_credentials(self, request: Request) -> Response:
        account = self._account_of(self._record(request))
        if account is None:
            return _json({"error": "The access token is invalid"}, 401)
        return _json(account)

    def _upload(self, request: Request) -> Response:
        seen = self._record(request)
        if self._account_of(seen) is None:
            return _json({"error": "The access token was revoked"}, 401)
        if self.media_answers:
            answer = self.media_answers.pop(0)
            return _json(answer.body, answer.status, answer.headers)
        if "file" not in seen.files:
            return _json({"error": "Validation failed: File can't be blank"}, 422)
        media_id = str(1000 + next(self._numbers))
        self.media[media_id] = {"looks_left": self.processing_looks, "description": seen.value("description")}
        return _json(self._attachment(media_id), 202 if self.processing_looks else 200)

    def _media(self, request: Request) -> Response:
        seen = self._record(request)
        if self._account_of(seen) is None:
            return _json({"error": "The access token was revoked"}, 401)
        media = self.media.get(seen.path.rsplit("/", 1)[1])
        if media is None:
            return _json({"error": "Record not found"}, 404)
        if media["looks_left"] > 0:
            media["looks_left"] -= 1
        return _json(self._attachment(seen.path.rsplit("/", 1)[1]), 206 if media["looks_left"] else 200)

    def _attachment(self, media_id: str) -> dict:
        media = self.media[media_id]
        ready = media["looks_left"] == 0
        return {"id": media_id, "type": "image", "url": f"{self.url}/media/{media_id}.png" if ready else None,
                "preview_url": f"{self.url}/media/{media_id}-small.png", "description": media["description"],
                "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"}

    def _status(self, request: Request) -> Response:
        seen = self._record(request)
        account = self._account_of(seen)
        if account is None:
            return _json({"error": "The access token was revoked"}, 401)
        key = seen.headers.get("Idempotency-Key")
        if key and key in self.statuses:
            return _json(self.statuses[key])
        answer = self.status_answers.pop(0) if self.status_answers else None
        if answer is not None and not answer.made:
            return _json(answer.body, answer.status, answer.headers)
        unknown = [media_id for media_id in seen.form.get("media_ids[]", []) if media_id not in self.media]
        if unknown:
            return _json({"error": "Validation failed: Media ids are invalid"}, 422)
        status_id = str(110000000000000000 + next(self._numbers))
        status = {
            "id": status_id, "uri": f"{self.url}/users/{account['username']}/statuses/{status_id}",
            "url": f"{self.url}/@{account['username']}/{status_id}", "content": f"<p>{seen.value('status')}</p>",
            "visibility": seen.value("visibility") or "public", "spoiler_text": seen.value("spoiler_text") or "",
            "sensitive": bool(seen.value("spoiler_text")), "language": seen.value("language"),
            "media_attachments": [self._attachment(media_id) for media_id in seen.form.get("media_ids[]", [])],
            "account": account,
        }
        self.statuses[key or secrets.token_hex(8)] = status
        if answer is not None:  # made, but the answer is lost on its way back
            return _json(answer.body, answer.status, answer.headers)
        return _json(status)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")
