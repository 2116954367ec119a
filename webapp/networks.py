"""Each network's OAuth client: its endpoints, scopes and profile lookup, from configuration.

A network is set up by OAUTH_<NETWORK>_CLIENT_ID and _CLIENT_SECRET with its _AUTHORIZE_URL,
_TOKEN_URL and _USERINFO_URL (<NETWORK> is INSTAGRAM, FACEBOOK, TIKTOK, LINKEDIN, X, PINTEREST,
YOUTUBE, THREADS or GOOGLE_BUSINESS). Optional: _SCOPE (space-separated), _PKCE (default on),
_TOKEN_AUTH (client_secret_basic or client_secret_post) and _PROFILE_FIELDS, which says where the
userinfo answer keeps the profile, e.g. "external_id=data.id,handle=data.username".

Facebook needs only _CLIENT_ID and _CLIENT_SECRET: its other settings default to Facebook Login at
GRAPH_API_VERSION, with the permissions Page and Instagram publishing need. Instagram professional
accounts are reached through Facebook Login too: with no OAUTH_INSTAGRAM_CLIENT_ID or _CLIENT_SECRET,
Instagram signs in with Facebook's client (the person then picks the account, `page_picker`).

A network with no client of its own uses the built-in sandbox provider when SANDBOX_PROVIDER is
on; with neither it is "not configured", and the slot says which settings are missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from .models import SERVER_NETWORKS, Network
from .urls import external_url

# Where the profile usually is in a userinfo answer, for networks that do not say otherwise.
DEFAULT_PROFILE_FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "sub", "user_id", "open_id", "data.id"),
    "handle": ("handle", "username", "preferred_username", "screen_name", "login", "data.username"),
    "display_name": ("name", "display_name", "data.name"),
    "avatar_url": ("avatar_url", "picture", "profile_picture_url", "profile_image_url", "data.profile_image_url"),
}
# Where a network keeps the profile when it is not where DEFAULT_PROFILE_FIELDS looks: LinkedIn's OpenID
# Connect userinfo has no username, so the member's name stands for the handle.
NETWORK_PROFILE_FIELDS: dict[Network, dict[str, tuple[str, ...]]] = {
    Network.LINKEDIN: {"handle": ("name",)},
    Network.FACEBOOK: {"handle": ("name",)},  # a person's name: the Page picker finds the handle
}
# Networks that sign in with another network's client when they have none of their own.
SIGNS_IN_THROUGH: dict[Network, Network] = {Network.INSTAGRAM: Network.FACEBOOK}
# Pages: list them, read them, post to them; Instagram: read and publish to the linked accounts;
# business_management reaches Pages that a business portfolio owns.
META_PERMISSIONS = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic",
                    "instagram_content_publish", "business_management")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
REQUIRED_SETTINGS = ("CLIENT_ID", "CLIENT_SECRET", "AUTHORIZE_URL", "TOKEN_URL", "USERINFO_URL")
SANDBOX_SCOPE = "profile publish"
FALSE_WORDS = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class NetworkClient:
    """How Roster signs in to one network: who it is there and where to send people and requests."""

    network: Network
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    pkce: bool
    token_auth: str
    profile_fields: dict[str, tuple[str, ...]]
    sandbox: bool = False

    @property
    def label(self) -> str:
        return self.network.label


@dataclass(frozen=True)
class NetworkSetup:
    """Whether a network can be connected here, and if not, what to set."""

    network: Network
    ready: bool
    sandbox: bool = False
    missing: tuple[str, ...] = ()
    signs_in_with: Network | None = None  # the network whose client it uses, when not its own

    @property
    def hint(self) -> str:
        """What an administrator sets to make the network connectable, e.g.
        "Set OAUTH_X_CLIENT_ID, _CLIENT_SECRET and _TOKEN_URL to connect X."."""
        if self.ready:
            return ""
        through = self.signs_in_with or self.network
        prefix = setting_name(through, "")
        names = [self.missing[0]] + [name.removeprefix(prefix[:-1]) for name in self.missing[1:]]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        login = f" through {through.label} Login" if through != self.network else ""
        return f"Set {listed} to connect {self.network.label}{login}."


def setting_name(network: Network, setting: str) -> str:
    """The environment variable of one setting: OAUTH_INSTAGRAM_CLIENT_ID."""
    return f"OAUTH_{network.value.upper()}_{setting}"


def _setting(network: Network, setting: str) -> str | None:
    value = current_app.config.get(setting_name(network, setting))
    return value.strip() if isinstance(value, str) and value.strip() else _default_setting(network, setting)


def _default_setting(network: Network, setting: str) -> str | None:
    """What a network's setting is when it is not set: Facebook Login's endpoints at GRAPH_API_VERSION."""
    if network is not Network.FACEBOOK:
        return None
    version = current_app.config.get("GRAPH_API_VERSION") or "v23.0"
    graph = (current_app.config.get("GRAPH_API_URL") or "https://graph.facebook.com").rstrip("/")
    return {
        "AUTHORIZE_URL": f"https://www.facebook.com/{version}/dialog/oauth",
        "TOKEN_URL": f"{graph}/{version}/oauth/access_token",
        "USERINFO_URL": f"{graph}/{version}/me?fields=id,name",
        "SCOPE": ",".join(META_PERMISSIONS),
        "TOKEN_AUTH": "client_secret_post",
    }.get(setting)


def signs_in_with(network: Network) -> Network:
    """The network whose OAUTH_* settings sign `network` in: its own, or Facebook's for an Instagram
    with no client of its own."""
    through = SIGNS_IN_THROUGH.get(network)
    if through is not None and not (_setting(network, "CLIENT_ID") or _setting(network, "CLIENT_SECRET")):
        return through
    return network


def _own_client_settings(network: Network) -> dict[str, str | None]:
    return {setting: _setting(network, setting) for setting in REQUIRED_SETTINGS}


def _sandbox_on() -> bool:
    return bool(current_app.config.get("SANDBOX_PROVIDER")) and "sandbox.token" in current_app.view_functions


def network_setup(network: Network | str) -> NetworkSetup:
    """Whether `network` can be connected: by its own client, through the sandbox, or not at all."""
    network = Network(network)
    if network in SERVER_NETWORKS:  # the person names their server; Roster needs no app of its own
        return NetworkSetup(network, ready=True)
    settings_of = signs_in_with(network)
    settings = _own_client_settings(settings_of)
    if settings["CLIENT_ID"] or settings["CLIENT_SECRET"] or not _sandbox_on():
        missing = tuple(setting_name(settings_of, name) for name, value in settings.items() if not value)
        return NetworkSetup(network, ready=not missing, missing=missing,
                            signs_in_with=settings_of if settings_of != network else None)
    return NetworkSetup(network, ready=True, sandbox=True)


def _profile_fields(network: Network) -> dict[str, tuple[str, ...]]:
    fields = {**DEFAULT_PROFILE_FIELDS, **NETWORK_PROFILE_FIELDS.get(network, {})}
    for pair in (_setting(network, "PROFILE_FIELDS") or "").split(","):
        name, _, path = pair.partition("=")
        if name.strip() in fields and path.strip():
            fields[name.strip()] = (path.strip(),)
    return fields


def _sandbox_url(endpoint: str) -> str:
    """A sandbox endpoint as Roster's server reaches it: SANDBOX_BASE_URL when set."""
    return external_url(endpoint, base=current_app.config.get("SANDBOX_BASE_URL"))


