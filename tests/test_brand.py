"""The agency's brand on what its clients see: the review page wears its name, logo and accent colour,
all served by Roster itself, and nothing else of the agency becomes public."""
from __future__ import annotations

import io

from PIL import Image

from webapp import agency as agency_rules
from webapp.extensions import db
from webapp.models import Account

from .html import Html
from .scenarios import issue, opened


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 200), (20, 120, 110)).save(buffer, "PNG")
    return buffer.getvalue()


def brand_the(account: Account, accent: str = "#0f766e") -> None:
    account.accent_color = accent
    account.logo_key = agency_rules.store_logo(agency_rules.logo_png(io.BytesIO(png())))
    db.session.commit()


def test_the_review_page_wears_the_agencys_name_logo_and_accent_from_its_own_host(app, review_agency):
    account = review_agency["account"]
    brand_the(account)
    _link, token = issue(review_agency)
    client = opened(app, token)
    page = Html(client.get("/review"))
    head = page.one(".review-brand")
    assert f"{account.name} via Roster" in " ".join(head.text().split())
    logo = page.one("img.review-logo").attributes["src"]
    stylesheet = [link.attributes["href"] for link in page.css("link[rel=stylesheet]")
                  if "/brand/" in link.attributes["href"]]
    assert logo.startswith("/brand/") and stylesheet == [f"/brand/{account.id}/accent-0f766e.css"]
    # Nothing on the page comes from another host.
    for element in page.css("[src], link[href], script[src]"):
        address = element.attributes.get("src") or element.attributes.get("href")
        assert address.startswith("/"), address
    css = client.get(stylesheet[0])
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "--accent: #0f766e" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    assert client.get(logo).mimetype == "image/png"


def test_the_accent_stylesheet_answers_only_for_the_agencys_own_colour(app, client, review_agency):
    account = review_agency["account"]
    brand_the(account, "#aa3300")
    assert client.get(f"/brand/{account.id}/accent-aa3300.css").status_code == 200
    assert client.get(f"/brand/{account.id}/accent-000000.css").status_code == 404
    assert client.get(f"/brand/{account.id + 999}/accent-aa3300.css").status_code == 404


def test_without_a_brand_the_review_page_says_roster_and_loads_no_brand_files(app, review_agency):
    account = review_agency["account"]
    account.accent_color, account.logo_key = None, None
    db.session.commit()
    _link, token = issue(review_agency)
    page = Html(opened(app, token).get("/review"))
    assert not page.css("img.review-logo")
    assert not [link for link in page.css("link[rel=stylesheet]") if "/brand/" in link.attributes["href"]]
    assert f"{account.name} via Roster" in " ".join(page.one(".review-brand").text().split())
