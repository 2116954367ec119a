"""Routes of LinkedIn's author picker: who a connected profile posts as (the member or a Page)."""
from ..access_matrix import RouteCase, members_enter, register
from .profiles import empty_set_url

# Everyone who may connect into the group reaches the picker; past the policy, a choice that was
# never offered in their session is refused (400), on showing it and on answering it alike.
register(RouteCase("linkedin.author", "GET",
                   lambda world, target: empty_set_url("linkedin/author")(world, target) + "?choice=never-offered",
                   members_enter(400)))
register(RouteCase("linkedin.author", "POST", empty_set_url("linkedin/author"), members_enter(400),
                   data={"choice": "never-offered", "author": "me"}))
