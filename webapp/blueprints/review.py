"""Review from an emailed link: one approver sees their pending posts and decides, without signing in.

The review pages are public: the link's token is the credential, and each view checks it itself.
The first visit moves the token out of the URL into a short-lived cookie scoped to `/review` and
redirects to the clean URL, so the token stays out of the history and is never sent on. Opening
the link (GET) decides nothing, because mail scanners open links too: deciding is a POST.

Resending or revoking a link from the post page is not public: it asks the policy like any staff
action. A decision given here can be undone for a minute (`posts.undo_decision`), as on the signed-in
"Waiting for your approval" page; with htmx both answer with the post's card changed in place.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import policy
from .. import posts as post_rules
from .. import review as rules
from ..brand import brand_of
from ..extensions import db
from ..forms.review import DecisionForm, UndoForm
from ..htmx import is_htmx
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
from ..zones import TimeStyle, style_for
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
    reviewer = db.session.get(User, link.reviewer_id)
    return render_template(
        "review/page.html", page_title="Review posts", reviewer=reviewer,
        link=link, posts=open_posts, reviewed=reviewed, feedback=_feedback_given(link, open_posts),
        brand=brand_of(_link_account(link, accounts)), styles=_styles(reviewer, accounts),
        problem=problem, status_label=post_rules.status_label, note_max_length=post_rules.NOTE_MAX_LENGTH,
    ), status


def _link_account(link: ReviewLink, accounts: dict[int, Account]) -> Account | None:
    """The agency the link is from, whose brand the page wears (a link made before links had one: its
    posts' agency, when they have only one)."""
    by_id = {account.id: account for account in accounts.values()}
    if link.account_id is not None:
        return by_id.get(link.account_id) or db.session.get(Account, link.account_id)
    return next(iter(by_id.values())) if len(by_id) == 1 else None


def _styles(reviewer: User, accounts: dict[int, Account]) -> dict[int, TimeStyle]:
    """How the reviewer reads times, by group id: their own zone, else their agency's."""
    return {group_id: style_for(reviewer, account) for group_id, account in accounts.items()}


def _post_card(link: ReviewLink, post: Post, status: int = 200, **context):
    """One post's card on the review page, for htmx to swap in place: the post, or the decision and Undo."""
    reviewer = db.session.get(User, link.reviewer_id)
    styles = _styles(reviewer, _accounts([post]))
    return render_template(
        "review/_post.html", post=post, reviewer=reviewer, styles=styles, style=styles[post.access_group_id],
        feedback=_feedback_given(link, [post]), status_label=post_rules.status_label,
        note_max_length=post_rules.NOTE_MAX_LENGTH, **context), status


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
        record = post_rules.decide(post, db.session.get_one(User, link.reviewer_id), decision, note,
                                   review_link_id=link.id)
    except post_rules.PostError as refused:
        db.session.rollback()
        problem = Problem(post_id, decision, str(refused), note)
        if is_htmx():
            return _post_card(link, db.session.get_one(Post, post_id), 422, problem=problem)
        return _page(link, rules.open_posts(link), problem, 422)
    db.session.commit()
    if is_htmx():
        return _post_card(link, post, decided=record, undo_url=url_for("review.undo", decision_id=record.id))
    flash(RECORDED[decision], "success")
    return redirect(url_for("review.page", _anchor=f"post-{post.id}"), 303)


@bp.post("/review/decisions/<int:decision_id>/undo")
@policy.public
def undo(decision_id: int):
    """Take back a decision given through this link within a minute: the post waits again."""
    link, state = _cookie_link()
    if state is not LinkState.OPEN:
        return _closed(state)
    record = db.session.get(ApprovalDecision, decision_id)
    if record is None or record.review_link_id != link.id:
        return render_template("review/closed.html", state="not_open", page_title="Review"), 404
    post = db.session.get_one(Post, record.post_id)
    undo_url = url_for("review.undo", decision_id=record.id)
    form = UndoForm()
    try:
        if not form.validate_on_submit():
            raise post_rules.PostError("Reload the page and try again.")
        post_rules.undo_decision(record, post, db.session.get_one(User, link.reviewer_id), form.version.data)
    except post_rules.PostError as refused:
        db.session.rollback()
        if is_htmx():
            return _post_card(link, post, 409, decided=record, undo_url=undo_url, problem=str(refused))
        flash(str(refused), "error")
        return redirect(url_for("review.page"), 303)
    db.session.commit()
    if is_htmx():
        return _post_card(link, post, undone=True)
    flash("Decision undone: the post waits for your decision again.", "success")
    return redirect(url_for("review.page", _anchor=f"post-{post.id}"), 303)


# --- resending and revoking a link, from the post page --------------------------------------------


def _post_link(group_id: int, post_id: int, link_id: int) -> tuple[Post, ReviewLink, User]:
    """A post the user may edit, and a review link covering it with its reviewer (404 otherwise)."""
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
    return post, found[0], found[1]


@bp.post("/g/<int:group_id>/posts/<int:post_id>/review-links/<int:link_id>/resend")
def resend(group_id: int, post_id: int, link_id: int):
    """Email the approver their link now, with all their open posts, without waiting for the digest."""
    post, _link, reviewer = _post_link(group_id, post_id, link_id)
    back = redirect(url_for("posts.show", group_id=group_id, post_id=post.id), 303)
    if not post_rules.is_approver(reviewer, post):
        flash(f"{reviewer.name} no longer approves this profile: nothing was sent.", "error")
        return back
    account_id = policy.current_permissions().groups[post.access_group_id]
    if rules.resend(reviewer, account_id, current_user) is None:
        flash(f"Nothing waits for {reviewer.name}'s approval: nothing was sent.", "error")
        return back
    db.session.commit()
    flash(f"Sent {reviewer.name} their review link again, with every post waiting for them.", "success")
    return back


@bp.post("/g/<int:group_id>/posts/<int:post_id>/review-links/<int:link_id>/revoke")
def revoke(group_id: int, post_id: int, link_id: int):
    """End a review link that covers this post; it opens nothing afterwards."""
    post, link, reviewer = _post_link(group_id, post_id, link_id)
    rules.revoke(link, current_user, policy.current_permissions().groups[post.access_group_id])
    db.session.commit()
    flash(f"The review link sent to {reviewer.name} was revoked; it no longer opens anything.", "success")
    return redirect(url_for("posts.show", group_id=group_id, post_id=post.id), 303)
