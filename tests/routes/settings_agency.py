"""Routes of Settings › Agency (owner and admins) and the time zone on Settings › Your account (anyone)."""
from ..access_matrix import RouteCase, account_settings, any_signed_in, fixed, register

register(RouteCase("settings.agency_settings", "GET", fixed("/settings/agency"), account_settings(200)))
register(RouteCase("settings.agency_settings", "POST", fixed("/settings/agency"), account_settings(422),
                   data={"name": "", "time_zone": "Mars/Olympus", "week_start": "monday", "clock": "24h",
                         "accent_color": "red"}))
register(RouteCase("settings.time_zone", "POST", fixed("/settings/account/time-zone"), any_signed_in(422),
                   data={"zone_choice": "own", "time_zone": "Mars/Olympus"}))
