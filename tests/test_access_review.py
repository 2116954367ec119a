"""Settings › Access review: who can enter which group with which rights and through what, its CSV,
and the "Why?" explainer that says yes or no with every path behind the answer."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import update

from webapp import access_review as rules
from webapp import paging
from webapp.extensions import db
from webapp.models import Membership, Role, UserGroupMember, utcnow
from webapp.policy import RIGHTS
from webapp.rights import label

from . import factories
from .html import HTMX, Html, squeeze

PAGE = "/settings/access-review"
CSV = "/settings/access-review.csv"
WHY = "/settings/access-review/why"
WHY_FORM = "/settings/access-review/why/form"


@pytest.fixture
def agency():
    """An agency whose members reach groups by the Users tab, a user group, both, or as owner."""
    account = factories.make_account("Northstar")
    hq = factories.default_group(account)
    mila = factories.make_group(account, "Mila Rose")
    leo = factories.make_group(account, "Leo Park")
    owner = factories.owner_of(account)
    past = utcnow() - timedelta(days=1)
    soon = utcnow() + timedelta(days=30)
    people = {
        "admin": factories.make_member(account, Role.ADMIN, groups=[hq], name="Alex Admin"),
        "manager": factories.make_member(account, Role.MANAGER, groups=[mila], name="Sam Manager"),
        # Dana: on Mila's Users tab, and in Creators (granted on Mila and Leo); analytics both ways.
        "dana": factories.make_member(account, Role.CLIENT, groups=[mila], rights=["analytics.view"],
                                      name="Dana Client", email="dana@example.test"),
        # Carl: only through Creators, and only until `soon`.
        "carl": factories.make_member(account, Role.CLIENT, name="Carl Client"),
        "eve": factories.make_member(account, Role.CLIENT, groups=[mila], name="Eve Ended"),
        "fred": factories.make_member(account, Role.CLIENT, groups=[mila], name="Fred Gone"),
    }
    creators = factories.make_user_group(
        account, "Creators", rights=["media.view", "media.upload", "analytics.view"],
        members=[people["dana"], people["carl"]], grants=[mila, leo],
    )
    db.session.execute(update(UserGroupMember).where(UserGroupMember.user_id == people["carl"].id)
                       .values(expires_at=soon))
    # Sam's way into Leo ended yesterday; Eve's membership ended; Fred was deactivated.
    factories.add_to_group(people["manager"], leo, expires_at=past)
    db.session.execute(update(Membership).where(Membership.user_id == people["eve"].id).values(expires_at=past))
    db.session.execute(update(Membership).where(Membership.user_id == people["fred"].id).values(deactivated_at=past))
    other = factories.make_account("Rival")
    db.session.commit()
    return {"account": account, "owner": owner, "hq": hq, "mila": mila, "leo": leo, "creators": creators,
            "soon": soon, "other": other, "other_owner": factories.owner_of(other),
            "other_group": factories.default_group(other), **people}


def table_rows(html: str) -> list[list[str]]:
    """The review table's body rows as cell texts; a <time> reads as its machine value (ISO date)."""
    page = Html(html)
    for time in page.css("#access-review-table tbody time"):
        time.replace_with(time.attributes["datetime"])
    rows = [[squeeze(cell.text()) for cell in row.css("td")] for row in page.css("#access-review-table tbody tr")]
    return [row[:7] for row in rows if len(row) == 8]  # the empty state is one wide cell; the last is Why?


def csv_rows(body: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(body)))
    return header, rows


def keyed(rows: list[list[str]]) -> dict[tuple[str, str], list[str]]:
    """Rows by (person cell, access group)."""
    return {(row[0], row[2]): row for row in rows}


