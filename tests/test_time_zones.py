"""Times in the viewer's zone: DST edges in the composer and calendar, Settings › Agency and its logo,
each person's own time zone, and branded mail."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from webapp import zones
from webapp.extensions import db
from webapp.mail import render_mail
from webapp.models import Account, AuditEvent, Mail, Network, Post, PostStatus, Role, User

from . import factories
from .html import Html


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar Talent")
    account.time_zone = "America/New_York"
    group = factories.default_group(account)
    profile = factories.make_profile(factories.make_social_set(group), Network.X, handle="maya")
    people = {
        "owner": factories.owner_of(account),
        "admin": factories.make_member(account, Role.ADMIN, groups=[group], name="Alex Admin"),
        "manager": factories.make_member(account, Role.MANAGER, groups=[group], name="Sam Manager"),
        "client": factories.make_member(account, Role.CLIENT, groups=[group], name="Maya Lopez"),
    }
    factories.add_to_group(people["owner"], group)
    db.session.commit()
    return dict(account=account, group=group, profile=profile, **people)


def compose(client, agency, day: str, at: str, **fields):
    data = {"caption": "Launch day", "date": day, "time": at, "profiles": [agency["profile"].id], "schedule": "y"}
    data.update(fields)
    return client.post(f"/g/{agency['group'].id}/posts", data=data)


def posts() -> list[Post]:
    return list(db.session.scalars(select(Post)))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# --- zones and styles -------------------------------------------------------------------------------


def test_to_utc_on_both_sides_of_utc():
    berlin, new_york = zones.zone_named("Europe/Berlin"), zones.zone_named("America/New_York")
    assert zones.to_utc(date(2027, 7, 1), time(9, 0), berlin) == utc(2027, 7, 1, 7, 0)
    assert zones.to_utc(date(2027, 7, 1), time(9, 0), new_york) == utc(2027, 7, 1, 13, 0)
    with pytest.raises(zones.NonexistentTime):
        zones.to_utc(date(2027, 3, 28), time(2, 30), berlin)
    with pytest.raises(zones.NonexistentTime):
        zones.to_utc(date(2027, 3, 14), time(2, 30), new_york)
    with pytest.raises(zones.AmbiguousTime) as twice:
        zones.to_utc(date(2027, 10, 31), time(2, 30), berlin)
    assert twice.value.choices == (utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30))
    assert zones.to_utc(date(2027, 11, 7), time(1, 30), new_york, fold=1) == utc(2027, 11, 7, 6, 30)


def test_a_style_writes_times_on_a_12_hour_clock_with_the_zones_abbreviation():
    style = zones.TimeStyle(zone=zones.zone_named("America/New_York"), clock="12h")
    assert style.format(utc(2027, 1, 4, 19, 5)) == "Mon 4 Jan 2027, 2:05 pm EST"
    assert style.format(utc(2027, 1, 4, 5, 0), "time") == "12:00 am EST"
    assert style.format(utc(2027, 7, 4, 16, 0), "short") == "4 Jul, 12:00 pm EDT"
    assert zones.TimeStyle(zone=zones.zone_named("Europe/Berlin")).format(utc(2027, 7, 4, 16, 0), "time") == "18:00 CEST"
    assert style.format(date(2027, 3, 3), "date") == "3 Mar 2027"


# --- the composer at the clocks' changes ------------------------------------------------------------


@pytest.mark.parametrize("zone, day", [("America/New_York", "2027-03-14"), ("Europe/Berlin", "2027-03-28")])
def test_a_time_the_clocks_skip_is_refused_and_nothing_saved(agency, auth, client, zone, day):
    agency["manager"].time_zone = zone
    db.session.commit()
    auth.login(agency["manager"])
    response = compose(client, agency, day, "02:30")
    assert response.status_code == 422
    page = Html(response)
    assert "does not exist" in page.by_role("alert").text() and "clocks go forward" in page.text
    assert posts() == []


@pytest.mark.parametrize("zone, day, at, first, second", [
    ("America/New_York", "2027-11-07", "01:30", (utc(2027, 11, 7, 5, 30), "01:30 EDT"), (utc(2027, 11, 7, 6, 30), "01:30 EST")),
    ("Europe/Berlin", "2027-10-31", "02:30", (utc(2027, 10, 31, 0, 30), "02:30 CEST"), (utc(2027, 10, 31, 1, 30), "02:30 CET")),
])
def test_a_time_the_clocks_go_through_twice_asks_which(agency, auth, client, zone, day, at, first, second):
    agency["manager"].time_zone = zone
    db.session.commit()
    auth.login(agency["manager"])
    response = compose(client, agency, day, at)
    assert response.status_code == 422 and posts() == []
    page = Html(response)
    assert "happens twice" in page.by_role("alert").text()
    assert page.by_role("radio", f"{first[1]} (the first)") is not None
    assert page.by_role("radio", f"{second[1]} (the second)") is not None

    for fold, (moment, _) in enumerate((first, second)):
        assert compose(client, agency, day, at, fold=str(fold)).status_code == 303
        post = db.session.scalars(select(Post).order_by(Post.id.desc())).first()
        assert post.scheduled_at == moment
        # The edit form shows it again at that time, and saving keeps which of the two it is.
        edit = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}/edit"))
        assert edit.by_label("Time").attributes["value"] == at and edit.hidden_value("fold") == str(fold)
        response = client.post(f"/g/{agency['group'].id}/posts/{post.id}",
                               data={"caption": "Changed", "date": day, "time": at, "fold": str(fold), "schedule": "y"})
        assert response.status_code == 303
        db.session.refresh(post)
        assert post.scheduled_at == moment


def test_the_composer_reads_and_labels_the_viewers_own_zone(agency, auth, client):
    agency["client"].time_zone = "Europe/Berlin"
    db.session.commit()
    auth.login(agency["manager"])  # on the agency's New York time
    new = Html(client.get(f"/g/{agency['group'].id}/posts/new"))
    assert "Publish at (New York time)" in new.text
    assert compose(client, agency, "2027-07-01", "09:00").status_code == 303
    post = posts()[0]
    assert post.scheduled_at == utc(2027, 7, 1, 13, 0)
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}"))
    assert "Thu 1 Jul 2027, 09:00 EDT" in page.text

    factories.make_member(agency["account"], Role.MANAGER, groups=[agency["group"]], email="kai@example.test")
    kai = db.session.scalar(select(User).where(User.email == "kai@example.test"))
    kai.time_zone = "Europe/Berlin"
    db.session.commit()
    auth.logout()
    auth.login(kai)
    edit = Html(client.get(f"/g/{agency['group'].id}/posts/{post.id}/edit"))
    assert "Publish at (Berlin time)" in edit.text
    assert edit.by_label("Date").attributes["value"] == "2027-07-01" and edit.by_label("Time").attributes["value"] == "15:00"


# --- the calendar --------------------------------------------------------------------------------------


def test_the_calendar_puts_a_post_on_the_viewers_local_day(agency, auth, client):
    # 02:00 UTC on 2 July: 1 July, 22:00 in New York; 2 July, 04:00 in Berlin.
    post = factories.make_post(agency["profile"])
    post.status, post.scheduled_at = PostStatus.SCHEDULED.value, utc(2027, 7, 2, 2, 0)
    db.session.commit()
    auth.login(agency["manager"])
    month = Html(client.get(f"/g/{agency['group'].id}/calendar?view=month&date=2027-07-01"))
    day = month.one('li.day[data-date="2027-07-01"]')
    assert "22:00 EDT" in month.within(day).text

    response = client.post("/settings/account/time-zone", data={"zone_choice": "own", "time_zone": "Europe/Berlin"})
    assert response.status_code == 303
    assert db.session.get(User, agency["manager"].id).time_zone == "Europe/Berlin"
    month = Html(client.get(f"/g/{agency['group'].id}/calendar?view=month&date=2027-07-01"))
    assert "04:00 CEST" in month.within(month.one('li.day[data-date="2027-07-02"]')).text
    assert month.one('li.day[data-date="2027-07-01"]').attributes["data-count"] == "0"


def test_weeks_start_on_the_agencys_first_day(agency, auth, client):
    agency["account"].week_start = "sunday"
    db.session.commit()
    auth.login(agency["manager"])
    month = Html(client.get(f"/g/{agency['group'].id}/calendar?view=month&date=2027-08-01"))
    assert month.css("li.day")[0].attributes["data-date"] == "2027-08-01"  # a Sunday
    assert [node.text() for node in month.css(".weekdays li")][:2] == ["Sun", "Mon"]
    week = Html(client.get(f"/g/{agency['group'].id}/calendar?view=week&date=2027-08-04"))
    assert [node.attributes["data-date"] for node in week.css("li.day")][0] == "2027-08-01"


def test_rescheduling_to_a_repeated_time_asks_which(agency, auth, client):
    post = factories.make_post(agency["profile"])
    post.status, post.scheduled_at = PostStatus.SCHEDULED.value, utc(2027, 11, 1, 15, 0)
    db.session.commit()
    auth.login(agency["manager"])
    url = f"/g/{agency['group'].id}/calendar/posts/{post.id}/reschedule"
    response = client.post(url, data={"new_date": "2027-11-07", "new_time": "01:30"})
    assert response.status_code == 422
    page = Html(response)
    assert page.by_role("radio", "01:30 EST (the second)") is not None
    assert db.session.get(Post, post.id).scheduled_at == utc(2027, 11, 1, 15, 0)
    response = client.post(url, data={"new_date": "2027-11-07", "new_time": "01:30", "fold": "1"})
    assert response.status_code == 303
    assert db.session.get(Post, post.id).scheduled_at == utc(2027, 11, 7, 6, 30)
    skipped = client.post(url, data={"new_date": "2028-03-12", "new_time": "02:30"})
    assert skipped.status_code == 422 and "does not exist" in Html(skipped).text


# --- Settings › Agency ------------------------------------------------------------------------------


def png_bytes(size=(1200, 300), color=(200, 30, 30), kind="PNG") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, kind)
    return output.getvalue()


def agency_form(**fields) -> dict:
    data = {"name": "Northstar Talent", "time_zone": "America/New_York", "week_start": "monday", "clock": "24h",
            "accent_color": "#1d4ed8"}
    data.update(fields)
    return data


@pytest.mark.parametrize("who, status", [("owner", 200), ("admin", 200), ("manager", 403), ("client", 403)])
def test_settings_agency_is_for_the_owner_and_admins(agency, auth, client, who, status):
    auth.login(agency[who])
    assert client.get("/settings/agency").status_code == status
    assert client.post("/settings/agency", data=agency_form(name="Renamed")).status_code == (303 if status == 200 else 403)
    assert (db.session.get(Account, agency["account"].id).name == "Renamed") == (status == 200)
    nav = Html(client.get("/settings/account")).by_role("navigation", "Settings")
    assert ("Agency" in nav.text()) == (status == 200)


def test_settings_agency_saves_and_audits(agency, auth, client):
    auth.login(agency["admin"])
    page = Html(client.get("/settings/agency"))
    assert page.by_label("Time zone").attributes["list"] == "zone-names"
    assert "Europe/Berlin" in [option.attributes["value"] for option in page.css("datalist#zone-names option")]
    response = client.post("/settings/agency", data=agency_form(time_zone="Europe/Berlin", week_start="sunday",
                                                                clock="12h", accent_color="#FF6600"))
    assert response.status_code == 303
    account = db.session.get(Account, agency["account"].id)
    assert (account.time_zone, account.week_start, account.clock, account.accent_color) == (
        "Europe/Berlin", "sunday", "12h", "#ff6600")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "account.settings_changed")).one()
    assert event.before["time_zone"] == "America/New_York" and event.after["clock"] == "12h"
    assert event.actor_id == agency["admin"].id


@pytest.mark.parametrize("fields, field, message", [
    ({"time_zone": "Mars/Olympus"}, "Time zone", "Choose a time zone from the list"),
    ({"accent_color": "red"}, "Accent colour", "six hex digits"),
    ({"name": "  "}, "Agency name", "Enter the agency's name"),
])
def test_bad_settings_change_nothing(agency, auth, client, fields, field, message):
    auth.login(agency["owner"])
    response = client.post("/settings/agency", data=agency_form(week_start="sunday", **fields))
    assert response.status_code == 422
    page = Html(response)
    assert message in page.description_of(page.by_label(field))
    account = db.session.get(Account, agency["account"].id)
    assert (account.name, account.time_zone, account.week_start) == ("Northstar Talent", "America/New_York", "monday")


def test_a_logo_is_shrunk_to_a_png_served_publicly_and_removed(agency, auth, client, app):
    auth.login(agency["owner"])
    data = agency_form(logo=(io.BytesIO(png_bytes(kind="JPEG")), "logo.jpg"))
    response = client.post("/settings/agency", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    account = db.session.get(Account, agency["account"].id)
    key = account.logo_key
    assert key and re.search(r"-logo-[0-9a-f]{20}\.png$", key)
    page = Html(client.get("/settings/agency"))
    logo = page.one("img.brand-logo-image")
    assert logo.attributes["alt"] == "Northstar Talent's logo"
    source = logo.attributes["src"]
    assert source == f"/brand/{account.id}/{key}"

    auth.logout()
    served = client.get(source)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "public" in served.headers["Cache-Control"] and "max-age=31536000" in served.headers["Cache-Control"]
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.format == "PNG" and image.size == (512, 128)
    assert client.get(f"/brand/{account.id}/{key.replace('-logo-', '-logo-0')}").status_code == 404
    other = factories.make_account("Rival")
    db.session.commit()
    assert client.get(f"/brand/{other.id}/{key}").status_code == 404

    auth.login(agency["owner"])
    response = client.post("/settings/agency", data=agency_form(remove_logo="y"))
    assert response.status_code == 303
    assert db.session.get(Account, agency["account"].id).logo_key is None
    assert client.get(source).status_code == 404
    assert not (Path(app.config["MEDIA_ROOT"]) / key).exists()


def test_a_file_that_is_no_image_is_refused_and_the_logo_kept(agency, auth, client):
    auth.login(agency["owner"])
    response = client.post("/settings/agency", data=agency_form(logo=(io.BytesIO(b"%PDF-1.4 not an image"), "x.png"),
                                                                name="Renamed"),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = Html(response)
    assert "could not be read as an image" in page.description_of(page.by_label("Logo"))
    account = db.session.get(Account, agency["account"].id)
    assert account.logo_key is None and account.name == "Northstar Talent"


# --- Your account ------------------------------------------------------------------------------------


def test_your_account_offers_the_agencys_zone_or_your_own(agency, auth, client):
    auth.login(agency["client"])
    page = Html(client.get("/settings/account"))
    assert "checked" in page.by_role("radio", "Use the agency's (America/New_York)").attributes
    suggestion = page.one("form[data-zone-suggestion]")
    assert "hidden" in suggestion.attributes and suggestion.attributes["data-current-zone"] == "America/New_York"

    bad = client.post("/settings/account/time-zone", data={"zone_choice": "own", "time_zone": "Atlantis/Deep"})
    assert bad.status_code == 422 and "Choose a time zone from the list" in Html(bad).text
    assert db.session.get(User, agency["client"].id).time_zone is None

    assert client.post("/settings/account/time-zone",
                       data={"zone_choice": "own", "time_zone": "Europe/Berlin"}).status_code == 303
    assert db.session.get(User, agency["client"].id).time_zone == "Europe/Berlin"
    page = Html(client.get("/settings/account"))
    assert page.one("form[data-zone-suggestion]").attributes["data-current-zone"] == "Europe/Berlin"
    assert client.post("/settings/account/time-zone", data={"zone_choice": "agency", "time_zone": "Europe/Berlin"}).status_code == 303
    assert db.session.get(User, agency["client"].id).time_zone is None


# --- mail and templates ---------------------------------------------------------------------------------


def test_mail_carries_the_agencys_brand_and_the_recipients_times(agency, app):
    account = agency["account"]
    account.accent_color, account.logo_key, account.clock = "#ff6600", "abc-logo-0123456789abcdef0123.png", "12h"
    db.session.commit()
    with app.test_request_context():
        text, html = render_mail("invitation", account=account, inviter=agency["owner"], role="Client",
                                 access_groups=[], expires_at=utc(2027, 1, 4, 19, 5), link="https://roster.example/i/x",
                                 style=zones.style_for(None, account))
    assert "Northstar Talent</strong> via Roster" in html and "#ff6600" in html
    assert f"/brand/{account.id}/abc-logo-0123456789abcdef0123.png" in html
    assert "Sent by Northstar Talent via Roster" in html and text.rstrip().endswith("Sent by Northstar Talent via Roster")
    assert "Mon 4 Jan 2027, 2:05 pm EST" in text and "UTC" not in text


def test_an_invitation_is_sent_under_the_agencys_name(agency, auth, client):
    auth.login(agency["owner"])
    response = client.post("/settings/team/invitations",
                           data={"email": "new@example.test", "role": "client",
                                 "access_groups": [agency["group"].id]})
    assert response.status_code in (200, 303)
    mail = db.session.scalars(select(Mail).where(Mail.to_address == "new@example.test")).one()
    assert mail.sender_name == "Northstar Talent via Roster"
    assert re.search(r"expires on \w{3} \d+ \w{3} \d{4}, \d\d:\d\d E[SD]T", mail.text_body)


def test_no_template_writes_utc_by_hand():
    root = Path(__file__).parent.parent / "webapp" / "templates"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*")
                 if path.is_file() and re.search(r"\bUTC\b", path.read_text(encoding="utf-8"))]
    assert offenders == []
