"""The guard every browser test relies on: it really notices CSP violations and script errors."""
from __future__ import annotations

import time

from playwright.sync_api import Page


def wait_for_problems(page: Page, browser_problems, *needles: str) -> list[str]:
    """Take the problems seen once each needle is among them (console events arrive a moment late)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(any(needle in problem for problem in browser_problems.seen) for needle in needles):
            break
        page.wait_for_timeout(50)
    return browser_problems.clear()


def test_inline_script_and_style_are_blocked_and_reported(page: Page, browser_problems):
    page.goto("/login")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inlineRan = true";
          document.body.append(script);
          document.body.setAttribute("style", "outline: 1px solid red");
        }"""
    )
    # The page's own listener reports after Chromium's console message, so it is the last to come.
    problems = wait_for_problems(page, browser_problems, "CSP violation: script-src", "CSP violation: style-src")

    assert page.evaluate("window.__inlineRan") is None
    assert any("CSP violation: script-src" in problem for problem in problems)
    assert any("CSP violation: style-src" in problem for problem in problems)


def test_uncaught_exception_is_reported(page: Page, browser_problems):
    page.goto("/login")
    page.evaluate("setTimeout(() => { throw new Error('boom from the page') })")
    problems = wait_for_problems(page, browser_problems, "boom from the page")

    assert any("uncaught exception" in problem and "boom from the page" in problem for problem in problems)
