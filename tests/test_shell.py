"""The app shell: group home, the switcher, full pages vs htmx fragments, security headers."""
from __future__ import annotations

import re

import pytest

from webapp.extensions import db
from webapp.models import Network, PostStatus, Role

from . import factories
from .html import HTMX, Html, squeeze


@pytest.fixture
def agency():
    """An agency with two creator groups, a manager in one of them, and some content."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Agent")
    social_set = factories.make_social_set(maya, "Maya Main")
    instagram = factories.make_profile(social_set, Network.INSTAGRAM, handle="mayalopez")
    factories.make_post(instagram, PostStatus.SCHEDULED, in_days=2, caption="Launch day is coming")
    factories.make_post(instagram, PostStatus.PUBLISHED, in_days=-2, caption="Already out")
    factories.make_media(maya)
    factories.make_media(maya)
    db.session.commit()
    return {"account": account, "maya": maya, "leo": leo, "manager": manager,
            "owner": factories.owner_of(account), "instagram": instagram}


def test_group_home_shows_sets_media_and_upcoming_posts(client, auth, agency):
    """The group home shows the group's sets and profiles, media count and upcoming posts only."""
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{agency['maya'].id}/"))
    assert page.has_text("Maya Main") and page.has_text("@mayalopez")
    assert page.one("[data-testid=media-count]").text() == "2"
    assert page.has_text("Launch day is coming")
    assert not page.has_text("Already out")  # published posts are not upcoming
    assert len(page.css(".slot.empty")) == len(Network) - 1


def test_group_home_shows_upcoming_times_in_the_accounts_zone(client, auth, agency):
    """Times on the overview are read in the agency's time zone, as on the calendar."""
    agency["account"].time_zone = "Asia/Tokyo"
    post = factories.make_post(agency["instagram"], PostStatus.SCHEDULED, in_days=3, caption="Tokyo time")
    post.scheduled_at = post.scheduled_at.replace(hour=1, minute=30, second=0, microsecond=0)
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{agency['maya'].id}/"))
    assert any(re.search(r", 10:30 JST$", squeeze(time.text())) for time in page.css("time"))


def test_full_page_and_fragment_come_from_one_url(client, auth, agency):
    """A normal request gets the whole page; an htmx request gets the main block and the sidebar out of band."""
    auth.login(agency["owner"])
    url = f"/g/{agency['maya'].id}/"
    full = client.get(url)
    fragment = client.get(url, headers=HTMX)
    # A cache keeps the page and the fragment apart, per session and per compression.
    assert full.headers["Vary"] == fragment.headers["Vary"] == "HX-Request, Accept-Encoding, Cookie"
    assert "<html" in full.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "<main" not in body
    page = Html(body)
    assert page.by_role("heading", "Maya Lopez").attributes["data-testid"] == "group-heading"
    assert page.one("#sidebar").attributes["hx-swap-oob"] == "true"
    assert page.one("title").text() == "Maya Lopez · Roster"


def test_settings_page_swaps_in_as_a_fragment(client, auth, agency):
    """Settings, asked for by htmx, is its main block with its form."""
    auth.login(agency["owner"])
    body = client.get("/settings/account", headers=HTMX).get_data(as_text=True)
    assert "<html" not in body
    page = Html(body)
    assert page.by_role("button", "Change password")
    assert page.by_label("New password").attributes["name"] == "new_password"


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosted_and_history_restore_requests_get_the_full_page(client, auth, agency, header):
    """A URL pushed to history must come back as a whole page when htmx restores it."""
    auth.login(agency["owner"])
    response = client.get(f"/g/{agency['maya'].id}/", headers={**HTMX, header: "true"})
    assert "<html" in response.get_data(as_text=True)


def test_switcher_lists_only_enterable_groups(client, auth, agency):
    """The switcher offers only the groups this user may enter."""
    auth.login(agency["manager"])
    offered = Html(client.get(f"/g/{agency['maya'].id}/switcher", headers=HTMX)).all_by_role("link")
    assert [option.text(strip=True) for option in offered] == ["Maya Lopez"]


def test_switcher_filters_as_you_type(client, auth, agency):
    """Typing narrows the list; nothing matching says so."""
    auth.login(agency["owner"])
    url = f"/g/{agency['maya'].id}/switcher"
    body = client.get(url, query_string={"q": "leo"}, headers=HTMX).get_data(as_text=True)
    assert "Leo Park" in body and "Maya Lopez" not in body
    body = client.get(url, query_string={"q": "zzz"}, headers=HTMX).get_data(as_text=True)
    assert "No group matches" in body and "zzz" in body
    # Wildcards are matched literally.
    body = client.get(url, query_string={"q": "%"}, headers=HTMX).get_data(as_text=True)
    assert "No group matches" in body


