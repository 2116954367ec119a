"""Notifications: who is told of what, what they may still see, the bell, the list, delivery choices
and the daily digest."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from webapp import access_groups, invitations, notifications, publishing, user_groups
from webapp import posts as rules
from webapp.extensions import db
from webapp.models import (
    Delivery,
    GroupUser,
    UserGroupMember,
    Invitation,
    Mail,
    Membership,
    Network,
    Notification,
    NotificationKind,
    NotificationPreference,
    Post,
    PostStatus,
    ProfileApprover,
    Role,
    User,
    utcnow,
)

from . import factories
from .html import HTMX, Html


@pytest.fixture
def agency(app):
    """Northstar: Sam (manager) writes posts for Maya's group; Maya (client) approves them."""
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    instagram = factories.make_profile(factories.make_social_set(maya, "Maya Main"), Network.INSTAGRAM, handle="maya")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya], name="Sam Manager",
                                    email="sam@example.test")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez",
                                    email="maya@example.test")
    admin = factories.make_member(account, Role.ADMIN, groups=[maya, leo], name="Alex Admin",
                                  email="alex@example.test")
    instagram.needs_approval = True
    db.session.add(ProfileApprover(social_profile_id=instagram.id, user_id=creator.id))
    post = factories.make_post(instagram, status=PostStatus.PENDING_APPROVAL)
    post.author_id = manager.id
    db.session.commit()
    return dict(account=account, maya=maya, leo=leo, instagram=instagram, manager=manager, creator=creator,
                admin=admin, post=post, owner=factories.owner_of(account))


def notes_of(user: User, kind: NotificationKind | None = None) -> list[Notification]:
    statement = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind is not None:
        statement = statement.where(Notification.kind == kind.value)
    return list(db.session.scalars(statement))


def mails_to(address: str) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.to_address == address).order_by(Mail.id)))


def choose(user: User, kind: NotificationKind, delivery: Delivery) -> None:
    db.session.add(NotificationPreference(user_id=user.id, kind=kind.value, delivery=delivery.value))
    db.session.commit()


def bell(client) -> str:
    """The bell's accessible name on a page of the app."""
    page = Html(client.get("/settings/account"))
    return page.name_of(page.one("[data-testid=bell]"))


# --- who is told ------------------------------------------------------------------------------------


def test_a_comment_tells_the_author_once_not_the_commenter(agency, auth, client):
    post = agency["post"]
    auth.login(agency["creator"])
    client.post(f"/g/{agency['maya'].id}/posts/{post.id}/comments", data={"body": "Love it!"}, headers=HTMX)
    [note] = notes_of(agency["manager"], NotificationKind.COMMENT_ADDED)
    assert note.message == "Maya Lopez commented on your Instagram post"
    assert note.actor_id == agency["creator"].id and note.post_id == post.id and note.mailed_at is not None
    assert notes_of(agency["creator"]) == []
    [mail] = mails_to("sam@example.test")  # one email for one comment
    assert mail.subject == note.message and "Love it!" in mail.text_body
    assert f"/notifications/{note.id}/open" in mail.text_body
    assert mail.sender_name == "Northstar via Roster"
    # The author commenting on their own post is told nothing.
    auth.logout()
    auth.login(agency["manager"])
    client.post(f"/g/{agency['maya'].id}/posts/{post.id}/comments", data={"body": "Thanks"})
    assert len(notes_of(agency["manager"])) == 1


def test_a_decision_tells_the_author(agency):
    rules.decide(agency["post"], agency["creator"], "reject", "Wrong photo")
    db.session.commit()
    [note] = notes_of(agency["manager"], NotificationKind.DECISION_MADE)
    assert note.message == "Maya Lopez rejected your Instagram post"
    [mail] = mails_to("sam@example.test")
    assert "Wrong photo" in mail.text_body and "back with you" in mail.text_body
    assert notes_of(agency["creator"]) == []


