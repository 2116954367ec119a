"""Rules about social profiles: connect one over OAuth, transfer one into another slot, remove one.

Connecting runs the authorization-code flow: `start_connection` keeps a pending flow (state, PKCE
verifier, who, which slot, until when) in the signed-in user's session and returns the network's
authorization URL; `take_connection` gives that flow back exactly once; `finish_connection`
exchanges the code for tokens, looks the profile up and stores it, or offers to transfer the
profile when this account already has it. A network of many servers (Mastodon) first asks on its
own page which server, then starts the same flow there with `begin_authorization`. Tokens go to the
database encrypted and nowhere else: not into pages, the session, the audit log or the logs.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from sqlalchemy import delete, func, select

from . import approvals, audit, policy
from .extensions import db
from .models import (
    SERVER_NETWORKS,
    AccessGroup,
    Campaign,
    CampaignProfile,
    Network,
    Post,
    ProfileAccessRemoval,
    Role,
    SocialProfile,
    SocialSet,
    User,
)
from .networks import (
    NetworkClient,
    callback_url,
    network_client,
    network_setup,
    profile_from_userinfo,
)

log = logging.getLogger(__name__)

FLOW_LIFETIME = timedelta(minutes=10)
PENDING_KEY = "profile_connections"
TRANSFER_KEY = "profile_transfers"
MAX_PENDING = 5  # flows one session may have open at once (several tabs); the oldest give way
HTTP_TIMEOUT = 10  # seconds for each call to a network's token and userinfo endpoints
ORIGINS = ("settings", "group")  # where the person started: the settings tab or the group's page

NO_LONGER_VALID = "This connection link is no longer valid. Start again from the slot."


class ProfileProblem(ValueError):
    """A connection, transfer or removal that cannot go ahead, with the page's title and reason."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


def no_longer_valid() -> ProfileProblem:
    return ProfileProblem("Connection link expired", NO_LONGER_VALID)


@dataclass(frozen=True)
class PendingConnection:
    """A connection someone started and has not finished: kept in their session, used once."""

    state: str
    verifier: str
    user_id: int
    access_group_id: int
    social_set_id: int
    network: str
    expires_at: float
    origin: str = "settings"
    reconnect_profile_id: int | None = None  # a profile whose tokens stopped working, signed in again
    server_url: str | None = None  # the server the person named, for a network of many (a Mastodon instance)

    @property
    def network_label(self) -> str:
        return Network(self.network).label


@dataclass(frozen=True)
class Connected:
    """A profile stored in the slot."""

    profile: SocialProfile


@dataclass(frozen=True)
class NextStep:
    """The network needs one more answer from the person (e.g. which LinkedIn Page posts): go to `url`."""

    url: str


@dataclass(frozen=True)
class TransferOffer:
    """The account already has this profile elsewhere: offer to move it into the slot instead."""

    offer_id: str | None  # None when the person may not move it
    profile: SocialProfile | None  # None when it is in a group the person may not see
    social_set: SocialSet
    network: str
    handle: str
    posts: int
    campaigns: list[str]
    origin: str

    @property
    def network_label(self) -> str:
        return Network(self.network).label


# --- slots ----------------------------------------------------------------------------------------


def slot_holder(social_set: SocialSet, network: Network | str) -> SocialProfile | None:
    """The profile in the set's slot for `network`, if any."""
    return db.session.scalar(select(SocialProfile).where(
        SocialProfile.social_set_id == social_set.id, SocialProfile.network == Network(network).value
    ))


def slot_taken(network: Network | str, holder: SocialProfile | None) -> ProfileProblem:
    """Why a filled slot takes no second profile; the handle only when the person may see it."""
    label = Network(network).label
    shown = holder is not None and policy.can(_current_user(), policy.ENTER, holder)
    which = f" (@{holder.handle})" if shown else ""
    return ProfileProblem(
        "Slot already taken",
        f"This set already has {_article(label)} {label} profile{which}. A set holds one profile per network.",
        status=422,
    )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _current_user() -> Any:
    from flask_login import current_user

    return current_user


# --- connecting -----------------------------------------------------------------------------------


