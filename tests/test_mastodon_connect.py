"""The Mastodon connect form: which instances it takes, and each way it says no."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from webapp import mastodon
from webapp.extensions import db
from webapp.models import Network, NetworkApp, Role, SocialProfile

from . import factories
from .html import HTMX, Html
from .mastodon_instance import MastodonInstance


@pytest.fixture
def agency(app):
    """Northstar (Maya's group with an empty set and a client, Maya) and Rival next door."""
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    rival = factories.make_account("Rival")
    world = {
        "owner": factories.owner_of(account), "group": group,
        "maya": factories.make_member(account, Role.CLIENT, groups=[group], name="Maya"),
        "set": factories.make_social_set(group, "Maya Main"),
        "rival_owner": factories.owner_of(rival),
        "rival_set": factories.make_social_set(factories.default_group(rival), "Rival Main"),
    }
    db.session.commit()
    return world


def url(social_set, query: str = "") -> str:
    return f"/social-sets/{social_set.id}/connect/mastodon{query}"


def apps() -> int:
    return db.session.scalar(select(func.count(NetworkApp.id)))


# --- what counts as an instance -----------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("mastodon.social", "https://mastodon.social"),
    ("  Mastodon.Social  ", "https://mastodon.social"),
    ("https://mastodon.social/", "https://mastodon.social"),
    ("https://mastodon.social:443/@maya/1123", "https://mastodon.social"),
    ("@maya@fosstodon.org", "https://fosstodon.org"),
    ("maya@social.coop", "https://social.coop"),
    ("mästodon.de", "https://xn--mstodon-5wa.de"),
])
def test_what_the_person_types_becomes_the_instances_https_address(app, typed, expected):
    assert mastodon.instance_url(typed) == expected


@pytest.mark.parametrize(("typed", "words"), [
    ("", "Enter your Mastodon server"),
    ("mastodon", "is not a public server"),
    ("my server.org", "not a server address"),
    ("ftp://mastodon.social", "not a server address"),
    ("https://maya:secret@mastodon.social", "not a server address"),
    ("http://mastodon.social", "over https only"),
    ("https://mastodon.social:8443", "over https only"),
    ("10.0.0.7", "is not a public server"),
    ("https://[::1]", "is not a public server"),
    ("https://169.254.169.254/latest", "is not a public server"),
    ("printer.local", "is not a public server"),
    ("build.internal", "is not a public server"),
    ("mastodon.example", "is not a public server"),
    ("-bad-.social", "is not a public server"),
    ("https://mastodon.social:99999", "not a server address"),
])
def test_anything_but_a_public_https_host_is_refused_with_the_reason(app, typed, words):
    with pytest.raises(mastodon.InstanceProblem) as refused:
        mastodon.instance_url(typed)
    assert words in refused.value.message


def test_an_instance_on_this_machine_only_in_tests_or_when_allowed(app):
    assert mastodon.instance_url("http://127.0.0.1:3000") == "http://127.0.0.1:3000"
    app.config["TESTING"] = False
    with pytest.raises(mastodon.InstanceProblem, match="is not a public server"):
        mastodon.instance_url("http://localhost:3000")
    app.config["MASTODON_ALLOW_HTTP"] = True
    assert mastodon.instance_url("http://localhost:3000") == "http://localhost:3000"


