"""The post page's lists: the newest few of each with its total, and "Show all" paging through the rest."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from webapp import posts as rules
from webapp.extensions import db
from webapp.models import (
    ApprovalDecision,
    AuditEvent,
    Comment,
    Decision,
    Network,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    Role,
)

from . import factories
from .html import HTMX, Html, squeeze

# More than one "Show all" page of each list, after the newest few the post page shows.
ROWS = rules.LIST_PREVIEW + rules.LIST_PAGE_SIZE + 3
# Rows made at the same moment, so that the order falls back on ids: a run across the end of the
# newest few, and one across the end of the first page after them.
TIED = ({ROWS - rules.LIST_PREVIEW - 1, ROWS - rules.LIST_PREVIEW},
        {ROWS - rules.LIST_PREVIEW - rules.LIST_PAGE_SIZE - 1, ROWS - rules.LIST_PREVIEW - rules.LIST_PAGE_SIZE})
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)

# Each list: its URL, its accessible name, its heading, its "Show all" and its next-page link, and
# whether it reads oldest first; then the word before each row's number (see `busy_post`).
LISTS = {
    "comments": ("comments", "Comments", "Comments", "comments", "Earlier comments", True, "comment"),
    "decisions": ("decisions", "Approval decisions", "Decisions", "decisions", "Earlier decisions", True, "note"),
    "review links": ("review-links", "Review links", "Review links", "review links", "Older review links", False,
                     "Reviewer"),
    "history": ("history", "Status history", "History", "events", "Earlier history", True, "step"),
}


def made_at(n: int) -> datetime:
    """When row `n` of each list was made: a minute apart, but tied runs share their first row's time."""
    for run in TIED:
        if n in run:
            return START + timedelta(minutes=min(run))
    return START + timedelta(minutes=n)


@pytest.fixture
def busy_post(app) -> dict:
    """A post waiting for approval with ROWS comments, decisions, review links and history events.

    Row n of each list reads "comment n", "note n", "Reviewer n" (each link's reviewer is an approver
    of their own) or "step n"."""
    account = factories.make_account("Northstar")
    group = factories.make_group(account, "Maya Lopez")
    profile = factories.make_profile(factories.make_social_set(group), Network.INSTAGRAM, handle="maya")
    profile.needs_approval = True
    manager = factories.make_member(account, Role.MANAGER, groups=[group], name="Sam Manager")
    reviewers = [factories.make_member(account, Role.CLIENT, groups=[group], name=f"Reviewer {n:02}")
                 for n in range(ROWS)]
    db.session.add_all(ProfileApprover(social_profile_id=profile.id, user_id=user.id) for user in reviewers)
    post = factories.make_post(profile, PostStatus.PENDING_APPROVAL)
    db.session.execute(insert(Comment), [
        {"post_id": post.id, "author_id": manager.id, "body": f"comment {n:02}", "created_at": made_at(n)}
        for n in range(ROWS)])
    db.session.execute(insert(ApprovalDecision), [
        {"post_id": post.id, "reviewer_id": reviewers[0].id, "decision": Decision.FEEDBACK.value,
         "note": f"note {n:02}", "created_at": made_at(n)} for n in range(ROWS)])
    for n, reviewer in enumerate(reviewers):  # one at a time: the ids follow n
        link = ReviewLink(reviewer_id=reviewer.id, token_hash=f"{n:064}", created_at=made_at(n),
                          expires_at=datetime.now(timezone.utc) + timedelta(days=2))
        db.session.add(link)
        db.session.flush()
        db.session.add(ReviewLinkPost(review_link_id=link.id, post_id=post.id))
    db.session.execute(insert(AuditEvent), [
        {"account_id": account.id, "actor_id": manager.id, "verb": f"step {n:02}", "object_type": "post",
         "object_id": post.id, "created_at": made_at(n)} for n in range(ROWS)])
    rival = factories.make_account("Rival")
    db.session.commit()
    return dict(account=account, group=group, post=post, manager=manager, reviewer=reviewers[0],
                rival_owner=factories.owner_of(rival), owner=factories.owner_of(account))


def post_url(busy_post: dict, suffix: str = "") -> str:
    return f"/g/{busy_post['group'].id}/posts/{busy_post['post'].id}{suffix}"


