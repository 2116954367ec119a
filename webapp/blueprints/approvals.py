"""Waiting for your approval: an approver's pending posts across the agency's groups, decided in place.

Each card posts its decision with htmx and is replaced by the result ("Approved — will publish ...")
with an Undo that works for `posts.UNDO_SECONDS`. The decision is `posts.decide`, the one the review
page and the post page use; what waits is `review.pending_posts_for`, which asks the policy.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import policy
from .. import posts as rules
from .. import review
from ..extensions import db
from ..forms.review import DecisionForm, UndoForm
from ..htmx import is_htmx, render
from ..models import AccessGroup, ApprovalDecision, Post
from ..shell import enter_group

bp = Blueprint("approvals", __name__)

# The page lists this many posts, soonest first; the Overview panel a few.
WAITING_LIMIT = 50
PANEL_LIMIT = 5
DONE = {"approve": "Approved", "feedback": "Feedback sent", "reject": "Rejected"}


def group_names(posts: list[Post]) -> dict[int, str]:
    """The name of each post's access group, by id, in one query."""
    ids = {post.access_group_id for post in posts}
    if not ids:
        return {}
    return dict(db.session.execute(select(AccessGroup.id, AccessGroup.name).where(AccessGroup.id.in_(ids))).all())


@bp.get("/g/<int:group_id>/waiting")
def waiting(group_id: int):
    """The posts across the agency's groups that wait for the signed-in approver's decision."""
    group = enter_group(group_id)
    found = review.pending_posts_for(current_user, group.account_id, limit=WAITING_LIMIT + 1)
    posts = found[:WAITING_LIMIT]
    return render("approvals/waiting.html", block="main", page_title="Waiting for your approval", group=group,
                  posts=posts, more=len(found) > WAITING_LIMIT, groups=group_names(posts))


def _decidable(group: AccessGroup, post_id: int) -> Post:
    """A post of the group's agency the user sees (404 otherwise) and approves (403 otherwise)."""
    post = policy.get_or_404(Post, post_id, "posts.view")
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id))
    if account_id != group.account_id:
        abort(404)
    if not rules.is_approver(current_user, post):
        abort(403)
    return post


def _card(group: AccessGroup, post: Post, status: int = 200, **context) -> Response:
    """One card's content for htmx (with the sidebar's count), or back to the page for a plain form."""
    if not is_htmx():
        if context.get("problem"):
            flash(context["problem"], "error")
        return redirect(url_for("approvals.waiting", group_id=group.id), 303)
    return render("approvals/_card_response.html", status=status, group=group, post=post,
                  groups=group_names([post]), **context)


@bp.post("/g/<int:group_id>/waiting/posts/<int:post_id>/decision")
def decide(group_id: int, post_id: int):
    """Approve, give feedback on or reject one waiting post; the card shows the result and Undo."""
    group = enter_group(group_id)
    post = _decidable(group, post_id)
    form = DecisionForm()
    decision, note = form.decision.data or "", (form.note.data or "").replace("\r\n", "\n")
    try:
        if not form.validate_on_submit():
            raise rules.PostError(" ".join(form.decision.errors + form.note.errors))
        record = rules.decide(post, current_user, decision, note)
    except rules.PostError as refused:
        db.session.rollback()
        post = _decidable(group, post_id)
        return _card(group, post, 422, problem=str(refused), failed=decision, note=note)
    db.session.commit()
    if not is_htmx():
        flash(f"{DONE[decision]}.", "success")
    return _card(group, post, decided=record)


@bp.post("/g/<int:group_id>/waiting/decisions/<int:decision_id>/undo")
def undo(group_id: int, decision_id: int):
    """Take back one's decision within a minute: the post waits again, its card back in place."""
    group = enter_group(group_id)
    record = db.session.get(ApprovalDecision, decision_id)
    if record is None:
        abort(404)
    post = policy.get_or_404(Post, record.post_id, "posts.view")
    account_id = db.session.scalar(select(AccessGroup.account_id).where(AccessGroup.id == post.access_group_id))
    if account_id != group.account_id:
        abort(404)
    if record.reviewer_id != current_user.id:
        abort(403)
    form = UndoForm()
    try:
        if not form.validate_on_submit():
            raise rules.PostError("Reload the page and try again.")
        rules.undo_decision(record, post, current_user, form.version.data)
    except rules.PostError as refused:
        db.session.rollback()
        return _card(group, post, 409, decided=record, problem=str(refused))
    db.session.commit()
    if not is_htmx():
        flash("Decision undone: the post waits for your approval again.", "success")
    return _card(group, post, undone=True)