def test_switcher_offers_a_filter_box_only_when_there_are_many_groups(client, auth, agency):
    """Few groups: a plain list. Many groups: a type-to-filter box."""
    auth.login(agency["owner"])
    url = f"/g/{agency['maya'].id}/"
    assert 'id="switcher-filter"' not in client.get(url).get_data(as_text=True)
    for number in range(8):
        factories.make_group(agency["account"], f"Creator {number}")
    db.session.commit()
    assert 'id="switcher-filter"' in client.get(url).get_data(as_text=True)


def test_single_group_user_sees_a_name_not_a_menu(client, auth, agency):
    """A user who may enter one group sees its name and no switcher menu."""
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['maya'].id}/"))
    assert page.one(".switcher-single") and not page.css("details.switcher")


def test_last_group_is_remembered(client, auth, agency):
    """After visiting a group, the next sign-in starts there."""
    auth.login(agency["owner"])
    client.get(f"/g/{agency['leo'].id}/")
    auth.logout()
    auth.login(agency["owner"])
    assert client.get("/").location.endswith(f"/g/{agency['leo'].id}/")


def test_removed_user_is_sent_elsewhere_on_next_request(client, auth, agency):
    """Access ends on the very next request; an htmx request is redirected to a group still open."""
    from webapp.models import GroupUser

    leo_manager = factories.make_member(agency["account"], Role.MANAGER, groups=[agency["maya"], agency["leo"]])
    db.session.commit()
    auth.login(leo_manager)
    assert client.get(f"/g/{agency['leo'].id}/").status_code == 200
    db.session.delete(db.session.get(GroupUser, (agency["leo"].id, leo_manager.id)))
    db.session.commit()
    assert client.get(f"/g/{agency['leo'].id}/").status_code == 404
    response = client.get(f"/g/{agency['leo'].id}/", headers=HTMX)
    assert response.status_code == 404 and response.headers["HX-Redirect"] == "/"
    assert client.get("/").location.endswith(f"/g/{agency['maya'].id}/")


def test_user_without_groups_gets_a_clear_page(client, auth, agency):
    """A member who may enter no group is told so instead of seeing an error."""
    loner = factories.make_member(agency["account"], Role.CLIENT)
    db.session.commit()
    auth.login(loner)
    response = client.get("/", follow_redirects=True)
    assert b"No access group yet" in response.data


def test_not_found_page_for_unknown_and_hidden_groups(client, auth, agency):
    """A group that does not exist and one the user may not enter look exactly the same."""
    auth.login(agency["manager"])
    hidden = client.get(f"/g/{agency['leo'].id}/")
    missing = client.get("/g/999999/")
    assert hidden.status_code == missing.status_code == 404
    without_token = lambda response: re.sub(rb'"X-CSRFToken": "[^"]*"', b"", response.data)  # noqa: E731
    assert without_token(hidden) == without_token(missing)


def test_expired_session_on_htmx_request_redirects_whole_page(client, agency):
    """htmx requests without a session get HX-Redirect to sign in, never a login form fragment."""
    response = client.get(f"/g/{agency['maya'].id}/switcher", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
    assert b"<form" not in response.data


def test_security_headers_and_no_inline_script_or_style(client, auth, agency):
    """Every page sends a strict CSP and contains no inline script, style or event handler."""
    pages = ["/login"]
    auth.login(agency["owner"])
    pages += [f"/g/{agency['maya'].id}/", "/settings/account", f"/g/{agency['maya'].id}/switcher", "/g/424242/"]
    for url in pages:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert Html(response).inline_code() == [], url


def test_profile_tokens_never_reach_html(client, auth, agency):
    """Access and refresh tokens are not shown on any page."""
    auth.login(agency["owner"])
    page = client.get(f"/g/{agency['maya'].id}/").get_data(as_text=True)
    assert "secret-access-token" not in page and "secret-refresh-token" not in page


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_form_without_its_token_changes_nothing_and_says_the_page_expired(client, auth, agency):
    """A stale form: a page of its own for a plain post, the words alone for htmx; no group is made."""
    login = client.get("/login")
    token = Html(login).one("input[name=csrf_token]").attributes["value"]
    assert client.post("/login", data={"email": agency["owner"].email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 303

    plain = client.post("/settings/access-groups", data={"name": "From a stale page", "csrf_token": "stale"})
    assert plain.status_code == 400
    assert b"This page has expired" in plain.data and b"Nothing was changed" in plain.data
    swapped = client.post("/settings/access-groups", data={"name": "From a stale page"}, headers=HTMX)
    assert swapped.status_code == 400
    assert b"<html" not in swapped.data
    assert Html(swapped).by_role("alert").text(strip=True).startswith("This page was open too long")
    assert not Html(client.get("/settings/access-groups")).has_text("From a stale page")
