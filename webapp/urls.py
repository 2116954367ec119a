"""Roster's public address, ROSTER_URL: the one base of every link it sends and every callback it names.

Nothing here reads the request's Host header. A link in an email, an OAuth redirect URI or a sandbox
URL is built on ROSTER_URL, so a request that names another host cannot make Roster send its own
links (or a client secret) there; such a request is refused before any view runs (TRUSTED_HOSTS).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

# Names a browser on the same machine may use for a development server.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HSTS = "max-age=63072000; includeSubDomains"


class ConfigurationError(RuntimeError):
    """A setting that keeps Roster from starting; the message says what to change."""


def _checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            f"ROSTER_URL must be the address people open Roster at, like https://social.agency.example "
            f"(got {url!r})."
        )
    return url.rstrip("/")


def trusted_hosts(app: Flask) -> list[str]:
    """The host names requests may name: ROSTER_URL's and ROSTER_TRUSTED_HOSTS.

    A ROSTER_URL on this machine (development) answers to every loopback name.
    """
    own = urlsplit(app.config["ROSTER_URL"]).hostname
    hosts = [own]
    hosts += [host.strip() for host in app.config.get("ROSTER_TRUSTED_HOSTS", "").split(",") if host.strip()]
    if own in LOOPBACK_HOSTS:
        hosts += LOOPBACK_HOSTS
    return list(dict.fromkeys(hosts))


def use_public_url(app: Flask, url: str) -> None:
    """Serve `app` at `url` from now on: links and the hosts it answers follow."""
    app.config["ROSTER_URL"] = _checked(url)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app)


def configure(app: Flask) -> None:
    """Check the public address and production settings, trust the proxies in front, and refuse others' hosts."""
    use_public_url(app, app.config["ROSTER_URL"])
    if app.config.get("ROSTER_ENV") == "production":
        _require_production_settings(app)
    proxies = int(app.config.get("ROSTER_PROXIES") or 0)
    if proxies:
        # The last `proxies` hops' X-Forwarded-For and -Proto are theirs; anything before is the client's word.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _require_production_settings(app: Flask) -> None:
    problems = []
    if not app.config.get("SECRET_KEY_GIVEN"):
        problems.append("set SECRET_KEY to a long random value that stays the same across restarts "
                        "(for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if urlsplit(app.config["ROSTER_URL"]).scheme != "https":
        problems.append("set ROSTER_URL to the https address people open Roster at, "
                        "like https://social.agency.example")
    if problems:
        raise ConfigurationError("Roster will not start in production until you " + "; and ".join(problems) + ".")
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True

    @app.after_request
    def _strict_transport(response):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def external_url(endpoint: str, *, base: str | None = None, **values: Any) -> str:
    """The absolute URL of `endpoint` at ROSTER_URL (or `base`), in a request or outside one (a worker)."""
    app = current_app
    base = urlsplit(base or app.config["ROSTER_URL"])
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


class UrlPattern:
    """The URLs of one endpoint that differ in one id, built once and filled in per row.

    A page of a few hundred cards needs a few hundred links that differ only in a post's id: building
    the route once and filling the id in keeps such a page's time flat.
    """

    _PLACEHOLDER = 7_346_215_903_118_442_771  # an id no row has, to find where the id goes

    def __init__(self, endpoint: str, key: str, **values: object) -> None:
        built = url_for(endpoint, **values, **{key: self._PLACEHOLDER})
        self._head, _, self._tail = built.partition(str(self._PLACEHOLDER))

    def __call__(self, row_id: int) -> str:
        return f"{self._head}{int(row_id)}{self._tail}"
