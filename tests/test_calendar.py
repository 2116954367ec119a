"""Sidebar › Calendar: month, week and list views, moving between periods, and rescheduling posts."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from webapp.calendar import DAY_LIMIT, PAGE_SIZE, WEEK_DAY_LIMIT, month_period, week_period
from webapp.extensions import db
from webapp.models import AuditEvent, Post, PostStatus, ProfileAccessRemoval

from . import factories
from .html import HTMX, Html

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def agency(app):
    """Maya's group with two profiles (the creator removed one of them), Leo's group, and who works there."""
    agency = factories.two_creator_agency()
    db.session.add(ProfileAccessRemoval(social_profile_id=agency["tiktok"].id, user_id=agency["creator"].id))
    db.session.commit()
    return agency


def post_at(profile, when: datetime, status: PostStatus = PostStatus.SCHEDULED, caption: str = "Hello world",
            media=()) -> Post:
    post = Post(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=caption,
                status=status.value, scheduled_at=when)
    post.media_items = list(media)
    db.session.add(post)
    db.session.commit()
    return post


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def today() -> date:
    """Today in the account's time zone (UTC unless a test sets another)."""
    return datetime.now(timezone.utc).date()


def calendar_url(group, query: str = "") -> str:
    return f"/g/{group.id}/calendar{query}"


def reschedule_url(group, post) -> str:
    return f"/g/{group.id}/calendar/posts/{post.id}/reschedule"


def day_posts(html: str, day: date) -> Html:
    """The list of the posts the page shows on `day`."""
    page = Html(html)
    return page.within(page.by_role("list", f"Posts on {day:%A} {day.day} {day:%B %Y}"))


def post_ids(page: Html) -> list[int]:
    return [int(post.attributes["id"].removeprefix("post-")) for post in page.css("li.calendar-post")]


def post_ids_on(html: str, day: date) -> list[int]:
    return post_ids(day_posts(html, day))


def title_of(html: str) -> str:
    return Html(html).one("#calendar-title").text(strip=True)


def scheduled_at(post) -> datetime:
    db.session.expire_all()
    return db.session.get(Post, post.id).scheduled_at


# --- periods -------------------------------------------------------------------------------------


def test_a_month_is_shown_in_whole_weeks_from_monday():
    june = month_period(date(2031, 6, 17))
    assert (june.first, june.last) == (date(2031, 5, 26), date(2031, 7, 6))
    assert (june.title, june.previous, june.next, june.month) == ("June 2031", date(2031, 5, 1), date(2031, 7, 1), 6)
    december = month_period(date(2030, 12, 31))
    assert (december.previous, december.next) == (date(2030, 11, 1), date(2031, 1, 1))


@pytest.mark.parametrize("day, first, title", [
    (date(2031, 6, 18), date(2031, 6, 16), "16 – 22 June 2031"),
    (date(2031, 7, 1), date(2031, 6, 30), "30 Jun – 6 Jul 2031"),
    (date(2031, 1, 1), date(2030, 12, 30), "30 Dec 2030 – 5 Jan 2031"),
])
def test_a_week_runs_from_monday_to_sunday(day, first, title):
    week = week_period(day)
    assert (week.first, week.last, week.title) == (first, first + timedelta(days=6), title)
    assert (week.previous, week.next) == (first - timedelta(days=7), first + timedelta(days=7))


# --- what the views show ---------------------------------------------------------------------------


