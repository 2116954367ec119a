"""Every page of the demo agency, on a phone (390 × 844) and a desktop (1366 × 900): nothing scrolls
sideways, and axe-core finds no accessibility violation.

Each run signs in once and walks its pages in one browser context. A failure lists every page that
failed, each with the widest element sticking out past the right edge or axe's findings, so one run
shows all that is left to fix.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page
from sqlalchemy import select

from webapp import crypto, review
from webapp.extensions import db
from webapp.models import (
    AccessGroup,
    Campaign,
    Invitation,
    MediaItem,
    Post,
    PostStatus,
    ReviewLink,
    SocialProfile,
    SocialSet,
    User,
    UserGroup,
    utcnow,
)

from .helpers import sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# The element that reaches furthest past the right edge of the viewport, outside any box that
# scrolls or clips its own overflow; null when the page does not scroll sideways.
WIDEST_OFFENDER = """
() => {
  const root = document.scrollingElement;
  if (root.scrollWidth <= root.clientWidth) { return null; }
  // An absolutely placed element is clipped only by boxes around the box it is placed in.
  const clips = (element) => {
    const from = getComputedStyle(element).position === "absolute" ? element.offsetParent : element.parentElement;
    for (let box = from; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") { return true; }
    }
    return false;
  };
  let widest = null;
  for (const element of document.body.querySelectorAll("*")) {
    const right = element.getBoundingClientRect().right + window.scrollX;
    if (right <= root.clientWidth + 0.5 || getComputedStyle(element).position === "fixed" || clips(element)) { continue; }
    if (!widest || right > widest.right + 0.5) { widest = { element, right }; }
  }
  const describe = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + [...element.classList].map((name) => "." + name).join("");
  const what = widest ? describe(widest.element) + " “" + widest.element.textContent.trim().replace(/\\s+/g, " ").slice(0, 60)
    + "” reaches " + Math.round(widest.right) + " px" : "no single element found";
  return "the page is " + root.scrollWidth + " px wide in a " + root.clientWidth + " px window: " + what;
}
"""

# WCAG 2.2 A and AA, axe's best practices, and its experimental rules (they check that a control's
# accessible name includes its visible words, which a speech user says to press it).
AXE_RUN = """
axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental"]},
  resultTypes: ["violations", "incomplete"],
}).then((results) => ({violations: results.violations, incomplete: results.incomplete}))
"""

# htmx has finished the requests a page starts by itself (hx-trigger="load") and settled their content.
HTMX_SETTLED = "() => window.htmx && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"


@dataclass(frozen=True)
class Demo:
    """The ids of the demo rows the pages show: Maya Lopez's group is the one every role may enter."""

    group: int
    headquarters: int
    pending_post: int
    draft_post: int
    scheduled_post: int
    campaign: int
    media_item: int
    profile: int
    social_set: int  # its Bluesky and Mastodon slots are empty in the demo
    manager: int
    user_group: int


@pytest.fixture(scope="module")
def demo(live_server) -> Demo:
    with live_server.app.app_context():
        group = live_server.group_id("Maya Lopez")

        def post(status: PostStatus) -> int:
            return db.session.scalar(select(Post.id).where(Post.access_group_id == group, Post.status == status.value)
                                     .order_by(Post.id))

        ids = Demo(
            group=group,
            headquarters=live_server.group_id("Northstar HQ"),
            pending_post=post(PostStatus.PENDING_APPROVAL),
            draft_post=post(PostStatus.DRAFT),
            scheduled_post=post(PostStatus.SCHEDULED),
            campaign=db.session.scalar(select(Campaign.id).where(Campaign.access_group_id == group)),
            media_item=db.session.scalar(select(MediaItem.id).where(MediaItem.access_group_id == group)
                                         .order_by(MediaItem.id)),
            profile=db.session.scalar(select(SocialProfile.id).where(SocialProfile.access_group_id == group)
                                      .order_by(SocialProfile.id)),
            social_set=db.session.scalar(select(SocialSet.id).where(SocialSet.access_group_id == group)
                                         .order_by(SocialSet.id)),
            manager=db.session.scalar(select(User.id).where(User.email == "sam@northstar.example")),
            user_group=db.session.scalar(select(UserGroup.id).where(UserGroup.name == "Creators")),
        )
        db.session.remove()
    return ids


