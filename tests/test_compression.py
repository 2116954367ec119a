"""Pages, styles, scripts, JSON and CSV go out compressed when the browser accepts it; media never."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from webapp.models import Role

from . import factories
from .test_media import image_bytes, items_of, upload

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"
GZIP = {"Accept-Encoding": "gzip"}
BROTLI_OR_GZIP = {"Accept-Encoding": "gzip, deflate, br"}
CSRF_VALUE = re.compile(r'(csrf[-_]token"?\s*(?:value|content)?[=:]\s*)"[^"]*"', re.IGNORECASE)


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    assert encoding is None, encoding
    return body


def without_tokens(page: bytes) -> str:
    """A page with its per-request CSRF tokens blanked, to compare two renderings of it."""
    return CSRF_VALUE.sub(r'\1""', page.decode())


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    group = factories.default_group(account)
    owner = factories.owner_of(account)
    factories.add_to_group(owner, group)
    factories.make_member(account, Role.MANAGER, groups=[group], name="Sam")
    return {"account": account, "group": group, "owner": owner}


def test_a_page_is_compressed_and_decompresses_to_the_same_page(agency, auth, client):
    auth.login(agency["owner"])
    url = f"/g/{agency['group'].id}/"
    plain = client.get(url)
    zipped = client.get(url, headers=GZIP)
    squeezed = client.get(url, headers=BROTLI_OR_GZIP)

    assert plain.status_code == zipped.status_code == squeezed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert (zipped.headers["Content-Encoding"], squeezed.headers["Content-Encoding"]) == ("gzip", "br")
    for response in (plain, zipped, squeezed):
        assert "Accept-Encoding" in response.headers["Vary"]
    assert without_tokens(decoded(zipped)) == without_tokens(decoded(squeezed)) == without_tokens(plain.get_data())
    assert len(zipped.get_data()) < len(plain.get_data()) / 2
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data())


@pytest.mark.parametrize("name", ["app.css", "app.js", "vendor/htmx.min.js", "css/calendar.css", "js/calendar.js"])
def test_styles_and_scripts_are_compressed_and_still_revalidate(client, name):
    """Every static file, an area's sheet and modules included, is asked for again (no-cache): a changed one is
    fetched, an unchanged one answers 304."""
    first = client.get(f"/static/{name}", headers=BROTLI_OR_GZIP)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "br"
    assert first.cache_control.no_cache
    assert decoded(first) == (STATIC / name).read_bytes()
    again = client.get(f"/static/{name}", headers={**BROTLI_OR_GZIP, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    gzipped = client.get(f"/static/{name}", headers=GZIP)
    assert gzipped.headers["Content-Encoding"] == "gzip" and decoded(gzipped) == (STATIC / name).read_bytes()


def test_json_is_compressed_but_tiny_answers_are_not(client):
    """A probe's few bytes are not worth compressing; the threshold is COMPRESS_MIN_SIZE."""
    answer = client.get("/healthz", headers=GZIP)
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
    assert answer.json == {"status": "ok"}


def test_media_files_go_out_as_stored(agency, auth, client):
    """Images and videos are compressed already: they are sent byte for byte, ranges and all."""
    auth.login(agency["owner"])
    picture = image_bytes(size=(400, 300))
    upload(client, agency["group"], ("photo.png", picture))
    [item] = items_of(agency["group"])
    for view in ("file", "thumbnail"):
        response = client.get(f"/media/{item.id}/{view}", headers=BROTLI_OR_GZIP)
        assert response.status_code == 200 and "Content-Encoding" not in response.headers
    original = client.get(f"/media/{item.id}/file", headers=BROTLI_OR_GZIP)
    assert original.get_data() == picture


def test_the_access_review_csv_is_compressed_and_complete(agency, auth, client):
    for number in range(12):
        factories.make_member(agency["account"], Role.CLIENT, groups=[agency["group"]], name=f"Creator {number}")
    auth.login(agency["owner"])
    plain = client.get("/settings/access-review.csv")
    squeezed = client.get("/settings/access-review.csv", headers=BROTLI_OR_GZIP)
    assert plain.status_code == squeezed.status_code == 200
    assert squeezed.headers["Content-Type"].startswith("text/csv") and len(plain.get_data()) > 500
    assert squeezed.headers["Content-Encoding"] == "br"
    assert decoded(squeezed) == plain.get_data()
    assert plain.get_data().count(b"Creator ") >= 12