def row_numbers(page: Html, which: str) -> list[int]:
    """The numbers of the rows of list `which` on `page` (the list, or the rows htmx loads), in page order."""
    number = re.compile(rf"\b{LISTS[which][-1]} (\d+)\b")
    numbers = []
    for item in page.css("li"):
        if "list-more" in (item.attributes.get("class") or ""):
            continue
        found = number.search(squeeze(item.text(separator=" ")))
        assert found, f"a row that names no number: {item.text()!r}"
        numbers.append(int(found.group(1)))
    return numbers


def more_link(page: Html, name: str):
    """The link to the rest of a list, if the page has one."""
    found = page.all_by_role("link", name)
    assert len(found) <= 1
    return found[0] if found else None


# --- the post page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(LISTS))
def test_the_post_page_shows_the_newest_few_of_each_list_and_its_total(busy_post, auth, client, which):
    path, label, heading, noun, _earlier, oldest_first, _word = LISTS[which]
    auth.login(busy_post["manager"])
    page = Html(client.get(post_url(busy_post)))
    page.by_role("heading", f"{heading} ({ROWS})")
    newest = list(range(ROWS - rules.LIST_PREVIEW, ROWS))
    shown = page.within(page.by_role("list", label))
    assert row_numbers(shown, which) == (newest if oldest_first else newest[::-1])
    show_all = shown.by_role("link", f"Show all {ROWS} {noun}")
    assert show_all.attributes["href"] == post_url(busy_post, f"/{path}")


def test_a_short_list_has_no_show_all_link(busy_post, auth, client):
    post = factories.make_post(factories.make_profile(factories.make_social_set(busy_post["group"])))
    db.session.add(Comment(post_id=post.id, author_id=busy_post["manager"].id, body="comment 01"))
    db.session.commit()
    auth.login(busy_post["manager"])
    page = Html(client.get(f"/g/{busy_post['group'].id}/posts/{post.id}"))
    page.by_role("heading", "Comments (1)")
    assert row_numbers(page.within(page.by_role("list", "Comments")), "comments") == [1]
    assert page.all_by_role("link", re.compile("^Show all")) == []


# --- "Show all" ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(LISTS))
def test_show_all_pages_through_every_row_once_without_javascript(busy_post, auth, client, which):
    """The link opens the list's own page; its next-page links go back in time to the first row."""
    path, label, heading, noun, earlier, oldest_first, _word = LISTS[which]
    auth.login(busy_post["manager"])
    post_page = Html(client.get(post_url(busy_post)))
    url = post_page.by_role("link", f"Show all {ROWS} {noun}").attributes["href"]
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = Html(response)
        page.by_role("heading", f"{heading} ({ROWS})")
        numbers = row_numbers(page.within(page.by_role("list", label)), which)
        assert numbers == sorted(numbers, reverse=not oldest_first)  # each page in the list's own order
        pages.append(numbers)
        link = more_link(page, earlier)
        url = link.attributes["href"] if link else None
    assert len(pages) == 2 and len(pages[0]) == rules.LIST_PAGE_SIZE
    seen = [n for numbers in pages for n in numbers]
    assert sorted(seen) == list(range(ROWS))  # every row, exactly once


@pytest.mark.parametrize("which", sorted(LISTS))
def test_show_all_with_htmx_loads_each_next_page_in_place(busy_post, auth, client, which):
    """htmx swaps each page's rows in for the link that asked, so the list grows to every row, in order."""
    path, label, _heading, noun, earlier, oldest_first, _word = LISTS[which]
    auth.login(busy_post["manager"])
    page = Html(client.get(post_url(busy_post)))
    shown = row_numbers(page.within(page.by_role("list", label)), which)
    link = page.by_role("link", f"Show all {ROWS} {noun}")
    loads = 0
    while link is not None:
        assert link.attributes["hx-target"] == "closest li" and link.attributes["hx-swap"] == "outerHTML"
        response = client.get(link.attributes["hx-get"], headers=HTMX)
        assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
        fragment = Html(response)
        assert [node.tag for node in fragment.top_level] == ["li"] * len(fragment.top_level)
        assert "<html" not in response.get_data(as_text=True)  # rows only, not a page
        loaded = row_numbers(fragment, which)
        shown = loaded + shown if oldest_first else shown + loaded
        link = more_link(fragment, earlier)
        loads += 1
    assert loads == 2
    assert shown == (list(range(ROWS)) if oldest_first else list(range(ROWS))[::-1])


