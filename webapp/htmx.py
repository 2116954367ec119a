"""Request and response helpers for htmx: one URL, one view, full page or named block."""
from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """The request was made by htmx (boosted, history restore or a plain swap)."""
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """htmx asked for a piece of a page, not a whole page to display or restore."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    template: str,
    block: str | None = None,
    status: int = 200,
    also: tuple[str, ...] = (),
    refresh_shell: bool = True,
    **context: Any,
) -> Response:
    """Render `block` of `template` for a partial request, the whole page otherwise.

    `also` names more blocks of the page that the change affects; a partial response carries
    them out of band (rendered with `oob` set, so each marks itself `hx-swap-oob`). Pages whose
    main content is swapped also refresh the sidebar, so the switcher matches the content;
    `refresh_shell=False` leaves it alone for a piece that is not the page's main content.
    """
    if block and is_partial():
        body = render_block(template, block, **context)
        for extra in also:
            body += render_block(template, extra, **{**context, "oob": True})
        if refresh_shell:
            body += render_template("layout/_shell_oob.html", **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str) -> Response:
    """Send the browser to `location`: a full navigation for htmx, a 303 otherwise."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
    else:
        response = make_response("", 303)
        response.headers["Location"] = location
    response.vary.add("HX-Request")
    return response


# Response headers htmx reads (https://htmx.org/reference/#response_headers), one helper each.


def trigger(response: Response, event: str) -> Response:
    """Fire `event` on the page once htmx has the response (listeners use `hx-trigger="<event> from:body"`)."""
    response.headers["HX-Trigger"] = event
    return response


def retarget(response: Response, selector: str, swap: str | None = None) -> Response:
    """Swap the response into `selector` instead of the requesting element's target (and swap it `swap`)."""
    response.headers["HX-Retarget"] = selector
    if swap is not None:
        reswap(response, swap)
    return response


def reswap(response: Response, swap: str) -> Response:
    """Swap the response the `swap` way (`outerHTML`, `innerHTML`, ...) instead of the element's own."""
    response.headers["HX-Reswap"] = swap
    return response


def push_url(response: Response, url: str) -> Response:
    """Put `url` in the address bar and history, as if the browser had navigated there."""
    response.headers["HX-Push-Url"] = url
    return response
