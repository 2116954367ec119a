"""Posts: writing and scheduling them, client approval, comments, and each post's history.

Status flow (DESIGN.md, Post): a post is a draft until it is scheduled. Scheduling a post for a
profile that needs client approval makes it `pending_approval` (approvers are emailed a review
link); otherwise it is `scheduled`. An approver approves (`approved`), leaves feedback (it stays
pending) or rejects it with a reason (`rejected`: back with its author, editable like a draft).
Editing the caption, media or network options of a pending or approved post sends it back to
pending. Only `scheduled` and `approved` posts are published, by the worker in `webapp/publishing.py`.
A post is scheduled only once it suits its network's rules (`webapp/network_rules.py`); a draft may not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import ScalarSelect, delete, func, select, update
from sqlalchemy.orm import joinedload

from . import audit, network_rules, paging, policy, undo
from .extensions import db
from .models import (
    AccessGroup,
    ApprovalDecision,
    AuditEvent,
    Comment,
    Decision,
    MediaItem,
    Notification,
    NotificationKind,
    Post,
    PostStatus,
    ProfileApprover,
    SocialProfile,
    User,
    utcnow,
)

COMMENT_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000
# The post page shows the newest few rows of each of its lists; "Show all" pages through the rest.
LIST_PREVIEW = 5
LIST_PAGE_SIZE = 25

# Statuses a post may be published from, and those its author may still change.
PUBLISHABLE = (PostStatus.SCHEDULED.value, PostStatus.APPROVED.value)
EDITABLE = (PostStatus.DRAFT.value, PostStatus.PENDING_APPROVAL.value, PostStatus.APPROVED.value,
            PostStatus.REJECTED.value, PostStatus.SCHEDULED.value)
STATUS_LABELS = {
    PostStatus.DRAFT.value: "Draft",
    PostStatus.PENDING_APPROVAL.value: "Awaiting approval",
    PostStatus.APPROVED.value: "Approved",
    PostStatus.REJECTED.value: "Rejected",
    PostStatus.SCHEDULED.value: "Scheduled",
    PostStatus.PUBLISHED.value: "Published",
}


class PostError(ValueError):
    """Input about a post that is refused; nothing was changed. The message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def status_label(post: Post, now: datetime | None = None) -> str:
    """The status in words; a pending post whose time passed says so, since it will not go out."""
    now = now or utcnow()
    if post.status == PostStatus.PENDING_APPROVAL.value and post.scheduled_at and post.scheduled_at <= now:
        return "Awaiting approval, time passed"
    if post.status in PUBLISHABLE and post.publish_error:
        return f"{STATUS_LABELS[post.status]}, publishing failed"
    return STATUS_LABELS.get(post.status, post.status)


