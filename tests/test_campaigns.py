"""Campaigns per access group: the rules (names, dates, profiles, audit) and the pages that use them."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp import campaigns as rules
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Campaign,
    CampaignProfile,
    Network,
    ProfileAccessRemoval,
    Role,
    SocialProfile,
)

from . import factories
from .html import HTMX, Html, squeeze

JUNE_1, JUNE_30 = date(2031, 6, 1), date(2031, 6, 30)


@pytest.fixture
def agency(app):
    """Maya's group with three profiles (one hidden from her), Leo's group with one, and who works there."""
    agency = factories.two_creator_agency()
    agency["youtube"] = factories.make_profile(agency["main"], Network.YOUTUBE, handle="mayavlogs")
    # A client granted campaigns.manage, who removed the YouTube profile she connected.
    agency["planner"] = factories.make_member(agency["account"], Role.CLIENT, groups=[agency["maya"]],
                                              rights=["campaigns.manage"], name="Pat Planner")
    db.session.add(ProfileAccessRemoval(social_profile_id=agency["youtube"].id, user_id=agency["planner"].id))
    db.session.commit()
    return agency


def make_campaign(group, name: str, starts_on=None, ends_on=None, profiles=()) -> Campaign:
    campaign = Campaign(access_group_id=group.id, name=name, starts_on=starts_on, ends_on=ends_on,
                        profiles=list(profiles))
    db.session.add(campaign)
    db.session.commit()
    return campaign


def offered(agency) -> list[SocialProfile]:
    """Everything in Maya's group, as a manager sees it."""
    return [agency["instagram"], agency["tiktok"], agency["youtube"]]


def campaigns_url(group, suffix: str = "") -> str:
    return f"/g/{group.id}/campaigns{suffix}"


def form(name: str = "Summer Launch", starts_on: str = "2031-06-01", ends_on: str = "2031-06-30",
         profiles=()) -> dict:
    return {"name": name, "starts_on": starts_on, "ends_on": ends_on,
            "profiles": [str(getattr(profile, "id", profile)) for profile in profiles]}


def names_in(group) -> list[str]:
    return list(db.session.scalars(
        select(Campaign.name).where(Campaign.access_group_id == group.id).order_by(Campaign.id)))


def campaign_count() -> int:
    return db.session.scalar(select(func.count(Campaign.id)))


