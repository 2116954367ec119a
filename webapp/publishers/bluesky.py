"""Bluesky: signing a profile in with an app password, and publishing posts to its PDS over XRPC.

The contract followed is the AT Protocol HTTP API as Bluesky documents it (docs.bsky.app, "HTTP
Reference" and the guides "Creating a post" and "Links, mentions, and rich text", 2025 edition) with the
lexicons of @atproto/pds 0.4.217, the PDS that @atproto/dev-env 0.3.215 runs in Roster's tests:

- com.atproto.server.createSession {identifier, password} -> {did, handle, accessJwt, refreshJwt,
  didDoc?}; an app password's access token carries the scope "com.atproto.appPass", the account
  password's "com.atproto.access". refreshSession (the refresh token as bearer) rotates both tokens;
  a revoked app password answers 400 "ExpiredToken". An expired access token answers 400 "ExpiredToken".
- com.atproto.repo.uploadBlob (raw bytes, their Content-Type) -> {blob}; createRecord {repo, collection,
  rkey, record} -> {uri, cid}; getRecord {repo, collection, rkey} -> 400 "RecordNotFound" when absent.
- com.atproto.identity.resolveHandle {handle} -> {did}.
- app.bsky.feed.post: text (300 graphemes, 3000 bytes), facets (UTF-8 byte ranges: #link, #mention
  with a DID, #tag without its "#"), embed app.bsky.embed.images (4 images of 1,000,000 bytes at most,
  each with alt text and an optional aspectRatio), langs, createdAt.
- Errors: {"error": "...", "message": "..."}.

Profiles keep: external_id = DID, handle, service_url = the PDS, access_token / refresh_token = the
session's JWTs, token_expires_at = the access token's "exp". The app password itself is never kept.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

import regex
import requests

from ..extensions import db
from ..models import MediaItem, Network, Post, SocialProfile
from . import (
    Published,
    attachments,
    ReconnectNeeded,
    Refused,
    RetryLater,
    call,
    http_session,
    media_bytes,
    register,
)

log = logging.getLogger(__name__)

LABEL = "Bluesky"
DEFAULT_SERVICE = "https://bsky.social"
APP_PASSWORDS_URL = "https://bsky.app/settings/app-passwords"
POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
MAX_TAG_GRAPHEMES = 64
REFRESH_LEEWAY = timedelta(minutes=2)  # an access token this close to its end is renewed first
SIGN_IN_TIMEOUT = 10  # seconds: someone is waiting at the form
MAIN_PASSWORD_SCOPE = "com.atproto.access"
STALE_ACCESS = frozenset({"ExpiredToken", "InvalidToken"})


# --- record keys ----------------------------------------------------------------------------------

BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def tid(microseconds: int, clock_id: int) -> str:
    """An AT Protocol TID: 53 bits of microseconds since 1970 and a 10-bit clock id, in 13 characters
    of sortable base32 (the top bit stays 0)."""
    if not 0 <= microseconds < 2**53:
        raise ValueError("a TID holds 53 bits of microseconds")
    value = (microseconds << 10) | (clock_id & 0x3FF)
    return "".join(BASE32_SORTABLE[(value >> shift) & 31] for shift in range(60, -1, -5))


def post_rkey(post: Post) -> str:
    """The record key of `post` on Bluesky, the same on every try: from when Roster created the post
    and its id, so a second try finds the first one's record instead of posting again."""
    created_at = post.created_at
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    return tid((created_at - EPOCH) // timedelta(microseconds=1), post.id)


# --- text ----------------------------------------------------------------------------------------

# A URL starts at a word boundary; what ends it (closing punctuation) is trimmed below.
LINK = regex.compile(r"\bhttps?://[^\s<>\"]+", regex.IGNORECASE)
TRAILING = ".,;:!?'\"”’»…"
# @handle: dot-separated labels, the last starting with a letter; not inside a word or an address.
MENTION = regex.compile(
    r"(?<![\w@.])@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)",
    regex.IGNORECASE)
# #tag: letters, marks, digits and "_" (any script), at the start or after a space or an opening mark.
HASHTAG = regex.compile(r"(?<![\w#&/])[#＃](\w+)")


def graphemes(text: str) -> int:
    """How many user-perceived characters `text` has, as Bluesky counts a post's length."""
    return len(regex.findall(r"\X", text))


@dataclass(frozen=True)
class Span:
    """A stretch of the text (character offsets, end exclusive) and what it is."""

    start: int
    end: int
    kind: str  # "link", "mention" or "tag"
    value: str  # the URL, the handle (no "@") or the tag (no "#")


def rich_text_spans(text: str) -> list[Span]:
    """The links, mentions and hashtags in `text`, in order, none overlapping a link."""
    spans = []
    for match in LINK.finditer(text):
        url = match.group()
        while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
            url = url[:-1]
        if urlsplit(url).hostname:
            spans.append(Span(match.start(), match.start() + len(url), "link", url))
    links = list(spans)

    def free(start: int, end: int) -> bool:
        return not any(link.start < end and start < link.end for link in links)

    for match in MENTION.finditer(text):
        if free(match.start(), match.end()):
            spans.append(Span(match.start(), match.end(), "mention", match.group(1).lower()))
    for match in HASHTAG.finditer(text):
        tag = match.group(1)
        if tag.isdigit() or graphemes(tag) > MAX_TAG_GRAPHEMES or not free(match.start(), match.end()):
            continue
        spans.append(Span(match.start(), match.end(), "tag", tag))
    return sorted(spans, key=lambda span: span.start)


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict]:
    """The post's rich-text facets, at UTF-8 byte offsets; `resolve` gives a handle's DID, or None for
    a handle nobody has (that mention stays plain text)."""
    found = []
    for span in rich_text_spans(text):
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "mention":
            did = resolve(span.value)
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        start = len(text[:span.start].encode("utf-8"))
        end = start + len(text[span.start:span.end].encode("utf-8"))
        found.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]})
    return found


