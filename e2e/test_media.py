"""The media library in a browser: uploads with progress, multi-select, Move, Delete, and refused files."""
from __future__ import annotations

import io
import re
import uuid

from PIL import Image
from playwright.sync_api import Locator, Page, expect

from .helpers import sign_in
from .test_activity import axe_violations
from .test_shell import switch_group


def unique(stem: str) -> str:
    """A name no other test uses, since the session's server is shared."""
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def image_file(name: str, colour: str, image_format: str = "PNG") -> dict:
    """A real image made by Pillow, in the shape `set_input_files` takes."""
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, format=image_format)
    mime_type = "image/png" if image_format == "PNG" else "image/jpeg"
    return {"name": name, "mimeType": mime_type, "buffer": buffer.getvalue()}


def open_library(page: Page, live_server, group: str) -> None:
    """Open the Media page of the access group `group`."""
    page.goto(f"/g/{live_server.group_id(group)}/media")
    expect(page.get_by_role("heading", name="Media", level=1)).to_be_visible()


def grid(page: Page) -> Locator:
    return page.get_by_role("list", name="Media items")


def tile(page: Page, name: str) -> Locator:
    """The tile of the item called `name` in the library's grid."""
    return grid(page).locator("li.media-tile").filter(has=page.get_by_role("img", name=name, exact=True))


def item_id(page: Page, name: str) -> int:
    """The id of the item called `name`, read from its tile."""
    return int(re.sub(r"\D", "", tile(page, name).get_attribute("id")))


def media_count(page: Page) -> int:
    """How many items the library says it holds."""
    return int(page.get_by_test_id("media-count").locator("strong").inner_text())


def expect_count(page: Page, total: int) -> None:
    word = "item" if total == 1 else "items"
    expect(page.get_by_test_id("media-count")).to_have_text(f"{total} {word} in this library")


def upload_row(page: Page, name: str) -> Locator:
    return page.get_by_role("list", name="Uploads").get_by_role("listitem").filter(has_text=name)


def upload(page: Page, files: list[dict]) -> None:
    """Choose `files` in the picker and wait until each one is uploaded and its thumbnail shown."""
    # Reached through htmx, the library is busy until its script has arrived, as a person sees it.
    expect(page.locator("#library")).not_to_have_attribute("aria-busy", "true")
    page.get_by_label("Upload files…").set_input_files(files)
    for file in files:
        row = upload_row(page, file["name"])
        expect(row).to_contain_text("Uploaded")
        expect(row.get_by_role("progressbar", name=f"Upload of {file['name']}")).to_have_js_property("value", 100)
        thumbnail = tile(page, file["name"]).get_by_role("img", name=file["name"], exact=True)
        expect(thumbnail).to_be_visible()
        expect(thumbnail).to_have_attribute("src", re.compile(r"^/media/\d+/thumbnail$"))
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())


def selection_count(page: Page) -> Locator:
    return page.get_by_role("form", name="Selected items").locator("#selection-count")


def check_box(page: Page, name: str) -> Locator:
    return page.get_by_role("checkbox", name=f"Select {name}", exact=True)


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator, backwards: bool = False, limit: int = 30) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if is_focused(target):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    assert is_focused(target), f"{limit} presses of Tab never reached {target}"