def test_a_bad_cursor_shows_the_first_page(busy_post, auth, client):
    auth.login(busy_post["manager"])
    for cursor in ("nonsense", "x" * 500, "2030-01-01T00:00:00~0"):
        page = Html(client.get(post_url(busy_post, "/comments"), query_string={"cursor": cursor}))
        assert row_numbers(page.within(page.by_role("list", "Comments")), "comments")[-1] == ROWS - 1


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_review_link_on_a_later_page_can_still_be_revoked(busy_post, client):
    """The oldest link is only on the last page htmx loads; its Revoke form carries its CSRF token."""
    token = Html(client.get("/login")).hidden_value("csrf_token")
    client.post("/login", data={"email": busy_post["manager"].email, "password": factories.PASSWORD,
                                "csrf_token": token})
    page = Html(client.get(post_url(busy_post)))
    link = page.by_role("link", f"Show all {ROWS} review links")
    while link is not None:
        fragment = Html(client.get(link.attributes["hx-get"], headers=HTMX))
        link = more_link(fragment, "Older review links")
    oldest = next(item for item in fragment.css("li") if squeeze(item.text()).startswith("Reviewer 00 "))
    # Revoke asks first: the confirmation dialog's button sends the form.
    form = fragment.form_of(fragment.within(oldest).by_role("button", "Revoke link"))
    action = form.attributes["action"]
    link_id = db.session.scalar(select(ReviewLink.id).where(ReviewLink.reviewer_id == busy_post["reviewer"].id))
    assert action.endswith(f"/review-links/{link_id}/revoke")
    assert client.post(action).status_code == 400  # no token, no revoking
    assert db.session.scalar(select(ReviewLink.revoked_at).where(ReviewLink.id == link_id)) is None
    [token] = [node.attributes["value"] for node in form.css("input") if node.attributes.get("name") == "csrf_token"]
    assert client.post(action, data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(ReviewLink.revoked_at).where(ReviewLink.id == link_id)) is not None


# --- who sees what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [spec[0] for spec in LISTS.values()])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_post_is_not_found(busy_post, auth, client, path, headers):
    auth.login(busy_post["rival_owner"])
    assert client.get(post_url(busy_post, f"/{path}"), headers=headers).status_code == 404
    assert client.get(post_url(busy_post, f"/{path}?cursor=2099-01-01T00:00:00%2B00:00~1"),
                      headers=headers).status_code == 404


@pytest.mark.parametrize("path", [spec[0] for spec in LISTS.values()])
def test_a_post_under_another_groups_address_is_not_found(busy_post, auth, client, path):
    other = factories.make_group(busy_post["account"], "Leo Park")
    db.session.commit()
    auth.login(busy_post["owner"])
    assert client.get(f"/g/{other.id}/posts/{busy_post['post'].id}/{path}").status_code == 404


def test_a_client_sees_what_they_saw_before_and_no_review_links(busy_post, auth, client):
    """An approver reads the comments, decisions and history in full; review links stay with editors."""
    auth.login(busy_post["reviewer"])
    page = Html(client.get(post_url(busy_post)))
    for which in ("comments", "decisions", "history"):
        _path, label, heading, noun, _earlier, _oldest_first, _word = LISTS[which]
        page.by_role("heading", f"{heading} ({ROWS})")
        href = page.by_role("link", f"Show all {ROWS} {noun}").attributes["href"]
        assert client.get(href).status_code == 200
    assert page.all_by_role("list", "Review links") == []
    assert page.all_by_role("button", "Revoke") == []
    assert not page.has_text("Review links")
    page.by_role("button", "Approve")  # an approver still decides from the page
    assert client.get(post_url(busy_post, "/review-links")).status_code == 403
    assert client.get(post_url(busy_post, "/review-links"), headers=HTMX).status_code == 403


def test_a_new_comment_shows_among_the_newest_few_with_the_new_total(busy_post, auth, client):
    auth.login(busy_post["manager"])
    response = client.post(post_url(busy_post, "/comments"), data={"body": "comment 99"}, headers=HTMX)
    fragment = Html(response)
    fragment.by_role("heading", f"Comments ({ROWS + 1})")
    assert row_numbers(fragment.within(fragment.by_role("list", "Comments")), "comments") == [
        *range(ROWS - rules.LIST_PREVIEW + 1, ROWS), 99]
    fragment.by_role("link", f"Show all {ROWS + 1} comments")
