"""Facebook Pages: posts go to the Page the profile was connected to, with its Page access token.

Following the Pages API of Graph API v23.0 (GRAPH_API_VERSION):

- words only: POST /{page-id}/feed with `message`, and the caption's first web address as `link`
  (Facebook shows it as a link preview);
- one photo: POST /{page-id}/photos with the photo's signed `url` and the caption;
- several photos: each goes up unpublished (POST /{page-id}/photos, published=false), then one
  POST /{page-id}/feed carries them all as `attached_media[n]` = {"media_fbid": ...};
- one video: POST /{page-id}/videos with the video's signed `file_url` and the caption.

Facebook fetches each file from Roster by its signed address (`media_links`) while the call runs.
The public address is read back (`permalink_url`); if that read fails the post is published all the
same, and its address is made from its id.
"""
from __future__ import annotations

import json
import logging

from ..models import MediaItem, Network, Post, SocialProfile
from . import NetworkError, Published, Refused, attachments, graph, register

log = logging.getLogger(__name__)

LABEL = "Facebook"
SITE = "https://www.facebook.com"


class FacebookPages:
    """Publishes to one Facebook Page per profile (its external id is the Page id)."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        token = graph.access_token(profile)
        page_id = profile.external_id
        media = attachments(post)
        videos = [item for item in media if item.kind == "video"]
        if videos and len(media) > 1:
            raise Refused("A Facebook post takes several photos or one video, not a video with other media.")
        if videos:
            answer = graph.request(LABEL, "POST", f"{page_id}/videos", token, data={
                "file_url": graph.media_url(videos[0]), **_words("description", post),
            })
        elif len(media) == 1:
            answer = graph.request(LABEL, "POST", f"{page_id}/photos", token, data={
                "url": graph.media_url(media[0]), **_words("caption", post), **_alt_text(media[0]),
            })
        elif media:
            answer = graph.request(LABEL, "POST", f"{page_id}/feed", token, data={
                **_words("message", post), **_attached(page_id, media, token),
            })
        else:
            link = graph.first_link(post.caption)
            answer = graph.request(LABEL, "POST", f"{page_id}/feed", token, data={
                **_words("message", post), **({"link": link} if link else {}),
            })
        # A photo answers with the photo's id and the id of the post that shows it.
        post_id = str(answer.get("post_id") or answer.get("id") or "")
        if not post_id:
            raise Refused("Facebook did not say which post it made; look at the Page before trying again.")
        return Published(post_id, _address(post_id, token))


def _words(field: str, post: Post) -> dict[str, str]:
    """The caption under the name this call gives it, when the post has one."""
    return {field: post.caption} if post.caption else {}


def _alt_text(item: MediaItem) -> dict[str, str]:
    return {"alt_text_custom": item.alt_text} if item.alt_text else {}


def _attached(page_id: str, photos: list[MediaItem], token: str) -> dict[str, str]:
    """Upload each photo unpublished; the feed post's `attached_media[n]` fields that show them."""
    fields = {}
    for number, photo in enumerate(photos):
        uploaded = graph.request(LABEL, "POST", f"{page_id}/photos", token, data={
            "url": graph.media_url(photo), "published": "false", **_alt_text(photo),
        })
        if not uploaded.get("id"):
            raise Refused(f"Facebook did not take photo {number + 1} of the post.")
        fields[f"attached_media[{number}]"] = json.dumps({"media_fbid": str(uploaded["id"])})
    return fields


def _address(post_id: str, token: str) -> str:
    """Where the public sees the post: its permalink as Facebook gives it, else made from its id."""
    try:
        answer = graph.request(LABEL, "GET", post_id, token, params={"fields": "permalink_url"})
    except NetworkError as error:
        log.warning("Facebook post %s went out, but its address could not be read: %s", post_id, error.message)
        answer = {}
    permalink = str(answer.get("permalink_url") or "")
    if permalink.startswith("/"):  # videos answer with a path on facebook.com
        permalink = SITE + permalink
    return permalink if permalink.startswith("https://") else f"{SITE}/{post_id}"


@register(Network.FACEBOOK)
def facebook_pages() -> FacebookPages:
    return FacebookPages()