def test_manager_uploads_selects_with_shift_and_moves_items_out_of_the_creators_library(
    page: Page, new_context, live_server, browser_problems
):
    """Three uploads show progress and thumbnails, a Shift-click range selects them, Move takes them away."""
    names = [f"{unique('sam-move')}-{letter}.{suffix}" for letter, suffix in (("a", "png"), ("b", "jpg"), ("c", "png"))]
    sign_in(page, "sam@northstar.example")
    page.goto(f"/g/{live_server.group_id('Maya Lopez')}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Media").click()
    expect(page).to_have_url(re.compile(rf"/g/{live_server.group_id('Maya Lopez')}/media$"))
    expect(page.get_by_role("heading", name="Media", level=1)).to_be_visible()
    before = media_count(page)

    upload(page, [image_file(names[0], "#4f46e5"), image_file(names[1], "#db2777", "JPEG"),
                  image_file(names[2], "#059669")])
    expect_count(page, before + 3)
    # Sent one after the other, each new tile goes on top: the newest (c) first.
    expect(grid(page).locator("li.media-tile img").nth(0)).to_have_attribute("alt", names[2])
    expect(grid(page).locator("li.media-tile img").nth(1)).to_have_attribute("alt", names[1])
    expect(grid(page).locator("li.media-tile img").nth(2)).to_have_attribute("alt", names[0])
    ids = [item_id(page, name) for name in names]

    # A click selects c; a Shift-click on a selects the range c..a, and so b, never clicked.
    move_button = page.get_by_role("button", name="Move…")
    expect(selection_count(page)).to_have_text("No items selected")
    expect(move_button).to_be_disabled()
    check_box(page, names[2]).click()
    expect(selection_count(page)).to_have_text("1 item selected")
    expect(check_box(page, names[1])).not_to_be_checked()
    check_box(page, names[0]).click(modifiers=["Shift"])
    expect(selection_count(page)).to_have_text("3 items selected")
    for name in names:
        expect(check_box(page, name)).to_be_checked()
    expect(move_button).to_be_enabled()

    move_button.click()
    dialog = page.get_by_role("dialog", name="Move 3 items to another group")
    expect(dialog).to_be_visible()
    # Sam may upload to Northstar HQ and Jonah Reed, not to the creators Ivy works for.
    expect(dialog.get_by_role("radio")).to_have_count(2)
    expect(dialog.get_by_role("radio", name="Priya Shah")).to_have_count(0)
    dialog.get_by_role("radio", name="Jonah Reed").check()
    dialog.get_by_role("button", name="Move", exact=True).click()

    expect(page.get_by_text("Moved 3 items to “Jonah Reed”.")).to_be_visible()
    expect(dialog).to_be_hidden()
    for name in names:
        expect(tile(page, name)).to_have_count(0)
    expect_count(page, before)
    expect(selection_count(page)).to_have_text("No items selected")

    # They are in Jonah Reed's library now.
    jonah = live_server.group_id("Jonah Reed")
    switch_group(page, "Jonah Reed")
    expect(page).to_have_url(re.compile(rf"/g/{jonah}/(media)?$"))
    expect(page.get_by_test_id("current-group")).to_have_text("Jonah Reed")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Media").click()
    expect(page).to_have_url(re.compile(rf"/g/{jonah}/media$"))
    expect(page.get_by_role("main").get_by_text("Jonah Reed", exact=True)).to_be_visible()
    for name in names:
        thumbnail = tile(page, name).get_by_role("img", name=name, exact=True)
        expect(thumbnail).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())

    # Maya, whose library they left, no longer sees them, nor may she fetch their files.
    maya = new_context().new_page()
    sign_in(maya, "maya@northstar.example")
    maya.get_by_role("navigation", name="Main").get_by_role("link", name="Media").click()
    expect(maya.get_by_role("heading", name="Media", level=1)).to_be_visible()
    expect(grid(maya).locator("li.media-tile").first).to_be_visible()
    for name in names:
        expect(grid(maya).get_by_role("img", name=name, exact=True)).to_have_count(0)
    browser_problems.expect_status(404)
    for moved_id in ids:
        for path in (f"/media/{moved_id}/file", f"/media/{moved_id}/thumbnail"):
            response = maya.goto(path)
            assert response is not None and response.status == 404, path


