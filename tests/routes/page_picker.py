"""Routes of the Page picker: choosing the Facebook Page or Instagram account a slot connects to."""
from ..access_matrix import RouteCase, members_enter, register
from .profiles import empty_set_url

# Whoever may connect into the group gets past the policy, where a choice never offered to them is
# refused (400); the set of another tenant, or of a group they may not enter, is not found.
for network in ("facebook", "instagram"):
    picker_url = empty_set_url(f"connect/{network}/choose?picker=never-offered")
    register(RouteCase("page_picker.choose", "GET", picker_url, members_enter(400)))
    register(RouteCase("page_picker.choose", "POST", picker_url, members_enter(400), data={"choice": "1111"}))
