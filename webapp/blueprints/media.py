"""Sidebar › Media: a group's library, uploads, serving files, and moving or deleting a selection."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import getting_started, media_links, members, policy, undo
from .. import media as rules
from ..extensions import db
from ..forms.media import (
    KIND_LABELS,
    AltTextForm,
    LibraryQuery,
    MoveForm,
    SelectionForm,
    SelectionQuery,
    UploadForm,
)
from ..htmx import is_partial, render
from ..models import AccessGroup, MediaItem
from ..shell import enter_group
from ..storage import media_storage

bp = Blueprint("media", __name__)


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation about the selected items asks, and the view that carries it out."""

    heading: str
    endpoint: str
    label: str
    style: str


MOVE = Confirmation("Move media", "media.move", "Move", "primary")
DELETE = Confirmation("Delete media", "media.delete", "Delete", "danger")


# --- helpers -----------------------------------------------------------------------------------------


def _seen_posts() -> tuple[list[int], frozenset[int]]:
    """Where the user may see posts: groups with posts.view, less the profiles they removed."""
    return policy.groups_with("posts.view"), policy.current_permissions().removed_profiles


def _counts(group: AccessGroup, library_filter: rules.LibraryFilter) -> dict[str, int]:
    """The library's count, kept by the group; only a filter's matches are counted, by a query."""
    total = group.media_count
    if not library_filter:
        return {"total": total, "matching": total}
    return {"total": total,
            "matching": rules.matching_count(policy.visible(select(MediaItem)), group, library_filter)}


def _library_context(group: AccessGroup, query: LibraryQuery) -> dict:
    library_filter = query.library_filter()
    page = rules.library_page(policy.visible(select(MediaItem)), group, library_filter, query.cursor.data)
    group_ids, hidden = _seen_posts()
    return dict(
        group=group,
        query=query,
        items=page.rows,
        next_cursor=page.next_cursor,
        filtering=bool(library_filter),
        use_counts=rules.use_counts([item.id for item in page.rows], group_ids, hidden),
        may_upload=policy.can(current_user, "media.upload", group),
        may_move=policy.can(current_user, "media.move", group),
        may_delete=policy.can(current_user, "media.delete", group),
        kind_labels=KIND_LABELS,
        limits=rules.UploadLimits.from_config(),
        accepted=",".join(rules.ACCEPTED),
    )


def _back_to_library(group: AccessGroup) -> Response:
    return redirect(url_for("media.index", group_id=group.id), 303)


# --- the library -------------------------------------------------------------------------------------


@bp.get("/g/<int:group_id>/media")
def index(group_id: int):
    """The group's library, newest first: the page, the filtered grid, or the next page of tiles."""
    group = enter_group(group_id, "media.view")
    query = LibraryQuery(request.args)
    context = _library_context(group, query)
    if query.cursor.data and is_partial():
        return render("media/index.html", block="tiles", refresh_shell=False, **context)
    context["counts"] = _counts(group, query.library_filter())
    # An empty library tells someone who may not upload whom to ask.
    context["ask"] = getting_started.who_to_ask(group) if not (context["may_upload"] or group.media_count) else []
    # The filter swaps the library; the sidebar's and the switcher's links swap the whole page.
    return render("media/index.html", block="library" if query.from_the_filter() else "main",
                  page_title=f"Media · {group.name}", **context)


@bp.post("/g/<int:group_id>/media/upload")
def upload(group_id: int):
    """Add uploaded files to the library; each is checked by its content, size and pixels."""
    group = enter_group(group_id, "media.upload")
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_answer(group, [], form.files.errors)
    storage, limits = media_storage(), rules.UploadLimits.from_config()
    added: list[MediaItem] = []
    problems: list[str] = []
    for upload in form.chosen_files():
        try:
            added.append(rules.add_media_item(group, upload, current_user, storage, limits))
            db.session.commit()
        except rules.MediaError as problem:
            db.session.rollback()
            problems.append(str(problem))
    return _upload_answer(group, added, problems)