# --- tokens and answers ----------------------------------------------------------------------------


def token_claims(jwt: str) -> dict:
    """The claims of a token the PDS gave us, read without verifying it (the PDS checks it, not us)."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_expiry(jwt: str) -> datetime | None:
    """When the access token ends (its "exp"), if it says."""
    exp = token_claims(jwt).get("exp")
    if not isinstance(exp, (int, float)):
        return None
    return datetime.fromtimestamp(int(exp), tz=timezone.utc)


def xrpc_error(response: requests.Response) -> tuple[str, str]:
    """The XRPC error name and message of an answer ("" when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def reason(response: requests.Response) -> str | None:
    """The PDS's own words for a failure: its message, else the error's name."""
    error, message = xrpc_error(response)
    return message or error or None


def xrpc_url(service_url: str, nsid: str) -> str:
    return f"{service_url.rstrip('/')}/xrpc/{nsid}"


# --- connecting ------------------------------------------------------------------------------------


class SignInFailed(Exception):
    """Signing in did not work: `message` for the form, `field` the form field it belongs to (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SignedIn:
    """A session on the person's PDS, from their handle and app password."""

    did: str
    handle: str
    display_name: str
    service_url: str
    access_jwt: str
    refresh_jwt: str

    @property
    def expires_at(self) -> datetime | None:
        return token_expiry(self.access_jwt)


HOST = regex.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]*:[0-9a-f:.]*", regex.IGNORECASE)  # a name, or IPv6


def service_address(typed: str) -> str:
    """The PDS's base URL from what the person typed ("bsky.social", "https://pds.example/"); raises
    ValueError when it is no web address."""
    typed = typed.strip()
    if "://" not in typed:
        typed = f"https://{typed}"
    refusal = ValueError("Enter the address of a Bluesky server, like https://bsky.social.")
    try:
        parts = urlsplit(typed)
        parts.port  # noqa: B018  (a port that is no number raises here)
    except ValueError:
        raise refusal from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(host) or parts.username or parts.password \
            or parts.query or parts.fragment or parts.path.strip("/"):
        raise refusal
    return f"{parts.scheme}://{parts.netloc}".lower()


