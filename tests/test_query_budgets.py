"""Each GET page runs a fixed number of SQL queries, whatever the amount of data behind it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from webapp.extensions import db
from webapp.media import adjust_media_counts
from webapp.models import (
    ApprovalDecision,
    AuditEvent,
    Campaign,
    CampaignProfile,
    Comment,
    Decision,
    MediaItem,
    Membership,
    Network,
    Notification,
    NotificationKind,
    Post,
    PostMedia,
    PostStatus,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    Role,
    SocialProfile,
)
from webapp.paging import encode_key
from webapp.posts import HISTORY_LABELS

from . import factories
from .html import HTMX


def grow(group, social_set, items: int) -> None:
    """Give the group `items` media items, posts, campaigns and extra groups, in bulk, and its oldest
    post `items` comments, decisions, review links and history events."""
    profiles = [factories.make_profile(social_set, network) for network in list(Network)[:3]]
    media_ids = db.session.scalars(insert(MediaItem).returning(MediaItem.id), [
        {"access_group_id": group.id, "name": f"m{n}.png", "kind": "image", "content_type": "image/png",
         "byte_size": 10, "storage_key": f"grow-{uuid.uuid4().hex}.png",
         "alt_text": f"Picture {n}" if n % 2 else None} for n in range(items)
    ]).all()
    adjust_media_counts({group.id: items})
    soon = datetime.now(timezone.utc) + timedelta(days=1)
    # Every fifth post is out, with its address on the network: the cards link to it ("View on ...").
    post_ids = db.session.scalars(insert(Post).returning(Post.id), [
        {"social_profile_id": profiles[n % 3].id, "access_group_id": group.id, "caption": f"post {n}",
         "status": PostStatus.PUBLISHED.value if n % 5 == 4 else PostStatus.SCHEDULED.value,
         "external_url": f"https://social.example/post/{n}" if n % 5 == 4 else None,
         "scheduled_at": soon + timedelta(minutes=n)}
        for n in range(items)
    ]).all()
    # Every item is used by a post, the first one by all of them: where-used grows with the data.
    db.session.execute(insert(PostMedia), [
        {"post_id": post_id, "media_item_id": media_id} for post_id, media_id in zip(post_ids, media_ids)
    ] + [{"post_id": post_id, "media_item_id": first_item(group)} for post_id in post_ids[1:]])
    # Campaigns of every status, each linked to two of the profiles.
    campaign_ids = db.session.scalars(insert(Campaign).returning(Campaign.id), [
        {"access_group_id": group.id, "name": f"Campaign {uuid.uuid4().hex[:8]}",
         "starts_on": None if n % 4 == 0 else date.today() + timedelta(days=n % 60 - 30),
         "ends_on": None if n % 4 == 0 else date.today() + timedelta(days=n % 60 - 20)} for n in range(items)
    ]).all()
    db.session.execute(insert(CampaignProfile), [
        {"campaign_id": campaign_id, "social_profile_id": profiles[n % 3 - shift].id}
        for n, campaign_id in enumerate(campaign_ids) for shift in (0, 1)
    ])
    for n in range(items // 100):
        grown = factories.make_group(group.account, f"Grown {group.id}-{n}")
        factories.make_social_set(grown)
        factories.add_to_group(factories.make_member(group.account, Role.CLIENT), group)
    # The measured post carries four more items of each batch: 5, then 9 (of the 10 allowed).
    grow_post_activity(group, media_ids[1:5], items)
    grow_notifications(group, post_ids)
    db.session.commit()


# Notifications each person gets about the grown posts: past the bell's cap (99+) and a page of the list,
# and few enough that growing them stays quick.
NOTIFIED_POSTS = 150


def grow_notifications(group, post_ids: list[int]) -> None:
    """Every member of the account is told of the first NOTIFIED_POSTS of these posts, half of them still unread."""
    people = db.session.scalars(select(Membership.user_id).where(Membership.account_id == group.account_id)).all()
    now = datetime.now(timezone.utc)
    db.session.execute(insert(Notification), [
        {"user_id": user_id, "account_id": group.account_id, "kind": NotificationKind.COMMENT_ADDED.value,
         "access_group_id": group.id, "post_id": post_id, "message": f"Comment on post {post_id}",
         "created_at": now - timedelta(seconds=n), "read_at": now if n % 2 else None}
        for user_id in people for n, post_id in enumerate(post_ids[:NOTIFIED_POSTS])
    ])


def grow_post_activity(group, media_ids: list[int], items: int) -> None:
    """The group's oldest post waits for approval, carries `media_ids` too, and gets `items` comments,
    decisions, review links and history events; its profile's approvers are the account's clients."""
    post_id = first_post(group)
    profile_id = db.session.scalar(select(Post.social_profile_id).where(Post.id == post_id))
    db.session.execute(update(Post).where(Post.id == post_id).values(status=PostStatus.PENDING_APPROVAL.value))
    db.session.execute(update(SocialProfile).where(SocialProfile.id == profile_id).values(needs_approval=True))
    db.session.execute(insert(PostMedia), [{"post_id": post_id, "media_item_id": media_id} for media_id in media_ids])
    people = db.session.scalars(
        select(Membership.user_id).where(Membership.account_id == group.account_id).order_by(Membership.user_id)
    ).all()
    clients = db.session.scalars(
        select(Membership.user_id).where(Membership.account_id == group.account_id,
                                         Membership.role == Role.CLIENT.value).order_by(Membership.user_id)
    ).all()
    approvers = set(db.session.scalars(
        select(ProfileApprover.user_id).where(ProfileApprover.social_profile_id == profile_id)))
    new_approvers = [user_id for user_id in clients if user_id not in approvers]
    if new_approvers:
        db.session.execute(insert(ProfileApprover), [
            {"social_profile_id": profile_id, "user_id": user_id} for user_id in new_approvers
        ])
    # Every few rows a deleted person (SET NULL): the page names them "Someone".
    by_whom = [None, *people]
    reviewers = [None, *clients]
    now = datetime.now(timezone.utc)
    db.session.execute(insert(Comment), [
        {"post_id": post_id, "author_id": by_whom[n % len(by_whom)], "body": f"comment {n}",
         "created_at": now - timedelta(minutes=items - n)} for n in range(items)
    ])
    decisions = list(Decision)
    link_ids = db.session.scalars(insert(ReviewLink).returning(ReviewLink.id), [
        {"reviewer_id": clients[n % len(clients)], "token_hash": uuid.uuid4().hex,
         "expires_at": now + timedelta(days=n % 3 - 1), "revoked_at": now if n % 5 == 0 else None}
        for n in range(items)
    ]).all()
    db.session.execute(insert(ReviewLinkPost), [
        {"review_link_id": link_id, "post_id": post_id} for link_id in link_ids
    ])
    db.session.execute(insert(ApprovalDecision), [
        {"post_id": post_id, "reviewer_id": reviewers[n % len(reviewers)],
         "review_link_id": link_ids[n] if n % 2 else None, "decision": decisions[n % len(decisions)].value,
         "note": f"note {n}" if n % 3 else "", "created_at": now - timedelta(minutes=items - n)}
        for n in range(items)
    ])
    verbs = [*HISTORY_LABELS, "post.unlabelled"]
    db.session.execute(insert(AuditEvent), [
        {"account_id": group.account_id, "actor_id": by_whom[n % len(by_whom)], "verb": verbs[n % len(verbs)],
         "object_type": "post", "object_id": post_id, "access_group_id": group.id, "after": {"n": n},
         "created_at": now - timedelta(minutes=items - n)} for n in range(items)
    ])


def first_item(group) -> int:
    """The group's oldest media item, the one the item page shows."""
    return db.session.scalar(
        select(MediaItem.id).where(MediaItem.access_group_id == group.id).order_by(MediaItem.id).limit(1)
    )


