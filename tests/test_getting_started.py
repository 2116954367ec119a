"""A path for newcomers: a new group's checklist, a client's next steps, and empty states that offer the next step."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from webapp import getting_started
from webapp.extensions import db
from webapp.models import AccessGroup, AuditEvent, PostStatus, Role, utcnow

from . import factories
from .html import HTMX, Html


@pytest.fixture
def agency(app):
    """A brand new group "Nia Studio" (nobody on its Users tab), HQ with an admin and a manager in both."""
    account = factories.make_account("Northstar")
    hq = factories.default_group(account)
    studio = factories.make_group(account, "Nia Studio")
    owner = factories.owner_of(account)
    factories.add_to_group(owner, hq)
    people = {
        "admin": factories.make_member(account, Role.ADMIN, groups=[hq], name="Alex Admin"),
        "manager": factories.make_member(account, Role.MANAGER, groups=[hq], name="Sam Manager"),
        "outsider_admin": factories.make_member(account, Role.ADMIN, groups=[hq], name="Olga Other"),
    }
    db.session.commit()
    return {"account": account, "hq": hq, "studio": studio, "owner": owner, **people}


def done_items(group: AccessGroup) -> set[str]:
    return {key for key, done in getting_started.progress(group).items() if done}


def home(client, group: AccessGroup, **kwargs) -> Html:
    response = client.get(f"/g/{group.id}/", **kwargs)
    assert response.status_code == 200
    return Html(response)


def checklist_of(page: Html) -> Html | None:
    found = page.all_by_role("list", "Getting started")
    return page.within(found[0]) if found else None


def fresh(group: AccessGroup) -> AccessGroup:
    return db.session.scalars(select(AccessGroup).where(AccessGroup.id == group.id)
                              .execution_options(populate_existing=True)).one()


# --- the checklist's conditions ------------------------------------------------------------------


def test_each_checklist_item_turns_done_when_its_condition_holds(agency):
    """A new group has nothing done; each step of setting it up ticks exactly its own item."""
    studio, owner = agency["studio"], agency["owner"]
    factories.add_to_group(owner, studio)  # the owner on the tab is not "people"
    assert done_items(studio) == set()

    social_set = factories.make_social_set(studio)
    assert done_items(studio) == {"social_set"}
    profile = factories.make_profile(social_set)
    assert done_items(studio) == {"social_set", "profiles"}
    factories.make_member(agency["account"], Role.CLIENT, groups=[studio])
    assert done_items(studio) == {"social_set", "profiles", "people"}
    factories.make_media(studio)
    assert done_items(studio) == {"social_set", "profiles", "people", "media"}
    factories.make_post(profile, status=PostStatus.DRAFT, in_days=2)  # a draft is not scheduled
    assert "post" not in done_items(studio)
    factories.make_post(profile, status=PostStatus.PENDING_APPROVAL, in_days=2)
    assert done_items(studio) == {"social_set", "profiles", "people", "media", "post"}
    assert getting_started.checklist(studio) is None  # all done: nothing to show


def test_a_user_group_granted_on_the_group_counts_as_people(agency):
    """Entry through a user group is a way people come in, as the Users tab is."""
    factories.make_user_group(agency["account"], "Crew", members=[agency["manager"]], grants=[agency["studio"]])
    assert "people" in done_items(agency["studio"])


def test_the_checklist_is_one_query(agency, count_queries):
    """Whatever the group holds, its progress is read in a single query."""
    studio = agency["studio"]
    factories.make_profile(factories.make_social_set(studio))
    db.session.commit()
    assert studio.media_count == 0  # the group as a page has it loaded
    with count_queries() as counter:
        getting_started.progress(studio)
    assert counter.count == 1


# --- the checklist on the Overview -----------------------------------------------------------------


@pytest.mark.parametrize("who, shown", [("owner", True), ("admin", True), ("manager", False)])
def test_only_those_who_manage_the_group_see_the_checklist(client, auth, agency, who, shown):
    """Owner and admins get the checklist on a group's Overview; a manager does not."""
    hq = agency["hq"]
    auth.login(agency[who])
    page = home(client, hq)
    assert (checklist_of(page) is not None) is shown
    assert bool(page.all_by_role("button", "Hide this checklist")) is shown