def public_url(post: Post) -> str | None:
    """Where a published post can be seen on its network, if the network gave a web address (http or
    https) for it: anything else stored there (a javascript: address, a relative path) is never a link."""
    url = post.external_url
    if post.status != PostStatus.PUBLISHED.value or not url:
        return None
    # A browser drops white space and control characters inside an address: "java\tscript:" runs.
    if any(character.isspace() or not character.isprintable() for character in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None


@dataclass(frozen=True)
class Draft:
    """What the composer sends: the profiles, caption, attachments, time (UTC, or None) and the options
    chosen for some networks (each post keeps those of its own network, `network_rules.options_for`)."""

    profiles: list[SocialProfile]
    caption: str
    media: list[MediaItem]
    scheduled_at: datetime | None
    options: dict[str, str] = field(default_factory=dict)


def _check_draft(group: AccessGroup, draft: Draft, schedule: bool, now: datetime) -> None:
    if not draft.profiles:
        raise PostError("Choose at least one social profile.", field="profiles")
    if any(profile.access_group_id != group.id for profile in draft.profiles):
        raise PostError("Choose profiles of this access group.", field="profiles")
    if len(draft.media) > network_rules.ATTACHMENT_LIMIT:
        raise PostError(f"Attach at most {network_rules.ATTACHMENT_LIMIT} items.", field="media")
    if any(item.access_group_id != group.id for item in draft.media):
        raise PostError("Attach items from this group's media library.", field="media")
    if schedule:
        if draft.scheduled_at is None:
            raise PostError("Choose the date and time to publish at.", field="scheduled_at")
        if draft.scheduled_at <= now:
            raise PostError("Choose a time in the future.", field="scheduled_at")
        if not draft.caption.strip() and not draft.media:
            raise PostError("Write a caption or attach media before scheduling.", field="caption")
        # A draft may be unfinished; what goes out must suit every chosen profile's network.
        problems = network_rules.problems(draft.caption, draft.media, draft.profiles, draft.options)
        if problems:
            raise PostError(problems[0].message, field=problems[0].field)


def create_posts(group: AccessGroup, draft: Draft, author: User, schedule: bool) -> list[Post]:
    """One post per chosen profile, as drafts or scheduled (pending approval where a profile needs it)."""
    now = utcnow()
    _check_draft(group, draft, schedule, now)
    posts = []
    for profile in draft.profiles:
        post = Post(social_profile_id=profile.id, access_group_id=group.id, author_id=author.id,
                    caption=draft.caption, scheduled_at=draft.scheduled_at, status=PostStatus.DRAFT.value,
                    version=1, options=network_rules.options_for(profile.network, draft.options))
        post.social_profile = profile
        post.media_items = list(draft.media)
        db.session.add(post)
        posts.append(post)
    db.session.flush()
    for post in posts:
        _record(post, author, "post.created", after={"status": PostStatus.DRAFT.value})
        if schedule:
            _submit(post, author)
    return posts


def _submit(post: Post, actor: User) -> None:
    """Scheduled, or waiting for approval where the profile needs it (its approvers are told)."""
    before = post.status
    if post.social_profile.needs_approval:
        post.status = PostStatus.PENDING_APPROVAL.value
        _record(post, actor, "post.submitted", before={"status": before}, after={"status": post.status})
        notify_approvers([post], actor)
    else:
        post.status = PostStatus.SCHEDULED.value
        _record(post, actor, "post.scheduled", before={"status": before},
                after={"status": post.status, "scheduled_at": post.scheduled_at.isoformat()})
    _retry_afresh(post)


def update_post(post: Post, draft: Draft, actor: User, schedule: bool) -> None:
    """Change a post; a new caption, media or options send a pending or approved post back to pending."""
    if post.status == PostStatus.PUBLISHED.value:
        raise PostError("This post was published; it can no longer be changed.")
    group = db.session.get(AccessGroup, post.access_group_id)
    now = utcnow()
    _check_draft(group, Draft([post.social_profile], draft.caption, draft.media, draft.scheduled_at, draft.options),
                 schedule or post.status != PostStatus.DRAFT.value, now)
    network = post.social_profile.network
    options = network_rules.options_for(network, draft.options)
    # A content warning, visibility or language changes what goes out, as the text does (a post saved
    # before it had options had the defaults).
    content_changed = (post.caption != draft.caption
                       or network_rules.options_for(network, post.options or {}) != options
                       or [m.id for m in post.media_items] != [m.id for m in draft.media])
    before = _snapshot(post)
    post.caption = draft.caption
    post.options = options
    post.media_items = list(draft.media)
    post.scheduled_at = draft.scheduled_at
    if content_changed:
        post.version += 1  # review links made for the old text no longer open it
    db.session.flush()
    _record(post, actor, "post.edited", before=before, after=_snapshot(post))
    if post.status in (PostStatus.DRAFT.value, PostStatus.REJECTED.value):
        if schedule:
            _submit(post, actor)
    elif content_changed and post.status in (PostStatus.PENDING_APPROVAL.value, PostStatus.APPROVED.value):
        _submit(post, actor)
    elif post.status in PUBLISHABLE:
        _retry_afresh(post)  # a post given up on gets its attempts back once it is changed


def _retry_afresh(post: Post) -> None:
    post.publish_error = None
    post.publish_attempts = 0
    post.next_publish_at = None


RESCHEDULED = "post.rescheduled"
RESCHEDULE_UNDONE = "post.reschedule_undone"


def reschedule(post: Post, when: datetime, actor: User) -> AuditEvent:
    """Move a post to another time; its status stays (an approved post stays approved).

    Returns the audit event of the move, whose id is its Undo token (`undo_reschedule`)."""
    if post.status == PostStatus.PUBLISHED.value:
        raise PostError("This post was published; it can no longer be moved.")
    if when <= utcnow():
        raise PostError("Choose a time in the future.", field="scheduled_at")
    before = post.scheduled_at.isoformat() if post.scheduled_at else None
    post.scheduled_at = when
    _retry_afresh(post)
    event = _record(post, actor, RESCHEDULED, before={"scheduled_at": before},
                    after={"scheduled_at": when.isoformat(), "status": post.status, "version": post.version})
    db.session.flush()
    return event


def rescheduling(post: Post, event_id: int) -> AuditEvent | None:
    """The move `event_id` of this post to another time, if it is one."""
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.id == event_id, AuditEvent.verb == RESCHEDULED, AuditEvent.object_type == "post",
        AuditEvent.object_id == post.id))


