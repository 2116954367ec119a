"""Review from an emailed link: one approver decides on their pending posts without signing in.

The token is stored only hashed; opening the link decides nothing and moves the token into a cookie
scoped to /review; each decision is a CSRF-protected POST on one of the link's open posts; dead
links (unknown, expired, revoked, used) say so and change nothing; the link opens no other post.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import crypto, review
from webapp.extensions import db
from webapp.mail import send_pending
from webapp.models import (
    ApprovalDecision, AuditEvent, Mail, Network, Post, PostStatus, ProfileApprover, ReviewLink, Role, utcnow,
)
from webapp.storage import media_storage

from . import factories
from .html import Html
from .routes.media import PNG
from .scenarios import decide, issue, opened, tables_holding

COOKIE = "roster_review"


def fresh(model, object_id):
    return db.session.scalars(select(model).where(model.id == object_id)
                              .execution_options(populate_existing=True)).one()


def snapshot() -> tuple:
    """Everything a review request could change."""
    counted = tuple(db.session.scalar(select(func.count()).select_from(model))
                    for model in (ApprovalDecision, Mail, AuditEvent))
    posts = tuple(db.session.execute(select(Post.id, Post.status, Post.version).order_by(Post.id)
                                     .execution_options(populate_existing=True)).all())
    links = tuple(db.session.execute(select(ReviewLink.id, ReviewLink.revoked_at, ReviewLink.expires_at)
                                     .order_by(ReviewLink.id).execution_options(populate_existing=True)).all())
    return counted + posts + links


def csrf_from(page) -> str:
    return Html(page).hidden_value("csrf_token")


# --- the email and the token ----------------------------------------------------------------------


def test_the_emailed_link_covers_all_pending_posts_and_its_token_is_kept_only_hashed(app, review_agency, smtp_server):
    """One email per approver with one link; once sent, the token is nowhere in the database."""
    with app.test_request_context():
        link = review.send_review_link(review_agency["maya"], review_agency["sam"], review_agency["account"].id)
    db.session.commit()
    assert {post.id for post in link.posts} == {review_agency["first"].id, review_agency["second"].id}
    send_pending()

    [message] = smtp_server.messages
    assert message["To"] == "maya@example.test"
    assert message["Subject"] == "2 posts are waiting for your approval"
    [path] = re.findall(r"http://roster\.test(/review/\S+)", message.get_body(("plain",)).get_content())
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert fresh(ReviewLink, link.id).token_hash == crypto.token_hash(token) != token
    assert tables_holding(token) == set()

    page = app.test_client()
    assert page.get(path).status_code == 303
    body = page.get("/review").get_data(as_text=True)
    assert "Behind the scenes of today&#39;s shoot" in body and "New drop this Friday" in body
    assert tables_holding(token) == set()


def test_an_approver_for_two_agencies_gets_one_link_from_each(app, review_agency, auth, client):
    """A link covers one account's posts: another agency's never ride along, nor does a revoke reach them."""
    rival = factories.make_account("Rival")
    rival_group = factories.default_group(rival)
    factories.make_member(rival, Role.CLIENT, groups=[rival_group], user=review_agency["maya"])
    rival_profile = factories.make_profile(factories.make_social_set(rival_group), Network.X, "rivalbrand")
    rival_profile.needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=rival_profile.id, user_id=review_agency["maya"].id))
    rival_post = factories.make_post(rival_profile, PostStatus.PENDING_APPROVAL, caption="Rival launch")
    db.session.commit()

    with app.test_request_context():
        ours = review.send_review_link(review_agency["maya"], review_agency["sam"], review_agency["account"].id)
        theirs = review.send_review_link(review_agency["maya"], factories.owner_of(rival), rival.id)
    db.session.commit()
    assert {post.id for post in ours.posts} == {review_agency["first"].id, review_agency["second"].id}
    assert {post.id for post in theirs.posts} == {rival_post.id}

    # Sam revokes his agency's link from one of its posts: the event is his agency's, the other link stays.
    auth.login(review_agency["sam"])
    group, first = review_agency["group"], review_agency["first"]
    response = client.post(f"/g/{group.id}/posts/{first.id}/review-links/{ours.id}/revoke")
    assert response.status_code == 303
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "review_link.revoked"))
    assert event.account_id == review_agency["account"].id
    assert fresh(ReviewLink, theirs.id).revoked_at is None


def test_no_link_is_sent_when_nothing_waits(app, review_agency):
    """An approver with no pending post gets no email and no link."""
    with app.test_request_context():
        assert review.send_review_link(review_agency["sam"], review_agency["sam"], review_agency["account"].id) is None
    assert db.session.scalar(select(func.count(ReviewLink.id))) == 0


# --- opening the link -----------------------------------------------------------------------------


def test_opening_the_link_moves_the_token_into_a_review_cookie_and_redirects_to_a_clean_url(app, review_agency):
    """303 to /review; the cookie is HttpOnly, SameSite=Lax, scoped to /review, and short-lived."""
    _link, token = issue(review_agency)
    browser = app.test_client()
    response = browser.get(f"/review/{token}")
    assert response.status_code == 303
    assert response.location in ("/review", "http://roster.test/review")
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    flags = [part.strip() for part in cookie.split(";")]
    assert flags[0] == f"{COOKIE}={token}"
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/review" in flags
    assert "Max-Age=3600" in flags
    assert "Secure" not in flags  # plain HTTP in development, as the session cookie
    assert browser.get_cookie(COOKIE, domain="roster.test", path="/review").value == token

    page = browser.get("/review")
    assert page.status_code == 200
    assert token not in page.get_data(as_text=True)


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True, REVIEW_COOKIE_MINUTES=15)
def test_the_review_cookie_is_secure_when_sessions_are_and_lives_as_configured(app, review_agency):
    _link, token = issue(review_agency)
    response = app.test_client().get(f"/review/{token}")
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    flags = [part.strip() for part in cookie.split(";")]
    assert "Secure" in flags and "Max-Age=900" in flags


def test_opening_the_link_decides_nothing(app, review_agency):
    """Mail scanners fetch links: any number of GETs of the link, the page and its media change nothing."""
    _link, token = issue(review_agency)
    before = snapshot()
    for _ in range(3):
        browser = opened(app, token)
        assert browser.get("/review").status_code == 200
        assert browser.get(f"/review/{token}").status_code == 303
    assert snapshot() == before
    assert fresh(Post, review_agency["first"].id).status == PostStatus.PENDING_APPROVAL.value


def test_the_page_shows_each_post_with_its_profile_local_time_caption_and_three_actions(app, review_agency):
    _link, token = issue(review_agency)
    page = Html(opened(app, token).get("/review"))
    assert len(page.css("article.review-post")) == 2
    assert page.has_text("Instagram @mayalopez")
    for post in (review_agency["first"], review_agency["second"]):
        card = page.within(page.one(f"article#post-{post.id}"))
        # In the reviewer's style: Maya chose no zone of her own, so the agency's, with its abbreviation.
        assert card.by_datetime("2031-06-15T14:00:00+02:00").text() == "Sun 15 Jun 2031, 14:00 CEST"
        assert [form.attributes["action"] for form in card.css("form")] == [f"/review/posts/{post.id}"] * 3
        assert [choice.attributes["value"] for choice in card.css("input[name=decision]")] == [
            "approve", "feedback", "reject"]
    assert not page.has_text("Jonah")  # another reviewer's post is not on this page


def test_captions_are_escaped(app, review_agency):
    post = review_agency["first"]
    post.caption = "<script>alert(1)</script>"
    db.session.commit()
    _link, token = issue(review_agency, [post])
    body = opened(app, token).get("/review").get_data(as_text=True)
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_review_responses_send_no_referrer_and_are_not_stored(app, review_agency):
    """The address is a credential: never sent on in a Referer, never cached."""
    _link, token = issue(review_agency)
    browser = app.test_client()
    first = review_agency["first"]
    responses = [browser.get(f"/review/{token}"), browser.get("/review"), browser.get("/review/not-a-token"),
                 decide(browser, first, "feedback"), decide(browser, first, "approve")]
    for response in responses:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_page_answers_in_the_same_number_of_queries_for_two_or_six_posts(app, review_agency, count_queries):
    def queries_for(posts) -> int:
        _link, token = issue(review_agency, posts)
        browser = opened(app, token)
        with count_queries() as counter:
            assert browser.get("/review").status_code == 200
        return counter.count

    few = queries_for([review_agency["first"], review_agency["second"]])
    more = [factories.make_post(review_agency["instagram"], PostStatus.PENDING_APPROVAL) for _ in range(4)]
    for post in more:
        post.media_items = [factories.make_media(review_agency["group"])]
    db.session.commit()
    assert queries_for([review_agency["first"], review_agency["second"], *more]) == few


# --- dead links -----------------------------------------------------------------------------------


def make_dead(review_agency, state: str) -> str:
    """A link put into `state`; returns the token to open."""
    link, token = issue(review_agency)
    if state == "expired":
        link.expires_at = utcnow() - timedelta(seconds=1)
    elif state == "revoked":
        review.revoke(link, review_agency["sam"], review_agency["account"].id)
    elif state == "used":
        for post in (review_agency["first"], review_agency["second"]):
            post.status = PostStatus.APPROVED.value
    elif state == "unknown":
        token = "x" * 43
    db.session.commit()
    return token


DEAD = [
    ("unknown", 404, "This review link does not work"),
    ("expired", 410, "This review link has expired"),
    ("revoked", 410, "This review link was withdrawn"),
    ("used", 410, "This review link was already used"),
]


@pytest.mark.parametrize("state, status, heading", DEAD)
def test_a_dead_link_says_why_and_what_to_do_and_changes_nothing(app, review_agency, state, status, heading):
    token = make_dead(review_agency, state)
    before = snapshot()
    browser = app.test_client()
    response = browser.get(f"/review/{token}")
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert heading in body
    assert "ask the agency" in body.lower()
    assert not [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    assert snapshot() == before


@pytest.mark.parametrize("state, status, heading", [case for case in DEAD if case[0] != "unknown"])
def test_a_link_that_dies_while_open_refuses_the_page_and_decisions(app, review_agency, state, status, heading):
    """Opened while alive, then expired, revoked or used up: the page and a decision both say so."""
    link, token = issue(review_agency)
    browser = opened(app, token)
    if state == "expired":
        link.expires_at = utcnow() - timedelta(seconds=1)
    elif state == "revoked":
        review.revoke(link, review_agency["sam"], review_agency["account"].id)
    else:
        review_agency["first"].version += 1
        review_agency["second"].version += 1
    db.session.commit()
    before = snapshot()
    page = browser.get("/review")
    assert page.status_code == status and heading in page.get_data(as_text=True)
    refused = decide(browser, review_agency["first"], "approve")
    if state == "used":  # the link is alive, but the post is no longer among its open posts
        assert refused.status_code == 404
        assert "This post is not open for your review" in refused.get_data(as_text=True)
    else:
        assert refused.status_code == status and heading in refused.get_data(as_text=True)
    assert snapshot() == before


def test_without_the_cookie_the_review_page_opens_nothing(app, review_agency, auth, client):
    """No cookie (never opened, or it ran out) gives the clear page, even to a signed-in approver."""
    issue(review_agency)
    auth.login(review_agency["maya"])
    for response in (client.get("/review"), decide(client, review_agency["first"], "approve")):
        assert response.status_code == 404
        assert "Open the link in the latest approval email again" in response.get_data(as_text=True)
    assert fresh(Post, review_agency["first"].id).status == PostStatus.PENDING_APPROVAL.value


def test_a_deactivated_reviewer_holds_a_link_that_opens_nothing(app, review_agency):
    _link, token = issue(review_agency)
    review_agency["maya"].active = False
    db.session.commit()
    response = app.test_client().get(f"/review/{token}")
    assert response.status_code == 410 and "This link no longer opens any post" in response.get_data(as_text=True)


# --- scope: this reviewer, these posts, as they were -------------------------------------------------


def test_an_edit_closes_the_link_for_that_post_only(app, review_agency):
    """A new version of a post is not the text the link was sent for: it drops off the page and refuses."""
    _link, token = issue(review_agency)
    browser = opened(app, token)
    edited = review_agency["first"]
    edited.version += 1  # what webapp.posts.update_post does when the caption or media change
    db.session.commit()
    body = browser.get("/review").get_data(as_text=True)
    assert "Behind the scenes" not in body and "New drop this Friday" in body
    before = snapshot()
    response = decide(browser, edited, "approve")
    assert response.status_code == 404
    assert "This post is not open for your review" in response.get_data(as_text=True)
    assert snapshot() == before
    assert decide(browser, review_agency["second"], "approve").status_code == 303


def test_a_link_for_one_post_opens_no_other(app, review_agency):
    """Another post of the same profile, or another reviewer's post: 404 on deciding and on its media."""
    _link, token = issue(review_agency, [review_agency["first"]])
    storage = media_storage()
    for post in (review_agency["second"], review_agency["jonahs"]):
        item = factories.make_media(review_agency["group"])
        item.storage_key = storage.save(PNG, ".png")
        post.media_items = [item]
    db.session.commit()
    browser = opened(app, token)
    body = browser.get("/review").get_data(as_text=True)
    assert "Behind the scenes" in body and "New drop this Friday" not in body and "Jonah" not in body
    before = snapshot()
    for other in (review_agency["second"], review_agency["jonahs"]):
        for decision in ("approve", "feedback", "reject"):
            assert decide(browser, other, decision, "Looks wrong").status_code == 404
        assert browser.get(f"/review/media/{other.media_items[0].id}").status_code == 404
    assert decide(browser, Post(id=999_999), "approve").status_code == 404
    assert snapshot() == before
    assert fresh(Post, review_agency["jonahs"].id).status == PostStatus.PENDING_APPROVAL.value


