"""Reading pages in tests: elements found by role, label or text, as a person finds them.

    page = Html(client.get(url))
    page.by_role("button", "Create group")      # the one button with that accessible name
    page.by_label("Name").attributes["value"]   # the control a label names
    page.has_text("3 users")

Each finder returns exactly one element or fails saying what it saw; `all_by_role` returns a list.
"""
from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode
from werkzeug.test import TestResponse

# The header htmx sends with each request it makes.
HTMX = {"HX-Request": "true"}

# Elements that have a role without saying so (the subset of ARIA's implicit roles the pages use).
IMPLICIT_ROLES = {
    "button": "button, input[type=submit], input[type=button], summary",
    "link": "a[href]",
    "heading": "h1, h2, h3, h4, h5, h6",
    "textbox": "input:not([type]), input[type=text], input[type=email], input[type=search], textarea",
    "checkbox": "input[type=checkbox]",
    "radio": "input[type=radio]",
    "combobox": "select",
    "list": "ul, ol",
    "listitem": "li",
    "dialog": "dialog",
    "table": "table",
    "row": "tr",
    "navigation": "nav",
    "form": "form[aria-label], form[aria-labelledby]",
    "region": "section[aria-label], section[aria-labelledby]",
}


def squeeze(text: str) -> str:
    """Text as it reads on screen: runs of white space as one space, none at the ends."""
    return re.sub(r"\s+", " ", text).strip()


class Html:
    """A parsed page or fragment."""

    def __init__(self, page: str | bytes | TestResponse) -> None:
        if isinstance(page, TestResponse):
            page = page.get_data(as_text=True)
        if isinstance(page, bytes):
            page = page.decode()
        self.tree = LexborHTMLParser(page)

    # --- by CSS, when structure is what the test is about ---

    def css(self, selector: str) -> list[LexborNode]:
        return self.tree.css(selector)

    def one(self, selector: str) -> LexborNode:
        found = self.css(selector)
        assert len(found) == 1, f"expected one {selector!r}, found {len(found)}"
        return found[0]

    # --- as a person reads the page ---

    @property
    def text(self) -> str:
        body = self.tree.body or self.tree.root
        return squeeze(body.text(separator=" ")) if body is not None else ""

    def has_text(self, text: str) -> bool:
        return squeeze(text) in self.text

    def name_of(self, node: LexborNode) -> str:
        """The element's accessible name: aria-label, aria-labelledby, its label, else its text."""
        attributes = node.attributes
        if attributes.get("aria-label"):
            return squeeze(attributes["aria-label"])
        if attributes.get("aria-labelledby"):
            return " ".join(squeeze(self.tree.css_first(f"#{ref}").text(separator=" "))
                            for ref in attributes["aria-labelledby"].split() if self.tree.css_first(f"#{ref}"))
        if node.tag in ("input", "select", "textarea"):
            label = self._label_of(node)
            if label is not None:
                return label
            if attributes.get("type") in ("submit", "button"):
                return squeeze(attributes.get("value") or "")
        return squeeze(node.text(separator=" "))

    def _label_of(self, node: LexborNode) -> str | None:
        control_id = node.attributes.get("id")
        if control_id:
            for label in self.tree.css("label[for]"):
                if label.attributes.get("for") == control_id:
                    return squeeze(label.text(separator=" "))
        parent = node.parent
        while parent is not None:
            if parent.tag == "label":
                return squeeze(parent.text(separator=" "))
            parent = parent.parent
        return None

    def all_by_role(self, role: str, name: str | re.Pattern[str] | None = None) -> list[LexborNode]:
        """Every element with `role` (said or implicit) whose accessible name is `name` (any if None)."""
        selector = f"[role={role}]"
        if role in IMPLICIT_ROLES:
            selector += ", " + IMPLICIT_ROLES[role]
        found = [node for node in self.css(selector) if node.attributes.get("role") in (None, role)]
        if name is None:
            return found
        if isinstance(name, re.Pattern):
            return [node for node in found if name.search(self.name_of(node))]
        return [node for node in found if self.name_of(node) == squeeze(name)]

    def by_role(self, role: str, name: str | re.Pattern[str] | None = None) -> LexborNode:
        found = self.all_by_role(role, name)
        assert len(found) == 1, (
            f"expected one {role} named {name!r}, found {len(found)} among "
            f"{[self.name_of(node) for node in self.all_by_role(role)]}"
        )
        return found[0]

    def by_label(self, label: str) -> LexborNode:
        """The one form control that `label` names (by <label>, aria-label or aria-labelledby)."""
        controls = [node for node in self.css("input, select, textarea")
                    if node.attributes.get("type") != "hidden" and self.name_of(node) == squeeze(label)]
        assert len(controls) == 1, f"expected one control labelled {label!r}, found {len(controls)}"
        return controls[0]

    def by_text(self, text: str, selector: str = "*") -> LexborNode:
        """The innermost element matching `selector` whose own text reads `text`."""
        wanted = squeeze(text)
        found = [node for node in self.css(selector) if squeeze(node.text(separator=" ")) == wanted
                 and not any(squeeze(child.text(separator=" ")) == wanted for child in node.iter())]
        assert len(found) == 1, f"expected one element reading {text!r}, found {len(found)}"
        return found[0]
