"""Posts: the composer, scheduling and approval, comments, the post page and approval settings."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp import approvals, review
from webapp import posts as rules
from webapp.extensions import db
from webapp.zones import account_zone
from webapp.models import (
    ApprovalDecision,
    Mail,
    Network,
    Post,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    Role,
    utcnow,
)

from . import factories
from .html import HTMX, Html


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    account.time_zone = "America/New_York"
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    maya_set = factories.make_social_set(maya, "Maya Main")
    instagram = factories.make_profile(maya_set, Network.INSTAGRAM, handle="maya")
    x = factories.make_profile(maya_set, Network.X, handle="mayax")
    leo_profile = factories.make_profile(factories.make_social_set(leo), Network.TIKTOK, handle="leo")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager",
                                    email="sam@example.test")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez",
                                    email="maya@example.test")
    leo_creator = factories.make_member(account, Role.CLIENT, groups=[leo], name="Leo Park")
    admin = factories.make_member(account, Role.ADMIN, groups=[maya, leo], name="Alex Admin")
    instagram.needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=instagram.id, user_id=creator.id))
    photo = factories.make_media(maya, "beach.jpg")
    photo.content_type = "image/jpeg"  # Instagram takes JPEG images only
    db.session.commit()
    return dict(account=account, maya=maya, leo=leo, instagram=instagram, x=x, leo_profile=leo_profile,
                manager=manager, creator=creator, leo_creator=leo_creator, admin=admin, photo=photo,
                owner=factories.owner_of(account))


def tomorrow_form(**fields) -> dict:
    day = (datetime.now(timezone.utc) + timedelta(days=2)).date()
    data = {"caption": "Summer is here", "date": day.isoformat(), "time": "09:30"}
    data.update(fields)
    return data


def mails_to(address: str) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.to_address == address).order_by(Mail.id)))


def only_post() -> Post:
    return db.session.scalars(select(Post)).one()


# --- composing -------------------------------------------------------------------------------------


def test_scheduling_reads_the_time_in_the_accounts_zone(agency, auth, client):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts",
                           data=tomorrow_form(profiles=[agency["x"].id], schedule="y"))
    assert response.status_code == 303
    post = only_post()
    assert post.status == PostStatus.SCHEDULED.value and post.author_id == agency["manager"].id
    local = post.scheduled_at.astimezone(account_zone(agency["account"]))
    assert (local.hour, local.minute) == (9, 30) and post.scheduled_at.hour in (13, 14)  # EST or EDT
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Scheduled 1 post." in page and ("09:30 EST" in page or "09:30 EDT" in page)


def test_a_profile_needing_approval_waits_and_its_approver_gets_a_link(agency, auth, client):
    auth.login(agency["manager"])
    client.post(f"/g/{agency['maya'].id}/posts",
                data=tomorrow_form(profiles=[agency["instagram"].id], media=[agency["photo"].id], schedule="y"))
    post = only_post()
    assert post.status == PostStatus.PENDING_APPROVAL.value
    assert [m.id for m in post.media_items] == [agency["photo"].id]
    [mail] = mails_to("maya@example.test")
    assert mail.subject == "1 post is waiting for your approval" and "/review/" in mail.text_body
    link = db.session.scalars(select(ReviewLink)).one()
    assert link.reviewer_id == agency["creator"].id
    token = mail.text_body.split("/review/")[1].split()[0]
    assert link.token_hash != token and len(token) >= 43


def test_one_post_per_chosen_profile_and_drafts_need_no_time(agency, auth, client):
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts",
                           data={"caption": "Draft idea", "profiles": [agency["x"].id, agency["instagram"].id],
                                 "save_draft": "y"})
    assert response.status_code == 303
    posts = db.session.scalars(select(Post).order_by(Post.id)).all()
    assert [p.status for p in posts] == ["draft", "draft"] and {p.scheduled_at for p in posts} == {None}


@pytest.mark.parametrize("fields, message", [
    ({"profiles": []}, "Choose at least one social profile."),
    ({"caption": "x" * 281}, "X takes posts of up to 280 characters; this one has 281."),
    ({"date": "2020-01-01"}, "Choose a time in the future."),
    ({"date": "9999-12-31"}, "Choose a date between the years 2000 and 2999."),
    ({"time": ""}, "Choose both a date and a time."),
    ({"date": "", "time": ""}, "Choose the date and time to publish at."),
    ({"caption": "", "media": []}, "Write a caption or attach media before scheduling."),
])
def test_bad_composer_input_changes_nothing_and_says_why(agency, auth, client, fields, message):
    auth.login(agency["manager"])
    data = tomorrow_form(profiles=[agency["x"].id], schedule="y")
    data.update(fields)
    response = client.post(f"/g/{agency['maya'].id}/posts", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Post)).all() == []


def test_profiles_and_media_of_another_group_are_refused(agency, auth, client):
    leo_item = factories.make_media(agency["leo"], "leo.png")
    db.session.commit()
    auth.login(agency["manager"])
    for data in (tomorrow_form(profiles=[agency["leo_profile"].id], schedule="y"),
                 tomorrow_form(profiles=[agency["x"].id], media=[leo_item.id], schedule="y")):
        response = client.post(f"/g/{agency['maya'].id}/posts", data=data)
        assert response.status_code == 422
    assert db.session.scalars(select(Post)).all() == []


def test_a_refused_composer_shows_no_item_of_another_account_or_group(agency, auth, client):
    """The refused form comes back with what was chosen, but only of this group's library."""
    rival_item = factories.make_media(factories.default_group(factories.make_account("Rival")),
                                      "rival-secret-plan.png")
    leo_item = factories.make_media(agency["leo"], "leo-private.png")
    db.session.commit()
    auth.login(agency["owner"])
    for item in (rival_item, leo_item):
        response = client.post(f"/g/{agency['maya'].id}/posts", data=tomorrow_form(
            profiles=[agency["x"].id], media=[agency["photo"].id, item.id], schedule="y"))
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "Attach items from this group" in body
        assert item.name not in body
        assert "beach.jpg" in body  # the group's own choice stays chosen
    assert db.session.scalars(select(Post)).all() == []