def test_a_reviewer_who_is_no_longer_an_approver_sees_nothing(app, review_agency):
    _link, token = issue(review_agency)
    browser = opened(app, token)
    db.session.delete(db.session.get(ProfileApprover, (review_agency["instagram"].id, review_agency["maya"].id)))
    db.session.commit()
    response = browser.get("/review")
    assert response.status_code == 410 and "already used" in response.get_data(as_text=True)


def test_media_of_the_links_open_posts_are_served_sandboxed_and_nothing_else(app, review_agency):
    storage = media_storage()
    attached = factories.make_media(review_agency["group"], "shoot.png")
    attached.storage_key = storage.save(PNG, ".png")
    loose = factories.make_media(review_agency["group"], "unused.png")
    loose.storage_key = storage.save(PNG, ".png")
    review_agency["first"].media_items = [attached]
    db.session.commit()
    _link, token = issue(review_agency)
    browser = opened(app, token)
    assert f'src="/review/media/{attached.id}"' in browser.get("/review").get_data(as_text=True)

    response = browser.get(f"/review/media/{attached.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert browser.get(f"/review/media/{loose.id}").status_code == 404
    assert app.test_client().get(f"/review/media/{attached.id}").status_code == 404  # no cookie

    assert decide(browser, review_agency["first"], "approve").status_code == 303
    assert browser.get(f"/review/media/{attached.id}").status_code == 404  # decided: no longer open


# --- deciding -------------------------------------------------------------------------------------


def test_approving_records_who_when_and_through_which_link_and_emails_the_author(app, review_agency):
    link, token = issue(review_agency)
    browser = opened(app, token)
    response = decide(browser, review_agency["first"], "approve")
    assert response.status_code == 303
    assert response.location.endswith(f"/review#post-{review_agency['first'].id}")
    assert fresh(Post, review_agency["first"].id).status == PostStatus.APPROVED.value
    [decision] = db.session.scalars(select(ApprovalDecision)).all()
    assert (decision.post_id, decision.reviewer_id, decision.review_link_id, decision.decision) == (
        review_agency["first"].id, review_agency["maya"].id, link.id, "approve")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "post.approve"))
    assert event.actor_id == review_agency["maya"].id and event.after["via_link"] is True
    [mail] = db.session.scalars(select(Mail)).all()
    assert mail.to_address == "sam@example.test"
    assert mail.subject == "Maya Lopez approved your Instagram post"

    page = browser.get("/review").get_data(as_text=True)
    assert "Approved: the post will be published at its time." in page
    assert "You approved it." in page
    assert len(Html(page).css("article.review-post")) == 1  # the other post still waits