def test_an_approval_request_is_in_the_app_only(agency):
    post = factories.make_post(agency["instagram"], status=PostStatus.DRAFT)
    rules.update_post(post, rules.Draft([agency["instagram"]], "New caption", [factories.make_photo(agency["maya"])],
                                        post.scheduled_at),
                      agency["manager"], schedule=True)
    db.session.commit()
    [note] = notes_of(agency["creator"], NotificationKind.APPROVAL_REQUESTED)
    assert note.message == "Sam Manager sent you an Instagram post for @maya to approve"
    assert note.post_id == post.id
    # The approver's one email is the review request, not a second one from notifications.
    [mail] = mails_to("maya@example.test")
    assert mail.subject.endswith("waiting for your approval")
    assert notes_of(agency["manager"]) == []  # the actor


def test_a_failed_post_tells_its_author_and_the_groups_managers_once_per_streak(agency, app):
    post = agency["post"]
    other_manager = factories.make_member(agency["account"], Role.MANAGER, groups=[agency["maya"]],
                                          email="kim@example.test")
    outsider = factories.make_member(agency["account"], Role.MANAGER, groups=[agency["leo"]])
    post.status = PostStatus.APPROVED.value
    post.scheduled_at = utcnow() - timedelta(minutes=1)
    agency["instagram"].needs_reconnect = True
    db.session.commit()
    app.config["PUBLISH_RETRY_SECONDS"] = 0
    first = publishing.publish_due(now=utcnow())
    second = publishing.publish_due(now=utcnow() + timedelta(seconds=5))
    assert first.failed == 1 and second.failed == 1
    for person in (agency["manager"], other_manager):
        [note] = notes_of(person, NotificationKind.PUBLISH_FAILED)
        assert "could not be published: Reconnect @maya" in note.message and note.actor_id is None
    assert notes_of(outsider) == [] and notes_of(agency["creator"]) == []
    # Scheduled again, it fails again: a new streak, told again.
    rules.reschedule(db.session.get(Post, post.id), utcnow() + timedelta(minutes=1), agency["manager"])
    db.session.commit()
    publishing.publish_due(now=utcnow() + timedelta(minutes=2))
    assert len(notes_of(agency["manager"], NotificationKind.PUBLISH_FAILED)) == 2


def test_access_given_on_the_users_tab_by_a_user_group_and_by_an_invitation(agency):
    account, leo, admin = agency["account"], agency["leo"], agency["admin"]
    newcomer = factories.make_member(account, Role.CLIENT, name="Nia New", email="nia@example.test")
    access_groups.add_user(leo, newcomer.id, admin)
    db.session.commit()
    [note] = notes_of(newcomer, NotificationKind.ACCESS_GRANTED)
    assert note.message == "Alex Admin gave you access to “Leo Park”." and note.access_group_id == leo.id
    assert mails_to("nia@example.test")[-1].subject == note.message
    # Adding oneself tells nobody.
    access_groups.add_user(leo, agency["manager"].id, agency["manager"])
    assert notes_of(agency["manager"]) == []

    team = factories.make_user_group(account, "Editors", grants=[agency["maya"]])
    user_groups.add_member(account, team, newcomer.id, None, agency["owner"])
    db.session.commit()
    notes = notes_of(newcomer, NotificationKind.ACCESS_GRANTED)
    assert len(notes) == 2 and "user group “Editors”, which opens “Maya Lopez”" in notes[1].message

    # The user group is granted one more access group: its members are told it opens to them now.
    user_groups.set_grants(team, [agency["maya"].id, leo.id], [agency["maya"].id, leo.id], agency["owner"])
    db.session.commit()
    notes = notes_of(newcomer, NotificationKind.ACCESS_GRANTED)
    assert len(notes) == 3 and notes[2].access_group_id == leo.id
    assert "gave the user group “Editors” access to “Leo Park”" in notes[2].message

    from webapp.crypto import new_token, token_hash
    invited = factories.make_user(email="ivy@example.test", name="Ivy")
    invitation = Invitation(account_id=account.id, email="ivy@example.test", role=Role.CLIENT.value,
                            token_hash=token_hash(new_token()), expires_at=utcnow() + timedelta(days=3),
                            invited_by_id=admin.id, access_groups=[leo])
    db.session.add(invitation)
    db.session.commit()
    invitations.accept_as_member(invitation, invited)
    db.session.commit()
    [note] = notes_of(invited, NotificationKind.ACCESS_GRANTED)
    assert note.message == "You joined Northstar: you can work in “Leo Park”." and note.actor_id == admin.id
    assert mails_to("ivy@example.test") == []  # they have just done it themselves