def audit_events(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def linked_ids(campaign: Campaign) -> list[int]:
    return sorted(db.session.scalars(
        select(CampaignProfile.social_profile_id).where(CampaignProfile.campaign_id == campaign.id)))


# --- the rules -----------------------------------------------------------------------------------


def test_create_tidies_the_name_links_the_profiles_and_records_it(agency):
    details = rules.CampaignDetails("  Summer   Launch ", JUNE_1, JUNE_30,
                                    (agency["tiktok"].id, agency["instagram"].id, agency["tiktok"].id))
    campaign = rules.create_campaign(agency["maya"], details, offered(agency), agency["manager"])
    db.session.commit()
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == ("Summer Launch", JUNE_1, JUNE_30)
    assert linked_ids(campaign) == sorted([agency["instagram"].id, agency["tiktok"].id])
    [event] = audit_events("campaign.created")
    assert (event.actor_id, event.object_type, event.object_id) == (agency["manager"].id, "campaign", campaign.id)
    assert event.before is None
    assert event.after == {"access_group_id": agency["maya"].id, "name": "Summer Launch",
                           "starts_on": "2031-06-01", "ends_on": "2031-06-30",
                           "profile_ids": sorted([agency["instagram"].id, agency["tiktok"].id])}


def test_a_campaign_may_have_no_dates_or_only_one(agency):
    for name, starts_on, ends_on in [("Evergreen", None, None), ("Open end", JUNE_1, None), ("Deadline", None, JUNE_30)]:
        rules.create_campaign(agency["maya"], rules.CampaignDetails(name, starts_on, ends_on), [], agency["manager"])
    db.session.commit()
    assert names_in(agency["maya"]) == ["Evergreen", "Open end", "Deadline"]


@pytest.mark.parametrize("details, field, message", [
    (rules.CampaignDetails("   "), "name", "Enter a name for the campaign."),
    (rules.CampaignDetails("y" * 121), "name", "Keep the name to 120 characters or fewer."),
    (rules.CampaignDetails("SPRING drop"), "name", "“Maya Lopez” already has a campaign called “SPRING drop”."),
    (rules.CampaignDetails("Late", JUNE_30, JUNE_1), "ends_on", "The end date cannot be before the start date."),
])
def test_create_refuses_bad_names_and_dates(agency, details, field, message):
    make_campaign(agency["maya"], "Spring Drop")
    with pytest.raises(rules.CampaignError) as refused:
        rules.create_campaign(agency["maya"], details, offered(agency), agency["manager"])
    assert (str(refused.value), refused.value.field) == (message, field)
    db.session.rollback()
    assert names_in(agency["maya"]) == ["Spring Drop"] and audit_events("campaign.created") == []


def test_a_name_of_120_characters_and_a_one_day_campaign_are_fine(agency):
    campaign = rules.create_campaign(agency["maya"], rules.CampaignDetails("y" * 120, JUNE_1, JUNE_1), [],
                                     agency["manager"])
    assert len(campaign.name) == 120


def test_a_twin_saved_at_the_same_moment_is_refused_by_the_database(agency, monkeypatch):
    """Both saves checked the name before either was written: the database refuses the second."""
    make_campaign(agency["maya"], "Summer Launch")
    db.session.commit()
    monkeypatch.setattr(rules, "_name_taken", lambda *args, **kwargs: False)
    with pytest.raises(rules.CampaignError, match="already has a campaign called “Summer Launch”"):
        rules.create_campaign(agency["maya"], rules.CampaignDetails("Summer Launch"), [], agency["manager"])
    db.session.rollback()
    assert names_in(agency["maya"]) == ["Summer Launch"]


def test_the_same_name_may_be_used_in_another_group(agency):
    make_campaign(agency["maya"], "Summer Launch")
    rules.create_campaign(agency["leo"], rules.CampaignDetails("summer launch"), [], agency["manager"])
    db.session.commit()
    assert names_in(agency["leo"]) == ["summer launch"]


@pytest.mark.parametrize("which, refused", [("leo_profile", "1 profile you chose is"), ("youtube", "1 profile you chose is"),
                                            ("both", "2 profiles you chose are")])
def test_profiles_not_offered_or_of_another_group_are_refused(agency, which, refused):
    """Only offered profiles of this group: not Leo's, not the YouTube profile hidden from the planner."""
    chosen = [agency["leo_profile"], agency["youtube"]] if which == "both" else [agency[which]]
    shown_to_planner = [agency["instagram"], agency["tiktok"], agency["leo_profile"]]  # a careless caller
    details = rules.CampaignDetails("Launch", profile_ids=tuple(profile.id for profile in chosen))
    with pytest.raises(rules.CampaignError) as error:
        rules.create_campaign(agency["maya"], details, shown_to_planner, agency["planner"])
    assert error.value.field == "profiles"
    assert str(error.value) == (f"{refused} not among the social profiles of “Maya Lopez” you can see, "
                                "so nothing was saved. Choose from the list.")
    db.session.rollback()
    assert campaign_count() == 0


def test_update_records_before_and_after_and_ignores_no_change(agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30, [agency["instagram"]])
    details = rules.CampaignDetails("Summer Launch", JUNE_1, JUNE_30, (agency["instagram"].id,))
    assert rules.update_campaign(campaign, details, offered(agency), agency["manager"]) is False
    assert audit_events("campaign.updated") == []

    details = rules.CampaignDetails("SUMMER launch", JUNE_1, None, (agency["tiktok"].id,))
    assert rules.update_campaign(campaign, details, offered(agency), agency["manager"]) is True
    db.session.commit()
    assert (campaign.name, campaign.ends_on, linked_ids(campaign)) == ("SUMMER launch", None, [agency["tiktok"].id])
    [event] = audit_events("campaign.updated")
    assert event.before["name"] == "Summer Launch" and event.after["name"] == "SUMMER launch"
    assert (event.before["ends_on"], event.after["ends_on"]) == ("2031-06-30", None)
    assert (event.before["profile_ids"], event.after["profile_ids"]) == ([agency["instagram"].id], [agency["tiktok"].id])


def test_update_may_not_take_a_sibling_name(agency):
    make_campaign(agency["maya"], "Spring Drop")
    campaign = make_campaign(agency["maya"], "Summer Launch")
    with pytest.raises(rules.CampaignError, match="already has a campaign called “spring drop”"):
        rules.update_campaign(campaign, rules.CampaignDetails("spring drop"), [], agency["manager"])


def test_update_keeps_links_to_profiles_hidden_from_the_editor(agency):
    """The planner cannot see the YouTube profile, so her edit neither shows nor drops its link."""
    campaign = make_campaign(agency["maya"], "Summer Launch", profiles=[agency["instagram"], agency["youtube"]])
    details = rules.CampaignDetails("Summer Launch", profile_ids=(agency["tiktok"].id,))
    rules.update_campaign(campaign, details, [agency["instagram"], agency["tiktok"]], agency["planner"])
    db.session.commit()
    assert linked_ids(campaign) == sorted([agency["tiktok"].id, agency["youtube"].id])


def test_delete_removes_the_campaign_and_its_links_but_not_the_profiles(agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30, [agency["instagram"]])
    campaign_id = campaign.id
    rules.delete_campaign(campaign, agency["manager"])
    db.session.commit()
    assert campaign_count() == 0
    assert db.session.scalar(select(func.count()).select_from(CampaignProfile)) == 0
    assert db.session.get(SocialProfile, agency["instagram"].id) is not None
    [event] = audit_events("campaign.deleted")
    assert event.object_id == campaign_id and event.after is None
    assert event.before == {"access_group_id": agency["maya"].id, "name": "Summer Launch", "starts_on": "2031-06-01",
                            "ends_on": "2031-06-30", "profile_ids": [agency["instagram"].id]}


DAY = date(2031, 6, 15)


@pytest.mark.parametrize("starts_on, ends_on, status", [
    (None, None, rules.Status.UNDATED),
    (DAY + timedelta(days=1), None, rules.Status.UPCOMING),
    (DAY + timedelta(days=1), DAY + timedelta(days=9), rules.Status.UPCOMING),
    (DAY, DAY, rules.Status.RUNNING),
    (DAY - timedelta(days=5), None, rules.Status.RUNNING),
    (None, DAY, rules.Status.RUNNING),
    (None, DAY - timedelta(days=1), rules.Status.ENDED),
    (DAY - timedelta(days=9), DAY - timedelta(days=1), rules.Status.ENDED),
])
def test_status_on_a_day(starts_on, ends_on, status):
    assert rules.status_on(Campaign(name="c", starts_on=starts_on, ends_on=ends_on), DAY) is status


def test_the_list_puts_running_then_upcoming_then_undated_then_ended(agency):
    today = rules.today()

    def days(n: int) -> date:
        return today + timedelta(days=n)

    for name, starts_on, ends_on in [
        ("Ended long ago", days(-60), days(-30)), ("Ended yesterday", days(-9), days(-1)),
        ("Undated old", None, None), ("Undated new", None, None),
        ("Starts later", days(20), days(40)), ("Starts soon", days(2), None),
        ("Open-ended", days(-3), None), ("Ends soon", days(-3), days(1)), ("Ends later", days(-1), days(9)),
    ]:
        make_campaign(agency["maya"], name, starts_on, ends_on, [agency["youtube"], agency["instagram"]])
    make_campaign(agency["leo"], "Leo's", days(-1), days(1))
    rows = rules.campaign_rows(select(Campaign), agency["maya"], [agency["instagram"], agency["youtube"]], today)
    assert [row.campaign.name for row in rows] == [
        "Ends soon", "Ends later", "Open-ended", "Starts soon", "Starts later",
        "Undated new", "Undated old", "Ended yesterday", "Ended long ago",
    ]
    # Chips follow the networks' order, whatever order they were linked in.
    assert [profile.handle for profile in rows[0].profiles] == ["mayalopez", "mayavlogs"]


def test_the_list_shows_only_linked_profiles_among_those_given(agency):
    make_campaign(agency["maya"], "Summer Launch", profiles=[agency["youtube"], agency["tiktok"]])
    [row] = rules.campaign_rows(select(Campaign), agency["maya"], [agency["instagram"], agency["tiktok"]], DAY)
    assert row.profiles == [agency["tiktok"]]


# --- the list page -------------------------------------------------------------------------------


def test_everyone_in_the_group_sees_the_list_with_dates_status_and_profiles(client, auth, agency):
    today = rules.today()
    make_campaign(agency["maya"], "Summer Launch", today - timedelta(days=1), today + timedelta(days=5),
                  [agency["tiktok"], agency["instagram"]])
    make_campaign(agency["maya"], "Evergreen")
    make_campaign(agency["leo"], "Leo's Tour")
    auth.login(agency["creator"])
    page = Html(client.get(campaigns_url(agency["maya"])))
    assert page.by_role("heading", "Campaigns").tag == "h1" and not page.has_text("Leo's Tour")
    assert "campaign-status-running" in page.by_text("Running").attributes["class"]
    assert "campaign-status-undated" in page.by_text("No dates").attributes["class"]
    yesterday = today - timedelta(days=1)
    starts = page.by_datetime(yesterday.isoformat())
    assert starts.text() == f"{yesterday.day} {yesterday.strftime('%b %Y')}"
    assert squeeze(starts.parent.text()).startswith(f"{starts.text()} – ")
    chips = page.within(page.by_role("list", "Profiles of Summer Launch"))
    assert [squeeze(chip.text()) for chip in chips.all_by_role("listitem")] == [
        "Instagram @mayalopez", "TikTok @mayadances"]
    assert "network-instagram" in chips.by_text("Instagram").attributes["class"]
    # A client without the right sees the list but no way to change it.
    assert not page.has_text("New campaign")
    assert not page.all_by_role("link", re.compile(r"^Edit\b"))
    assert not page.all_by_role("button", re.compile(r"^Delete\b"))
    sidebar = page.within(page.by_role("navigation", "Main"))
    assert sidebar.by_role("link", "Campaigns").attributes.get("aria-current") == "page"


def test_an_empty_list_says_so(client, auth, agency):
    auth.login(agency["manager"])
    page = client.get(campaigns_url(agency["leo"])).get_data(as_text=True)
    assert "“Leo Park” has no campaigns yet. Create one with New campaign: a name, its dates" in page
    auth.login(agency["creator"])
    page = Html(client.get(campaigns_url(agency["maya"])))
    # Someone who may not create one is told what will show here instead.
    assert page.by_text("“Maya Lopez” has no campaigns yet. Campaigns your agency plans here show up with their "
                        "dates and profiles.", "li")


def test_the_form_offers_the_groups_profiles_except_hidden_ones(client, auth, agency):
    make_campaign(agency["maya"], "Summer Launch", profiles=[agency["youtube"], agency["instagram"]])
    auth.login(agency["planner"])
    page = client.get(campaigns_url(agency["maya"])).get_data(as_text=True)
    assert "New campaign" in page
    offered = Html(page)
    assert offered.by_label("Instagram @mayalopez").attributes["value"] == str(agency["instagram"].id)
    assert offered.by_label("TikTok @mayadances").attributes["value"] == str(agency["tiktok"].id)
    assert "@mayavlogs" not in page and "@leopark" not in page
    auth.login(agency["manager"])
    page = client.get(campaigns_url(agency["maya"])).get_data(as_text=True)
    assert page.count("@mayavlogs") == 2  # in the form and as a chip


def test_a_fragment_request_gets_the_main_block(client, auth, agency):
    auth.login(agency["manager"])
    response = client.get(campaigns_url(agency["maya"]), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert Html(body).by_role("heading", "Campaigns").tag == "h1"
    assert "HX-Request" in response.headers["Vary"]


def test_the_switcher_leads_to_the_campaigns_of_the_chosen_group(client, auth, agency):
    auth.login(agency["manager"])
    page = Html(client.get(campaigns_url(agency["maya"])))
    assert page.one("#switcher-options").attributes["hx-get"] == f"/g/{agency['maya'].id}/switcher?section=campaigns"
    options = Html(client.get(f"/g/{agency['maya'].id}/switcher?section=campaigns", headers=HTMX))
    assert options.by_role("link", "Leo Park").attributes["href"] == f"/g/{agency['leo'].id}/campaigns"


# --- creating -------------------------------------------------------------------------------------


def test_create_by_htmx_swaps_the_list_and_flashes(client, auth, agency):
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"]),
                           data=form("  Summer  Launch", profiles=[agency["instagram"], agency["tiktok"]]),
                           headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = Html(body)
    assert "<html" not in body and page.top_level[0].attributes["id"] == "campaigns"
    assert page.has_text("Campaign “Summer Launch” created.") and page.by_role("heading", "Summer Launch").tag == "h2"
    assert "HX-Trigger" not in response.headers  # no page listens for a campaigns event
    assert "open" not in page.one("details.new-campaign").attributes  # a fresh form, folded away
    assert not page.by_label("Name").attributes.get("value")
    [campaign] = db.session.scalars(select(Campaign)).all()
    assert (campaign.starts_on, campaign.ends_on) == (JUNE_1, JUNE_30)
    assert linked_ids(campaign) == sorted([agency["instagram"].id, agency["tiktok"].id])
    assert audit_events("campaign.created")[0].actor_id == agency["manager"].id


def test_create_by_a_plain_form_redirects_to_the_list(client, auth, agency):
    auth.login(agency["owner"])
    response = client.post(campaigns_url(agency["maya"]), data=form(starts_on="", ends_on=""))
    assert response.status_code == 303 and response.location.endswith(campaigns_url(agency["maya"]))
    page = client.get(response.location).get_data(as_text=True)
    assert "Campaign “Summer Launch” created." in page and "No start or end date" in page


@pytest.mark.parametrize("data, field, message", [
    (form(name=""), "name", "Enter a name for the campaign."),
    (form(name="x" * 121), "name", "Keep the name to 120 characters or fewer."),
    (form(name="spring DROP"), "name", "“Maya Lopez” already has a campaign called “spring DROP”."),
    (form(starts_on="2031-06-30", ends_on="2031-06-01"), "ends_on", "The end date cannot be before the start date."),
    (form(starts_on="31/06/2031"), "starts_on", "Not a valid date value."),
    (form(profiles=["leo_profile"]), "profiles", "1 profile you chose is not among the social profiles of “Maya Lopez”"),
    (form(profiles=["youtube"]), "profiles", "1 profile you chose is not among the social profiles of “Maya Lopez”"),
    (form(profiles=["999999"]), "profiles", "1 profile you chose is not among the social profiles of “Maya Lopez”"),
    (form(profiles=["abc"]), "profiles", "Choose the profiles from the list."),
])
def test_bad_input_answers_422_with_the_reason_and_changes_nothing(client, auth, agency, data, field, message):
    make_campaign(agency["maya"], "Spring Drop")
    data["profiles"] = [str(agency[value].id) if value in agency else value for value in data["profiles"]]
    auth.login(agency["planner"])  # the YouTube profile is hidden from her
    response = client.post(campaigns_url(agency["maya"]), data=data, headers=HTMX)
    assert response.status_code == 422
    page = Html(response)
    assert page.top_level[0].attributes["id"] == "campaigns" and "open" in page.one("details.new-campaign").attributes
    error = page.one(f"#{field}-error")
    assert error.attributes["role"] == "alert" and squeeze(error.text()).startswith(message)
    assert page.css("[aria-invalid=true]")
    assert names_in(agency["maya"]) == ["Spring Drop"] and audit_events("campaign.created") == []


def test_a_refused_form_keeps_what_was_typed(client, auth, agency):
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"]), headers=HTMX, data=form(
        name="Late", starts_on="2031-06-30", ends_on="2031-06-01", profiles=[agency["tiktok"]]))
    page = Html(response)
    assert [page.by_label(label).attributes["value"] for label in ("Name", "Start date", "End date")] == [
        "Late", "2031-06-30", "2031-06-01"]
    assert page.checked("profiles") == [str(agency["tiktok"].id)]
    ends_on = page.by_label("End date")
    assert ends_on.attributes["aria-invalid"] == "true"
    assert page.description_of(ends_on) == "The end date cannot be before the start date."