def test_feedback_keeps_the_post_waiting_then_it_can_be_approved(app, review_agency):
    _link, token = issue(review_agency, [review_agency["first"]])
    browser = opened(app, token)
    assert decide(browser, review_agency["first"], "feedback", "Use the second photo, please.").status_code == 303
    assert fresh(Post, review_agency["first"].id).status == PostStatus.PENDING_APPROVAL.value
    page = browser.get("/review").get_data(as_text=True)
    assert "Feedback sent" in page and "Use the second photo, please." in page
    assert len(Html(page).css("article.review-post")) == 1

    assert decide(browser, review_agency["first"], "approve").status_code == 303
    assert fresh(Post, review_agency["first"].id).status == PostStatus.APPROVED.value
    assert [d.decision for d in db.session.scalars(select(ApprovalDecision).order_by(ApprovalDecision.id))] == [
        "feedback", "approve"]
    subjects = set(db.session.scalars(select(Mail.subject)))
    assert subjects == {"Maya Lopez left feedback on your Instagram post", "Maya Lopez approved your Instagram post"}

    # Every post decided: the page thanks the reviewer; the emailed link now says it was used.
    done = browser.get("/review")
    assert done.status_code == 200 and "All done" in done.get_data(as_text=True)
    again = app.test_client().get(f"/review/{token}")
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)