def test_access_ending_within_a_week_is_told_once_per_path(agency):
    account, creator = agency["account"], agency["creator"]
    soon = utcnow() + timedelta(days=3)
    entry = db.session.get(GroupUser, (agency["maya"].id, creator.id))
    entry.expires_at = soon
    team = factories.make_user_group(account, "Editors", members=[creator])
    member = db.session.get(UserGroupMember, (team.id, creator.id))
    member.expires_at = soon
    later = factories.make_member(account, Role.CLIENT, groups=[agency["maya"]])
    db.session.get(GroupUser, (agency["maya"].id, later.id)).expires_at = utcnow() + timedelta(days=20)
    leaving = factories.make_member(account, Role.MANAGER, groups=[agency["leo"]], email="lee@example.test")
    db.session.scalar(select(Membership).where(Membership.user_id == leaving.id)).expires_at = soon
    db.session.commit()
    assert notifications.notify_access_ending() == 3
    assert notifications.notify_access_ending() == 0  # run twice: told once
    [note] = notes_of(leaving)
    assert note.message.startswith("Your membership of Northstar ends after ") and note.access_group_id is None
    assert mails_to("lee@example.test")[-1].subject == note.message
    messages = sorted(note.message for note in notes_of(creator, NotificationKind.ACCESS_ENDING))
    assert messages[0].startswith("Your access to “Maya Lopez” ends after ")
    assert messages[1].startswith("Your place in the user group “Editors” ends after ")
    assert notes_of(later) == []


# --- what the person may still see ------------------------------------------------------------------


def test_losing_access_hides_the_notification_from_list_count_and_opening(agency, auth, client):
    post = agency["post"]
    rules.add_comment(post, agency["creator"], "Love it!")
    db.session.commit()
    [note] = notes_of(agency["manager"])
    auth.login(agency["manager"])
    assert bell(client) == "Notifications, 1 unread"
    assert Html(client.get("/notifications")).has_text("Maya Lopez commented on your Instagram post")

    access_groups.remove_user(agency["maya"], agency["manager"].id, agency["admin"])
    db.session.commit()
    assert bell(client) == "Notifications"
    page = Html(client.get("/notifications"))
    assert not page.has_text("commented on your") and page.has_text("No notifications yet")
    opened = client.get(f"/notifications/{note.id}/open")
    assert opened.status_code == 200
    text = Html(opened).text
    assert "This post is no longer available to you" in text and "Hello world" not in text
    assert f"/posts/{post.id}" not in opened.get_data(as_text=True)


def test_opening_marks_read_and_goes_to_the_post_and_another_persons_is_not_found(agency, auth, client):
    rules.add_comment(agency["post"], agency["creator"], "Love it!")
    db.session.commit()
    [note] = notes_of(agency["manager"])
    auth.login(agency["admin"])
    assert client.get(f"/notifications/{note.id}/open").status_code == 404
    assert client.get("/notifications/999999/open").status_code == 404
    auth.logout()
    auth.login(agency["manager"])
    opened = client.get(f"/notifications/{note.id}/open")
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith(f"/g/{agency['maya'].id}/posts/{agency['post'].id}")
    db.session.refresh(note)
    assert note.read_at is not None and bell(client) == "Notifications"


