"""Settings › Team › a member, without a terminal: deactivate (access ends at once), reactivate, remove
from the agency (what they made stays, by a former member), seats, the one Save, and who may do any of it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from webapp import members as rules
from webapp import plans
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Comment,
    GroupUser,
    MemberRight,
    Membership,
    Notification,
    NotificationKind,
    Post,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    Role,
    UserGroupMember,
    UserSession,
)
from webapp.policy import load_permissions

from . import factories, scenarios
from .conftest import Auth
from .html import HTMX, Html


@pytest.fixture
def agency(review_agency):
    """The review agency (Sam writes posts that Maya and Jonah approve) with its owner, an admin, a second
    agency Sam also works for, and the Creators user group Maya is in."""
    account, group = review_agency["account"], review_agency["group"]
    owner = factories.owner_of(account)
    factories.add_to_group(owner, group)
    admin = factories.make_member(account, Role.ADMIN, groups=[group], name="Alex Admin")
    creators = factories.make_user_group(account, "Creators", rights=["media.view"], members=[review_agency["maya"]])
    other = factories.make_account("Elsewhere")
    factories.make_member(other, Role.MANAGER, groups=[factories.default_group(other)], user=review_agency["sam"])
    db.session.commit()
    return {**review_agency, "owner": owner, "admin": admin, "creators": creators, "other": other,
            "other_owner": factories.owner_of(other)}


def member_url(user, action: str = "") -> str:
    return f"/settings/team/members/{user.id}" + (f"/{action}" if action else "")


def membership(account, user) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.user_id == user.id)
        .execution_options(populate_existing=True))


def signed_in_as(app, user):
    """A second browser, signed in as `user`."""
    browser = app.test_client()
    Auth(browser).login(user)
    return browser


def verbs(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb).order_by(AuditEvent.id)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- deactivate ----------------------------------------------------------------------------------------


def test_the_confirmation_names_what_a_member_loses(client, auth, agency):
    """Access groups, user groups, approver duty (and that nobody else approves it), open review links, the seat."""
    scenarios.issue(agency)
    factories.add_to_group(agency["maya"], factories.make_group(agency["account"], "Maya Extra"))
    db.session.commit()
    auth.login(agency["owner"])
    page = Html(client.get(member_url(agency["maya"])))
    dialog = page.within(page.opened_by(page.by_role("button", "Deactivate…")))
    assert page.name_of(dialog.scope) == "Deactivate Maya Lopez?"
    assert dialog.has_text("Access groups they can no longer enter: Maya Extra, Maya Lopez.")
    assert dialog.has_text("User groups that stop giving them anything: Creators.")
    assert dialog.has_text("Approver duty that ends: Instagram @mayalopez.")
    assert dialog.has_text("Nobody else approves @mayalopez")
    assert dialog.has_text("1 open review link stops working.")
    assert not dialog.has_text("team seat")  # a client without Publish holds none
    assert dialog.by_role("button", "Deactivate Maya Lopez").attributes["type"] == "submit"
    sam = Html(client.get(member_url(agency["sam"])))
    assert sam.within(sam.opened_by(sam.by_role("button", "Deactivate…"))).has_text("A team seat is freed.")
    removal = page.within(page.opened_by(page.by_role("button", "Remove from the agency…")))
    assert page.name_of(removal.scope) == "Remove Maya Lopez from Northstar?"
    assert removal.has_text("shown as by “former member”")


def test_deactivating_ends_access_review_links_and_duty_at_once(app, client, auth, agency):
    """From the member's next request: no group, no review link, no approver duty; audited; nothing else goes."""
    account, maya, group = agency["account"], agency["maya"], agency["group"]
    _, token = scenarios.issue(agency)
    reviewing = scenarios.opened(app, token)
    maya_browser = signed_in_as(app, maya)
    assert maya_browser.get(f"/g/{group.id}/").status_code == 200
    auth.login(agency["owner"])

    response = client.post(member_url(maya, "deactivate"))
    assert response.status_code == 303 and response.location.endswith(member_url(maya))

    assert membership(account, maya).deactivated_at is not None
    assert load_permissions(maya.id).roles == {}
    # Northstar was her only agency: she is signed out.
    assert count(UserSession, UserSession.user_id == maya.id, UserSession.ended_at.is_(None)) == 0
    assert maya_browser.get(f"/g/{group.id}/").status_code in (302, 303)
    assert reviewing.get("/review").status_code == 410
    assert app.test_client().get(f"/review/{token}").status_code == 410
    assert count(ReviewLink, ReviewLink.reviewer_id == maya.id, ReviewLink.revoked_at.is_(None)) == 0
    assert count(ProfileApprover, ProfileApprover.user_id == maya.id) == 0
    # Her role, Users-tab entry and user group wait for a reactivation.
    assert membership(account, maya).role == "client"
    assert count(GroupUser, GroupUser.user_id == maya.id) == 1
    assert count(UserGroupMember, UserGroupMember.user_id == maya.id) == 1
    event = verbs("member.deactivated")[-1]
    assert event.actor_id == agency["owner"].id and event.object_id == maya.id
    assert event.after["review_links_closed"] == 1 and event.after["approver_of_ended"] == [agency["instagram"].id]
    page = Html(client.get(member_url(maya)))
    assert page.by_role("button", "Reactivate Maya Lopez")
    assert "Deactivated" in page.one("[data-testid=member-access]").text()