def test_the_owner_sees_every_member_in_every_group_they_may_enter(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(PAGE)
    assert response.status_code == 200
    rows = keyed(table_rows(response.get_data(as_text=True)))
    owner = "Northstar Owner " + agency["owner"].email
    dana = "Dana Client dana@example.test"
    carl = f"Carl Client {agency['carl'].email}"
    sam = f"Sam Manager {agency['manager'].email}"
    alex = f"Alex Admin {agency['admin'].email}"
    soon = agency["soon"].date().isoformat()
    assert set(rows) == {
        (owner, "Leo Park"), (owner, "Mila Rose"), (owner, "Northstar HQ"),
        (alex, "Northstar HQ"),
        (sam, "Mila Rose"),
        (dana, "Mila Rose"), (dana, "Leo Park"),
        (carl, "Mila Rose"), (carl, "Leo Park"),
    }
    # Owner: every right as owner; admin: every right by role, through the Users tab.
    assert rows[(owner, "Leo Park")][1:] == ["Owner", "Leo Park", "Owner", "Every right", "None", "No end date"]
    assert rows[(alex, "Northstar HQ")][1:] == ["Admin", "Northstar HQ", "Users tab", "Every right", "None",
                                                "No end date"]
    # Manager: the role's baseline only, through the Users tab.
    assert rows[(sam, "Mila Rose")][3:6] == ["Users tab", "View posts, Comment on posts, Create posts, Edit posts, "
                                             "Publish and schedule posts, View the media library, Upload media, Move "
                                             "media between groups, Delete media, Connect social profiles, Manage "
                                             "campaigns", "None"]
    # Client in by both paths, with analytics on her own and through the user group.
    assert rows[(dana, "Mila Rose")][3] == "Users tab; User group Creators"
    assert rows[(dana, "Mila Rose")][4] == ("View posts, Comment on posts, View the media library, Upload media, "
                                            "Connect social profiles, View analytics")
    assert rows[(dana, "Mila Rose")][5] == ("own: View analytics; user group Creators: View the media library, "
                                            "Upload media, View analytics")
    assert rows[(dana, "Leo Park")][3] == "User group Creators"
    # Client in by a user group only, which ends: the path and the row say when.
    assert rows[(carl, "Leo Park")][3] == f"User group Creators (until {soon})"
    assert rows[(carl, "Leo Park")][5] == "user group Creators: View the media library, Upload media, View analytics"
    assert rows[(carl, "Leo Park")][6] == soon


def test_each_row_asks_why_its_person_may_enter_its_group(client, auth, agency):
    auth.login(agency["owner"])
    html = client.get(PAGE).get_data(as_text=True)
    links = Html(html).all_by_role("link", re.compile(r"^Why can .+ enter .+\?$"))
    assert all(link.text() == "Why?" for link in links)
    assert len(links) == len(table_rows(html)) == 9
    href = Html(html).by_role("link", "Why can Carl Client enter Leo Park?").attributes["href"]
    response = client.get(href)
    assert response.status_code == 200
    text = answer_text(response)
    assert "Yes: Carl Client can enter “Leo Park”." in text
    assert f"Carl Client is in user group “Creators” (until {rules.day_text(agency['soon'].date())}), " \
           "which is granted on “Leo Park”." in text


def test_ended_and_deactivated_members_and_ended_entries_are_left_out(client, auth, agency):
    auth.login(agency["owner"])
    html = client.get(PAGE).get_data(as_text=True)
    people = {row[0] for row in table_rows(html)}
    assert not any(person.startswith(("Eve Ended", "Fred Gone")) for person in people)
    sam_groups = {row[2] for row in table_rows(html) if row[0].startswith("Sam Manager")}
    assert sam_groups == {"Mila Rose"}  # his Users tab entry on Leo ended
    assert "2 members are deactivated or ended, so not listed." in html
    assert "Deactivated members and members whose access ended are not in the review." in html


def test_a_member_until_a_date_shows_it_and_it_is_the_rows_end(client, auth, agency):
    end = utcnow() + timedelta(days=10)
    db.session.execute(update(Membership).where(Membership.user_id == agency["dana"].id).values(expires_at=end))
    db.session.commit()
    auth.login(agency["owner"])
    rows = keyed(table_rows(client.get(PAGE).get_data(as_text=True)))
    dana = rows[("Dana Client dana@example.test", "Mila Rose")]
    assert dana[1] == f"Client member until {end.date().isoformat()}"
    assert dana[6] == end.date().isoformat()


def test_the_csv_lists_exactly_the_rows_of_the_table(client, auth, agency):
    auth.login(agency["owner"])
    table = table_rows(client.get(PAGE).get_data(as_text=True))
    response = client.get(CSV)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = datetime.now(timezone.utc).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="access-review-{today}.csv"'
    header, rows = csv_rows(response.get_data(as_text=True))
    assert header == ["name", "email", "role", "access group", "entry through", "rights",
                      "rights beyond the role", "ends"]
    assert len(rows) == len(table) == 9
    for cells, row in zip(rows, table):
        name, email, role, group, entry, rights, beyond, ends = cells
        assert row[0] == f"{name} {email}"
        assert row[1].startswith(role)
        assert row[2:4] == [group, entry]
        names = rights.split(" ")
        assert all(right in RIGHTS for right in names)
        assert row[4] == ("Every right" if set(names) == set(RIGHTS) else ", ".join(label(r) for r in names))
        assert row[5] == (beyond or "None")
        assert row[6] == (ends or "No end date")


def test_filters_narrow_the_table_and_the_csv_alike(client, auth, agency):
    auth.login(agency["owner"])
    query = f"?q=DANA&group={agency['mila'].id}"
    table = table_rows(client.get(PAGE + query).get_data(as_text=True))
    _, rows = csv_rows(client.get(CSV + query).get_data(as_text=True))
    assert [(row[0], row[2]) for row in table] == [("Dana Client dana@example.test", "Mila Rose")]
    assert [(row[0], row[3]) for row in rows] == [("Dana Client", "Mila Rose")]
    html = client.get(PAGE + "?q=nobody-like-this").get_data(as_text=True)
    assert table_rows(html) == [] and "Nobody matches these filters." in html


def test_a_filter_request_from_htmx_gets_the_table_fragment(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(PAGE + "?q=carl", headers=HTMX)
    html = response.get_data(as_text=True)
    page = Html(html)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert page.top_level[0].attributes["id"] == "review" and "<html" not in html
    assert {row[0].split(" ")[0] for row in table_rows(html)} == {"Carl"}
    download = page.by_role("link", "Download CSV")
    assert download.attributes["href"] == "/settings/access-review.csv?q=carl"  # the download keeps the filters


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil.test\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(client, auth, agency, name):
    factories.make_member(agency["account"], Role.CLIENT, groups=[agency["hq"]], name=name)
    db.session.commit()
    auth.login(agency["owner"])
    _, rows = csv_rows(client.get(CSV).get_data(as_text=True))
    assert ["'" + name] == [row[0] for row in rows if row[0].endswith(name)]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def why(client, agency, who: str, group: str, action: str, **headers):
    return client.get(WHY, query_string={"user_id": agency[who].id, "group_id": agency[group].id,
                                         "action": action}, headers=headers)


def answer_text(response) -> str:
    return Html(response).text


def test_why_yes_lists_every_path_own_right_and_user_group(client, auth, agency):
    auth.login(agency["owner"])
    response = why(client, agency, "dana", "mila", "analytics.view", **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    text = answer_text(response)
    assert "Yes: Dana Client can view analytics in “Mila Rose”." in text
    assert "Dana Client holds “View analytics” as an own right." in text
    assert "User group “Creators” gives “View analytics”; Dana Client is in it." in text
    assert "Dana Client is on the Users tab of “Mila Rose”." in text
    assert "Dana Client is in user group “Creators”, which is granted on “Mila Rose”." in text
    assert "What is missing" not in text


def test_why_names_the_role_baseline_and_the_owner(client, auth, agency):
    auth.login(agency["owner"])
    text = answer_text(why(client, agency, "dana", "leo", "posts.view"))
    assert "Yes: Dana Client can view posts in “Leo Park”." in text
    assert "The Client role includes “View posts”." in text
    text = answer_text(why(client, agency, "owner", "leo", "organize"))
    assert "Northstar Owner is the owner, and the owner holds every right." in text
    assert "Northstar Owner is the owner, who may enter every access group." in text
    text = answer_text(why(client, agency, "carl", "leo", "group.enter"))
    soon = agency["soon"].date()
    assert "Yes: Carl Client can enter “Leo Park”." in text
    assert f"is in user group “Creators” (until {soon.day} {soon:%b %Y}), which is granted on “Leo Park”." in text


@pytest.mark.parametrize("who, group, action, missing", [
    ("manager", "mila", "analytics.view",
     "No path grants “View analytics”: the Manager role does not include it, Sam Manager does not hold it as an "
     "own right, and none of their user groups gives it."),
    ("manager", "leo", "group.enter",
     "Sam Manager cannot enter “Leo Park”: they are not on its Users tab, and no user group of theirs is granted on it."),
    ("eve", "mila", "posts.view", "Eve Ended is not a live member of Northstar: their access ended after"),
    ("fred", "mila", "group.enter", "Fred Gone is not a live member of Northstar: their membership is deactivated."),
])
def test_why_no_says_what_is_missing(client, auth, agency, who, group, action, missing):
    auth.login(agency["owner"])
    text = answer_text(why(client, agency, who, group, action))
    assert text.count("No: ") == 1 and "Yes: " not in text
    assert "What is missing " + missing in text


def test_why_without_a_question_shows_the_form_and_bad_questions_are_not_found(client, auth, agency):
    auth.login(agency["owner"])
    response = client.get(WHY)
    page = Html(response)
    assert response.status_code == 200
    assert [page.by_label(label).attributes["name"] for label in ("Person", "Access group", "Can they")] == [
        "user_id", "group_id", "action"]
    assert page.has_text("Choose a person, an access group and what they would do")
    base = {"user_id": agency["dana"].id, "group_id": agency["mila"].id, "action": "media.upload"}
    for bad in ({"action": "plan.change"}, {"action": "nonsense"}, {"user_id": "x"}, {"group_id": "1.5"}):
        assert client.get(WHY, query_string={**base, **bad}).status_code == 404, bad


def test_why_and_the_review_refuse_anything_of_another_account(client, auth, agency):
    auth.login(agency["owner"])
    foreign_user = {"user_id": agency["other_owner"].id, "group_id": agency["mila"].id, "action": "group.enter"}
    foreign_group = {"user_id": agency["dana"].id, "group_id": agency["other_group"].id, "action": "group.enter"}
    assert client.get(WHY, query_string=foreign_user).status_code == 404
    assert client.get(WHY, query_string=foreign_group).status_code == 404
    assert client.get(WHY_FORM, query_string={"user_id": agency["other_owner"].id}).status_code == 404
    assert client.get(WHY_FORM, query_string={"group_id": agency["other_group"].id}).status_code == 404
    assert client.get(PAGE, query_string={"group": agency["other_group"].id}).status_code == 404
    assert client.get(CSV, query_string={"group": agency["other_group"].id}).status_code == 404


@pytest.mark.parametrize("who", ["manager", "dana"])
@pytest.mark.parametrize("url", [PAGE, CSV, WHY, WHY_FORM])
def test_managers_and_clients_may_not_review_access(client, auth, agency, who, url):
    auth.login(agency[who])
    assert client.get(url).status_code == 403


def test_an_admin_reviews_the_groups_they_may_enter(client, auth, agency):
    auth.login(agency["admin"])
    rows = table_rows(client.get(PAGE).get_data(as_text=True))
    assert {row[2] for row in rows} == {"Northstar HQ"}
    assert "You see the access groups you may enter" in client.get(PAGE).get_data(as_text=True)
    assert why(client, agency, "dana", "mila", "group.enter").status_code == 404


def test_the_why_form_fixes_the_person_or_the_group(client, auth, agency):
    auth.login(agency["owner"])
    html = client.get(WHY_FORM, query_string={"user_id": agency["dana"].id}, headers=HTMX).get_data(as_text=True)
    page = Html(html)
    assert "<html" not in html
    dana = str(agency["dana"].id)
    assert [control.attributes.get("type") for control in page.css("[name=user_id]")] == ["hidden"]
    assert page.hidden_value("user_id") == dana
    assert page.by_label("Access group").attributes["id"] == f"why-user-{dana}-group"
    assert page.one("form").attributes["hx-target"] == f"#why-result-user-{dana}"
    page = Html(client.get(WHY_FORM, query_string={"group_id": agency["leo"].id}, headers=HTMX))
    leo = str(agency["leo"].id)
    assert [control.attributes.get("type") for control in page.css("[name=group_id]")] == ["hidden"]
    assert page.hidden_value("group_id") == leo
    assert page.by_label("Person").attributes["id"] == f"why-group-{leo}-user"
    assert any(option.startswith("Eve Ended (") and option.endswith("· no access now")
               for option in page.options(page.by_label("Person")))


def test_the_review_page_carries_the_explainer_and_no_inline_code(client, auth, agency):
    auth.login(agency["owner"])
    page = Html(client.get(PAGE))
    assert [page.name_of(page.one(f"#why-review-{part}")) for part in ("user", "group", "action")] == [
        "Person", "Access group", "Can they"]
    assert page.one("#why-result-review").attributes["role"] == "status"
    assert page.inline_code() == []
    assert page.by_role("link", "Access review")  # the settings tab


@pytest.mark.parametrize("who, shown", [("owner", True), ("admin", True), ("manager", False)])
def test_the_embeddable_why_partial_shows_only_to_reviewers(app, agency, who, shown):
    template = '{% include "access_review/_why.html" ignore missing with context %}'
    with app.test_request_context("/"):
        login_user(agency[who])
        page = Html(render_template_string(template, why_user=agency["dana"]))
    assert bool(page.all_by_role("heading", "Why?")) is shown
    if shown:
        loader = page.one("[hx-trigger=load]")
        assert loader.attributes["hx-get"] == f"/settings/access-review/why/form?user_id={agency['dana'].id}"
        assert page.one(f"#why-result-user-{agency['dana'].id}")
    with app.test_request_context("/"):
        login_user(agency["owner"])
        page = Html(render_template_string(template, why_group=agency["leo"]))
    assert page.by_role("link", "Ask why").attributes["href"].endswith(f"why/form?group_id={agency['leo'].id}")


def grow_members(account, group, user_group, count: int) -> None:
    """`count` clients, each on the group's Users tab, in the user group, with an own right."""
    for number in range(count):
        member = factories.make_member(account, Role.CLIENT, groups=[group], rights=["analytics.view"])
        db.session.add(UserGroupMember(user_group_id=user_group.id, user_id=member.id,
                                       expires_at=utcnow() + timedelta(days=number + 1)))
    db.session.commit()


def test_the_review_and_its_csv_run_a_fixed_number_of_queries(client, auth, count_queries):
    counts = {}
    for size in (3, 40):
        account = factories.make_account(f"Agency {size}")
        hq = factories.default_group(account)
        groups = [factories.make_group(account, f"Group {size}-{n}") for n in range(size // 4)]
        user_group = factories.make_user_group(account, "Crew", rights=["media.upload"], grants=groups)
        grow_members(account, hq, user_group, size)
        auth.login(factories.owner_of(account))
        for url in (PAGE, CSV):
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200
            counts[(url, size)] = counter.count
        auth.logout()
    assert counts[(PAGE, 3)] == counts[(PAGE, 40)], counts
    assert counts[(CSV, 3)] == counts[(CSV, 40)], counts
    assert counts[(PAGE, 40)] <= 12, counts  # with the bell's unread count


def test_rows_come_from_the_policy_not_a_second_set_of_rules(app, agency):
    """Every row is a group the policy lets the member enter, with exactly the rights it grants."""
    from webapp.policy import ENTER, decide, load_permissions

    groups = [agency["hq"], agency["mila"], agency["leo"]]
    rows = rules.every_row(agency["account"], rules.ReviewScope(group_ids=tuple(group.id for group in groups)))
    for membership in rules.memberships(agency["account"]):
        perms = load_permissions(membership.user_id)
        for group in groups:
            row = next((row for row in rows
                        if row.user_id == membership.user_id and row.access_group_id == group.id), None)
            assert (row is not None) == (decide(perms, ENTER, group).value == 200)
            if row is not None:
                assert set(row.rights) == set(perms.group_rights(group.id))


# --- a page of rows at a time; the CSV whole ------------------------------------------------------


def more_link(html: str) -> str | None:
    links = Html(html).all_by_role("link", "More entries")
    assert len(links) <= 1
    return links[0].attributes["href"] if links else None


def fragment_rows(html: str) -> list[list[str]]:
    """The rows of a "More entries" answer: table rows, read inside a table as htmx swaps them in."""
    return table_rows(f'<table id="access-review-table"><tbody>{html}</tbody></table>')


def every_page(client, url: str) -> list[list[list[str]]]:
    """The rows of each page of the review, following "More entries" as htmx does."""
    html = client.get(url).get_data(as_text=True)
    pages = [table_rows(html)]
    while (url := more_link(html)) is not None:
        response = client.get(url, headers=HTMX)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html and not Html(html).css("thead")  # rows to add to the table, no more
        pages.append(fragment_rows(html))
    return pages


@pytest.fixture
def crowd():
    """An agency with 45 crew members on the default group's Users tab and, through the Crew user group,
    in two desks (135 rows, and the owner's 3), and 5 others on the default group only."""
    account = factories.make_account("Crowd")
    hq = factories.default_group(account)
    desks = [factories.make_group(account, f"Desk {n}") for n in range(2)]
    crew = factories.make_user_group(account, "Crew", rights=["media.upload"], grants=desks)
    for number in range(45):
        member = factories.make_member(account, Role.CLIENT, groups=[hq], name=f"Crew {number:02}")
        db.session.add(UserGroupMember(user_group_id=crew.id, user_id=member.id))
    for number in range(5):
        factories.make_member(account, Role.MANAGER, groups=[hq], name=f"Other {number}")
    db.session.commit()
    return {"account": account, "owner": factories.owner_of(account), "hq": hq, "desks": desks}


def test_the_review_comes_a_page_at_a_time_with_every_row_once(client, auth, crowd):
    """A long review shows its first rows and "More entries"; following it brings every row exactly once,
    in the table's order (by person, then access group), and the count says how many there are in all."""
    auth.login(crowd["owner"])
    html = client.get(PAGE).get_data(as_text=True)
    assert "143 entries for 51 live members." in squeeze(Html(html).one("[data-testid=review-count]").text())
    pages = every_page(client, PAGE)
    assert [len(rows) for rows in pages] == [rules.ROWS_PER_PAGE, rules.ROWS_PER_PAGE, 43]
    shown = [(row[0].split(" ")[:2], row[2]) for rows in pages for row in rows]
    expected = [(["Crew", f"{number:02}"], group) for number in range(45)
                for group in ("Crowd HQ", "Desk 0", "Desk 1")]
    expected += [(["Crowd", "Owner"], group) for group in ("Crowd HQ", "Desk 0", "Desk 1")]
    expected += [(["Other", str(number)], "Crowd HQ") for number in range(5)]
    assert shown == expected


def test_the_csv_lists_every_row_when_the_table_is_paged(client, auth, crowd):
    auth.login(crowd["owner"])
    table = [row for rows in every_page(client, PAGE) for row in rows]
    _, rows = csv_rows(client.get(CSV).get_data(as_text=True))
    assert len(rows) == len(table) == 143
    assert [(f"{row[0]} {row[1]}", row[3]) for row in rows] == [(row[0], row[2]) for row in table]


def test_paging_keeps_the_filters_and_the_csv_follows_them(client, auth, crowd):
    """Filtered to a person and a group, "More entries" carries both filters and every row matches them."""
    auth.login(crowd["owner"])
    desk = crowd["desks"][1]
    query = f"?q=CREW&group={desk.id}"
    assert more_link(client.get(PAGE + query).get_data(as_text=True)) is None  # 45 rows: one page
    query = "?q=crew"
    link = more_link(client.get(PAGE + query).get_data(as_text=True))
    assert "q=crew" in link and "cursor=" in link
    rows = [row for page in every_page(client, PAGE + query) for row in page]
    assert len(rows) == 135 and all(row[0].startswith("Crew ") for row in rows)
    assert len({(row[0], row[2]) for row in rows}) == 135
    _, listed = csv_rows(client.get(CSV + query).get_data(as_text=True))
    assert [(f"{row[0]} {row[1]}", row[3]) for row in listed] == [(row[0], row[2]) for row in rows]
    grouped = client.get(PAGE, query_string={"group": crowd["hq"].id}).get_data(as_text=True)
    assert f"group={crowd['hq'].id}" in more_link(grouped)
    rows = [row for page in every_page(client, f"{PAGE}?group={crowd['hq'].id}") for row in page]
    assert len(rows) == 51 and {row[2] for row in rows} == {"Crowd HQ"}


def test_a_next_page_opened_directly_is_a_whole_page_with_a_way_back(client, auth, crowd):
    auth.login(crowd["owner"])
    link = more_link(client.get(PAGE + "?q=crew").get_data(as_text=True))
    response = client.get(link)
    page = Html(response)
    assert response.status_code == 200 and page.by_role("heading", "Access review")
    assert table_rows(response.get_data(as_text=True))[0][0].startswith("Crew 16 ")  # after 50 rows of 3
    assert page.by_role("link", "Back to the first entries").attributes["href"] == PAGE + "?q=crew"
    assert page.one("#review-q").attributes["value"] == "crew"  # the filter box keeps the filter


@pytest.mark.parametrize("cursor", ["nonsense", "WyJ4IiwxLCJ5Il0", "WzEsMiwzLDRd"])
def test_a_cursor_that_names_no_row_means_the_first_page(client, auth, agency, cursor):
    """A mangled cursor, or one of the wrong shape (["x", 1, "y"], [1, 2, 3, 4]), starts at the top."""
    auth.login(agency["owner"])
    response = client.get(PAGE, query_string={"cursor": cursor})
    assert response.status_code == 200
    assert len(table_rows(response.get_data(as_text=True))) == 9


def test_an_admin_pages_only_through_the_groups_they_may_enter(client, auth, crowd):
    """A cursor carries no access: an admin of the default group alone sees its rows on every page."""
    admin = factories.make_member(crowd["account"], Role.ADMIN, groups=[crowd["hq"]], name="Ada Admin")
    db.session.commit()
    auth.login(crowd["owner"])
    link = more_link(client.get(PAGE).get_data(as_text=True))
    auth.logout()
    auth.login(admin)
    rows = [row for page in every_page(client, PAGE) for row in page]
    assert len(rows) == 52 and {row[2] for row in rows} == {"Crowd HQ"}
    assert {row[2] for row in fragment_rows(client.get(link, headers=HTMX).get_data(as_text=True))} == {"Crowd HQ"}


def test_the_next_page_runs_a_fixed_number_of_queries(client, auth, count_queries):
    """"More entries" costs the same at 3 members and at 40 (many pages)."""
    counts = {}
    start = paging.encode_key(["", 0, "", 0])  # before every row
    for size in (3, 40):
        account = factories.make_account(f"Agency {size}")
        hq = factories.default_group(account)
        groups = [factories.make_group(account, f"Group {size}-{n}") for n in range(size // 4)]
        user_group = factories.make_user_group(account, "Crew", rights=["media.upload"], grants=groups)
        grow_members(account, hq, user_group, size)
        auth.login(factories.owner_of(account))
        url = f"{PAGE}?cursor={start}"
        client.get(url, headers=HTMX)
        with count_queries() as counter:
            response = client.get(url, headers=HTMX)
        assert response.status_code == 200
        rows = (size + 1) * (1 + size // 4)  # the owner and each member, in the default group and each granted one
        assert len(fragment_rows(response.get_data(as_text=True))) == min(rules.ROWS_PER_PAGE, rows)
        counts[size] = counter.count
        auth.logout()
    assert counts[3] == counts[40] <= 9, counts
