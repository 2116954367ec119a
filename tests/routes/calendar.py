"""Routes of Sidebar › Calendar: the month, week, day and list views, rescheduling a post and undoing it."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp import posts
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


@register_builder
def calendar_moves(world: World) -> None:
    """A move of each target's post to another day, to undo: by the manager in the visitors' group, by
    each account's owner elsewhere. Dated ahead, so its Undo stays open however long the matrix runs."""
    movers = {"own": world.users["manager"], "unassigned": world.users["owner"],
              "foreign": world.users["other_account_owner"]}
    world.objects["calendar_move"] = {}
    for target, mover in movers.items():
        post = world.objects["calendar_post"][target]
        event = posts.reschedule(post, post.scheduled_at + timedelta(days=1), mover)
        event.created_at = datetime.now(timezone.utc) + timedelta(days=1)
        world.objects["calendar_move"][target] = event
    db.session.flush()


def undo_url(world: World, target: str) -> str:
    event = world.objects["calendar_move"][target]
    return f"{reschedule_url(world, target)}/{event.id}/undo"


def the_mover(ok: int) -> dict[str, dict[str, int]]:
    """Only the person who moved the post takes the move back; other editors are refused."""
    statuses = post_editors(ok)
    statuses["own"].update(admin=403, owner=403)
    return statuses


register(RouteCase("calendar.undo_reschedule", "POST", undo_url, the_mover(303)))