def sign_in(service_url: str, identifier: str, app_password: str) -> SignedIn:
    """Sign in on the PDS at `service_url` with a handle (or email) and an app password; raises
    SignInFailed with words for the form. The account password is refused: Roster keeps no session
    that could change the account itself."""
    session = http_session()
    host = urlsplit(service_url).hostname
    try:
        answer = session.post(xrpc_url(service_url, "com.atproto.server.createSession"),
                              json={"identifier": identifier, "password": app_password}, timeout=SIGN_IN_TIMEOUT)
    except requests.RequestException as error:
        log.info("signing in to Bluesky at %s: unreachable (%s)", host, type(error).__name__)
        raise SignInFailed(f"Roster could not reach {host}. Check the server address, or try again in a "
                           "moment.", "service_url") from None
    error, message = xrpc_error(answer)
    if answer.status_code == 401 and error == "AuthenticationRequired":
        raise SignInFailed("Bluesky did not accept this handle and app password. Check both, or make a new "
                           "app password.", "app_password")
    if error == "AuthFactorTokenRequired":
        raise SignInFailed("That is your account password. Use an app password instead.", "app_password")
    if answer.status_code == 429:
        raise SignInFailed("Bluesky asked Roster to slow down: too many sign-ins. Try again in a few minutes.")
    if answer.status_code >= 500:
        raise SignInFailed(f"{host} had a problem on its side ({answer.status_code}). Try again in a moment.")
    if not answer.ok:
        if not error:
            raise SignInFailed(f"{host} did not answer like a Bluesky server. Check the server address.",
                               "service_url")
        raise SignInFailed(f"Bluesky did not let Roster in: {message or error}.")
    try:
        body = answer.json()
        did, handle = str(body["did"]), str(body["handle"])
        access_jwt, refresh_jwt = str(body["accessJwt"]), str(body["refreshJwt"])
    except (ValueError, KeyError, TypeError):
        raise SignInFailed(f"{host} did not answer like a Bluesky server. Check the server address.",
                           "service_url") from None
    signed_in = SignedIn(did=did, handle=handle, display_name="", access_jwt=access_jwt, refresh_jwt=refresh_jwt,
                         service_url=_pds_of(body.get("didDoc")) or service_url)
    if token_claims(access_jwt).get("scope") == MAIN_PASSWORD_SCOPE:
        sign_out(signed_in)
        raise SignInFailed("That is your account password. Roster only signs in with an app password: make "
                           "one in Bluesky's settings and paste it here.", "app_password")
    return dataclasses.replace(signed_in, display_name=_display_name(session, signed_in))


def sign_out(signed_in: SignedIn) -> None:
    """End a session Roster will not keep (best effort: an unused session also runs out by itself)."""
    try:
        http_session().post(xrpc_url(signed_in.service_url, "com.atproto.server.deleteSession"),
                            headers={"Authorization": f"Bearer {signed_in.refresh_jwt}"}, timeout=SIGN_IN_TIMEOUT)
    except requests.RequestException:
        pass


def _pds_of(did_document: Any) -> str | None:
    """The PDS a DID document names (a session opened at bsky.social lives on another host)."""
    if not isinstance(did_document, dict):
        return None
    for service in did_document.get("service") or ():
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str):
                try:
                    return service_address(endpoint)
                except ValueError:
                    return None
    return None


def _display_name(session: requests.Session, signed_in: SignedIn) -> str:
    """The profile's display name from its own repository, or "" (a profile may have none)."""
    try:
        answer = session.get(xrpc_url(signed_in.service_url, "com.atproto.repo.getRecord"),
                             params={"repo": signed_in.did, "collection": "app.bsky.actor.profile", "rkey": "self"},
                             timeout=SIGN_IN_TIMEOUT)
        name = answer.json().get("value", {}).get("displayName") if answer.ok else None
    except (requests.RequestException, ValueError, AttributeError):
        return ""
    return name[:120] if isinstance(name, str) else ""


def connection_token(signed_in: SignedIn) -> dict:
    """The session in the shape `profiles.connect_found` stores."""
    expires_at = signed_in.expires_at
    return {"access_token": signed_in.access_jwt, "refresh_token": signed_in.refresh_jwt,
            "expires_at": expires_at.timestamp() if expires_at else None}


