"""Routes of posts: the composer, the post page and its actions."""
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Post

from ..access_matrix import RouteCase, World, group_page, members_enter, register, register_builder
from ..html import HTMX


@register_builder
def posts(world: World) -> None:
    """The post the world already holds in each target group."""
    world.objects["post"] = {
        target: db.session.scalars(select(Post).where(Post.access_group_id == group.id)).first()
        for target, group in world.groups.items()
    }


def with_right(ok: int, client: int = 403) -> dict[str, dict[str, int]]:
    """A group right managers, admins and the owner hold; clients see the group (`client` says what they get)."""
    statuses = members_enter(ok)
    statuses["own"]["client"] = client
    return statuses


def post_url(suffix: str = ""):
    return lambda world, target: (
        f"/g/{world.groups[target].id}/posts/{world.objects['post'][target].id}{suffix}")


register(RouteCase("posts.new", "GET", group_page("posts/new"), with_right(200)))
# An empty composer is refused with its reason (no profile chosen).
register(RouteCase("posts.create", "POST", group_page("posts"), with_right(422)))
register(RouteCase("posts.media_picker", "GET", group_page("posts/media-picker"), with_right(200),
                   headers=HTMX))
register(RouteCase("posts.show", "GET", post_url(), members_enter(200)))
register(RouteCase("posts.edit", "GET", post_url("/edit"), with_right(200)))
# A scheduled post needs its date and time: an empty form is refused with the reason.
register(RouteCase("posts.update", "POST", post_url(), with_right(422)))
register(RouteCase("posts.unschedule", "POST", post_url("/unschedule"), with_right(303)))
register(RouteCase("posts.delete", "POST", post_url("/delete"), with_right(303)))
# Everyone who sees a post may comment; an empty comment is refused with the reason.
register(RouteCase("posts.comment", "POST", post_url("/comments"), members_enter(422)))
# Anyone who sees the post reaches the decision; without a choice (and not an approver) it is refused.
register(RouteCase("posts.decide", "POST", post_url("/decision"), members_enter(422)))

