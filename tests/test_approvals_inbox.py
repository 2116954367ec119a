"""Approvals as a client expects: one review link per approver and agency, digests instead of one email
per post, each approver once on the post page, clear words, and "Waiting for your approval" with Undo.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, update

from webapp import access_groups, crypto, review
from webapp import posts as rules
from webapp.extensions import db
from webapp.models import (
    AccessGroup, ApprovalDecision, AuditEvent, Mail, MediaItem, Network, Post, PostStatus, ProfileApprover,
    ReviewLink, ReviewLinkPost, Role, SocialProfile, User, utcnow,
)

from . import factories
from .concurrency import _in_threads
from .html import HTMX, Html

SOON = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)


@pytest.fixture
def inbox(app) -> dict:
    """Sam (manager) writes for Maya's group in Berlin; Maya approves Instagram, Maya and Leo approve TikTok."""
    account = factories.make_account("Northstar")
    account.time_zone = "Europe/Berlin"
    group = factories.make_group(account, "Maya Lopez")
    other = factories.make_group(account, "Leo Park")
    sam = factories.make_member(account, Role.MANAGER, groups=[group, other], name="Sam Okafor",
                                email="sam@example.test")
    maya = factories.make_member(account, Role.CLIENT, groups=[group, other], name="Maya Lopez",
                                 email="maya@example.test")
    leo = factories.make_member(account, Role.CLIENT, groups=[group], name="Leo Park", email="leo@example.test")
    social_set = factories.make_social_set(group)
    instagram = factories.make_profile(social_set, Network.INSTAGRAM, "mayalopez")
    tiktok = factories.make_profile(social_set, Network.TIKTOK, "mayaandleo")
    x = factories.make_profile(social_set, Network.X, "mayax")
    other_profile = factories.make_profile(factories.make_social_set(other), Network.INSTAGRAM, "leopark")
    for profile, approvers in ((instagram, [maya]), (tiktok, [maya, leo]), (other_profile, [maya])):
        profile.needs_approval = True
        db.session.add_all(ProfileApprover(social_profile_id=profile.id, user_id=user.id) for user in approvers)
    db.session.commit()
    return dict(account=account, group=group, other=other, sam=sam, maya=maya, leo=leo, instagram=instagram,
                tiktok=tiktok, x=x, other_profile=other_profile)


def schedule(app, inbox, profile, caption: str, when: datetime = SOON) -> Post:
    """Sam schedules one post with a photo for `profile`, as the composer does, and commits."""
    group = inbox["group"] if profile.access_group_id == inbox["group"].id else inbox["other"]
    with app.test_request_context():
        [post] = rules.create_posts(group, rules.Draft([profile], caption, [factories.make_photo(group)], when),
                                    inbox["sam"], schedule=True)
    db.session.commit()
    return post


def mails_to(address: str) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.to_address == address).order_by(Mail.id)))


def link_in(mail: Mail) -> str:
    [path] = re.findall(r"(/review/\S+)", mail.text_body)
    return path


def digest(app, minutes: int = 16) -> int:
    with app.test_request_context():
        return review.send_due_digests(utcnow() + timedelta(minutes=minutes))


def fresh(model, object_id):
    return db.session.scalars(select(model).where(model.id == object_id)
                              .execution_options(populate_existing=True)).one()


# --- one link, one email, then a digest ----------------------------------------------------------