def connection_profile(signed_in: SignedIn) -> dict:
    """Whose profile it is, in the shape `profiles.connect_found` stores."""
    return {"external_id": signed_in.did, "handle": signed_in.handle, "display_name": signed_in.display_name,
            "avatar_url": None}


# --- publishing ------------------------------------------------------------------------------------


# `call` classes an answer through these: each raises its own signal for the one answer the caller
# handles itself (renew the session, or no record under that key), else says whether to reconnect.


class _StaleAccess(Exception):
    """The PDS says the access token ran out or is not valid (anymore): refresh, then try once more."""


def _access_refused(response: requests.Response) -> bool:
    if response.status_code in (400, 401) and xrpc_error(response)[0] in STALE_ACCESS:
        raise _StaleAccess()
    return response.status_code == 401


class _RecordMissing(Exception):
    """getRecord found no record under that key."""


def _record_missing(response: requests.Response) -> bool:
    if response.status_code == 400 and xrpc_error(response)[0] == "RecordNotFound":
        raise _RecordMissing()
    return response.status_code == 401


def _refresh_refused(response: requests.Response) -> bool:
    return response.status_code == 401 or xrpc_error(response)[0] in STALE_ACCESS | {"AccountTakedown"}


class _Repository:
    """Calls on one profile's PDS with its session, renewing the session when it runs out."""

    def __init__(self, profile: SocialProfile) -> None:
        self.profile = profile
        self.service_url = profile.service_url or DEFAULT_SERVICE
        self.session = http_session()

    def url(self, nsid: str) -> str:
        return xrpc_url(self.service_url, nsid)

    def call(self, method: str, nsid: str, **options: Any) -> requests.Response:
        """An authenticated call; an access token the PDS calls expired or invalid is renewed once."""
        try:
            return self._send(method, nsid, **options)
        except _StaleAccess:
            self.refresh()
        try:
            return self._send(method, nsid, **options)
        except _StaleAccess:
            raise ReconnectNeeded(f"{LABEL} no longer accepts this profile's sign-in: reconnect it.") from None

    def _send(self, method: str, nsid: str, headers: dict | None = None, **options: Any) -> requests.Response:
        return call(LABEL, method, self.url(nsid), session=self.session, reason=reason, expired=_access_refused,
                    headers={**(headers or {}), "Authorization": f"Bearer {self.access_token()}"}, **options)

    def access_token(self) -> str:
        profile = self.profile
        expires_at = profile.token_expires_at
        if not profile.access_token or (
                expires_at is not None and expires_at - datetime.now(timezone.utc) < REFRESH_LEEWAY):
            self.refresh()
        return profile.access_token

    def refresh(self) -> None:
        """New tokens for the profile, stored and committed at once (the refresh token rotates: losing
        the new one would lose the profile); a refusal means someone must reconnect it."""
        profile = self.profile
        if not profile.refresh_token:
            raise ReconnectNeeded(f"{LABEL} sign-in of @{profile.handle} is missing: reconnect it.")
        answer = call(LABEL, "POST", self.url("com.atproto.server.refreshSession"), session=self.session,
                      reason=reason, expired=_refresh_refused,
                      headers={"Authorization": f"Bearer {profile.refresh_token}"})
        try:
            body = answer.json()
            access_jwt, refresh_jwt = str(body["accessJwt"]), str(body["refreshJwt"])
        except (ValueError, KeyError, TypeError):
            raise RetryLater(f"{LABEL} sent an answer Roster could not read; Roster will try again.") from None
        profile.access_token = access_jwt
        profile.refresh_token = refresh_jwt
        profile.token_expires_at = token_expiry(access_jwt)
        handle = body.get("handle")
        if isinstance(handle, str) and handle and handle != "handle.invalid":
            profile.handle = handle[:120]
        db.session.commit()
        log.info("Renewed the Bluesky session of profile %s", profile.id)

    def existing(self, rkey: str) -> str | None:
        """The URI of the profile's post under `rkey`, if the PDS has one."""
        try:
            answer = call(LABEL, "GET", self.url("com.atproto.repo.getRecord"), session=self.session, reason=reason,
                          expired=_record_missing,
                          params={"repo": self.profile.external_id, "collection": POST_COLLECTION, "rkey": rkey})
        except _RecordMissing:
            return None
        uri = answer.json().get("uri")
        return uri if isinstance(uri, str) else None

    def resolve(self, handle: str) -> str | None:
        """The DID of `handle`, or None when nobody has it."""
        try:
            answer = call(LABEL, "GET", self.url("com.atproto.identity.resolveHandle"), session=self.session,
                          reason=reason, params={"handle": handle})
        except Refused:
            return None
        did = answer.json().get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    def upload(self, item: MediaItem, content: bytes) -> dict:
        answer = self.call("POST", "com.atproto.repo.uploadBlob", data=content,
                           headers={"Content-Type": item.content_type})
        blob = answer.json().get("blob")
        if not isinstance(blob, dict):
            raise RetryLater(f"{LABEL} did not say where it keeps {item.name}; Roster will try again.")
        return blob

    def create(self, rkey: str, record: dict) -> str:
        answer = self.call("POST", "com.atproto.repo.createRecord", json={
            "repo": self.profile.external_id, "collection": POST_COLLECTION, "rkey": rkey, "record": record,
        })
        uri = answer.json().get("uri")
        if not isinstance(uri, str):  # the next try finds the record under its key, if it was made
            raise RetryLater(f"{LABEL} did not say where it put the post; Roster will look again.")
        return uri