def _oauth_session(client: NetworkClient, **options: Any) -> OAuth2Session:
    session = OAuth2Session(
        client.client_id, client.client_secret, scope=client.scope or None,
        redirect_uri=callback_url(client.network), token_endpoint_auth_method=client.token_auth,
        code_challenge_method="S256" if client.pkce else None, default_timeout=HTTP_TIMEOUT, **options,
    )
    # Tests carry calls to the app's own sandbox through its test client instead of a socket.
    for prefix, adapter in (current_app.config.get("OUTBOUND_HTTP_ADAPTERS") or {}).items():
        session.mount(prefix, adapter)
    return session


def pending_entries(store: MutableMapping, key: str) -> dict[str, dict]:
    """The live entries under `key`: the expired ones are dropped."""
    now = time.time()
    return {k: v for k, v in (store.get(key) or {}).items() if v.get("expires_at", 0) > now}


def keep_entries(store: MutableMapping, key: str, entries: dict[str, dict]) -> None:
    newest = sorted(entries.items(), key=lambda item: item[1]["expires_at"])[-MAX_PENDING:]
    store[key] = dict(newest)


def start_connection(
    store: MutableMapping, social_set: SocialSet, network: Network | str, user: User,
    origin: str = "settings", reconnect: bool = False,
) -> str:
    """Begin connecting a profile into an empty slot, or signing a profile that needs it in again
    (`reconnect`); returns the network's authorization URL.

    The caller has checked `profiles.connect` on the set's group, and commits (a sandbox client
    may have been registered).
    """
    network = Network(network)
    reconnecting = slot_to_connect(social_set, network, user, reconnect)
    if network in SERVER_NETWORKS:
        # No sign-in page to go to yet: the person first names their server (and, for Bluesky, signs in
        # with an app password) on the network's own connect page.
        from flask import url_for

        return url_for(f"{network.value}.connect", set_id=social_set.id, origin=origin if origin in ORIGINS
                       else "settings", reconnect="y" if reconnecting else None)
    return begin_authorization(store, network_client(network), social_set, user, origin, reconnecting)


def slot_to_connect(social_set: SocialSet, network: Network | str, user: User,
                    reconnect: bool = False) -> SocialProfile | None:
    """The profile a connection signs in again (`reconnect`, for a profile that needs it), or None
    for an empty slot; a ProfileProblem when the network is not set up or the slot is taken."""
    network = Network(network)
    setup = network_setup(network)
    if not setup.ready:
        raise ProfileProblem(f"{network.label} is not configured", setup.hint, status=422)
    holder = slot_holder(social_set, network)
    reconnecting = (reconnect and holder is not None and holder.needs_reconnect
                    and policy.can(user, policy.ENTER, holder))
    if holder is not None and not reconnecting:
        raise slot_taken(network, holder)
    return holder if reconnecting else None


def begin_authorization(
    store: MutableMapping, client: NetworkClient, social_set: SocialSet, user: User, origin: str = "settings",
    reconnecting: SocialProfile | None = None, server_url: str | None = None,
) -> str:
    """Keep a pending flow for `client`'s network in the session and return its authorization URL;
    `server_url` names the server the client is registered on, for a network of many."""
    network = client.network
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)  # 64 characters, within PKCE's 43 to 128
    url, _ = _oauth_session(client).create_authorization_url(
        client.authorize_url, state=state, code_verifier=verifier if client.pkce else None
    )
    flows = pending_entries(store, PENDING_KEY)
    flows[state] = {
        "verifier": verifier if client.pkce else "",
        "user_id": user.id,
        "access_group_id": social_set.access_group_id,
        "social_set_id": social_set.id,
        "network": network.value,
        "expires_at": time.time() + FLOW_LIFETIME.total_seconds(),
        "origin": origin if origin in ORIGINS else "settings",
        "reconnect_profile_id": reconnecting.id if reconnecting else None,
        "server_url": server_url,
    }
    keep_entries(store, PENDING_KEY, flows)
    return url


# Networks of many servers that sign in over OAuth: how each builds the client of Roster's app on the
# server a pending flow names (the network's module registers it with `server_client`).
_SERVER_CLIENTS: dict[str, Callable[[str], NetworkClient | None]] = {}