def test_a_program_named_like_an_image_is_refused(page: Page, live_server, browser_problems):
    """A renamed .exe is refused by its content, says why, and adds nothing to the library."""
    browser_problems.expect_status(422)  # the refused upload is answered 422 on purpose
    fake = f"{unique('priya-holiday')}.png"
    real = f"{unique('priya-real')}.png"
    sign_in(page, "priya@northstar.example")
    open_library(page, live_server, "Priya Shah")
    before = media_count(page)

    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(2048)
    page.get_by_label("Upload files…").set_input_files(
        [{"name": fake, "mimeType": "image/png", "buffer": program}, image_file(real, "#d97706")]
    )

    refusal = upload_row(page, fake).get_by_role("alert")
    expect(refusal).to_contain_text(f"“{fake}” is not a JPEG, PNG, GIF or WebP image")
    # The next file in the queue still goes through.
    expect(upload_row(page, real)).to_contain_text("Uploaded")
    expect(upload_row(page, real).get_by_role("alert")).to_have_count(0)
    expect(tile(page, real)).to_have_count(1)
    expect(tile(page, fake)).to_have_count(0)
    expect(grid(page).get_by_text(fake)).to_have_count(0)
    expect_count(page, before + 1)

    page.reload()
    expect(tile(page, real)).to_have_count(1)
    expect(grid(page).get_by_text(fake)).to_have_count(0)