def test_mark_all_as_read(agency, auth, client):
    for body in ("One", "Two", "Three"):
        rules.add_comment(agency["post"], agency["creator"], body)
    db.session.commit()
    auth.login(agency["manager"])
    assert bell(client) == "Notifications, 3 unread"
    page = Html(client.get("/notifications"))
    assert len(page.css(".notification.unread")) == 3 and page.by_role("button", "Mark all as read")
    response = client.post("/notifications/read")
    assert response.status_code == 303
    assert bell(client) == "Notifications"
    assert all(note.read_at for note in notes_of(agency["manager"]))
    assert not Html(client.get("/notifications")).css(".notification.unread")


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_marking_all_read_and_saving_choices_need_the_csrf_token(agency, client):
    rules.add_comment(agency["post"], agency["creator"], "Hi")
    db.session.commit()
    page = Html(client.get("/login"))
    token = page.hidden_value("csrf_token")
    client.post("/login", data={"email": "sam@example.test", "password": factories.PASSWORD, "csrf_token": token})
    assert client.post("/notifications/read").status_code == 400
    assert client.post("/settings/notifications", data={"comment_added": "off"}).status_code == 400
    assert notes_of(agency["manager"])[0].read_at is None
    token = Html(client.get("/notifications")).hidden_value("csrf_token")
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    assert notes_of(agency["manager"])[0].read_at is not None


def test_the_list_pages_by_key_newest_first(agency, auth, client):
    start = utcnow() - timedelta(hours=1)
    for n in range(notifications.PAGE_SIZE + 3):
        db.session.add(Notification(user_id=agency["manager"].id, account_id=agency["account"].id,
                                    kind=NotificationKind.COMMENT_ADDED.value, post_id=agency["post"].id,
                                    access_group_id=agency["maya"].id, message=f"Note {n}",
                                    created_at=start + timedelta(minutes=n)))
    db.session.commit()
    auth.login(agency["manager"])
    first = Html(client.get("/notifications"))
    items = first.css(".notification a")
    assert items[0].text().endswith(f"Note {notifications.PAGE_SIZE + 2}") and len(items) == notifications.PAGE_SIZE
    more = first.by_role("link", "Earlier notifications").attributes["href"]
    rest = client.get(more, headers=HTMX)
    assert "<html" not in rest.get_data(as_text=True)
    assert [node.text().strip() for node in Html(rest).css(".notification a")][-1].endswith("Note 0")


# --- delivery choices and the digest ----------------------------------------------------------------


def test_choices_off_and_digest_send_nothing_now(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get("/settings/notifications"))
    assert page.by_role("heading", "Notifications") and page.has_text("In the app only: the approval email")
    assert page.checked("comment_added") == ["now"]
    response = client.post("/settings/notifications", data={
        "comment_added": "digest", "decision_made": "off", "publish_failed": "now", "access_granted": "now",
        "access_ending": "now"})
    assert response.status_code == 303
    assert notifications.preferences(agency["manager"])["comment_added"] == "digest"
    assert Html(client.get("/settings/notifications")).checked("comment_added") == ["digest"]
    bad = client.post("/settings/notifications", data={"comment_added": "loud"})
    assert bad.status_code == 422
    rules.add_comment(agency["post"], agency["creator"], "Digest me")
    rules.decide(agency["post"], agency["creator"], "approve")
    db.session.commit()
    assert mails_to("sam@example.test") == []
    assert len(notes_of(agency["manager"])) == 2 and all(n.mailed_at is None for n in notes_of(agency["manager"]))