def first_post(group) -> int:
    """The group's oldest post, the one the post pages show."""
    return db.session.scalar(
        select(Post.id).where(Post.access_group_id == group.id).order_by(Post.id).limit(1)
    )


def attached(post_id: int) -> str:
    """The post's attachments as the composer's media picker sends them: "media=..&media=.."."""
    media_ids = db.session.scalars(
        select(PostMedia.media_item_id).where(PostMedia.post_id == post_id).order_by(PostMedia.media_item_id))
    return "&".join(f"media={media_id}" for media_id in media_ids)


def first_campaign(group) -> int:
    """The group's oldest campaign, the one the edit page shows."""
    return db.session.scalar(
        select(Campaign.id).where(Campaign.access_group_id == group.id).order_by(Campaign.id).limit(1)
    )


# A cursor past everything: the "next page" query runs and returns the first page.
AFTER_ALL = "9999-01-01T00:00:00%2B00:00~999999999"
# The day the grown posts start on (tomorrow), and a list cursor before every post.
GROWN_DAY = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
BEFORE_ALL = "2000-01-01T00:00:00%2B00:00~1"
# Cursors before the first access group of the list and the first row of the access review.
GROUPS_START = encode_key([0, "", 0])
REVIEW_START = encode_key(["", 0, "", 0])
ACTIVITY_START = encode_key([2**31 - 1])  # a cursor above every event: the newest page, through the cursor's query