def pages_for(who: str, demo: Demo) -> list[tuple[str, str]]:
    """(name, path) of every page `who` may open in the demo."""
    group = f"/g/{demo.group}"
    pages = [
        ("overview", f"{group}/"),
        ("calendar month", f"{group}/calendar"),
        ("calendar week", f"{group}/calendar?view=week"),
        ("calendar day", f"{group}/calendar?view=day"),
        ("calendar list", f"{group}/calendar?view=list"),
        ("post page", f"{group}/posts/{demo.pending_post}"),
        ("social profiles", f"{group}/profiles"),
        ("media", f"{group}/media"),
        ("media item", f"{group}/media/{demo.media_item}"),
        ("campaigns", f"{group}/campaigns"),
        ("waiting for approval", f"{group}/waiting"),
        ("switch access group", f"{group}/switcher"),
        ("notifications", "/notifications"),
        ("settings: your account", "/settings/account"),
        ("settings: notifications", "/settings/notifications"),
    ]
    if who in ("owner", "sam"):
        pages += [
            ("composer", f"{group}/posts/new"),
            ("edit a draft", f"{group}/posts/{demo.draft_post}/edit"),
            ("reschedule", f"{group}/calendar/posts/{demo.scheduled_post}/reschedule"),
            ("review links of a post", f"{group}/posts/{demo.pending_post}/review-links"),
            ("campaign edit", f"{group}/campaigns/{demo.campaign}/edit"),
            ("connect Bluesky", f"/social-sets/{demo.social_set}/connect/bluesky?origin=group"),
            ("connect Mastodon", f"/social-sets/{demo.social_set}/connect/mastodon?origin=group"),
        ]
    if who == "owner":
        groups = "/settings/access-groups"
        pages += [
            ("overview of the default group", f"/g/{demo.headquarters}/"),
            ("settings: agency", "/settings/agency"),
            ("social sets & access groups", groups),
            ("access group: social profiles", f"{groups}/{demo.group}"),
            ("access group: users", f"{groups}/{demo.group}?tab=users"),
            ("client approval of a profile", f"{groups}/{demo.group}/profiles/{demo.profile}/approval"),
            ("organize", "/settings/organize"),
            ("team", "/settings/team"),
            ("team member", f"/settings/team/members/{demo.manager}"),
            ("user groups", "/settings/user-groups"),
            ("user group", f"/settings/user-groups/{demo.user_group}"),
            ("user group edit", f"/settings/user-groups/{demo.user_group}/edit"),
            ("user group rights", f"/settings/user-groups/{demo.user_group}/rights"),
            ("access review", "/settings/access-review"),
            ("access review: why", "/settings/access-review/why"),
            ("activity", "/settings/activity"),
        ]
    return pages


def covered_text(incomplete: list[dict]) -> list[dict]:
    """Text whose contrast axe could not measure because another box covers or cuts it off: it may not be
    seen at all, so it counts (axe leaves it "incomplete"; other unmeasured cases, such as a symbol or
    text over an image, are left out)."""
    found = []
    for result in incomplete:
        if result["id"] != "color-contrast":
            continue
        nodes = [node for node in result["nodes"]
                 if any(check.get("data", {}).get("messageKey") == "elmPartiallyObscured" for check in node["any"])]
        if nodes:
            found.append({**result, "nodes": nodes})
    return found


def problems_on(page: Page, name: str) -> list[str]:
    """What is wrong with the page on screen: sideways scrolling and axe-core's violations."""
    page.wait_for_function(HTMX_SETTLED)
    problems = []
    overflow = page.evaluate(WIDEST_OFFENDER)
    if overflow:
        problems.append(f"{name} ({page.url}) scrolls sideways: {overflow}")
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(AXE_RUN)
    for violation in results["violations"] + covered_text(results["incomplete"]):
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        more = len(violation["nodes"]) - 3
        problems.append(f"{name} ({page.url}) axe {violation['id']} ({violation['impact']}): {violation['help']}"
                        f" at {targets}{f' and {more} more' if more > 0 else ''}")
    return problems


