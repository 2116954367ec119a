"""The rights as people see them: labels, the areas they are grouped in, and the client grants.

`policy.RIGHTS` is the list the policy checks; this module only names and groups it for screens
(a member's rights, a user group's rights, the "Why?" explainer, the access review).
"""
from __future__ import annotations

from dataclasses import dataclass

from .policy import RIGHTS, ROLE_BASELINE

RIGHT_LABELS: dict[str, str] = {
    "posts.view": "View posts",
    "posts.comment": "Comment on posts",
    "posts.create": "Create posts",
    "posts.edit": "Edit posts",
    "posts.publish": "Publish and schedule posts",
    "posts.approve": "Approve posts",
    "media.view": "View the media library",
    "media.upload": "Upload media",
    "media.move": "Move media between groups",
    "media.delete": "Delete media",
    "profiles.connect": "Connect social profiles",
    "profiles.manage": "Manage social profiles",
    "campaigns.manage": "Manage campaigns",
    "inbox.manage": "Manage the social inbox",
    "analytics.view": "View analytics",
    "group.users": "Manage an access group's users",
    "team.invite": "Invite people to the team",
    "organize": "Organize profiles and sets between groups",
}

RIGHT_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Posts", ("posts.view", "posts.comment", "posts.create", "posts.edit", "posts.publish", "posts.approve")),
    ("Media", ("media.view", "media.upload", "media.move", "media.delete")),
    ("Social profiles", ("profiles.connect", "profiles.manage", "organize")),
    ("Campaigns, inbox and analytics", ("campaigns.manage", "inbox.manage", "analytics.view")),
    ("People", ("group.users", "team.invite")),
)

assert sorted(RIGHT_LABELS) == sorted(RIGHTS), "every right needs a label"
assert sorted(r for _, rights in RIGHT_AREAS for r in rights) == sorted(RIGHTS), "every right needs an area"


@dataclass(frozen=True)
class ClientGrant:
    """A named bundle of rights an owner or admin may give a client (the help center's terms)."""

    key: str
    label: str
    hint: str
    rights: frozenset[str]


CLIENT_GRANTS: tuple[ClientGrant, ...] = (
    ClientGrant("publish", "Publish", "Create, edit and schedule posts. Takes a team seat.",
                frozenset({"posts.create", "posts.edit", "posts.publish"})),
    ClientGrant("inbox", "Social inbox", "Answer messages and comments on their profiles.",
                frozenset({"inbox.manage"})),
    ClientGrant("analytics", "Analytics", "See reports on their profiles' performance.",
                frozenset({"analytics.view"})),
)
CLIENT_GRANT_RIGHTS: frozenset[str] = frozenset().union(*(grant.rights for grant in CLIENT_GRANTS))

# A client holding any of these (own or inherited from a user group) takes a team seat.
SEAT_RIGHTS: frozenset[str] = frozenset({"posts.create", "posts.edit", "posts.publish"})


def label(right: str) -> str:
    return RIGHT_LABELS.get(right, right)


def areas(rights: set[str] | frozenset[str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The areas with their (right, label) pairs, limited to `rights` when given; empty areas dropped."""
    grouped = []
    for area, names in RIGHT_AREAS:
        chosen = [(name, RIGHT_LABELS[name]) for name in names if rights is None or name in rights]
        if chosen:
            grouped.append((area, chosen))
    return grouped


def extra_rights_for(role: str) -> frozenset[str]:
    """Rights a member of `role` can be given on top of the role's baseline."""
    return frozenset(RIGHTS) - ROLE_BASELINE.get(role, frozenset())
