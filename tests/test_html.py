"""tests/html.py: the finders tests read pages with find what a person would, and fail when it is not there."""
from __future__ import annotations

import re

import pytest

from .html import Html

USERS_TAB = """
<table>
  <tr><td>Maya Lopez</td><td>Client</td><td><button type="button">Remove</button></td></tr>
  <tr><td>Sam Manager</td><td>Manager</td><td></td></tr>
</table>
"""


def test_within_looks_only_inside_one_part_of_the_page():
    page = Html(USERS_TAB)
    sam = page.within(page.by_role("row", re.compile(r"^Sam Manager ")))
    assert sam.has_text("Manager") and not sam.has_text("Maya Lopez")
    assert not sam.all_by_role("button")
    assert page.within(page.by_role("row", re.compile(r"^Maya Lopez "))).by_role("button", "Remove")


def test_within_still_reads_labels_from_the_whole_page():
    page = Html('<label for="q">Find a member</label><div id="part"><input id="q" type="search"></div>')
    assert page.within(page.one("#part")).by_label("Find a member").attributes["id"] == "q"


def test_top_level_is_what_a_fragment_swaps_in_in_order():
    page = Html('\n<section id="calendar"><h2>June</h2></section>\n<div id="flashes" hx-swap-oob="true"></div>')
    assert [node.attributes["id"] for node in page.top_level] == ["calendar", "flashes"]


def test_by_datetime_finds_the_one_time_for_a_machine_value():
    page = Html('<p>until <time datetime="2030-06-30">30 Jun 2030</time></p><time datetime="2030-07-01">1 Jul</time>')
    assert page.by_datetime("2030-06-30").text() == "30 Jun 2030"
    with pytest.raises(AssertionError, match="expected one <time"):
        page.by_datetime("2031-01-01")


def test_description_of_reads_what_aria_describedby_names():
    page = Html('<input id="ends_on" aria-describedby="hint ends_on-error">'
                '<p id="hint">The last day.</p><p id="ends_on-error" role="alert">Too  early.</p>')
    assert page.description_of(page.one("#ends_on")) == "The last day. Too early."
    assert page.description_of(page.one("#hint")) == ""


def test_checked_lists_the_ticked_values_of_one_field_in_page_order():
    page = Html('<input type="checkbox" name="groups" value="3" checked>'
                '<input type="checkbox" name="groups" value="1">'
                '<input type="checkbox" name="groups" value="2" checked>'
                '<input type="checkbox" name="rights" value="media.view" checked>'
                '<input type="radio" name="role" value="client" checked>')
    assert page.checked("groups") == ["3", "2"]
    assert page.checked("role") == ["client"]
    assert page.checked("missing") == []


def test_options_are_read_as_shown():
    page = Html('<label for="who">Person</label><select id="who">'
                '<option value="1">Eve  Ended</option><optgroup label="Gone"><option>Fred</option></optgroup></select>')
    assert page.options(page.by_label("Person")) == ["Eve Ended", "Fred"]


def test_hidden_value_is_the_one_value_repeated_forms_send():
    page = Html('<form><input type="hidden" name="csrf_token" value="abc"></form>'
                '<form><input type="hidden" name="csrf_token" value="abc"><input name="q" value="x"></form>')
    assert page.hidden_value("csrf_token") == "abc"
    with pytest.raises(AssertionError, match="hidden 'q'"):
        page.hidden_value("q")  # a visible field is not a hidden one
    two = Html('<input type="hidden" name="id" value="1"><input type="hidden" name="id" value="2">')
    with pytest.raises(AssertionError, match=r"\['1', '2'\]"):
        two.hidden_value("id")


def test_opened_by_follows_a_button_to_its_dialog():
    page = Html('<button type="button" data-dialog-open="delete-1">Delete…</button>'
                '<dialog id="delete-1" aria-labelledby="t"><h2 id="t">Delete “Staff”?</h2></dialog>'
                '<button type="button">Cancel</button>')
    assert page.name_of(page.opened_by(page.by_role("button", "Delete…"))) == "Delete “Staff”?"
    with pytest.raises(AssertionError, match="opens no dialog"):
        page.opened_by(page.by_role("button", "Cancel"))


def test_form_of_is_the_form_around_a_control_or_the_one_it_names():
    page = Html('<form action="/resend"><p><button>Resend</button></p></form>'
                '<form id="f" action="/remove"></form><button form="f">Remove</button><button>Loose</button>')
    assert page.form_of(page.by_role("button", "Resend")).attributes["action"] == "/resend"
    assert page.form_of(page.by_role("button", "Remove")).attributes["action"] == "/remove"
    with pytest.raises(AssertionError, match="in no form"):
        page.form_of(page.by_role("button", "Loose"))


def test_inline_code_finds_what_the_content_policy_forbids():
    clean = Html('<script src="/static/app.js"></script><p class="x">Hello</p>')
    assert clean.inline_code() == []
    dirty = Html('<script>alert(1)</script><style>p{}</style><p style="color:red" onclick="go()">Hi</p>'
                 '<button hx-on:click="go()">Go</button>')
    assert dirty.inline_code() == ["<script> 'alert(1)'", "<style>", "<p style=...>", "<p onclick=...>",
                                   "<button hx-on:click=...>"]