def test_three_posts_in_a_row_make_one_link_and_one_email_then_one_digest(app, inbox):
    first = schedule(app, inbox, inbox["instagram"], "First post")
    second = schedule(app, inbox, inbox["instagram"], "Second post")
    third = schedule(app, inbox, inbox["instagram"], "Third post")

    [link] = db.session.scalars(select(ReviewLink)).all()
    [mail] = mails_to("maya@example.test")
    assert mail.subject == "1 post is waiting for your approval"
    assert mail.sender_name == "Northstar via Roster"
    assert "First post" in mail.text_body and "Second post" not in mail.text_body
    # The reviewer's zone, with its abbreviation.
    assert SOON.astimezone(review.style_for(inbox["maya"], inbox["account"]).zone).tzname() in mail.text_body
    rows = {row.post_id: row for row in db.session.scalars(select(ReviewLinkPost))}
    assert set(rows) == {first.id, second.id, third.id}
    assert rows[first.id].mailed_at is not None and rows[second.id].mailed_at is None

    # Within the window nothing more goes out; once it is over, the digest lists the two new posts once.
    assert digest(app, minutes=5) == 0
    assert digest(app) == 1
    assert digest(app) == 0  # never twice
    mails = mails_to("maya@example.test")
    assert len(mails) == 2
    body = mails[1].text_body
    assert mails[1].subject == "3 posts are waiting for your approval"
    assert "Second post" in body and "Third post" in body and "First post" not in body
    assert "1 other post still waits" in body
    assert link_in(mails[1]) == link_in(mails[0])  # the same link in every email
    assert db.session.scalar(select(func.count(ReviewLink.id))) == 1


def test_two_claims_of_the_same_rows_get_them_once(app, inbox):
    schedule(app, inbox, inbox["instagram"], "First post")
    schedule(app, inbox, inbox["instagram"], "Second post")
    link = db.session.scalars(select(ReviewLink)).one()
    now = utcnow()
    assert len(review._claim_unmailed(link, now)) == 1
    assert review._claim_unmailed(link, now) == set()


def test_a_post_decided_before_the_digest_is_left_out_and_an_empty_digest_is_not_sent(app, inbox):
    schedule(app, inbox, inbox["instagram"], "First post")
    second = schedule(app, inbox, inbox["instagram"], "Second post")
    rules.decide(second, inbox["maya"], "approve")
    db.session.commit()
    assert digest(app) == 0
    assert len(mails_to("maya@example.test")) == 1


def test_an_edit_that_sends_a_post_again_updates_its_row(app, inbox):
    post = schedule(app, inbox, inbox["instagram"], "Launch")
    rules.decide(post, inbox["maya"], "approve")
    with app.test_request_context():
        rules.update_post(post, rules.Draft([post.social_profile], "Launch, again", post.media_items,
                                            post.scheduled_at), inbox["sam"], schedule=False)
    db.session.commit()
    row = db.session.scalars(select(ReviewLinkPost)).one()
    assert (row.post_version, row.mailed_at) == (post.version, None)
    assert digest(app) == 1
    assert "Launch, again" in mails_to("maya@example.test")[-1].text_body


def test_emailing_extends_the_link(app, inbox):
    schedule(app, inbox, inbox["instagram"], "First post")
    link = db.session.scalars(select(ReviewLink)).one()
    link.expires_at = utcnow() + timedelta(hours=1)
    link.last_emailed_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    schedule(app, inbox, inbox["instagram"], "Second post")
    link = fresh(ReviewLink, link.id)
    assert link.expires_at > utcnow() + timedelta(hours=app.config["REVIEW_LINK_TTL_HOURS"] - 1)
    assert len(mails_to("maya@example.test")) == 2


# --- the derived token ---------------------------------------------------------------------------------


def test_the_derived_token_opens_its_link_and_only_its_link(app, inbox):
    schedule(app, inbox, inbox["instagram"], "Maya's post")
    schedule(app, inbox, inbox["tiktok"], "Shared post")  # Leo gets a link of his own
    maya_link = db.session.scalar(select(ReviewLink).where(ReviewLink.reviewer_id == inbox["maya"].id))
    leo_link = db.session.scalar(select(ReviewLink).where(ReviewLink.reviewer_id == inbox["leo"].id))
    token = link_in(mails_to("maya@example.test")[0]).rsplit("/", 1)[1]
    with app.test_request_context():
        assert token == review.derived_token(maya_link)
        assert review.find(token).id == maya_link.id
        assert review.find(review.derived_token(leo_link)).id == leo_link.id
    assert maya_link.token_hash == crypto.token_hash(token) and maya_link.token_salt not in (None, token)
    browser = app.test_client()
    assert browser.get(f"/review/{token}").status_code == 303
    page = browser.get("/review").get_data(as_text=True)
    assert "Maya&#39;s post" in page
    # A token made from another link's id and this link's salt opens nothing.
    forged = type(maya_link)(id=leo_link.id + 100, token_salt=maya_link.token_salt)
    with app.test_request_context():
        assert app.test_client().get(f"/review/{review.derived_token(forged)}").status_code == 404


