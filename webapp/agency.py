"""Settings › Agency: the agency's name, how it reads times (zone, week, clock) and its brand (logo, colour)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from . import audit
from .models import Account, User
from .storage import media_storage

LOGO_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
LOGO_BOX = (512, 160)  # the largest logo kept, in pixels; larger ones are shrunk to fit
LOGO_MAX_BYTES = 5 * 1024 * 1024
LOGO_MAX_PIXELS = 16_000_000  # what a logo upload may decode to (64 MB at most), whatever its file size
LOGO_MARK = "-logo-"  # in a logo's storage key, before the hash of its content


class LogoError(ValueError):
    """An upload that cannot be a logo; the message says why, and nothing was stored."""


@dataclass(frozen=True)
class AgencyChanges:
    """What Settings › Agency sends."""

    name: str
    time_zone: str
    week_start: str
    clock: str
    accent_color: str
    logo_key: str | None  # the new logo's key, or the current one when it stays


SETTINGS = ("name", "time_zone", "week_start", "clock", "accent_color", "logo_key")


def logo_png(stream: BinaryIO) -> bytes:
    """The uploaded image as a PNG at most LOGO_BOX in size, upright; LogoError if it is not a usable image."""
    data = stream.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise LogoError(f"That file is larger than {LOGO_MAX_BYTES // (1024 * 1024)} MB: choose a smaller logo.")
    if not data:
        raise LogoError("That file is empty: choose a PNG, JPEG, WebP or GIF image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in LOGO_FORMATS:
                raise LogoError("Choose a PNG, JPEG, WebP or GIF image for the logo.")
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise LogoError("That image has too many pixels for a logo: choose a smaller one.")
            image.seek(0)  # an animated GIF or WebP: its first frame
            if image.format == "JPEG":
                image.draft("RGB", (LOGO_BOX[0] * 2, LOGO_BOX[1] * 2))  # libjpeg shrinks it as it decodes
            logo = ImageOps.exif_transpose(image)
            logo = logo.convert("RGBA")
            logo.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
            output = io.BytesIO()
            logo.save(output, "PNG", optimize=True)  # no metadata is copied over
            return output.getvalue()
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise LogoError("That file could not be read as an image: choose a PNG, JPEG, WebP or GIF.") from None


def store_logo(png: bytes) -> str:
    """Keep the logo in media storage under a key naming its content's hash, so a new logo has a new URL."""
    digest = hashlib.sha256(png).hexdigest()[:20]
    return media_storage().save(png, f"{LOGO_MARK}{digest}.png")


def update_agency(account: Account, changes: AgencyChanges, actor: User) -> dict[str, tuple]:
    """Apply the settings and audit what changed; returns {setting: (before, after)} of the changes."""
    changed = {}
    for setting in SETTINGS:
        before, after = getattr(account, setting), getattr(changes, setting)
        if before != after:
            changed[setting] = (before, after)
            setattr(account, setting, after)
    if changed:
        audit.record(account.id, actor.id, "account.settings_changed", "account", account.id,
                     before={setting: values[0] for setting, values in changed.items()},
                     after={setting: values[1] for setting, values in changed.items()})
    return changed


def drop_logo(key: str | None) -> None:
    """Delete a logo no longer used (after the change that replaced it committed)."""
    if key:
        media_storage().delete(key)