def test_a_member_of_another_agency_keeps_it_when_deactivated_here(app, client, auth, agency):
    """Sam's session stays for the other agency; this agency's groups are not found for him from then on."""
    sam, group = agency["sam"], agency["group"]
    other_group = factories.default_group(agency["other"])
    browser = signed_in_as(app, sam)
    auth.login(agency["owner"])
    assert client.post(member_url(sam, "deactivate")).status_code == 303
    assert browser.get(f"/g/{group.id}/").status_code == 404
    assert browser.get(f"/g/{other_group.id}/").status_code == 200


def test_deactivating_frees_a_seat_and_reactivating_takes_it_back(client, auth, agency):
    account = agency["account"]
    used = plans.seats_used(account)
    auth.login(agency["owner"])
    assert client.post(member_url(agency["sam"], "deactivate")).status_code == 303
    assert plans.seats_used(account) == used - 1
    team = Html(client.get("/settings/team"))
    assert team.one("[data-testid=seats]").text().strip().startswith(f"{used - 1} team seat")
    row = team.within(team.by_role("row", re.compile("^Sam Okafor")))
    assert row.has_text("Deactivated")
    assert client.post(member_url(agency["sam"], "reactivate"), data={"back": "team"}).location.endswith(
        "/settings/team")
    assert plans.seats_used(account) == used


def test_reactivating_gives_back_role_rights_and_groups(app, client, auth, agency):
    account, maya, group = agency["account"], agency["maya"], agency["group"]
    auth.login(agency["owner"])
    assert client.post(member_url(maya, "deactivate")).status_code == 303
    response = client.post(member_url(maya, "reactivate"), headers=HTMX)
    assert response.status_code == 200 and Html(response).one("#member")
    assert "is active again" in response.get_data(as_text=True)
    assert membership(account, maya).deactivated_at is None
    perms = load_permissions(maya.id)
    assert perms.role_in(account.id) == "client" and group.id in perms.groups
    assert "media.view" in perms.group_rights(group.id)  # from the Creators user group, kept
    assert signed_in_as(app, maya).get(f"/g/{group.id}/").status_code == 200
    assert verbs("member.reactivated")[-1].before["deactivated_at"]
    # Reactivating someone active is refused with a message.
    response = client.post(member_url(maya, "reactivate"), headers=HTMX)
    assert response.status_code == 422 and "is not deactivated" in response.get_data(as_text=True)


