"""Paging by key: a page of rows in (timestamp, id) order and an opaque cursor where the next one starts.

A cursor names the last row of a page (`<timestamp in ISO 8601>~<id>`), so the next page is one indexed
query however deep it is, and rows added or removed meanwhile cause no gaps or repeats. A missing or
malformed cursor means the first page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db

Row = TypeVar("Row")

_LARGEST_ID = 2**63 - 1  # the largest id a BIGINT holds: a cursor beyond it is no row's


@dataclass(frozen=True)
class Page(Generic[Row]):
    """The rows of one page and the cursor of the next page (None on the last one)."""

    rows: list[Row]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def encode_cursor(stamp: datetime, row_id: int) -> str:
    """The cursor of a page that starts after the row with this timestamp and id."""
    return f"{stamp.isoformat()}~{row_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (timestamp, id) a cursor names; None for a missing or malformed one (the first page)."""
    if not cursor or "~" not in cursor:
        return None
    stamp, _, row_id = cursor.rpartition("~")
    try:
        at, number = datetime.fromisoformat(stamp), int(row_id)
    except ValueError:
        return None
    if at.tzinfo is None or not 0 < number <= _LARGEST_ID:
        return None
    return at, number


def keyset_page(
    statement: Select,
    stamp: InstrumentedAttribute,
    row_id: InstrumentedAttribute,
    cursor: str | None,
    size: int,
    descending: bool = False,
) -> Page:
    """One page of `statement`'s rows ordered by (`stamp`, `row_id`), starting after `cursor`.

    `descending` orders newest first. The statement must not be ordered or limited already.
    """
    after = decode_cursor(cursor)
    if after is not None:
        # A row comparison lets the database start reading the index right at the cursor.
        key, bound = tuple_(stamp, row_id), tuple_(literal(after[0], stamp.type), literal(after[1], row_id.type))
        statement = statement.where(key < bound if descending else key > bound)
    order = (stamp.desc(), row_id.desc()) if descending else (stamp, row_id)
    rows = db.session.scalars(statement.order_by(*order).limit(size + 1)).all()
    if len(rows) <= size:
        return Page(list(rows), None)
    last = rows[size - 1]
    return Page(list(rows[:size]), encode_cursor(getattr(last, stamp.key), getattr(last, row_id.key)))