def test_editing_keeps_showing_an_attachment_that_moved_to_another_group(agency, auth, client):
    post = Post(social_profile_id=agency["x"].id, access_group_id=agency["maya"].id, caption="Moved",
                status=PostStatus.DRAFT.value)
    post.media_items = [agency["photo"]]
    db.session.add(post)
    db.session.flush()
    agency["photo"].access_group_id = agency["leo"].id
    db.session.commit()
    auth.login(agency["admin"])
    body = client.get(f"/g/{agency['maya'].id}/posts/{post.id}/edit").get_data(as_text=True)
    assert "beach.jpg" in body


def test_clients_without_publish_rights_cannot_compose(agency, auth, client):
    auth.login(agency["creator"])
    assert client.get(f"/g/{agency['maya'].id}/posts/new").status_code == 403
    assert client.post(f"/g/{agency['maya'].id}/posts", data=tomorrow_form(
        profiles=[agency["x"].id], schedule="y")).status_code == 403


def test_the_media_picker_keeps_chosen_items_and_searches_the_rest(agency, auth, client):
    other = factories.make_media(agency["maya"], "city.png")
    db.session.commit()
    auth.login(agency["manager"])
    picker = Html(client.get(f"/g/{agency['maya'].id}/posts/media-picker?q=city&media={agency['photo'].id}",
                             headers=HTMX))
    beach, city = picker.by_role("checkbox", "beach.jpg"), picker.by_role("checkbox", "city.png")
    assert beach.attributes["value"] == str(agency["photo"].id) and city.attributes["value"] == str(other.id)
    assert picker.checked("media") == [str(agency["photo"].id)]


# --- editing ---------------------------------------------------------------------------------------


def make_pending(agency) -> Post:
    post = rules.create_posts(agency["maya"], rules.Draft(
        [agency["instagram"]], "Launch day", [agency["photo"]], datetime.now(timezone.utc) + timedelta(days=1)),
        agency["manager"], schedule=True)[0]
    db.session.commit()
    return post


