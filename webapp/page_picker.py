"""Choosing the Facebook Page or Instagram account a slot connects to, after Facebook Login.

Facebook Login tells Roster who the person is, not where to publish: posts go to a Facebook Page,
with the Page's own access token, or to the Instagram professional account linked to a Page. Once
the person has signed in (`profiles.finish_connection` hands over to `after_sign_in`), Roster trades
their token for a long-lived one (GET /oauth/access_token, grant_type=fb_exchange_token) and then:

- signing a profile in again: finds that Page or account among the person's and stores its new token
  straight away;
- otherwise: keeps a pending choice in the person's session (used once, gone after ten minutes, as
  the sign-in flow itself) and sends them to the picker. The session holds the long-lived user token
  only as Fernet ciphertext (`crypto.encrypt`), never in clear, and never a Page token: the picker
  lists the person's Pages with their linked Instagram accounts (GET /me/accounts), and on their
  choice lists them again and takes the chosen Page's token from that answer, so a Page they lost
  in between cannot be connected.

A Page token got with a long-lived user token does not expire; it becomes the profile's access
token, encrypted at rest like every token. The profile's external id is the Page id, or the
Instagram user id. Pages already connected in the account are marked on the picker, and choosing one
offers the usual transfer.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from flask import url_for
from sqlalchemy import select

from . import crypto
from .extensions import db
from .models import AccessGroup, Network, SocialProfile, SocialSet, User
from .networks import network_client
from .profiles import (
    FLOW_LIFETIME,
    Connected,
    NextStep,
    PendingConnection,
    ProfileProblem,
    TransferOffer,
    connect_found,
    keep_entries,
    no_longer_valid,
    pending_entries,
    slot_holder,
)
from .publishers import NetworkError, ReconnectNeeded, call, graph

PICKER_KEY = "page_pickers"
PAGE_FIELDS = "id,name,access_token,picture,instagram_business_account{id,username,profile_picture_url}"
PAGES_PER_CALL = 100
MOST_CALLS = 5  # up to 500 Pages: more than any one person manages by hand
LABEL = "Facebook"


@dataclass(frozen=True)
class Choice:
    """A Page, or the Instagram account linked to one, that the person may connect."""

    external_id: str
    handle: str
    display_name: str
    avatar_url: str | None
    page_name: str
    page_token: str = field(repr=False)

    def found(self) -> dict[str, str | None]:
        """The profile as `profiles.connect_found` takes it."""
        return {"external_id": self.external_id, "handle": self.handle, "display_name": self.display_name,
                "avatar_url": self.avatar_url}


@dataclass(frozen=True)
class Listing:
    """What the person may connect into the slot, and (for Instagram) their Pages with no account linked."""

    choices: list[Choice]
    unlinked_pages: list[str]


@dataclass(frozen=True)
class Picker:
    """A choice the person has yet to make: kept in their session under `picker_id`."""

    picker_id: str
    user_id: int
    access_group_id: int
    social_set_id: int
    network: str
    expires_at: float
    origin: str
    signed_in_as: str
    user_token: str = field(repr=False)  # Fernet ciphertext of the long-lived user token

    @property
    def network_label(self) -> str:
        return Network(self.network).label

    def pending(self) -> PendingConnection:
        """The connection this choice finishes, as `profiles.connect_found` takes it."""
        return PendingConnection(state=self.picker_id, verifier="", user_id=self.user_id,
                                 access_group_id=self.access_group_id, social_set_id=self.social_set_id,
                                 network=self.network, expires_at=self.expires_at, origin=self.origin)


# --- after Facebook Login ---------------------------------------------------------------------------


def after_sign_in(store: MutableMapping, pending: PendingConnection, social_set: SocialSet, token: dict,
                  found: dict, user: User) -> Connected | TransferOffer | NextStep:
    """Sign the profile being reconnected in again, or keep the person's choice to make and send
    them to the picker."""
    user_token = _long_lived(pending.network, token["access_token"])
    if pending.reconnect_profile_id is not None:
        return _reconnect(store, pending, social_set, user_token, found, user)
    picker_id = secrets.token_urlsafe(16)
    pickers = pending_entries(store, PICKER_KEY)
    pickers[picker_id] = {
        "user_id": user.id, "access_group_id": social_set.access_group_id, "social_set_id": social_set.id,
        "network": pending.network, "origin": pending.origin,
        "expires_at": time.time() + FLOW_LIFETIME.total_seconds(),
        "signed_in_as": (found.get("display_name") or found.get("handle") or "")[:120],
        "user_token": crypto.encrypt(user_token).decode(),
    }
    keep_entries(store, PICKER_KEY, pickers)
    return NextStep(url_for("page_picker.choose", set_id=social_set.id, network=pending.network, picker=picker_id))


def _long_lived(network: str, user_token: str) -> str:
    """The person's user token traded for a long-lived one, whose Page tokens do not expire."""
    client = network_client(network)
    try:
        # POSTed, so neither token nor secret rides in a URL that something might log.
        answer = call(LABEL, "POST", graph.api_url("oauth/access_token"), reason=graph.reason,
                      expired=graph.token_expired, data={
                          "grant_type": "fb_exchange_token", "client_id": client.client_id,
                          "client_secret": client.client_secret, "fb_exchange_token": user_token,
                      }).json()
    except (NetworkError, ValueError) as error:
        raise _not_listed(error) from None
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise _not_listed(None)
    return str(answer["access_token"])


