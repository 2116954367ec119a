"""Review from an emailed link: one approver sees their pending posts and decides, without signing in.

The review pages are public: the link's token is the credential, and each view checks it itself.
The first visit moves the token out of the URL into a short-lived cookie scoped to `/review` and
redirects to the clean URL, so the token stays out of the history and is never sent on. Opening
the link (GET) decides nothing, because mail scanners open links too: deciding is a POST.

Revoking a link from the post page is not public: it asks the policy like any staff action.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import policy
from .. import posts as post_rules
from .. import review as rules
from ..zones import account_zone
from ..extensions import db
from ..forms.review import DecisionForm
from ..links import CLOSED_STATUS, LinkState
from ..models import (
    AccessGroup,
    Account,
    ApprovalDecision,
    Decision,
    MediaItem,
    Post,
    PostMedia,
    ProfileApprover,
    ReviewLink,
    ReviewLinkPost,
    User,
)
from .media import _send

bp = Blueprint("review", __name__)

COOKIE = "roster_review"
COOKIE_PATH = "/review"
RECORDED = {
    Decision.APPROVE.value: "Approved: the post will be published at its time.",
    Decision.FEEDBACK.value: "Feedback sent: the post waits for your decision while its author looks at it.",
    Decision.REJECT.value: "Rejected: the post is back with its author, with your reason.",
}


@dataclass(frozen=True)
class Problem:
    """A decision that was refused, to show on its post's form with what was typed."""

    post_id: int
    decision: str
    message: str
    note: str


@dataclass(frozen=True)
class Reviewed:
    """A post of the link that is no longer open, and the last decision given on it through the link."""

    post: Post
    decision: ApprovalDecision


@bp.after_request
def _keep_the_review_private(response: Response) -> Response:
    """Never send the page's address on, never keep a copy: the link is a credential."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the link and its cookie ---------------------------------------------------------------------


def _cookie_link() -> tuple[ReviewLink | None, LinkState]:
    """The link whose token the review cookie holds, and its state."""
    link = rules.find(request.cookies.get(COOKIE))
    return link, rules.state(link)


def _closed(state: LinkState):
    """A link that opens nothing: say why and what to do, and change nothing."""
    return render_template("review/closed.html", state=state.value, page_title="Review"), CLOSED_STATUS[state]


def _reviewed(link: ReviewLink, open_ids: set[int]) -> list[Reviewed]:
    """The link's posts decided through it and no longer open, unchanged since, with the last decision."""
    rows = db.session.execute(
        select(Post, ApprovalDecision)
        .join(ApprovalDecision, ApprovalDecision.post_id == Post.id)
        .join(ReviewLinkPost, (ReviewLinkPost.post_id == Post.id) & (ReviewLinkPost.review_link_id == link.id))
        .join(ProfileApprover, (ProfileApprover.social_profile_id == Post.social_profile_id)
              & (ProfileApprover.user_id == link.reviewer_id))
        .where(ApprovalDecision.review_link_id == link.id, ReviewLinkPost.post_version == Post.version,
               rules.reviewer_may_approve(link))
        .options(selectinload(Post.social_profile))
        .order_by(ApprovalDecision.created_at, ApprovalDecision.id)
    ).all()
    last = {post.id: Reviewed(post, decision) for post, decision in rows}  # later rows win
    return sorted((entry for post_id, entry in last.items() if post_id not in open_ids),
                  key=lambda entry: (entry.post.scheduled_at is None, entry.post.scheduled_at, entry.post.id))


def _feedback_given(link: ReviewLink, posts: list[Post]) -> dict[int, ApprovalDecision]:
    """The last feedback left through the link on each of these open posts."""
    if not posts:
        return {}
    given = db.session.scalars(
        select(ApprovalDecision).where(ApprovalDecision.review_link_id == link.id,
                                       ApprovalDecision.post_id.in_([post.id for post in posts]))
        .order_by(ApprovalDecision.created_at, ApprovalDecision.id)
    )
    return {decision.post_id: decision for decision in given}


def _accounts(posts: list[Post]) -> dict[int, Account]:
    """The account of each post's access group, by group id (for its name and time zone)."""
    group_ids = {post.access_group_id for post in posts}
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(AccessGroup.id, Account).join(Account, Account.id == AccessGroup.account_id)
        .where(AccessGroup.id.in_(group_ids))
    )
    return {group_id: account for group_id, account in rows}


