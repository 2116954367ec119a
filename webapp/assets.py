"""What a page loads besides the core style sheet and script (static/app.css, static/app.js).

An area's style sheet (static/css/<area>.css) is the first thing in its page's main block, so a full load
and an htmx swap into #main bring it alike, and it leaves with the page; app.css hides what follows it until
it has loaded (the sheet's last rule shows it again), so the page never shows without its styles.

A script module (static/js/) runs where a page names it with data-module="<module>" on the element it works
on. A full page also lists the module's scripts in its head (its scripts block), so they run before htmx
reads the page; app.js fetches them when htmx brings such a page into another one. Every URL comes from
url_for, like any other static file's.
"""
from __future__ import annotations

from flask import url_for
from markupsafe import Markup

SORTABLE = "vendor/Sortable.min.js"

# Each module's scripts, in the order they run: the pages that drag get SortableJS first.
MODULES: dict[str, tuple[str, ...]] = {
    "calendar": (SORTABLE, "js/calendar.js"),
    "organize": (SORTABLE, "js/organize.js"),
    "media": ("js/media.js",),
    "composer": ("js/composer.js",),
    "zones": ("js/zones.js",),
    "invite": ("js/invite.js",),
}


def module_sources() -> dict[str, list[str]]:
    """The URLs of each module's scripts, for app.js to fetch (base.html hands them to it)."""
    return {name: [url_for("static", filename=path) for path in paths] for name, paths in MODULES.items()}


def module_scripts(name: str) -> Markup:
    """`{{ module_scripts("calendar") }}` in a page's scripts block: the module's scripts, deferred."""
    return Markup("").join(Markup('<script src="{}" defer></script>').format(source)
                           for source in module_sources()[name])


def area_styles(area: str) -> Markup:
    """`{{ area_styles("calendar") }}` first in a page's main block: the area's style sheet."""
    href = url_for("static", filename=f"css/{area}.css")
    return Markup('<link rel="stylesheet" href="{}" data-area="{}">').format(href, area)
