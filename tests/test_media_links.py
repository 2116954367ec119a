"""Signed media links: one item, an hour, at ROSTER_URL; anything else opens nothing."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from webapp import media_links
from webapp.extensions import db
from webapp.models import utcnow
from webapp.storage import media_storage

from . import factories

BYTES = b"\x89PNG\r\n\x1a\n" + b"picture" * 50


@pytest.fixture
def group(app):
    account = factories.make_account("Northstar")
    made = factories.make_group(account, "Maya Lopez")
    db.session.commit()
    return made


def _item(group):
    item = factories.make_media(group)
    item.storage_key = media_storage().save(BYTES, ".png")
    item.byte_size = len(BYTES)
    db.session.commit()
    return item


def _path(url: str) -> str:
    return urlsplit(url).path


def test_a_signed_link_serves_the_item_to_anyone_for_an_hour(app, client, group):
    item = _item(group)
    url = media_links.signed_media_url(item)
    assert url.startswith("http://roster.test/media/shared/")
    answer = client.get(_path(url))
    assert answer.status_code == 200
    assert answer.data == BYTES
    assert answer.mimetype == "image/png"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_link_is_made_at_roster_url_whatever_host_the_request_named(app, group):
    item = _item(group)
    with app.test_request_context("/", headers={"Host": "attacker.example"}):
        assert urlsplit(media_links.signed_media_url(item)).netloc == "roster.test"


def test_an_expired_link_is_gone(app, client, group):
    item = _item(group)
    url = media_links.signed_media_url(item, now=utcnow() - media_links.LIFETIME - timedelta(seconds=1))
    assert client.get(_path(url)).status_code == 410


def test_a_link_opens_only_its_own_item(app, client, group):
    first, second = _item(group), _item(group)
    url = _path(media_links.signed_media_url(first))
    _, _, _, item_id, expires, signature = url.split("/")
    assert client.get(f"/media/shared/{second.id}/{expires}/{signature}").status_code == 404
    later = int(expires) + 3600
    assert client.get(f"/media/shared/{item_id}/{later}/{signature}").status_code == 404
    assert client.get(f"/media/shared/{item_id}/{expires}/{signature[:-2]}xx").status_code == 404


def test_a_deleted_item_is_not_served(app, client, group):
    item = _item(group)
    url = _path(media_links.signed_media_url(item))
    db.session.delete(item)
    db.session.commit()
    assert client.get(url).status_code == 404


def test_a_new_secret_key_ends_every_link(app, client, group):
    item = _item(group)
    url = _path(media_links.signed_media_url(item))
    app.config["SECRET_KEY"] = "another secret"
    assert client.get(url).status_code == 404
