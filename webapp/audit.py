"""The audit log: who did what to which object, with the state before and after."""
from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditEvent


def record(
    account_id: int,
    actor_id: int | None,
    verb: str,
    object_type: str,
    object_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    group_id: int | None = None,
    related_group_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits with the change it describes)."""
    event = AuditEvent(
        account_id=account_id,
        actor_id=actor_id,
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        access_group_id=group_id,
        related_group_id=related_group_id,
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
