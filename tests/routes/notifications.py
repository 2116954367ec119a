"""Routes of notifications: the list, opening one, Mark all as read, and the delivery choices.

Every signed-in person has their own list and choices. A notification opens only for its own person
(anyone else gets 404, as if it did not exist); it leads on to its post while the person may still see
the post, and says the post is no longer available to them once they may not.
"""
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Notification, NotificationKind, Post

from ..access_matrix import SIGN_IN, VISITORS, RouteCase, World, any_signed_in, fixed, register, register_builder
from ..html import HTMX


@register_builder
def notifications(world: World) -> None:
    """A notification of the manager about the post of the group everyone enters (own) and of the group
    only the owner enters (unassigned), and one of the owner next door about their own post (foreign)."""
    found = {}
    for target, person in (("own", "manager"), ("unassigned", "manager"), ("foreign", "other_account_owner")):
        group = world.groups[target]
        post = db.session.scalar(select(Post).where(Post.access_group_id == group.id).order_by(Post.id).limit(1))
        notification = Notification(user_id=world.users[person].id, account_id=group.account_id,
                                    kind=NotificationKind.COMMENT_ADDED.value, access_group_id=group.id,
                                    post_id=post.id, message="Someone commented on your post")
        db.session.add(notification)
        found[target] = notification
    db.session.flush()
    world.objects["notification"] = found


def only(person: str, status: int) -> dict[str, int]:
    """`status` for the notification's own person, 404 for every other signed-in visitor."""
    return {visitor: SIGN_IN if visitor == "anonymous" else status if visitor == person else 404
            for visitor in VISITORS}


register(RouteCase("notifications.index", "GET", fixed("/notifications"), any_signed_in(200)))
register(RouteCase("notifications.index", "GET", fixed("/notifications?cursor=2099-01-01T00:00:00%2B00:00~1"),
                   any_signed_in(200), headers=HTMX))
register(RouteCase("notifications.read_all", "POST", fixed("/notifications/read"), any_signed_in(303)))
register(RouteCase("notifications.open", "GET",
                   lambda world, target: f"/notifications/{world.objects['notification'][target].id}/open", {
                       "own": only("manager", 303),
                       # The manager may not see that group's post: the page says it is no longer theirs to see.
                       "unassigned": only("manager", 200),
                       "foreign": only("other_account_owner", 303),
                   }))
register(RouteCase("notifications.preferences", "GET", fixed("/settings/notifications"), any_signed_in(200)))
register(RouteCase("notifications.preferences", "POST", fixed("/settings/notifications"), any_signed_in(303),
                   data={"comment_added": "digest", "decision_made": "now", "publish_failed": "now",
                         "access_granted": "off", "access_ending": "now"}))
register(RouteCase("notifications.preferences", "POST", fixed("/settings/notifications"), any_signed_in(422),
                   data={"comment_added": "loudly"}))
