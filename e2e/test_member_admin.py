"""Admin without a terminal, on a phone: deactivate a member from Team (the dialog names what they lose),
reactivate them from the Team list, then remove them from the agency; their posts stay, by a former member."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Comment, Post, User

from .conftest import LiveServer
from .helpers import sign_in

OWNER = "owner@northstar.example"
SAM = "sam@northstar.example"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True}


@pytest.fixture
def base_url(demo_server: LiveServer) -> str:
    return demo_server.url


def commented_post_of(server: LiveServer, email: str) -> tuple[int, int]:
    """(group id, post id) of a post the person wrote and commented on."""
    with server.app.app_context():
        found = db.session.execute(
            select(Post.access_group_id, Post.id).join(User, User.id == Post.author_id)
            .join(Comment, (Comment.post_id == Post.id) & (Comment.author_id == User.id))
            .where(User.email == email).order_by(Post.id).limit(1)).one()
        db.session.remove()
    return tuple(found)


def members_table(page: Page):
    return page.get_by_role("table", name=re.compile("Members of"))


def test_deactivate_reactivate_and_remove_a_member_on_a_phone(new_context, demo_server: LiveServer):
    owner = new_context(**PHONE).new_page()
    sam = new_context(**PHONE).new_page()
    sign_in(sam, SAM)
    sign_in(owner, OWNER)
    group_id, post_id = commented_post_of(demo_server, SAM)

    owner.goto("/settings/team")
    members_table(owner).get_by_role("link", name="Sam Okafor", exact=True).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Sam Okafor")
    owner.get_by_role("button", name="Deactivate…").click()
    dialog = owner.get_by_role("dialog", name="Deactivate Sam Okafor?")
    expect(dialog).to_contain_text("Access groups they can no longer enter: Jonah Reed, Maya Lopez, Northstar HQ.")
    expect(dialog).to_contain_text("A team seat is freed.")
    dialog.get_by_role("button", name="Deactivate Sam Okafor").click()
    expect(owner.get_by_text("Sam Okafor is deactivated")).to_be_visible()
    expect(owner.get_by_test_id("member-access")).to_have_text("Deactivated")

    # Sam's open session ends with it: his next page is the sign-in page.
    sam.reload()
    expect(sam).to_have_url(re.compile(r"/login"))

    owner.goto("/settings/team")
    owner.get_by_role("button", name="Reactivate Sam Okafor").click()
    expect(owner.get_by_text("Sam Okafor is active again")).to_be_visible()
    expect(members_table(owner).get_by_role("row").filter(has_text="Sam Okafor")).not_to_contain_text("Deactivated")
    sign_in(sam, SAM)  # he may sign in again

    members_table(owner).get_by_role("link", name="Sam Okafor", exact=True).click()
    owner.get_by_role("button", name="Remove from the agency…").click()
    dialog = owner.get_by_role("dialog", name="Remove Sam Okafor from Northstar Talent?")
    expect(dialog).to_contain_text("shown as by “former member”")
    dialog.get_by_role("button", name="Remove from the agency").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Team")
    expect(owner.get_by_text("Sam Okafor was removed from Northstar Talent.")).to_be_visible()
    expect(members_table(owner)).not_to_contain_text("Sam Okafor")

    owner.goto(f"/g/{group_id}/posts/{post_id}")
    expect(owner.get_by_test_id("post-author")).to_have_text("Written by former member")
    comment = owner.get_by_role("listitem").filter(has_text="Sure, swapping it now.")
    expect(comment).to_contain_text("former member")
    expect(owner.get_by_role("main")).not_to_contain_text("Sam Okafor")