@pytest.mark.parametrize("zone, utc_hour_of_eight", [("America/New_York", 13), ("Asia/Tokyo", 23)])
def test_the_digest_goes_at_eight_local_once(agency, zone, utc_hour_of_eight):
    manager = agency["manager"]
    manager.time_zone = zone
    choose(manager, NotificationKind.COMMENT_ADDED, Delivery.DIGEST)
    # 08:00 in New York is 13:00 UTC (EST in December); in Tokyo, 23:00 UTC the day before.
    eight = datetime(2026, 12, 8, utc_hour_of_eight, 0, tzinfo=timezone.utc)
    rules.add_comment(agency["post"], agency["creator"], "Digest me")
    db.session.execute(update(Notification).values(created_at=eight - timedelta(hours=3)))
    db.session.commit()
    assert notifications.send_digests(now=eight - timedelta(minutes=15)) == 0
    assert mails_to("sam@example.test") == []
    assert notifications.send_digests(now=eight) == 1
    assert notifications.send_digests(now=eight + timedelta(minutes=15)) == 0  # run again: not twice
    [mail] = mails_to("sam@example.test")
    assert mail.subject == "Your daily summary: 1 notification"
    assert "Maya Lopez commented on your Instagram post" in mail.text_body
    assert re.search(r"\b(EST|JST)\b", mail.text_body)  # the recipient's zone
    db.session.refresh(manager)
    assert manager.digest_sent_on == eight.astimezone(ZoneInfo(zone)).date()
    assert all(n.mailed_at is not None for n in notes_of(manager))
    # The next day, with nothing new, no email; the day is still marked.
    next_day = eight + timedelta(days=1)
    assert notifications.send_digests(now=next_day) == 0
    db.session.refresh(manager)
    assert manager.digest_sent_on > date(2026, 12, 8) and len(mails_to("sam@example.test")) == 1


def test_the_digest_leaves_out_what_the_person_no_longer_sees(agency):
    manager = agency["manager"]
    choose(manager, NotificationKind.COMMENT_ADDED, Delivery.DIGEST)
    rules.add_comment(agency["post"], agency["creator"], "Secret plan")
    access_groups.remove_user(agency["maya"], manager.id, agency["admin"])
    db.session.commit()
    now = datetime.now(timezone.utc)
    later = now + timedelta(days=1)
    assert notifications.send_digests(now=later.replace(hour=12)) == 0
    assert mails_to("sam@example.test") == []


def test_a_claimed_digest_is_not_sent_by_a_second_worker(agency):
    manager = agency["manager"]
    choose(manager, NotificationKind.COMMENT_ADDED, Delivery.DIGEST)
    rules.add_comment(agency["post"], agency["creator"], "Hello")
    db.session.commit()
    now = datetime.now(timezone.utc).replace(hour=12) + timedelta(days=1)
    # Another worker claimed today's digest a moment ago.
    db.session.execute(update(User).where(User.id == manager.id).values(digest_sent_on=now.date()))
    db.session.commit()
    assert notifications.send_digests(now=now) == 0 and mails_to("sam@example.test") == []


def test_off_sends_no_email_ever(agency):
    manager = agency["manager"]
    choose(manager, NotificationKind.COMMENT_ADDED, Delivery.OFF)
    rules.add_comment(agency["post"], agency["creator"], "Quiet")
    db.session.commit()
    assert notifications.send_digests(now=datetime.now(timezone.utc).replace(hour=12) + timedelta(days=1)) == 0
    assert mails_to("sam@example.test") == [] and len(notes_of(manager)) == 1


def test_the_bell_counts_up_to_99_then_says_more(agency, auth, client):
    db.session.add_all(Notification(user_id=agency["manager"].id, account_id=agency["account"].id,
                                    kind=NotificationKind.COMMENT_ADDED.value, post_id=agency["post"].id,
                                    access_group_id=agency["maya"].id, message=f"Note {n}") for n in range(101))
    db.session.commit()
    auth.login(agency["manager"])
    page = Html(client.get("/settings/account"))
    bell_link = page.one("[data-testid=bell]")
    assert page.name_of(bell_link) == "Notifications, more than 99 unread" and bell_link.text().strip() == "99+"


def test_access_notifications_open_the_group_while_it_may_be_entered(agency, auth, client):
    newcomer = factories.make_member(agency["account"], Role.CLIENT, name="Nia New", email="nia@example.test")
    access_groups.add_user(agency["leo"], newcomer.id, agency["admin"])
    db.session.commit()
    [note] = notes_of(newcomer)
    auth.login(newcomer)
    opened = client.get(f"/notifications/{note.id}/open")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/g/{agency['leo'].id}/")
    access_groups.remove_user(agency["leo"], newcomer.id, agency["admin"])
    db.session.commit()
    gone = client.get(f"/notifications/{note.id}/open")
    assert gone.status_code == 200 and "This access group is no longer available to you" in Html(gone).text
