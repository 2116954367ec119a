"""Undo offers: how long a change may be taken back after it was made.

A change that offers Undo is recorded as an audit event; the event's id is the Undo token and its time
starts the window.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .models import AuditEvent

SECONDS = 30
# An Undo clicked as the offer disappears still counts: the request may take a moment to arrive.
GRACE_SECONDS = 5


def window_open(event: AuditEvent, now: datetime | None = None) -> bool:
    """May the change `event` records still be undone?"""
    now = now or datetime.now(timezone.utc)
    return now - event.created_at <= timedelta(seconds=SECONDS + GRACE_SECONDS)