def test_bad_input_without_htmx_gets_the_whole_page_with_422(client, auth, agency):
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"]), data=form(name=""))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and "Enter a name for the campaign." in body


# --- editing --------------------------------------------------------------------------------------


def test_the_edit_page_shows_the_campaign_as_it_is(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30, [agency["tiktok"], agency["youtube"]])
    auth.login(agency["planner"])
    page = client.get(campaigns_url(agency["maya"], f"/{campaign.id}/edit")).get_data(as_text=True)
    form = Html(page)
    assert "<html" in page and form.by_role("heading", "Edit “Summer Launch”").tag == "h1"
    assert [form.by_label(label).attributes["value"] for label in ("Name", "Start date", "End date")] == [
        "Summer Launch", "2031-06-01", "2031-06-30"]
    assert str(agency["tiktok"].id) in form.checked("profiles")
    assert "@mayavlogs" not in page  # hidden from her, so not offered
    fragment = client.get(campaigns_url(agency["maya"], f"/{campaign.id}/edit"), headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and Html(fragment).by_role("heading", "Edit “Summer Launch”").tag == "h1"


def test_update_by_htmx_shows_the_list_at_its_own_address(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30, [agency["instagram"]])
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"], f"/{campaign.id}"), headers=HTMX,
                           data=form("Summer Finale", "2031-06-10", "", profiles=[agency["tiktok"]]))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and Html(body).by_role("heading", "Campaigns").tag == "h1"
    assert Html(body).has_text("Campaign “Summer Finale” saved.")
    assert response.headers["HX-Push-Url"] == campaigns_url(agency["maya"])
    assert "HX-Trigger" not in response.headers  # no page listens for a campaigns event
    db.session.expire_all()
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == ("Summer Finale", date(2031, 6, 10), None)
    assert linked_ids(campaign) == [agency["tiktok"].id]
    [event] = audit_events("campaign.updated")
    assert event.before["name"] == "Summer Launch" and event.after["starts_on"] == "2031-06-10"


