"""Instagram professional accounts, reached through the Facebook Page they are linked to.

Following the Instagram Graph API content publishing of Graph API v23.0 (GRAPH_API_VERSION), with
the linked Page's access token:

1. GET /{ig-user-id}/content_publishing_limit: an account that has used its quota of API posts for
   the rolling day waits (an hour, then it is asked again) rather than being refused;
2. POST /{ig-user-id}/media makes a container: one photo (`image_url`, `caption`, `alt_text`), one
   video as a Reel (`media_type=REELS`, `video_url`), or a carousel of 2 to 10 items (a container
   per item with `is_carousel_item`, then one with `media_type=CAROUSEL` and their ids as `children`);
3. GET /{container-id}?fields=status_code until Instagram has fetched and processed the media:
   FINISHED goes on, ERROR or EXPIRED is refused with Instagram's status, and a container still
   IN_PROGRESS after about a minute is left (it expires unused) and the post tried again later;
4. POST /{ig-user-id}/media_publish with the container as `creation_id`;
5. GET /{media-id}?fields=permalink for the public address (the post is published even if this fails).

Instagram has no posts without media: such a post is refused (the composer says so first).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from time import sleep

from ..models import MediaItem, Network, Post, SocialProfile
from . import NetworkError, Published, Refused, RetryLater, attachments, graph, register

log = logging.getLogger(__name__)

LABEL = "Instagram"
CAROUSEL_MOST = 10
# Seconds between looks at a container being processed: about a minute in all before trying later.
POLL_PAUSES = (1, 2, 3, 5, 5, 8, 8, 10, 10, 10)
QUOTA_WAIT = timedelta(hours=1)
PROCESSING_WAIT = timedelta(minutes=2)


class InstagramAccounts:
    """Publishes to one Instagram professional account per profile (its external id is the IG user id)."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        media = attachments(post)
        if not media:
            raise Refused("Instagram posts need a photo or a video. Attach one and schedule the post again.")
        if len(media) > CAROUSEL_MOST:
            raise Refused(f"An Instagram carousel holds at most {CAROUSEL_MOST} photos and videos.")
        token = graph.access_token(profile)
        account = profile.external_id
        _check_quota(account, token, profile)
        caption = {"caption": post.caption} if post.caption else {}
        if len(media) > 1:
            children = [_container(account, token, _item_fields(item, in_carousel=True), wait=item.kind == "video")
                        for item in media]
            fields = {"media_type": "CAROUSEL", "children": ",".join(children), **caption}
        else:
            fields = {**_item_fields(media[0], in_carousel=False), **caption}
        container = _container(account, token, fields, wait=True)
        answer = graph.request(LABEL, "POST", f"{account}/media_publish", token, data={"creation_id": container})
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise Refused("Instagram did not say which post it made; look at the account before trying again.")
        return Published(media_id, _permalink(media_id, token))


def _check_quota(account: str, token: str, profile: SocialProfile) -> None:
    """Wait, rather than fail, when the account has published as many posts through apps as
    Instagram allows in its rolling window."""
    answer = graph.request(LABEL, "GET", f"{account}/content_publishing_limit", token,
                           params={"fields": "quota_usage,config"})
    data = answer.get("data")
    usage = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    used, config = usage.get("quota_usage"), usage.get("config") or {}
    total = config.get("quota_total")
    if isinstance(used, int) and isinstance(total, int) and used >= total:
        hours = max(1, int(config.get("quota_duration") or 86400) // 3600)
        raise RetryLater(f"@{profile.handle} has published {used} posts through apps in the last {hours} hours, "
                         f"Instagram's limit; Roster will try again when the window frees up.", QUOTA_WAIT)


def _item_fields(item: MediaItem, in_carousel: bool) -> dict[str, str]:
    """A container's fields for one photo or video: a Reel on its own, a VIDEO item in a carousel."""
    fields = {"is_carousel_item": "true"} if in_carousel else {}
    if item.kind == "video":
        return {**fields, "media_type": "VIDEO" if in_carousel else "REELS", "video_url": graph.media_url(item)}
    return {**fields, "image_url": graph.media_url(item), **({"alt_text": item.alt_text} if item.alt_text else {})}


def _container(account: str, token: str, fields: dict[str, str], wait: bool) -> str:
    """Make a media container; with `wait`, return only once Instagram has it ready."""
    answer = graph.request(LABEL, "POST", f"{account}/media", token, data=fields)
    container = str(answer.get("id") or "")
    if not container:
        raise RetryLater("Instagram did not say which container it made; Roster will try again.")
    if wait:
        _wait_until_ready(container, token)
    return container


def _wait_until_ready(container: str, token: str) -> None:
    """Look at the container's status until it is FINISHED, a bounded number of times."""
    for pause in (0, *POLL_PAUSES):
        if pause:
            sleep(pause)
        answer = graph.request(LABEL, "GET", container, token, params={"fields": "status_code,status"})
        status_code = answer.get("status_code")
        if status_code in ("FINISHED", "PUBLISHED"):
            return
        if status_code in ("ERROR", "EXPIRED"):
            status = " ".join(str(answer.get("status") or "").split())[:300]
            raise Refused(f"Instagram could not prepare the post's media ({status_code})"
                          + (f": {status}" if status else "") + ".")
    raise RetryLater("Instagram is still processing the post's media; Roster will try again.", PROCESSING_WAIT)


def _permalink(media_id: str, token: str) -> str | None:
    try:
        answer = graph.request(LABEL, "GET", media_id, token, params={"fields": "permalink"})
    except NetworkError as error:
        log.warning("Instagram post %s went out, but its address could not be read: %s", media_id, error.message)
        return None
    permalink = str(answer.get("permalink") or "")
    return permalink if permalink.startswith("https://") else None


@register(Network.INSTAGRAM)
def instagram_accounts() -> InstagramAccounts:
    return InstagramAccounts()