def test_an_item_moves_by_keyboard_alone(page: Page, live_server):
    """Space selects, Enter opens Move, arrows pick the group, Enter moves: no mouse needed."""
    name = f"{unique('ivy-keys')}.png"
    sign_in(page, "ivy@northstar.example")
    open_library(page, live_server, "Priya Shah")
    upload(page, [image_file(name, "#0891b2")])
    before = media_count(page)

    box = check_box(page, name)
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(selection_count(page)).to_have_text("1 item selected")

    # The selection bar comes before the grid, so the Move button is behind the focus.
    move_button = page.get_by_role("button", name="Move…")
    tab_to(page, move_button, backwards=True)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Move 1 item to another group")
    expect(dialog).to_be_visible()
    # Ivy may upload to Leo Park and Northstar HQ; neither is chosen for her, the first has the focus.
    leo, headquarters = dialog.get_by_role("radio", name="Leo Park"), dialog.get_by_role("radio", name="Northstar HQ")
    expect(leo).not_to_be_checked()
    expect(headquarters).not_to_be_checked()
    expect(leo).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(headquarters).to_be_checked()
    expect(headquarters).to_be_focused()
    tab_to(page, dialog.get_by_role("button", name="Move", exact=True))
    page.keyboard.press("Enter")

    expect(page.get_by_text("Moved 1 item to “Northstar HQ”.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(tile(page, name)).to_have_count(0)
    expect_count(page, before - 1)
    # The page keeps its title, and the focus stays in the library, not lost on the page body.
    expect(page).to_have_title("Media · Priya Shah · Roster")
    expect(page.locator(":focus")).to_have_class("media-check")

    open_library(page, live_server, "Northstar HQ")
    expect(tile(page, name)).to_have_count(1)


def test_delete_asks_first_and_cancel_keeps_the_item(page: Page, live_server):
    """Delete… opens a confirmation; Cancel keeps the item, Delete removes it and says so."""
    keep, doomed = f"{unique('owner-keep')}.png", f"{unique('owner-delete')}.jpg"
    sign_in(page, "owner@northstar.example")
    open_library(page, live_server, "Northstar HQ")
    upload(page, [image_file(keep, "#7c3aed"), image_file(doomed, "#db2777", "JPEG")])
    before = media_count(page)

    delete_button = page.get_by_role("button", name="Delete…")
    expect(delete_button).to_be_disabled()
    check_box(page, doomed).click()
    expect(selection_count(page)).to_have_text("1 item selected")
    delete_button.click()
    dialog = page.get_by_role("dialog", name="Delete 1 item?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("The files are removed from “Northstar HQ” for good.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(tile(page, doomed)).to_have_count(1)
    expect(check_box(page, doomed)).to_be_checked()
    expect_count(page, before)

    delete_button.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("Deleted 1 item.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(tile(page, doomed)).to_have_count(0)
    expect(tile(page, keep)).to_have_count(1)
    expect_count(page, before - 1)
    expect(selection_count(page)).to_have_text("No items selected")
    expect(delete_button).to_be_disabled()

    page.reload()
    expect(tile(page, keep)).to_have_count(1)
    expect(tile(page, doomed)).to_have_count(0)


def test_select_all_on_the_page_and_clear_the_selection(page: Page, live_server):
    """"Select all on this page" checks every tile; "Clear selection" unchecks them all."""
    sign_in(page, "alex@northstar.example")
    open_library(page, live_server, "Leo Park")
    checkboxes = grid(page).get_by_role("checkbox")
    expect(checkboxes.first).to_be_visible()
    shown = checkboxes.count()
    assert shown >= 6, "Leo Park's demo items are missing"

    select_all = page.get_by_role("button", name="Select all on this page")
    clear = page.get_by_role("button", name="Clear selection")
    expect(selection_count(page)).to_have_text("No items selected")
    expect(clear).to_be_disabled()

    select_all.click()
    expect(selection_count(page)).to_have_text(f"{shown} items selected")
    for index in range(shown):
        expect(checkboxes.nth(index)).to_be_checked()
    expect(select_all).to_be_disabled()
    expect(page.get_by_role("button", name="Move…")).to_be_enabled()
    expect(page.get_by_role("button", name="Delete…")).to_be_enabled()

    clear.click()
    expect(selection_count(page)).to_have_text("No items selected")
    for index in range(shown):
        expect(checkboxes.nth(index)).not_to_be_checked()
    expect(clear).to_be_disabled()
    expect(select_all).to_be_enabled()
    expect(page.get_by_role("button", name="Move…")).to_be_disabled()
    expect(page.get_by_role("button", name="Delete…")).to_be_disabled()
    # Focus goes back to the grid, so a keyboard user can start a new selection there.
    expect(checkboxes.first).to_be_focused()


PHONE = {"width": 390, "height": 844}


def test_alt_text_is_written_on_a_phone_and_marked_in_the_grid(new_context, live_server, browser_problems):
    """At 390 px Sam describes a new image on its page, sees it saved, is refused an over-long text that
    changes nothing, and finds the ALT mark on its tile; nothing on the page scrolls sideways."""
    browser_problems.expect_status(422)  # the over-long text is answered 422 on purpose
    page = new_context(viewport=PHONE).new_page()
    name = f"{unique('sam-alt')}.png"
    sign_in(page, "sam@northstar.example")
    open_library(page, live_server, "Maya Lopez")
    upload(page, [image_file(name, "#0e7490")])
    expect(tile(page, name).get_by_text("Has alt text")).to_have_count(0)

    tile(page, name).get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    description = page.get_by_label("Describe the image for people who cannot see it")
    expect(description).to_have_value("")
    description.fill("A teal rectangle, empty, on a plain background.")
    save = page.get_by_role("button", name="Save alt text")
    save.click()
    section = page.get_by_role("region", name="Alt text")
    expect(section.get_by_role("status")).to_have_text("Alt text saved.")
    expect(description).to_have_value("A teal rectangle, empty, on a plain background.")
    # The swap keeps the keyboard where it was.
    expect(save).to_be_focused()
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")

    description.fill("x" * 1501)
    save.click()
    expect(section.get_by_role("alert")).to_have_text(
        "Alt text may be up to 1,500 characters; this one has 1,501. Shorten it and save again.")
    expect(description).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    assert axe_violations(page) == []
    page.reload()
    expect(description).to_have_value("A teal rectangle, empty, on a plain background.")

    open_library(page, live_server, "Maya Lopez")
    expect(tile(page, name).get_by_text("ALT", exact=True)).to_be_visible()
    expect(tile(page, name).get_by_text("Has alt text")).to_have_count(1)
