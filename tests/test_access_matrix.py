"""Every route answers every kind of visitor as the access matrix says, and none is forgotten."""
from __future__ import annotations

import shutil

import pytest

from webapp.policy import is_public

from . import factories
from .access_matrix import PUBLIC_ENDPOINTS, SIGN_IN, World, load_routes
from .conftest import RowSnapshot

ROUTES = load_routes()

CASES = [
    pytest.param(route, visitor, target, expected, id=f"{route.method} {route.endpoint} {target} {visitor}")
    for route in ROUTES
    for visitor, target, expected in route.cases()
]


@pytest.fixture(scope="module")
def built_world(tmp_path_factory) -> dict:
    """The world, its rows and its stored media, built by the first case and kept for the others."""
    return {"media": tmp_path_factory.mktemp("matrix-media")}


@pytest.fixture
def world(app, built_world) -> World:
    """A fresh copy of the world for each case: its rows and files put back as they were built."""
    app.config["MEDIA_ROOT"] = str(built_world["media"] / "live")
    if "world" not in built_world:
        built_world["world"] = World.build()
        built_world["rows"] = RowSnapshot()
        shutil.copytree(built_world["media"] / "live", built_world["media"] / "built")
        return built_world["world"]
    built_world["rows"].restore()
    shutil.copytree(built_world["media"] / "built", built_world["media"] / "live", dirs_exist_ok=True)
    return built_world["world"].rebound()


@pytest.mark.parametrize("route, visitor, target, expected", CASES)
def test_route_answers_each_visitor(client, auth, world, route, visitor, target, expected):
    """The status for this visitor and target is exactly the one the matrix expects."""
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


@pytest.mark.fresh_app
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
