"""Encryption of OAuth tokens at rest, and hashing of emailed tokens."""
import base64
import functools
import hashlib
import secrets

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"roster social profile tokens"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


def _cipher() -> MultiFernet:
    """A cipher from TOKEN_ENCRYPTION_KEY (comma-separated, newest first) or the secret key."""
    configured = current_app.config.get("TOKEN_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    return _cipher_for(configured)


@functools.lru_cache(maxsize=8)
def _cipher_for(configured: str) -> MultiFernet:
    # Deriving keys costs more than encrypting a token: do it once per configured key list.
    keys = [part.strip() for part in configured.split(",") if part.strip()]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def encrypt(plaintext: str) -> bytes:
    return _cipher().encrypt(plaintext.encode())


def decrypt(ciphertext: bytes) -> str:
    return _cipher().decrypt(bytes(ciphertext)).decode()


def new_token() -> str:
    """A 256-bit random token for a link sent by email."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of an emailed token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
