"""Access ends at once, in a browser: a client taken off her group's Users tab opens the review link
she was emailed earlier and finds it opens nothing, and the post then says nobody can approve it.

The test changes who may enter a group, so it gets a demo agency of its own.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp import review
from webapp.extensions import db
from webapp.models import Membership, User

from .conftest import LiveServer, own_demo_server
from .helpers import sign_in
from .test_review import ReviewWorld

OWNER = "owner@northstar.example"
AGENT = "sam@northstar.example"
APPROVER = "jonah@northstar.example"
PHONE = {"width": 390, "height": 844}
CAPTION = "Studio tour, part two"


@pytest.fixture
def ends_server(tmp_path) -> Iterator[LiveServer]:
    with own_demo_server(tmp_path) as server:
        yield server


@pytest.fixture
def base_url(ends_server: LiveServer) -> str:
    return ends_server.url


def pending_post_and_link(server: LiveServer) -> tuple[int, str]:
    """A post by Sam waiting for Jonah's approval, and the review link Jonah would be emailed for it."""
    post_id = ReviewWorld(server).pending_post(CAPTION)
    with server.app.test_request_context(base_url=server.url):
        jonah = db.session.scalar(select(User).where(User.email == APPROVER))
        account_id = db.session.scalar(select(Membership.account_id).where(Membership.user_id == jonah.id))
        _link, token = review.issue_link(jonah, review.pending_posts_for(jonah, account_id),
                                         db.session.scalar(select(User).where(User.email == AGENT)))
        db.session.commit()
        db.session.remove()
    return post_id, token


def test_a_client_taken_off_her_group_holds_a_review_link_that_opens_nothing(
        page: Page, new_context, ends_server: LiveServer, browser_problems):
    browser_problems.expect_status(410)  # Jonah's link once he lost access
    post_id, token = pending_post_and_link(ends_server)
    group_id = ends_server.group_id("Jonah Reed")

    # Jonah opens his emailed link on his phone and sees the post waiting for him.
    jonah = new_context(viewport=PHONE).new_page()
    jonah.goto(f"/review/{token}")
    expect(jonah.get_by_text(CAPTION)).to_be_visible()
    expect(jonah.get_by_role("button", name="Approve").first).to_be_visible()

    # The owner takes Jonah off his group's Users tab, after confirming.
    sign_in(page, OWNER)
    page.goto(f"/settings/access-groups/{group_id}?tab=users")
    row = page.get_by_role("row", name=re.compile("Jonah Reed"))
    row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name="Remove Jonah Reed?").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Jonah Reed was removed from “Jonah Reed”.")).to_be_visible()

    # Jonah's open review page and his emailed link now open nothing, and say so.
    jonah.reload()
    expect(jonah.get_by_role("heading", name="This link no longer opens any post")).to_be_visible()
    expect(jonah.get_by_text(CAPTION)).to_have_count(0)
    jonah.goto(f"/review/{token}")
    expect(jonah.get_by_role("heading", name="This link no longer opens any post")).to_be_visible()

    # The post says nobody can approve it, and leads the owner to choose an approver.
    page.goto(f"/g/{group_id}/posts/{post_id}")
    expect(page.get_by_text("No one can approve this post: choose an approver.")).to_be_visible()
    page.get_by_role("link", name=re.compile("Choose an approver for @")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approval")