def test_a_link_without_salt_or_whose_secret_changed_is_not_reused(app, inbox):
    post = schedule(app, inbox, inbox["instagram"], "First post")
    old = db.session.scalars(select(ReviewLink)).one()
    old.token_salt = None
    old.last_emailed_at = None
    db.session.commit()
    schedule(app, inbox, inbox["instagram"], "Second post")
    links = db.session.scalars(select(ReviewLink).order_by(ReviewLink.id)).all()
    assert len(links) == 2 and links[1].token_salt
    assert {row.post_id for row in db.session.scalars(
        select(ReviewLinkPost).where(ReviewLinkPost.review_link_id == links[1].id))} >= {post.id}

    app.config["SECRET_KEY"] = "another secret"
    schedule(app, inbox, inbox["instagram"], "Third post")
    assert db.session.scalar(select(func.count(ReviewLink.id))) == 3


# --- the post page: each approver once, Resend, Revoke -------------------------------------------------


def test_the_post_page_lists_each_approver_once_with_resend_and_revoke(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["tiktok"], "Shared post")
    # Maya's first link expired: the next post makes her a new one covering both; she is listed once.
    db.session.execute(update(ReviewLink).where(ReviewLink.reviewer_id == inbox["maya"].id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    schedule(app, inbox, inbox["tiktok"], "Another shared post")
    maya_link = db.session.scalars(select(ReviewLink).where(ReviewLink.reviewer_id == inbox["maya"].id)
                                   .order_by(ReviewLink.id.desc())).first()
    assert db.session.scalar(select(func.count(ReviewLink.id)).where(ReviewLink.reviewer_id == inbox["maya"].id)) == 2

    auth.login(inbox["sam"])
    url = f"/g/{inbox['group'].id}/posts/{post.id}"
    page = Html(client.get(url))
    rows = page.within(page.by_role("list", "Review links")).css("li.review-link-row")
    names = [row.css_first("strong").text() for row in rows]
    assert sorted(names) == ["Leo Park", "Maya Lopez"]
    maya_row = Html(rows[names.index("Maya Lopez")].html)
    assert maya_row.has_text("emailed ") and maya_row.has_text("Open")
    assert maya_row.has_text(maya_link.last_emailed_at.astimezone(
        review.style_for(inbox["sam"], inbox["account"]).zone).tzname())
    resend = maya_row.form_of(maya_row.by_role("button", "Resend to Maya Lopez"))
    assert resend.attributes["action"].endswith(f"/review-links/{maya_link.id}/resend")

    # Resend ignores the digest's wait and lists all her open posts.
    before = len(mails_to("maya@example.test"))
    response = client.post(resend.attributes["action"])
    assert response.status_code == 303
    mails = mails_to("maya@example.test")
    assert len(mails) == before + 1 and mails[-1].subject == "2 posts are waiting for your approval"
    assert "Shared post" in mails[-1].text_body and "Another shared post" in mails[-1].text_body
    assert link_in(mails[-1]) == link_in(mails[-2])

    # Revoke asks first; once revoked, the link opens nothing and the row says so.
    revoke = maya_row.form_of(maya_row.by_role("button", "Revoke link"))
    assert client.post(revoke.attributes["action"]).status_code == 303
    assert fresh(ReviewLink, maya_link.id).revoked_at is not None
    page = Html(client.get(url))
    row = next(r for r in page.css("li.review-link-row") if "Maya Lopez" in r.text())
    assert "Revoked" in row.text()
    token = link_in(mails[-1]).rsplit("/", 1)[1]
    assert app.test_client().get(f"/review/{token}").status_code == 410
    # Resend after a revoke sends a new link.
    client.post(Html(row.html).form_of(Html(row.html).by_role("button", "Resend to Maya Lopez")).attributes["action"])
    assert link_in(mails_to("maya@example.test")[-1]) != link_in(mails[-1])


def test_a_client_cannot_resend(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "First post")
    link = db.session.scalars(select(ReviewLink)).one()
    auth.login(inbox["maya"])
    url = f"/g/{inbox['group'].id}/posts/{post.id}/review-links/{link.id}/resend"
    assert client.post(url).status_code == 403


# --- clear words -------------------------------------------------------------------------------------


@pytest.mark.parametrize("profiles, message", [
    (["instagram"], "Sent to Maya Lopez for approval."),
    (["tiktok"], "Sent to Leo Park and Maya Lopez for approval."),
    (["instagram", "x"], "Scheduled 1 post; sent 1 post to Maya Lopez for approval."),
    (["x"], "Scheduled 1 post."),
])
def test_scheduling_says_who_was_asked(inbox, auth, client, profiles, message):
    photo = factories.make_photo(inbox["group"])
    db.session.commit()
    auth.login(inbox["sam"])
    day = SOON.date().isoformat()
    response = client.post(f"/g/{inbox['group'].id}/posts", data={
        "profiles": [inbox[name].id for name in profiles], "caption": "Hello", "media": [photo.id], "date": day,
        "time": "09:30", "schedule": "y"}, follow_redirects=True)
    assert Html(response).has_text(message)


def test_feedback_and_comment_are_explained_where_they_appear(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "First post")
    auth.login(inbox["maya"])
    page = Html(client.get(f"/g/{inbox['group'].id}/posts/{post.id}"))
    assert page.has_text("the post stays waiting; the author is asked to change it")
    assert page.has_text("a conversation, no decision")
    token = link_in(mails_to("maya@example.test")[0]).rsplit("/", 1)[1]
    browser = app.test_client()
    browser.get(f"/review/{token}")
    review_page = Html(browser.get("/review"))
    assert review_page.has_text("The post stays waiting; its author is asked to change it.")


# --- waiting for your approval ---------------------------------------------------------------------


def test_the_sidebar_counts_what_waits_and_the_page_lists_it_across_groups(app, inbox, auth, client):
    schedule(app, inbox, inbox["instagram"], "Instagram post")
    schedule(app, inbox, inbox["other_profile"], "Other group post")
    schedule(app, inbox, inbox["tiktok"], "Shared post")
    auth.login(inbox["maya"])
    home = Html(client.get(f"/g/{inbox['group'].id}/"))
    entry = home.by_role("link", re.compile("Waiting for your approval"))
    assert "3" in entry.text()
    page = Html(client.get(entry.attributes["href"]))
    cards = page.css("article.approval-card")
    assert len(cards) == 3
    assert page.has_text("Other group post") and page.has_text("Leo Park")  # the other group's name
    # The Overview panel lists this group's waiting posts only.
    panel = home.within(home.one("section.approval-panel"))
    assert panel.has_text("Instagram post") and not panel.has_text("Other group post")

    # Staff see no entry.
    auth.logout()
    auth.login(inbox["sam"])
    assert not Html(client.get(f"/g/{inbox['group'].id}/")).has_text("Waiting for your approval")


def test_deciding_from_a_card_shows_the_result_and_undo_within_a_minute(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    auth.login(inbox["maya"])
    group = inbox["group"]
    response = client.post(f"/g/{group.id}/waiting/posts/{post.id}/decision", data={"decision": "approve"},
                           headers=HTMX)
    assert response.status_code == 200
    card = Html(response)
    assert card.has_text("Approved — will publish")
    assert card.has_text(SOON.astimezone(review.style_for(inbox["maya"], inbox["account"]).zone).tzname())
    assert card.one("#waiting-count").attributes.get("hx-swap-oob") == "true"
    assert fresh(Post, post.id).status == PostStatus.APPROVED.value
    decision = db.session.scalars(select(ApprovalDecision)).one()
    assert decision.previous_status == PostStatus.PENDING_APPROVAL.value
    undo = card.form_of(card.by_role("button", "Undo"))

    response = client.post(undo.attributes["action"], data={"version": str(post.version)}, headers=HTMX)
    assert response.status_code == 200
    assert fresh(Post, post.id).status == PostStatus.PENDING_APPROVAL.value
    assert db.session.scalar(select(func.count(ApprovalDecision.id))) == 0
    assert Html(response).by_role("button", re.compile("^Approve"))
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.verb == "post.decision_undone"))


def test_undo_is_refused_after_a_minute_or_after_a_change(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    auth.login(inbox["maya"])
    group = inbox["group"]
    client.post(f"/g/{group.id}/waiting/posts/{post.id}/decision", data={"decision": "reject", "note": "No"},
                headers=HTMX)
    decision = db.session.scalars(select(ApprovalDecision)).one()
    db.session.execute(update(ApprovalDecision).values(created_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    response = client.post(f"/g/{group.id}/waiting/decisions/{decision.id}/undo",
                           data={"version": str(post.version)}, headers=HTMX)
    assert response.status_code == 409 and "Too late to undo" in response.get_data(as_text=True)
    assert fresh(Post, post.id).status == PostStatus.REJECTED.value

    db.session.execute(update(ApprovalDecision).values(created_at=utcnow()))
    db.session.commit()
    response = client.post(f"/g/{group.id}/waiting/decisions/{decision.id}/undo",
                           data={"version": str(post.version - 1)}, headers=HTMX)
    assert response.status_code == 409 and "the post changed since" in response.get_data(as_text=True)
    assert fresh(Post, post.id).status == PostStatus.REJECTED.value
    # Someone else's decision is not theirs to undo.
    auth.logout()
    auth.login(inbox["leo"])
    assert client.post(f"/g/{group.id}/waiting/decisions/{decision.id}/undo",
                       data={"version": str(post.version)}, headers=HTMX).status_code == 403


def test_undo_takes_back_the_authors_notice_or_tells_them_it_was_undone(app, inbox, auth, client):
    """Unmailed, the author's "approved" notice just goes; emailed, a second notice says it was undone."""
    from webapp.models import Notification, NotificationKind, NotificationPreference

    group = inbox["group"]
    first = schedule(app, inbox, inbox["instagram"], "First post")
    author_id = first.author_id
    db.session.add(NotificationPreference(user_id=author_id, kind=NotificationKind.DECISION_MADE.value,
                                          delivery="digest"))
    db.session.commit()
    auth.login(inbox["maya"])

    def decide_and_undo(post):
        client.post(f"/g/{group.id}/waiting/posts/{post.id}/decision", data={"decision": "approve"}, headers=HTMX)
        decision = db.session.scalars(select(ApprovalDecision).where(ApprovalDecision.post_id == post.id)).one()
        assert client.post(f"/g/{group.id}/waiting/decisions/{decision.id}/undo",
                           data={"version": str(fresh(Post, post.id).version)}, headers=HTMX).status_code == 200

    def notices(post):
        return [note.message for note in db.session.scalars(
            select(Notification).where(Notification.post_id == post.id, Notification.user_id == author_id)
            .order_by(Notification.id).execution_options(populate_existing=True))]

    decide_and_undo(first)  # the author takes it in the digest: nothing was emailed yet
    assert notices(first) == []

    db.session.execute(delete(NotificationPreference))
    db.session.commit()
    second = schedule(app, inbox, inbox["instagram"], "Second post")
    decide_and_undo(second)  # emailed at once: the author hears it was taken back
    [notice] = notices(second)
    assert "took back their decision" in notice


def test_undo_is_refused_once_a_publisher_claimed_the_approved_post(app, inbox, auth, client):
    """An approved post that is due may be taken by a publisher within the minute: it stays approved."""
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    auth.login(inbox["maya"])
    group = inbox["group"]
    client.post(f"/g/{group.id}/waiting/posts/{post.id}/decision", data={"decision": "approve"}, headers=HTMX)
    decision = db.session.scalars(select(ApprovalDecision)).one()
    db.session.execute(update(Post).where(Post.id == post.id).values(claim_token="publisher-1"))
    db.session.commit()
    response = client.post(f"/g/{group.id}/waiting/decisions/{decision.id}/undo",
                           data={"version": str(post.version)}, headers=HTMX)
    assert response.status_code == 409 and "the post changed since" in response.get_data(as_text=True)
    assert fresh(Post, post.id).status == PostStatus.APPROVED.value
    assert db.session.get(ApprovalDecision, decision.id) is not None


def test_a_feedback_without_a_note_is_refused_on_its_card(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    auth.login(inbox["maya"])
    response = client.post(f"/g/{inbox['group'].id}/waiting/posts/{post.id}/decision",
                           data={"decision": "feedback", "note": ""}, headers=HTMX)
    assert response.status_code == 422
    card = Html(response)
    assert card.description_of(card.by_label("Your feedback")) == "Write your feedback first."


def test_a_client_removed_from_the_group_sees_nothing_and_cannot_decide(app, inbox, auth, client):
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    schedule(app, inbox, inbox["other_profile"], "Other group post")
    access_groups.remove_user(inbox["group"], inbox["maya"].id, inbox["sam"])
    db.session.commit()
    auth.login(inbox["maya"])
    other = inbox["other"]
    page = Html(client.get(f"/g/{other.id}/waiting"))
    assert page.has_text("Other group post") and not page.has_text("Instagram post")
    assert client.post(f"/g/{other.id}/waiting/posts/{post.id}/decision", data={"decision": "approve"},
                       headers=HTMX).status_code == 404
    assert fresh(Post, post.id).status == PostStatus.PENDING_APPROVAL.value


def test_the_review_page_decides_in_place_with_the_same_undo(app, inbox):
    post = schedule(app, inbox, inbox["instagram"], "Instagram post")
    token = link_in(mails_to("maya@example.test")[0]).rsplit("/", 1)[1]
    browser = app.test_client()
    browser.get(f"/review/{token}")
    response = browser.post(f"/review/posts/{post.id}", data={"decision": "approve"}, headers=HTMX)
    assert response.status_code == 200
    card = Html(response)
    assert card.has_text("Approved — will publish")
    undo = card.form_of(card.by_role("button", "Undo"))
    response = browser.post(undo.attributes["action"], data={"version": str(post.version)}, headers=HTMX)
    assert response.status_code == 200
    assert fresh(Post, post.id).status == PostStatus.PENDING_APPROVAL.value
    # Another link's decision cannot be undone from this one.
    decision = rules.decide(post, inbox["maya"], "approve")
    db.session.commit()
    assert browser.post(f"/review/decisions/{decision.id}/undo", data={"version": str(post.version)},
                        headers=HTMX).status_code == 404


def test_two_requests_at_once_make_one_link(app, inbox):
    """Two posts sent for Maya's approval at the same moment join one link (PostgreSQL locks her
    membership row first; SQLite lets one writer at a time anyway)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    both_ready = threading.Barrier(2, timeout=10)
    lock = review._lock_reviewer

    def meet_then_lock(*args, **kwargs):
        both_ready.wait()
        return lock(*args, **kwargs)

    profile_id, group_id, sam_id = inbox["instagram"].id, inbox["group"].id, inbox["sam"].id
    photo_id = factories.make_photo(inbox["group"]).id
    db.session.commit()

    def send(caption: str):
        def work() -> None:
            with app.test_request_context():
                group = db.session.get(AccessGroup, group_id)
                rules.create_posts(group, rules.Draft([db.session.get(SocialProfile, profile_id)], caption,
                                                      [db.session.get(MediaItem, photo_id)], SOON),
                                   db.session.get(User, sam_id), schedule=True)
                db.session.commit()
        return work

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(review, "_lock_reviewer", meet_then_lock)
        _in_threads(app, [send("One"), send("Two")])
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ReviewLink.id)).where(ReviewLink.reviewer_id == inbox["maya"].id)) == 1
    assert db.session.scalar(select(func.count(ReviewLinkPost.post_id))) == 2
