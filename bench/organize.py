"""Organize through the real app: a social set moved to another group with all its posts, then back by Undo.

Moving a set takes a fixed number of statements however many posts its profiles hold (the posts
follow their profile through ON UPDATE CASCADE foreign keys), and its preview a fixed number of
queries: the same on the big database (5,000 posts) as on the small one (10).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial

from flask import Flask
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AccessGroup, Post, SocialProfile, SocialSet

from .dataset import Dataset
from .pages import (
    HTMX,
    WARM_UP_ROUNDS,
    Measurement,
    Sample,
    app_counter,
    count_matching,
    signed_in_client,
    statement_on,
    timed_request,
)

BOARD = "/settings/organize"
UNDO_ACTION = re.compile(rb'action="/settings/organize/undo/(\d+)"')
MESSAGE = re.compile(rb'role="(?:status|alert)">\s*([^<\s][^<]*)<')  # the first one with words in it
# What the organized set carries that the apply must remove in bulk (and Undo put back).
REMOVALS = {
    "campaign links": statement_on("DELETE FROM", "campaign_profiles"),
    "approvers": statement_on("DELETE FROM", "profile_approvers"),
}


@dataclass
class OrganizeMeasurement:
    """The organized set moved to the other group (preview, then apply) and back (Undo), by the owner."""

    set_name: str
    from_group: str
    to_group: str
    preview: Measurement
    apply: Measurement
    undo: Measurement
    moved_posts: set[int] = field(default_factory=set)  # the set's posts in the new group after each apply
    returned_posts: set[int] = field(default_factory=set)  # the set's posts in the old group after each Undo
    removals: dict[str, set[int]] = field(default_factory=dict)  # matching statements per apply, by REMOVALS name

    @property
    def steps(self) -> list[Measurement]:
        """Preview, apply and Undo, in the order a round runs them."""
        return [self.preview, self.apply, self.undo]


def _checked(sample: Sample, step: str) -> Sample:
    """`sample`, if it answered 200; a round cannot go on otherwise (the set would stay where it is)."""
    if sample.status != 200:
        found = MESSAGE.search(sample.body)
        said = found.group(1).decode().strip() if found else "no message shown"
        raise RuntimeError(f"organize {step} answered {sample.status}: {said}")
    return sample


def _set_version(body: bytes, set_id: int) -> int:
    """The version of the set as the board in `body` shows it (what the page stages moves with)."""
    found = re.search(rb'data-set-id="%d" data-version="(\d+)"' % set_id, body)
    if found is None:
        raise RuntimeError(f"the Organize board shows no social set {set_id}")
    return int(found.group(1))


def _undo_event(body: bytes) -> int:
    """The audit event id that the toast after an apply offers to undo."""
    found = UNDO_ACTION.search(body)
    if found is None:
        raise RuntimeError("the board after an apply offers no Undo")
    return int(found.group(1))


def _posts_in(app: Flask, set_id: int, group_id: int) -> int:
    """How many posts of the set's profiles are in `group_id`: one COUNT, in its own app context."""
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Post)
            .join(SocialProfile, SocialProfile.id == Post.social_profile_id)
            .where(SocialProfile.social_set_id == set_id, Post.access_group_id == group_id)
        )


def measure_organize(app: Flask, dataset: Dataset, rounds: int) -> OrganizeMeasurement:
    """Move the organized set to the other group and back `rounds` times after a warm-up, as the page does.

    Each round posts the preview and the apply (with htmx) of moving the set, counts the set's posts
    in the new group, then posts the toast's Undo, which puts everything back for the next round.
    Call it with no app context active, like `measure_pages`.
    """
    counter = app_counter(app)
    organized, target = dataset.organized, dataset.other_group_id
    with app.app_context():
        result = OrganizeMeasurement(
            set_name=db.session.get_one(SocialSet, organized.set_id).name,
            from_group=db.session.get_one(AccessGroup, organized.group_id).name,
            to_group=db.session.get_one(AccessGroup, target).name,
            preview=Measurement("preview", "owner"),
            apply=Measurement("apply", "owner"),
            undo=Measurement("undo", "owner"),
            removals={name: set() for name in REMOVALS},
        )
    client = signed_in_client(app, dataset.owner_email)
    version = _set_version(client.get(BOARD).get_data(), organized.set_id)
    with counter.listening():
        for round_number in range(WARM_UP_ROUNDS + rounds):
            moves = json.dumps([{"kind": "set", "id": organized.set_id, "to": target, "version": version}])
            post = partial(client.post, data={"moves": moves}, headers=HTMX)
            previewed = _checked(timed_request(counter, partial(post, f"{BOARD}/preview")), "preview")
            applied = _checked(timed_request(counter, partial(post, f"{BOARD}/apply")), "apply")
            result.moved_posts.add(_posts_in(app, organized.set_id, target))
            undo = partial(client.post, f"{BOARD}/undo/{_undo_event(applied.body)}", headers=HTMX)
            undone = _checked(timed_request(counter, undo), "undo")
            result.returned_posts.add(_posts_in(app, organized.set_id, organized.group_id))
            version = _set_version(undone.body, organized.set_id)
            for name, pattern in REMOVALS.items():
                result.removals[name].add(count_matching(pattern, applied.statements))
            if round_number >= WARM_UP_ROUNDS:
                for measurement, sample in zip(result.steps, (previewed, applied, undone)):
                    measurement.add(sample)
    return result
