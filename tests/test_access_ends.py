"""Access ends at once, everywhere: what was seen outliving its removal, each case closed.

An approver removed from a group's Users tab, whose membership ended, who was deactivated or who
removed the profile from her own view decides nothing more, sees nothing more and is mailed
nothing more; her stored duty ends with the change that took her access, and the owner and
admins hear once that the profile has nobody to approve it. The Users count agrees with the policy.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import accounts, approvals, policy, posts
from webapp.extensions import db
from webapp.models import (
    AuditEvent, GroupUser, Mail, Membership, Post, PostStatus, ProfileAccessRemoval, ProfileApprover, Role, utcnow,
)
from webapp.storage import media_storage

from . import factories
from .routes.media import PNG
from .scenarios import decide, issue, opened


def _mails_to(address: str) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.to_address == address).order_by(Mail.id)))


def _attach(review_agency) -> int:
    """Attach an image to Maya's first pending post; returns its id."""
    item = factories.make_media(review_agency["group"], "shoot.png")
    item.storage_key = media_storage().save(PNG, ".png")
    review_agency["first"].media_items = [item]
    db.session.commit()
    return item.id


def _remove_from_users_tab(app, review_agency) -> None:
    """The owner takes Maya off the group's Users tab through the page, as a person would."""
    owner = factories.owner_of(review_agency["account"])
    client = app.test_client()
    client.post("/login", data={"email": owner.email, "password": factories.PASSWORD})
    group, maya = review_agency["group"], review_agency["maya"]
    response = client.post(f"/settings/access-groups/{group.id}/users/{maya.id}/remove")
    assert response.status_code in (200, 303), response.status_code


def _end_membership(app, review_agency) -> None:
    membership = db.session.scalar(select(Membership).where(Membership.user_id == review_agency["maya"].id))
    membership.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def _deactivate(app, review_agency) -> None:
    accounts.deactivate(review_agency["maya"])
    db.session.commit()


def _remove_profile_from_own_view(app, review_agency) -> None:
    instagram, maya = review_agency["instagram"], review_agency["maya"]
    db.session.add(ProfileAccessRemoval(social_profile_id=instagram.id, user_id=maya.id))
    db.session.commit()


LOSSES = {
    "removed from the Users tab": _remove_from_users_tab,
    "membership ended": _end_membership,
    "deactivated": _deactivate,
    "removed the profile from her view": _remove_profile_from_own_view,
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_an_approver_who_lost_access_sees_decides_and_hears_nothing_more(app, review_agency, loss):
    item_id = _attach(review_agency)
    _link, token = issue(review_agency)
    browser = opened(app, token)
    assert browser.get(f"/review/media/{item_id}").status_code == 200

    LOSSES[loss](app, review_agency)

    page = browser.get("/review")
    assert page.status_code == 410 and "This link no longer opens any post" in page.get_data(as_text=True)
    assert "Behind the scenes" not in page.get_data(as_text=True)
    again = app.test_client().get(f"/review/{token}")
    assert again.status_code == 410 and "This link no longer opens any post" in again.get_data(as_text=True)
    assert browser.get(f"/review/media/{item_id}").status_code == 404
    refused = decide(browser, review_agency["first"], "approve")
    assert refused.status_code == 410
    assert db.session.get(Post, review_agency["first"].id).status == PostStatus.PENDING_APPROVAL.value
    assert not db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.verb == "post.approve"))

    # A staff edit asks the approvers again: she is not one any more, so she is mailed nothing.
    before = len(_mails_to("maya@example.test"))
    with app.test_request_context():
        posts.notify_approvers([review_agency["first"]], review_agency["sam"])
    db.session.commit()
    assert len(_mails_to("maya@example.test")) == before
    assert posts.approvers_of(review_agency["instagram"]) == []
    assert approvals.approver_ids(review_agency["instagram"]) == []
    with pytest.raises(posts.PostError):
        posts.decide(review_agency["first"], review_agency["maya"], "approve")


