"""Settings › Activity: the audit log in words, newest first, for the owner (everything) and admins (the
groups they may enter), filtered, paged by key, and as a CSV of the filtered rows."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, insert, select, update

from webapp import access_groups, activity, audit, media, posts, social_sets
from webapp.extensions import db
from webapp.models import AccessGroup, AuditEvent, Campaign, Role
from webapp.paging import encode_key
from webapp.zones import TimeStyle

from . import factories
from .html import HTMX, Html, squeeze

PAGE = "/settings/activity"
CSV = "/settings/activity.csv"
SPRING = datetime(2031, 12, 8, 13, 0, tzinfo=timezone.utc)  # Mon 8 Dec 2031, 14:00 in Berlin (CET)


@pytest.fixture
def agency():
    """Northstar (in Berlin): an admin who enters HQ, Maya Lopez and Leo Park but not Secret; a manager who
    moved media and scheduled a post; events of every scope; and Rival next door with one event of its own."""
    account = factories.make_account("Northstar")
    account.time_zone = "Europe/Berlin"
    hq = factories.default_group(account)
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    secret = factories.make_group(account, "Secret")
    owner = factories.owner_of(account)
    owner.name = "Olivia Owner"
    admin = factories.make_member(account, Role.ADMIN, groups=[hq, maya, leo], name="Ada Admin")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Okafor")
    client = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    profile = factories.make_profile(factories.make_social_set(maya), handle="maya")
    items = [factories.make_media(maya) for _ in range(12)]
    db.session.commit()

    audit.record(account.id, owner.id, "account.settings_changed", "account", account.id,
                 before={"name": "North"}, after={"name": "Northstar"})
    [post] = posts.create_posts(maya, posts.Draft([profile], "Spring launch", [factories.make_photo(maya)], SPRING),
                                manager, schedule=True)
    media.move_media_items(maya, [item.id for item in items], leo, manager)
    access_groups.add_user(leo, client.id, admin)
    social_sets.create_social_set(secret, "Hidden set", owner)
    audit.record(account.id, owner.id, "media.moved", "access_group", maya.id,
                 before={"access_group_id": maya.id, "access_group": "Maya Lopez", "media_item_ids": [1]},
                 after={"access_group_id": secret.id, "access_group": "Secret", "media_item_ids": [1]},
                 group_id=maya.id, related_group_id=secret.id)
    rival = factories.make_account("Rival")
    rival_owner = factories.owner_of(rival)
    audit.record(rival.id, rival_owner.id, "account.settings_changed", "account", rival.id,
                 before={"clock": "24h"}, after={"clock": "12h"})
    db.session.commit()
    return {"account": account, "hq": hq, "maya": maya, "leo": leo, "secret": secret, "owner": owner,
            "admin": admin, "manager": manager, "client": client, "post": post, "rival": rival,
            "rival_owner": rival_owner}


def sentences(response) -> list[str]:
    """The events of the list, as read in its Event column, newest first."""
    page = Html(response)
    return [squeeze(cell.text()) for cell in page.tree.css("td[data-label=Event]")]


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


OWNER_SEES = [
    "Olivia Owner moved 1 media item from Maya Lopez to Secret",
    "Olivia Owner created the social set “Hidden set”",
    "Ada Admin gave Maya Lopez entry to Leo Park",
    "Sam Okafor moved 12 media items from Maya Lopez to Leo Park",
    "Sam Okafor scheduled “Spring launch” for Mon 8 Dec, 14:00 CET",
    "Sam Okafor created the post “Spring launch”",
    "Olivia Owner changed the agency's name",
]


# --- who sees what ----------------------------------------------------------------------------------


def test_the_owner_reads_every_event_of_the_agency_in_words_newest_first(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(PAGE)
    assert response.status_code == 200
    assert sentences(response) == OWNER_SEES


def test_an_admin_reads_only_events_of_groups_they_may_enter_and_of_the_agency(client, auth, agency):
    auth.login(agency["admin"])
    response = client.get(PAGE)
    assert response.status_code == 200
    # Not the set created in Secret, nor the move into it (it names Secret, which the admin cannot enter).
    assert sentences(response) == [s for s in OWNER_SEES if "Secret" not in s and "Hidden set" not in s]
    groups = [option.text() for option in Html(response).by_label("Access group").css("option")]
    assert groups == ["All access groups", "Leo Park", "Maya Lopez", "Northstar HQ"]


@pytest.mark.parametrize("who", ["manager", "client"])
def test_managers_and_clients_may_not_read_the_activity(client, auth, agency, who):
    auth.login(agency[who])
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403
    settings = Html(client.get("/settings/account"))
    assert not settings.tree.css("nav[aria-label=Settings] a[href='/settings/activity']")


def test_the_settings_menu_leads_owners_and_admins_to_the_activity(client, auth, agency):
    auth.login(agency["admin"])
    settings = Html(client.get("/settings/account"))
    assert settings.within(settings.by_role("navigation", "Settings")).by_role("link", "Activity")


def test_another_agency_reads_only_its_own_events(client, auth, agency):
    auth.login(agency["rival_owner"])
    assert sentences(client.get(PAGE)) == ["Rival Owner changed the agency's clock"]
    assert [row["Event"] for row in csv_rows(client.get(CSV))] == ["Rival Owner changed the agency's clock"]


def test_an_admin_may_not_filter_by_a_group_they_cannot_enter(client, auth, agency):
    auth.login(agency["admin"])
    assert client.get(f"{PAGE}?group={agency['secret'].id}").status_code == 404
    assert client.get(f"{CSV}?group={agency['secret'].id}").status_code == 404
    auth.logout()
    auth.login(agency["owner"])
    assert sentences(client.get(f"{PAGE}?group={agency['secret'].id}")) == OWNER_SEES[:2]


def test_a_person_or_group_of_another_agency_is_not_found(client, auth, agency):
    auth.login(agency["owner"])
    assert client.get(f"{PAGE}?person={agency['rival_owner'].id}").status_code == 404
    rival_group = factories.default_group(agency["rival"])
    assert client.get(f"{PAGE}?group={rival_group.id}").status_code == 404
    assert client.get(f"{PAGE}?kind=everything").status_code == 404


# --- filters ---------------------------------------------------------------------------------------


def test_filtering_by_person(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(f"{PAGE}?person={agency['manager'].id}")
    assert sentences(response) == [s for s in OWNER_SEES if s.startswith("Sam Okafor")]
    assert Html(response).by_label("Person").css_first("option[selected]").text() == "Sam Okafor"


def test_filtering_by_group_finds_moves_into_it_and_out_of_it(client, auth, agency):
    auth.login(agency["owner"])
    assert sentences(client.get(f"{PAGE}?group={agency['leo'].id}")) == [
        "Ada Admin gave Maya Lopez entry to Leo Park",
        "Sam Okafor moved 12 media items from Maya Lopez to Leo Park",
    ]
    assert sentences(client.get(f"{PAGE}?group={agency['maya'].id}")) == [
        "Olivia Owner moved 1 media item from Maya Lopez to Secret",
        "Sam Okafor moved 12 media items from Maya Lopez to Leo Park",
        "Sam Okafor scheduled “Spring launch” for Mon 8 Dec, 14:00 CET",
        "Sam Okafor created the post “Spring launch”",
    ]


@pytest.mark.parametrize("kind, expected", [
    ("posts", ["Sam Okafor scheduled “Spring launch” for Mon 8 Dec, 14:00 CET", "Sam Okafor created the post “Spring launch”"]),
    ("media", ["Olivia Owner moved 1 media item from Maya Lopez to Secret",
               "Sam Okafor moved 12 media items from Maya Lopez to Leo Park"]),
    ("people", ["Ada Admin gave Maya Lopez entry to Leo Park"]),
    ("profiles", ["Olivia Owner created the social set “Hidden set”"]),
    ("settings", ["Olivia Owner changed the agency's name"]),
    ("campaigns", []),
])
def test_filtering_by_kind(client, auth, agency, kind, expected):
    auth.login(agency["owner"])
    assert sentences(client.get(f"{PAGE}?kind={kind}")) == expected


def test_each_kind_filter_finds_exactly_the_verbs_of_that_kind(app, agency):
    """The SQL of a kind and `kind_of` agree on every verb with words, and on look-alike verbs."""
    verbs = [*activity.SENTENCES, "access_group.user_someday", "user_group_x.y", "socialXset.created", "nothing.known"]
    db.session.execute(insert(AuditEvent), [
        {"account_id": agency["account"].id, "actor_id": None, "verb": verb, "object_type": "thing"} for verb in verbs
    ])
    scope = activity.Scope(agency["account"].id, None)
    every = {event.verb for event in db.session.scalars(activity.events(scope, activity.Filters(), timezone.utc))}
    for key in activity.KINDS:
        found = {event.verb for event in db.session.scalars(
            activity.events(scope, activity.Filters(kind=key), timezone.utc))}
        assert found == {verb for verb in every if activity.kind_of(verb) == key}, key
        assert found, f"no verb of {key}"
    assert all(activity.kind_of(verb) for verb in activity.SENTENCES)
    assert activity.kind_of("access_group.user_added") == "people"
    assert activity.kind_of("access_group.renamed") == "settings"
    assert activity.kind_of("socialXset.created") is None
    assert activity.kind_of("nothing.known") is None


def test_filtering_by_days_reads_them_in_the_viewers_time_zone(client, auth, agency):
    """23:30 UTC on 1 March is already 2 March in Berlin: it belongs to 2 March."""
    late = datetime(2030, 3, 1, 23, 30, tzinfo=timezone.utc)
    event = audit.record(agency["account"].id, agency["owner"].id, "user.password_changed", "user", agency["owner"].id)
    db.session.flush()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(created_at=late))
    db.session.commit()
    auth.login(agency["owner"])
    assert sentences(client.get(f"{PAGE}?start=2030-03-02&end=2030-03-02")) == ["Olivia Owner changed their password"]
    assert sentences(client.get(f"{PAGE}?start=2030-03-01&end=2030-03-01")) == []
    assert "Olivia Owner changed their password" not in sentences(client.get(f"{PAGE}?end=2030-03-01"))
    assert "Olivia Owner changed their password" in sentences(client.get(f"{PAGE}?end=2030-03-02"))
    today = datetime.now(timezone.utc).date()
    assert sentences(client.get(f"{PAGE}?start={today - timedelta(days=1)}&end={today + timedelta(days=1)}")) == OWNER_SEES


def test_days_that_make_no_range_are_refused_with_a_message(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(f"{PAGE}?start=2030-03-05&end=2030-03-01")
    assert response.status_code == 422
    assert "The last day comes before the first day." in Html(response).by_role("alert").text()
    assert sentences(response) == []
    assert client.get(f"{PAGE}?start=not-a-day").status_code == 422
    assert client.get(f"{CSV}?start=2030-03-05&end=2030-03-01").status_code == 422


def test_an_empty_list_says_what_to_do(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(f"{PAGE}?kind=campaigns")
    page = Html(response)
    assert "Nothing matches these filters." in squeeze(page.tree.css_first(".empty-state").text())
    assert page.by_role("link", "show all activity").attributes["href"] == PAGE


def test_the_filters_answer_htmx_with_the_list_alone(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(f"{PAGE}?kind=media", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="activity"')
    assert "<form" not in body
    assert len(sentences(response)) == 2


# --- paging ----------------------------------------------------------------------------------------


def test_paging_by_key_has_no_repeats_or_gaps_both_ways(client, auth, agency):
    account, owner = agency["account"], agency["owner"]
    db.session.execute(delete(AuditEvent).where(AuditEvent.account_id == account.id))
    db.session.execute(insert(AuditEvent), [
        {"account_id": account.id, "actor_id": owner.id, "verb": "social_set.created", "object_type": "social_set",
         "after": {"name": f"Set {n:03d}"}} for n in range(120)
    ])
    db.session.commit()
    auth.login(owner)
    seen, url, pages = [], PAGE, []
    while url:
        response = client.get(url)
        page = Html(response)
        pages.append(sentences(response))
        seen += pages[-1]
        older = page.tree.css_first("a[rel=next]")
        url = older.attributes["href"] if older else None
    assert [len(rows) for rows in pages] == [50, 50, 20]
    assert seen == [f"Olivia Owner created the social set “Set {n:03d}”" for n in reversed(range(120))]
    # Newer from the last page leads back through the same pages.
    newer = Html(client.get(_older_of(client, 2))).by_role("link", "Newer").attributes["href"]
    assert sentences(client.get(newer)) == pages[1]
    first_newer = Html(client.get(newer)).by_role("link", "Newer").attributes["href"]
    back = client.get(first_newer)
    assert sentences(back) == pages[0]
    assert not Html(back).tree.css("a[rel=prev]")


def _older_of(client, times: int) -> str:
    """The URL of the page `times` Older links down."""
    url = PAGE
    for _ in range(times):
        url = Html(client.get(url)).by_role("link", "Older").attributes["href"]
    return url


def test_a_page_keeps_its_filters_and_a_malformed_cursor_means_the_newest(client, auth, agency):
    auth.login(agency["owner"])
    account = agency["account"]
    db.session.execute(insert(AuditEvent), [
        {"account_id": account.id, "actor_id": agency["manager"].id, "verb": "post.commented", "object_type": "post",
         "object_id": agency["post"].id, "access_group_id": agency["maya"].id} for _ in range(60)
    ])
    db.session.commit()
    response = client.get(f"{PAGE}?kind=posts&person={agency['manager'].id}")
    older = Html(response).by_role("link", "Older").attributes["href"]
    assert "kind=posts" in older and f"person={agency['manager'].id}" in older
    second = sentences(client.get(older))
    assert second == ["Sam Okafor commented on “Spring launch”"] * 10 + [
        "Sam Okafor scheduled “Spring launch” for Mon 8 Dec, 14:00 CET", "Sam Okafor created the post “Spring launch”"]
    assert sentences(client.get(f"{PAGE}?older=garbage")) == sentences(client.get(PAGE))
    assert sentences(client.get(f"{PAGE}?older={encode_key([1])}")) == []


# --- words ----------------------------------------------------------------------------------------


def record_words(agency, verb: str, object_type: str, object_id=None, before=None, after=None, **groups) -> str:
    """The sentence of one event the owner reads."""
    event = audit.record(agency["account"].id, agency["owner"].id, verb, object_type, object_id,
                         before=before, after=after, **groups)
    db.session.flush()
    style = TimeStyle(zone=ZoneInfo("Europe/Berlin"))
    [entry] = activity.entries([event], agency["account"], activity.Scope(agency["account"].id, None), style)
    return entry.sentence


def test_words_of_the_main_verbs(app, agency):
    maya, leo, post, client = agency["maya"], agency["leo"], agency["post"], agency["client"]
    spring = SPRING.isoformat()
    later = (SPRING + timedelta(days=1, hours=2)).isoformat()
    cases = [
        ("post.rescheduled", "post", post.id, {"scheduled_at": spring}, {"scheduled_at": later}, {},
         "Olivia Owner moved “Spring launch” from Mon 8 Dec, 14:00 CET to Tue 9 Dec, 16:00 CET"),
        ("post.approve", "post", post.id, None, {"status": "approved", "via_link": True}, {},
         "Olivia Owner approved “Spring launch” through a review link"),
        ("post.deleted", "post", 999999, {"caption": "Gone but recorded\nsecond line"}, None, {},
         "Olivia Owner deleted the post “Gone but recorded”"),
        ("media.uploaded", "media_item", 1, None, {"name": "cover.png"}, {}, "Olivia Owner uploaded “cover.png”"),
        ("media.deleted", "access_group", maya.id, {"media_items": [{"id": 1, "name": "a.png"}, {"id": 2, "name": "b"}]},
         None, {"group_id": maya.id}, "Olivia Owner deleted 2 media items"),
        ("access_group.user_removed", "access_group", leo.id, {"user_id": client.id, "email": client.email}, None,
         {"group_id": leo.id}, "Olivia Owner removed Maya Lopez from Leo Park"),
        ("access_group.renamed", "access_group", leo.id, {"name": "Leo"}, {"name": "Leo Park"}, {"group_id": leo.id},
         "Olivia Owner renamed the access group “Leo” to “Leo Park”"),
        ("member.role_changed", "user", client.id, {"role": "client"}, {"role": "manager", "rights": []}, {},
         "Olivia Owner made Maya Lopez manager"),
        ("member.rights_changed", "user", client.id, {"role": "client", "rights": ["posts.approve"]},
         {"role": "client", "rights": ["posts.publish"]}, {},
         "Olivia Owner changed the rights of Maya Lopez (gave Publish and schedule posts; took away Approve posts)"),
        ("invitation.created", "invitation", 1, None, {"email": "new@example.test", "role": "client"}, {},
         "Olivia Owner invited new@example.test as client"),
        ("profile.connected", "social_profile", 999999, None, {"network": "instagram", "handle": "gone"}, {},
         "Olivia Owner connected Instagram @gone"),
        ("social_profile.moved", "social_profile", post.social_profile_id, None, None,
         {"group_id": maya.id, "related_group_id": leo.id}, "Olivia Owner moved Instagram @maya from Maya Lopez to Leo Park"),
        ("user.signed_out_elsewhere", "user", agency["owner"].id, None, {"sessions_ended": 2}, {},
         "Olivia Owner signed out everywhere else"),
        ("access_group.checklist_dismissed", "access_group", leo.id, None, None, {"group_id": leo.id},
         "Olivia Owner hid the getting-started checklist of Leo Park"),
    ]
    for verb, object_type, object_id, before, after, groups, expected in cases:
        assert record_words(agency, verb, object_type, object_id, before, after, **groups) == expected, verb


def test_the_publisher_and_a_deleted_person_have_names(app, agency):
    post = agency["post"]
    event = audit.record(agency["account"].id, None, "post.published", "post", post.id, group_id=post.access_group_id)
    gone = factories.make_member(agency["account"], Role.MANAGER, name="Gone Person")
    left = audit.record(agency["account"].id, gone.id, "post.commented", "post", post.id)
    db.session.flush()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == left.id).values(actor_id=None))
    db.session.flush()
    db.session.refresh(left)
    published, commented = activity.entries([event, left], agency["account"],
                                            activity.Scope(agency["account"].id, None), TimeStyle())
    assert published.sentence == "Roster published “Spring launch”"
    assert commented.sentence == "A former member commented on “Spring launch”"


def test_an_admin_reads_no_current_name_of_a_thing_now_in_a_group_they_cannot_enter(client, auth, agency):
    maya, secret, account = agency["maya"], agency["secret"], agency["account"]
    campaign = Campaign(access_group_id=maya.id, name="Secret launch")
    db.session.add(campaign)
    db.session.flush()
    audit.record(account.id, agency["manager"].id, "campaign.updated", "campaign", campaign.id, group_id=maya.id)
    campaign.access_group_id = secret.id
    db.session.commit()
    auth.login(agency["admin"])
    assert sentences(client.get(f"{PAGE}?kind=campaigns")) == ["Sam Okafor changed a campaign"]
    auth.logout()
    auth.login(agency["owner"])
    assert sentences(client.get(f"{PAGE}?kind=campaigns")) == ["Sam Okafor changed the campaign “Secret launch”"]


def test_a_deleted_group_is_named_as_the_event_recorded_it(client, auth, agency):
    maya, account, owner = agency["maya"], agency["account"], agency["owner"]
    pop_up = factories.make_group(account, "Pop-up")
    audit.record(account.id, owner.id, "media.moved", "access_group", maya.id,
                 before={"access_group_id": maya.id, "access_group": "Maya Lopez", "media_item_ids": [1, 2]},
                 after={"access_group_id": pop_up.id, "access_group": "Pop-up", "media_item_ids": [1, 2]},
                 group_id=maya.id, related_group_id=pop_up.id)
    audit.record(account.id, owner.id, "access_group.deleted", "access_group", pop_up.id,
                 before={"name": "Pop-up"}, group_id=pop_up.id)
    db.session.execute(delete(AccessGroup).where(AccessGroup.id == pop_up.id))
    db.session.commit()
    auth.login(owner)
    page = Html(client.get(PAGE))
    moved = page.by_role("row", re.compile(r"Olivia Owner moved 2 media items"))
    assert squeeze(moved.text()).endswith("Olivia Owner moved 2 media items from Maya Lopez to Pop-up "
                                          "Maya Lopez → Pop-up Media")
    deleted = page.by_role("row", re.compile(r"Olivia Owner deleted the access group"))
    assert squeeze(deleted.text()).endswith("Olivia Owner deleted the access group “Pop-up” Pop-up Settings")


def test_a_verb_without_words_reads_as_its_name(app, agency):
    assert record_words(agency, "media.colour_fixed", "media_item", 3) == "Olivia Owner: media colour fixed"


# --- the CSV --------------------------------------------------------------------------------------


def test_the_csv_holds_the_filtered_rows_with_both_times(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(f"{CSV}?kind=media")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="activity-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert list(rows[0]) == list(activity.CSV_HEADER)
    assert [(row["Person"], row["Access group"], row["Kind"], row["Event"]) for row in rows] == [
        ("Olivia Owner", "Maya Lopez → Secret", "Media", "Olivia Owner moved 1 media item from Maya Lopez to Secret"),
        ("Sam Okafor", "Maya Lopez → Leo Park", "Media", "Sam Okafor moved 12 media items from Maya Lopez to Leo Park"),
    ]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "media.moved")
                               .order_by(AuditEvent.id.desc())).first()
    utc = datetime.fromisoformat(rows[0]["Time (UTC)"])
    local = datetime.fromisoformat(rows[0]["Time (local)"])
    assert utc == event.created_at.replace(microsecond=0) == local
    assert utc.utcoffset() == timedelta(0) and local.utcoffset() in (timedelta(hours=1), timedelta(hours=2))


def test_the_csv_of_an_admin_holds_only_what_they_may_read(client, auth, agency):
    auth.login(agency["admin"])
    rows = csv_rows(client.get(CSV))
    assert [row["Event"] for row in rows] == [s for s in OWNER_SEES if "Secret" not in s and "Hidden set" not in s]


def test_the_csv_reads_every_matching_row_past_a_page_and_keeps_formulas_as_text(client, auth, agency):
    account, owner = agency["account"], agency["owner"]
    db.session.execute(insert(AuditEvent), [
        {"account_id": account.id, "actor_id": owner.id, "verb": "social_set.created", "object_type": "social_set",
         "after": {"name": f"=cmd{n}"}} for n in range(1200)
    ])
    db.session.commit()
    auth.login(owner)
    rows = csv_rows(client.get(f"{CSV}?person={owner.id}&kind=profiles"))
    assert len(rows) == 1201  # 1,200 sets and the "Hidden set", across several reads of 500
    assert rows[0]["Event"] == "Olivia Owner created the social set “=cmd1199”"
    assert rows[-1]["Event"] == "Olivia Owner created the social set “Hidden set”"
    assert len({row["Event"] for row in rows}) == 1201


def test_the_csv_stops_at_its_cap(app, agency):
    scope = activity.Scope(agency["account"].id, None)
    batches = list(activity.batches(scope, activity.Filters(), timezone.utc, limit=5, size=2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    ids = [event.id for batch in batches for event in batch]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5


def test_the_page_links_its_csv_with_the_same_filters(client, auth, agency):
    auth.login(agency["owner"])
    since = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    page = Html(client.get(f"{PAGE}?kind=media&start={since}"))
    href = page.by_role("link", "Download CSV").attributes["href"]
    assert href.startswith(CSV) and "kind=media" in href and f"start={since}" in href
    assert [row["Kind"] for row in csv_rows(client.get(href))] == ["Media", "Media"]
