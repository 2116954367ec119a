"""Configuration read from the environment, with safe defaults for a local install."""
import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY, else a random key kept in the instance folder so sessions survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    """Build the settings for an app whose instance folder is `instance_path`."""
    default_db = f"sqlite:///{instance_path / 'roster.db'}"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SECRET_KEY_GIVEN": bool(os.environ.get("SECRET_KEY")),
        # "production" refuses to start without a fixed SECRET_KEY and an https ROSTER_URL (webapp/urls.py).
        "ROSTER_ENV": os.environ.get("ROSTER_ENV") or "development",
        # Where people open Roster: the base of every emailed link and OAuth callback (never the request's Host).
        "ROSTER_URL": os.environ.get("ROSTER_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}",
        # Other host names requests may use (comma-separated), besides ROSTER_URL's own.
        "ROSTER_TRUSTED_HOSTS": os.environ.get("ROSTER_TRUSTED_HOSTS") or "",
        # How many reverse proxies stand in front and set X-Forwarded-For / -Proto (0: none).
        "ROSTER_PROXIES": int(os.environ.get("ROSTER_PROXIES") or 0),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "WTF_CSRF_TIME_LIMIT": None,
        # Pages, styles, scripts, JSON and CSV go out compressed (Brotli, else gzip, as the browser
        # accepts); media files never, being compressed already.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                               "application/json", "text/csv", "text/plain", "image/svg+xml"],
        "COMPRESS_MIN_SIZE": 500,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed sign-ins allowed per email address, and per client address (an office shares one).
        "SIGN_IN_RATE_LIMIT": os.environ.get("SIGN_IN_RATE_LIMIT", "5 per minute"),
        "SIGN_IN_ADDRESS_RATE_LIMIT": os.environ.get("SIGN_IN_ADDRESS_RATE_LIMIT", "30 per minute"),
        # "Forgot password?" requests allowed per email address, and per client address.
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour"),
        "PASSWORD_RESET_ADDRESS_RATE_LIMIT": os.environ.get("PASSWORD_RESET_ADDRESS_RATE_LIMIT", "20 per hour"),
        "TOKEN_ENCRYPTION_KEY": os.environ.get("TOKEN_ENCRYPTION_KEY"),
        "POLICY_ENFORCE": True,
        # Logs on stderr: "text" or "json" (one object per line), and the lowest level written.
        "LOG_FORMAT": (os.environ.get("LOG_FORMAT") or "text").lower(),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL") or "INFO",
        # /readyz says "not ready" when a message has waited to be sent longer than this.
        "READY_MAIL_MAX_AGE_MINUTES": int(os.environ.get("READY_MAIL_MAX_AGE_MINUTES") or 15),
        "PASSWORD_HASH_METHOD": "scrypt",
        # Without MAIL_SERVER, mail is written to MAIL_OUTBOX, one .eml file per message (offline demo).
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT") or (587 if _bool("MAIL_USE_TLS", False) else 25)),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "Roster <roster@localhost>",
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX") or str(instance_path / "outbox"),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS") or 8),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT") or 10),
        # Seconds a sender may hold a message; a message held longer was left by a stopped sender.
        "MAIL_SENDING_TIMEOUT": int(os.environ.get("MAIL_SENDING_TIMEOUT") or 600),
        # Media library uploads: the largest file, the most pixels an image may have, and the most
        # memory reading one image may take (what bounds images that can only be decoded whole).
        "MEDIA_MAX_BYTES": int(float(os.environ.get("MEDIA_MAX_MB") or 100) * 1024 * 1024),
        "MEDIA_MAX_IMAGE_PIXELS": int(float(os.environ.get("MEDIA_MAX_MEGAPIXELS") or 50) * 1_000_000),
        "MEDIA_MAX_DECODE_BYTES": int(float(os.environ.get("MEDIA_MAX_DECODE_MB") or 120) * 1024 * 1024),
        # Where uploaded files are kept; None: instance/media.
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or None,
        "INVITATION_TTL_DAYS": int(os.environ.get("INVITATION_TTL_DAYS") or 7),
        # Review links emailed to client approvers, and the cookie a visit moves the token into.
        "REVIEW_LINK_TTL_HOURS": int(os.environ.get("REVIEW_LINK_TTL_HOURS") or 72),
        "REVIEW_COOKIE_MINUTES": int(os.environ.get("REVIEW_COOKIE_MINUTES") or 60),
        # Posts sent for approval within this many minutes of an approver's last email wait for one digest.
        "REVIEW_DIGEST_MINUTES": int(os.environ.get("REVIEW_DIGEST_MINUTES") or 15),
        # Publishing: attempts before a post is left with its error, and the first retry's delay.
        "PUBLISH_MAX_ATTEMPTS": int(os.environ.get("PUBLISH_MAX_ATTEMPTS") or 5),
        "PUBLISH_RETRY_SECONDS": int(os.environ.get("PUBLISH_RETRY_SECONDS") or 60),
        # The background worker's queue: a SQLite file in the instance folder unless a Redis URL is given
        # (needed when workers on several hosts share the work).
        "WORKER_QUEUE_URL": os.environ.get("WORKER_QUEUE_URL") or None,
        "WORKER_QUEUE_PATH": os.environ.get("WORKER_QUEUE_PATH") or None,
        "WORKER_QUEUE_NAME": os.environ.get("WORKER_QUEUE_NAME") or "roster",
        # The built-in sandbox OAuth provider: on for the demo and tests, off in production unless asked.
        "SANDBOX_PROVIDER": _bool("SANDBOX_PROVIDER", os.environ.get("ROSTER_ENV") != "production"),
        "SANDBOX_TOKEN_TTL": int(os.environ.get("SANDBOX_TOKEN_TTL") or 3600),
        # Where Roster's server reaches the sandbox's token and userinfo endpoints, when its own
        # public address does not work from inside (a container, a proxy); None: the public address.
        "SANDBOX_BASE_URL": os.environ.get("SANDBOX_BASE_URL") or None,
        # Let the Mastodon connect form name an instance on this machine (127.0.0.1, localhost) over
        # plain http: for trying Roster against a local Mastodon only; tests allow it anyway.
        "MASTODON_ALLOW_HTTP": _bool("MASTODON_ALLOW_HTTP", False),
        # Meta's Graph API (Facebook Pages, Instagram professional accounts): the version every call
        # names, and where it is (tests point it at a local server).
        "GRAPH_API_VERSION": os.environ.get("GRAPH_API_VERSION") or "v23.0",
        "GRAPH_API_URL": os.environ.get("GRAPH_API_URL") or "https://graph.facebook.com",
        # LinkedIn's versioned REST API: the monthly version Roster speaks (LinkedIn serves each for about a
        # year) and where it is (tests point it at a local server).
        "LINKEDIN_API_VERSION": os.environ.get("LINKEDIN_API_VERSION") or "202607",
        "LINKEDIN_API_URL": (os.environ.get("LINKEDIN_API_URL") or "https://api.linkedin.com").rstrip("/"),
        # Each network's OAuth client: OAUTH_<NETWORK>_CLIENT_ID, _CLIENT_SECRET, _AUTHORIZE_URL,
        # _TOKEN_URL, _USERINFO_URL, _SCOPE, _PKCE, ... (see webapp/networks.py).
        **{name: value for name, value in os.environ.items() if name.startswith("OAUTH_") and value},
    }
