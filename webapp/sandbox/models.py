"""What the sandbox provider keeps: registered apps, pending authorization codes and issued tokens.

Codes and tokens are stored only as SHA-256 hashes: the provider just has to recognise them when
they come back, so a copy of the database hands nobody a working token.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import token_hash
from ..extensions import db
from ..models import NETWORK_LABELS, SERVER_NETWORKS, Network, UTCDateTime, utcnow

# The grant types and client authentication methods every sandbox client gets.
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
TOKEN_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
DEFAULT_SCOPE = "profile"

HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9._]{2,30}$")
# The networks the sandbox stands in for: those connected through an app of the agency's own.
SANDBOX_NETWORKS = tuple(network for network in Network if network not in SERVER_NETWORKS)
NETWORK_KNOWN = "network IN ({})".format(", ".join(f"'{network.value}'" for network in SANDBOX_NETWORKS))


@dataclass(frozen=True)
class SandboxAccount:
    """The made-up network account a person signs in as on the consent page."""

    network: str
    handle: str

    @property
    def id(self) -> str:
        """A stable numeric id per network and handle, like the ids real networks hand out."""
        digest = hashlib.sha256(f"{self.network}:{self.handle}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    @property
    def name(self) -> str:
        """A display name made from the handle: `maya.creates` is "Maya Creates"."""
        words = re.split(r"[._]+", self.handle)
        return " ".join(word.capitalize() for word in words if word) or self.handle

    @property
    def network_label(self) -> str:
        return NETWORK_LABELS[Network(self.network)]


class SandboxClient(ClientMixin, db.Model):
    """An app allowed to ask sandbox accounts for access: Roster itself, or one registered by hand."""

    __tablename__ = "sandbox_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    # Exact URIs; a new list is assigned on change, since JSON columns do not notice in-place edits.
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this client may have, or the default scope when none is asked."""
        allowed = self.scope.split()
        if not scope:
            return DEFAULT_SCOPE if DEFAULT_SCOPE in allowed else ""
        requested = list(dict.fromkeys(scope.split()))
        return " ".join(name for name in requested if name in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(token_hash(client_secret), self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Every client has a secret, so "none" (a public client) is never accepted.
        return method in TOKEN_AUTH_METHODS if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class SandboxAuthorizationCode(AuthorizationCodeMixin, db.Model):
    """A code handed to a client after consent, redeemable once within a few minutes."""

    __tablename__ = "sandbox_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sandbox_client_id: Mapped[int] = mapped_column(ForeignKey("sandbox_clients.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(30))
    # What the client sent; None when it relied on its default URI (then none is required back).
    redirect_uri: Mapped[str | None] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint(NETWORK_KNOWN, name="network_known"),)

    @property
    def account(self) -> SandboxAccount:
        return SandboxAccount(self.network, self.handle)

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class SandboxToken(TokenMixin, db.Model):
    """An access token and its refresh token, issued to one client for one sandbox account."""

    __tablename__ = "sandbox_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    sandbox_client_id: Mapped[int] = mapped_column(ForeignKey("sandbox_clients.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(255))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    access_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(NETWORK_KNOWN, name="network_known"),
        Index("ix_sandbox_tokens_account", "network", "handle"),
    )

    @property
    def account(self) -> SandboxAccount:
        return SandboxAccount(self.network, self.handle)

    def check_client(self, client: SandboxClient) -> bool:
        return self.sandbox_client_id == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.access_revoked_at is not None


class SandboxPublication(db.Model):
    """A post the sandbox network received: what the demo's "published" posts were sent as."""

    __tablename__ = "sandbox_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(64))  # the sandbox account's id on that network
    caption: Mapped[str] = mapped_column(Text, default="")
    media_count: Mapped[int] = mapped_column(default=0)
    # The sender's own reference (Roster's post id): the sandbox refuses to publish one twice.
    client_reference: Mapped[str] = mapped_column(String(64), unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint(NETWORK_KNOWN, name="network_known"),)