def test_update_by_a_plain_form_redirects_and_says_when_nothing_changed(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30, [agency["instagram"]])
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"], f"/{campaign.id}"),
                           data=form(profiles=[agency["instagram"]]))
    assert response.status_code == 303 and response.location.endswith(campaigns_url(agency["maya"]))
    assert "“Summer Launch” is unchanged." in client.get(response.location).get_data(as_text=True)
    assert audit_events("campaign.updated") == []


def test_a_refused_update_shows_the_edit_form_again_and_changes_nothing(client, auth, agency):
    make_campaign(agency["maya"], "Spring Drop")
    campaign = make_campaign(agency["maya"], "Summer Launch", JUNE_1, JUNE_30)
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"], f"/{campaign.id}"), headers=HTMX,
                           data=form("Spring drop", profiles=[agency["leo_profile"]]))
    assert response.status_code == 422
    page = Html(response)
    assert page.by_role("heading", "Edit “Summer Launch”").tag == "h1"
    assert page.by_label("Name").attributes["value"] == "Spring drop"
    assert page.has_text("“Maya Lopez” already has a campaign called “Spring drop”.")
    db.session.expire_all()
    assert names_in(agency["maya"]) == ["Spring Drop", "Summer Launch"] and audit_events("campaign.updated") == []


