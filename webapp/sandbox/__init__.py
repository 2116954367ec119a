"""The built-in sandbox provider: a real OAuth 2 server standing in for any social network.

Served under /sandbox when SANDBOX_PROVIDER is on (the demo and the tests), so connecting a profile
works offline. The network is part of the authorize URL; the person at the consent page "signs in
to the network" by picking or typing a handle. Endpoints, for an Authlib client:

    authorize_url      /sandbox/<network>/authorize   (PKCE S256 required)
    access_token_url   /sandbox/token                 (client_secret_basic or client_secret_post)
    userinfo_endpoint  /sandbox/userinfo              (Bearer token with the "profile" scope)

Roster's own client needs no set-up: `ensure_sandbox_client` registers it on first use. Its secret
is an HMAC of SECRET_KEY, so it can be given again at any time while only its hash is stored.
All the views are public: the OAuth checks (client, redirect URI, code, token) are their policy.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, abort, current_app, jsonify, make_response, render_template
from flask_wtf import FlaskForm
from markupsafe import escape
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import Optional, Regexp, ValidationError

from .. import policy
from ..crypto import token_hash
from ..extensions import csrf, db, savepoint
from ..models import NETWORK_LABELS, Network, utcnow
from ..urls import external_url
from .models import DEFAULT_SCOPE, HANDLE_PATTERN, SandboxAccount, SandboxClient, SandboxToken
from .server import SCOPES, authorization_server, find_client, require_oauth

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

ROSTER_CLIENT_ID = "roster"
PRESET_HANDLES = ("maya.creates", "northstar.studio", "leo_travels")
HANDLE_RULE = "2–30 letters, digits, dots or underscores."
AVATAR_COLOURS = ("#4f46e5", "#0e7490", "#b45309", "#be185d", "#15803d", "#7c3aed")
AVATAR_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" '
    'role="img" aria-label="{label}">'
    '<rect width="96" height="96" rx="48" fill="{colour}"/>'
    '<text x="48" y="48" dy=".35em" text-anchor="middle" fill="#ffffff" '
    'font-family="system-ui, sans-serif" font-size="36" font-weight="600">{initials}</text></svg>'
)


# --- clients and tokens ---------------------------------------------------------------------------


def _roster_client_secret() -> str:
    """Roster's client secret, derived from SECRET_KEY so it never needs storing in plain text."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"sandbox client secret:" + ROSTER_CLIENT_ID.encode(), hashlib.sha256).hexdigest()


def ensure_sandbox_client(redirect_uris: list[str]) -> tuple[str, str]:
    """Roster's own sandbox client, registered to accept exactly `redirect_uris`; the caller commits.

    Idempotent: returns the same id and secret each time. The URIs are Roster's callbacks at
    ROSTER_URL; any others (from an earlier address) are dropped, so a code is only ever sent there.
    """
    secret = _roster_client_secret()
    if find_client(ROSTER_CLIENT_ID) is None:
        try:
            with savepoint():
                db.session.add(SandboxClient(
                    client_id=ROSTER_CLIENT_ID, name="Roster", scope=" ".join(SCOPES),
                    redirect_uris=[], client_secret_hash=token_hash(secret),
                ))
        except IntegrityError:  # another worker registered it at the same moment
            pass
    client = find_client(ROSTER_CLIENT_ID)
    if client.redirect_uris != redirect_uris:
        client.redirect_uris = list(redirect_uris)
    if client.client_secret_hash != token_hash(secret):  # SECRET_KEY was changed
        client.client_secret_hash = token_hash(secret)
    db.session.flush()
    return client.client_id, secret


def register_sandbox_client(name: str, redirect_uris: list[str]) -> tuple[str, str]:
    """A new client for another app, with a random id and secret; only the secret's hash is kept."""
    client_id = f"sandbox-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    db.session.add(SandboxClient(
        client_id=client_id, name=name, scope=" ".join(SCOPES),
        redirect_uris=list(redirect_uris), client_secret_hash=token_hash(secret),
    ))
    db.session.flush()
    return client_id, secret


def _account_tokens(network: str, handle: str):
    return (SandboxToken.network == network, SandboxToken.handle == handle.lower())


def expire_sandbox_access_tokens(network: str, handle: str) -> int:
    """Let the account's access tokens run out now, so clients must refresh; the caller commits."""
    now = utcnow()
    expired = db.session.execute(
        update(SandboxToken)
        .where(*_account_tokens(network, handle), SandboxToken.expires_at > now)
        .values(expires_at=now)
    )
    return expired.rowcount


def revoke_sandbox_tokens(network: str, handle: str) -> int:
    """Withdraw every grant the account gave, so its tokens stop working; the caller commits."""
    now = utcnow()
    revoked = db.session.execute(
        update(SandboxToken)
        .where(*_account_tokens(network, handle))
        .values(
            access_revoked_at=func.coalesce(SandboxToken.access_revoked_at, now),
            refresh_revoked_at=func.coalesce(SandboxToken.refresh_revoked_at, now),
        )
    )
    return revoked.rowcount


