"""Claims on rows that workers take in turns: taken once, released once their lease ran out, and
settled only by the worker that still holds them; on both kinds of lease the app uses."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import false, select, true

from webapp import leases, mail, publishing
from webapp.extensions import db
from webapp.models import Mail, MailStatus, PostStatus, utcnow

from . import factories
from .concurrency import race


@dataclass
class Queue:
    """A table workers take rows from: its lease, a way to add a row, and what settling a claim
    writes to put the row back in the queue."""

    lease: leases.Lease
    add_row: Callable[[], int]
    back_in_queue: dict[str, Any]


def add_post() -> int:
    social_set = factories.make_social_set(factories.default_group(factories.make_account()))
    return factories.make_post(factories.make_profile(social_set), PostStatus.SCHEDULED, in_days=-1).id


def add_mail() -> int:
    queued = mail.queue_mail("ben@example.test", "Hello", "Hello Ben.")
    db.session.flush()
    return queued.id


@pytest.fixture(params=["posts", "mail"])
def queue(app, request) -> Queue:
    """Posts carry a claim token and the time it was taken; mail a `sending` status and the time
    its lease runs out."""
    if request.param == "posts":
        return Queue(publishing.LEASE, add_post, {})
    return Queue(mail.sending_lease(), add_mail, {"status": MailStatus.QUEUED.value})


def held_and_attempts(lease: leases.Lease, row_id: int) -> tuple[bool, int]:
    """Whether a worker holds the row, and how many claims it has had, as the database has it now."""
    free, attempts = db.session.execute(select(leases.unclaimed(lease), lease.attempts).where(lease.id == row_id)).one()
    return not free, attempts


def test_of_workers_racing_for_a_row_exactly_one_claims_it(app, queue):
    """Four workers claim the same row at the same moment: one gets the claim, three get None."""
    row_id = queue.add_row()
    db.session.commit()
    now = utcnow()

    claims = race(app, lambda: leases.claim(queue.lease, row_id, true(), now), workers=4)

    assert sum(claim is not None for claim in claims) == 1
    assert held_and_attempts(queue.lease, row_id) == (True, 1)


def test_a_row_that_is_not_available_is_not_claimed(app, queue):
    """The caller's condition (what is due) is part of the claim."""
    row_id = queue.add_row()
    db.session.commit()

    assert leases.claim(queue.lease, row_id, false(), utcnow()) is None
    assert held_and_attempts(queue.lease, row_id) == (False, 0)


def test_a_claim_holds_until_its_lease_runs_out_and_is_then_released(app, queue):
    """Until the lease runs out no one else claims the row; then the next run finds it and frees it."""
    lease = queue.lease
    row_id = queue.add_row()
    db.session.commit()
    start = utcnow()
    stopped = leases.claim(lease, row_id, true(), start)
    assert stopped is not None

    almost = start + lease.duration - timedelta(seconds=1)
    assert leases.claim(lease, row_id, true(), almost) is None, "still held"
    assert leases.expired(lease, almost) == []

    ran_out = start + lease.duration
    assert leases.expired(lease, ran_out) == [(stopped, 1)]
    assert leases.settle(lease, stopped, **queue.back_in_queue)
    db.session.commit()
    assert held_and_attempts(lease, row_id) == (False, 1)
    assert leases.expired(lease, ran_out + timedelta(days=1)) == []

    assert leases.claim(lease, row_id, true(), ran_out) is not None
    assert held_and_attempts(lease, row_id) == (True, 2)


def test_a_worker_whose_lease_ran_out_cannot_settle(app, queue):
    """Once its claim was released, and again once another worker took the row, a slow worker's
    settle writes nothing; the worker holding the row settles it."""
    lease = queue.lease
    row_id = queue.add_row()
    db.session.commit()
    start = utcnow()
    slow = leases.claim(lease, row_id, true(), start)
    ran_out = start + lease.duration
    [(abandoned, _)] = leases.expired(lease, ran_out)
    assert leases.settle(lease, abandoned, **queue.back_in_queue)
    db.session.commit()

    assert not leases.settle(lease, slow, **queue.back_in_queue), "released"
    taking_over = leases.claim(lease, row_id, true(), ran_out)
    assert not leases.settle(lease, slow, **queue.back_in_queue), "taken over"
    db.session.commit()
    assert held_and_attempts(lease, row_id) == (True, 2)

    assert leases.settle(lease, taking_over, **queue.back_in_queue)
    db.session.commit()
    assert held_and_attempts(lease, row_id) == (False, 2)


def test_settling_a_claim_marked_by_status_must_move_the_status_on(app):
    """Without a new status the row would stay taken for good."""
    lease = mail.sending_lease()
    with pytest.raises(ValueError, match="status"):
        leases.settle(lease, leases.Claim(1, None, utcnow()), last_error="Stopped.")


@pytest.mark.parametrize("columns", [
    {},
    {"token": Mail.subject, "status": Mail.status, "taken_status": "sending", "expires_at": Mail.next_attempt_at},
    {"status": Mail.status, "expires_at": Mail.next_attempt_at},
    {"status": Mail.status, "taken_status": "sending"},
    {"status": Mail.status, "taken_status": "sending", "claimed_at": Mail.sent_at, "expires_at": Mail.next_attempt_at},
])
def test_a_lease_marks_claims_one_way_and_stamps_them_one_way(columns):
    """A token or a status, and the time taken or the time it runs out: exactly one of each."""
    with pytest.raises(ValueError):
        leases.Lease(id=Mail.id, attempts=Mail.attempts, duration=timedelta(minutes=10), **columns)


def test_backoff_doubles_from_the_first_delay_up_to_the_longest():
    """After the first failed try `first`, then twice as long each time, never more than `longest`."""
    delays = [leases.backoff(attempts, timedelta(minutes=1), timedelta(hours=1)) for attempts in range(1, 10)]
    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60, 60, 60)]