def test_rejecting_needs_a_reason_and_sends_the_post_back_to_its_author(app, review_agency):
    _link, token = issue(review_agency)
    browser = opened(app, token)
    assert decide(browser, review_agency["second"], "reject", "Not this week, the launch moved.").status_code == 303
    assert fresh(Post, review_agency["second"].id).status == PostStatus.REJECTED.value
    [decision] = db.session.scalars(select(ApprovalDecision)).all()
    assert decision.note == "Not this week, the launch moved."
    [mail] = db.session.scalars(select(Mail)).all()
    assert mail.to_address == "sam@example.test" and mail.subject == "Maya Lopez rejected your Instagram post"
    assert "You rejected it:" in browser.get("/review").get_data(as_text=True)


@pytest.mark.parametrize("decision, note, message", [
    ("feedback", "", "Write your feedback first."),
    ("feedback", "   ", "Write your feedback first."),
    ("reject", "", "Say why you reject the post, so its author can fix it."),
    ("reject", "x" * 2001, "Keep the note to 2,000 characters."),
    ("publish", "", "Choose Approve, Feedback or Reject."),
])
def test_bad_input_says_why_and_changes_nothing(app, review_agency, decision, note, message):
    _link, token = issue(review_agency)
    browser = opened(app, token)
    before = snapshot()
    response = decide(browser, review_agency["first"], decision, note)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert snapshot() == before
    if decision in ("feedback", "reject"):
        page = Html(body)
        note = page.one(f"#{decision}-{review_agency['first'].id}")
        assert page.description_of(note) == message  # shown on the form it concerns


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_deciding_needs_the_pages_csrf_token(app, review_agency):
    """The anonymous session carries the CSRF token; a decision without it is refused."""
    _link, token = issue(review_agency)
    browser = opened(app, token)
    page = browser.get("/review")
    before = snapshot()
    refused = decide(browser, review_agency["first"], "approve")
    assert refused.status_code == 400
    assert snapshot() == before
    accepted = browser.post(f"/review/posts/{review_agency['first'].id}",
                            data={"decision": "approve", "csrf_token": csrf_from(page)})
    assert accepted.status_code == 303
    assert fresh(Post, review_agency["first"].id).status == PostStatus.APPROVED.value


