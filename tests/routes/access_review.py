"""Routes of Settings › Access review: the review, its CSV, and the "Why?" explainer (owner and admins)."""
from ..access_matrix import SIGN_IN, RouteCase, World, account_settings, fixed, register


def one_group(ok: int) -> dict[str, dict[str, int]]:
    """A question about an access group: of the reviewer's account, and one they may enter."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": ok, "owner": ok},
        "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                       "admin": 404, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                    "admin": 404, "owner": 404},
    }


def why_url(world: World, target: str) -> str:
    """Why may a member of the target group's account upload media there?"""
    member = world.users["other_account_owner" if target == "foreign" else "client"]
    return (f"/settings/access-review/why?user_id={member.id}&group_id={world.groups[target].id}"
            "&action=media.upload")


register(RouteCase("access_review.index", "GET", fixed("/settings/access-review"), account_settings(200)))
register(RouteCase("access_review.csv", "GET", fixed("/settings/access-review.csv"), account_settings(200)))
register(RouteCase("access_review.why", "GET", why_url, one_group(200)))
register(RouteCase("access_review.why_form", "GET",
                   lambda world, target: f"/settings/access-review/why/form?group_id={world.groups[target].id}",
                   one_group(200)))
