"""Social sets on an access group's Social Profiles tab: create, rename, delete, plan limits, slots."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from webapp import social_sets as rules
from webapp.extensions import db
from webapp.models import AuditEvent, Network, Role, SocialProfile, SocialSet

from . import factories
from .html import HTMX


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    main = factories.make_social_set(maya, "Maya Main")
    factories.make_profile(main, Network.TIKTOK, handle="mayadances")
    leo = factories.make_group(account, "Leo Park")
    leo_set = factories.make_social_set(leo, "Leo Main")
    admin = factories.make_member(account, Role.ADMIN, groups=[maya], name="Alex Admin")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    db.session.commit()
    return {"account": account, "maya": maya, "main": main, "leo": leo, "leo_set": leo_set,
            "owner": factories.owner_of(account), "admin": admin, "manager": manager, "creator": creator}


def sets_url(group, suffix: str = "") -> str:
    return f"/settings/access-groups/{group.id}/social-sets{suffix}"


def set_names(group) -> list[str]:
    return list(db.session.scalars(
        select(SocialSet.name).where(SocialSet.access_group_id == group.id).order_by(SocialSet.position, SocialSet.id)
    ))


def audit_events(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def set_count() -> int:
    return db.session.scalar(select(func.count(SocialSet.id)))


# --- the rules -----------------------------------------------------------------------------------


def test_create_tidies_the_name_puts_the_set_last_and_records_it(agency):
    """A new set gets the tidied name, the next position in its group, and an audit event."""
    created = rules.create_social_set(agency["maya"], "  Brand   Deals ", agency["admin"])
    db.session.commit()
    assert created.name == "Brand Deals" and created.access_group_id == agency["maya"].id
    assert created.position == agency["main"].position + 1
    assert set_names(agency["maya"]) == ["Maya Main", "Brand Deals"]
    event, = audit_events("social_set.created")
    assert (event.actor_id, event.object_id) == (agency["admin"].id, created.id)
    assert event.after == {"name": "Brand Deals", "access_group_id": agency["maya"].id}


def test_the_first_set_of_a_group_takes_position_zero(agency):
    """Positions start at zero in a group without sets."""
    empty = factories.make_group(agency["account"], "Empty")
    assert rules.create_social_set(empty, "First", agency["owner"]).position == 0


@pytest.mark.parametrize("name, message", [
    ("", "Enter a name for the social set."),
    ("   ", "Enter a name for the social set."),
    ("maya MAIN", "“Maya Lopez” already has a social set called “maya MAIN”."),
    ("x" * 121, "Keep the name to 120 characters or fewer."),
])
def test_create_refuses_empty_duplicate_and_long_names(agency, name, message):
    """Names are required, unique in the group ignoring case, and fit the column."""
    with pytest.raises(rules.SocialSetError, match=message):
        rules.create_social_set(agency["maya"], name, agency["owner"])
    assert set_names(agency["maya"]) == ["Maya Main"]


def test_the_same_name_may_be_used_in_another_group(agency):
    """Uniqueness is per access group, not per account."""
    rules.create_social_set(agency["leo"], "Maya Main", agency["owner"])
    assert set_names(agency["leo"]) == ["Leo Main", "Maya Main"]


@pytest.mark.parametrize("plan, limit_message", [
    ("starter", "Your Starter plan includes 1 social set. Upgrade the plan to add more."),
    ("free", "Your Free plan includes 1 social set. Upgrade the plan to add more."),
])
def test_small_plans_allow_one_social_set(app, plan, limit_message):
    """The plan's limit counts every set in the account and names the plan when reached."""
    account = factories.make_account("Tiny", plan=plan)
    group = factories.default_group(account)
    owner = factories.owner_of(account)
    rules.create_social_set(group, "Only set", owner)
    with pytest.raises(rules.SocialSetError) as refused:
        rules.create_social_set(group, "Second set", owner)
    assert str(refused.value) == limit_message
    assert set_names(group) == ["Only set"]


