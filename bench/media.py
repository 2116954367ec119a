"""Moving media items through the real app: one UPDATE of media_items however many move, and its time."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import partial

from flask import Flask, has_app_context

from webapp.extensions import db

from .dataset import Dataset
from .pages import Measurement, QueryCounter, signed_in_client, timed_request

MOVED_ITEMS = 500
WARM_UP_ROUNDS = 1
HTMX = {"HX-Request": "true"}  # the move dialog posts with htmx
UPDATE_OF_MEDIA = re.compile(r"\s*UPDATE\s+\"?media_items\"?\s", re.IGNORECASE)


@dataclass
class MoveMeasurement:
    """The measured library's newest items moved to another group and back, by the owner."""

    items: int
    there: Measurement
    back: Measurement
    media_updates: set[int] = field(default_factory=set)  # UPDATE statements of media_items per request

    def kinds(self) -> Counter[str]:
        """The statements of the last move there, by their first word (SELECT, UPDATE, ...)."""
        return Counter(statement.split(None, 1)[0].upper() for statement in self.there.statements)


def _media_updates(statements: list[str]) -> int:
    """How many of `statements` update media_items."""
    return sum(1 for statement in statements if UPDATE_OF_MEDIA.match(statement))


def measure_moves(app: Flask, dataset: Dataset, rounds: int) -> MoveMeasurement:
    """Post the move dialog's form there and back `rounds` times (after a warm-up), counting statements.

    Call it with no app context active, like `measure_pages`: each request gets its own session.
    """
    if has_app_context():
        raise RuntimeError("measure moves outside an app context")
    with app.app_context():
        counter = QueryCounter(db.engine)
    client = signed_in_client(app, dataset.owner_email)
    item_ids = dataset.library_ids[:MOVED_ITEMS]
    result = MoveMeasurement(
        items=len(item_ids),
        there=Measurement(f"move {len(item_ids)} media items", "owner"),
        back=Measurement("move them back", "owner"),
    )
    legs = [(dataset.bench_group_id, dataset.other_group_id, result.there),
            (dataset.other_group_id, dataset.bench_group_id, result.back)]
    with counter.listening():
        for round_number in range(WARM_UP_ROUNDS + rounds):
            for source, target, leg in legs:
                send = partial(client.post, f"/g/{source}/media/move",
                               data={"item": item_ids, "target": target}, headers=HTMX)
                status, millis, statements = timed_request(counter, send)
                result.media_updates.add(_media_updates(statements))
                if round_number >= WARM_UP_ROUNDS:
                    leg.add(status, millis, statements)
    return result