def test_the_month_view_shows_each_post_on_its_day(agency, auth, client):
    item = factories.make_media(agency["maya"], "beach.png")
    item.thumbnail_key = "beach-thumbnail.webp"
    post = post_at(agency["instagram"], utc(2031, 6, 17, 9, 30), caption="Summer is here " + "and it is long " * 10,
                   media=[item])
    other = post_at(agency["instagram"], utc(2031, 7, 2, 18, 0), status=PostStatus.DRAFT, caption="")
    post_at(agency["leo_profile"], utc(2031, 6, 17, 10, 0), caption="Leo's post")
    auth.login(agency["manager"])

    response = client.get(calendar_url(agency["maya"], "?view=month&date=2031-06-05"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert title_of(html) == "June 2031"
    assert post_ids_on(html, date(2031, 6, 17)) == [post.id]
    assert post_ids_on(html, date(2031, 7, 2)) == [other.id]  # July's first days complete the last week
    shown = day_posts(html, date(2031, 6, 17))
    assert shown.has_text("Instagram") and shown.has_text("@mayalopez")
    assert shown.by_datetime("2031-06-17T09:30:00+00:00").text() == "09:30 UTC"
    assert shown.has_text("Summer is here and it is long") and shown.has_text("…")
    assert not shown.has_text("long " * 10)
    assert shown.one("img.post-thumb").attributes["src"] == f"/media/{item.id}/thumbnail"
    assert shown.one(".status").text() == "Scheduled" and "status-scheduled" in shown.one(".status").attributes["class"]
    post_url = f"/g/{agency['maya'].id}/posts/{post.id}"
    assert [link.attributes["href"] for link in shown.all_by_role("link")] == [
        post_url, reschedule_url(agency["maya"], post) + "?view=month&date=2031-06-05"]
    counted = Html(html).one('li.day[data-date="2031-06-17"]')
    assert counted.attributes["data-count"] == "1" and Html(html).by_role("list", "Days of June 2031")
    july_2 = day_posts(html, date(2031, 7, 2))
    assert july_2.has_text("No caption") and july_2.has_text("Draft")
    assert not Html(html).has_text("Leo's post")
    assert Html(html).has_text("Times in UTC")


def test_the_week_view_shows_the_seven_days_of_the_week(agency, auth, client):
    monday = post_at(agency["instagram"], utc(2031, 6, 16, 8, 0), caption="Monday post")
    sunday = post_at(agency["instagram"], utc(2031, 6, 22, 23, 59), caption="Sunday post")
    post_at(agency["instagram"], utc(2031, 6, 23, 0, 0), caption="Next week's post")
    auth.login(agency["manager"])

    html = client.get(calendar_url(agency["maya"], "?view=week&date=2031-06-18")).get_data(as_text=True)
    assert title_of(html) == "16 – 22 June 2031"
    assert post_ids_on(html, date(2031, 6, 16)) == [monday.id]
    assert post_ids_on(html, date(2031, 6, 22)) == [sunday.id]
    assert "Next week" not in html and not Html(html).all_by_role("list", "Posts on Monday 23 June 2031")


def test_previous_next_and_today_swap_the_calendar_and_push_the_url(agency, auth, client):
    auth.login(agency["manager"])
    # Entering the calendar (the sidebar's link names no view) swaps the page's main content.
    html = client.get(calendar_url(agency["maya"]), headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and Html(html).by_role("heading", "Calendar").tag == "h1"
    # The calendar's own links name a view: the server answers with the calendar alone.
    page = Html(client.get(calendar_url(agency["maya"], "?view=month&date=2031-06-05"), headers=HTMX))
    assert page.top_level[0].attributes["id"] == "calendar" and not page.css("h1")
    bar = page.one(".calendar-bar").attributes
    assert bar["hx-target"] == "#calendar" and bar["hx-push-url"] == "true" and not page.css("[hx-select]")
    base = calendar_url(agency["maya"])
    for name, query in [("‹ Previous month", "?view=month&date=2031-05-01"), ("Today", "?view=month"),
                        ("Next month ›", "?view=month&date=2031-07-01"), ("Week", "?view=week&date=2031-06-05")]:
        link = page.by_role("link", name)
        assert link.attributes["href"] == link.attributes["hx-get"] == base + query, name

    # The URL a link pushes, loaded directly, gives the whole page.
    response = client.get(calendar_url(agency["maya"], "?view=month&date=2031-07-01"))
    assert "<html" in response.get_data(as_text=True) and title_of(response.get_data(as_text=True)) == "July 2031"
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query", ["?date=2031-02-30", "?date=tomorrow", "?date=0001-01-01", "?view=year&date=junk",
                                   "?view=month&date=9999-12-31"])
def test_a_bad_date_or_view_falls_back_to_this_month(agency, auth, client, query):
    auth.login(agency["manager"])
    response = client.get(calendar_url(agency["maya"], query))
    assert response.status_code == 200
    assert title_of(response.get_data(as_text=True)) == f"{today():%B %Y}"


def test_times_and_days_are_those_of_the_account_time_zone(agency, auth, client):
    agency["account"].time_zone = "America/New_York"
    late = post_at(agency["instagram"], utc(2031, 1, 15, 3, 30))  # 22:30 the evening before in New York
    auth.login(agency["manager"])

    html = client.get(calendar_url(agency["maya"], "?view=week&date=2031-01-14")).get_data(as_text=True)
    assert post_ids_on(html, date(2031, 1, 14)) == [late.id]
    assert post_ids_on(html, date(2031, 1, 15)) == []
    page = Html(html)
    assert any(time.text() == "22:30 EST" for time in page.css("time")) and page.has_text("Times in America/New_York")
    dialog = Html(client.get(reschedule_url(agency["maya"], late), headers=HTMX))
    date_field, time_field = dialog.by_label("Date").attributes, dialog.by_label("Time (New York time)").attributes
    assert (date_field["name"], date_field["value"]) == ("new_date", "2031-01-14")
    assert (time_field["name"], time_field["value"]) == ("new_time", "22:30")


def test_posts_of_a_profile_the_client_removed_are_not_shown_to_her(agency, auth, client):
    seen = post_at(agency["instagram"], utc(2031, 6, 17, 9, 0), caption="Instagram post")
    hidden = post_at(agency["tiktok"], utc(2031, 6, 17, 10, 0), caption="TikTok post")
    auth.login(agency["creator"])
    html = client.get(calendar_url(agency["maya"], "?date=2031-06-17")).get_data(as_text=True)
    assert post_ids_on(html, date(2031, 6, 17)) == [seen.id]
    assert "TikTok post" not in html and shown_counts(html)[date(2031, 6, 17)] == 1
    day = client.get(calendar_url(agency["maya"], "?view=day&date=2031-06-17")).get_data(as_text=True)
    assert list_ids(day) == [seen.id] and Html(day).has_text("1 post this day")
    html = client.get(calendar_url(agency["maya"], "?view=list")).get_data(as_text=True)
    assert "Instagram post" in html and "TikTok post" not in html
    auth.logout()

    auth.login(agency["manager"])
    html = client.get(calendar_url(agency["maya"], "?date=2031-06-17")).get_data(as_text=True)
    assert post_ids_on(html, date(2031, 6, 17)) == [seen.id, hidden.id] and shown_counts(html)[date(2031, 6, 17)] == 2


def test_a_pending_post_whose_time_passed_says_so(agency, auth, client):
    now = datetime.now(timezone.utc)
    post_at(agency["instagram"], now - timedelta(days=3), status=PostStatus.PENDING_APPROVAL, caption="Too late")
    auth.login(agency["manager"])
    html = client.get(calendar_url(agency["maya"], "?view=list&when=past")).get_data(as_text=True)
    assert "Awaiting approval, time passed" in html


def test_a_busy_day_of_the_month_shows_its_first_posts_and_how_many_more(agency, auth, client):
    posts = [post_at(agency["instagram"], utc(2031, 6, 17, 8, minute)) for minute in range(DAY_LIMIT + 2)]
    auth.login(agency["manager"])
    html = client.get(calendar_url(agency["maya"], "?date=2031-06-17")).get_data(as_text=True)
    assert post_ids_on(html, date(2031, 6, 17)) == [post.id for post in posts[:DAY_LIMIT]]
    more = Html(html).by_role("link", "2 more on Tuesday 17 June 2031").attributes
    assert more["href"] == more["hx-get"] == calendar_url(agency["maya"], "?view=day&date=2031-06-17")
    assert Html(html).one('li.day[data-date="2031-06-17"]').attributes["data-count"] == str(DAY_LIMIT + 2)
    week = client.get(calendar_url(agency["maya"], "?view=week&date=2031-06-17")).get_data(as_text=True)
    assert post_ids_on(week, date(2031, 6, 17)) == [post.id for post in posts]
    day = client.get(more["href"]).get_data(as_text=True)
    assert title_of(day) == "Tuesday 17 June 2031" and list_ids(day) == [post.id for post in posts]
    assert Html(day).has_text(f"{DAY_LIMIT + 2} posts this day")


def bulk_posts(profile, times: list[datetime]) -> None:
    """Many posts at once, as an agency's busy months hold them."""
    db.session.execute(insert(Post), [
        dict(social_profile_id=profile.id, access_group_id=profile.access_group_id, caption=f"Post {n}",
             status=PostStatus.SCHEDULED.value, scheduled_at=when) for n, when in enumerate(times)])
    db.session.commit()


def shown_counts(html: str) -> dict[date, int]:
    return {date.fromisoformat(day.attributes["data-date"]): int(day.attributes["data-count"])
            for day in Html(html).css("li.day")}


def test_a_month_of_five_thousand_posts_shows_every_days_exact_count(agency, auth, client, count_queries):
    # Uneven days: the 1st holds 1 post, the 31st the most; the 4th and the 5th none. Times spread over each day.
    per_day = {day: 0 if day in (4, 5) else day * 10 for day in range(1, 32)}
    per_day[1] = 1
    per_day[31] += 5000 - sum(per_day.values())
    times = [utc(2031, 1, day, 0, 0) + timedelta(seconds=86399 * n // held)
             for day, held in per_day.items() for n in range(held)]
    bulk_posts(agency["instagram"], times)
    assert len(times) == 5000
    auth.login(agency["manager"])

    with count_queries() as month_queries:
        html = client.get(calendar_url(agency["maya"], "?view=month&date=2031-01-20")).get_data(as_text=True)
    counts = shown_counts(html)
    assert {day.day: held for day, held in counts.items() if day.month == 1} == per_day
    assert counts[date(2030, 12, 30)] == 0 and counts[date(2031, 2, 1)] == 0  # the grid's days of other months
    assert Html(html).one('li.day[data-date="2031-01-31"]').attributes["class"].split() == ["day"]
    assert len(post_ids_on(html, date(2031, 1, 31))) == DAY_LIMIT
    assert Html(html).by_role("link", f"{per_day[31] - DAY_LIMIT} more on Friday 31 January 2031")
    assert len(Html(html).css("li.calendar-post")) == sum(min(held, DAY_LIMIT) for held in per_day.values())

    week = client.get(calendar_url(agency["maya"], "?view=week&date=2031-01-29")).get_data(as_text=True)
    assert {day.day: held for day, held in shown_counts(week).items()} == {day: per_day[day] for day in range(27, 32)} | {
        1: 0, 2: 0}
    assert len(post_ids_on(week, date(2031, 1, 31))) == WEEK_DAY_LIMIT

    # A quiet month asks the database as many times as the busiest.
    bulk_posts(agency["instagram"], [utc(2031, 3, 10, 9, 0)])
    with count_queries() as quiet_queries:
        client.get(calendar_url(agency["maya"], "?view=month&date=2031-03-01"))
    assert quiet_queries.count == month_queries.count


def test_a_days_more_link_lists_all_of_its_posts_across_pages(agency, auth, client):
    busy = [utc(2031, 6, 17, 0, 0) + timedelta(minutes=10 * n) for n in range(2 * PAGE_SIZE + 7)]
    bulk_posts(agency["instagram"], busy + [utc(2031, 6, 16, 23, 59), utc(2031, 6, 18, 0, 0)])
    auth.login(agency["manager"])
    month = client.get(calendar_url(agency["maya"], "?date=2031-06-17")).get_data(as_text=True)
    more = Html(month).by_role("link", f"{len(busy) - DAY_LIMIT} more on Tuesday 17 June 2031").attributes["href"]

    page = client.get(more).get_data(as_text=True)
    assert Html(page).has_text(f"{len(busy)} posts this day")
    seen = list_ids(page)
    while Html(page).css("li.load-more"):
        page = client.get(Html(page).one("li.load-more").attributes["hx-get"], headers=HTMX).get_data(as_text=True)
        assert "<html" not in page and not Html(page).css("#calendar")
        seen += list_ids(page)
    expected = db.session.scalars(select(Post.id).where(Post.scheduled_at >= utc(2031, 6, 17),
                                                        Post.scheduled_at < utc(2031, 6, 18))
                                  .order_by(Post.scheduled_at, Post.id)).all()
    assert seen == expected and len(seen) == len(busy)

    nav = Html(client.get(more)).within(Html(client.get(more)).by_role("navigation", "Change day"))
    assert nav.by_role("link", "‹ Previous day").attributes["href"] == calendar_url(agency["maya"], "?view=day&date=2031-06-16")
    assert nav.by_role("link", "Next day ›").attributes["href"] == calendar_url(agency["maya"], "?view=day&date=2031-06-18")
    empty = client.get(calendar_url(agency["maya"], "?view=day&date=2031-06-19")).get_data(as_text=True)
    assert Html(empty).has_text("No posts this day.") and not list_ids(empty)


@pytest.mark.parametrize("zone, change, posts, expected", [
    # New York springs forward on 9 March 2031: that day has 23 hours, 00:00 to 24:00 local is 05:00 to 04:00 UTC.
    ("America/New_York", date(2031, 3, 9),
     [utc(2031, 3, 9, 4, 59), utc(2031, 3, 9, 5, 0), utc(2031, 3, 10, 3, 59), utc(2031, 3, 10, 4, 0)],
     {date(2031, 3, 8): 1, date(2031, 3, 9): 2, date(2031, 3, 10): 1}),
    # Sydney falls back on 6 April 2031: that day has 25 hours, 00:00 local is 13:00 UTC the day before
    # (summer time, UTC+11) and its end is 14:00 UTC (UTC+10).
    ("Australia/Sydney", date(2031, 4, 6),
     [utc(2031, 4, 5, 12, 59), utc(2031, 4, 5, 13, 0), utc(2031, 4, 6, 13, 59), utc(2031, 4, 6, 14, 0)],
     {date(2031, 4, 5): 1, date(2031, 4, 6): 2, date(2031, 4, 7): 1}),
])
def test_days_are_counted_in_the_zone_across_a_daylight_saving_change(agency, auth, client, zone, change, posts,
                                                                      expected):
    agency["account"].time_zone = zone
    bulk_posts(agency["instagram"], posts)
    auth.login(agency["manager"])
    for view in ("month", "week"):
        html = client.get(calendar_url(agency["maya"], f"?view={view}&date={change.isoformat()}")).get_data(as_text=True)
        counts = shown_counts(html)
        shown = {day: held for day, held in expected.items() if day in counts}
        assert {day: counts[day] for day in shown} == shown and sum(counts.values()) == sum(shown.values()), view
    day = client.get(calendar_url(agency["maya"], f"?view=day&date={change.isoformat()}")).get_data(as_text=True)
    assert len(list_ids(day)) == 2 and Html(day).has_text("2 posts this day")


# --- the list -------------------------------------------------------------------------------------


def list_ids(html: str) -> list[int]:
    return post_ids(Html(html))


def test_the_list_shows_upcoming_posts_from_today_and_past_ones_newest_first(agency, auth, client):
    now = datetime.now(timezone.utc)
    later = post_at(agency["instagram"], now + timedelta(days=9), caption="Later")
    soon = post_at(agency["instagram"], now + timedelta(days=1), caption="Soon")
    old = post_at(agency["instagram"], now - timedelta(days=20), status=PostStatus.PUBLISHED, caption="Old")
    older = post_at(agency["instagram"], now - timedelta(days=40), status=PostStatus.PUBLISHED, caption="Older")
    auth.login(agency["manager"])

    upcoming = client.get(calendar_url(agency["maya"], "?view=list")).get_data(as_text=True)
    assert list_ids(upcoming) == [soon.id, later.id]
    assert title_of(upcoming) == "Upcoming posts"
    past_link = Html(upcoming).by_role("link", "Past").attributes
    assert past_link["href"] == past_link["hx-get"] == calendar_url(agency["maya"], "?view=list&when=past")
    past = client.get(calendar_url(agency["maya"], "?view=list&when=past")).get_data(as_text=True)
    assert list_ids(past) == [old.id, older.id]
    assert Html(upcoming).has_text(f"{soon.scheduled_at:%a} {soon.scheduled_at.day} {soon.scheduled_at:%b %Y}, ")


def test_the_list_is_paged_by_key(agency, auth, client):
    start = datetime.now(timezone.utc) + timedelta(days=1)
    posts = [post_at(agency["instagram"], start + timedelta(hours=n)) for n in range(PAGE_SIZE + 3)]
    auth.login(agency["manager"])

    first = client.get(calendar_url(agency["maya"], "?view=list")).get_data(as_text=True)
    assert list_ids(first) == [post.id for post in posts[:PAGE_SIZE]]
    more = Html(first).one("li.load-more").attributes
    assert more["hx-trigger"] == "revealed"
    response = client.get(more["hx-get"], headers=HTMX)
    rows = response.get_data(as_text=True)
    assert not Html(rows).css("h1") and not Html(rows).css("#calendar")  # only the next rows
    assert list_ids(rows) == [post.id for post in posts[PAGE_SIZE:]]
    assert not Html(rows).css(".load-more")


# --- who sees what --------------------------------------------------------------------------------


def test_only_posts_the_user_may_edit_can_be_dragged_or_rescheduled(agency, auth, client):
    scheduled = post_at(agency["instagram"], utc(2031, 6, 17, 9, 0))
    published = post_at(agency["instagram"], utc(2031, 6, 18, 9, 0), status=PostStatus.PUBLISHED)
    auth.login(agency["manager"])
    page = Html(client.get(calendar_url(agency["maya"], "?date=2031-06-17")))
    movable, fixed = page.one(f"#post-{scheduled.id}").attributes, page.one(f"#post-{published.id}").attributes
    assert movable["data-status"] == "scheduled" and "data-draggable" in movable
    assert fixed["data-status"] == "published" and "data-draggable" not in fixed
    # Cards carry no form: Reschedule is a link to the form, and a drag sends the calendar's one move form.
    links = page.all_by_role("link", re.compile(r"^Reschedule\b"))
    assert [link.attributes["href"] for link in links] == [reschedule_url(agency["maya"], scheduled) + "?view=month&date=2031-06-17"]
    assert page.name_of(links[0]) == "Reschedule the Instagram post of @mayalopez at 09:00 UTC"
    assert not page.css("li.calendar-post form")
    move = page.one("form#calendar-move").attributes
    assert move["method"] == "post" and "data-reschedule" in move and move["hx-target"] == "#calendar"
    assert [(field.attributes["name"], field.attributes.get("value")) for field in page.css("#calendar-move input")][1:] == [
        ("view", "month"), ("date", "2031-06-17"), ("new_date", "")]
    auth.logout()

    auth.login(agency["creator"])  # a client may see the posts, not change them
    page = Html(client.get(calendar_url(agency["maya"], "?date=2031-06-17")))
    assert page.one(f"#post-{scheduled.id}")
    assert not page.css("[data-draggable]") and not page.has_text("Reschedule") and not page.css("#calendar-move")
    assert client.get(reschedule_url(agency["maya"], scheduled), headers=HTMX).status_code == 403


def test_the_reschedule_form_opens_in_a_dialog_or_as_a_page_of_its_own(agency, auth, client):
    post = post_at(agency["instagram"], utc(2031, 6, 17, 9, 0), caption="Summer")
    auth.login(agency["manager"])
    url = reschedule_url(agency["maya"], post) + "?view=week&date=2031-06-17"
    dialog = Html(client.get(url, headers=HTMX))
    assert not dialog.css("h1") and dialog.one("[data-show-dialog]")
    assert dialog.by_role("heading", "Reschedule the Instagram post of @mayalopez")
    form = dialog.one("form[data-reschedule]").attributes
    assert form["hx-post"] == form["action"] == reschedule_url(agency["maya"], post)
    assert form["hx-target"] == "#calendar" and form["data-post"] == f"post-{post.id}"
    assert dialog.by_label("Date").attributes["value"] == "2031-06-17"
    assert dialog.by_role("button", "Cancel") and dialog.by_role("button", "Move")
    assert {field.attributes["name"]: field.attributes.get("value") for field in dialog.css("input[type=hidden]")
            if field.attributes["name"] != "csrf_token"} == {"view": "week", "date": "2031-06-17"}

    # Without scripts the link opens a page whose form posts and comes back to the same week.
    page = Html(client.get(url))
    assert page.by_role("heading", "Reschedule a post").tag == "h1"
    form = page.one("form[data-reschedule]").attributes
    assert "hx-post" not in form and form["action"] == reschedule_url(agency["maya"], post)
    assert page.by_role("link", "Cancel").attributes["href"] == calendar_url(agency["maya"], "?view=week&date=2031-06-17")


def test_the_reschedule_form_of_a_published_post_says_it_stays_and_other_groups_posts_are_not_found(
        agency, auth, client):
    published = post_at(agency["instagram"], utc(2031, 6, 18, 9, 0), status=PostStatus.PUBLISHED)
    leo_post = post_at(agency["leo_profile"], utc(2031, 6, 17, 9, 0))
    hidden = post_at(agency["tiktok"], utc(2031, 6, 17, 9, 0))
    auth.login(agency["manager"])
    dialog = Html(client.get(reschedule_url(agency["maya"], published), headers=HTMX))
    assert dialog.by_text("This post was published; it can no longer be moved.", "[role=alert]")
    assert not dialog.css("form")
    assert client.get(reschedule_url(agency["maya"], leo_post)).status_code == 404
    auth.logout()
    auth.login(agency["creator"])
    assert client.get(reschedule_url(agency["maya"], hidden)).status_code == 404


def test_new_post_is_offered_to_those_who_may_create_posts(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(calendar_url(agency["maya"])))
    assert page.by_role("link", "New post").attributes["href"] == f"/g/{agency['maya'].id}/posts/new"
    auth.logout()
    auth.login(agency["creator"])
    page = Html(client.get(calendar_url(agency["maya"])))
    assert not page.has_text("New post")
    assert not [link for link in page.all_by_role("link") if "/posts/new" in link.attributes["href"]]


def test_the_sidebar_leads_to_the_calendar_and_the_switcher_keeps_it(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(f"/g/{agency['maya'].id}/"))
    sections = [page.name_of(link) for link in page.within(page.by_role("navigation", "Main")).all_by_role("link")]
    assert sections.index("Overview") < sections.index("Calendar") < sections.index("Social Profiles")
    page = Html(client.get(calendar_url(agency["maya"])))
    sidebar = page.within(page.by_role("navigation", "Main"))
    assert sidebar.by_role("link", "Calendar").attributes.get("aria-current") == "page"
    assert page.one("#switcher-options").attributes["hx-get"] == f"/g/{agency['maya'].id}/switcher?section=calendar"
    options = Html(client.get(f"/g/{agency['maya'].id}/switcher?section=calendar", headers=HTMX))
    assert options.by_role("link", "Leo Park").attributes["href"] == f"/g/{agency['leo'].id}/calendar"


# --- rescheduling ---------------------------------------------------------------------------------


def test_dropping_a_post_on_another_day_keeps_its_time_of_day_in_the_account_zone(agency, auth, client):
    agency["account"].time_zone = "America/New_York"
    post = post_at(agency["instagram"], datetime(2031, 3, 5, 10, 0, tzinfo=NEW_YORK).astimezone(timezone.utc))
    auth.login(agency["manager"])

    # A drag sends the day only; the week after, New York keeps summer time (UTC-4 instead of UTC-5).
    response = client.post(reschedule_url(agency["maya"], post), headers=HTMX,
                           data={"new_date": "2031-03-12", "view": "month", "date": "2031-03-01"})
    assert response.status_code == 200
    assert scheduled_at(post) == utc(2031, 3, 12, 14, 0)
    html = response.get_data(as_text=True)
    assert "HX-Trigger" not in response.headers  # no page listens for an event
    assert Html(html).top_level[0].attributes["id"] == "calendar"
    assert title_of(html) == "March 2031"
    assert post_ids_on(html, date(2031, 3, 12)) == [post.id] and post_ids_on(html, date(2031, 3, 5)) == []
    assert "Moved the Instagram post of @mayalopez to Wed 12 Mar 2031, 10:00 EDT." in html  # the flash, out of band
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "post.rescheduled"))
    assert event.object_id == post.id and event.actor_id == agency["manager"].id