def test_the_limit_counts_sets_in_every_group_of_the_account(app):
    """On Growth (10 sets), ten sets spread over two groups leave no room in either."""
    account = factories.make_account("Growing", plan="growth")
    first, second = factories.default_group(account), factories.make_group(account, "Second")
    for number in range(10):
        factories.make_social_set(first if number % 2 else second)
    other_account = factories.make_account("Elsewhere", plan="growth")
    factories.make_social_set(factories.default_group(other_account))  # another account's sets do not count
    with pytest.raises(rules.SocialSetError, match="Your Growth plan includes 10 social sets."):
        rules.create_social_set(second, "Eleventh", factories.owner_of(account))
    assert rules.create_social_set(factories.default_group(other_account), "Fine", factories.owner_of(other_account))


def test_rename_records_before_and_after_and_ignores_an_unchanged_name(agency):
    """A rename is audited; renaming to the same name changes and records nothing."""
    main = agency["main"]
    assert rules.rename_social_set(main, "Maya  Everyday", agency["admin"]) is True
    assert main.name == "Maya Everyday"
    event, = audit_events("social_set.renamed")
    assert event.before == {"name": "Maya Main"} and event.after == {"name": "Maya Everyday"}
    assert rules.rename_social_set(main, "Maya Everyday", agency["admin"]) is False
    assert len(audit_events("social_set.renamed")) == 1


def test_rename_may_change_only_the_case_but_not_take_a_sibling_name(agency):
    """The set's own name does not count as taken; another set's name does, ignoring case."""
    brand = factories.make_social_set(agency["maya"], "Brand Deals")
    assert rules.rename_social_set(agency["main"], "MAYA MAIN", agency["owner"]) is True
    with pytest.raises(rules.SocialSetError, match="already has a social set called “brand deals”"):
        rules.rename_social_set(agency["main"], "brand deals", agency["owner"])
    with pytest.raises(rules.SocialSetError, match="Enter a name for the social set."):
        rules.rename_social_set(brand, " ", agency["owner"])
    assert set_names(agency["maya"]) == ["MAYA MAIN", "Brand Deals"]


def test_delete_removes_an_empty_set_and_records_it(agency):
    """An empty set is deleted, with its name in the audit log."""
    brand = factories.make_social_set(agency["maya"], "Brand Deals")
    brand_id = brand.id
    rules.delete_social_set(brand, agency["owner"])
    db.session.commit()
    assert db.session.get(SocialSet, brand_id) is None
    event, = audit_events("social_set.deleted")
    assert event.object_id == brand_id
    assert event.before == {"name": "Brand Deals", "access_group_id": agency["maya"].id}


@pytest.mark.parametrize("networks, count_text", [
    ([Network.TIKTOK], "still holds 1 social profile. Remove or move it before"),
    ([Network.TIKTOK, Network.X, Network.YOUTUBE], "still holds 3 social profiles. Remove or move them before"),
])
def test_delete_refuses_a_set_that_holds_profiles_and_says_how_many(agency, networks, count_text):
    """The refusal counts the profiles still in the set; the set and the log stay as they were."""
    held = factories.make_social_set(agency["maya"], "Held")
    for network in networks:
        factories.make_profile(held, network)
    with pytest.raises(rules.SocialSetError, match=f"“Held” {count_text}"):
        rules.delete_social_set(held, agency["owner"])
    assert db.session.get(SocialSet, held.id) is not None
    assert audit_events("social_set.deleted") == []


# --- the database holds the same line ------------------------------------------------------------


def test_database_allows_one_profile_per_network_per_set(agency):
    """A second TikTok in the same set is refused by the database; in another set it is fine."""
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            factories.make_profile(agency["main"], Network.TIKTOK)
    brand = rules.create_social_set(agency["maya"], "Brand Deals", agency["owner"])
    factories.make_profile(brand, Network.TIKTOK)
    factories.make_profile(agency["main"], Network.INSTAGRAM)
    db.session.commit()
    networks = db.session.scalars(
        select(SocialProfile.network).where(SocialProfile.social_set_id == agency["main"].id)
    ).all()
    assert sorted(networks) == ["instagram", "tiktok"]


def test_database_refuses_to_delete_a_set_that_holds_profiles(agency):
    """Even a delete that skips the rules cannot orphan a profile."""
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(delete(SocialSet).where(SocialSet.id == agency["main"].id))
    assert db.session.get(SocialSet, agency["main"].id) is not None


# --- the Social Profiles tab ---------------------------------------------------------------------


