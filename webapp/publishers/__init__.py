"""One adapter per network: what publishing needs of a network, in one shape for all of them.

An adapter refreshes a profile's access, uploads a post's media, publishes the post and reads back
the network's id and public address for it (`Published`). What goes wrong is said in one of three
ways, which `webapp/publishing.py` turns into what the post page shows and what the worker does next:

- `ReconnectNeeded`: the profile's access was withdrawn or ran out for good; the profile shows
  "Reconnect needed" and its posts wait for someone to sign it in again.
- `RetryLater`: a rate limit, an overloaded or unreachable network; tried again after the wait the
  network asked for (Retry-After or its rate-limit headers), or the worker's own back-off.
- `Refused`: the network will not take the post as it is; its own message is shown, no retry.

Connecting differs by network (credentials for Bluesky, an instance's OAuth for Mastodon, a Page
picker for Facebook) and lives beside each adapter; the composer's rules live in `network_rules`.
"""
from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

import requests
from flask import current_app

from ..models import MediaItem, Network, Post, SocialProfile

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 20  # seconds for one call to a network
LONGEST_WAIT = timedelta(hours=24)  # a Retry-After beyond this is taken as this


@dataclass(frozen=True)
class Published:
    """The network's id for the published post, and where the public can see it."""

    remote_id: str
    url: str | None = None


class NetworkError(Exception):
    """A network did not take the post; `message` is in words for the post page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReconnectNeeded(NetworkError):
    """The profile's access stopped working: someone must sign it in again."""


class Refused(NetworkError):
    """The network refused the post as it is: trying again would not help."""


class RetryLater(NetworkError):
    """Not now: the network is busy, limiting, or unreachable. `wait` is how long it asked for."""

    def __init__(self, message: str, wait: timedelta | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class Adapter(Protocol):
    """Sends posts to one network."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        """Publish `post` on `profile` (uploading its media first), or raise a NetworkError."""
        ...


# --- the calls every adapter makes ------------------------------------------------------------------


def http_session() -> requests.Session:
    """A session for calling networks; tests mount their local servers' adapters through
    OUTBOUND_HTTP_ADAPTERS, as for the OAuth calls."""
    session = requests.Session()
    for prefix, adapter in (current_app.config.get("OUTBOUND_HTTP_ADAPTERS") or {}).items():
        session.mount(prefix, adapter)
    return session


def wait_asked_for(response: requests.Response, now: datetime | None = None) -> timedelta | None:
    """How long the network asked us to wait: Retry-After (seconds or a date), else the reset time of
    its rate-limit headers (epoch seconds, or an ISO time as Mastodon sends)."""
    now = now or datetime.now(timezone.utc)
    wait = None
    retry_after = response.headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        wait = timedelta(seconds=int(retry_after))
    elif retry_after:
        try:
            wait = email.utils.parsedate_to_datetime(retry_after) - now
        except (TypeError, ValueError):
            wait = None
    if wait is None:
        for header in ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset"):
            reset = response.headers.get(header, "").strip()
            if not reset:
                continue
            if reset.isdigit():
                value = int(reset)
                # Epoch seconds, or (IETF draft) seconds from now.
                wait = (datetime.fromtimestamp(value, timezone.utc) - now) if value > 1_000_000_000 \
                    else timedelta(seconds=value)
            else:
                try:
                    wait = datetime.fromisoformat(reset.replace("Z", "+00:00")) - now
                except ValueError:
                    continue
            break
    if wait is None:
        return None
    return min(max(wait, timedelta(0)), LONGEST_WAIT)


def call(
    label: str,
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    reason: Callable[[requests.Response], str | None] = lambda response: None,
    expired: Callable[[requests.Response], bool] = lambda response: response.status_code == 401,
    **options: Any,
) -> requests.Response:
    """One call to a network, its failures classed: 401 (or what `expired` says) needs a reconnect,
    429 and 5xx and an unreachable network are retried later, any other 4xx is refused with the
    network's own words (`reason` finds them in its answer)."""
    session = session or http_session()
    options.setdefault("timeout", HTTP_TIMEOUT)
    try:
        response = session.request(method, url, **options)
    except requests.RequestException as error:
        log.warning("%s could not be reached: %s", label, type(error).__name__)
        raise RetryLater(f"{label} could not be reached; Roster will try again.") from None
    if response.ok:
        return response
    said = _words(reason, response)
    if expired(response):
        raise ReconnectNeeded(f"{label} no longer accepts this profile's sign-in: reconnect it."
                              + (f" ({said})" if said else ""))
    if response.status_code == 429:
        raise RetryLater(f"{label} asked Roster to slow down" + (f": {said}" if said else "") + ".",
                         wait_asked_for(response))
    if response.status_code >= 500 or response.status_code == 408:
        raise RetryLater(f"{label} had a problem on its side ({response.status_code}); Roster will try again.",
                         wait_asked_for(response))
    raise Refused(f"{label} refused the post: {said}" if said else
                  f"{label} refused the post ({response.status_code}).")


def _words(reason: Callable[[requests.Response], str | None], response: requests.Response) -> str:
    try:
        said = reason(response)
    except ValueError:
        said = None
    return " ".join((said or "").split())[:500]


def json_object(response: requests.Response) -> dict:
    """A network's answer as a JSON object, or {} when it is anything else."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def attachments(post: Post) -> list[MediaItem]:
    """The post's media in the order the composer gave them."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import PostMedia

    return list(db.session.scalars(
        select(MediaItem).join(PostMedia, PostMedia.media_item_id == MediaItem.id)
        .where(PostMedia.post_id == post.id).order_by(PostMedia.position, PostMedia.media_item_id)
    ))


def media_bytes(item: MediaItem) -> bytes:
    """The media item's file."""
    from ..storage import media_storage

    return media_storage().read(item.storage_key)


# --- which adapter ----------------------------------------------------------------------------------

_ADAPTERS: dict[str, Callable[[], Adapter]] = {}


def register(network: Network) -> Callable[[Callable[[], Adapter]], Callable[[], Adapter]]:
    """Make the decorated factory the adapter of `network`."""
    def decorate(factory: Callable[[], Adapter]) -> Callable[[], Adapter]:
        _ADAPTERS[network.value] = factory
        return factory
    return decorate


def real_adapter(network: str) -> Adapter | None:
    """The adapter that publishes to the real `network`, if Roster has one."""
    from . import bluesky, facebook, instagram, linkedin, mastodon  # noqa: F401  (they register)

    factory = _ADAPTERS.get(network)
    return factory() if factory else None