def _upload_answer(group: AccessGroup, added: list[MediaItem], problems: list[str]) -> Response:
    """New tiles (and the count) for the uploader's script; a flash and the library otherwise."""
    if not is_partial():
        if added:
            flash(f"Uploaded {_items(len(added))}.", "success")
        for problem in problems:
            flash(problem, "error")
        return _back_to_library(group)
    if not added:
        return render("errors/_message.html", status=422, message=" ".join(problems))
    group_ids, hidden = _seen_posts()
    return render(
        "media/index.html", block="tiles", status=201, also=("count",), refresh_shell=False,
        group=group, items=added, next_cursor=None, counts=_counts(group, rules.LibraryFilter()),
        use_counts=rules.use_counts([item.id for item in added], group_ids, hidden),
        may_move=policy.can(current_user, "media.move", group),
        may_delete=policy.can(current_user, "media.delete", group),
    )


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


@bp.get("/g/<int:group_id>/media/<int:item_id>")
def show(group_id: int, item_id: int):
    """One item: a preview, its details, and the posts (the user may see) that use it."""
    group = enter_group(group_id, "media.view")
    item = policy.get_in_group_or_404(MediaItem, item_id, group)
    return _item_page(group, item)


def _item_page(group: AccessGroup, item: MediaItem, form: AltTextForm | None = None, status: int = 200) -> Response:
    group_ids, hidden = _seen_posts()
    uses = rules.uses_of(item, group_ids, hidden)
    use_count = rules.use_counts([item.id], group_ids, hidden).get(item.id, 0)
    uploader = (members.shown_names(group.account_id, [item.uploaded_by_id])[item.uploaded_by_id]
                if item.uploaded_by_id else None)
    return render("media/show.html", status=status, page_title=f"{item.name} · Media", uses=uses,
                  use_count=use_count, uploader=uploader, **_alt_text_context(group, item, form))


def _alt_text_context(group: AccessGroup, item: MediaItem, form: AltTextForm | None = None,
                      saved: str | None = None) -> dict:
    """What the item page's alt text part shows: the text, or the form to change it for those who may."""
    form = form or AltTextForm(formdata=None, alt_text=item.alt_text or "")
    form.alt_text.label.text = f"Describe the {item.kind} for people who cannot see it"
    return dict(group=group, item=item, alt_form=form, saved=saved,
                may_describe=policy.can(current_user, "media.upload", group),
                alt_text_limit=rules.ALT_TEXT_MAX_LENGTH)


@bp.post("/g/<int:group_id>/media/<int:item_id>/alt-text")
def alt_text(group_id: int, item_id: int):
    """Add, change or clear the item's alt text, which the networks get with it for people who cannot see it."""
    group = enter_group(group_id, "media.upload")
    item = policy.get_in_group_or_404(MediaItem, item_id, group)
    form = AltTextForm()
    if form.validate_on_submit():
        try:
            changed = rules.set_alt_text(group, item, form.alt_text.data, current_user)
        except rules.MediaError as problem:
            db.session.rollback()
            form.alt_text.errors = [str(problem)]
        else:
            db.session.commit()
            saved = ("Alt text saved." if item.alt_text else "Alt text removed.") if changed else "No change to save."
            if not is_partial():
                flash(saved, "success")
                return redirect(url_for("media.show", group_id=group.id, item_id=item.id), 303)
            return render("media/show.html", block="alt_text_field", also=("alt_text_status",),
                          refresh_shell=False, **_alt_text_context(group, item, saved=saved))
    if is_partial():
        return render("media/show.html", block="alt_text_field", also=("alt_text_status",), status=422,
                      refresh_shell=False, **_alt_text_context(group, item, form))
    return _item_page(group, item, form, 422)


# --- serving files -----------------------------------------------------------------------------------


def _servable(item_id: int) -> MediaItem:
    """An item the user may see: in a library they may view, or attached to a post they may see."""
    policy.require_signed_in()
    item = db.session.scalar(policy.visible(select(MediaItem)).where(MediaItem.id == item_id))
    if item is not None and policy.can(current_user, "media.view", item):
        return item
    # A moved item stays attached to its posts, so their viewers still see it.
    group_ids, hidden = _seen_posts()
    if group_ids:
        used_by_a_seen_post = rules.seen_posts_using(MediaItem.id, group_ids, hidden).exists()
        item = db.session.scalar(select(MediaItem).where(MediaItem.id == item_id, used_by_a_seen_post))
        if item is not None:
            return item
    abort(404)


