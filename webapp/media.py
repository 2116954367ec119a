"""The media library: what may be uploaded, thumbnails, pages of a library, bulk moves and deletes.

A media item belongs to an access group, never to a profile. Moving items changes their group in
one statement, and an Undo soon after changes it back in one more; posts that use them keep their
attachments, wherever the posts are. Each group keeps
the count of its items (`AccessGroup.media_count`), changed in the same transaction as the items.
"""
from __future__ import annotations

import errno
import io
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Iterable, Mapping

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Integer, Select, bindparam, delete, func, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.util import identity_key
from werkzeug.datastructures import FileStorage

from . import audit, images, paging, undo
from .extensions import db
from .models import AccessGroup, AuditEvent, MediaItem, Post, PostMedia, SocialProfile, User
from .storage import Storage

# What the library accepts, recognised by the file's first bytes: content type -> (kind, suffix).
ACCEPTED: dict[str, tuple[str, str]] = {
    "image/jpeg": ("image", ".jpg"),
    "image/png": ("image", ".png"),
    "image/gif": ("image", ".gif"),
    "image/webp": ("image", ".webp"),
    "video/mp4": ("video", ".mp4"),
    "video/quicktime": ("video", ".mov"),
}
ACCEPTED_WORDS = "a JPEG, PNG, GIF or WebP image, or an MP4 or MOV video"
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# ISO base media brands that MP4 files carry in their `ftyp` box.
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
              b"dash", b"mmp4", b"MSNV", b"f4v "}
# Early QuickTime files start with one of these atoms instead of `ftyp`.
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip"}

# Write errors that mean the disk (or the user's quota on it) has no room for the file.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

THUMBNAIL_SIZE = 480
PAGE_SIZE = 60
MAX_SELECTION = 1000
NAME_MAX_LENGTH = 255
USES_SHOWN = 20


class MediaError(ValueError):
    """Input the library refuses; the message says why, in words for the page."""


def sniff(head: bytes) -> str | None:
    """The content type the file's first bytes announce, if it is one the library accepts."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in MP4_BRANDS:
            return "video/mp4"
        return None
    if box in QUICKTIME_ATOMS:
        return "video/quicktime"
    return None


def human_size(byte_count: int) -> str:
    """1536 -> "1.5 KB"; for messages and the grid."""
    size = float(byte_count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{int(size)} {'byte' if size == 1 else 'bytes'}"
            return f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    raise AssertionError("unreachable")


def display_name(filename: str | None) -> str:
    """The uploaded name as a label only (never a path): its last part, printable, bounded."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    return name[:NAME_MAX_LENGTH] or "untitled"


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int
    max_decode_bytes: int  # memory reading one image may take

    @classmethod
    def from_config(cls) -> "UploadLimits":
        return cls(max_bytes=current_app.config["MEDIA_MAX_BYTES"],
                   max_pixels=current_app.config["MEDIA_MAX_IMAGE_PIXELS"],
                   max_decode_bytes=current_app.config["MEDIA_MAX_DECODE_BYTES"])


@dataclass(frozen=True)
class Inspected:
    content_type: str
    kind: str
    suffix: str
    byte_size: int
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def inspect_upload(stream: BinaryIO, name: str, limits: UploadLimits) -> Inspected:
    """Check a file by its content and size, and make an image's thumbnail; MediaError says why not."""
    stream.seek(0, io.SEEK_END)
    byte_size = stream.tell()
    stream.seek(0)
    if byte_size == 0:
        raise MediaError(f"“{name}” is empty.")
    if byte_size > limits.max_bytes:
        raise MediaError(
            f"“{name}” is {human_size(byte_size)}; files may be up to {human_size(limits.max_bytes)}."
        )
    content_type = sniff(stream.read(16))
    stream.seek(0)
    if content_type is None:
        raise MediaError(f"“{name}” is not {ACCEPTED_WORDS}, whatever its name says.")
    kind, suffix = ACCEPTED[content_type]
    if kind != "image":
        return Inspected(content_type, kind, suffix, byte_size)
    width, height, thumbnail = _inspect_image(stream, name, content_type, limits)
    stream.seek(0)
    return Inspected(content_type, kind, suffix, byte_size, width, height, thumbnail)