def sweep(page: Page, pages: list[tuple[str, str]]) -> list[str]:
    problems = []
    for name, path in pages:
        response = page.goto(path)
        if response is None or not response.ok:
            problems.append(f"{name} ({path}) answered {response and response.status}")
            continue
        problems += problems_on(page, name)
    return problems


def media_dialogs(page: Page, demo: Demo) -> list[str]:
    """The Move and Delete dialogs of the media library, each opened on one selected item."""
    problems = []
    for button in ("Move…", "Delete…"):
        page.goto(f"/g/{demo.group}/media")
        page.get_by_role("checkbox", name=re.compile(r"^Select ")).first.check()
        page.get_by_role("button", name=button, exact=True).click()
        page.get_by_role("dialog").wait_for()
        problems += problems_on(page, f"the media {button.rstrip('…')} dialog")
    return problems


# The manager's pages on a desktop are the owner's with fewer buttons, so the manager is swept on a phone.
@pytest.mark.parametrize(
    ("who", "viewport"),
    [("owner", PHONE), ("sam", PHONE), ("maya", PHONE), ("owner", DESKTOP), ("maya", DESKTOP)],
    ids=["owner-390", "manager-390", "client-390", "owner-1366", "client-1366"],
)
def test_every_page_fits_the_screen_and_passes_axe(new_context, demo, who, viewport):
    page = new_context(viewport=viewport).new_page()
    sign_in(page, f"{who}@northstar.example")
    pages = pages_for(who, demo)
    problems = sweep(page, pages)
    if viewport is PHONE:  # the navigation panel, open
        page.goto(pages[0][1])
        page.get_by_role("button", name="Menu", exact=True).click()
        problems += problems_on(page, "the menu, open")
    if who == "owner":  # the media library's dialogs, which open on a selection
        problems += media_dialogs(page, demo)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.fixture
def links(live_server) -> dict[str, str]:
    """An open review link for Maya and an open invitation, removed when the test ends."""
    app = live_server.app
    with app.app_context():
        maya = db.session.scalar(select(User).where(User.email == "maya@northstar.example"))
        sam = db.session.scalar(select(User).where(User.email == "sam@northstar.example"))
        group = db.session.get_one(AccessGroup, live_server.group_id("Maya Lopez"))
        pending = db.session.scalars(select(Post).where(Post.access_group_id == group.id,
                                                        Post.status == PostStatus.PENDING_APPROVAL.value)).all()
        link, review_token = review.issue_link(maya, list(pending), created_by=sam)
        invitation_token = crypto.new_token()
        invitation = Invitation(account_id=group.account_id, email=f"new-{uuid.uuid4().hex[:8]}@example.com",
                                name="Rae Moss", role="client", invited_by_id=sam.id, add_to_default_group=False,
                                token_hash=crypto.token_hash(invitation_token), expires_at=utcnow() + timedelta(days=7),
                                access_groups=[group])
        db.session.add(invitation)
        db.session.commit()
        made = (link.id, invitation.id)
        db.session.remove()
    yield {"review": f"/review/{review_token}", "invitation": f"/invitations/{invitation_token}"}
    with app.app_context():
        db.session.delete(db.session.get(ReviewLink, made[0]))
        db.session.delete(db.session.get(Invitation, made[1]))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
def test_pages_before_signing_in_fit_the_screen_and_pass_axe(new_context, links, browser_problems, viewport):
    page = new_context(viewport=viewport).new_page()
    problems = sweep(page, [
        ("sign in", "/login"),
        ("forgot password", "/password/forgot"),
        ("review page from a review link", links["review"]),
        ("invitation", links["invitation"]),
    ])
    browser_problems.expect_status(404)
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    problems += problems_on(page, "page not found")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
