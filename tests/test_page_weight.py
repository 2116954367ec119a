"""What a page makes the browser download: its styles and scripts stay small, area code only where it is used.

Every page loads the core (app.css, app.js, htmx); a page of an area adds that area's style sheet
(static/css/<area>.css) first thing in its content and the script modules it names (static/js/, see
webapp/assets.py). SortableJS comes with the pages that drag, and only there.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit

from webapp.assets import MODULES

from . import scenarios
from .access_matrix import World, load_routes
from .html import Html

BUDGET = 40 * 1024  # bytes of CSS and JavaScript a page loads, gzipped
SORTABLE = "vendor/Sortable.min.js"
CORE = {"app.css", "app.js", "vendor/htmx.min.js"}
# SortableJS (15 KB gzipped) is left out of the budget on these pages alone: they drag.
DRAG_PAGES = {"calendar.index", "organize.index"}
PUBLIC_PAGES = ("/login", "/forgot")
# The blueprints whose pages may load an area's style sheet.
AREA_SHEETS = {
    "access_groups": {"access_groups"}, "access_review": {"access_review"}, "activity": {"activity"},
    "approvals": {"approvals", "groups"}, "calendar": {"calendar"}, "campaigns": {"campaigns"},
    "media": {"media"}, "members": {"team", "members"}, "notifications": {"notifications"},
    "organize": {"organize"}, "posts": {"posts"}, "review": {"review"}, "settings": {"settings"},
    "user_groups": {"user_groups"},
}
# The pages each script module runs on, and no others.
MODULE_PAGES = {
    "calendar": {"calendar.index"}, "organize": {"organize.index"}, "media": {"media.index"},
    "composer": {"posts.new", "posts.edit"}, "invite": {"team.index"}, "zones": {"settings.account"},
}


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


def weight(app, names: list[str], endpoint: str) -> int:
    """The page's gzipped CSS and JavaScript, SortableJS left out on a drag page."""
    return sum(gzipped_size(app, name) for name in names if not (name == SORTABLE and endpoint in DRAG_PAGES))


def modules_named(page: Html) -> set[str]:
    return {node.attributes["data-module"] for node in page.css("[data-module]")}


def test_every_page_stays_within_the_budget_and_loads_area_code_only_where_it_is_used(app, client, auth):
    """Each page's gzipped CSS and JavaScript is at most 40 KB (SortableJS aside on the drag pages alone);
    an area's sheet and a module's scripts come only with the pages that use them."""
    seen: set[str] = set()
    over, misplaced = [], []
    module_pages: dict[str, set[str]] = {name: set() for name in MODULES}
    for endpoint, url, page in full_pages(client, auth):
        seen.add(endpoint)
        names = assets(app, page)
        assert CORE <= set(names), f"{url} lacks the core styles or scripts: {names}"
        assert len(names) == len(set(names)), f"{url} loads a file twice: {names}"
        if weight(app, names, endpoint) > BUDGET:
            over.append(f"{url}: {weight(app, names, endpoint) / 1024:.1f} KB")
        blueprint = endpoint.partition(".")[0]
        sheets = [name.removeprefix("css/").removesuffix(".css") for name in names if name.startswith("css/")]
        if any(blueprint not in AREA_SHEETS[sheet] for sheet in sheets):
            misplaced.append(f"{url}: {sheets}")
        # The modules the page names are the ones whose scripts its head runs, SortableJS first where they drag.
        named = modules_named(page)
        scripts = [name for name in names if name.endswith(".js") and name not in CORE]
        assert scripts == [path for module in sorted(named) for path in MODULES[module]], \
            f"{url} names the modules {sorted(named)} but runs {scripts}"
        for module in named:
            module_pages[module].add(endpoint)
        if (SORTABLE in names) != (endpoint in DRAG_PAGES):
            misplaced.append(f"{url}: SortableJS {'where nothing drags' if SORTABLE in names else 'missing'}")
    assert DRAG_PAGES <= seen and len(seen) > 20, f"too few pages were weighed: {sorted(seen)}"
    assert not over, f"pages over {BUDGET // 1024} KB of gzipped CSS and JavaScript: {over}"
    assert not misplaced, f"area code on pages outside its area: {misplaced}"
    assert module_pages == MODULE_PAGES


def test_an_area_sheet_comes_first_in_the_content_once_so_an_htmx_swap_brings_it(app, client, auth):
    """The sheet is the first thing in #main (app.css hides what follows it until the sheet, whose last
    rule shows it, has loaded), and a page has one at most: each sheet shows all that follows it."""
    with_sheet = set()
    for endpoint, url, page in full_pages(client, auth):
        links = page.css("link[data-area]")
        assert len(links) <= 1, f"{url} loads {len(links)} area sheets"
        if links and endpoint != "review.page":
            main = page.one("main#main")
            assert next(main.iter()) == links[0], f"{url}: the area sheet is not the first thing in #main"
            with_sheet.add(endpoint)
    assert {"calendar.index", "media.index", "organize.index", "activity.index"} <= with_sheet
    static = Path(app.static_folder) / "css"
    for sheet in static.glob("*.css"):
        assert sheet.read_text().rstrip().endswith(".main > link[data-area] ~ * { visibility: visible; animation: none; }"), \
            f"{sheet.name} does not show the page it was hiding"


def test_the_review_page_loads_the_core_and_its_own_sheet_from_roster_itself(app, review_agency):
    """A reviewer's page: nothing from another host, no area code but its own sheet, within the budget."""
    _, token = scenarios.issue(review_agency)
    browser = scenarios.opened(app, token)
    page = Html(browser.get(f"/review/{token}", follow_redirects=True))
    names = assets(app, page)  # fails on any file from outside the app's static files
    assert sorted(names) == sorted(CORE | {"css/review.css"})
    assert weight(app, names, "review.page") <= BUDGET
