"""Mastodon: connecting a profile on whichever instance it lives, and what that instance allows.

Mastodon is many servers. The person names theirs (`instance_url` checks and normalises what they
typed); Roster registers itself there as an app once (`instance_app`, again when ROSTER_URL changes),
reads the instance's limits, and sends the person to the instance's own sign-in with the
authorization-code flow and PKCE, through the same pending-flow machinery as every OAuth network
(`profiles.begin_authorization`; the callback builds the client again with `instance_client`).
Mastodon's tokens do not expire: one that stops working was revoked, and the profile must be
reconnected.

Follows the Mastodon 4.x API documentation (docs.joinmastodon.org): methods/apps (POST /api/v1/apps),
methods/oauth and spec/oauth (/oauth/authorize and /oauth/token, PKCE with S256), methods/accounts
(GET /api/v1/accounts/verify_credentials) and methods/instance (GET /api/v2/instance).
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from . import profiles
from .extensions import db, savepoint
from .models import Network, NetworkApp, SocialProfile, utcnow
from .networks import NetworkClient, callback_url
from .publishers import http_session, json_object

log = logging.getLogger(__name__)

SCOPES = "read write:statuses write:media"
CLIENT_NAME = "Roster"
HTTP_TIMEOUT = 10  # seconds for one call to an instance while someone waits on the connect form
LIMITS_TIMEOUT = 5  # seconds for the worker's daily read of an instance's limits
LIMITS_LIFETIME = timedelta(days=1)

# What an instance allows when it has not said (Mastodon's own defaults).
DEFAULT_LIMITS: dict[str, Any] = {
    "max_characters": 500,
    "max_media_attachments": 4,
    "characters_reserved_per_url": 23,
    "image_size_limit": 16 * 1024 * 1024,
    "video_size_limit": 99 * 1024 * 1024,
    "description_limit": 1500,
    "image_matrix_limit": None,
    "video_matrix_limit": None,
    "video_frame_rate_limit": None,
    "supported_mime_types": [],
}
# Where each limit sits in GET /api/v2/instance's `configuration`.
_LIMIT_PLACES = {
    "max_characters": "statuses",
    "max_media_attachments": "statuses",
    "characters_reserved_per_url": "statuses",
    "image_size_limit": "media_attachments",
    "video_size_limit": "media_attachments",
    "description_limit": "media_attachments",
    "image_matrix_limit": "media_attachments",
    "video_matrix_limit": "media_attachments",
    "video_frame_rate_limit": "media_attachments",
}
# Names that never lead to a public server.
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".example",
                     ".invalid", ".onion", ".intranet", ".corp")
# An instance on this machine, for tests and local trials only (see `_loopback_allowed`).
LOCAL_HOSTS = ("127.0.0.1", "localhost")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# The profile as verify_credentials describes it: the account's id, its name on the instance
# (`acct`, which the connection completes with the instance's host), display name and picture.
PROFILE_FIELDS = {
    "external_id": ("id",),
    "handle": ("acct", "username"),
    "display_name": ("display_name", "username"),
    "avatar_url": ("avatar_static", "avatar"),
}


class InstanceProblem(ValueError):
    """The instance the person named cannot be used; `message` says why, for the form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- which instance ---------------------------------------------------------------------------------


def _loopback_allowed() -> bool:
    """Tests and local trials may run an instance on this machine, over plain http."""
    return bool(current_app.testing or current_app.config.get("MASTODON_ALLOW_HTTP"))


def host_of(server_url: str) -> str:
    """The instance's host name, as people write it after the @ of a handle."""
    return urlsplit(server_url).hostname or server_url