def test_the_reschedule_form_sets_the_day_and_the_time(agency, auth, client):
    agency["account"].time_zone = "America/New_York"
    post = post_at(agency["instagram"], utc(2031, 6, 17, 13, 0))
    auth.login(agency["manager"])
    response = client.post(reschedule_url(agency["maya"], post),
                           data={"new_date": "2031-06-20", "new_time": "18:45", "view": "week", "date": "2031-06-17"})
    assert response.status_code == 303
    assert response.location.endswith(calendar_url(agency["maya"], "?view=week&date=2031-06-17"))
    assert scheduled_at(post) == utc(2031, 6, 20, 22, 45)
    html = client.get(response.location).get_data(as_text=True)
    assert "Moved the Instagram post of @mayalopez to Fri 20 Jun 2031, 18:45 EDT." in html


def test_rescheduling_from_the_list_shows_the_list_again(agency, auth, client):
    post = post_at(agency["instagram"], datetime.now(timezone.utc) + timedelta(days=2))
    auth.login(agency["manager"])
    response = client.post(reschedule_url(agency["maya"], post), headers=HTMX,
                           data={"new_date": (today() + timedelta(days=30)).isoformat(), "view": "list",
                                 "when": "upcoming"})
    assert response.status_code == 200
    assert title_of(response.get_data(as_text=True)) == "Upcoming posts"
    assert list_ids(response.get_data(as_text=True)) == [post.id]