def undo_reschedule(post: Post, event: AuditEvent, actor: User, now: datetime | None = None) -> None:
    """Put a post back at the time it had before `event` moved it, within the Undo window.

    Refused to anyone but the person who moved it, once the time is up, when its old time has passed,
    and when anything newer touched the post: an edit, a status change, another move, a publisher's
    claim. One conditional UPDATE decides, so a change that gets there first wins."""
    now = now or utcnow()
    if event.actor_id != actor.id:
        raise PostError("Only the person who moved this post can undo that.")
    if not undo.window_open(event, now):
        raise PostError(f"Too late to undo: a move can be taken back for {undo.SECONDS} seconds. "
                        "Use Reschedule to move the post again.")
    moved = event.after or {}
    previous = event.before.get("scheduled_at") if event.before else None
    previous_at = datetime.fromisoformat(previous) if previous else None
    if previous_at is not None and previous_at <= now:
        raise PostError("The post's old time has passed, so it stays where it is. Use Reschedule to choose another.")
    changed = PostError("This move can no longer be undone: the post changed since.")
    if "version" not in moved or "status" not in moved:
        raise changed
    newer = select(AuditEvent.id).where(
        AuditEvent.object_type == "post", AuditEvent.object_id == post.id, AuditEvent.id > event.id,
        AuditEvent.verb != "post.commented").exists()
    restored = db.session.execute(
        update(Post).where(Post.id == post.id, Post.scheduled_at == datetime.fromisoformat(moved["scheduled_at"]),
                           Post.version == moved["version"], Post.status == moved["status"],
                           Post.claim_token.is_(None), ~newer)
        .values(scheduled_at=previous_at).execution_options(synchronize_session=False)).rowcount
    if restored != 1:
        raise changed
    db.session.refresh(post)
    _record(post, actor, RESCHEDULE_UNDONE, before={"scheduled_at": moved["scheduled_at"]},
            after={"scheduled_at": previous, "undoes_event_id": event.id})
    db.session.flush()


def unschedule(post: Post, actor: User) -> None:
    """Take a scheduled, pending or approved post back to a draft."""
    if post.status == PostStatus.PUBLISHED.value:
        raise PostError("This post was published; it can no longer be changed.")
    before = post.status
    post.status = PostStatus.DRAFT.value
    _record(post, actor, "post.unscheduled", before={"status": before}, after={"status": post.status})


def delete_post(post: Post, actor: User) -> None:
    """Delete a post that was not published; its comments and decisions go with it."""
    if post.status == PostStatus.PUBLISHED.value:
        raise PostError("A published post stays in Roster's history; it cannot be deleted here.")
    _record(post, actor, "post.deleted", before=_snapshot(post))
    db.session.delete(post)


def _snapshot(post: Post) -> dict:
    return {
        "status": post.status,
        "caption": post.caption,
        "media_item_ids": [item.id for item in post.media_items],
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "social_profile_id": post.social_profile_id,
        "options": post.options or {},
    }


