"""Every route answers every kind of visitor as the access matrix says, and none is forgotten."""
from __future__ import annotations

import pytest

from webapp.policy import is_public

from . import factories
from .access_matrix import PUBLIC_ENDPOINTS, SIGN_IN, World, load_routes

ROUTES = load_routes()

CASES = [
    pytest.param(route, visitor, target, expected, id=f"{route.method} {route.endpoint} {target} {visitor}")
    for route in ROUTES
    for visitor, target, expected in route.cases()
]


@pytest.mark.parametrize("route, visitor, target, expected", CASES)
def test_route_answers_each_visitor(client, auth, route, visitor, target, expected):
    """The status for this visitor and target is exactly the one the matrix expects."""
    world = World.build()
    if visitor != "anonymous":
        auth.login(world.users[visitor])
    response = client.open(
        route.url(world, target), method=route.method, data=route.form(world, target), headers=route.headers
    )
    is_htmx = route.headers.get("HX-Request") == "true"
    if expected == SIGN_IN and is_htmx:
        # htmx is sent to sign in with HX-Redirect, never a login form swapped into the page.
        assert response.status_code == 401
        assert "/login" in response.headers["HX-Redirect"]
        return
    assert response.status_code == expected, (
        f"{visitor} got {response.status_code} from {route.method} {route.endpoint} ({target})"
    )
    if expected == SIGN_IN and visitor == "anonymous":
        assert "/login" in response.location


def test_every_endpoint_is_public_or_in_the_matrix(app):
    """Walk the URL map: an endpoint is either marked public or covered by the access matrix."""
    covered = {(route.endpoint, route.method) for route in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if is_public(view):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes neither public nor in the access matrix: " + ", ".join(missing)


def test_public_endpoints_are_exactly_the_known_ones(app):
    """Marking a view public is a decision: the list of public views is written down."""
    public = {endpoint for endpoint, view in app.view_functions.items() if is_public(view)}
    assert public == PUBLIC_ENDPOINTS


def test_a_view_that_never_asks_the_policy_cannot_answer(app, client, auth):
    """The after-request gate withholds the response of a view that skipped the policy."""
    from webapp.policy import PolicyNotAsked

    @app.get("/forgetful")
    def forgetful():
        return "tenant secrets"

    account = factories.make_account()
    from webapp.extensions import db
    db.session.commit()
    auth.login(factories.owner_of(account))
    with pytest.raises(PolicyNotAsked):
        client.get("/forgetful")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/forgetful")
    assert response.status_code == 500
    assert b"tenant secrets" not in response.data
