"""The composer in a browser: a profile's network rules show as the post is written and attached, and
scheduling is refused with the same words (webapp/network_rules.py: Bluesky per the app.bsky.feed.post and
app.bsky.embed.images lexicons, 300 graphemes and images only in this version; Mastodon per its instance's
limits from GET /api/v2/instance, Mastodon 4, links counted as 23 characters)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import network_rules
from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    MediaItem,
    Network,
    NetworkApp,
    Post,
    SocialProfile,
    SocialSet,
    utcnow,
)

from .conftest import own_demo_server
from .helpers import sign_in
from .test_every_page import problems_on

SHOTS = Path("/tmp/shots")
HANDLE = "maya.bsky.social"
CLIP = "tour-teaser.mp4"


def maya_main_set() -> SocialSet:
    group = db.session.scalar(select(AccessGroup).where(AccessGroup.name == "Maya Lopez"))
    return db.session.scalars(select(SocialSet).where(SocialSet.access_group_id == group.id)
                              .order_by(SocialSet.id)).first()


def add_bluesky_and_a_video() -> None:
    """Maya Lopez's main set gets a Bluesky profile, and her library a video (the demo has neither)."""
    social_set = maya_main_set()
    group = social_set.access_group
    db.session.add(SocialProfile(social_set_id=social_set.id, access_group_id=group.id, network=Network.BLUESKY.value,
                                 handle=HANDLE, display_name="Maya Lopez", service_url="https://bsky.social",
                                 access_token="e2e-access", refresh_token="e2e-refresh"))
    db.session.add(MediaItem(access_group_id=group.id, name=CLIP, kind="video", content_type="video/mp4",
                             byte_size=4_200_000, storage_key="e2e-tour-teaser.mp4"))
    db.session.flush()


def test_bluesky_rules_show_as_the_post_is_written_and_scheduling_is_refused_with_them(
    tmp_path, new_context, browser_problems
):
    with own_demo_server(tmp_path, add_bluesky_and_a_video) as server:
        page: Page = new_context(base_url=server.url).new_page()
        browser_problems.watch(page)
        group_id = server.group_id("Maya Lopez")
        sign_in(page, "sam@northstar.example")
        page.goto(f"/g/{group_id}/posts/new")
        rules = page.locator("#composer-rules")
        language = page.get_by_label("Language (Bluesky)")
        expect(language).to_be_hidden()  # shown once a profile that takes it is chosen

        page.get_by_role("checkbox", name=re.compile(re.escape(f"@{HANDLE}"))).check()
        expect(language).to_be_visible()
        expect(page.get_by_label("Who can see it (Mastodon)")).to_have_count(0)  # the group has no Mastodon profile

        # 301 thumbs with a skin tone: 301 characters as a reader (and Bluesky) counts them, 602 code points.
        page.get_by_label("Caption").fill("👍🏽" * 300)
        expect(page.locator("#caption-count")).to_have_text("300 / 300 characters for Bluesky")
        expect(rules).to_be_empty()
        page.get_by_label("Caption").press_sequentially("👍🏽")
        expect(page.locator("#caption-count")).to_have_text("301 / 300 characters for Bluesky: 1 too many")
        expect(rules.get_by_role("listitem")).to_have_text(
            ["Bluesky takes posts of up to 300 characters; this one has 301."])
        assert rules.get_attribute("aria-live") == "polite"

        page.get_by_label("Search the media library").fill("teaser")
        page.get_by_role("checkbox", name=CLIP).check()
        expect(rules.get_by_role("listitem")).to_have_text([
            "Bluesky takes posts of up to 300 characters; this one has 301.",
            f"Bluesky posts from Roster take images only for now; “{CLIP}” is a video.",
        ])
        language.select_option(label="German")
        SHOTS.mkdir(exist_ok=True)
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"composer-rules-{width}.png"), full_page=True)

        # Schedule stays enabled: the server is the judge, and says the first rule broken.
        day = (datetime.now(timezone.utc) + timedelta(days=3)).date()
        page.get_by_label("Date").fill(day.isoformat())
        page.get_by_label("Time").fill("10:15")
        schedule = page.get_by_role("button", name="Schedule")
        expect(schedule).to_be_enabled()
        browser_problems.expect_status(422)
        schedule.click()
        expect(page.get_by_role("alert")).to_have_text("Bluesky takes posts of up to 300 characters; this one has 301.")
        expect(rules.get_by_role("listitem")).to_have_count(2)
        expect(page.get_by_label("Language (Bluesky)")).to_have_value("de")  # the choice stays
        with server.app.app_context():
            saved = db.session.scalars(select(Post).join(SocialProfile).where(SocialProfile.handle == HANDLE)).all()
            db.session.remove()
        assert saved == []
        page.wait_for_load_state("networkidle")  # the picker's thumbnails, before this server stops
        page.close()


