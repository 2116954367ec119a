"""The sandbox's OAuth 2 authorization server, built from Authlib's server components.

Authorization code grant with PKCE (S256 only, always required) and rotating refresh tokens;
clients authenticate at the token endpoint with client_secret_basic or client_secret_post.
The objects here hold no app state, so one server serves every app the factory builds.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Request, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Request, current_app
from flask import request as flask_request
from sqlalchemy import delete, select, update

from ..crypto import token_hash
from ..extensions import db
from ..models import utcnow
from .models import (
    DEFAULT_SCOPE,
    SandboxAccount,
    SandboxAuthorizationCode,
    SandboxClient,
    SandboxToken,
)

# What each scope lets a client do, in the words the consent page uses.
SCOPES: dict[str, str] = {
    DEFAULT_SCOPE: "See your name, handle and profile picture",
    "publish": "Publish posts on your behalf",
    "insights": "Read the statistics of your posts",
}
CODE_LIFETIME = timedelta(minutes=10)  # the longest RFC 6749 recommends

# Authlib logs each token it issues at DEBUG: tokens are kept out of every log.
logging.getLogger("authlib.oauth2").setLevel(logging.INFO)


class SandboxRequest(OAuth2Request):
    """A Flask request as Authlib's grants read it, accepted over plain http."""

    def __init__(self, request: Request) -> None:
        # Authlib refuses plain http beyond loopback, to protect real credentials. The sandbox
        # holds only made-up accounts, and the demo and the tests serve it over http by host
        # name, so the check is shown the https form of the URL and the real one is kept.
        super().__init__(request.method, "https://" + request.url.split("://", 1)[1], headers=request.headers)
        self.uri = request.url
        self._request = request
        self.payload = FlaskOAuth2Payload(request)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


class SandboxAuthorizationServer(AuthorizationServer):
    """Authlib's Flask authorization server, reading requests the sandbox's way."""

    def create_oauth2_request(self, request) -> SandboxRequest:
        return SandboxRequest(flask_request)


def find_client(client_id: str) -> SandboxClient | None:
    """The registered client with this public id."""
    return db.session.scalar(select(SandboxClient).where(SandboxClient.client_id == client_id))


def save_token(token: dict, request: OAuth2Request) -> None:
    """Keep the hashes of a freshly issued token pair; the caller commits."""
    account: SandboxAccount = request.user
    issued_at = utcnow()
    refresh_token = token.get("refresh_token")
    db.session.add(SandboxToken(
        sandbox_client_id=request.client.id,
        network=account.network,
        handle=account.handle,
        scope=token.get("scope", ""),
        access_token_hash=token_hash(token["access_token"]),
        refresh_token_hash=token_hash(refresh_token) if refresh_token else None,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=token.get("expires_in", 0)),
    ))


def _new_token(**_details) -> str:
    return secrets.token_urlsafe(32)


def _access_token_lifetime(client: SandboxClient, grant_type: str) -> int:
    # Read per request, so each app (and each test) may set its own SANDBOX_TOKEN_TTL.
    return int(current_app.config["SANDBOX_TOKEN_TTL"])


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Codes stored as hashes, bound to client, account, redirect URI and PKCE challenge."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        account: SandboxAccount = request.user
        challenge = request.payload.data
        db.session.add(SandboxAuthorizationCode(
            code_hash=token_hash(code),
            sandbox_client_id=request.client.id,
            network=account.network,
            handle=account.handle,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            code_challenge=challenge["code_challenge"],
            code_challenge_method=challenge["code_challenge_method"],
            expires_at=utcnow() + CODE_LIFETIME,
        ))

    def query_authorization_code(self, code: str, client: SandboxClient) -> SandboxAuthorizationCode | None:
        return db.session.scalar(select(SandboxAuthorizationCode).where(
            SandboxAuthorizationCode.code_hash == token_hash(code),
            SandboxAuthorizationCode.sandbox_client_id == client.id,
            SandboxAuthorizationCode.expires_at > utcnow(),
        ))

    def delete_authorization_code(self, authorization_code: SandboxAuthorizationCode) -> None:
        # Two redemptions racing: the database lets only one delete the row; the other fails.
        deleted = db.session.execute(
            delete(SandboxAuthorizationCode).where(SandboxAuthorizationCode.id == authorization_code.id)
        )
        if deleted.rowcount != 1:
            raise InvalidGrantError("The code was already used.")

    def authenticate_user(self, authorization_code: SandboxAuthorizationCode) -> SandboxAccount:
        return authorization_code.account


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh tokens rotate: each refresh returns a new one and retires the old."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> SandboxToken | None:
        return db.session.scalar(select(SandboxToken).where(
            SandboxToken.refresh_token_hash == token_hash(refresh_token),
            SandboxToken.refresh_revoked_at.is_(None),
        ))

    def authenticate_user(self, refresh_token: SandboxToken) -> SandboxAccount:
        return refresh_token.account

    def revoke_old_credential(self, refresh_token: SandboxToken) -> None:
        # As with codes: of two refreshes racing with one token, only one may win.
        retired = db.session.execute(
            update(SandboxToken)
            .where(SandboxToken.id == refresh_token.id, SandboxToken.refresh_revoked_at.is_(None))
            .values(refresh_revoked_at=utcnow())
        )
        if retired.rowcount != 1:
            raise InvalidGrantError("The refresh token was already used.")


class RequiredS256CodeChallenge(CodeChallenge):
    """PKCE on every authorization request, with S256 only: the sandbox holds clients to the strict rule."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri: str) -> None:
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': the sandbox requires PKCE.")
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Use 'code_challenge_method=S256'.")
        super().validate_code_challenge(grant, redirect_uri)


class SandboxBearerTokenValidator(BearerTokenValidator):
    """Finds an access token by its hash; Authlib then checks expiry, revocation and scope."""

    def authenticate_token(self, token_string: str) -> SandboxToken | None:
        return db.session.scalar(
            select(SandboxToken).where(SandboxToken.access_token_hash == token_hash(token_string))
        )


authorization_server = SandboxAuthorizationServer(query_client=find_client, save_token=save_token)
authorization_server.scopes_supported = list(SCOPES)
authorization_server.register_token_generator(
    "default", BearerTokenGenerator(_new_token, _new_token, _access_token_lifetime)
)
authorization_server.register_grant(AuthorizationCodeGrant, [RequiredS256CodeChallenge(required=True)])
authorization_server.register_grant(RefreshTokenGrant)

require_oauth = ResourceProtector()
require_oauth.register_token_validator(SandboxBearerTokenValidator())
