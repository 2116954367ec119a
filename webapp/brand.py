"""An agency's brand on what its clients see: its name, logo and accent colour on emails and the review page."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app

from .models import Account

DEFAULT_ACCENT = "#1d4ed8"
ACCENT_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Brand:
    name: str
    accent: str  # "#rrggbb"
    logo_url: str | None  # absolute, on ROSTER_URL; None without a logo

    @property
    def sender_name(self) -> str:
        return f"{self.name} via Roster"


def sender_name(account: Account | None) -> str | None:
    """The name an agency's mail is sent under: "Northstar Talent via Roster"."""
    return f"{account.name} via Roster" if account is not None and account.name else None


def brand_of(account: Account | None) -> Brand:
    """The agency's brand; Roster's own without an account."""
    if account is None:
        return Brand(name="Roster", accent=DEFAULT_ACCENT, logo_url=None)
    accent = account.accent_color if account.accent_color and ACCENT_PATTERN.match(account.accent_color) else DEFAULT_ACCENT
    logo_url = None
    if account.logo_key and "brand.logo" in current_app.view_functions:
        from .urls import external_url

        logo_url = external_url("brand.logo", account_id=account.id, key=account.logo_key.rsplit("/", 1)[-1])
    return Brand(name=account.name, accent=accent, logo_url=logo_url)