def server_client(network: Network) -> Callable[[Callable[[str], NetworkClient | None]],
                                                Callable[[str], NetworkClient | None]]:
    """Make the decorated function build `network`'s client for the server a pending flow names."""
    def register(build: Callable[[str], NetworkClient | None]) -> Callable[[str], NetworkClient | None]:
        _SERVER_CLIENTS[network.value] = build
        return build
    return register


def _client_for(pending: PendingConnection) -> NetworkClient | None:
    """The client the flow started with: Roster's app on the person's server, or the network's own."""
    if pending.server_url:
        build = _SERVER_CLIENTS.get(pending.network)
        return build(pending.server_url) if build else None
    return network_client(pending.network)


def take_connection(store: MutableMapping, state: str | None, user: User, network: str) -> PendingConnection:
    """The pending flow for `state`, removed from the session: each state works once, for its user."""
    flows = pending_entries(store, PENDING_KEY)
    entry = flows.pop(state, None) if state else None
    store[PENDING_KEY] = flows
    if entry is None or entry["user_id"] != user.id or entry["network"] != network:
        raise no_longer_valid()
    return PendingConnection(state=state, **entry)


def _exchange(client: NetworkClient, pending: PendingConnection, code: str) -> tuple[dict, dict]:
    """Trade the code (and PKCE verifier) for tokens, then ask the network whose profile it is."""
    session = _oauth_session(client)
    label = client.label
    try:
        token = session.fetch_token(client.token_url, code=code, code_verifier=pending.verifier or None)
        answer = session.get(client.userinfo_url)
        answer.raise_for_status()
        profile = profile_from_userinfo(client, answer.json())
    except (AuthlibBaseError, requests.RequestException, ValueError) as error:
        # The error's class and the network only: provider answers could echo what was sent.
        log.warning("connecting %s failed at the provider: %s", client.network.value, type(error).__name__)
        raise ProfileProblem(
            f"{label} did not finish the connection",
            f"{label} did not accept the sign-in, or could not be reached. Start again from the slot.",
            status=502,
        ) from None
    if not token.get("access_token"):
        log.warning("connecting %s: the token answer had no access token", client.network.value)
        raise ProfileProblem(
            f"{label} did not finish the connection",
            f"{label} did not hand Roster an access token. Start again from the slot.",
            status=502,
        )
    if not profile["external_id"] or not profile["handle"]:
        log.warning("connecting %s: the profile lookup had no id or handle", client.network.value)
        raise ProfileProblem(
            f"{label} did not say whose profile it is",
            f"{label} did not tell Roster the profile's id and handle. Start again from the slot.",
            status=502,
        )
    return token, profile


def _expiry(token: dict) -> datetime | None:
    expires_at = token.get("expires_at")
    return datetime.fromtimestamp(int(expires_at), tz=timezone.utc) if expires_at else None


def already_connected(account_id: int, network: str, external_id: str,
                       service_url: str | None = None) -> SocialProfile | None:
    # On a network of many servers an account's id is its server's: the same id elsewhere is someone else.
    on_server = [SocialProfile.service_url == service_url] if service_url else []
    return db.session.scalar(
        select(SocialProfile)
        .join(AccessGroup, AccessGroup.id == SocialProfile.access_group_id)
        .where(AccessGroup.account_id == account_id, SocialProfile.network == network,
               SocialProfile.external_id == external_id, *on_server)
        .limit(1)
    )


def may_move(user: User, profile: SocialProfile) -> bool:
    """Who may take a profile out of its slot: those who manage profiles there, or whoever connected it."""
    return policy.can(user, "profiles.manage", profile) or (
        profile.connected_by_id == user.id and policy.can(user, policy.ENTER, profile)
    )


