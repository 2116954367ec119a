"""Routes of connecting a Mastodon profile: the instance form, shown and sent."""
from ..access_matrix import RouteCase, members_enter, register
from .profiles import empty_set_url

# Everyone who may connect profiles in a group (clients too) is asked for the instance.
register(RouteCase("mastodon.connect", "GET", empty_set_url("connect/mastodon"), members_enter(200)))
# Past the policy, a name that is no server is refused on the form, before any call goes out.
register(RouteCase("mastodon.connect", "POST", empty_set_url("connect/mastodon"), members_enter(422),
                   data={"instance": "not a server", "origin": "group"}))
