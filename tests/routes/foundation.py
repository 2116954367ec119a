"""Routes of the foundation: group home, switcher, settings, sign-out."""
from ..access_matrix import (
    SIGN_IN, VISITORS, RouteCase, any_signed_in, fixed, group_page, members_enter, register,
)
from ..html import HTMX

register(RouteCase("groups.home", "GET", group_page(""), members_enter(200)))
register(RouteCase("groups.switcher", "GET", group_page("switcher"), members_enter(200),
                   headers=HTMX))
register(RouteCase("groups.no_group", "GET", fixed("/welcome"), {
    # Everyone here may enter a group, so the page sends them on to it.
    "none": {visitor: SIGN_IN if visitor == "anonymous" else 303 for visitor in VISITORS},
}))
register(RouteCase("settings.account", "GET", fixed("/settings/account"), any_signed_in(200)))
register(RouteCase("settings.account", "POST", fixed("/settings/account"), any_signed_in(422),
                   data={"current_password": "", "new_password": "short", "confirm": "other"}))
register(RouteCase("settings.sign_out_elsewhere", "POST", fixed("/settings/account/sign-out-elsewhere"),
                   any_signed_in(303)))
register(RouteCase("auth.logout", "POST", fixed("/logout"), any_signed_in(303)))