def _inspect_image(stream: BinaryIO, name: str, content_type: str, limits: UploadLimits) -> tuple[int, int, bytes]:
    """Decode the image (so a broken one is refused) into a re-encoded thumbnail without metadata."""
    try:
        width, height, upright = images.read_thumbnail(stream, PILLOW_FORMATS[content_type], THUMBNAIL_SIZE,
                                                       limits.max_pixels, limits.max_decode_bytes)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
        # A new image saved without exif or info: location and camera data stay behind.
        out = io.BytesIO()
        Image.frombytes(upright.mode, upright.size, upright.tobytes()).save(out, "WEBP", quality=82)
    except images.TooLarge as too_large:
        raise MediaError(_too_many_pixels(name, too_large, limits.max_pixels)) from None
    except Image.DecompressionBombError:
        raise MediaError(f"“{name}” has too many pixels; images may have up to "
                         f"{limits.max_pixels / 1_000_000:g} million pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MediaError(f"“{name}” could not be read as an image; it may be damaged.") from None
    return width, height, out.getvalue()


def _too_many_pixels(name: str, too_large: images.TooLarge, max_pixels: int) -> str:
    """Why an image is refused for its pixels: over the limit, or over what its kind may have."""
    found = f"“{name}” is {too_large.width} × {too_large.height} pixels"
    if too_large.kind is None:
        return f"{found}; images may have up to {max_pixels / 1_000_000:g} million pixels."
    # Rounded down: the figure never promises more than fits.
    fits = math.floor(too_large.limit / 100_000) / 10
    return (f"{found}; {too_large.kind} may have up to {fits:g} million pixels "
            f"(a standard JPEG, up to {max_pixels / 1_000_000:g} million).")


def add_media_item(
    group: AccessGroup, upload: FileStorage, uploader: User, storage: Storage, limits: UploadLimits
) -> MediaItem:
    """Store an uploaded file in the group's library, with its thumbnail, and record it."""
    name = display_name(upload.filename)
    inspected = inspect_upload(upload.stream, name, limits)
    storage_key = None
    try:
        storage_key = storage.save(upload.stream, inspected.suffix)
        thumbnail_key = storage.save(inspected.thumbnail, ".webp") if inspected.thumbnail else None
    except OSError as error:
        # An item is its file and its thumbnail: without the second, the first goes too.
        discard_files(storage, [storage_key])
        if error.errno not in DISK_FULL:
            raise
        current_app.logger.error("Media storage is full: “%s” was not saved (%s)", name, error)
        raise MediaError(f"The server's disk is full, so “{name}” was not saved. Nothing was added. "
                         "Tell your administrator.") from None
    item = MediaItem(
        access_group_id=group.id,
        uploaded_by_id=uploader.id,
        name=name,
        kind=inspected.kind,
        content_type=inspected.content_type,
        byte_size=inspected.byte_size,
        width=inspected.width,
        height=inspected.height,
        storage_key=storage_key,
        thumbnail_key=thumbnail_key,
    )
    db.session.add(item)
    try:
        db.session.flush()
        adjust_media_counts({group.id: 1})
    except Exception:
        discard_files(storage, [storage_key, thumbnail_key])
        raise
    audit.record(group.account_id, uploader.id, "media.uploaded", "media_item", item.id,
                 after={"access_group_id": group.id, "name": name, "content_type": inspected.content_type,
                        "byte_size": inspected.byte_size}, group_id=group.id)
    return item


def discard_files(storage: Storage, keys: Iterable[str | None]) -> None:
    """Delete stored files whose rows are gone (or never were); a missing file is no error."""
    for key in keys:
        if key:
            storage.delete(key)


# --- describing an item -----------------------------------------------------------------------------

# As long a description as Mastodon takes for an attachment (Bluesky takes more): every network gets it whole.
ALT_TEXT_MAX_LENGTH = 1500
ALT_TEXT_CHANGED = "media.alt_text_changed"


def clean_alt_text(text: str | None) -> str | None:
    """Alt text as stored: its lines as typed, without control characters (a pasted NUL or escape) or
    white space at the ends; None when nothing is left."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(character for character in text
                   if character in "\n\t" or unicodedata.category(character) != "Cc")
    return text.strip() or None


def set_alt_text(group: AccessGroup, item: MediaItem, text: str | None, actor: User) -> bool:
    """Give `item`, of `group`'s library, the alt text `text` (clearing it when empty) and record the change;
    False if it was the same already. A text over ALT_TEXT_MAX_LENGTH characters is refused (MediaError)
    and changes nothing."""
    cleaned = clean_alt_text(text)
    if cleaned is not None and len(cleaned) > ALT_TEXT_MAX_LENGTH:
        raise MediaError(f"Alt text may be up to {ALT_TEXT_MAX_LENGTH:,} characters; this one has {len(cleaned):,}. "
                         "Shorten it and save again.")
    if cleaned == item.alt_text:
        return False
    before = item.alt_text
    item.alt_text = cleaned
    audit.record(group.account_id, actor.id, ALT_TEXT_CHANGED, "media_item", item.id,
                 before={"name": item.name, "alt_text": before}, after={"name": item.name, "alt_text": cleaned},
                 group_id=group.id)
    return True


# --- a page of the library --------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryFilter:
    kind: str | None = None  # "image", "video" or None for both
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.kind or self.text)

    def conditions(self, kind=MediaItem.kind, name=MediaItem.name) -> list:
        """The filter as SQL conditions on the given columns (the table's, or a subquery's)."""
        conditions = []
        if self.kind:
            conditions.append(kind == self.kind)
        if self.text:
            conditions.append(func.lower(name).contains(self.text.lower(), autoescape=True))
        return conditions


def encode_cursor(item: MediaItem) -> str:
    """The cursor of the library page that starts after `item` (the benchmark starts its deep page there)."""
    return paging.encode_cursor(item.created_at, item.id)


def library_page(
    scoped: Select, group: AccessGroup, library_filter: LibraryFilter, cursor: str | None, size: int = PAGE_SIZE
) -> paging.Page[MediaItem]:
    """One page of a group's items, newest first, with the cursor of the next page (None at the end).

    `scoped` is the policy's select of media items.
    """
    statement = scoped.where(MediaItem.access_group_id == group.id, *library_filter.conditions())
    return paging.keyset_page(statement, MediaItem.created_at, MediaItem.id, cursor, size, descending=True)


def matching_count(scoped: Select, group: AccessGroup, library_filter: LibraryFilter) -> int:
    """How many of the group's items match the filter (the whole library's count is the group's own).

    `scoped` is the policy's select of media items.
    """
    rows = scoped.with_only_columns(MediaItem.id).where(
        MediaItem.access_group_id == group.id, *library_filter.conditions())
    return db.session.scalar(select(func.count()).select_from(rows.subquery()))


# --- the count each group keeps ---------------------------------------------------------------------


def adjust_media_counts(changes: Mapping[int, int]) -> None:
    """Add to each group's count of media items its change (negative for items gone).

    The database adds to the value it holds (`media_count = media_count + n`), never to one read
    before, so changes made at the same moment (two uploads, an upload and a move) all count. Call it
    in the transaction that adds, moves or deletes the items.
    """
    # One UPDATE per group, in the order of their ids: two moves the opposite ways then lock the two
    # counts in the same order, where one UPDATE of both can lock them in either and deadlock.
    for group_id in sorted(changes):
        if changes[group_id]:
            db.session.execute(
                update(AccessGroup)
                .where(AccessGroup.id == group_id)
                .values(media_count=AccessGroup.media_count + changes[group_id])
                .execution_options(synchronize_session=False)
            )
    _forget_loaded_counts(changes)


def recount_media(connection: Connection | None = None) -> None:
    """Set every group's count from the items it holds (after a restore, or to mend a count gone wrong)."""
    held = (select(func.count()).where(MediaItem.access_group_id == AccessGroup.id)
            .correlate(AccessGroup).scalar_subquery())
    statement = update(AccessGroup.__table__).values(media_count=held)
    if connection is not None:
        connection.execute(statement)
        return
    db.session.execute(statement)
    _forget_loaded_counts()


def _forget_loaded_counts(group_ids: Iterable[int] | None = None) -> None:
    """Loaded groups read their count again when next asked: the database changed it, not the session."""
    identity_map = db.session.identity_map
    if group_ids is None:
        loaded = [found for found in identity_map.values() if isinstance(found, AccessGroup)]
    else:
        loaded = [identity_map.get(identity_key(AccessGroup, group_id)) for group_id in group_ids]
    for group in loaded:
        if group is not None:
            db.session.expire(group, ["media_count"])


def media_count_drift(group_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """Groups whose count differs from the items they hold: group id -> (count kept, items held)."""
    held = (select(MediaItem.access_group_id, func.count().label("item_count"))
            .group_by(MediaItem.access_group_id).subquery())
    items = func.coalesce(held.c.item_count, 0)
    statement = (select(AccessGroup.id, AccessGroup.media_count, items)
                 .outerjoin(held, held.c.access_group_id == AccessGroup.id)
                 .where(AccessGroup.media_count != items))
    if group_ids is not None:
        statement = statement.where(AccessGroup.id.in_(list(group_ids)))
    return {group_id: (kept, real) for group_id, kept, real in db.session.execute(statement)}


# --- where items are used ---------------------------------------------------------------------------


def _posts_seen(group_ids: Iterable[int], hidden_profiles: Iterable[int]) -> list:
    conditions = [Post.access_group_id.in_(list(group_ids))]
    hidden = list(hidden_profiles)
    if hidden:
        conditions.append(Post.social_profile_id.not_in(hidden))
    return conditions


def seen_posts_using(item_id, group_ids: Iterable[int], hidden_profiles: Iterable[int] = ()) -> Select:
    """Posts among those the user may see that use the item (`item_id` may be a column)."""
    return (
        select(PostMedia.post_id).join(Post, Post.id == PostMedia.post_id)
        .where(PostMedia.media_item_id == item_id, *_posts_seen(group_ids, hidden_profiles))
    )


def use_counts(item_ids: list[int], group_ids: Iterable[int], hidden_profiles: Iterable[int] = ()) -> dict[int, int]:
    """For each item, how many posts use it among the posts in `group_ids` (those the user may see)."""
    if not item_ids:
        return {}
    seen = _posts_seen(group_ids, hidden_profiles)
    if db.session.get_bind().dialect.name == "postgresql":
        # Told to look among every post of the account, PostgreSQL would read all of them rather than
        # look up the few posts that use the items; asked item by item (lateral), it looks them up.
        items = (func.unnest(bindparam("item_ids", list(item_ids), type_=ARRAY(Integer)))
                 .table_valued("item_id").render_derived())
        uses = (select(func.count().label("uses")).select_from(PostMedia).join(Post, Post.id == PostMedia.post_id)
                .where(PostMedia.media_item_id == items.c.item_id, *seen).lateral())
        rows = db.session.execute(
            select(items.c.item_id, uses.c.uses).select_from(items).join(uses, true()).where(uses.c.uses > 0))
        return dict(rows.all())
    rows = db.session.execute(
        select(PostMedia.media_item_id, func.count(PostMedia.post_id))
        .join(Post, Post.id == PostMedia.post_id)
        .where(PostMedia.media_item_id.in_(item_ids), *seen)
        .group_by(PostMedia.media_item_id)
    )
    return dict(rows.all())


def uses_of(item: MediaItem, group_ids: Iterable[int], hidden_profiles: Iterable[int] = ()) -> list[Post]:
    """The posts (the user may see) that use `item`, soonest first, at most USES_SHOWN of them."""
    return list(db.session.scalars(
        select(Post)
        .join(PostMedia, PostMedia.post_id == Post.id)
        .join(SocialProfile, SocialProfile.id == Post.social_profile_id)
        .where(PostMedia.media_item_id == item.id, *_posts_seen(group_ids, hidden_profiles))
        .options(contains_eager(Post.social_profile))
        .order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id)
        .limit(USES_SHOWN)
    ))


# --- moving and deleting ----------------------------------------------------------------------------


def selected_ids(raw: Iterable[str]) -> list[int]:
    """The distinct item ids of a selection; anything that is not an id is refused."""
    ids: set[int] = set()
    for value in raw:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise MediaError("The selection holds something that is not a media item.") from None
    if not ids:
        raise MediaError("Select at least one item first.")
    if len(ids) > MAX_SELECTION:
        raise MediaError(f"Select at most {MAX_SELECTION} items at a time.")
    return sorted(ids)


def missing_message(missing: int, total: int, verb: str) -> str:
    if total == 1:
        return f"That item is no longer in this library, so nothing was {verb}. Reload the page."
    return (f"{missing} of the {total} selected items are no longer in this library, so nothing was "
            f"{verb}. Reload the page and select again.")


MOVED = "media.moved"
MOVE_UNDONE = "media.move_undone"


def move_media_items(source: AccessGroup, item_ids: list[int], target: AccessGroup, actor: User) -> AuditEvent:
    """Move items from `source` to `target` in one UPDATE; all of them or, if any is not in `source`, none.

    Returns the audit event that records the move, whose id is its Undo token: each moved item is
    stamped with it, so an Undo moves back only the items no newer change has touched since.
    The caller rolls back on MediaError. Posts keep their attachments: post_media is not touched.
    """
    if target.id == source.id:
        raise MediaError(f"The items are already in “{source.name}”. Choose another group.")
    if target.account_id != source.account_id:
        raise MediaError("Choose a group of this account.")
    event = audit.record(source.account_id, actor.id, MOVED, "access_group", source.id,
                         before={"access_group_id": source.id, "access_group": source.name, "media_item_ids": item_ids},
                         after={"access_group_id": target.id, "access_group": target.name, "media_item_ids": item_ids},
                         group_id=source.id, related_group_id=target.id)
    db.session.flush()  # the event's id, stamped on the items
    moved = db.session.execute(
        update(MediaItem)
        .where(MediaItem.id.in_(item_ids), MediaItem.access_group_id == source.id)
        .values(access_group_id=target.id, moved_by_event_id=event.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != len(item_ids):
        raise MediaError(missing_message(len(item_ids) - moved, len(item_ids), "moved"))
    adjust_media_counts({source.id: -moved, target.id: moved})
    return event


def media_move(source: AccessGroup, event_id: int) -> AuditEvent | None:
    """The move `event_id` of items out of `source`, if it is one."""
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.id == event_id, AuditEvent.verb == MOVED, AuditEvent.account_id == source.account_id,
        AuditEvent.access_group_id == source.id))


def undo_move(source: AccessGroup, event: AuditEvent, target: AccessGroup, actor: User,
              now: datetime | None = None) -> int:
    """Put the items `event` moved from `source` to `target` back in `source`, in one UPDATE.

    Only while the Undo window is open, and only if every one of them is still where the move put
    it, untouched since (not moved again nor deleted) and used by no post of `target`; else nothing
    moves back (the caller rolls back on MediaError). The caller has checked who may undo.
    """
    item_ids = list((event.after or {}).get("media_item_ids", []))
    if not undo.window_open(event, now):
        raise MediaError(f"Too late to undo: a move can be taken back for {undo.SECONDS} seconds. "
                         "Select the items in the other group and move them back instead.")
    used_in_target = (select(PostMedia.post_id).join(Post, Post.id == PostMedia.post_id)
                      .where(PostMedia.media_item_id == MediaItem.id, Post.access_group_id == target.id).exists())
    back = db.session.execute(
        update(MediaItem)
        .where(MediaItem.moved_by_event_id == event.id, MediaItem.access_group_id == target.id,
               MediaItem.id.in_(item_ids), ~used_in_target)
        .values(access_group_id=source.id, moved_by_event_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if back != len(item_ids) or not item_ids:
        raise MediaError(_why_not_back(event, target, item_ids))
    adjust_media_counts({source.id: back, target.id: -back})
    audit.record(source.account_id, actor.id, MOVE_UNDONE, "access_group", target.id,
                 before={"access_group_id": target.id, "access_group": target.name, "media_item_ids": item_ids},
                 after={"access_group_id": source.id, "access_group": source.name, "media_item_ids": item_ids,
                        "undoes_event_id": event.id},
                 group_id=target.id, related_group_id=source.id)
    return back


def _why_not_back(event: AuditEvent, target: AccessGroup, item_ids: list[int]) -> str:
    """Why an Undo found fewer items than the move took, in words (the UPDATE already said it did)."""
    used = db.session.scalar(
        select(MediaItem.name).join(PostMedia, PostMedia.media_item_id == MediaItem.id)
        .join(Post, Post.id == PostMedia.post_id)
        .where(MediaItem.id.in_(item_ids), MediaItem.moved_by_event_id == event.id,
               MediaItem.access_group_id == target.id, Post.access_group_id == target.id)
        .limit(1))
    if used is not None:
        return (f"“{used}” is now used by a post in “{target.name}”, so nothing was moved back. "
                "Move the items yourself if they should still go back.")
    return ("Some of the items changed since the move (moved again, deleted, or already moved back), "
            "so nothing was moved back.")


def delete_media_items(group: AccessGroup, item_ids: list[int], actor: User) -> list[str]:
    """Delete items of `group` (all or none) and return their files' keys, to remove once committed.

    The caller rolls back on MediaError. Posts that used them lose the attachment (the database
    cascades post_media). The rows the DELETE returns are the ones gone: an item moved away at the
    same moment is neither counted out of this group nor has its files removed.
    """
    rows = sorted(db.session.execute(
        delete(MediaItem)
        .where(MediaItem.id.in_(item_ids), MediaItem.access_group_id == group.id)
        .returning(MediaItem.id, MediaItem.name, MediaItem.storage_key, MediaItem.thumbnail_key)
        .execution_options(synchronize_session=False)
    ).all())
    if len(rows) != len(item_ids):
        raise MediaError(missing_message(len(item_ids) - len(rows), len(item_ids), "deleted"))
    adjust_media_counts({group.id: -len(rows)})
    audit.record(group.account_id, actor.id, "media.deleted", "access_group", group.id,
                 before={"access_group_id": group.id,
                         "media_items": [{"id": row.id, "name": row.name} for row in rows]}, group_id=group.id)
    keys: list[str] = []
    for row in rows:
        keys.append(row.storage_key)
        if row.thumbnail_key:
            keys.append(row.thumbnail_key)
    return keys


def by_id_in(group: AccessGroup, item_ids: list[int]) -> Select:
    """The items of `group` among `item_ids`, found by their ids.

    The group is compared as `access_group_id + 0`, which no index serves: otherwise SQLite, knowing
    no better, walks the group's whole (group, newest) index, every item of a big library, rather
    than look up a page of ids."""
    return select(MediaItem).where(MediaItem.id.in_(item_ids), MediaItem.access_group_id + 0 == group.id)


def items_in(group: AccessGroup, item_ids: list[int]) -> list[MediaItem]:
    """The selected items that are in `group`, newest first (for a confirmation; sorted here, as
    asking the database to sort would have it walk the group's index)."""
    items = db.session.scalars(by_id_in(group, item_ids)).all()
    return sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)
