"""Routes of "Waiting for your approval": the page, a decision from a card, and its Undo; and, on
the post page, resending an approver's review link; on the review page, Undo."""
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApprovalDecision, Decision, Post, PostStatus, utcnow

from ..access_matrix import SIGN_IN, RouteCase, World, group_page, members_enter, register, register_builder
from ..html import HTMX
from .review import nobody, revoke_url
from .media import media_rights as post_editors


@register_builder
def old_decisions(world: World) -> None:
    """In every target group, an approval its group's client (the foreign owner next door) gave long ago."""
    world.objects["old_decision"], world.objects["waiting_post"] = {}, {}
    for target, group in world.groups.items():
        post = db.session.scalars(select(Post).where(Post.access_group_id == group.id).order_by(Post.id)).first()
        world.objects["waiting_post"][target] = post
        reviewer = world.users["other_account_owner" if target == "foreign" else "client"]
        decision = ApprovalDecision(post_id=post.id, reviewer_id=reviewer.id, decision=Decision.APPROVE.value,
                                    previous_status=PostStatus.PENDING_APPROVAL.value,
                                    created_at=utcnow() - timedelta(hours=2))
        db.session.add(decision)
        world.objects["old_decision"][target] = decision
    db.session.flush()


def undo_url(world: World, target: str) -> str:
    group = world.groups[target]
    return f"/g/{group.id}/waiting/decisions/{world.objects['old_decision'][target].id}/undo"


def decide_url(world: World, target: str) -> str:
    return f"/g/{world.groups[target].id}/waiting/posts/{world.objects['waiting_post'][target].id}/decision"


# Anyone who enters a group sees the page (empty unless they approve something).
register(RouteCase("approvals.waiting", "GET", group_page("waiting"), members_enter(200)))
# Only the profile's approvers decide: nobody in the world approves its posts.
register(RouteCase("approvals.decide", "POST", decide_url, members_enter(403), data={"decision": "approve"},
                   headers=HTMX))
# Only the approver who decided undoes it, within a minute: this one is two hours old (the card says so
# with 409; a plain form goes back to the page with the message instead).
register(RouteCase("approvals.undo", "POST", undo_url, {
    "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 409, "manager": 403, "admin": 403,
            "owner": 403},
    "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 404, "manager": 404, "admin": 404,
                   "owner": 403},
    "foreign": {"anonymous": SIGN_IN, "other_account_owner": 409, "client": 404, "manager": 404, "admin": 404,
                "owner": 404},
}, data={"version": "1"}, headers=HTMX))
# Resending follows posts.edit, like revoking; a reviewer who approves nothing there is told so (303 back).
register(RouteCase("review.resend", "POST", lambda world, target: revoke_url(world, target)[:-len("revoke")] + "resend",
                   post_editors(303)))
# Undo on the review page needs the link's cookie like deciding there.
register(RouteCase("review.undo", "POST", lambda world, target: f"/review/decisions/{world.objects['old_decision']['own'].id}/undo",
                   nobody(404), data={"version": "1"}))