def test_the_checklist_shows_progress_and_links_to_each_open_step(client, auth, agency):
    """Each item says whether it is done; open ones link to where to do them (if the viewer may)."""
    studio = agency["studio"]
    auth.login(agency["owner"])
    page = home(client, studio)
    assert page.by_role("heading", "Get “Nia Studio” ready")
    assert page.by_text("0 of 5 done")
    items = checklist_of(page)
    assert [items.name_of(node) for node in items.css("li .checklist-label")] == [
        "Add a social set (not done yet)", "Connect social profiles (not done yet)", "Add people (not done yet)",
        "Upload media (not done yet)", "Schedule a first post (not done yet)"]
    links = {items.name_of(link): link.attributes["href"] for link in items.all_by_role("link")}
    # Connecting and posting wait for a set and a profile: no link yet.
    assert links == {
        "Create a social set": f"/settings/access-groups/{studio.id}#new-set-name",
        "Invite someone": f"/settings/team?group={studio.id}#invite-heading",
        "Upload media": f"/g/{studio.id}/media",
    }

    factories.make_profile(factories.make_social_set(studio))
    db.session.commit()
    page = home(client, studio)
    assert page.by_text("2 of 5 done")
    items = checklist_of(page)
    assert "Add a social set (done)" in items.text and "Connect social profiles (done)" in items.text
    assert {items.name_of(link) for link in items.all_by_role("link")} == {
        "Invite someone", "Upload media", "Create a post"}


def test_the_invite_link_of_the_checklist_ticks_the_group(client, auth, agency):
    """"Invite someone" opens the invite form with this group, and only it, ticked."""
    auth.login(agency["owner"])
    page = Html(client.get(f"/settings/team?group={agency['studio'].id}"))
    assert page.checked("access_groups") == [str(agency["studio"].id)]
    # An address naming no group, or one the inviter cannot enter, ticks nothing.
    assert Html(client.get("/settings/team?group=abc")).checked("access_groups") == []
    auth.logout()
    auth.login(agency["admin"])
    assert Html(client.get(f"/settings/team?group={agency['studio'].id}")).checked("access_groups") == []


def test_the_checklist_is_gone_once_every_item_is_done(client, auth, agency):
    studio = agency["studio"]
    profile = factories.make_profile(factories.make_social_set(studio))
    factories.make_member(agency["account"], Role.CLIENT, groups=[studio])
    factories.make_media(studio)
    factories.make_post(profile)
    db.session.commit()
    auth.login(agency["owner"])
    assert checklist_of(home(client, studio)) is None


# --- dismissing it ---------------------------------------------------------------------------------


def dismissals() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.verb == "access_group.checklist_dismissed"))


def test_dismissing_puts_the_checklist_away_for_everyone_and_is_recorded(client, auth, agency):
    """A plain post answers 303 back to the Overview, where nobody sees the checklist any more."""
    studio = agency["studio"]
    auth.login(agency["owner"])
    response = client.post(f"/g/{studio.id}/checklist/dismiss")
    assert response.status_code == 303 and response.location.endswith(f"/g/{studio.id}/")
    assert fresh(studio).checklist_dismissed_at is not None
    assert checklist_of(home(client, studio)) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "access_group.checklist_dismissed"))
    assert (event.actor_id, event.object_id, event.access_group_id) == (agency["owner"].id, studio.id, studio.id)
    # Twice is once.
    assert client.post(f"/g/{studio.id}/checklist/dismiss").status_code == 303
    assert dismissals() == 1


