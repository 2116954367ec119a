"""Meta's Graph API: what Facebook Page and Instagram publishing, and the Page picker, share.

Every call names the version in GRAPH_API_VERSION (one setting for the whole app) at GRAPH_API_URL,
and sends the access token as Graph's `access_token` parameter. Graph answers a failure with
{"error": {"message", "type", "code", "error_subcode"}} and, for many failures, status 400 whatever
the cause, so the code decides: 190 (an access token that expired or was withdrawn) needs a
reconnect, 4, 17, 32, 613 and the Pages and Instagram business-use-case limits are rate limits to
wait out, whatever status they come with.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import requests
from flask import current_app

from ..media_links import signed_media_url
from ..models import MediaItem, SocialProfile
from . import ReconnectNeeded, Refused, RetryLater, call

EXPIRED_TOKEN = 190
# App, user, Page and custom rate limits, and the business-use-case limits of Pages and Instagram.
RATE_LIMITS = frozenset({4, 17, 32, 613, 80001, 80002})
LONGEST_RATE_WAIT = timedelta(hours=1)
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def api_url(path: str) -> str:
    """`path` (e.g. "me/accounts") on the Graph API, at the configured version."""
    base = current_app.config["GRAPH_API_URL"].rstrip("/")
    return f"{base}/{current_app.config['GRAPH_API_VERSION']}/{path.lstrip('/')}"


def error_of(response: requests.Response) -> dict:
    """Graph's error object in a failed answer ({} when the answer has none)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def reason(response: requests.Response) -> str | None:
    """Graph's own words for a failure: the message meant for people when it sends one."""
    error = error_of(response)
    said = error.get("error_user_msg") or error.get("message")
    return str(said) if said else None


def token_expired(response: requests.Response) -> bool:
    """The access token no longer works: Graph's code 190, with any status, or a plain 401."""
    return response.status_code == 401 or error_of(response).get("code") == EXPIRED_TOKEN


def rate_limited(response: requests.Response) -> bool:
    return error_of(response).get("code") in RATE_LIMITS


def rate_limit_wait(response: requests.Response) -> timedelta | None:
    """How long Graph says access is held back: the longest `estimated_time_to_regain_access`
    (minutes) in its X-Business-Use-Case-Usage header, at most an hour."""
    try:
        usage = json.loads(response.headers.get("X-Business-Use-Case-Usage") or "{}")
        minutes = max((int(entry.get("estimated_time_to_regain_access") or 0)
                       for entries in usage.values() for entry in entries), default=0)
    except (ValueError, TypeError, AttributeError):
        return None
    return min(timedelta(minutes=minutes), LONGEST_RATE_WAIT) if minutes > 0 else None


def request(label: str, method: str, path: str, access_token: str, *,
            params: dict | None = None, data: dict | None = None) -> dict:
    """One Graph call with `access_token`; its JSON answer, or a failure classed as `publishers.call`
    does, with Graph's rate limits (which come as 400 or 403) waited out rather than refused."""
    answers: list[requests.Response] = []

    def words(response: requests.Response) -> str | None:
        answers.append(response)
        return reason(response)

    if method == "GET":
        params = {**(params or {}), "access_token": access_token}
    else:
        data = {**(data or {}), "access_token": access_token}
    try:
        response = call(label, method, api_url(path), reason=words, expired=token_expired,
                        params=params, data=data)
    except Refused:
        if answers and rate_limited(answers[-1]):
            said = " ".join((reason(answers[-1]) or "").split())[:300]
            raise RetryLater(f"{label} asked Roster to slow down" + (f": {said}" if said else "") + ".",
                             rate_limit_wait(answers[-1])) from None
        raise
    try:
        answer = response.json()
    except ValueError:
        raise RetryLater(f"{label} answered in a way Roster did not understand; Roster will try again.") from None
    return answer if isinstance(answer, dict) else {}


# --- what publishing needs of a post and a profile --------------------------------------------------


def access_token(profile: SocialProfile) -> str:
    """The profile's Page access token, or ReconnectNeeded when it has none that works."""
    from ..profiles import access_token_for

    token = access_token_for(profile)
    if not token:
        raise ReconnectNeeded(f"{profile.network_label} no longer accepts @{profile.handle}'s sign-in: "
                              "reconnect it.")
    return token


def media_url(item: MediaItem) -> str:
    """A signed public address of the item's file, valid for the hour Meta has to fetch it."""
    return signed_media_url(item)


def first_link(text: str) -> str | None:
    """The first web address in `text`, without the punctuation that ends a sentence around it."""
    found = URL_IN_TEXT.search(text or "")
    return found.group().rstrip(".,;:!?)]}'\"") if found else None