@pytest.mark.parametrize("status, data, message", [
    (PostStatus.PUBLISHED, {"new_date": "2031-06-20"}, "This post was published; it can no longer be moved."),
    (PostStatus.SCHEDULED, {"new_date": "2020-06-20"}, "Choose a time in the future."),
    (PostStatus.SCHEDULED, {"new_date": "2031-02-30"}, "Choose a valid date to move the post to."),
    (PostStatus.SCHEDULED, {"new_date": "junk"}, "Choose a valid date to move the post to."),
    (PostStatus.SCHEDULED, {"new_date": "9999-12-31"}, "Choose a valid date to move the post to."),
    (PostStatus.SCHEDULED, {}, "Choose a valid date to move the post to."),
    (PostStatus.SCHEDULED, {"new_date": "2031-06-20", "new_time": "25:00"}, "Enter a valid time of day, such as 09:30."),
])
def test_a_refused_reschedule_changes_nothing_and_says_why(agency, auth, client, status, data, message):
    post = post_at(agency["instagram"], utc(2031, 6, 17, 9, 0), status=status)
    auth.login(agency["manager"])
    response = client.post(reschedule_url(agency["maya"], post), headers=HTMX,
                           data={**data, "view": "month", "date": "2031-06-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert Html(html).by_text(message, ".calendar-problem[role=alert]")
    assert Html(html).top_level[0].attributes["id"] == "calendar"
    assert post_ids_on(html, date(2031, 6, 17)) == [post.id]  # the post is back on its day
    assert scheduled_at(post) == utc(2031, 6, 17, 9, 0)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "post.rescheduled")) is None