# --- revoking from the post page -------------------------------------------------------------------


def test_revoking_a_link_from_the_post_page_ends_it(app, review_agency, auth, client):
    link, token = issue(review_agency)
    browser = opened(app, token)
    auth.login(review_agency["sam"])
    group, post = review_agency["group"], review_agency["first"]
    response = client.post(f"/g/{group.id}/posts/{post.id}/review-links/{link.id}/revoke")
    assert response.status_code == 303
    assert response.location.endswith(f"/g/{group.id}/posts/{post.id}")
    assert fresh(ReviewLink, link.id).revoked_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "review_link.revoked"))
    assert event.actor_id == review_agency["sam"].id and event.object_id == link.id

    assert browser.get("/review").status_code == 410
    assert app.test_client().get(f"/review/{token}").status_code == 410
    assert decide(browser, post, "approve").status_code == 410
    assert fresh(Post, post.id).status == PostStatus.PENDING_APPROVAL.value


def test_a_link_is_revoked_only_through_a_post_it_covers_in_that_group(app, review_agency, auth, client):
    link, _token = issue(review_agency, [review_agency["first"]])
    other_group = factories.make_group(review_agency["account"], "Elsewhere")
    factories.add_to_group(review_agency["sam"], other_group)
    db.session.commit()
    auth.login(review_agency["sam"])
    group = review_agency["group"]
    first, second = review_agency["first"], review_agency["second"]
    assert client.post(f"/g/{group.id}/posts/{second.id}/review-links/{link.id}/revoke").status_code == 404
    assert client.post(f"/g/{other_group.id}/posts/{first.id}/review-links/{link.id}/revoke").status_code == 404
    assert fresh(ReviewLink, link.id).revoked_at is None