def _record(post: Post, actor: User | None, verb: str, before: dict | None = None,
            after: dict | None = None) -> AuditEvent:
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id))
    return audit.record(account_id, actor.id if actor else None, verb, "post", post.id, before=before, after=after,
                 group_id=post.access_group_id)


HISTORY_LABELS = {
    "post.created": "Created",
    "post.submitted": "Sent for approval",
    "post.scheduled": "Scheduled",
    "post.edited": "Edited",
    "post.rescheduled": "Rescheduled",
    "post.reschedule_undone": "Move undone",
    "post.unscheduled": "Back to draft",
    "post.approve": "Approved",
    "post.feedback": "Feedback",
    "post.reject": "Rejected",
    "post.decision_undone": "Decision undone",
    "post.commented": "Commented",
    "post.published": "Published",
    "post.publish_failed": "Publishing failed",
}


def _history_of(post: Post) -> tuple:
    """SQL: the audit events about the post."""
    return AuditEvent.object_type == "post", AuditEvent.object_id == post.id


def history_page(post: Post, cursor: str | None, size: int) -> paging.Page[AuditEvent]:
    """A page of what happened to the post, newest first, each event with who did it."""
    return paging.keyset_page(
        select(AuditEvent).where(*_history_of(post)).options(joinedload(AuditEvent.actor)),
        AuditEvent.created_at, AuditEvent.id, cursor, size, descending=True)


@dataclass(frozen=True)
class ListCounts:
    """How many comments, decisions, approvers asked (by review link) and history entries a post has."""

    comments: int
    decisions: int
    review_links: int
    history: int


def list_counts(post: Post) -> ListCounts:
    """The totals of the post page's lists, all in one query."""
    from . import review

    def count(model: type, *conditions) -> ScalarSelect:
        return select(func.count()).select_from(model).where(*conditions).scalar_subquery()

    return ListCounts(*db.session.execute(select(
        count(Comment, Comment.post_id == post.id),
        count(ApprovalDecision, ApprovalDecision.post_id == post.id),
        review.reviewers_asked(post),
        count(AuditEvent, *_history_of(post)),
    )).one())


# --- approval -------------------------------------------------------------------------------------


def approvers_of(profile: SocialProfile) -> list[User]:
    """The profile's approvers whose duty counts now (they may still see it), by name."""
    return list(db.session.scalars(
        select(User).join(ProfileApprover, ProfileApprover.user_id == User.id)
        .where(ProfileApprover.social_profile_id == profile.id,
               policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, utcnow()))
        .order_by(User.name)
    ))


def is_approver(user: User, post: Post) -> bool:
    """The person approves the post's profile now, asked of the policy at this moment."""
    return db.session.scalar(
        select(ProfileApprover.user_id)
        .where(ProfileApprover.social_profile_id == post.social_profile_id, ProfileApprover.user_id == user.id,
               policy.may_approve(ProfileApprover.user_id, ProfileApprover.social_profile_id, utcnow()))
    ) is not None


