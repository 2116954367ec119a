"""Routes of Settings › Activity: the audit log and its CSV (owner and admins; an admin within their groups)."""
from ..access_matrix import SIGN_IN, RouteCase, account_settings, fixed, register


def one_group(ok: int) -> dict[str, dict[str, int]]:
    """The activity narrowed to one access group: of the reader's account, and one they may enter."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                "admin": ok, "owner": ok},
        "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
                       "admin": 404, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 403, "manager": 403,
                    "admin": 404, "owner": 404},
    }


def in_group(path: str):
    return lambda world, target: f"{path}?group={world.groups[target].id}"


register(RouteCase("activity.index", "GET", fixed("/settings/activity"), account_settings(200)))
register(RouteCase("activity.index", "GET", in_group("/settings/activity"), one_group(200)))
register(RouteCase("activity.csv", "GET", fixed("/settings/activity.csv"), account_settings(200)))
register(RouteCase("activity.csv", "GET", in_group("/settings/activity.csv"), one_group(200)))
