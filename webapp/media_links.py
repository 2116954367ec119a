"""Short-lived signed addresses of single media items, for networks that fetch a post's media by URL.

Instagram and Facebook take an image or video by its address rather than its bytes. Such an address
names one item and an expiry an hour ahead, signed with an HMAC of a key derived from SECRET_KEY; it
is served without sign-in until it expires, and a changed id, expiry or signature opens nothing. No
other part of the library becomes public, and the addresses are at ROSTER_URL, never at the address
a request happened to come in on.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app

from .models import MediaItem, utcnow
from .urls import external_url

LIFETIME = timedelta(hours=1)


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"roster signed media links", hashlib.sha256).digest()


def _signature(item_id: int, expires: int) -> str:
    digest = hmac.new(_key(), f"{item_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_media_url(item: MediaItem, now: datetime | None = None) -> str:
    """An address of `item`'s file at ROSTER_URL that works for an hour from `now`, for anyone."""
    expires = int(((now or utcnow()) + LIFETIME).timestamp())
    return external_url("media.signed_file", item_id=item.id, expires=expires,
                        signature=_signature(item.id, expires))


def link_state(item_id: int, expires: int, signature: str, now: datetime | None = None) -> str:
    """"valid", "expired" (signed by us, but its hour is over) or "invalid" (not signed for this item)."""
    if not hmac.compare_digest(_signature(item_id, expires), signature):
        return "invalid"
    if expires <= (now or utcnow()).timestamp():
        return "expired"
    return "valid"
