"""Routes of review links: revoking one from the post page, and the public review pages without a token."""
from sqlalchemy import select

from ..access_matrix import VISITORS, RouteCase, World, fixed, register, register_builder
from .media import media_rights as post_editors

from webapp import review
from webapp.extensions import db
from webapp.models import Post


@register_builder
def review_links(world: World) -> None:
    """A review link in every target group covering that group's post, for a reviewer of its account."""
    reviewers = {"own": world.users["client"], "unassigned": world.users["client"],
                 "foreign": world.users["other_account_owner"]}
    world.objects["review_post"], world.objects["review_link"] = {}, {}
    for target, group in world.groups.items():
        post = db.session.scalars(select(Post).where(Post.access_group_id == group.id).order_by(Post.id)).first()
        link, _token = review.issue_link(reviewers[target], [post], created_by=None)
        world.objects["review_post"][target] = post
        world.objects["review_link"][target] = link
    db.session.flush()


def revoke_url(world: World, target: str) -> str:
    post, link = world.objects["review_post"][target], world.objects["review_link"][target]
    return f"/g/{post.access_group_id}/posts/{post.id}/review-links/{link.id}/revoke"


def nobody(status: int) -> dict[str, dict[str, int]]:
    """A public review page without a review cookie: every visitor, signed in or not, gets `status`."""
    return {"none": {visitor: status for visitor in VISITORS}}


# Revoking follows posts.edit, like editing the post: managers and above, not clients.
register(RouteCase("review.revoke", "POST", revoke_url, post_editors(303)))

# Signing in opens no review: without the link's token, the review pages show nothing to anyone.
register(RouteCase("review.open_link", "GET", fixed("/review/not-a-real-token"), nobody(404)))
register(RouteCase("review.page", "GET", fixed("/review"), nobody(404)))
register(RouteCase("review.media", "GET",
                   lambda world, target: f"/review/media/{world.objects['media']['own'].id}", nobody(404)))
register(RouteCase("review.decide", "POST",
                   lambda world, target: f"/review/posts/{world.objects['review_post']['own'].id}", nobody(404),
                   data={"decision": "approve"}))
