"""Paging by key: cursors in and out, and pages in (timestamp, id) order without gaps or repeats."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import MediaItem
from webapp.paging import Page, decode_cursor, decode_key, encode_cursor, encode_key, keyset_page

from . import factories

START = datetime(2031, 6, 17, 9, 30, tzinfo=timezone.utc)


# --- cursors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", [START, START.replace(microsecond=123456),
                                   datetime(2031, 1, 15, 3, 30, tzinfo=timezone(timedelta(hours=-5)))])
def test_a_cursor_names_the_timestamp_and_id_it_was_made_from(stamp):
    cursor = encode_cursor(stamp, 42)
    assert decode_cursor(cursor) == (stamp, 42)
    assert decode_cursor(encode_cursor(stamp, 2**31 - 1)) == (stamp, 2**31 - 1)


@pytest.mark.parametrize("cursor", [
    None, "", "nonsense", "~", "~5", "2031-06-17T09:30:00+00:00~",
    "2031-06-17T09:30:00~5",  # no time zone
    "2031-13-01T00:00:00+00:00~1",  # no such month
    "2031-06-17T09:30:00+00:00~five",
    "2031-06-17T09:30:00+00:00~0", "2031-06-17T09:30:00+00:00~-3",
    "2031-06-17T09:30:00+00:00~2147483648",  # beyond any INTEGER id
])
def test_a_missing_or_malformed_cursor_names_nothing(cursor):
    assert decode_cursor(cursor) is None


# --- pages -------------------------------------------------------------------------------------------


@pytest.fixture
def items(app) -> list[MediaItem]:
    """Seven items a minute apart, two of them sharing a timestamp (their ids break the tie)."""
    group = factories.make_group(factories.make_account())
    made = [factories.make_media(group) for _ in range(7)]
    for minutes, item in enumerate(made):
        item.created_at = START + timedelta(minutes=minutes)
    made[4].created_at = made[3].created_at
    db.session.commit()
    return made


def all_pages(size: int, descending: bool) -> list[Page]:
    pages, cursor = [], None
    while True:
        page = keyset_page(select(MediaItem), MediaItem.created_at, MediaItem.id, cursor, size, descending)
        pages.append(page)
        if not page.has_next:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 10])
def test_pages_hold_every_row_once_in_order(items, size, descending):
    pages = all_pages(size, descending)
    expected = sorted(items, key=lambda item: (item.created_at, item.id), reverse=descending)
    assert [item.id for page in pages for item in page.rows] == [item.id for item in expected]
    assert all(len(page.rows) == size for page in pages[:-1]) and 0 < len(pages[-1].rows) <= size
    # A page ending exactly on the last row says there is no next page rather than sending an empty one.
    assert pages[-1].next_cursor is None and len(pages) == -(-len(items) // size)


def test_the_next_cursor_names_the_last_row_of_the_page(items):
    page = keyset_page(select(MediaItem), MediaItem.created_at, MediaItem.id, None, 3, descending=True)
    last = page.rows[-1]
    assert page.has_next and decode_cursor(page.next_cursor) == (last.created_at, last.id)


def test_a_malformed_cursor_gives_the_first_page(items):
    first = keyset_page(select(MediaItem), MediaItem.created_at, MediaItem.id, None, 3)
    again = keyset_page(select(MediaItem), MediaItem.created_at, MediaItem.id, "2031-06-17T09:30:00~1", 3)
    assert [item.id for item in again.rows] == [item.id for item in first.rows]
    assert again.next_cursor == first.next_cursor


def test_a_cursor_past_every_row_gives_an_empty_last_page(items):
    past_all = encode_cursor(START - timedelta(days=1), 1)
    page = keyset_page(select(MediaItem), MediaItem.created_at, MediaItem.id, past_all, 3, descending=True)
    assert page == Page([], None) and not page.has_next


def test_the_page_keeps_the_statements_own_conditions(items):
    statement = select(MediaItem).where(MediaItem.id != items[1].id)
    page = keyset_page(statement, MediaItem.created_at, MediaItem.id, encode_cursor(items[0].created_at, items[0].id),
                       10)
    assert [item.id for item in page.rows] == [item.id for item in items[2:]]


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**62])
def test_a_key_cursor_beyond_any_integer_id_names_nothing(value):
    """PostgreSQL refuses to compare an INTEGER id with a larger number: such a cursor is the first page."""
    assert decode_key(encode_key([value]), (int,)) is None
    assert decode_key(encode_key([2**31 - 1]), (int,)) == (2**31 - 1,)