def test_a_refusal_without_htmx_shows_the_whole_page(agency, auth, client):
    post = post_at(agency["instagram"], utc(2031, 6, 17, 9, 0))
    auth.login(agency["manager"])
    response = client.post(reschedule_url(agency["maya"], post), data={"new_date": "2020-01-01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html and "Choose a time in the future." in html
    assert title_of(html) == f"{today():%B %Y}"


def test_a_post_of_another_group_is_not_found(agency, auth, client):
    leo_post = post_at(agency["leo_profile"], utc(2031, 6, 17, 9, 0))
    auth.login(agency["manager"])  # works in both groups, but the post is not in Maya's
    response = client.post(reschedule_url(agency["maya"], leo_post), data={"new_date": "2031-06-20"})
    assert response.status_code == 404
    assert scheduled_at(leo_post) == utc(2031, 6, 17, 9, 0)


def test_a_post_hidden_from_the_user_is_not_found_and_a_client_may_not_move_one(agency, auth, client):
    tiktok_post = post_at(agency["tiktok"], utc(2031, 6, 17, 9, 0))
    instagram_post = post_at(agency["instagram"], utc(2031, 6, 17, 10, 0))
    auth.login(agency["creator"])
    assert client.post(reschedule_url(agency["maya"], tiktok_post), data={"new_date": "2031-06-20"}).status_code == 404
    assert client.post(reschedule_url(agency["maya"], instagram_post), data={"new_date": "2031-06-20"}).status_code == 403
    assert scheduled_at(instagram_post) == utc(2031, 6, 17, 10, 0)