def _send(item: MediaItem, key: str, content_type: str, download_name: str) -> Response:
    """A stored file, typed by what the upload check found, that the browser may not sniff or run.

    The browser may keep it but must ask again before each use (no-cache), and the caller has asked
    the policy before this runs: someone still allowed gets a bodiless 304 for the copy they hold,
    someone who lost access a 404 on their very next look, never a copy answered from a cache.
    """
    storage = media_storage()
    try:
        stream, size = storage.open(key), storage.size(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(stream, mimetype=content_type, download_name=download_name, conditional=False,
                         etag=False, max_age=0)
    response.content_length = size
    # A key names one file, written once: with its size, it identifies the bytes.
    response.set_etag(f"{key}-{size}")
    response.last_modified = item.created_at
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response.make_conditional(request.environ, accept_ranges=True, complete_length=size)


@bp.get("/media/<int:item_id>/file")
def file(item_id: int):
    """The item's file as uploaded (videos may be fetched in ranges)."""
    item = _servable(item_id)
    return _send(item, item.storage_key, item.content_type, item.name)


@bp.get("/media/shared/<int:item_id>/<int:expires>/<signature>")
@policy.public
def signed_file(item_id: int, expires: int, signature: str):
    """An item's file for a network that fetches media by address: the signed, hour-long link the
    publisher made is its own permission (webapp/media_links.py)."""
    state = media_links.link_state(item_id, expires, signature)
    if state == "expired":
        abort(410)
    item = db.session.get(MediaItem, item_id) if state == "valid" else None
    if item is None:
        abort(404)
    response = _send(item, item.storage_key, item.content_type, item.name)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/media/<int:item_id>/thumbnail")
def thumbnail(item_id: int):
    """The item's thumbnail: a small re-encoded image without metadata (images only)."""
    item = _servable(item_id)
    if not item.thumbnail_key:
        abort(404)
    stem = item.name.rsplit(".", 1)[0]
    return _send(item, item.thumbnail_key, "image/webp", f"{stem}-thumbnail.webp")


# --- moving and deleting a selection -----------------------------------------------------------------


def _move_targets(group: AccessGroup) -> list[AccessGroup]:
    """Groups of the account, other than this one, where the user may upload."""
    return list(db.session.scalars(
        select(AccessGroup).where(
            AccessGroup.id.in_(policy.groups_with("media.upload")),
            AccessGroup.account_id == group.account_id,
            AccessGroup.id != group.id,
        ).order_by(AccessGroup.name, AccessGroup.id)
    ))


def _confirmation(confirm: Confirmation, group: AccessGroup, raw_ids: list[str], status: int = 200,
                  problem: str | None = None, target_id: int | None = None) -> Response:
    """The Move or Delete confirmation for the selected items: a dialog's body, or a page.

    A selection that is empty, malformed or no longer all in this library can only be reloaded;
    any other problem (no target chosen) is shown above a form that can be sent again.
    """
    selection_problem = None
    try:
        ids = rules.selected_ids(raw_ids)
        items = rules.items_in(group, ids)
        if len(items) != len(ids):
            selection_problem = rules.missing_message(len(ids) - len(items), len(ids), "changed")
    except rules.MediaError as error:
        items, selection_problem = [], str(error)
    problem = problem or selection_problem
    if problem and status == 200:
        status = 422
    group_ids, hidden = _seen_posts()
    uses = rules.use_counts([item.id for item in items], group_ids, hidden)
    return render("media/confirm.html", block="dialog", status=status, refresh_shell=False,
                  page_title=confirm.heading, group=group, items=items, problem=problem, confirm=confirm,
                  may_confirm=selection_problem is None,
                  targets=_move_targets(group) if confirm is MOVE else [],
                  target_id=target_id, used_items=sum(1 for item in items if uses.get(item.id)),
                  uses=sum(uses.values()))


def _after_change(group: AccessGroup, gone: list[int]) -> Response:
    """The selection's tiles leave the grid, the count updates, the flash shows (or a 303 back)."""
    if not is_partial():
        return _back_to_library(group)
    return render("media/index.html", block="changed", also=("count",), group=group, gone=gone,
                  page_title=f"Media · {group.name}",
                  counts=_counts(group, rules.LibraryFilter()))


@bp.get("/g/<int:group_id>/media/move")
def move_dialog(group_id: int):
    """Confirm moving the selected items: which items, and the groups they may go to."""
    group = enter_group(group_id, "media.move")
    return _confirmation(MOVE, group, SelectionQuery(request.args).item.data or [])


@bp.post("/g/<int:group_id>/media/move")
def move(group_id: int):
    """Move the selected items to another group the user may upload to, all in one statement."""
    group = enter_group(group_id, "media.move")
    form = MoveForm()
    raw_ids = form.item.data or []
    if not form.validate_on_submit():
        return _confirmation(MOVE, group, raw_ids, 422, " ".join(form.target.errors))
    target = next((candidate for candidate in _move_targets(group) if candidate.id == form.target.data), None)
    try:
        ids = rules.selected_ids(raw_ids)
        if target is None:
            raise rules.MediaError("You may not add media to that group, so nothing was moved. Choose another.")
        event = rules.move_media_items(group, ids, target, current_user)
    except rules.MediaError as problem:
        db.session.rollback()
        return _confirmation(MOVE, group, raw_ids, 422, str(problem), form.target.data)
    db.session.commit()
    message = f"Moved {_items(len(ids))} to “{target.name}”."
    if not is_partial():
        flash(message, "success")
        return _back_to_library(group)
    # Said in a toast, with Undo while the move may be taken back.
    undo_url = url_for("media.undo_move", group_id=group.id, event_id=event.id)
    return render("media/index.html", block="changed", also=("count", "undo_region"), group=group, gone=ids,
                  page_title=f"Media · {group.name}", counts=_counts(group, rules.LibraryFilter()),
                  undo_offer={"message": message, "url": undo_url, "first": ids[0]}, undo_seconds=undo.SECONDS)


@bp.post("/g/<int:group_id>/media/moves/<int:event_id>/undo")
def undo_move(group_id: int, event_id: int):
    """Bring back the items a move took out of this library a moment ago, if nothing touched them since.

    Whoever undoes it must be allowed to move media in both groups now, the person who moved them too."""
    group = enter_group(group_id, "media.move")
    event = rules.media_move(group, event_id)
    target = db.session.get(AccessGroup, event.related_group_id) if event else None
    if event is None or target is None or target.account_id != group.account_id:
        abort(404)
    policy.authorize("media.move", target)
    try:
        count = rules.undo_move(group, event, target, current_user)
    except rules.MediaError as problem:
        db.session.rollback()
        return _library_after_undo(group, f"Could not undo: {problem}", refused=True)
    db.session.commit()
    return _library_after_undo(group, f"Moved {_items(count)} back from “{target.name}”.")


def _library_after_undo(group: AccessGroup, message: str, refused: bool = False) -> Response:
    """The library as it is now, with what the Undo did (or why not) in a toast; a flash and a 303 otherwise."""
    if not is_partial():
        flash(message, "error" if refused else "success")
        return _back_to_library(group)
    query = LibraryQuery(request.form)  # the filter the page shows, sent along with the Undo
    context = _library_context(group, query)
    context["counts"] = _counts(group, query.library_filter())
    return render("media/index.html", block="library", also=("count", "undo_region"), status=409 if refused else 200,
                  page_title=f"Media · {group.name}", undo_message=message, undo_refused=refused, **context)


@bp.get("/g/<int:group_id>/media/delete")
def delete_dialog(group_id: int):
    """Confirm deleting the selected items, saying which posts will lose them."""
    group = enter_group(group_id, "media.delete")
    return _confirmation(DELETE, group, SelectionQuery(request.args).item.data or [])


@bp.post("/g/<int:group_id>/media/delete")
def delete(group_id: int):
    """Delete the selected items and their files; posts that used them lose the attachment."""
    group = enter_group(group_id, "media.delete")
    raw_ids = SelectionForm().item.data or []
    try:
        ids = rules.selected_ids(raw_ids)
        keys = rules.delete_media_items(group, ids, current_user)
    except rules.MediaError as problem:
        db.session.rollback()
        return _confirmation(DELETE, group, raw_ids, 422, str(problem))
    db.session.commit()
    rules.discard_files(media_storage(), keys)
    flash(f"Deleted {_items(len(ids))}.", "success")
    return _after_change(group, ids)
