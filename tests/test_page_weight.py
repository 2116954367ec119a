"""What a page makes the browser download: its styles and scripts stay small, SortableJS only where things drag."""
from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit

from .access_matrix import World, load_routes
from .html import Html

BUDGET = 40 * 1024  # bytes of CSS and JavaScript a page loads, gzipped
SORTABLE = "vendor/Sortable.min.js"
# SortableJS (15 KB gzipped) comes on top of the budget, and only on these pages: they drag.
DRAG_PAGES = {"calendar.index", "organize.index"}
PUBLIC_PAGES = ("/login", "/forgot")


def assets(app, page: Html) -> list[str]:
    """The static files (paths under static/) of the page's stylesheets and scripts."""
    static = app.static_url_path + "/"
    urls = [node.attributes["href"] for node in page.css("link[rel=stylesheet][href]")]
    urls += [node.attributes["src"] for node in page.css("script[src]")]
    paths = [urlsplit(url).path for url in urls]
    outside = [path for path in paths if not path.startswith(static)]
    assert not outside, f"assets from outside the app's static files: {outside}"
    return [path.removeprefix(static) for path in paths]


def gzipped_size(app, name: str) -> int:
    data = (Path(app.static_folder) / name).read_bytes()
    return len(gzip.compress(data, compresslevel=app.config.get("COMPRESS_LEVEL", 6)))


def full_pages(client, auth):
    """(endpoint, url, page) for every page the access matrix shows an agency's owner, and the public ones."""
    routes = load_routes()
    world = World.build()
    for url in PUBLIC_PAGES:
        yield url, url, Html(client.get(url))
    auth.login(world.users["owner"])
    for route in routes:
        if route.method != "GET" or route.headers.get("HX-Request"):
            continue
        for visitor, target, expected in route.cases():
            if visitor != "owner" or expected != 200 or target not in ("own", "none"):
                continue
            url = route.url(world, target)
            response = client.get(url, buffered=True)  # a streamed CSV is read while its request lasts
            if response.mimetype == "text/html" and b"<html" in response.data:
                yield route.endpoint, url, Html(response)


def test_every_page_stays_within_the_budget_and_only_drag_pages_load_sortable(app, client, auth):
    """Each page's gzipped CSS and JavaScript, SortableJS aside, is at most 40 KB; SortableJS comes with drag pages only."""
    sizes: dict[str, int] = {}
    seen: set[str] = set()
    over, sortable_misplaced = [], []
    for endpoint, url, page in full_pages(client, auth):
        seen.add(endpoint)
        names = assets(app, page)
        assert "app.css" in names and "app.js" in names, f"{url} lacks the app's own style or script"
        weight = sum(sizes.setdefault(name, gzipped_size(app, name)) for name in names if name != SORTABLE)
        if weight > BUDGET:
            over.append(f"{url}: {weight / 1024:.1f} KB")
        if (SORTABLE in names) != (endpoint in DRAG_PAGES):
            sortable_misplaced.append(url)
    assert DRAG_PAGES <= seen and len(seen) > 20, f"too few pages were weighed: {sorted(seen)}"
    assert not over, f"pages over {BUDGET // 1024} KB of gzipped CSS and JavaScript: {over}"
    assert not sortable_misplaced, f"SortableJS where nothing drags, or missing where things do: {sortable_misplaced}"
