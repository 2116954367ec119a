"""The access-matrix harness: every route × every kind of visitor × own/foreign object → status.

Each feature registers its routes in a module of `tests/routes/`: how to build the URL for a
target and the status each visitor should get, plus any objects its routes need in the world
(`register_builder`). `test_access_matrix.py` runs the whole table, and fails on any endpoint in the
app's URL map that is neither registered nor marked public.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import inspect

from webapp.extensions import db
from webapp.models import AccessGroup, Role, User

from . import factories

VISITORS = ("anonymous", "other_account_owner", "client", "manager", "admin", "owner")
# own: a group of the account the visitors work in, on everyone's Users tab;
# unassigned: a group of that account on nobody's Users tab (only the owner enters it);
# foreign: a group of another account; none: a route that takes no object.
TARGETS = ("own", "unassigned", "foreign", "none")

SIGN_IN = 303  # anonymous visitors are sent to sign in


@dataclass
class World:
    """One agency with one member of each role, and another agency next door."""

    users: dict[str, User]
    groups: dict[str, AccessGroup]
    objects: dict[str, Any] = field(default_factory=dict)  # what feature builders added

    @classmethod
    def build(cls) -> "World":
        account = factories.make_account("Northstar")
        own = factories.default_group(account)
        unassigned = factories.make_group(account, "Unassigned")
        other_account = factories.make_account("Rival")
        users = {
            "owner": factories.owner_of(account),
            "admin": factories.make_member(account, Role.ADMIN, groups=[own]),
            "manager": factories.make_member(account, Role.MANAGER, groups=[own]),
            "client": factories.make_member(account, Role.CLIENT, groups=[own]),
            "other_account_owner": factories.owner_of(other_account),
        }
        factories.add_to_group(users["owner"], own)
        world = cls(users=users, groups={"own": own, "unassigned": unassigned,
                                         "foreign": factories.default_group(other_account)})
        for group in world.groups.values():
            social_set = factories.make_social_set(group)
            factories.make_post(factories.make_profile(social_set))
            factories.make_media(group)
        for build in BUILDERS:
            build(world)
        db.session.commit()
        return world

    def rebound(self) -> "World":
        """The same world with its rows taken from the current session (after a snapshot restore)."""
        return World(users=_rebind(self.users), groups=_rebind(self.groups), objects=_rebind(self.objects))


def _rebind(value: Any) -> Any:
    """`value` with every model instance in it replaced by the current session's copy (loaded when read)."""
    if isinstance(value, dict):
        return {key: _rebind(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_rebind(item) for item in value)
    if inspect(value, raiseerr=False) is not None:
        return db.session.merge(value, load=False)
    return value


@dataclass
class RouteCase:
    """One endpoint and method, the URL to call for a target, and the status each visitor gets."""

    endpoint: str
    method: str
    url: Callable[[World, str], str]
    expected: dict[str, dict[str, int]]
    data: dict | Callable[[World, str], dict] = field(default_factory=dict)  # a form, or how to build one
    headers: dict = field(default_factory=dict)

    def form(self, world: World, target: str) -> dict:
        """The form to send for a target: fixed, or built from the world's objects."""
        return self.data(world, target) if callable(self.data) else self.data

    def cases(self):
        for target, by_visitor in self.expected.items():
            for visitor in VISITORS:
                yield visitor, target, by_visitor[visitor]


ROUTES: list[RouteCase] = []
BUILDERS: list[Callable[[World], None]] = []
PUBLIC_ENDPOINTS = {"static", "auth.index", "auth.setup", "auth.login",
                    "invitations.show", "invitations.accept", "invitations.sign_out",
                    # Review links: the emailed token (then its cookie) is the credential each view checks.
                    "review.open_link", "review.page", "review.media", "review.decide",
                    # Undo on the review page: the same review cookie is the credential.
                    "review.undo",
                    # The sandbox OAuth provider: its OAuth checks (client, code, token) are its policy.
                    "sandbox.authorize", "sandbox.decide", "sandbox.token", "sandbox.userinfo",
                    "sandbox.avatar",
                    # Signed media links for networks that fetch media by address: the HMAC is the credential.
                    "media.signed_file",
                    # Probes for load balancers: they carry no session and show nothing of any tenant.
                    "health.alive", "health.ready",
                    # An agency's logo and accent colour: not secret (every email it sends shows them),
                    # served for the current logo and colour only.
                    "brand.logo", "brand.accent",
                    # Getting back in without a password: asking for a link says the same for any address,
                    # and the emailed token (then its hash in the session) is the credential each view checks.
                    "passwords.forgot", "passwords.open_link", "passwords.reset"}


def register(route: RouteCase) -> RouteCase:
    """Add a route to the matrix."""
    ROUTES.append(route)
    return route


def register_builder(build: Callable[[World], None]) -> Callable[[World], None]:
    """Add objects a feature's routes need to every world, e.g. `world.objects["invitation"]`."""
    BUILDERS.append(build)
    return build


def load_routes() -> list[RouteCase]:
    """Import every module in tests/routes/, each registering its feature's routes."""
    from . import routes

    for module in pkgutil.iter_modules(routes.__path__):
        importlib.import_module(f"{routes.__name__}.{module.name}")
    return ROUTES


def group_page(endpoint_path: str) -> Callable[[World, str], str]:
    """A URL under /g/<group>/ for the target group."""
    return lambda world, target: f"/g/{world.groups[target].id}/{endpoint_path}"


def fixed(path: str) -> Callable[[World, str], str]:
    return lambda world, target: path


def members_enter(ok: int) -> dict[str, dict[str, int]]:
    """Statuses for a page any visitor who may enter the group may see."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": ok, "manager": ok,
                "admin": ok, "owner": ok},
        "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 404,
                       "manager": 404, "admin": 404, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 404, "manager": 404,
                    "admin": 404, "owner": 404},
    }


def any_signed_in(ok: int) -> dict[str, dict[str, int]]:
    return {"none": {visitor: (SIGN_IN if visitor == "anonymous" else ok) for visitor in VISITORS}}


def account_settings(ok: int, admin: int | None = None) -> dict[str, dict[str, int]]:
    """A page of the account the visitor works in, for its owner and admins; the owner next door
    gets their own account's page."""
    return {"none": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                     "admin": ok if admin is None else admin, "owner": ok}}


def account_object(ok: int, owner_only: bool = False, beyond_admin: int | None = None) -> dict[str, dict[str, int]]:
    """Something of the visitors' account (a member, an invitation, a user group) that its owner and
    admins manage (the owner alone, with `owner_only`), or the same of the account next door, not
    found from the other side (unless refused before it is looked up).

    With `beyond_admin`, also the "unassigned" target: such an object whose access reaches the group
    only the owner enters, which the admin gets `beyond_admin` for (DESIGN.md: an admin gives nobody
    entry to, or rights in, a group the admin cannot enter)."""
    admin = 403 if owner_only else ok
    cases = {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": admin, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                    "admin": 403 if owner_only else 404, "owner": 404},
    }
    if beyond_admin is not None:
        cases["unassigned"] = {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                               "admin": beyond_admin, "owner": ok}
    return cases
