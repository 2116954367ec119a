"""Claims on rows that background workers take in turns (queued mail, due posts), and the back-off
between their tries.

A worker claims a row with one conditional UPDATE that only a free row matches, and commits it
before it does anything outside the database, so of any number of workers (threads, processes,
hosts; SQLite or PostgreSQL) exactly one takes the row. A claim is a lease: a worker that stops
leaves its claim behind, and once the lease has run out `expired` hands it to the next run to
release. A claim is settled (its outcome written and the row freed) only while it is still the
worker's own, so a worker so slow that its lease ran out and was taken over writes nothing.

Each table keeps its claims in its own columns, and a `Lease` names them. Deciding which rows are
due, what a try's outcome is, and what to record about it stays with the caller.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, null, select, update
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db


@dataclass(frozen=True)
class Lease:
    """Where one table keeps its claims, and how long a claim holds.

    A claim marks its row as taken with a random token in `token`, or, in a table without a token
    column, by moving `status` to `taken_status`. It adds one to `attempts` and stamps its time in
    `claimed_at` (when it was taken) or in `expires_at` (when it runs out). Settling a claim clears
    `token` and `claimed_at`; a new `status`, and whatever `expires_at` should hold next, are the
    caller's to write, since a table may reuse its next-try column for the lease's end.
    """

    id: InstrumentedAttribute[int]
    attempts: InstrumentedAttribute[int]
    duration: timedelta
    token: InstrumentedAttribute[str | None] | None = None
    status: InstrumentedAttribute[str] | None = None
    taken_status: str | None = None
    claimed_at: InstrumentedAttribute[datetime | None] | None = None
    expires_at: InstrumentedAttribute[datetime] | None = None

    def __post_init__(self) -> None:
        # A lease that could not tell a taken row from a free one would let two workers take it.
        marked_by_token = self.token is not None
        marked_by_status = self.status is not None and self.taken_status is not None
        if marked_by_token == marked_by_status or (self.status is None) != (self.taken_status is None):
            raise ValueError("A lease marks claims either with a token column or with a status and its taken value.")
        if (self.claimed_at is None) == (self.expires_at is None):
            raise ValueError("A lease stamps claims either with the time they were taken or with the time they run out.")
        if self.duration <= timedelta(0):
            raise ValueError("A lease must last a while.")

    @property
    def stamp(self) -> InstrumentedAttribute[Any]:
        """The column a claim stamps its time in."""
        return self.claimed_at if self.claimed_at is not None else self.expires_at  # type: ignore[return-value]


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one row: what `settle` needs to tell it from any later claim on the row.

    `token` is the random token it wrote, where the table has a token column; without one, the time
    it stamped names it instead (no two claims on a row share it, since a new claim is taken only
    once the last one ran out).
    """

    row_id: int
    token: str | None
    stamp: datetime


def unclaimed(lease: Lease) -> ColumnElement[bool]:
    """Rows no worker holds."""
    if lease.token is not None:
        return lease.token.is_(None)
    return lease.status != lease.taken_status  # type: ignore[union-attr]


def claim(lease: Lease, row_id: int, available: ColumnElement[bool], now: datetime) -> Claim | None:
    """Take the row if it is `available` and no worker holds it, and commit that; of workers racing
    for one row exactly one gets the claim, the others None."""
    token = secrets.token_hex(16) if lease.token is not None else None  # 32 characters
    stamp = now if lease.claimed_at is not None else now + lease.duration
    marks: dict[str, Any] = {lease.attempts.key: lease.attempts + 1, lease.stamp.key: stamp}
    if lease.token is not None:
        marks[lease.token.key] = token
    else:
        marks[lease.status.key] = lease.taken_status  # type: ignore[union-attr]
    claimed = db.session.execute(
        update(lease.id.class_)
        .where(lease.id == row_id, available, unclaimed(lease))
        .values(**marks)
        .execution_options(synchronize_session=False)
    )
    # Committed before the worker acts, so every other worker sees the claim at once.
    db.session.commit()
    return Claim(row_id, token, stamp) if claimed.rowcount == 1 else None


def expired(lease: Lease, now: datetime) -> list[tuple[Claim, int]]:
    """The claims whose lease has run out by `now` (their workers stopped), each with its row's
    attempts, the stopped try included."""
    if lease.expires_at is not None:
        ran_out = lease.expires_at <= now
    else:
        ran_out = lease.claimed_at <= now - lease.duration  # type: ignore[operator]
    token_column = lease.token if lease.token is not None else null()
    rows = db.session.execute(
        select(lease.id, token_column, lease.stamp, lease.attempts).where(~unclaimed(lease), ran_out)
    ).all()
    return [(Claim(row_id, token, stamp), attempts) for row_id, token, stamp, attempts in rows]


def settle(lease: Lease, claim: Claim, **values: Any) -> bool:
    """Write `values` and free the row, if the claim is still the worker's own; not committed.

    False when the claim ran out and was released or taken over: then nothing is written.
    """
    if lease.status is not None and values.get(lease.status.key, lease.taken_status) == lease.taken_status:
        raise ValueError(f"Settling a claim moves `{lease.status.key}` off {lease.taken_status!r}.")
    if lease.token is not None:
        ours = lease.token == claim.token
        values = {**values, lease.token.key: None}
    else:
        ours = (lease.status == lease.taken_status) & (lease.stamp == claim.stamp)  # type: ignore[operator]
    if lease.claimed_at is not None:
        values = {**values, lease.claimed_at.key: None}
    settled = db.session.execute(
        update(lease.id.class_)
        .where(lease.id == claim.row_id, ours)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return settled.rowcount == 1


def backoff(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed try: `first`, twice that, four times … at most `longest`."""
    return min(first * 2 ** (attempts - 1), longest)
