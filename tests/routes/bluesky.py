"""Routes of Bluesky: signing a profile in with an app password, into a set's empty slot."""
from ..access_matrix import RouteCase, members_enter, register
from .profiles import empty_set_url

# Everyone who may connect profiles in the group sees the form; past the policy, an empty form is 422.
register(RouteCase("bluesky.connect", "GET", empty_set_url("connect/bluesky"), members_enter(200)))
register(RouteCase("bluesky.connect", "POST", empty_set_url("connect/bluesky"), members_enter(422)))