def callback_url(network: Network) -> str:
    """The exact redirect URI registered for `network`, at ROSTER_URL."""
    return external_url("profiles.callback", network=network.value)


def network_client(network: Network | str) -> NetworkClient | None:
    """The OAuth client for `network`, or None when it is not configured.

    A sandbox client registers Roster's redirect URIs with the sandbox (a write the caller commits).
    """
    network = Network(network)
    setup = network_setup(network)
    if not setup.ready:
        return None
    if setup.sandbox:
        from .sandbox import ensure_sandbox_client

        client_id, client_secret = ensure_sandbox_client([callback_url(each) for each in Network])
        return NetworkClient(
            network=network, client_id=client_id, client_secret=client_secret,
            authorize_url=external_url("sandbox.authorize", network=network.value),
            token_url=_sandbox_url("sandbox.token"), userinfo_url=_sandbox_url("sandbox.userinfo"),
            scope=SANDBOX_SCOPE, pkce=True, token_auth="client_secret_basic",
            profile_fields=dict(DEFAULT_PROFILE_FIELDS), sandbox=True,
        )
    settings_of = signs_in_with(network)
    settings = _own_client_settings(settings_of)
    token_auth = _setting(settings_of, "TOKEN_AUTH") or "client_secret_basic"
    return NetworkClient(
        network=network, client_id=settings["CLIENT_ID"], client_secret=settings["CLIENT_SECRET"],
        authorize_url=settings["AUTHORIZE_URL"], token_url=settings["TOKEN_URL"],
        userinfo_url=settings["USERINFO_URL"], scope=_setting(settings_of, "SCOPE") or "",
        pkce=(_setting(settings_of, "PKCE") or "on").lower() not in FALSE_WORDS,
        token_auth=token_auth if token_auth in TOKEN_AUTH_METHODS else "client_secret_basic",
        profile_fields=_profile_fields(settings_of),
    )


def _lookup(answer: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(answer, list):
            answer = answer[0] if answer else None
        if not isinstance(answer, dict):
            return None
        answer = answer.get(key)
    return answer


def profile_from_userinfo(client: NetworkClient, answer: dict) -> dict[str, str | None]:
    """The profile's id, handle, name and picture, found where the network keeps them."""
    found: dict[str, str | None] = {}
    for name, paths in client.profile_fields.items():
        value = next((v for v in (_lookup(answer, path) for path in paths) if v not in (None, "")), None)
        found[name] = None if value is None or isinstance(value, (dict, list)) else str(value)
    return found