def _page(link: ReviewLink, open_posts: list[Post], problem: Problem | None = None, status: int = 200):
    """The reviewer's open posts with their three actions, and what they already decided here."""
    reviewed = _reviewed(link, {post.id for post in open_posts})
    if not open_posts and not reviewed:
        return _closed(LinkState.USED)
    accounts = _accounts(open_posts + [entry.post for entry in reviewed])
    zones: dict[int, ZoneInfo] = {group_id: account_zone(account) for group_id, account in accounts.items()}
    return render_template(
        "review/page.html", page_title="Review posts", reviewer=db.session.get(User, link.reviewer_id),
        link=link, posts=open_posts, reviewed=reviewed, feedback=_feedback_given(link, open_posts),
        agencies=sorted({account.name for account in accounts.values()}), zones=zones, problem=problem,
        status_label=post_rules.status_label, note_max_length=post_rules.NOTE_MAX_LENGTH,
    ), status


# --- the pages -----------------------------------------------------------------------------------


@bp.get("/review/<token>")
@policy.public
def open_link(token: str):
    """The emailed link: move its token into a cookie and go to the clean URL; a dead link says why."""
    link = rules.find(token)
    state = rules.state(link)
    if state is LinkState.OPEN and not rules.open_posts(link):
        state = LinkState.USED
    if state is not LinkState.OPEN:
        return _closed(state)
    response = redirect(url_for("review.page"), 303)
    response.set_cookie(
        COOKIE, token, max_age=current_app.config["REVIEW_COOKIE_MINUTES"] * 60, path=COOKIE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
    )
    return response


@bp.get("/review")
@policy.public
def page():
    """The posts the link's reviewer is asked to decide on, each with Approve, Feedback and Reject."""
    link, state = _cookie_link()
    if state is not LinkState.OPEN:
        return _closed(state)
    return _page(link, rules.open_posts(link))


@bp.get("/review/media/<int:item_id>")
@policy.public
def media(item_id: int):
    """An attachment of one of the link's open posts, served like the library serves it."""
    link, state = _cookie_link()
    if state is not LinkState.OPEN:
        abort(404)
    open_ids = [post.id for post in rules.open_posts(link)]
    item = db.session.scalar(
        select(MediaItem).join(PostMedia, PostMedia.media_item_id == MediaItem.id)
        .where(MediaItem.id == item_id, PostMedia.post_id.in_(open_ids)).limit(1)
    ) if open_ids else None
    if item is None:
        abort(404)
    return _send(item, item.storage_key, item.content_type, item.name)


@bp.post("/review/posts/<int:post_id>")
@policy.public
def decide(post_id: int):
    """Record the reviewer's decision on one of the link's open posts; the author is emailed."""
    link, state = _cookie_link()
    if state is not LinkState.OPEN:
        return _closed(state)
    open_posts = rules.open_posts(link)
    post = next((candidate for candidate in open_posts if candidate.id == post_id), None)
    if post is None:
        # Another post, or one decided or changed since the page loaded: this link does not open it.
        return render_template("review/closed.html", state="not_open", page_title="Review"), 404
    form = DecisionForm()
    decision, note = form.decision.data or "", (form.note.data or "").replace("\r\n", "\n")
    try:
        if not form.validate_on_submit():
            raise post_rules.PostError(" ".join(form.decision.errors + form.note.errors))
        post_rules.decide(post, db.session.get_one(User, link.reviewer_id), decision, note,
                          review_link_id=link.id)
    except post_rules.PostError as refused:
        db.session.rollback()
        return _page(link, rules.open_posts(link), Problem(post_id, decision, str(refused), note), 422)
    db.session.commit()
    flash(RECORDED[decision], "success")
    return redirect(url_for("review.page", _anchor=f"post-{post.id}"), 303)


# --- revoking a link, from the post page ---------------------------------------------------------


@bp.post("/g/<int:group_id>/posts/<int:post_id>/review-links/<int:link_id>/revoke")
def revoke(group_id: int, post_id: int, link_id: int):
    """End a review link that covers this post; it opens nothing afterwards."""
    post = policy.get_or_404(Post, post_id, "posts.edit")
    if post.access_group_id != group_id:
        abort(404)
    found = db.session.execute(
        select(ReviewLink, User).join(ReviewLinkPost, ReviewLinkPost.review_link_id == ReviewLink.id)
        .join(User, User.id == ReviewLink.reviewer_id)
        .where(ReviewLink.id == link_id, ReviewLinkPost.post_id == post.id)
    ).first()
    if found is None:
        abort(404)
    link, reviewer = found
    rules.revoke(link, current_user, policy.current_permissions().groups[post.access_group_id])
    db.session.commit()
    flash(f"The review link sent to {reviewer.name} was revoked; it no longer opens anything.", "success")
    return redirect(url_for("posts.show", group_id=group_id, post_id=post.id), 303)
