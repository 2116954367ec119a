"""An agency's brand on what its clients see: its name, logo and accent colour on emails and the review page."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, has_request_context, url_for

from .models import Account

DEFAULT_ACCENT = "#1d4ed8"
ACCENT_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Brand:
    name: str
    accent: str  # "#rrggbb"
    logo_url: str | None  # absolute, on ROSTER_URL; None without a logo
    # On a page Roster serves: the logo and the accent's stylesheet by path, so they load from the page's own host.
    logo_path: str | None = None
    accent_css_path: str | None = None

    @property
    def sender_name(self) -> str:
        """"Northstar Talent via Roster"; Roster's own mail is simply "Roster"."""
        return "Roster" if self.name == "Roster" and self.logo_url is None else f"{self.name} via Roster"

    @property
    def accent_ink(self) -> str:
        """Text that reads on the accent colour: white on a dark accent, near-black on a light one."""
        red, green, blue = (int(self.accent[index:index + 2], 16) / 255 for index in (1, 3, 5))
        linear = [part / 12.92 if part <= 0.03928 else ((part + 0.055) / 1.055) ** 2.4 for part in (red, green, blue)]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#ffffff" if luminance < 0.179 else "#111827"


def sender_name(account: Account | None) -> str | None:
    """The name an agency's mail is sent under: "Northstar Talent via Roster"."""
    return f"{account.name} via Roster" if account is not None and account.name else None


def brand_of(account: Account | None) -> Brand:
    """The agency's brand; Roster's own without an account."""
    if account is None:
        return Brand(name="Roster", accent=DEFAULT_ACCENT, logo_url=None)
    accent = account.accent_color if account.accent_color and ACCENT_PATTERN.match(account.accent_color) else DEFAULT_ACCENT
    logo_url = logo_path = accent_css_path = None
    if "brand.logo" in current_app.view_functions:
        from .urls import external_url

        if account.logo_key:
            key = account.logo_key.rsplit("/", 1)[-1]
            logo_url = external_url("brand.logo", account_id=account.id, key=key)
            if has_request_context():
                logo_path = url_for("brand.logo", account_id=account.id, key=key)
        if has_request_context() and accent != DEFAULT_ACCENT:
            accent_css_path = url_for("brand.accent", account_id=account.id, colour=accent.lstrip("#").lower())
    return Brand(name=account.name, accent=accent, logo_url=logo_url, logo_path=logo_path,
                 accent_css_path=accent_css_path)
