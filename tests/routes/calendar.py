"""Routes of Sidebar › Calendar: the month, week, day and list views, and rescheduling a post."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Post

from ..access_matrix import RouteCase, World, group_page, members_enter, register, register_builder


@register_builder
def calendar_posts(world: World) -> None:
    """The post the world holds in each target group, to reschedule."""
    world.objects["calendar_post"] = {
        target: db.session.scalar(select(Post).where(Post.access_group_id == group.id).order_by(Post.id).limit(1))
        for target, group in world.groups.items()
    }


def post_editors(ok: int) -> dict[str, dict[str, int]]:
    """Everyone who enters the group sees its posts; clients may not change them."""
    statuses = members_enter(ok)
    statuses["own"]["client"] = 403
    return statuses


def reschedule_url(world: World, target: str) -> str:
    post = world.objects["calendar_post"][target]
    return f"/g/{world.groups[target].id}/calendar/posts/{post.id}/reschedule"


def three_days_on(world: World, target: str) -> dict:
    return {"new_date": (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()}


register(RouteCase("calendar.index", "GET", group_page("calendar"), members_enter(200)))
register(RouteCase("calendar.index", "GET", group_page("calendar?view=list&when=past"), members_enter(200)))
register(RouteCase("calendar.index", "GET", group_page("calendar?view=day"), members_enter(200)))
register(RouteCase("calendar.reschedule_form", "GET", reschedule_url, post_editors(200)))
register(RouteCase("calendar.reschedule", "POST", reschedule_url, post_editors(303), data=three_days_on))