def instance_url(typed: str | None) -> str:
    """The instance's base URL, https://host, from what the person typed: "mastodon.social",
    "https://mastodon.social/@maya" or "@maya@mastodon.social". Anything that is not a public host
    name reached over https is refused with the reason."""
    text = (typed or "").strip()
    if not text:
        raise InstanceProblem("Enter your Mastodon server, like mastodon.social.")
    if any(character.isspace() for character in text):
        raise InstanceProblem("That is not a server address. Enter it like mastodon.social.")
    if "://" not in text:
        if "@" in text:  # a handle: the server is after its last @
            text = text.rsplit("@", 1)[1]
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InstanceProblem("That is not a server address. Enter it like mastodon.social.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise InstanceProblem("That is not a server address. Enter it like mastodon.social.")
    if host in LOCAL_HOSTS and _loopback_allowed():
        return f"{scheme}://{host}" + (f":{port}" if port else "")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InstanceProblem("That is not a server address. Enter it like mastodon.social.") from None
    if _is_ip_address(host) or not _is_public_name(host):
        raise InstanceProblem(f"{host} is not a public server. Enter the address you open Mastodon at, "
                              "like mastodon.social.")
    if scheme != "https" or port not in (None, 443):
        raise InstanceProblem(f"Roster connects to Mastodon servers over https only. Enter it as {host}.")
    return f"https://{host}"


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_public_name(host: str) -> bool:
    labels = host.split(".")
    return (
        len(host) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit() and not f".{host}".endswith(_PRIVATE_SUFFIXES)
    )


def check_public(server_url: str) -> None:
    """Refuse an instance whose name leads into a private network: Roster's server would otherwise
    call machines beside it on a visitor's say-so."""
    parts = urlsplit(server_url)
    if parts.hostname in LOCAL_HOSTS and _loopback_allowed():
        return
    host = parts.hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        raise InstanceProblem(f"Roster could not find {host}. Check the address.") from None
    if not addresses or not all(ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses):
        raise InstanceProblem(f"{host} is not a public server. Enter the address you open Mastodon at.")


# --- Roster's app on the instance -------------------------------------------------------------------


def _ask(method: str, server_url: str, path: str, timeout: float = HTTP_TIMEOUT, **options: Any) -> requests.Response:
    """One call to the instance; redirects are not followed (they could lead anywhere)."""
    try:
        return http_session().request(method, f"{server_url}{path}", timeout=timeout, allow_redirects=False,
                                      **options)
    except requests.RequestException as error:
        log.warning("Mastodon instance %s could not be reached: %s", host_of(server_url), type(error).__name__)
        raise InstanceProblem(f"Roster could not reach {host_of(server_url)}. Check the address, "
                              "or try again in a moment.") from None


def _find_app(server_url: str) -> NetworkApp | None:
    return db.session.scalar(select(NetworkApp).where(
        NetworkApp.network == Network.MASTODON.value, NetworkApp.server_url == server_url))


def instance_app(server_url: str) -> NetworkApp:
    """Roster's app on the instance: the one registered before, or registered now when there is
    none or it names another callback (ROSTER_URL changed). The caller commits."""
    redirect_uri = callback_url(Network.MASTODON)
    app = _find_app(server_url)
    if app is not None and app.redirect_uri == redirect_uri:
        return app
    response = _ask("POST", server_url, "/api/v1/apps", data={
        "client_name": CLIENT_NAME, "redirect_uris": redirect_uri, "scopes": SCOPES,
        "website": current_app.config["ROSTER_URL"],
    })
    answer = json_object(response)
    client_id, client_secret = answer.get("client_id"), answer.get("client_secret")
    if not response.ok or not isinstance(client_id, str) or not client_id or not isinstance(client_secret, str):
        said = " ".join(str(answer.get("error") or "").split())[:200]
        log.warning("Mastodon instance %s did not register Roster (%s)", host_of(server_url), response.status_code)
        raise InstanceProblem(
            f"{host_of(server_url)} did not let Roster register as an app"
            + (f" (it said: {said})" if said else "") + ". Check that it is a Mastodon server.")
    if app is None:
        try:
            with savepoint():
                app = NetworkApp(network=Network.MASTODON.value, server_url=server_url, client_id=client_id,
                                 client_secret=client_secret, redirect_uri=redirect_uri)
                db.session.add(app)
        except IntegrityError:  # someone registered Roster on this instance at the same moment
            app = _find_app(server_url)
            if app is None:
                raise
    app.client_id, app.client_secret, app.redirect_uri = client_id[:255], client_secret, redirect_uri
    return app


def read_limits(server_url: str, timeout: float = HTTP_TIMEOUT) -> dict | None:
    """The instance's limits as GET /api/v2/instance states them, or None when it did not say."""
    try:
        response = _ask("GET", server_url, "/api/v2/instance", timeout=timeout)
    except InstanceProblem:
        return None
    configuration = json_object(response).get("configuration") if response.ok else None
    if not isinstance(configuration, dict):
        log.info("Mastodon instance %s gave no limits (%s)", host_of(server_url), response.status_code)
        return None
    limits: dict[str, Any] = {}
    for name, place in _LIMIT_PLACES.items():
        value = (configuration.get(place) or {}).get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            limits[name] = int(value)
    types = (configuration.get("media_attachments") or {}).get("supported_mime_types")
    if isinstance(types, list):
        limits["supported_mime_types"] = [kind for kind in types if isinstance(kind, str)][:200]
    return limits


def connecting_client(server_url: str) -> NetworkClient:
    """The client that signs a profile in on the instance: the instance checked and its limits read,
    Roster's app there found or registered. The caller commits."""
    check_public(server_url)
    limits = read_limits(server_url)  # also tells early when the instance cannot be reached
    app = instance_app(server_url)
    if limits is not None:
        app.limits = limits
    app.limits_read_at = utcnow()
    return _client(app)


@profiles.server_client(Network.MASTODON)
def instance_client(server_url: str) -> NetworkClient | None:
    """The client of Roster's app on the instance, for finishing a connection started there."""
    app = _find_app(server_url)
    return _client(app) if app is not None else None


def _client(app: NetworkApp) -> NetworkClient:
    server_url = app.server_url
    return NetworkClient(
        network=Network.MASTODON, client_id=app.client_id, client_secret=app.client_secret or "",
        authorize_url=f"{server_url}/oauth/authorize", token_url=f"{server_url}/oauth/token",
        userinfo_url=f"{server_url}/api/v1/accounts/verify_credentials", scope=SCOPES, pkce=True,
        token_auth="client_secret_post", profile_fields=dict(PROFILE_FIELDS),
    )


# --- what the instance allows -----------------------------------------------------------------------


def instance_limits(profile: SocialProfile) -> dict[str, Any]:
    """What the profile's instance allows: max_characters, max_media_attachments,
    characters_reserved_per_url, image_size_limit and video_size_limit (bytes), description_limit
    (alt text characters), image_matrix_limit and video_matrix_limit (pixels), video_frame_rate_limit
    (None when unknown), supported_mime_types (empty when unknown), plus `known` (whether the instance
    said) and `server_url`. Mastodon's defaults stand in for what it has not said.

    Pages and scheduling only read what is stored, never the instance: the worker reads each
    instance's limits again once a day (`refresh_stale_limits`).
    """
    server_url = profile.service_url
    return _limits_of(server_url, _find_app(server_url) if server_url else None)


def limits_by_profile(profiles: Iterable[SocialProfile]) -> dict[int, dict[str, Any]]:
    """`instance_limits` of several profiles, by profile id, with one query for all their instances."""
    profiles = list(profiles)
    server_urls = {profile.service_url for profile in profiles if profile.service_url}
    apps = {app.server_url: app for app in db.session.scalars(select(NetworkApp).where(
        NetworkApp.network == Network.MASTODON.value, NetworkApp.server_url.in_(server_urls)))} if server_urls else {}
    return {profile.id: _limits_of(profile.service_url, apps.get(profile.service_url)) for profile in profiles}


def refresh_stale_limits(limit: int = 20, now: datetime | None = None) -> int:
    """Read again the limits of up to `limit` instances last read over a day ago (the worker runs
    this hourly, so no page waits on an instance); returns how many were asked."""
    now = now or utcnow()
    stale = db.session.scalars(
        select(NetworkApp)
        .where(NetworkApp.network == Network.MASTODON.value,
               or_(NetworkApp.limits_read_at.is_(None), NetworkApp.limits_read_at < now - LIMITS_LIFETIME))
        .order_by(NetworkApp.limits_read_at.is_not(None), NetworkApp.limits_read_at, NetworkApp.id)
        .limit(limit)
    ).all()
    for app in stale:
        fresh = read_limits(app.server_url, timeout=LIMITS_TIMEOUT)
        app.limits_read_at = utcnow()  # an instance that did not answer is asked again tomorrow
        if fresh is not None:
            app.limits = fresh
    db.session.commit()
    return len(stale)


def _limits_of(server_url: str | None, app: NetworkApp | None) -> dict[str, Any]:
    stored = dict(app.limits or {}) if app is not None else {}
    limits = {**DEFAULT_LIMITS, **stored}
    limits["supported_mime_types"] = list(limits["supported_mime_types"])
    limits["known"] = bool(stored)
    limits["server_url"] = server_url
    return limits

