"""Team seats under concurrent requests: of ten people racing for the last free seat, one gets it.

Every racer runs in its own thread and app context (its own session and connection), on data
committed beforehand, and all are released at once by a barrier.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from webapp import invitations, members, plans, user_groups
from webapp.extensions import db
from webapp.models import Account, Invitation, Role, User, UserGroup

from . import factories

RACERS = 10
TOOK_THE_SEAT = "took the seat"
SEAT_MESSAGE = "Your Starter plan includes 2 team seats. Upgrade the plan to add more."
REFUSALS = (plans.PlanLimitReached, invitations.InvitationError, members.MemberError, user_groups.UserGroupError)


@pytest.fixture
def shop(app):
    """A Starter account (2 seats) whose owner holds one: exactly one seat is free."""
    account = factories.make_account("Shop", plan="starter")
    owner = factories.owner_of(account)
    db.session.commit()
    return {"account_id": account.id, "owner_id": owner.id}


def race(app, prepare: Callable[[int], Callable[[], object]]) -> list[str]:
    """Each racer loads what it needs (`prepare(number)` returns its attempt), waits at the barrier,
    then tries: commit on success, roll back on refusal. Returns each racer's outcome: that it took
    the seat, the refusal's message, or any other error as it was raised."""
    barrier = threading.Barrier(RACERS)
    outcomes = [""] * RACERS

    def racer(number: int) -> None:
        with app.app_context():
            try:
                attempt = prepare(number)
                barrier.wait(timeout=30)
                attempt()
                db.session.commit()
                outcomes[number] = TOOK_THE_SEAT
            except REFUSALS as refusal:
                db.session.rollback()
                outcomes[number] = str(refusal)
            except Exception as error:  # a database error: kept for the assertion to show
                db.session.rollback()
                outcomes[number] = repr(error)

    threads = [threading.Thread(target=racer, args=(number,)) for number in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return outcomes


def assert_one_took_the_last_seat(outcomes: list[str], refusal: str) -> None:
    assert outcomes.count(TOOK_THE_SEAT) == 1, outcomes
    losers = [outcome for outcome in outcomes if outcome != TOOK_THE_SEAT]
    assert all(outcome.startswith(refusal) for outcome in losers), losers


def seats(shop) -> int:
    """Seats taken, and held by pending invitations, once the race is over."""
    account = db.session.get_one(Account, shop["account_id"])
    return plans.seats_used(account) + invitations.pending_seats(account)


def clients(shop) -> list[int]:
    """RACERS clients of the shop (clients take no seat), committed; their user ids."""
    account = db.session.get_one(Account, shop["account_id"])
    ids = [factories.make_member(account, Role.CLIENT).id for _ in range(RACERS)]
    db.session.commit()
    return ids


def loaded(shop) -> tuple[Account, User]:
    """The shop's account and owner in the racer's own session."""
    return db.session.get_one(Account, shop["account_id"]), db.session.get_one(User, shop["owner_id"])


def test_invitations_race_for_the_last_seat(app, shop):
    def prepare(number: int):
        account, owner = loaded(shop)
        return lambda: invitations.invite(account, owner, f"manager{number}@example.test", "manager", [])

    assert_one_took_the_last_seat(race(app, prepare), SEAT_MESSAGE)
    assert seats(shop) == 2


def test_acceptances_race_for_the_last_seat(app, shop):
    """Invitations sent on a bigger plan; after the move to Starter, one seat is left for ten of them."""
    account, owner = loaded(shop)
    account.plan_code = "agency"
    db.session.commit()
    sent = [invitations.invite(account, owner, f"manager{number}@example.test", "manager", []).invitation
            for number in range(RACERS)]
    invited = [(invitation.id, factories.make_user(email=invitation.email).id) for invitation in sent]
    account.plan_code = "starter"
    db.session.commit()

    def prepare(number: int):
        invitation_id, user_id = invited[number]
        invitation, user = db.session.get_one(Invitation, invitation_id), db.session.get_one(User, user_id)
        return lambda: invitations.accept_as_member(invitation, user)

    assert_one_took_the_last_seat(race(app, prepare), "Shop has no free team seat for you right now.")
    assert plans.seats_used(db.session.get_one(Account, shop["account_id"])) == 2


def test_publish_grants_race_for_the_last_seat(app, shop):
    client_ids = clients(shop)

    def prepare(number: int):
        account, owner = loaded(shop)
        membership = members.membership_of(account, client_ids[number])
        publish = members.rights_for_grants(["publish"])
        return lambda: members.set_rights(account, membership, publish, owner, Role.OWNER.value)

    assert_one_took_the_last_seat(race(app, prepare), SEAT_MESSAGE)
    assert seats(shop) == 2


def test_role_changes_race_for_the_last_seat(app, shop):
    client_ids = clients(shop)

    def prepare(number: int):
        account, owner = loaded(shop)
        membership = members.membership_of(account, client_ids[number])
        return lambda: members.change_role(account, membership, Role.MANAGER.value, owner, Role.OWNER.value)

    assert_one_took_the_last_seat(race(app, prepare), SEAT_MESSAGE)
    assert seats(shop) == 2


def test_clients_added_to_publishing_user_groups_race_for_the_last_seat(app, shop):
    """Each client joins a user group of its own, so no shared group row puts them in line."""
    client_ids = clients(shop)
    account = db.session.get_one(Account, shop["account_id"])
    group_ids = [factories.make_user_group(account, rights=["posts.publish"]).id for _ in range(RACERS)]
    db.session.commit()

    def prepare(number: int):
        account, owner = loaded(shop)
        user_group = db.session.get_one(UserGroup, group_ids[number])
        return lambda: user_groups.add_member(account, user_group, client_ids[number], None, owner)

    assert_one_took_the_last_seat(race(app, prepare), SEAT_MESSAGE)
    assert seats(shop) == 2


def test_user_groups_given_publish_race_for_the_last_seat(app, shop):
    """Ten user groups, each with one client: giving each Publish would seat ten clients."""
    account = db.session.get_one(Account, shop["account_id"])
    group_ids = [factories.make_user_group(account, rights=["media.view"], members=[db.session.get_one(User, user_id)]).id
                 for user_id in clients(shop)]
    db.session.commit()

    def prepare(number: int):
        account, owner = loaded(shop)
        user_group = db.session.get_one(UserGroup, group_ids[number])
        return lambda: user_groups.set_rights(account, user_group, ["media.view", "posts.publish"], owner)

    assert_one_took_the_last_seat(race(app, prepare), SEAT_MESSAGE)
    assert seats(shop) == 2