# --- deleting -------------------------------------------------------------------------------------


def test_the_list_asks_before_deleting(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch")
    auth.login(agency["manager"])
    page = Html(client.get(campaigns_url(agency["maya"])))
    dialog = page.opened_by(page.by_role("button", re.compile(r"^Delete Summer Launch\b")))
    assert dialog.attributes["id"] == f"delete-campaign-{campaign.id}"
    assert page.name_of(dialog) == "Delete “Summer Launch”?"
    inside = page.within(dialog)
    assert "data-dialog-close" in inside.by_role("button", "Cancel").attributes
    assert inside.one("form").attributes["action"] == campaigns_url(agency["maya"], f"/{campaign.id}/delete")


def test_delete_by_htmx_swaps_the_list(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch", profiles=[agency["instagram"]])
    make_campaign(agency["maya"], "Evergreen")
    auth.login(agency["manager"])
    response = client.post(campaigns_url(agency["maya"], f"/{campaign.id}/delete"), headers=HTMX)
    assert response.status_code == 200
    page = Html(response)
    assert page.top_level[0].attributes["id"] == "campaigns" and page.has_text("Campaign “Summer Launch” deleted.")
    assert not page.all_by_role("heading", "Summer Launch") and page.by_role("heading", "Evergreen").tag == "h2"
    assert names_in(agency["maya"]) == ["Evergreen"]
    assert audit_events("campaign.deleted")[0].before["name"] == "Summer Launch"


def test_delete_by_a_plain_form_redirects_to_the_list(client, auth, agency):
    campaign = make_campaign(agency["maya"], "Summer Launch")
    auth.login(agency["owner"])
    response = client.post(campaigns_url(agency["maya"], f"/{campaign.id}/delete"))
    assert response.status_code == 303 and response.location.endswith(campaigns_url(agency["maya"]))
    assert campaign_count() == 0


# --- who may do what ------------------------------------------------------------------------------


ONE_CAMPAIGN = [("GET", "/{id}/edit"), ("POST", "/{id}"), ("POST", "/{id}/delete")]


@pytest.mark.parametrize("who, campaign_group, method, suffix, status", [
    # Leo's campaign under Maya's address is not found, even by a manager of both groups.
    *[("manager", "leo", method, suffix, 404) for method, suffix in ONE_CAMPAIGN],
    # A client sees Maya's campaigns but may not create or change them.
    *[("creator", "maya", method, suffix, 403) for method, suffix in [("POST", ""), *ONE_CAMPAIGN]],
])
def test_managing_is_refused_and_changes_nothing(client, auth, agency, who, campaign_group, method, suffix, status):
    campaign = make_campaign(agency[campaign_group], "Summer Launch")
    auth.login(agency[who])
    response = client.open(campaigns_url(agency["maya"], suffix.format(id=campaign.id)), method=method,
                           data=form("Changed"))
    assert response.status_code == status
    assert names_in(agency[campaign_group]) == ["Summer Launch"] and campaign_count() == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_a_client_granted_the_right_manages_campaigns(client, auth, agency):
    auth.login(agency["planner"])
    response = client.post(campaigns_url(agency["maya"]), data=form(profiles=[agency["instagram"]]))
    assert response.status_code == 303 and names_in(agency["maya"]) == ["Summer Launch"]


def test_outsiders_do_not_find_the_groups_campaigns(client, auth, agency):
    campaign = make_campaign(agency["leo"], "Leo's Tour")
    auth.login(agency["creator"])  # not in Leo's group
    assert client.get(campaigns_url(agency["leo"])).status_code == 404
    assert client.get(campaigns_url(agency["leo"], f"/{campaign.id}/edit")).status_code == 404
    rival = factories.make_account("Rival")
    db.session.commit()
    auth.login(factories.owner_of(rival))
    assert client.get(campaigns_url(agency["maya"])).status_code == 404
    assert client.post(campaigns_url(agency["leo"], f"/{campaign.id}/delete")).status_code == 404
    assert names_in(agency["leo"]) == ["Leo's Tour"]



def test_a_long_list_shows_its_first_campaigns_and_offers_the_rest(client, auth, agency, count_queries):
    today = rules.today()
    running = make_campaign(agency["maya"], "Now On", today - timedelta(days=1), today + timedelta(days=1))
    for n in range(rules.SHOWN + 4):
        make_campaign(agency["maya"], f"Old {n:02}", today - timedelta(days=60 + n), today - timedelta(days=30 + n))
    auth.login(agency["manager"])
    url = campaigns_url(agency["maya"])
    client.get(url)  # the first request after signing in also notes the visit
    with count_queries() as first_queries:
        page = Html(client.get(url))
    names = [heading.text() for heading in page.css("h2.campaign-name")]
    assert len(names) == rules.SHOWN and names[0] == running.name  # running first, then the latest ended
    assert names[1:] == [f"Old {n:02}" for n in range(rules.SHOWN - 1)]
    more = page.by_role("link", f"Show all {rules.SHOWN + 5} campaigns").attributes
    assert more["href"] == more["hx-get"] == campaigns_url(agency["maya"], "?all=1") and more["hx-target"] == "#main"

    with count_queries() as all_queries:
        every = Html(client.get(more["href"]))
    assert len(every.css("h2.campaign-name")) == rules.SHOWN + 5 and not every.has_text("Show all")
    assert all_queries.count == first_queries.count

    # A campaign created where the first page would not show it is shown all the same.
    response = client.post(campaigns_url(agency["maya"]), headers=HTMX,
                           data=form("Older Still", (today - timedelta(days=400)).isoformat(),
                                     (today - timedelta(days=300)).isoformat()))
    assert response.status_code == 200 and Html(response).by_role("heading", "Older Still")
