"""Reading pages in tests: elements found by role, label or text, as a person finds them.

    page = Html(client.get(url))
    page.by_role("button", "Create group")      # the one button with that accessible name
    page.by_label("Name").attributes["value"]   # the control a label names
    page.has_text("3 users")
    row = page.within(page.by_role("row", re.compile(r"^Maya Lopez ")))  # look inside one part only

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
        self.scope: LexborNode | None = None  # set by `within`: finders then look only inside it

    def within(self, node: LexborNode) -> Html:
        """The same page, looked at only inside `node` (a row, a dialog, a card), `node` included.

        Labels and aria-labelledby references still resolve against the whole page.
        """
        part = Html.__new__(Html)
        part.tree, part.scope = self.tree, node
        return part

    # --- by CSS, when structure is what the test is about ---

    def css(self, selector: str) -> list[LexborNode]:
        return (self.tree if self.scope is None else self.scope).css(selector)

    def one(self, selector: str) -> LexborNode:
        found = self.css(selector)
        assert len(found) == 1, f"expected one {selector!r}, found {len(found)}"
        return found[0]

    @property
    def top_level(self) -> list[LexborNode]:
        """The elements at the top of the page's body, in order: for a fragment, what htmx swaps in."""
        body = self.tree.body
        return list(body.iter()) if body is not None else []

    # --- as a person reads the page ---

    @property
    def text(self) -> str:
        body = self.scope if self.scope is not None else (self.tree.body or self.tree.root)
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

    def by_datetime(self, value: str) -> LexborNode:
        """The one <time> whose machine-readable `datetime` is `value`; its text is what people read."""
        found = [node for node in self.css("time") if node.attributes.get("datetime") == value]
        assert len(found) == 1, f"expected one <time datetime={value!r}>, found {len(found)}"
        return found[0]

    def description_of(self, node: LexborNode) -> str:
        """The element's accessible description: the text of the elements its aria-describedby names."""
        refs = (node.attributes.get("aria-describedby") or "").split()
        described = [self.tree.css_first(f'[id="{ref}"]') for ref in refs]
        return " ".join(squeeze(part.text(separator=" ")) for part in described if part is not None)

    def checked(self, name: str) -> list[str]:
        """The values of the ticked checkboxes and radio buttons called `name`, in page order."""
        return [node.attributes.get("value") or "on" for node in self.css("input[type=checkbox], input[type=radio]")
                if node.attributes.get("name") == name and "checked" in node.attributes]

    def options(self, select: LexborNode) -> list[str]:
        """The texts of a select's options, in order."""
        return [squeeze(option.text(separator=" ")) for option in select.css("option")]

    def hidden_value(self, name: str) -> str:
        """The value the page's hidden inputs called `name` send (a form token repeated in many forms is one value)."""
        values = {node.attributes.get("value") for node in self.css("input[type=hidden]")
                  if node.attributes.get("name") == name}
        assert len(values) == 1, f"expected one value for hidden {name!r}, found {sorted(map(str, values))}"
        return values.pop() or ""

    def opened_by(self, button: LexborNode) -> LexborNode:
        """The <dialog> that `button` opens (app.js opens the dialog whose id its data-dialog-open names)."""
        target = button.attributes.get("data-dialog-open")
        assert target, f"{self.name_of(button)!r} opens no dialog"
        found = [node for node in self.tree.css("dialog") if node.attributes.get("id") == target]
        assert len(found) == 1, f"expected one dialog #{target}, found {len(found)}"
        return found[0]

    def inline_code(self) -> list[str]:
        """Inline scripts, <style> elements, style=, on*= and hx-on*= attributes: what the content policy forbids."""
        found = [f"<script> {squeeze(node.text())[:40]!r}" for node in self.css("script")
                 if "src" not in node.attributes]
        found += ["<style>" for _ in self.css("style")]
        for node in self.css("*"):
            found += [f"<{node.tag} {name}=...>" for name in node.attributes
                      if name == "style" or name.startswith(("on", "hx-on"))]
        return found

    def form_of(self, control: LexborNode) -> LexborNode:
        """The form a control belongs to: the one its form= attribute names, else the nearest around it."""
        owner = control.attributes.get("form")
        if owner:
            return self.tree.css_first(f'[id="{owner}"]')
        node = control.parent
        while node is not None and node.tag != "form":
            node = node.parent
        assert node is not None, f"{self.name_of(control)!r} is in no form"
        return node
