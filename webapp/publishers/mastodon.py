"""Mastodon: a post goes to the profile's own instance, its media first.

Each media item is uploaded with its alt text as the description; an instance still processing one
answers 202 and is asked again, with growing pauses, for about a minute before the post is tried
later. The status then carries the caption, the media, the content warning, the visibility and the
language chosen for it, and an Idempotency-Key made from the post: sent again after an answer that
never arrived, it gives back the status already made instead of a second one.

Follows the Mastodon 4.x API documentation (docs.joinmastodon.org): methods/media (POST /api/v2/media,
GET /api/v1/media/:id), methods/statuses (POST /api/v1/statuses, Idempotency-Key), and the API's
rate limits (X-RateLimit-Reset) and error answers ({"error": ...}).
"""
from __future__ import annotations

import time

import requests

from ..mastodon import host_of
from ..models import MediaItem, Network, Post, SocialProfile
from . import (
    Published,
    attachments,
    ReconnectNeeded,
    RetryLater,
    call,
    http_session,
    json_object,
    media_bytes,
    register,
)

VISIBILITIES = ("public", "unlisted", "private", "direct")
# Pauses before each look at media the instance is still processing: about a minute in all.
MEDIA_WAITS = (1, 2, 3, 5, 8, 13, 13, 15)
UPLOAD_TIMEOUT = (10, 120)  # seconds to connect, and to wait for the answer to a large upload


def sleep(seconds: float) -> None:
    """Wait between looks at media being processed (tests wait on a clock of their own)."""
    time.sleep(seconds)


def idempotency_key(post: Post) -> str:
    """The same for every try of one post, so the instance makes its status once."""
    return f"roster-post-{post.id}"


def _error(response: requests.Response) -> str | None:
    """The instance's own words: Mastodon answers errors as {"error": "..."}."""
    answer = response.json()
    if not isinstance(answer, dict) or not answer.get("error"):
        return None
    return str(answer["error"])


class MastodonAdapter:
    """Publishes to the instance the profile was connected from."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        server_url = profile.service_url
        if profile.needs_reconnect or not server_url or not profile.access_token:
            raise ReconnectNeeded(f"Reconnect @{profile.handle} on Mastodon: its access stopped working.")
        label = host_of(server_url)
        session = http_session()
        headers = {"Authorization": f"Bearer {profile.access_token}"}
        media_ids = [self._upload(session, server_url, label, headers, item) for item in attachments(post)]
        options = post.options or {}
        visibility = options.get("visibility")
        fields: list[tuple[str, str]] = [("status", post.caption or ""),
                                         ("visibility", visibility if visibility in VISIBILITIES else "public")]
        fields += [("media_ids[]", media_id) for media_id in media_ids]
        if str(options.get("content_warning") or "").strip():
            fields.append(("spoiler_text", str(options["content_warning"]).strip()))
        if str(options.get("language") or "").strip():
            fields.append(("language", str(options["language"]).strip()))
        response = call(label, "POST", f"{server_url}/api/v1/statuses", session=session, reason=_error,
                        headers={**headers, "Idempotency-Key": idempotency_key(post)}, data=fields)
        status = json_object(response)
        if not status.get("id"):
            raise RetryLater(f"{label} did not say which post it made; Roster will try again.")
        return Published(str(status["id"]), status.get("url") or status.get("uri"))

    def _upload(self, session: requests.Session, server_url: str, label: str, headers: dict,
                item: MediaItem) -> str:
        """Upload one media item with its alt text; returns its id once the instance has processed it."""
        description = {"description": item.alt_text} if (item.alt_text or "").strip() else {}
        response = call(label, "POST", f"{server_url}/api/v2/media", session=session, reason=_error,
                        headers=headers, data=description, timeout=UPLOAD_TIMEOUT,
                        files={"file": (item.name, media_bytes(item), item.content_type)})
        media = json_object(response)
        media_id = str(media.get("id") or "")
        if not media_id:
            raise RetryLater(f"{label} did not say which upload was {item.name}; Roster will try again.")
        if response.status_code == 202 or not media.get("url"):
            self._wait_until_processed(session, server_url, label, headers, media_id, item.name)
        return media_id

    def _wait_until_processed(self, session: requests.Session, server_url: str, label: str, headers: dict,
                              media_id: str, name: str) -> None:
        """Ask again (206 while processing) until the media has its address, for about a minute."""
        for pause in MEDIA_WAITS:
            sleep(pause)
            response = call(label, "GET", f"{server_url}/api/v1/media/{media_id}", session=session,
                            reason=_error, headers=headers)
            if response.status_code == 200 and json_object(response).get("url"):
                return
        raise RetryLater(f"{label} is still processing {name}; Roster will try the post again.")


@register(Network.MASTODON)
def mastodon_adapter() -> MastodonAdapter:
    return MastodonAdapter()