def _check(text: str, items: list[MediaItem]) -> None:
    """Refuse, before any call, what Bluesky would not take."""
    length = graphemes(text)
    if length > MAX_GRAPHEMES:
        raise Refused(f"{LABEL} takes posts of up to {MAX_GRAPHEMES} characters; this one has {length}.")
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise Refused(f"{LABEL} takes posts of up to {MAX_TEXT_BYTES:,} bytes; this one is longer.")
    if len(items) > MAX_IMAGES:
        raise Refused(f"{LABEL} takes up to {MAX_IMAGES} images in a post; this one has {len(items)}.")
    for item in items:
        if item.kind != "image" or not item.content_type.startswith("image/"):
            raise Refused(f"{LABEL} posts from Roster carry images only; {item.name} is a {item.kind}.")
        if item.byte_size > MAX_IMAGE_BYTES:
            raise Refused(f"{LABEL} takes images of up to 1 MB; {item.name} is {item.byte_size / 1_000_000:.1f} MB.")


def post_url(handle: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


class BlueskyAdapter:
    """Publishes a post as one app.bsky.feed.post record, exactly once, on the profile's PDS."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        text = post.caption or ""
        items = attachments(post)
        _check(text, items)
        if profile.needs_reconnect or not profile.external_id:
            raise ReconnectNeeded(f"Reconnect @{profile.handle} on {LABEL}: its sign-in stopped working.")
        repository = _Repository(profile)
        rkey = post_rkey(post)
        uri = repository.existing(rkey)
        if uri is None:
            record = self._record(post, text, items, repository)
            try:
                uri = repository.create(rkey, record)
            except (RetryLater, Refused) as error:
                # The record may be there all the same (two tries at once, an answer lost on the way).
                try:
                    uri = repository.existing(rkey)
                except (RetryLater, Refused):
                    uri = None
                if uri is None:
                    raise error from None
        return Published(remote_id=uri, url=post_url(profile.handle, rkey))

    def _record(self, post: Post, text: str, items: list[MediaItem], repository: _Repository) -> dict:
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        found = facets(text, repository.resolve)
        if found:
            record["facets"] = found
        language = (post.options or {}).get("language")
        if isinstance(language, str) and language.strip():
            record["langs"] = [language.strip()]
        if items:
            images = []
            for item in items:
                content = media_bytes(item)
                if len(content) > MAX_IMAGE_BYTES:
                    raise Refused(f"{LABEL} takes images of up to 1 MB; {item.name} is "
                                  f"{len(content) / 1_000_000:.1f} MB.")
                image: dict[str, Any] = {"alt": item.alt_text or "", "image": repository.upload(item, content)}
                if item.width and item.height:
                    image["aspectRatio"] = {"width": item.width, "height": item.height}
                images.append(image)
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        return record


@register(Network.BLUESKY)
def bluesky_adapter() -> BlueskyAdapter:
    return BlueskyAdapter()