def test_removing_an_approver_from_the_users_tab_ends_her_duty_and_tells_the_admins_once(app, review_agency):
    admin = factories.make_member(review_agency["account"], Role.ADMIN, name="Alex Admin", email="alex@example.test")
    db.session.commit()
    _remove_from_users_tab(app, review_agency)
    assert db.session.get(ProfileApprover, (review_agency["instagram"].id, review_agency["maya"].id)) is None
    ended = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "profile.approver_removed")).all()
    assert [(event.object_id, event.before["approver_id"]) for event in ended] == [
        (review_agency["instagram"].id, review_agency["maya"].id)]
    owner = factories.owner_of(review_agency["account"])
    for person in (owner, admin):
        told = _mails_to(person.email)
        assert [mail.subject for mail in told] == ["No one can approve posts for @mayalopez"]
        assert "/approval" in told[0].text_body
    assert _mails_to("sam@example.test") == []  # managers are not asked to choose approvers

    # Nothing more to end: no second mail.
    with app.test_request_context():
        approvals.end_lost_duties(review_agency["account"].id, owner, "again")
    db.session.commit()
    assert len(_mails_to(owner.email)) == 1


def test_a_profile_left_without_an_approver_says_so_where_staff_look(app, review_agency, auth, client):
    _remove_from_users_tab(app, review_agency)
    owner = factories.owner_of(review_agency["account"])
    auth.login(owner)
    post_page = client.get(f"/g/{review_agency['group'].id}/posts/{review_agency['first'].id}").get_data(as_text=True)
    assert "No one can approve this post: choose an approver." in post_page
    assert "Choose an approver for @mayalopez" in post_page
    slots = client.get(f"/settings/access-groups/{review_agency['group'].id}").get_data(as_text=True)
    assert "No one can approve: choose an approver" in slots
    # Jonah still approves his own profile: nothing is said about it.
    jonahs = client.get(f"/g/{review_agency['group'].id}/posts/{review_agency['jonahs'].id}").get_data(as_text=True)
    assert "No one can approve" not in jonahs and "Approvers: Jonah Reed." in jonahs


def test_an_approver_whose_end_date_has_passed_is_no_candidate_either(app, review_agency):
    _end_membership(app, review_agency)
    assert review_agency["maya"].id not in {user.id for user in approvals.candidates(review_agency["instagram"])}
    assert review_agency["jonah"].id in {user.id for user in approvals.candidates(review_agency["instagram"])}


# --- the Users count --------------------------------------------------------------------------------


def test_the_users_count_leaves_out_whom_the_policy_lets_in_nowhere(app, review_agency, auth, client):
    """Settings › Social Sets & Access Groups counts the people who may enter, as the policy says."""
    group_id = review_agency["group"].id

    def count() -> int:
        page = client.get("/settings/access-groups").get_data(as_text=True)
        return policy_count_on(page, review_agency["group"].name)

    auth.login(factories.owner_of(review_agency["account"]))
    assert count() == 3  # Sam, Maya, Jonah
    membership = db.session.scalar(select(Membership).where(Membership.user_id == review_agency["jonah"].id))
    membership.deactivated_at = utcnow()
    db.session.commit()
    assert count() == 2
    assert len(policy.entrants_by_group([group_id], include_owner=False)[group_id]) == 2
    assert db.session.get(GroupUser, (group_id, review_agency["jonah"].id)) is not None  # still on the tab


def policy_count_on(page: str, group_name: str) -> int:
    """The number of users the overview gives the group, read from its row's text."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.texts: list[str] = []

        def handle_data(self, data):
            self.texts.append(data.strip())

    parser = Rows()
    parser.feed(page)
    texts = [text for text in parser.texts if text]
    start = texts.index(group_name)
    for text in texts[start:start + 40]:
        words = text.split()
        if len(words) == 2 and words[0].isdigit() and words[1] in ("user", "users"):
            return int(words[0])
    raise AssertionError(f"no user count near {group_name!r}")
