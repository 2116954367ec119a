"""Times in each person's zone, in a browser: the owner puts the agency on New York time in Settings ›
Agency, Maya (a creator) takes her computer's Berlin time in Settings › Your account, and each sees the
same post at their own local time, with the zone's abbreviation, in the composer and on the calendar;
a post the owner then sends for Maya's approval reaches her email and her review page in Berlin time,
under the agency's name and logo.

Screenshots of both settings pages at phone and laptop widths go to /tmp/shots/.
"""
from __future__ import annotations

import email
import email.policy
import io
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.mail import send_pending
from webapp.models import AccessGroup, MemberRight, Membership, Post, PostStatus, SocialProfile, User

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in

OWNER = "owner@northstar.example"
MAYA = "maya@northstar.example"
# 02:00 UTC on 2 July 2027: 22:00 EDT on 1 July in New York, 04:00 CEST on 2 July in Berlin.
MOMENT = datetime(2027, 7, 2, 2, 0, tzinfo=timezone.utc)
SHOTS = Path("/tmp/shots")
SIZES = {"phone": (390, 844), "laptop": (1366, 800)}


def _the_post() -> None:
    """A post of Maya's group at MOMENT, which Maya may edit (a grant the agency can give its clients)."""
    maya = db.session.scalar(select(User).where(User.email == MAYA))
    membership = db.session.scalar(select(Membership).where(Membership.user_id == maya.id))
    membership.rights.append(MemberRight(name="posts.edit"))
    group = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Maya Lopez"))
    profile = db.session.scalars(select(SocialProfile).where(SocialProfile.access_group_id == group.id,
                                                             SocialProfile.needs_approval.is_(False))).first()
    db.session.add(Post(social_profile_id=profile.id, access_group_id=group.id, caption="Time zone launch",
                        status=PostStatus.SCHEDULED.value, scheduled_at=MOMENT))


@pytest.fixture
def zones_server(tmp_path) -> LiveServer:
    with own_demo_server(tmp_path, _the_post) as server:
        yield server


@pytest.fixture
def base_url(zones_server: LiveServer) -> str:
    return zones_server.url


def post_id(server: LiveServer) -> int:
    with server.app.app_context():
        found = db.session.scalar(select(Post.id).where(Post.caption == "Time zone launch"))
        db.session.remove()
    return found


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        # Nothing runs off the side on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} at {size}"
    page.set_viewport_size({"width": 1366, "height": 800})


def see_the_post(page: Page, server: LiveServer, day: str, time_text: str, date_value: str, time_value: str,
                 zone_label: str) -> None:
    """The post on the calendar on `day` at `time_text`, and in the composer's fields at `date_value` `time_value`."""
    group_id, post = server.group_id("Maya Lopez"), post_id(server)
    page.goto(f"/g/{group_id}/calendar?view=month&date=2027-07-01")
    card = page.locator(f'li.day[data-date="{day}"]').locator(f"#post-{post}")
    expect(card).to_contain_text(time_text)
    page.goto(f"/g/{group_id}/posts/{post}/edit")
    expect(page.get_by_role("group", name=f"Publish at ({zone_label} time)")).to_be_visible()
    expect(page.get_by_label("Date")).to_have_value(date_value)
    expect(page.get_by_label("Time", exact=True)).to_have_value(time_value)


def logo_png() -> bytes:
    output = io.BytesIO()
    image = Image.new("RGB", (900, 300), "#0f766e")
    ImageDraw.Draw(image).rectangle((60, 60, 240, 240), fill="#fbbf24")
    image.save(output, "PNG")
    return output.getvalue()


def test_each_person_sees_the_post_in_their_own_zone(page: Page, new_context, zones_server: LiveServer,
                                                     browser_problems):
    sign_in(page, OWNER)
    page.goto("/settings/account")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Agency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agency")

    # A zone not on the list is refused, with nothing saved.
    browser_problems.expect_status(422)
    page.get_by_label("Time zone").fill("New York")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Time zone")).to_have_accessible_description(re.compile("Choose a time zone from the list"))
    shoot(page, "settings-agency-refused")

    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_label("Logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Agency settings saved.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    expect(page.get_by_role("img", name="Northstar Talent's logo")).to_be_visible()
    shoot(page, "settings-agency")
    see_the_post(page, zones_server, "2027-07-01", "22:00 EDT", "2027-07-01", "22:00", "New York")

    maya = new_context(timezone_id="Europe/Berlin").new_page()
    sign_in(maya, MAYA)
    maya.goto("/settings/account")
    zone = maya.get_by_role("region", name="Time zone")
    expect(zone.get_by_text("Your computer is on Berlin time: use it?")).to_be_visible()
    shoot(maya, "settings-account")
    zone.get_by_role("button", name="Use Europe/Berlin").click()
    expect(maya.get_by_text("Times now show in Europe/Berlin.")).to_be_visible()
    expect(maya.get_by_label("Your time zone")).to_have_value("Europe/Berlin")
    # The computer and the setting now agree: nothing more to suggest.
    expect(maya.get_by_text(re.compile("Your computer is on"))).to_be_hidden()
    see_the_post(maya, zones_server, "2027-07-02", "04:00 CEST", "2027-07-02", "04:00", "Berlin")

    # The owner's view did not move.
    see_the_post(page, zones_server, "2027-07-01", "22:00 EDT", "2027-07-01", "22:00", "New York")

    # The owner sends Maya a post for approval at 22:00 New York time on 1 July.
    group_id = zones_server.group_id("Maya Lopez")
    page.goto(f"/g/{group_id}/posts/new")
    page.get_by_role("checkbox", name=re.compile("@mayalopez Needs approval")).check()
    page.get_by_label("Caption").fill("Zone check for Maya")
    page.get_by_role("checkbox", name="maya-shoot-1.jpg").check()  # Instagram needs an image or a video
    page.get_by_label("Date").fill("2027-07-01")
    page.get_by_label("Time", exact=True).fill("22:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("Sent to Maya Lopez for approval.")).to_be_visible()

    # Her email lists it at 04:00 on 2 July, Berlin time, under the agency's name.
    message = mail_to(zones_server, MAYA)
    assert message["From"].startswith("Northstar Talent via Roster")
    text = message.get_body(("plain",)).get_content()
    line = next(line for line in text.splitlines() if "Zone check for Maya" in line)
    assert "Fri 2 Jul 2027, 04:00 CEST" in line, line
    assert "EDT" not in text and "UTC" not in text
    html = message.get_body(("html",)).get_content()
    assert "Northstar Talent" in html and "/brand/" in html  # the logo, on ROSTER_URL

    # Her review page says the same, and wears the agency's logo.
    link = re.search(r"https?://\S+/review/\S+", text).group(0)
    reviewer = new_context(timezone_id="Europe/Berlin").new_page()
    reviewer.goto(link.replace(zones_server.url, ""))
    card = reviewer.locator("article.review-post").filter(has_text="Zone check for Maya")
    expect(card).to_contain_text("Fri 2 Jul 2027, 04:00 CEST")
    expect(reviewer.get_by_role("img", name="Northstar Talent")).to_be_visible()


def mail_to(server: LiveServer, address: str, timeout: float = 10.0) -> email.message.EmailMessage:
    """The newest message to `address` in the server's outbox, delivering what is still queued."""
    outbox = Path(server.app.config["MAIL_OUTBOX"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.app.app_context():
            send_pending()
            db.session.remove()
        found = []
        for path in sorted(outbox.glob("*.eml"), key=lambda item: item.stat().st_mtime):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                found.append(message)
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address}")