def test_a_name_that_leads_into_a_private_network_is_refused(app, monkeypatch):
    answers = {"inside.social": "10.1.2.3", "outside.social": "93.184.215.14"}

    def resolve(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    mastodon.check_public("https://outside.social")
    with pytest.raises(mastodon.InstanceProblem, match="inside.social is not a public server"):
        mastodon.check_public("https://inside.social")
    with pytest.raises(mastodon.InstanceProblem, match="could not find nowhere.social"):
        mastodon.check_public("https://nowhere.social")


# --- the form ------------------------------------------------------------------------------------------


def test_the_form_asks_for_the_instance(client, auth, agency):
    auth.login(agency["maya"])
    page = Html(client.get(url(agency["set"], "?origin=group")))
    assert page.by_role("heading", "Connect a Mastodon profile")
    field = page.by_label("Your Mastodon server")
    assert field.attributes["autocomplete"] == "url" and field.attributes["inputmode"] == "url"
    assert "like mastodon.social" in page.description_of(field)
    assert page.hidden_value("origin") == "group"
    assert page.by_role("button", "Continue to sign in")
    assert page.by_role("link", "Cancel").attributes["href"] == f"/g/{agency['group'].id}/profiles"


def test_the_slots_add_button_leads_to_the_form(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(f"/social-sets/{agency['set'].id}/connect", data={"network": "mastodon", "origin": "group"},
                           headers=HTMX)
    assert response.headers["HX-Redirect"] == url(agency["set"], "?origin=group")


def test_a_bad_instance_is_shown_on_the_form_and_changes_nothing(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": "http://mastodon.social"})
    assert response.status_code == 422
    page = Html(response)
    field = page.by_label("Your Mastodon server")
    assert field.attributes["aria-invalid"] == "true" and field.attributes["value"] == "http://mastodon.social"
    assert "Roster connects to Mastodon servers over https only. Enter it as mastodon.social." in \
        page.description_of(field)
    assert apps() == 0


def test_an_empty_instance_is_asked_for(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": "   "})
    assert response.status_code == 422
    assert Html(response).has_text("Enter your Mastodon server, like mastodon.social.")


def test_an_htmx_refusal_swaps_in_the_form_alone(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": "printer.local"}, headers=HTMX)
    assert response.status_code == 422
    fragment = Html(response)
    assert fragment.css("form") and not fragment.css("nav") and not fragment.css("h1")
    assert fragment.has_text("printer.local is not a public server.")


def test_an_unreachable_instance_is_said_so(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": "http://127.0.0.1:9"})
    assert response.status_code == 422
    assert Html(response).has_text("Roster could not reach 127.0.0.1. Check the address, or try again in a moment.")
    assert apps() == 0


def test_a_server_that_is_not_mastodon_is_said_so(client, auth, agency, httpserver):
    httpserver.expect_request("/api/v1/apps", method="POST").respond_with_data("<h1>Not here</h1>", status=404,
                                                                               content_type="text/html")
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": httpserver.url_for("/")})
    assert response.status_code == 422
    assert Html(response).has_text("did not let Roster register as an app. Check that it is a Mastodon server.")
    assert apps() == 0


def test_an_htmx_post_that_works_is_sent_on_to_the_instance(client, auth, agency, httpserver):
    instance = MastodonInstance(httpserver)
    auth.login(agency["owner"])
    response = client.post(url(agency["set"]), data={"instance": instance.url}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith(f"{instance.url}/oauth/authorize?")


def test_a_taken_slot_is_refused_before_any_call_to_the_instance(client, auth, agency, httpserver):
    instance = MastodonInstance(httpserver)
    factories.make_profile(agency["set"], Network.MASTODON, "someone@mastodon.social")
    db.session.commit()
    auth.login(agency["owner"])
    for response in (client.get(url(agency["set"])),
                     client.post(url(agency["set"]), data={"instance": instance.url})):
        assert response.status_code == 422
        assert Html(response).has_text("This set already has a Mastodon profile (@someone@mastodon.social).")
    assert instance.calls() == []


def test_reconnect_is_only_for_a_profile_that_needs_it(client, auth, agency):
    factories.make_profile(agency["set"], Network.MASTODON, "someone@mastodon.social")
    db.session.commit()
    auth.login(agency["owner"])
    response = client.get(url(agency["set"], "?reconnect=y"))
    assert response.status_code == 422 and Html(response).has_text("Slot already taken")


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_post_without_its_csrf_token_is_refused(client, agency):
    token = Html(client.get("/login")).hidden_value("csrf_token")
    client.post("/login", data={"email": agency["owner"].email, "password": factories.PASSWORD, "csrf_token": token})
    response = client.post(url(agency["set"]), data={"instance": "printer.local"})
    assert response.status_code == 400
    assert Html(response).has_text("Nothing was changed")
    token = Html(client.get(url(agency["set"]))).hidden_value("csrf_token")
    response = client.post(url(agency["set"]), data={"instance": "printer.local", "csrf_token": token})
    assert response.status_code == 422 and Html(response).has_text("printer.local is not a public server.")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_tenants_set_is_not_found(client, auth, agency, method):
    auth.login(agency["rival_owner"])
    response = client.open(url(agency["set"]), method=method, data={"instance": "mastodon.social"})
    assert response.status_code == 404
    auth.logout()
    auth.login(agency["owner"])
    assert client.open(url(agency["rival_set"]), method=method, data={"instance": "x"}).status_code == 404
    assert db.session.scalar(select(func.count(SocialProfile.id))) == 0


def test_signing_in_is_asked_first(client, agency):
    response = client.get(url(agency["set"]))
    assert response.status_code == 303 and "/login" in response.location
