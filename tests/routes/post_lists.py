"""Routes of the post page's lists in full: comments, decisions, review links and history, a page at a time."""
from ..access_matrix import RouteCase, members_enter, register
from ..html import HTMX
from .posts import post_url, with_right

# Whoever sees the post reads its comments, decisions and history, as on the post page; a page that
# htmx loads into the post page answers the same.
for name, path in (("comments", "comments"), ("decisions", "decisions"), ("history", "history")):
    register(RouteCase(f"posts.{name}", "GET", post_url(f"/{path}"), members_enter(200)))
    register(RouteCase(f"posts.{name}", "GET", post_url(f"/{path}?cursor=2099-01-01T00:00:00%2B00:00~1"),
                       members_enter(200), headers=HTMX))
# Review links are for those who may edit the post (they may revoke them), as on the post page.
register(RouteCase("posts.review_links", "GET", post_url("/review-links"), with_right(200)))
register(RouteCase("posts.review_links", "GET", post_url("/review-links?cursor=2099-01-01T00:00:00%2B00:00~1"),
                   with_right(200), headers=HTMX))
