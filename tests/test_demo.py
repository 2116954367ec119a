"""The demo agency shows the rights model at work: a user group and a member's own grant."""
from __future__ import annotations

from sqlalchemy import select

from webapp import policy
from webapp.demo import DEMO_DOMAIN, seed_demo
from webapp.extensions import db
from webapp.models import AccessGroup, User


def _user(local: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local}@{DEMO_DOMAIN}"))


def _group(name: str) -> AccessGroup:
    return db.session.scalar(select(AccessGroup).where(AccessGroup.name == name))


def test_creators_use_their_media_through_the_creators_user_group(app):
    seed_demo(with_files=False)
    db.session.commit()
    grounds = policy.load_grounds([_user("maya").id, _user("jonah").id])

    maya = policy.explain(grounds[_user("maya").id], "media.upload", _group("Maya Lopez"))
    assert maya.allowed
    assert [reason.kind for reason in maya.right] == ["user_group"]
    analytics = policy.explain(grounds[_user("maya").id], "analytics.view", _group("Maya Lopez"))
    assert analytics.allowed and [reason.kind for reason in analytics.right] == ["own"]

    jonah = policy.explain(grounds[_user("jonah").id], "analytics.view", _group("Jonah Reed"))
    assert not jonah.allowed and jonah.right == ()
    # A creator still enters only her own group.
    assert not policy.explain(grounds[_user("jonah").id], policy.ENTER, _group("Maya Lopez")).allowed