def test_tab_shows_each_set_as_a_card_with_slots_rename_and_delete(client, auth, agency):
    """Cards have the set's name, a rename form, a delete dialog and nine slots."""
    factories.make_social_set(agency["maya"], "Brand Deals")
    db.session.commit()
    auth.login(agency["admin"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}").get_data(as_text=True)
    assert 'aria-label="Social sets"' in page and "New social set" in page
    assert '<label for="new-set-name">Set name</label>' in page
    main_id = agency["main"].id
    assert f'<h2 id="set-{main_id}-name" class="set-name">Maya Main</h2>' in page
    assert f'<label for="set-{main_id}-new-name">New name for Maya Main</label>' in page
    assert f'data-dialog-open="delete-set-{main_id}"' in page and f'<dialog id="delete-set-{main_id}"' in page
    assert page.count('class="slot empty"') == 2 * len(Network) - 1
    assert "@mayadances" in page


def test_set_with_profiles_offers_no_delete_button_in_its_dialog(client, auth, agency):
    """The dialog of a set with profiles explains the refusal; an empty set's dialog confirms."""
    brand = factories.make_social_set(agency["maya"], "Brand Deals")
    db.session.commit()
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}").get_data(as_text=True)
    held_dialog = page.split(f'<dialog id="delete-set-{agency["main"].id}"')[1].split("</dialog>")[0]
    assert "“Maya Main” still holds 1 social profile." in held_dialog and "<form" not in held_dialog
    empty_dialog = page.split(f'<dialog id="delete-set-{brand.id}"')[1].split("</dialog>")[0]
    assert "Delete “Brand Deals”?" in empty_dialog
    assert f'hx-post="/settings/access-groups/{agency["maya"].id}/social-sets/{brand.id}/delete"' in empty_dialog


def test_empty_slots_post_to_the_connect_flow(client, auth, agency):
    """Each empty slot is a small form posting its network to the set's connect URL (see test_profiles)."""
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}").get_data(as_text=True)
    connect_url = f"/social-sets/{agency['main'].id}/connect"
    assert page.count(f'<form class="slot-action" method="post" action="{connect_url}" hx-post="{connect_url}">') \
        == len(Network) - 1
    assert page.count("Add Social Profile<span") == len(Network) - 1
    assert "for Instagram in Maya Main</span>" in page
    assert '<input type="hidden" name="network" value="instagram">' in page
    assert "Connecting profiles arrives" not in page and " disabled " not in page


def test_filled_slots_show_the_avatar_when_there_is_one(client, auth, agency):
    """A profile with an avatar shows it beside the handle, as decoration (empty alt)."""
    factories.make_profile(agency["main"], Network.X, handle="mayatweets").avatar_url = "/static/favicon.svg"
    db.session.commit()
    auth.login(agency["owner"])
    page = client.get(f"/settings/access-groups/{agency['maya'].id}").get_data(as_text=True)
    assert '<img class="avatar" src="/static/favicon.svg" alt=""' in page
    assert page.count('class="avatar"') == 1  # the TikTok profile has no avatar
    assert "@mayatweets" in page


def test_the_overview_of_all_groups_shows_the_same_slots(client, auth, agency):
    """Settings › Social Sets & Access Groups uses the same slots, with Add Social Profile."""
    auth.login(agency["owner"])
    page = client.get("/settings/access-groups").get_data(as_text=True)
    assert "for Facebook in Leo Main</span>" in page and "@mayadances" in page


# --- creating, renaming and deleting through the page --------------------------------------------