def names_in_words(names: list[str]) -> str:
    """"Maya Lopez", "Maya Lopez and Leo Park", "Ana, Maya Lopez and Leo Park"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def scheduled_message(posts: list[Post]) -> str:
    """What scheduling these posts did, in words: who they went to for approval, and what was scheduled."""
    def posts_in_words(count: int) -> str:
        return f"{count} {'post' if count == 1 else 'posts'}"

    pending = [post for post in posts if post.status == PostStatus.PENDING_APPROVAL.value]
    scheduled = len(posts) - len(pending)
    names: dict[int, str] = {}
    for profile in {post.social_profile_id: post.social_profile for post in pending}.values():
        names.update((user.id, user.name) for user in approvers_of(profile))
    approvers = names_in_words(sorted(names.values())) if names else "its approvers"
    if not pending:
        return f"Scheduled {posts_in_words(scheduled)}."
    if not scheduled:
        return f"Sent to {approvers} for approval."
    return f"Scheduled {posts_in_words(scheduled)}; sent {posts_in_words(len(pending))} to {approvers} for approval."


def notify_approvers(posts: list[Post], actor: User) -> None:
    """Email each approver of these posts a review link covering all their pending posts (and list each
    post among their notifications)."""
    from . import notifications, review

    reviewers: dict[tuple[int, int], User] = {}  # (account, approver): one link per account
    accounts = dict(db.session.execute(
        select(AccessGroup.id, AccessGroup.account_id)
        .where(AccessGroup.id.in_({post.access_group_id for post in posts}))).all())
    for post in posts:
        approvers = approvers_of(post.social_profile)
        for user in approvers:
            reviewers[(accounts[post.access_group_id], user.id)] = user
        # In the app only: the review email below is how approvers hear of it.
        notifications.notify(approvers, notifications.NotificationKind.APPROVAL_REQUESTED, accounts[post.access_group_id],
                             f"{actor.name} sent you {_a(post.social_profile.network_label)} post "
                             f"for @{post.social_profile.handle} to approve", actor=actor, post_id=post.id)
    for (account_id, _), reviewer in reviewers.items():
        review.send_review_link(reviewer, actor, account_id)


def _a(word: str) -> str:
    """"an Instagram", "a TikTok"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def decide(post: Post, reviewer: User, decision: str, note: str = "", review_link_id: int | None = None) -> ApprovalDecision:
    """An approver's decision on a pending post, recorded with who, when and what; the author is told."""
    if decision not in {d.value for d in Decision}:
        raise PostError("Choose Approve, Feedback or Reject.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise PostError(f"Keep the note to {NOTE_MAX_LENGTH:,} characters.", field="note")
    if not is_approver(reviewer, post):
        raise PostError("Only the profile's approvers can decide on this post.")
    if post.status != PostStatus.PENDING_APPROVAL.value:
        raise PostError("This post is no longer waiting for approval.")
    if decision == Decision.FEEDBACK.value and not note:
        raise PostError("Write your feedback first.", field="note")
    if decision == Decision.REJECT.value and not note:
        raise PostError("Say why you reject the post, so its author can fix it.", field="note")
    record = ApprovalDecision(post_id=post.id, reviewer_id=reviewer.id, review_link_id=review_link_id,
                              decision=decision, note=note, previous_status=post.status)
    db.session.add(record)
    before = post.status
    if decision == Decision.APPROVE.value:
        post.status = PostStatus.APPROVED.value
    elif decision == Decision.REJECT.value:
        post.status = PostStatus.REJECTED.value
    _record(post, reviewer, f"post.{decision}", before={"status": before},
            after={"status": post.status, "note": note, "via_link": review_link_id is not None})
    _notify_author(post, reviewer, "decision", decision=decision, note=note)
    db.session.flush()
    return record


# An approver may take a decision back this long after giving it.
UNDO_SECONDS = 60
DECIDED_STATUS = {Decision.APPROVE.value: PostStatus.APPROVED.value,
                  Decision.FEEDBACK.value: PostStatus.PENDING_APPROVAL.value,
                  Decision.REJECT.value: PostStatus.REJECTED.value}


def undo_decision(record: ApprovalDecision, post: Post, reviewer: User, version: int,
                  now: datetime | None = None) -> None:
    """Take back one's own decision within UNDO_SECONDS: it is deleted and the post's status restored.

    Refused once the time is up, or when anything newer touched the post: an edit (its version is no
    longer `version`, the one shown with the decision), a later decision, or a status change since."""
    now = now or utcnow()
    if record.post_id != post.id or record.reviewer_id != reviewer.id:
        raise PostError("Only the approver who decided can undo it.")
    if now - record.created_at > timedelta(seconds=UNDO_SECONDS):
        raise PostError(f"Too late to undo: a decision can be taken back for {UNDO_SECONDS} seconds. "
                        "Open the post to ask its author instead.")
    later = db.session.scalar(
        select(ApprovalDecision.id).where(ApprovalDecision.post_id == post.id, ApprovalDecision.id > record.id)
        .limit(1))
    changed = PostError("This decision can no longer be undone: the post changed since.")
    if later is not None or record.previous_status is None:
        raise changed
    # One conditional UPDATE: an edit, a status change or a publisher's claim that got there first (the
    # approved post may be due) leaves the row unmatched, and the decision stands.
    before = DECIDED_STATUS[record.decision]
    restored = db.session.execute(
        update(Post).where(Post.id == post.id, Post.version == version, Post.status == before,
                           Post.claim_token.is_(None))
        .values(status=record.previous_status).execution_options(synchronize_session=False)).rowcount
    if restored != 1:
        raise changed
    db.session.refresh(post)
    _withdraw_decision_notice(post, record, reviewer)
    db.session.delete(record)
    _record(post, reviewer, "post.decision_undone", before={"status": before, "decision": record.decision},
            after={"status": post.status})
    db.session.flush()


def decisions_page(post: Post, cursor: str | None, size: int) -> paging.Page[ApprovalDecision]:
    """A page of the approvers' decisions on the post, newest first, each with its reviewer."""
    return paging.keyset_page(
        select(ApprovalDecision).where(ApprovalDecision.post_id == post.id)
        .options(joinedload(ApprovalDecision.reviewer)),
        ApprovalDecision.created_at, ApprovalDecision.id, cursor, size, descending=True)


# --- comments -------------------------------------------------------------------------------------


def add_comment(post: Post, author: User, body: str) -> Comment:
    """A comment on the post; its author is emailed about it (unless they wrote it)."""
    body = (body or "").strip()
    if not body:
        raise PostError("Write a comment first.", field="body")
    if len(body) > COMMENT_MAX_LENGTH:
        raise PostError(f"Keep comments to {COMMENT_MAX_LENGTH:,} characters.", field="body")
    comment = Comment(post_id=post.id, author_id=author.id, body=body)
    db.session.add(comment)
    db.session.flush()
    _record(post, author, "post.commented", after={"comment_id": comment.id})
    _notify_author(post, author, "comment", note=body)
    return comment


def comments_page(post: Post, cursor: str | None, size: int) -> paging.Page[Comment]:
    """A page of the post's comments, newest first, each with its author."""
    return paging.keyset_page(
        select(Comment).where(Comment.post_id == post.id).options(joinedload(Comment.author)),
        Comment.created_at, Comment.id, cursor, size, descending=True)


def _withdraw_decision_notice(post: Post, record: ApprovalDecision, reviewer: User) -> None:
    """The author's notice of an undone decision goes; if it was already emailed, they hear it was undone."""
    from . import notifications

    kind = NotificationKind.DECISION_MADE.value
    mailed = db.session.scalars(
        delete(Notification)
        .where(Notification.kind == kind, Notification.post_id == post.id, Notification.actor_id == reviewer.id,
               Notification.created_at >= record.created_at)
        .returning(Notification.mailed_at).execution_options(synchronize_session=False)).all()
    if any(at is not None for at in mailed) and post.author_id is not None:
        notifications.notify(
            [post.author_id], kind,
            db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id)),
            f"{reviewer.name} took back their decision on your {post.social_profile.network_label} post: "
            "it waits for approval again", actor=reviewer, post_id=post.id)


def _notify_author(post: Post, actor: User, kind: str, decision: str | None = None, note: str = "") -> None:
    """Tell the post's author of a comment or a decision (not when they did it themselves), in the app
    and as they chose: by email at once, in the daily digest, or not at all."""
    from . import notifications

    if post.author_id is None:
        return
    profile = post.social_profile
    if kind == "comment":
        message = f"{actor.name} commented on your {profile.network_label} post"
        detail = note
    else:
        verb = {"approve": "approved", "feedback": "left feedback on", "reject": "rejected"}[decision or ""]
        message = f"{actor.name} {verb} your {profile.network_label} post"
        after = {"reject": "The post is back with you: edit it and schedule it again.",
                 "feedback": "The post is still waiting for approval."}.get(decision or "", "")
        detail = " ".join(part for part in (note, after) if part)
    # `notify` asks the policy: an author who may no longer see the post hears nothing more of it.
    notifications.notify([post.author_id], notifications.NotificationKind.COMMENT_ADDED if kind == "comment"
                         else notifications.NotificationKind.DECISION_MADE,
                         db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id)),
                         message, actor=actor, post_id=post.id, detail=detail)