def test_editing_the_text_of_an_approved_post_sends_it_back_to_pending(agency, auth, client):
    post = make_pending(agency)
    rules.decide(post, agency["creator"], "approve")
    db.session.commit()
    version = post.version
    auth.login(agency["manager"])
    local = post.scheduled_at.astimezone(account_zone(agency["account"]))
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}", data={
        "caption": "Launch day!", "media": [agency["photo"].id], "date": local.date().isoformat(),
        "time": local.strftime("%H:%M")})
    assert response.status_code == 303
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.status == PostStatus.PENDING_APPROVAL.value and post.version == version + 1
    # Asked again on the same link, at the new version; emailed with the next digest, not at once.
    row = db.session.scalars(select(ReviewLinkPost).where(ReviewLinkPost.post_id == post.id)).one()
    assert (row.post_version, row.mailed_at) == (post.version, None)
    assert len(mails_to("maya@example.test")) == 1
    review.send_due_digests(utcnow() + timedelta(minutes=16))
    assert len(mails_to("maya@example.test")) == 2


def test_a_new_time_alone_keeps_an_approved_post_approved(agency):
    post = make_pending(agency)
    rules.decide(post, agency["creator"], "approve")
    rules.reschedule(post, post.scheduled_at + timedelta(days=1), agency["manager"])
    db.session.commit()
    assert post.status == PostStatus.APPROVED.value


def test_a_published_post_cannot_change(agency, auth, client):
    post = make_pending(agency)
    post.status = PostStatus.PUBLISHED.value
    db.session.commit()
    with pytest.raises(rules.PostError, match="published"):
        rules.reschedule(post, post.scheduled_at + timedelta(days=1), agency["manager"])
    auth.login(agency["manager"])
    assert client.post(f"/g/{agency['maya'].id}/posts/{post.id}/delete").status_code == 422


def test_unscheduling_and_deleting_after_confirmation(agency, auth, client):
    post_id = make_pending(agency).id
    url = f"/g/{agency['maya'].id}/posts/{post_id}"
    auth.login(agency["manager"])
    response = client.post(f"{url}/unschedule")
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    assert db.session.scalar(select(Post.status).where(Post.id == post_id)) == PostStatus.DRAFT.value
    response = client.post(f"{url}/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/g/{agency['maya'].id}/")
    assert db.session.scalar(select(Post.id).where(Post.id == post_id)) is None


# --- approval -------------------------------------------------------------------------------------