# An approver's sidebar counts what waits for them (one query; staff have none), and every sidebar counts
# unread notifications: the budgets of pages approvers visit include both.
# page: (path, headers, budget, who visits it); {item} is the group's oldest media item,
# {campaign} its oldest campaign, {post} its oldest post and {attached} that post's attachments as
# the media picker's query. The post pages render the whole page for htmx too (no block of theirs),
# but the pages of a post's lists send htmx only the rows of the next page.
PAGES = {
    # The owner's Overview also reads the getting-started checklist's progress (one query).
    "group home": ("/g/{group}/", {}, 9, ("owner", "manager")),
    "group home fragment": ("/g/{group}/", HTMX, 9, ("owner", "manager")),
    "switcher": ("/g/{group}/switcher", HTMX, 4, ("owner", "manager")),
    "settings": ("/settings/account", {}, 5, ("owner", "manager")),
    "settings fragment": ("/settings/account", HTMX, 4, ("owner", "manager")),
    "access groups": ("/settings/access-groups", {}, 10, ("owner", "admin")),
    "access group profiles tab": ("/settings/access-groups/{group}", {}, 11, ("owner", "admin")),
    "access group users tab": ("/settings/access-groups/{group}?tab=users", HTMX, 9, ("owner", "admin")),
    "add user candidates": ("/settings/access-groups/{group}/users/candidates?q=user", HTMX, 9, ("owner", "admin")),
    # "r" finds Creator and the grown groups, at every size.
    "access groups filtered": ("/settings/access-groups?q=r", HTMX, 9, ("owner", "admin")),
    "access groups next page": ("/settings/access-groups?cursor=" + GROUPS_START, HTMX, 9, ("owner", "admin")),
    "access review": ("/settings/access-review", {}, 12, ("owner", "admin")),
    "access review next page": ("/settings/access-review?cursor=" + REVIEW_START, HTMX, 9, ("owner", "admin")),
    "organize board": ("/settings/organize", {}, 8, ("owner", "admin")),
    "media library": ("/g/{group}/media", {}, 6, ("owner", "manager")),
    "media library filtered": ("/g/{group}/media?kind=image&q=m1", HTMX, 7, ("owner", "manager")),
    "media library next page": ("/g/{group}/media?cursor=" + AFTER_ALL, HTMX, 5, ("owner", "manager")),
    "media item": ("/g/{group}/media/{item}", {}, 7, ("owner", "manager")),
    "media move dialog": ("/g/{group}/media/move?item={item}", HTMX, 6, ("owner", "manager")),
    "media delete dialog": ("/g/{group}/media/delete?item={item}", HTMX, 6, ("owner", "manager")),
    "campaigns": ("/g/{group}/campaigns", {}, 7, ("owner", "manager")),
    "campaigns fragment": ("/g/{group}/campaigns", HTMX, 7, ("owner", "manager")),
    "campaign edit": ("/g/{group}/campaigns/{campaign}/edit", HTMX, 7, ("owner", "manager")),
    "calendar month": ("/g/{group}/calendar?view=month&date=" + GROWN_DAY, {}, 6, ("owner", "manager")),
    "calendar week": ("/g/{group}/calendar?view=week&date=" + GROWN_DAY, HTMX, 6, ("owner", "manager")),
    "calendar list": ("/g/{group}/calendar?view=list", {}, 6, ("owner", "manager")),
    "calendar list next page": ("/g/{group}/calendar?view=list&cursor=" + BEFORE_ALL, HTMX, 6, ("owner", "manager")),
    # The post and its lists ask once who of the people named there is still a member (a removed one
    # is shown as a former member): one query for the whole page.
    "post": ("/g/{group}/posts/{post}", {}, 13, ("owner", "manager", "approver")),
    "post comments": ("/g/{group}/posts/{post}/comments", {}, 9, ("owner", "manager", "approver")),
    "post comments next page": ("/g/{group}/posts/{post}/comments?cursor=" + AFTER_ALL, HTMX, 6,
                                ("owner", "manager", "approver")),
    "post decisions": ("/g/{group}/posts/{post}/decisions", {}, 9, ("owner", "manager", "approver")),
    "post decisions next page": ("/g/{group}/posts/{post}/decisions?cursor=" + AFTER_ALL, HTMX, 6,
                                 ("owner", "manager", "approver")),
    "post review links": ("/g/{group}/posts/{post}/review-links", {}, 9, ("owner", "manager")),
    "post review links next page": ("/g/{group}/posts/{post}/review-links?cursor=" + AFTER_ALL, HTMX, 7,
                                    ("owner", "manager")),
    "post history": ("/g/{group}/posts/{post}/history", {}, 9, ("owner", "manager", "approver")),
    "post history next page": ("/g/{group}/posts/{post}/history?cursor=" + AFTER_ALL, HTMX, 6,
                               ("owner", "manager", "approver")),
    "post edit": ("/g/{group}/posts/{post}/edit", {}, 8, ("owner", "manager")),
    "composer": ("/g/{group}/posts/new", {}, 5, ("owner", "manager")),
    "composer on a day": ("/g/{group}/posts/new?date=" + GROWN_DAY, {}, 5, ("owner", "manager")),
    "media picker": ("/g/{group}/posts/media-picker", HTMX, 5, ("owner", "manager")),
    "media picker search": ("/g/{group}/posts/media-picker?q=m1", HTMX, 5, ("owner", "manager")),
    "media picker with chosen": ("/g/{group}/posts/media-picker?q=m&{attached}", HTMX, 5, ("owner", "manager")),
    # The approver's waiting posts (the measured post waits for them) and the group's Overview with its panel.
    "waiting for approval": ("/g/{group}/waiting", {}, 9, ("approver", "manager")),
    "waiting for approval fragment": ("/g/{group}/waiting", HTMX, 9, ("approver", "manager")),
    # A client without media rights is told whom to ask for them (one query).
    "group home of an approver": ("/g/{group}/", {}, 13, ("approver",)),
    "forgot password": ("/password/forgot", {}, 2, ("owner",)),
    # Settings › Agency: the agency's settings and brand (owner and admins).
    "agency settings": ("/settings/agency", {}, 5, ("owner", "admin")),
    # Settings › Activity: the grown post's history events, a page at a time, named in one query per kind of name.
    "activity": ("/settings/activity", {}, 9, ("owner", "admin")),
    "activity filtered": ("/settings/activity?kind=posts&group={group}", HTMX, 8, ("owner", "admin")),
    "activity older page": ("/settings/activity?older=" + ACTIVITY_START, HTMX, 8, ("owner", "admin")),
    # The person's notifications (each visitor has one about every grown post) and their delivery choices.
    "notifications": ("/notifications", {}, 7, ("owner", "manager", "approver")),
    "notifications next page": ("/notifications?cursor=" + AFTER_ALL, HTMX, 5, ("owner", "manager", "approver")),
    "notification settings": ("/settings/notifications", {}, 6, ("owner", "manager")),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_query_count_does_not_grow_with_data(client, auth, count_queries, page):
    """Same query count at 10 and at 1,000 items, and within the page's budget."""
    account = factories.make_account()
    group = factories.make_group(account, "Creator")
    social_set = factories.make_social_set(group)
    visitors = {
        "owner": factories.owner_of(account),
        "manager": factories.make_member(account, Role.MANAGER, groups=[group]),
        "admin": factories.make_member(account, Role.ADMIN, groups=[group]),
        "approver": factories.make_member(account, Role.CLIENT, groups=[group]),  # of the measured post
    }
    db.session.commit()
    path, headers, budget, who = PAGES[page]

    def measure(user) -> int:
        post = first_post(group)
        url = path.format(group=group.id, item=first_item(group), campaign=first_campaign(group), post=post,
                          attached=attached(post))
        auth.login(user)
        client.get(url, headers=headers)  # the first visit remembers the group; later ones do not write
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        auth.logout()
        return counter.count

    grow(group, social_set, 10)
    small = {name: measure(visitors[name]) for name in who}
    grow(group, factories.make_social_set(group), 990)
    large = {name: measure(visitors[name]) for name in who}
    assert small == large, f"queries grew with data: {small} -> {large}"
    assert max(large.values()) <= budget, large