def test_reactivating_past_the_plans_seats_is_refused(client, auth, agency):
    """On Starter (2 seats), a manager deactivated while a new one took the seat cannot come back."""
    account = agency["account"]
    account.plan_code = "starter"
    db.session.commit()
    auth.login(agency["owner"])
    assert client.post(member_url(agency["sam"], "deactivate")).status_code == 303
    factories.make_member(account, Role.MANAGER, name="New Hire")
    db.session.commit()
    response = client.post(member_url(agency["sam"], "reactivate"), headers=HTMX)
    assert response.status_code == 422
    assert "Your Starter plan includes 2 team seats." in response.get_data(as_text=True)
    assert membership(account, agency["sam"]).deactivated_at is not None
    # From the Team list, the refusal comes back there.
    response = client.post(member_url(agency["sam"], "reactivate"), data={"back": "team"})
    assert response.status_code == 303 and response.location.endswith("/settings/team")
    assert "Your Starter plan includes 2 team seats." in client.get("/settings/team").get_data(as_text=True)


# --- remove ----------------------------------------------------------------------------------------------


def test_removing_takes_everything_of_theirs_here_and_keeps_what_they_made(app, client, auth, agency):
    """Membership, rights, Users-tab entry, user group, duty, notifications here go in one go; the other
    agency keeps Sam; his posts stay, written by a former member."""
    account, sam, group, first = agency["account"], agency["sam"], agency["group"], agency["first"]
    membership(account, sam).rights = [MemberRight(name="team.invite")]
    db.session.add(Comment(post_id=first.id, author_id=sam.id, body="Swapped the photo."))
    item = factories.make_media(group)
    item.uploaded_by_id = sam.id
    for account_id in (account.id, agency["other"].id):
        db.session.add(Notification(user_id=sam.id, account_id=account_id, kind=NotificationKind.COMMENT_ADDED.value,
                                    message="A comment"))
    db.session.commit()
    posts_before = count(Post, Post.author_id == sam.id)
    auth.login(agency["owner"])

    response = client.post(member_url(sam, "remove"), headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith("/settings/team")

    assert membership(account, sam) is None
    assert membership(agency["other"], sam) is not None
    assert count(MemberRight, MemberRight.membership_id.not_in(select(Membership.id))) == 0
    assert count(GroupUser, GroupUser.user_id == sam.id, GroupUser.access_group_id == group.id) == 0
    assert count(GroupUser, GroupUser.user_id == sam.id) == 1  # his place in the other agency
    assert count(Notification, Notification.user_id == sam.id) == 1
    assert count(Post, Post.author_id == sam.id) == posts_before == 3
    event = verbs("member.removed")[-1]
    assert event.before["role"] == "manager" and event.before["rights"] == ["team.invite"]
    assert event.after["email"] == "sam@example.test"
    team = Html(client.get("/settings/team"))
    assert not team.within(team.by_role("table", re.compile("^Members of"))).has_text("Sam Okafor")

    post_page = Html(client.get(f"/g/{group.id}/posts/{first.id}"))
    assert post_page.one("[data-testid=post-author]").text() == "Written by former member"
    comment = post_page.by_text("Swapped the photo.", "p").parent
    assert post_page.within(comment).one(".comment-meta strong").text() == "former member"
    assert not post_page.has_text("Sam Okafor")
    comments = Html(client.get(f"/g/{group.id}/posts/{first.id}/comments"))
    assert comments.has_text("former member") and not comments.has_text("Sam Okafor")
    media_page = Html(client.get(f"/g/{group.id}/media/{item.id}"))
    assert media_page.one("[data-testid=uploader]").text() == "former member"


def test_removing_an_approver_ends_her_duty_and_link(app, client, auth, agency):
    maya = agency["maya"]
    _, token = scenarios.issue(agency)
    auth.login(agency["admin"])
    assert client.post(member_url(maya, "remove")).status_code == 303
    assert count(ProfileApprover, ProfileApprover.user_id == maya.id) == 0
    assert count(UserGroupMember, UserGroupMember.user_id == maya.id) == 0
    assert app.test_client().get(f"/review/{token}").status_code == 410
    assert verbs("profile.approver_removed")[-1].before == {"approver_id": maya.id}


def test_history_names_a_removed_member_a_former_member(client, auth, agency):
    """The post's history, decisions and comments ask who is still a member in one query, whatever their number."""
    account, sam, jonah, first = agency["account"], agency["sam"], agency["jonah"], agency["first"]
    auth.login(agency["owner"])
    db.session.add(AuditEvent(account_id=account.id, actor_id=sam.id, verb="post.created", object_type="post",
                              object_id=first.id))
    db.session.add(Comment(post_id=first.id, author_id=jonah.id, body="Looks good"))
    db.session.commit()
    assert client.post(member_url(sam, "remove")).status_code == 303
    page = Html(client.get(f"/g/{agency['group'].id}/posts/{first.id}/history"))
    history = page.within(page.by_role("list", "Status history"))
    assert history.has_text("Created by former member") and not history.has_text("Sam Okafor")
    names = rules.shown_names(account.id, [sam.id, jonah.id, None])
    assert names[jonah.id] == "Jonah Reed" and names[sam.id] == names[None] == "former member"


def test_shown_names_is_one_query_whatever_the_number(app, agency, count_queries):
    people = [factories.make_member(agency["account"], Role.CLIENT).id for _ in range(30)]
    account_id, sam_id = agency["account"].id, agency["sam"].id
    db.session.commit()
    with count_queries() as counter:
        names = rules.shown_names(account_id, people + [sam_id])
    assert counter.count == 1 and len(names) == 31


# --- who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["deactivate", "remove"])
@pytest.mark.parametrize("who, target, status, message", [
    ("owner", "owner", 422, "Nobody can deactivate or remove themselves."),
    ("admin", "owner", 422, "The owner cannot be deactivated or removed"),
    ("admin", "admin", 422, "Nobody can deactivate or remove themselves."),
    ("admin", "admin2", 422, "Only the owner can deactivate or remove an admin."),
    ("sam", "maya", 403, None),
    ("maya", "jonah", 403, None),
    ("other_owner", "maya", 404, None),
])
def test_who_may_not_deactivate_or_remove(client, auth, agency, action, who, target, status, message):
    """The owner and oneself never; an admin not another admin; managers and clients not at all; another
    agency does not find the member. Nothing changes."""
    agency["admin2"] = factories.make_member(agency["account"], Role.ADMIN, name="Ari Admin")
    db.session.commit()
    before = db.session.execute(select(Membership.id, Membership.deactivated_at).order_by(Membership.id)).all()
    auth.login(agency[who])
    response = client.post(member_url(agency[target], action), headers=HTMX)
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)
    after = db.session.execute(select(Membership.id, Membership.deactivated_at).order_by(Membership.id)
                               .execution_options(populate_existing=True)).all()
    assert after == before