def finish_connection(
    store: MutableMapping, pending: PendingConnection, code: str, social_set: SocialSet, user: User
) -> Connected | TransferOffer | NextStep:
    """Exchange the code, look the profile up and store it in the slot, or offer a transfer (or, for
    LinkedIn, go on to ask which author posts; for Facebook and Instagram, which Page or account).

    The caller took the flow with `take_connection`, has checked `profiles.connect` on the set's
    group again, and commits.
    """
    client = _client_for(pending)
    if client is None and pending.server_url:
        raise no_longer_valid()
    if client is None:
        setup = network_setup(pending.network)
        raise ProfileProblem(f"{pending.network_label} is not configured", setup.hint, status=422)
    token, found = _exchange(client, pending, code)
    if pending.server_url and "@" not in found["handle"].lstrip("@"):
        # On a network of many servers a handle names its server: maya@mastodon.social.
        found["handle"] = f"{found['handle'].lstrip('@')}@{urlsplit(pending.server_url).hostname}"
    if client.network == Network.LINKEDIN and not client.sandbox:
        # A LinkedIn member posts as themselves or as a Page they administer: its own step asks which.
        from .publishers import linkedin

        outcome = linkedin.after_sign_in(store, pending, social_set, token, found, user)
        if outcome is not None:
            return outcome
    if client.network in (Network.FACEBOOK, Network.INSTAGRAM) and not client.sandbox:
        # Facebook Login names a person, not a Page: the person picks the Page or Instagram account next.
        from . import page_picker

        return page_picker.after_sign_in(store, pending, social_set, token, found, user)
    return connect_found(store, pending, social_set, token, found, user)


def connect_found(
    store: MutableMapping, pending: PendingConnection, social_set: SocialSet, token: dict, found: dict, user: User
) -> Connected | TransferOffer:
    """Store the profile the person signed in as (`found`, with its `token`) in the slot, sign in again
    the profile that needed it, or offer a transfer when the account has the profile elsewhere.

    Where signing in names a person rather than the profile (a Facebook Page), the network's own step
    calls this once the person has picked one. The caller commits.
    """
    account_id = social_set.access_group.account_id
    if pending.reconnect_profile_id is not None:
        return _reconnect(pending, social_set, token, found, user)
    existing = already_connected(account_id, pending.network, found["external_id"], pending.server_url)
    if existing is not None:
        return offer_transfer(store, existing, social_set, pending, user)
    holder = slot_holder(social_set, pending.network)
    if holder is not None:
        raise slot_taken(pending.network, holder)
    avatar_url = found["avatar_url"]
    if avatar_url and (len(avatar_url) > 500 or not avatar_url.startswith(("https://", "http://"))):
        avatar_url = None
    profile = SocialProfile(
        social_set_id=social_set.id,
        access_group_id=social_set.access_group_id,
        network=pending.network,
        handle=found["handle"].lstrip("@")[:120],
        display_name=(found["display_name"] or "")[:120],
        avatar_url=avatar_url,
        external_id=found["external_id"][:255],
        service_url=pending.server_url,
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        token_expires_at=_expiry(token),
        connected_by_id=user.id,
    )
    db.session.add(profile)
    db.session.flush()
    audit.record(account_id, user.id, "profile.connected", "social_profile", profile.id, after={
        "network": profile.network, "handle": profile.handle, "social_set_id": social_set.id,
        "access_group_id": social_set.access_group_id,
    }, group_id=social_set.access_group_id)
    return Connected(profile)


def store_tokens(profile: SocialProfile, token: dict) -> None:
    profile.access_token = token["access_token"]
    if token.get("refresh_token"):  # networks that do not rotate refresh tokens send none
        profile.refresh_token = token["refresh_token"]
    profile.token_expires_at = _expiry(token)
    profile.needs_reconnect = False


def _reconnect(pending: PendingConnection, social_set: SocialSet, token: dict, found: dict, user: User) -> Connected:
    """New tokens for a profile that needed reconnecting, if the person signed in as that profile."""
    profile = slot_holder(social_set, pending.network)
    if profile is None or profile.id != pending.reconnect_profile_id:
        raise ProfileProblem("Profile not found", "The profile to reconnect was removed or moved. "
                             "Nothing was changed.", status=404)
    if profile.external_id != found["external_id"] or profile.service_url != pending.server_url:
        raise ProfileProblem(
            "A different profile signed in",
            f"You signed in to {pending.network_label} as @{found['handle']}, but this slot holds "
            f"@{profile.handle}. Sign in as @{profile.handle} to reconnect it. Nothing was changed.",
            status=409,
        )
    store_tokens(profile, token)
    profile.handle = found["handle"].lstrip("@")[:120]
    from .publishing import retry_after_reconnect

    retry_after_reconnect(profile)
    audit.record(social_set.access_group.account_id, user.id, "profile.reconnected", "social_profile",
                 profile.id, after={"network": profile.network, "handle": profile.handle},
                 group_id=social_set.access_group_id)
    return Connected(profile)