def add_mastodon_on_a_small_instance() -> None:
    """Maya Lopez's main set gets a Mastodon profile on an instance of 120 characters and 2 attachments."""
    social_set = maya_main_set()
    db.session.add(NetworkApp(network=Network.MASTODON.value, server_url="https://small.example", client_id="roster",
                              redirect_uri="http://roster.test/oauth/callback/mastodon", limits_read_at=utcnow(),
                              limits={"max_characters": 120, "max_media_attachments": 2,
                                      "characters_reserved_per_url": 23}))
    db.session.add(SocialProfile(social_set_id=social_set.id, access_group_id=social_set.access_group_id,
                                 network=Network.MASTODON.value, handle="maya@small.example",
                                 service_url="https://small.example", access_token="e2e-access"))
    db.session.flush()


def test_mastodon_counts_as_its_instance_does_in_the_browser_and_the_server_alike(
    tmp_path, new_context, browser_problems
):
    with own_demo_server(tmp_path, add_mastodon_on_a_small_instance) as server:
        page: Page = new_context(base_url=server.url).new_page()
        browser_problems.watch(page)
        sign_in(page, "sam@northstar.example")
        page.goto(f"/g/{server.group_id('Maya Lopez')}/posts/new")
        page.get_by_role("checkbox", name=re.compile("@maya@small.example")).check()
        warning = page.get_by_label("Content warning (Mastodon, optional)")
        expect(warning).to_be_visible()
        expect(page.get_by_label("Who can see it (Mastodon)")).to_have_value("public")

        caption = ("Tour dates: https://tickets.example.com/maya-lopez/2027/world-tour?ref=roster. "
                   "Thanks @promoter@events.example.org! 🇫🇷🇩🇪")
        page.get_by_label("Caption").fill(caption)
        warning.fill("Loud")
        with server.app.app_context():
            rules = network_rules.rules_for(db.session.scalars(
                select(SocialProfile).where(SocialProfile.handle == "maya@small.example")).all())
            [instance] = rules.values()
            db.session.remove()
        counted = instance.length(caption, "Loud")
        assert counted < len(caption) and counted <= 120
        expect(page.locator("#caption-count")).to_have_text(
            f"{counted} / 120 characters for Mastodon (small.example)")
        page.get_by_label("Caption").press_sequentially("!" * (121 - counted))
        expect(page.locator("#composer-rules").get_by_role("listitem")).to_have_text([
            "Mastodon (small.example) takes posts of up to 120 characters, content warning included; "
            "this one has 121."])

        for number in (1, 2, 3):
            page.get_by_role("checkbox", name=f"maya-shoot-{number}.jpg").check()
        expect(page.locator("#composer-rules").get_by_role("listitem")).to_have_text([
            "Mastodon (small.example) takes posts of up to 120 characters, content warning included; "
            "this one has 121.",
            "Mastodon (small.example) takes up to 2 attachments; this post has 3."])
        # The rules and the options fit a phone and a desk, and pass axe.
        problems = []
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            problems += problems_on(page, f"the composer with Mastodon's rules at {width}")
        assert not problems, "\n".join(problems)
        page.wait_for_load_state("networkidle")
        page.close()