def test_create_by_htmx_swaps_the_sets_and_flashes(client, auth, agency):
    """htmx gets the social-sets block with the new card and the flash, not a whole page."""
    auth.login(agency["admin"])
    response = client.post(sets_url(agency["maya"]), data={"name": "  Brand  Deals"}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="social-sets"')
    assert "Social set “Brand Deals” created." in body and ">Brand Deals</h2>" in body
    assert "HX-Trigger" not in response.headers  # no page listens for a social-sets event
    assert "HX-Request" in response.headers["Vary"]
    assert set_names(agency["maya"]) == ["Maya Main", "Brand Deals"]


def test_create_by_a_plain_form_redirects_back_to_the_tab(client, auth, agency):
    """Without htmx, success is a 303 back to the group's Social Profiles tab."""
    auth.login(agency["owner"])
    response = client.post(sets_url(agency["maya"]), data={"name": "Brand Deals"})
    assert response.status_code == 303
    assert response.location.endswith(f"/settings/access-groups/{agency['maya'].id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "Social set “Brand Deals” created." in page


@pytest.mark.parametrize("name, message", [
    ("", "Enter a name for the social set."),
    ("MAYA main", "“Maya Lopez” already has a social set called “MAYA main”."),
    ("y" * 200, "Keep the name to 120 characters or fewer."),
])
def test_bad_names_answer_422_with_the_reason_and_change_nothing(client, auth, agency, name, message):
    """The form comes back with 422, the message tied to the field, and nothing is stored."""
    auth.login(agency["owner"])
    before = set_count()
    response = client.post(sets_url(agency["maya"]), data={"name": name}, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'<p class="error" id="new-set-name-error" role="alert">{message}</p>' in body
    assert 'aria-invalid="true" aria-describedby="new-set-name-error"' in body
    assert set_count() == before and audit_events("social_set.created") == []


def test_plan_limit_answers_422_naming_the_plan(client, auth):
    """On Starter, a second set is refused with the plan's limit in words."""
    account = factories.make_account("Tiny", plan="starter")
    group = factories.default_group(account)
    factories.make_social_set(group, "Only set")
    db.session.commit()
    auth.login(factories.owner_of(account))
    response = client.post(sets_url(group), data={"name": "Second"}, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Your Starter plan includes 1 social set. Upgrade the plan to add more." in body
    assert 'value="Second"' in body  # what was typed stays in the field
    assert set_names(group) == ["Only set"]


def test_bad_input_without_htmx_gets_the_whole_page_with_422(client, auth, agency):
    """A plain form post with a bad name re-renders the full edit page with the message."""
    auth.login(agency["owner"])
    response = client.post(sets_url(agency["maya"]), data={"name": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and "Enter a name for the social set." in body


def test_rename_by_htmx_and_refusal_keeps_the_typed_name(client, auth, agency):
    """A rename swaps the sets; a duplicate opens that set's form again with the reason."""
    factories.make_social_set(agency["maya"], "Brand Deals")
    db.session.commit()
    auth.login(agency["admin"])
    main_id = agency["main"].id
    url = sets_url(agency["maya"], f"/{main_id}/rename")
    refused = client.post(url, data={"name": "brand deals"}, headers=HTMX)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert f'<p class="error" id="set-{main_id}-error" role="alert">' in body
    assert "already has a social set called “brand deals”" in body
    assert '<details class="rename-set" open>' in body and 'value="brand deals"' in body
    renamed = client.post(url, data={"name": "Maya Everyday"}, headers=HTMX)
    assert renamed.status_code == 200
    assert "Social set renamed to “Maya Everyday”." in renamed.get_data(as_text=True)
    assert set_names(agency["maya"]) == ["Maya Everyday", "Brand Deals"]
    assert len(audit_events("social_set.renamed")) == 1


def test_delete_by_htmx_removes_an_empty_set(client, auth, agency):
    """Confirming the dialog deletes the empty set and swaps the list."""
    brand = factories.make_social_set(agency["maya"], "Brand Deals")
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(sets_url(agency["maya"], f"/{brand.id}/delete"), headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Social set “Brand Deals” deleted." in body and ">Brand Deals</h2>" not in body
    assert set_names(agency["maya"]) == ["Maya Main"]


def test_delete_of_a_set_with_profiles_answers_422_with_the_count(client, auth, agency):
    """The refusal says how many profiles still hold the set, next to that set."""
    auth.login(agency["owner"])
    main_id = agency["main"].id
    response = client.post(sets_url(agency["maya"], f"/{main_id}/delete"), headers=HTMX)
    assert response.status_code == 422
    assert (f'<p class="error" id="set-{main_id}-error" role="alert">“Maya Main” still holds 1 social profile. '
            "Remove or move it before deleting the set.</p>") in response.get_data(as_text=True)
    assert db.session.get(SocialSet, main_id) is not None
    assert audit_events("social_set.deleted") == []


def test_a_profile_connected_during_the_delete_keeps_the_set(client, auth, agency, monkeypatch):
    """If a profile lands in the set between the check and the delete, the database refuses it."""
    real_count = rules.profile_count
    calls = []

    def racing_count(social_set):
        """The rule's check sees an empty set; the answer afterwards counts for real."""
        calls.append(social_set.id)
        return 0 if len(calls) == 1 else real_count(social_set)

    monkeypatch.setattr(rules, "profile_count", racing_count)
    auth.login(agency["owner"])
    main_id = agency["main"].id
    response = client.post(sets_url(agency["maya"], f"/{main_id}/delete"), headers=HTMX)
    assert response.status_code == 422
    assert "“Maya Main” still holds 1 social profile." in response.get_data(as_text=True)
    assert len(calls) == 2  # the database refused the delete, not the rule's check
    assert db.session.get(SocialSet, main_id) is not None
    assert audit_events("social_set.deleted") == []


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "creator"])
def test_managers_and_clients_may_not_change_sets(client, auth, agency, who):
    """They see the group but may not create, rename or delete its sets: 403, nothing changes."""
    auth.login(agency[who])
    main_id = agency["main"].id
    assert client.post(sets_url(agency["maya"]), data={"name": "Sneaky"}, headers=HTMX).status_code == 403
    assert client.post(sets_url(agency["maya"], f"/{main_id}/rename"), data={"name": "Sneaky"}).status_code == 403
    assert client.post(sets_url(agency["maya"], f"/{main_id}/delete")).status_code == 403
    assert set_names(agency["maya"]) == ["Maya Main"]


def test_another_groups_set_is_not_found_through_this_group(client, auth, agency):
    """A set id from another group (even one the owner manages) is a 404 under this group's URL."""
    auth.login(agency["owner"])
    leo_set = agency["leo_set"].id
    assert client.post(sets_url(agency["maya"], f"/{leo_set}/rename"), data={"name": "Moved"}).status_code == 404
    assert client.post(sets_url(agency["maya"], f"/{leo_set}/delete")).status_code == 404
    assert client.post(sets_url(agency["maya"], "/999999/delete")).status_code == 404
    assert set_names(agency["leo"]) == ["Leo Main"]


def test_admin_outside_the_group_and_other_accounts_get_404(client, auth, agency):
    """An admin not on Leo's Users tab, and another account's owner, do not find the group at all."""
    auth.login(agency["admin"])
    assert client.post(sets_url(agency["leo"]), data={"name": "Hidden"}).status_code == 404
    auth.logout()
    auth.login(factories.owner_of(factories.make_account("Rival")))
    db.session.commit()
    assert client.post(sets_url(agency["maya"]), data={"name": "Hidden"}).status_code == 404
    assert client.post(sets_url(agency["maya"], f"/{agency['main'].id}/delete")).status_code == 404
    assert set_names(agency["leo"]) == ["Leo Main"] and set_names(agency["maya"]) == ["Maya Main"]


# --- queries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_social_profiles_tab_queries_do_not_grow_with_sets(client, auth, count_queries, headers):
    """The tab runs the same number of queries for 1 set as for 50, each with profiles."""
    account = factories.make_account("Counting")
    group = factories.make_group(account, "Creator")
    owner = factories.owner_of(account)
    url = f"/settings/access-groups/{group.id}"

    def add_sets(count: int) -> None:
        for _ in range(count):
            social_set = factories.make_social_set(group)
            for network in (Network.INSTAGRAM, Network.TIKTOK, Network.YOUTUBE):
                factories.make_profile(social_set, network)
        db.session.commit()

    def measure() -> int:
        client.get(url, headers=headers)  # the first visit remembers the group; later ones do not write
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        return counter.count

    auth.login(owner)
    add_sets(1)
    one = measure()
    add_sets(49)
    fifty = measure()
    assert client.get(url).get_data(as_text=True).count('class="set-card"') == 50
    assert one == fifty, f"queries grew with sets: {one} -> {fifty}"
    assert fifty <= 11  # with one for the profiles nobody can approve, and the bell's unread count


def test_the_delete_group_panel_follows_changes_to_sets(client, auth, agency):
    """Deleting a group's last set by htmx also refreshes, out of band, what the group still holds."""
    empty_group = factories.make_group(agency["account"], "Soon empty")
    only_set = factories.make_social_set(empty_group, "Only set")
    db.session.commit()
    auth.login(agency["owner"])
    response = client.post(f"{sets_url(empty_group)}/{only_set.id}/delete", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<section id="delete-group" class="panel" aria-labelledby="delete-heading" hx-swap-oob="true">' in body
    assert "The group is empty and can be deleted." in body
