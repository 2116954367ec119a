"""Moving media items through the real app: one UPDATE of media_items however many move, and its time."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from flask import Flask

from .dataset import Dataset
from .pages import (
    HTMX,
    WARM_UP_ROUNDS,
    Measurement,
    app_counter,
    count_matching,
    signed_in_client,
    statement_on,
    timed_request,
)

MOVED_ITEMS = 500
UPDATE_OF_MEDIA = statement_on("UPDATE", "media_items")


@dataclass
class MoveMeasurement:
    """The measured library's newest items moved to another group and back, by the owner."""

    items: int
    there: Measurement
    back: Measurement
    media_updates: set[int] = field(default_factory=set)  # UPDATE statements of media_items per request


def measure_moves(app: Flask, dataset: Dataset, rounds: int) -> MoveMeasurement:
    """Post the move dialog's form (with htmx) there and back `rounds` times after a warm-up, counting statements.

    Call it with no app context active, like `measure_pages`.
    """
    counter = app_counter(app)
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
                sample = timed_request(counter, send)
                result.media_updates.add(count_matching(UPDATE_OF_MEDIA, sample.statements))
                if round_number >= WARM_UP_ROUNDS:
                    leg.add(sample)
    return result
