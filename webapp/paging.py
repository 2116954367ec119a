"""Paging by key: a page of rows in (timestamp, id) order and an opaque cursor where the next one starts.

A cursor names the last row of a page (`<timestamp in ISO 8601>~<id>`), so the next page is one indexed
query however deep it is, and rows added or removed meanwhile cause no gaps or repeats. A missing or
malformed cursor means the first page.

Lists in another order (by name, say) page the same way with `keyset_page_by`: their cursor holds the
whole sort key of the last row, as the database read it.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db

Row = TypeVar("Row")

# The largest value an INTEGER column holds, as every id here is: a cursor beyond it is no row's, and
# PostgreSQL would refuse to compare an id with it.
_LARGEST_ID = 2**31 - 1
_LONGEST_KEY_CURSOR = 2000  # a sort key of a few names and ids fits well within it


@dataclass(frozen=True)
class Page(Generic[Row]):
    """The rows of one page and the cursor of the next page (None on the last one)."""

    rows: list[Row]
    next_cursor: str | None
    previous_cursor: str | None = None  # lists paged both ways (`keyset_page_by_id`): the page before

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


# --- paging by any sort key ---------------------------------------------------------------------------


def encode_key(values: Sequence[str | int]) -> str:
    """The opaque cursor of a page that starts after the row whose sort key has these values."""
    text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _fits(value: object, kind: type) -> bool:
    if type(value) is not kind:  # a JSON true is no id
        return False
    if kind is int:
        return -_LARGEST_ID <= value <= _LARGEST_ID
    return "\x00" not in value  # databases refuse NUL in text


def decode_key(cursor: str | None, shape: Sequence[type]) -> tuple | None:
    """The sort key a cursor names, each part of `shape`'s type (str or int); None for a missing or
    malformed one (the first page)."""
    if not cursor or len(cursor) > _LONGEST_KEY_CURSOR:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):  # bad base64, UTF-8 or JSON; JSON nested past all reason
        return None
    if not isinstance(values, list) or len(values) != len(shape):
        return None
    if not all(_fits(value, kind) for value, kind in zip(values, shape)):
        return None
    return tuple(values)


def keyset_page_by(
    statement: Select,
    key: Sequence[ColumnElement],
    shape: Sequence[type],
    cursor: str | None,
    size: int,
) -> Page:
    """One page of `statement`'s rows in ascending `key` order, starting after the row `cursor` names.

    `key` ends in something unique (an id) and `shape` gives the Python type of each part. The key is
    read back from the database with the rows, so the cursor holds exactly what the database compares
    (its own lower-casing of names, say). A statement of one entity or column pages that entity or
    value; of several, tuples of them. The statement must not be ordered or limited already.
    """
    after = decode_key(cursor, shape)
    if after is not None:
        statement = statement.where(tuple_(*key) > tuple_(*(literal(value) for value in after)))
    width = len(statement.column_descriptions)
    found = db.session.execute(statement.add_columns(*key).order_by(*key).limit(size + 1)).all()
    rows = [row[0] if width == 1 else tuple(row[:width]) for row in found[:size]]
    if len(found) <= size:
        return Page(rows, None)
    return Page(rows, encode_key(list(found[size - 1][width:])))


# --- paging newest first by id, both ways -------------------------------------------------------------


def keyset_page_by_id(
    statement: Select,
    row_id: InstrumentedAttribute,
    older_than: str | None,
    newer_than: str | None,
    size: int,
) -> Page:
    """One page of `statement`'s rows, highest id (newest) first: those just older than the row
    `older_than` names, else those just newer than the row `newer_than` names, else the newest.

    The page's `next_cursor` leads to older rows and `previous_cursor` to newer ones (None where there
    are none). Each is one query along an index on the id. The statement must not be ordered or limited.
    """
    newer = decode_key(newer_than, (int,)) if older_than is None else None
    if newer is not None:
        found = db.session.scalars(statement.where(row_id > newer[0]).order_by(row_id).limit(size + 1)).all()
        rows = list(reversed(found[:size]))
        if rows:
            previous = encode_key([getattr(rows[0], row_id.key)]) if len(found) > size else None
            return Page(rows, encode_key([getattr(rows[-1], row_id.key)]), previous)
    older = decode_key(older_than, (int,))
    if older is not None:
        statement = statement.where(row_id < older[0])
    found = db.session.scalars(statement.order_by(row_id.desc()).limit(size + 1)).all()
    rows = list(found[:size])
    following = encode_key([getattr(rows[-1], row_id.key)]) if len(found) > size else None
    previous = encode_key([getattr(rows[0], row_id.key)]) if older is not None and rows else None
    return Page(rows, following, previous)