def test_an_admin_may_not_take_away_someone_who_enters_groups_beyond_them(client, auth, agency):
    """A member on the Users tab of a group the admin cannot enter is the owner's to deactivate, even once
    deactivated (their entries still count)."""
    hidden = factories.make_group(agency["account"], "Owner Only")
    factories.add_to_group(agency["jonah"], hidden)
    db.session.commit()
    auth.login(agency["admin"])
    page = Html(client.get(member_url(agency["jonah"])))
    assert not page.all_by_role("button", "Deactivate…")
    assert page.has_text("so only the owner can deactivate or remove them")
    assert client.post(member_url(agency["jonah"], "deactivate")).status_code == 403
    membership(agency["account"], agency["jonah"]).deactivated_at = membership(
        agency["account"], agency["jonah"]).created_at
    db.session.commit()
    assert client.post(member_url(agency["jonah"], "reactivate")).status_code == 403
    assert client.post(member_url(agency["jonah"], "remove")).status_code == 403
    assert membership(agency["account"], agency["jonah"]) is not None


# --- the one Save -----------------------------------------------------------------------------------------


def save(client, user, headers=None, **fields):
    """Send the member page's form as the page shows it for a client: role, grants, approver and end date."""
    return client.post(member_url(user), headers=headers or {},
                       data={"sections": ["role", "rights", "approver", "expiry"], **fields})