# --- keeping tokens fresh -------------------------------------------------------------------------

REFRESH_LEEWAY = timedelta(minutes=2)


def refresh_profile_tokens(profile: SocialProfile) -> bool:
    """Trade the refresh token for new tokens; when the network refuses, mark "reconnect needed".

    A network that cannot be reached changes nothing (try again later). The caller commits.
    """
    client = network_client(profile.network)
    if client is None:
        return False
    if profile.refresh_token:
        try:
            token = _oauth_session(client).refresh_token(client.token_url, refresh_token=profile.refresh_token)
        except requests.RequestException as error:
            log.warning("refreshing profile %s: %s unreachable (%s)", profile.id, profile.network,
                        type(error).__name__)
            return False
        except AuthlibBaseError as error:
            log.info("refreshing profile %s refused by %s: %s", profile.id, profile.network,
                     getattr(error, "error", type(error).__name__))
        else:
            store_tokens(profile, token)
            return True
    if not profile.needs_reconnect:
        profile.needs_reconnect = True
        audit.record(profile.social_set.access_group.account_id, None, "profile.reconnect_needed",
                     "social_profile", profile.id, after={"network": profile.network, "handle": profile.handle},
                     group_id=profile.access_group_id)
    return False


def access_token_for(profile: SocialProfile) -> str | None:
    """A working access token for calling the network, refreshed first when it is about to expire;
    None when the profile needs reconnecting. The caller commits."""
    if profile.needs_reconnect:
        return None
    expires_at = profile.token_expires_at
    if expires_at is not None and expires_at - datetime.now(timezone.utc) < REFRESH_LEEWAY:
        if not refresh_profile_tokens(profile):
            return None
    return profile.access_token


# --- transferring ---------------------------------------------------------------------------------


def post_count(profile: SocialProfile) -> int:
    """How many posts belong to the profile (they go wherever it goes)."""
    return db.session.scalar(select(func.count(Post.id)).where(Post.social_profile_id == profile.id))


def _campaigns_losing(profile: SocialProfile, access_group_id: int) -> list[str]:
    """The campaigns outside `access_group_id` that list the profile: they lose it when it moves there."""
    if profile.access_group_id == access_group_id:
        return []
    return list(db.session.scalars(
        select(Campaign.name)
        .join(CampaignProfile, CampaignProfile.campaign_id == Campaign.id)
        .where(CampaignProfile.social_profile_id == profile.id, Campaign.access_group_id != access_group_id)
        .order_by(Campaign.name)
    ))


def offer_transfer(
    store: MutableMapping, existing: SocialProfile, social_set: SocialSet, pending: PendingConnection, user: User
) -> TransferOffer:
    visible = policy.can(user, policy.ENTER, existing)
    offer_id = None
    if visible and may_move(user, existing) and existing.social_set_id != social_set.id:
        offer_id = secrets.token_urlsafe(16)
        offers = pending_entries(store, TRANSFER_KEY)
        offers[offer_id] = {
            "user_id": user.id, "social_profile_id": existing.id, "social_set_id": social_set.id,
            "network": pending.network, "origin": pending.origin,
            "expires_at": time.time() + FLOW_LIFETIME.total_seconds(),
        }
        keep_entries(store, TRANSFER_KEY, offers)
    return TransferOffer(
        offer_id=offer_id,
        profile=existing if visible else None,
        social_set=social_set,
        network=pending.network,
        handle=existing.handle,
        posts=post_count(existing) if visible else 0,
        campaigns=_campaigns_losing(existing, social_set.access_group_id) if visible else [],
        origin=pending.origin,
    )


@dataclass(frozen=True)
class TransferRequest:
    """An offer the person accepted: which profile goes into which set."""

    social_profile_id: int
    social_set_id: int
    network: str
    origin: str