def _reconnect(store: MutableMapping, pending: PendingConnection, social_set: SocialSet, user_token: str,
               found: dict, user: User) -> Connected | TransferOffer:
    """New Page token for the profile that needed reconnecting, if the person still manages it."""
    holder = slot_holder(social_set, pending.network)
    if holder is None or holder.id != pending.reconnect_profile_id:
        raise ProfileProblem("Profile not found", "The profile to reconnect was removed or moved. "
                             "Nothing was changed.", status=404)
    choice = next((each for each in listing(user_token, pending.network).choices
                   if each.external_id == holder.external_id), None)
    if choice is None:
        who = found.get("display_name") or found.get("handle") or "someone else"
        what = "the Page" if pending.network == Network.FACEBOOK.value else "the Page linked to"
        raise ProfileProblem(
            "A different profile signed in",
            f"You signed in to Facebook as {who}, who does not manage {what} @{holder.handle}. Sign in "
            f"as someone who does to reconnect it. Nothing was changed.", status=409)
    return connect_found(store, pending, social_set, {"access_token": choice.page_token}, choice.found(), user)


# --- the picker -------------------------------------------------------------------------------------


def peek(store: MutableMapping, picker_id: str | None, user: User, social_set: SocialSet, network: str) -> Picker:
    """The person's pending choice for this slot, left in the session; "no longer valid" otherwise."""
    entry = pending_entries(store, PICKER_KEY).get(picker_id) if picker_id else None
    if (entry is None or entry["user_id"] != user.id or entry["social_set_id"] != social_set.id
            or entry["network"] != network):
        raise no_longer_valid()
    return Picker(picker_id=picker_id, **entry)


def forget(store: MutableMapping, picker: Picker) -> None:
    """Drop the choice from the session: it has been made."""
    pickers = pending_entries(store, PICKER_KEY)
    pickers.pop(picker.picker_id, None)
    store[PICKER_KEY] = pickers


def user_token_of(picker: Picker) -> str:
    try:
        return crypto.decrypt(picker.user_token.encode())
    except InvalidToken:  # the encryption key changed since: the person signs in again
        raise no_longer_valid() from None


def listing(user_token: str, network: str) -> Listing:
    """The person's Pages (for Facebook) or the Instagram accounts linked to them (for Instagram)."""
    choices, unlinked = [], []
    for page in _pages(user_token):
        page_id, name, page_token = str(page.get("id") or ""), str(page.get("name") or ""), page.get("access_token")
        if not page_id or not page_token:
            continue  # a Page the person may see but not act for
        if network == Network.FACEBOOK.value:
            picture = ((page.get("picture") or {}).get("data") or {}).get("url")
            choices.append(Choice(page_id, name[:120], name[:120], _avatar(picture), name, str(page_token)))
            continue
        account = page.get("instagram_business_account") or {}
        if not account.get("id") or not account.get("username"):
            unlinked.append(name)
            continue
        choices.append(Choice(str(account["id"]), str(account["username"])[:120], name[:120],
                              _avatar(account.get("profile_picture_url")), name, str(page_token)))
    return Listing(choices, unlinked)


def _pages(user_token: str) -> list[dict]:
    """GET /me/accounts, page after page (a bounded number)."""
    pages: list[dict] = []
    after = None
    try:
        for _ in range(MOST_CALLS):
            params = {"fields": PAGE_FIELDS, "limit": str(PAGES_PER_CALL), **({"after": after} if after else {})}
            answer = graph.request(LABEL, "GET", "me/accounts", user_token, params=params)
            pages.extend(page for page in answer.get("data") or [] if isinstance(page, dict))
            paging = answer.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
    except NetworkError as error:
        raise _not_listed(error) from None
    return pages


def _avatar(url: object) -> str | None:
    return url if isinstance(url, str) and url.startswith("https://") and len(url) <= 500 else None


def _not_listed(error: NetworkError | Exception | None) -> ProfileProblem:
    if isinstance(error, ReconnectNeeded):
        return ProfileProblem("Facebook sign-in ended", "Facebook no longer accepts this sign-in. "
                              "Start again from the slot.", status=409)
    return ProfileProblem("Facebook did not list your Pages",
                          "Facebook did not tell Roster which Pages you manage, or could not be reached. "
                          "Start again from the slot.", status=502)


def already_connected(choices: list[Choice], social_set: SocialSet, network: str) -> dict[str, SocialProfile]:
    """Which of the choices this account has connected already, by external id (one query)."""
    ids = [choice.external_id for choice in choices]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(SocialProfile).join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(AccessGroup.account_id == social_set.access_group.account_id, SocialProfile.network == network,
               SocialProfile.external_id.in_(ids))
    )
    return {profile.external_id: profile for profile in rows}


def choose(store: MutableMapping, picker: Picker, external_id: str, social_set: SocialSet,
           user: User) -> Connected | TransferOffer:
    """Connect the Page or account the person chose (or offer to move it here when the account has
    it elsewhere); the choice is used up. The caller has checked `profiles.connect` and commits."""
    choices = listing(user_token_of(picker), picker.network).choices
    choice = next((each for each in choices if each.external_id == external_id), None)
    if choice is None:
        noun = "Page" if picker.network == Network.FACEBOOK.value else "Instagram account"
        raise ProfileProblem(f"Choose a {noun}", f"That {noun} is not among the ones you manage now. "
                             "Choose one from the list.", status=422)
    forget(store, picker)
    return connect_found(store, picker.pending(), social_set, {"access_token": choice.page_token},
                         choice.found(), user)