def test_decisions_are_recorded_and_the_author_is_told(agency, auth, client):
    post = make_pending(agency)
    auth.login(agency["creator"])
    url = f"/g/{agency['maya'].id}/posts/{post.id}/decision"
    refused = client.post(url, data={"reject": "y", "note": ""})
    assert refused.status_code == 422 and "Say why you reject the post" in refused.get_data(as_text=True)
    assert client.post(url, data={"feedback": "y", "note": "Use the other photo"}).status_code == 303
    assert db.session.get(Post, post.id).status == PostStatus.PENDING_APPROVAL.value
    assert client.post(url, data={"approve": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.APPROVED.value
    decisions = db.session.scalars(select(ApprovalDecision).order_by(ApprovalDecision.id)).all()
    assert [(d.decision, d.note, d.reviewer_id) for d in decisions] == [
        ("feedback", "Use the other photo", agency["creator"].id), ("approve", "", agency["creator"].id)]
    subjects = [mail.subject for mail in mails_to("sam@example.test")]
    assert subjects == ["Maya Lopez left feedback on your Instagram post", "Maya Lopez approved your Instagram post"]
    page = client.get(f"/g/{agency['maya'].id}/posts/{post.id}").get_data(as_text=True)
    assert "Use the other photo" in page and "Approved by Maya Lopez" in page


def test_only_approvers_decide(agency, auth, client):
    post = make_pending(agency)
    auth.login(agency["manager"])
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}/decision", data={"approve": "y"})
    assert response.status_code == 422 and "Only the profile&#39;s approvers" in response.get_data(as_text=True)
    assert db.session.get(Post, post.id).status == PostStatus.PENDING_APPROVAL.value


def test_a_rejected_post_goes_back_to_its_author(agency):
    post = make_pending(agency)
    rules.decide(post, agency["creator"], "reject", "Wrong hashtag")
    db.session.commit()
    assert post.status == PostStatus.REJECTED.value
    assert rules.status_label(post) == "Rejected"


def test_a_pending_post_past_its_time_says_so(agency):
    post = make_pending(agency)
    assert rules.status_label(post, now=post.scheduled_at + timedelta(minutes=1)) == "Awaiting approval, time passed"


# --- comments -------------------------------------------------------------------------------------


def test_clients_comment_and_the_author_is_emailed(agency, auth, client):
    post = make_pending(agency)
    auth.login(agency["creator"])
    response = client.post(f"/g/{agency['maya'].id}/posts/{post.id}/comments", data={"body": "Love it!"},
                           headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Love it!" in html and "Maya Lopez" in html and "<html" not in html
    assert mails_to("sam@example.test")[-1].subject == "Maya Lopez commented on your Instagram post"
    empty = client.post(f"/g/{agency['maya'].id}/posts/{post.id}/comments", data={"body": "  "})
    assert empty.status_code == 422 and "Write a comment first." in empty.get_data(as_text=True)


def test_another_groups_post_is_not_found(agency, auth, client):
    post = make_pending(agency)
    auth.login(agency["leo_creator"])
    assert client.get(f"/g/{agency['maya'].id}/posts/{post.id}").status_code == 404
    assert client.get(f"/g/{agency['leo'].id}/posts/{post.id}").status_code == 404
    assert client.post(f"/g/{agency['leo'].id}/posts/{post.id}/comments", data={"body": "hi"}).status_code == 404


# --- approval settings -----------------------------------------------------------------------------


def test_approval_needs_an_approver_who_is_a_client_seeing_the_profile(agency, auth, client):
    url = f"/settings/access-groups/{agency['maya'].id}/profiles/{agency['x'].id}/approval"
    auth.login(agency["admin"])
    page = client.get(url).get_data(as_text=True)
    assert "Maya Lopez" in page and "Leo Park" not in page and "Sam Manager" not in page
    none = client.post(url, data={"needs_approval": "on"})
    assert none.status_code == 422 and "Choose at least one approver" in none.get_data(as_text=True)
    for outsider in (agency["leo_creator"], agency["manager"]):
        refused = client.post(url, data={"needs_approval": "on", "approvers": [outsider.id]})
        assert refused.status_code == 422 and "cannot." in refused.get_data(as_text=True)
    # Someone of another account is refused without being named.
    stranger = factories.owner_of(factories.make_account("Rival"))
    db.session.commit()
    refused = client.post(url, data={"needs_approval": "on", "approvers": [stranger.id]})
    assert refused.status_code == 422 and "That person cannot." in refused.get_data(as_text=True)
    assert stranger.name not in refused.get_data(as_text=True)
    assert db.session.get(type(agency["x"]), agency["x"].id).needs_approval is False
    assert client.post(url, data={"needs_approval": "on", "approvers": [agency["creator"].id]}).status_code == 303
    assert approvals.approver_ids(agency["x"]) == [agency["creator"].id]


def test_turning_approval_off_schedules_what_was_waiting(agency, auth, client):
    post = make_pending(agency)
    auth.login(agency["admin"])
    url = f"/settings/access-groups/{agency['maya'].id}/profiles/{agency['instagram'].id}/approval"
    assert client.post(url, data={}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.SCHEDULED.value
    assert approvals.approver_ids(agency["instagram"]) == []


def test_managers_cannot_change_approval_settings(agency, auth, client):
    auth.login(agency["manager"])
    url = f"/settings/access-groups/{agency['maya'].id}/profiles/{agency['x'].id}/approval"
    assert client.get(url).status_code == 403


def test_a_post_given_up_on_gets_its_attempts_back_when_rescheduled(agency):
    post = rules.create_posts(agency["maya"], rules.Draft(
        [agency["x"]], "Hello", [], datetime.now(timezone.utc) + timedelta(days=1)), agency["manager"], True)[0]
    post.publish_attempts, post.publish_error = 5, "X refused the post."
    rules.reschedule(post, post.scheduled_at + timedelta(hours=1), agency["manager"])
    assert (post.publish_attempts, post.publish_error, post.next_publish_at) == (0, None, None)
    assert rules.status_label(post) == "Scheduled"


def test_drafts_without_a_time_are_listed_on_the_group_home(agency, auth, client):
    auth.login(agency["manager"])
    client.post(f"/g/{agency['maya'].id}/posts",
                data={"caption": "Idea for later", "profiles": [agency["x"].id], "save_draft": "y"})
    home = client.get(f"/g/{agency['maya'].id}/").get_data(as_text=True)
    assert "Drafts without a time" in home and "Idea for later" in home
    auth.login(agency["leo_creator"])
    assert "Idea for later" not in client.get(f"/g/{agency['leo'].id}/").get_data(as_text=True)