def take_transfer(store: MutableMapping, offer_id: str | None, user: User) -> TransferRequest:
    """The transfer offer `offer_id`, removed from the session: each offer works once, for its user."""
    offers = pending_entries(store, TRANSFER_KEY)
    entry = offers.pop(offer_id, None) if offer_id else None
    store[TRANSFER_KEY] = offers
    if entry is None or entry["user_id"] != user.id:
        raise ProfileProblem("Transfer offer expired",
                             "This transfer offer is no longer valid. Start again from the slot.")
    return TransferRequest(entry["social_profile_id"], entry["social_set_id"], entry["network"], entry["origin"])


def transfer_profile(profile: SocialProfile, social_set: SocialSet, actor: User) -> int:
    """Move `profile` into the set's empty slot; its posts follow (the database cascades their group).

    Campaigns of the group it leaves lose it. Returns how many posts moved; the caller commits.
    """
    if not may_move(actor, profile):
        raise ProfileProblem("Not allowed", "You may not move this profile. Ask an owner or admin.", 403)
    holder = slot_holder(social_set, profile.network)
    if holder is not None:
        raise slot_taken(profile.network, holder)
    posts = post_count(profile)
    before = {"social_set_id": profile.social_set_id, "access_group_id": profile.access_group_id}
    if profile.access_group_id != social_set.access_group_id:
        leaving = select(Campaign.id).where(Campaign.access_group_id != social_set.access_group_id)
        db.session.execute(delete(CampaignProfile).where(
            CampaignProfile.social_profile_id == profile.id, CampaignProfile.campaign_id.in_(leaving)
        ))
    profile.social_set_id = social_set.id
    profile.access_group_id = social_set.access_group_id
    db.session.flush()
    db.session.expire_all()  # the posts' group was changed by the database, not the session
    audit.record(social_set.access_group.account_id, actor.id, "profile.transferred", "social_profile",
                 profile.id, before=before, after={
                     "social_set_id": social_set.id, "access_group_id": social_set.access_group_id,
                     "posts": posts,
                 }, group_id=before["access_group_id"], related_group_id=(
                     None if social_set.access_group_id == before["access_group_id"] else social_set.access_group_id))
    return posts


# --- removing -------------------------------------------------------------------------------------


def removal_kind(user: User, profile: SocialProfile) -> str | None:
    """"everyone" when the person disconnects the profile for all, "own" when a client who connected
    it ends only their own access, None when they may not remove it."""
    if policy.can(user, "profiles.manage", profile):
        return "everyone"
    perms = policy.current_permissions()
    account_id = perms.groups.get(profile.access_group_id)
    if (account_id is not None and perms.role_in(account_id) == Role.CLIENT.value
            and profile.connected_by_id == user.id):
        return "own"
    return None


def remove_profile(profile: SocialProfile, actor: User) -> str:
    """Remove a profile: for everyone (its posts go with it) or, for the client who connected it,
    only from their own view. Returns the kind of removal; the caller commits."""
    kind = removal_kind(actor, profile)
    account_id = profile.social_set.access_group.account_id
    details = {"network": profile.network, "handle": profile.handle,
               "social_set_id": profile.social_set_id, "access_group_id": profile.access_group_id}
    if kind == "everyone":
        posts = post_count(profile)
        audit.record(account_id, actor.id, "profile.removed", "social_profile", profile.id,
                     before={**details, "posts": posts}, group_id=profile.access_group_id)
        db.session.delete(profile)
    elif kind == "own":
        db.session.add(ProfileAccessRemoval(social_profile_id=profile.id, user_id=actor.id))
        audit.record(account_id, actor.id, "profile.access_removed", "social_profile", profile.id,
                     before=details, group_id=profile.access_group_id)
        approvals.end_lost_duties(account_id, actor, f"removed @{profile.handle} from their own view")
    else:
        raise ProfileProblem("Not allowed", "Only an owner or admin, or the client who connected it, "
                             "can remove this profile.", status=403)
    db.session.flush()
    return kind


def post_counts(access_group_id: int) -> dict[int, int]:
    """Posts per profile of one access group, as many as the current user may see (for Remove's warning)."""
    rows = db.session.execute(
        policy.visible(select(Post.social_profile_id, func.count(Post.id)))
        .where(Post.access_group_id == access_group_id).group_by(Post.social_profile_id)
    )
    return dict(rows.all())