def test_one_save_applies_every_section(client, auth, agency):
    account, jonah = agency["account"], agency["jonah"]
    auth.login(agency["owner"])
    page = Html(client.get(member_url(jonah)))
    assert len(page.all_by_role("button", "Save changes")) == 1
    for control in ("Role of Jonah Reed", "Analytics", "Approver for TikTok @jonahreed", "Last day of access"):
        found = page.by_label(control) if control != "Role of Jonah Reed" else page.by_role("radio", "Client")
        assert page.form_of(found).attributes["id"] == "member-form", control
    response = save(client, jonah, role="client", grants=["analytics"],
                    profiles=[agency["instagram"].id, agency["jonahs"].social_profile_id], expires_on="2031-03-31")
    assert response.status_code == 303
    assert {right.name for right in membership(account, jonah).rights} == {"analytics.view"}
    assert membership(account, jonah).expires_at is not None
    assert count(ProfileApprover, ProfileApprover.user_id == jonah.id) == 2
    message = client.get(member_url(jonah)).get_data(as_text=True)
    assert "Jonah Reed&#39;s rights were saved." in message and "access ends after" in message


def test_a_refused_section_saves_nothing_and_keeps_what_was_typed(client, auth, agency):
    """Grants fine, end date bad: 422 naming the end date, no right given, the ticks still on the page."""
    account, jonah = agency["account"], agency["jonah"]
    account.plan_code = "starter"  # Sam and the owner take both seats
    db.session.commit()
    auth.login(agency["owner"])
    response = save(client, jonah, HTMX, role="client", grants=["analytics"], expires_on="someday")
    assert response.status_code == 422
    page = Html(response)
    assert page.has_text("Enter the last day as a date")
    assert "checked" in page.by_label("Analytics").attributes
    assert membership(account, jonah).rights == []
    # A refusal of the rules (Publish takes a seat the plan lacks) rolls back the sections before it too.
    response = save(client, jonah, HTMX, role="client", grants=["publish"], expires_on="2031-03-31")
    assert response.status_code == 422 and "Your Starter plan includes 2 team seats." in response.get_data(as_text=True)
    assert membership(account, jonah).expires_at is None and membership(account, jonah).rights == []
    assert "checked" in Html(response).by_label("Publish").attributes


def test_saving_nothing_new_records_nothing(client, auth, agency):
    auth.login(agency["owner"])
    events = count(AuditEvent)
    response = save(client, agency["maya"], role="client", profiles=[agency["instagram"].id], expires_on="")
    assert response.status_code == 303
    assert count(AuditEvent) == events


def test_deactivated_members_approvals_say_so(client, auth, agency):
    auth.login(agency["owner"])
    client.post(member_url(agency["maya"], "deactivate"))
    page = Html(client.get(member_url(agency["maya"])))
    assert page.has_text("A deactivated member approves nothing.")
    assert page.by_role("button", "Remove from the agency…")


def test_a_pending_post_of_a_removed_author_still_waits(client, auth, agency):
    """Removing the author takes nothing from the approver: the post waits for her decision as before."""
    auth.login(agency["owner"])
    assert client.post(member_url(agency["sam"], "remove")).status_code == 303
    assert db.session.get(Post, agency["first"].id).status == PostStatus.PENDING_APPROVAL.value
