"""Emailed links whose token is the credential (an invitation, a review link): what one is worth when opened.

Both kinds open, or say why not, with the same states; the states only one kind can reach are marked.
"""
from __future__ import annotations

import enum


class LinkState(str, enum.Enum):
    """Whether a link opened now still works and, if not, why not."""

    OPEN = "open"
    UNKNOWN = "unknown"  # no link carries this token
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"  # an invitation, accepted already: its link works once
    USED = "used"  # a review link: every post it covered was decided or changed since
    NO_ACCESS = "no_access"  # a review link: its reviewer may no longer see any post it covered


# The status of the page that says why a link opens nothing: a token nobody issued, or a link that ended.
CLOSED_STATUS: dict[LinkState, int] = {
    LinkState.UNKNOWN: 404,
    LinkState.EXPIRED: 410,
    LinkState.REVOKED: 410,
    LinkState.ACCEPTED: 410,
    LinkState.USED: 410,
    LinkState.NO_ACCESS: 410,
}
