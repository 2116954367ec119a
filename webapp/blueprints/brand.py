"""An agency's logo and accent colour, as emails and the review page show them.

Public: neither is secret (both are in every email the agency sends). The logo's key names its content
and the stylesheet's name its colour, so both are cached for a year; any other name is not found.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from .. import policy
from ..agency import LOGO_MARK
from ..brand import brand_of
from ..extensions import db
from ..models import Account
from ..storage import media_storage

bp = Blueprint("brand", __name__, url_prefix="/brand")

YEAR = 365 * 24 * 3600


@bp.get("/<int:account_id>/<key>")
@policy.public
def logo(account_id: int, key: str):
    """The agency's current logo, a PNG cached for a year."""
    account = db.session.get(Account, account_id)
    if account is None or not account.logo_key or account.logo_key.rsplit("/", 1)[-1] != key or LOGO_MARK not in key:
        abort(404)
    try:
        stream = media_storage().open(account.logo_key)
    except (OSError, ValueError):
        abort(404)
    response = send_file(stream, mimetype="image/png", max_age=YEAR, conditional=True, etag=key)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:account_id>/accent-<colour>.css")
@policy.public
def accent(account_id: int, colour: str):
    """The agency's accent colour for the review page, as a stylesheet (pages carry no inline styles)."""
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    brand = brand_of(account)
    if brand.accent.lstrip("#").lower() != colour:
        abort(404)
    response = Response(f".review-page {{ --accent: {brand.accent}; --accent-ink: {brand.accent_ink}; }}\n",
                        mimetype="text/css")
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
