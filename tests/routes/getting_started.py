"""Routes of the getting-started checklist on a group's Overview."""
from ..access_matrix import SIGN_IN, RouteCase, group_page, register

# Dismissing is for those who manage the group (the owner, and admins in groups they enter); managers and
# clients see the group but may not; another tenant's group is not found.
register(RouteCase("groups.dismiss_checklist", "POST", group_page("checklist/dismiss"), {
    "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": 403,
            "admin": 303, "owner": 303},
    "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 404, "manager": 404,
                   "admin": 404, "owner": 303},
    "foreign": {"anonymous": SIGN_IN, "other_account_owner": 303, "client": 404, "manager": 404,
                "admin": 404, "owner": 404},
}))