# --- consent ----------------------------------------------------------------------------------------


def _clean_handle(value: str | None) -> str | None:
    # People often type the @ they see on profiles; handles are case-insensitive on the networks.
    return value.strip().lstrip("@").lower() if value else value


class ConsentForm(FlaskForm):
    """Which account the person signs in as, and whether they let the app in."""

    account = RadioField(
        "Sign in as", choices=[SelectChoice(handle, f"@{handle}") for handle in PRESET_HANDLES],
        default=PRESET_HANDLES[0], validate_choice=False,
    )
    handle = StringField(
        "Or type another handle", filters=[_clean_handle],
        validators=[Optional(), Regexp(HANDLE_PATTERN, message=f"Not a handle: use {HANDLE_RULE}")],
    )
    allow = SubmitField("Allow")
    deny = SubmitField("Deny")

    def validate_account(self, field) -> None:
        if not self.handle.data and field.data not in PRESET_HANDLES:
            raise ValidationError("Choose an account or type a handle.")

    @property
    def chosen_handle(self) -> str:
        """A typed handle wins: typing one is a clearer choice than a preselected button."""
        return self.handle.data or self.account.data


def _network_or_404(network: str) -> Network:
    try:
        return Network(network)
    except ValueError:
        abort(404)


def _refused(error: OAuth2Error) -> Response:
    """An invalid request goes back to the client once its redirect URI is verified; else a page says why."""
    if error.redirect_uri:
        return authorization_server.handle_error_response(None, error)
    reason = error.description or error.error
    message = f"The app that sent you here made a request the sandbox cannot answer: {reason}"
    page = render_template("errors/error.html", status=400, title="Invalid sign-in request", message=message)
    return make_response(page, 400)


def _consent_page(network: Network, grant, form: ConsentForm, status: int = 200):
    oauth_request = grant.request
    return render_template(
        "sandbox/authorize.html",
        page_title=f"Connect to {NETWORK_LABELS[network]}",
        network_label=NETWORK_LABELS[network],
        client=oauth_request.client,
        scopes=[SCOPES[name] for name in (oauth_request.scope or "").split()],
        return_host=urlsplit(grant.redirect_uri).netloc,
        form=form,
        handle_rule=HANDLE_RULE,
    ), status


def _see_other(response: Response) -> Response:
    # RFC 9700 4.12: answer a POST with 303, so no browser re-posts the consent form to the client.
    if response.status_code == 302:
        response.status_code = 303
    return response


@bp.get("/<network>/authorize")
@policy.public
def authorize(network: str):
    """The consent page: which app asks for which network and scopes, and who signs in."""
    network = _network_or_404(network)
    try:
        grant = authorization_server.get_consent_grant()
    except OAuth2Error as error:
        return _refused(error)
    return _consent_page(network, grant, ConsentForm())


@bp.post("/<network>/authorize")
@policy.public
def decide(network: str):
    """Allow (with a valid handle) sends the client a code; Deny sends it `access_denied`."""
    network = _network_or_404(network)
    try:
        grant = authorization_server.get_consent_grant()
    except OAuth2Error as error:
        return _see_other(_refused(error))
    form = ConsentForm()
    if form.deny.data:
        return _see_other(authorization_server.create_authorization_response(grant=grant, grant_user=None))
    if not form.validate_on_submit():
        return _consent_page(network, grant, form, status=422)
    account = SandboxAccount(network.value, form.chosen_handle)
    response = authorization_server.create_authorization_response(grant=grant, grant_user=account)
    db.session.commit()
    return _see_other(response)


# --- machine endpoints ------------------------------------------------------------------------------


@bp.post("/token")
@policy.public
@csrf.exempt  # called by the client's server, which has no session; client authentication guards it
def token():
    """The token endpoint: trade a code and its PKCE verifier, or a refresh token, for new tokens."""
    response = authorization_server.create_token_response()
    # A failed exchange may have written half of itself (a token saved, then a reused code found).
    if response.status_code == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return response


@bp.get("/userinfo")
@policy.public
@require_oauth(DEFAULT_SCOPE)
def userinfo():
    """The account behind an access token: id, handle, name, picture and network."""
    account: SandboxAccount = current_token.account
    return jsonify(
        id=account.id,
        handle=account.handle,
        name=account.name,
        avatar_url=external_url("sandbox.avatar", network=account.network, handle=account.handle),
        network=account.network,
    )


@bp.get("/avatars/<network>/<handle>.svg")
@policy.public
def avatar(network: str, handle: str):
    """A sandbox account's picture: its initials on a colour of its own."""
    network = _network_or_404(network)
    if not HANDLE_PATTERN.match(handle):
        abort(404)
    account = SandboxAccount(network.value, handle)
    initials = "".join(word[0] for word in account.name.split()[:2]).upper()
    colour = AVATAR_COLOURS[int(account.id) % len(AVATAR_COLOURS)]
    svg = AVATAR_SVG.format(label=escape(f"@{handle}"), colour=colour, initials=escape(initials))
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