def test_dismissing_through_htmx_answers_the_emptied_checklist(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(f"/g/{agency['hq'].id}/checklist/dismiss", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Getting started" not in body
    assert fresh(agency["hq"]).checklist_dismissed_at is not None


@pytest.mark.parametrize("who, status", [("manager", 403), ("outsider_admin", 404)])
def test_only_those_who_manage_the_group_may_dismiss_it(client, auth, agency, who, status):
    """A manager sees the group but may not; an admin who cannot enter the group does not find it."""
    group = agency["hq"] if who == "manager" else agency["studio"]
    auth.login(agency[who])
    assert client.post(f"/g/{group.id}/checklist/dismiss").status_code == status
    assert fresh(group).checklist_dismissed_at is None and dismissals() == 0


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_dismissing_needs_the_csrf_token(client, agency):
    """Without the page's token the post is refused and the checklist stays."""
    token = Html(client.get("/login")).hidden_value("csrf_token")
    client.post("/login", data={"email": agency["owner"].email, "password": factories.PASSWORD, "csrf_token": token})
    studio = agency["studio"]
    assert client.post(f"/g/{studio.id}/checklist/dismiss").status_code == 400
    assert fresh(studio).checklist_dismissed_at is None
    page = home(client, studio)
    form = page.form_of(page.by_role("button", "Hide this checklist"))
    token = page.within(form).hidden_value("csrf_token")
    assert client.post(form.attributes["action"], data={"csrf_token": token}).status_code == 303
    assert fresh(studio).checklist_dismissed_at is not None


# --- a client's next steps and whom to ask -------------------------------------------------------------


def test_who_to_ask_names_the_owner_then_admins_who_may_enter_the_group(agency):
    """The owner first; an admin who cannot enter the group is not named."""
    studio = agency["studio"]
    factories.add_to_group(agency["admin"], studio)
    assert [person.name for person in getting_started.who_to_ask(studio)] == ["Northstar Owner", "Alex Admin"]


def test_a_client_in_a_group_without_sets_is_told_who_sets_it_up_and_what_to_do_now(client, auth, agency):
    """Not a bare "no social sets yet": who will add one, and next steps the client can take today."""
    studio = agency["studio"]
    factories.add_to_group(agency["admin"], studio)
    creator = factories.make_member(agency["account"], Role.CLIENT, groups=[studio], name="Nia Newcomer")
    db.session.commit()
    auth.login(creator)
    page = home(client, studio)
    assert checklist_of(page) is None
    steps = page.within(page.by_role("region", "Your next steps"))
    assert "Your agency is still setting up “Nia Studio”. Once Northstar Owner or Alex Admin add a social set" in steps.text
    assert [link.attributes["href"] for link in steps.all_by_role("link")] == [
        "/settings/notifications", "/settings/account"]
    # Without media rights the library's panel says whom to ask.
    assert page.has_text("You do not have access to this group's media library. To use it, ask Northstar Owner or Alex Admin.")


def test_a_client_in_a_group_with_sets_is_sent_to_connect_their_profiles(client, auth, agency):
    studio = agency["studio"]
    factories.make_social_set(studio, "Nia Main")
    creator = factories.make_member(agency["account"], Role.CLIENT, groups=[studio], rights=["media.view", "media.upload"])
    db.session.commit()
    auth.login(creator)
    steps = home(client, studio)
    steps = steps.within(steps.by_role("region", "Your next steps"))
    first = steps.all_by_role("link")[0]
    assert (steps.name_of(first), first.attributes["href"]) == ("Connect your profiles", f"/g/{studio.id}/profiles")
    assert steps.by_role("link", "Open the media library")


def test_a_client_who_connected_a_profile_has_no_next_steps_panel(client, auth, agency):
    studio = agency["studio"]
    creator = factories.make_member(agency["account"], Role.CLIENT, groups=[studio])
    profile = factories.make_profile(factories.make_social_set(studio))
    profile.connected_by_id = creator.id
    db.session.commit()
    auth.login(creator)
    assert not home(client, studio).all_by_role("region", "Your next steps")


# --- empty states ----------------------------------------------------------------------------------------


def test_empty_overview_offers_what_the_viewer_may_do(client, auth, agency):
    """The owner is offered a set and an upload; a manager, who may not make sets, is told who can."""
    hq = agency["hq"]
    auth.login(agency["owner"])
    page = home(client, hq)
    # While the checklist shows, it alone offers each step.
    assert [page.name_of(link) for link in page.all_by_role("link", "Create a social set")] == ["Create a social set"]
    assert checklist_of(page).by_role("link", "Create a social set")
    hq.checklist_dismissed_at = utcnow()
    db.session.commit()
    page = home(client, hq)
    sets = page.within(page.by_role("region", "Social sets"))
    assert sets.by_role("link", "Create a social set").attributes["href"] == f"/settings/access-groups/{hq.id}#new-set-name"
    assert page.within(page.by_role("region", "Media library")).by_role("link", "Upload media")
    auth.logout()
    auth.login(agency["manager"])
    page = home(client, hq)
    sets = page.within(page.by_role("region", "Social sets"))
    assert not sets.all_by_role("link")
    assert "Northstar Owner, Alex Admin or Olga Other can add one." in sets.text
    assert page.within(page.by_role("region", "Media library")).by_role("link", "Upload media")


def test_overview_without_posts_offers_a_new_post_once_a_profile_exists(client, auth, agency):
    hq = agency["hq"]
    factories.make_profile(factories.make_social_set(hq))
    db.session.commit()
    auth.login(agency["manager"])
    page = home(client, hq)
    upcoming = page.within(page.by_role("region", "Upcoming posts"))
    assert upcoming.by_role("link", "Create a post").attributes["href"] == f"/g/{hq.id}/posts/new"


def test_someone_with_no_group_is_told_whom_to_ask(client, auth, agency):
    """A member who may enter no group yet is given the names of the agency's owner and admins."""
    newcomer = factories.make_member(agency["account"], Role.MANAGER, name="Nat New")
    db.session.commit()
    auth.login(newcomer)
    page = Html(client.get("/welcome"))
    assert page.has_text("Ask Northstar Owner, Alex Admin or Olga Other to add you to one.")


def test_an_empty_profiles_page_offers_a_set_or_names_who_can_add_one(client, auth, agency):
    studio = agency["studio"]
    creator = factories.make_member(agency["account"], Role.CLIENT, groups=[studio])
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{studio.id}/profiles"))
    assert page.by_role("link", "Create a social set").attributes["href"] == f"/settings/access-groups/{studio.id}#new-set-name"
    auth.logout()
    auth.login(creator)
    page = Html(client.get(f"/g/{studio.id}/profiles"))
    assert page.has_text("This group has no social sets yet.") and page.has_text("Northstar Owner can add one.")
    assert not page.all_by_role("link", "Create a social set")


def test_an_empty_library_offers_upload_or_names_who_to_ask(client, auth, agency):
    studio = agency["studio"]
    viewer = factories.make_member(agency["account"], Role.CLIENT, groups=[studio], rights=["media.view"])
    db.session.commit()
    auth.login(viewer)
    page = Html(client.get(f"/g/{studio.id}/media"))
    assert page.has_text("This library is empty. Photos and videos added for “Nia Studio” show up here; "
                         "to add some, ask Northstar Owner.")
    auth.logout()
    auth.login(agency["owner"])
    page = Html(client.get(f"/g/{studio.id}/media"))
    assert page.has_text("This library is empty. Upload files or drop them here.")


def test_an_empty_calendar_offers_a_post_to_those_who_may_write_one(client, auth, agency):
    hq = agency["hq"]
    client_member = factories.make_member(agency["account"], Role.CLIENT, groups=[hq])
    db.session.commit()
    for who, view in ((agency["manager"], "month"), (agency["manager"], "list")):
        auth.login(who)
        page = Html(client.get(f"/g/{hq.id}/calendar?view={view}"))
        empty = page.one("p.empty-state")
        assert page.within(empty).by_role("link", "Create a post").attributes["href"] == f"/g/{hq.id}/posts/new"
        auth.logout()
    auth.login(client_member)
    page = Html(client.get(f"/g/{hq.id}/calendar"))
    empty = page.one("p.empty-state")
    assert "Posts planned for “Northstar HQ” show up here." in page.name_of(empty)
    assert not page.within(empty).all_by_role("link")


def test_other_empty_states_say_what_to_do_next(client, auth, agency):
    """Campaigns, notifications and waiting approvals each offer a next step."""
    hq = agency["hq"]
    approver = factories.make_member(agency["account"], Role.CLIENT, groups=[hq])
    db.session.commit()
    auth.login(agency["manager"])
    assert Html(client.get(f"/g/{hq.id}/campaigns")).has_text("Create one with New campaign")
    notifications = Html(client.get("/notifications"))
    assert notifications.by_role("link", "Choose which of them also reach you by email").attributes["href"] == \
        "/settings/notifications"
    auth.logout()
    auth.login(approver)
    assert Html(client.get(f"/g/{hq.id}/campaigns")).has_text("Campaigns your agency plans here show up")
    page = Html(client.get(f"/g/{hq.id}/waiting"))
    assert page.has_text("Nothing waits for your approval.")
    assert page.by_role("link", "see what is planned in the calendar").attributes["href"] == f"/g/{hq.id}/calendar"
