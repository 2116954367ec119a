"""The media library: uploads checked by content, thumbnails, safe serving, paging, moving, deleting."""
from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select

from bench import upload_memory
from webapp import images
from webapp import media as rules
from webapp.extensions import db
from webapp.models import AuditEvent, GroupUser, MediaItem, PostMedia, Role
from webapp.storage import media_storage

from . import factories
from .html import HTMX, Html, squeeze


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (64, 48), exif: bool = False, **options) -> bytes:
    image = Image.new("RGB", size, (200, 40, 90))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SecretCam"  # Make
        tags[0x0112] = 6  # Orientation: rotate 90° to show upright
        options["exif"] = tags.tobytes()
    image.save(out, kind, **options)
    return out.getvalue()


MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


@pytest.fixture
def agency(app):
    account = factories.make_account("Northstar")
    maya = factories.make_group(account, "Maya Lopez")
    leo = factories.make_group(account, "Leo Park")
    closed = factories.make_group(account, "Closed Group")
    manager = factories.make_member(account, Role.MANAGER, groups=[maya, leo], name="Sam Manager")
    creator = factories.make_member(account, Role.CLIENT, groups=[maya], name="Maya Lopez")
    creator_membership = creator.memberships[0]
    from webapp.models import MemberRight

    creator_membership.rights = [MemberRight(name="media.view"), MemberRight(name="media.upload")]
    viewer = factories.make_member(account, Role.CLIENT, groups=[maya], name="Vic Viewer")
    profile = factories.make_profile(factories.make_social_set(maya))
    db.session.commit()
    return {"account": account, "maya": maya, "leo": leo, "closed": closed, "manager": manager,
            "creator": creator, "viewer": viewer, "profile": profile, "owner": factories.owner_of(account)}


def library_url(group, suffix: str = "") -> str:
    return f"/g/{group.id}/media{suffix}"


def upload(client, group, *files: tuple[str, bytes], headers=None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(library_url(group, "/upload"), data=data, content_type="multipart/form-data",
                       headers=headers or {})


def items_of(group) -> list[MediaItem]:
    return list(db.session.scalars(
        select(MediaItem).where(MediaItem.access_group_id == group.id).order_by(MediaItem.id)
    ))


def events(verb: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.verb == verb)))


# --- recognising files ---------------------------------------------------------------------------


@pytest.mark.parametrize("content, expected", [
    (image_bytes("PNG"), "image/png"),
    (image_bytes("JPEG"), "image/jpeg"),
    (image_bytes("GIF"), "image/gif"),
    (image_bytes("WEBP"), "image/webp"),
    (MP4_HEAD, "video/mp4"),
    (MOV_HEAD, "video/quicktime"),
    (EXE, None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", None),
    (b"%PDF-1.7", None),
    (b"\x00\x00\x00\x18ftypM4A \x00", None),  # audio in an MP4 box
])
def test_sniff_recognises_files_by_their_first_bytes(content, expected):
    assert rules.sniff(content[:16]) == expected


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\maya\\beach.jpg", "beach.jpg"),
    ("  \x00\x07 ", "untitled"),
    ("a" * 400 + ".png", "a" * 255),
])
def test_display_names_are_labels_never_paths(name, expected):
    assert rules.display_name(name) == expected


def test_human_sizes():
    assert rules.human_size(1) == "1 byte"
    assert rules.human_size(1536) == "1.5 KB"
    assert rules.human_size(100 * 1024 * 1024) == "100 MB"


# --- uploading -----------------------------------------------------------------------------------


def test_upload_stores_files_under_server_names_with_stripped_thumbnails(agency, auth, client):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("../beach.jpg", image_bytes("JPEG", (1200, 800), exif=True)),
                      ("logo.png", image_bytes("PNG")))
    assert response.status_code == 303
    items = items_of(agency["maya"])
    assert [item.name for item in items] == ["beach.jpg", "logo.png"]
    beach = items[0]
    assert (beach.kind, beach.content_type, beach.uploaded_by_id) == ("image", "image/jpeg", agency["creator"].id)
    # The EXIF orientation turns the 1200 × 800 picture upright: 800 wide, 1200 tall.
    assert (beach.width, beach.height) == (800, 1200)
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", beach.storage_key)
    storage = media_storage()
    with Image.open(io.BytesIO(storage.read(beach.thumbnail_key))) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) == rules.THUMBNAIL_SIZE and thumbnail.size[1] > thumbnail.size[0]
        assert not thumbnail.getexif() and "exif" not in thumbnail.info
    assert storage.read(beach.storage_key)[:3] == b"\xff\xd8\xff"
    assert len(events("media.uploaded")) == 2


def test_upload_from_the_script_answers_with_the_new_tile_and_count(agency, auth, client):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("clip.mov", MOV_HEAD), headers=HTMX)
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    page = Html(html)
    item = items_of(agency["maya"])[0]
    assert page.one(f"#media-{item.id}").tag == "li" and page.has_text("clip.mov")
    assert page.one("#media-count").attributes["hx-swap-oob"] == "true"
    assert "<html" not in html
    assert item.kind == "video" and item.thumbnail_key is None


@pytest.mark.parametrize("name, content, message", [
    ("virus.png", EXE, "is not a JPEG, PNG, GIF or WebP image, or an MP4 or MOV video"),
    ("empty.png", b"", "is empty"),
    ("broken.png", image_bytes("PNG")[:40], "could not be read as an image"),
    ("fake.gif", b"GIF89a" + b"\x00" * 30, "could not be read as an image"),
])
def test_bad_files_are_refused_with_the_reason_and_nothing_stored(agency, auth, client, name, content, message):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], (name, content), headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert items_of(agency["maya"]) == []
    root = media_storage().root
    assert not root.exists() or list(root.iterdir()) == []


@pytest.mark.app_config(MEDIA_MAX_BYTES=2000)
def test_an_oversized_file_is_refused_naming_the_limit(agency, auth, client):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("big.png", image_bytes("PNG", (400, 400)) + b"\x00" * 3000),
                      headers=HTMX)
    assert response.status_code == 422
    assert "files may be up to 2 KB" in response.get_data(as_text=True)
    assert items_of(agency["maya"]) == []


@pytest.mark.app_config(MEDIA_MAX_BYTES=2000, MAX_CONTENT_LENGTH=4000)
def test_a_request_over_the_size_limit_says_so(agency, auth, client):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8000), headers=HTMX)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


@pytest.mark.parametrize("kind, options", [
    ("PNG", {}), ("JPEG", {}), ("GIF", {}),
    ("WEBP", {}), ("WEBP", {"lossless": True}), ("WEBP", {"exif": True}),  # each WebP header kind
])
@pytest.mark.app_config(MEDIA_MAX_IMAGE_PIXELS=10_000)
def test_an_image_with_too_many_pixels_is_refused(agency, auth, client, kind, options):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("wide.img", image_bytes(kind, (200, 100), **options)), headers=HTMX)
    assert response.status_code == 422
    assert "“wide.img” is 200 × 100 pixels; images may have up to 0.01 million pixels." in response.get_data(
        as_text=True)


@pytest.mark.parametrize("kind, patch, message", [
    # Pillow refuses this GIF on opening it, before anything of ours can measure it.
    ("GIF", lambda gif: gif[:6] + struct.pack("<HH", 20_000, 20_000) + gif[10:],
     "“huge.img” has too many pixels; images may have up to 50 million pixels."),
    ("PNG", lambda png: png[:16] + struct.pack(">II", 20_000, 20_000) + png[24:],
     "“huge.img” is 20000 × 20000 pixels; images may have up to 50 million pixels."),
])
def test_a_decompression_bomb_is_refused_saying_why(agency, auth, client, kind, patch, message):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("huge.img", patch(image_bytes(kind))), headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert items_of(agency["maya"]) == []


def exif_after_pixels(png: bytes) -> bytes:
    """The PNG with its eXIf chunk moved after the pixels (where a reader meets it only at the end)."""
    chunks, position = [], 8
    while position < len(png):
        length = struct.unpack(">I", png[position:position + 4])[0]
        chunks.append(png[position:position + 12 + length])
        position += 12 + length
    exif = [chunk for chunk in chunks if chunk[4:8] == b"eXIf"]
    rest = [chunk for chunk in chunks if chunk[4:8] != b"eXIf"]
    return png[:8] + b"".join(rest[:-1] + exif + rest[-1:])


@pytest.mark.parametrize("kind, arrange", [
    ("PNG", lambda png: png), ("PNG", exif_after_pixels), ("WEBP", lambda webp: webp),
])
def test_other_formats_are_turned_upright_by_their_exif_too(agency, auth, client, kind, arrange):
    auth.login(agency["creator"])
    upload(client, agency["maya"], ("turned.img", arrange(image_bytes(kind, (1200, 800), exif=True))))
    item = items_of(agency["maya"])[0]
    assert (item.width, item.height) == (800, 1200)
    with Image.open(io.BytesIO(media_storage().read(item.thumbnail_key))) as thumbnail:
        assert thumbnail.size[1] == rules.THUMBNAIL_SIZE and thumbnail.size[1] > thumbnail.size[0]
        assert not thumbnail.getexif() and "exif" not in thumbnail.info


# --- reading images within a memory budget -------------------------------------------------------


@pytest.mark.app_config(MEDIA_MAX_DECODE_BYTES=5 * 1024 * 1024)
def test_images_read_whole_are_refused_beyond_the_memory_they_may_take(agency, auth, client):
    """A baseline JPEG is read at a reduced scale; a progressive JPEG or a WebP of as many pixels is not."""
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("standard.jpg", image_bytes("JPEG", (1000, 800))),
                      ("progressive.jpg", image_bytes("JPEG", (1000, 800), progressive=True)),
                      ("poster.webp", image_bytes("WEBP", (1000, 800))))
    assert response.status_code == 303
    assert [item.name for item in items_of(agency["maya"])] == ["standard.jpg"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“progressive.jpg” is 1000 × 800 pixels; a progressive JPEG may have up to 0.7 million pixels " \
           "(a standard JPEG, up to 50 million)." in page
    assert "“poster.webp” is 1000 × 800 pixels; a WebP image may have up to 0.3 million pixels" in page


def noisy(mode: str, size: tuple[int, int]) -> Image.Image:
    """Gradients and noise in every band, so that every PNG filter has something to do."""
    bands = [Image.blend(Image.linear_gradient("L").rotate(90 * number).resize(size), Image.effect_noise(size, 60), 0.5)
             for number in range(len(mode))]
    return Image.merge(mode, bands)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def filtered_row(kind: int, row: bytes, above: bytes, step: int) -> bytes:
    """A row under one of PNG's five filters (`step`: bytes a pixel)."""
    out = bytearray([kind])
    for index, value in enumerate(row):
        left = row[index - step] if index >= step else 0
        upper_left = above[index - step] if index >= step else 0
        up = above[index]
        guess = left + up - upper_left
        paeth = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                    (abs(guess - upper_left), 2, upper_left))[2]
        out.append((value - (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF)
    return bytes(out)


def png_with_every_filter(image: Image.Image, transparency: bytes = b"") -> bytes:
    """An 8-bit PNG whose rows take the five filter types in turn (Pillow's writer chooses its own)."""
    colour = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}[image.mode]
    step, data = len(image.mode), image.tobytes()
    line = image.width * step
    rows, above = [], bytes(line)
    for y in range(image.height):
        row = data[y * line:(y + 1) * line]
        rows.append(filtered_row(y % 5, row, above, step))
        above = row
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, colour, 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", png_chunk(b"IHDR", header),
                     png_chunk(b"tRNS", transparency) if transparency else b"",
                     png_chunk(b"IDAT", zlib.compress(b"".join(rows))), png_chunk(b"IEND", b"")])


@pytest.mark.parametrize("mode, transparency", [
    ("RGB", b""), ("RGBA", b""), ("L", b""), ("LA", b""), ("RGB", b"\x00\x80\x00\x80\x00\x80"),
])
def test_a_png_read_in_strips_is_the_png_pillow_reads(monkeypatch, mode, transparency):
    # Four rows a strip: the first row of a strip takes each filter type in turn.
    monkeypatch.setattr(images, "STRIP_PIXELS", 90 * 4)
    png = png_with_every_filter(noisy(mode, (90, 71)), transparency)
    width, height, read = images.read_thumbnail(io.BytesIO(png), "PNG", 1000, 10**6, 10**8)
    with Image.open(io.BytesIO(png)) as whole:
        expected = whole.convert("RGBA") if transparency else whole.copy()
    assert (width, height) == (90, 71)
    assert (read.mode, read.size) == (expected.mode, expected.size)
    assert read.tobytes() == expected.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_a_png_shrunk_in_strips_is_the_png_pillow_shrinks(monkeypatch, mode):
    monkeypatch.setattr(images, "STRIP_PIXELS", 1500 * 50)  # 48 rows a strip: 23 strips
    out = io.BytesIO()
    noisy(mode, (1500, 1100)).save(out, "PNG", compress_level=1)
    _width, _height, thumbnail = images.read_thumbnail(io.BytesIO(out.getvalue()), "PNG", 480, 10**8, 10**9)
    with Image.open(io.BytesIO(out.getvalue())) as whole:
        whole.load()
        reduced = whole.reduce(3)
        whole.thumbnail((480, 480))
        assert thumbnail.size == whole.size
    # Shrunk by 3 and then left alone: each strip's share lands where reducing the whole would put it.
    monkeypatch.setattr(images, "_reduction", lambda width, height, size: 3)
    _width, _height, shrunk = images.read_thumbnail(io.BytesIO(out.getvalue()), "PNG", 5000, 10**8, 10**9)
    assert shrunk.size == reduced.size == (500, 367)
    assert shrunk.tobytes() == reduced.tobytes()


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_uploading_the_largest_image_raises_a_workers_memory_by_at_most_150_mb(tmp_path, kind):
    """A 7000 × 7000 image (49 million pixels, noisy, so the PNG is 66 MB), uploaded in a fresh process."""
    path = upload_memory.make_image(kind, upload_memory.DEFAULT_SIDE, tmp_path)
    measured = upload_memory.measure(path)
    assert measured.refused is None and measured.stored
    assert (measured.width, measured.height) == (7000, 7000)
    assert measured.increase <= upload_memory.BUDGET_MB * upload_memory.MB


def test_one_bad_file_does_not_stop_the_good_ones(agency, auth, client):
    auth.login(agency["creator"])
    response = upload(client, agency["maya"], ("good.png", image_bytes()), ("bad.png", EXE))
    assert response.status_code == 303
    assert [item.name for item in items_of(agency["maya"])] == ["good.png"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Uploaded 1 item." in page and "“bad.png” is not" in page


def test_an_upload_without_files_says_what_to_do(agency, auth, client):
    auth.login(agency["creator"])
    response = client.post(library_url(agency["maya"], "/upload"), data={}, headers=HTMX)
    assert response.status_code == 422
    assert "Choose one or more files" in response.get_data(as_text=True)


def test_uploading_needs_the_upload_right(agency, auth, client):
    auth.login(agency["viewer"])
    assert upload(client, agency["maya"], ("a.png", image_bytes())).status_code == 403  # sees the group only
    factories.make_media(agency["closed"])
    db.session.commit()
    auth.login(agency["manager"])
    assert upload(client, agency["closed"], ("a.png", image_bytes())).status_code == 404
    assert items_of(agency["maya"]) == []


# --- the library page ----------------------------------------------------------------------------


def make_items(group, count: int, start: datetime | None = None, kind: str = "image") -> list[MediaItem]:
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = [MediaItem(access_group_id=group.id, name=f"{kind}-{number:03}.png", kind=kind,
                       content_type="image/png" if kind == "image" else "video/mp4", byte_size=100,
                       storage_key=f"{kind}-{group.id}-{number}", created_at=start + timedelta(minutes=number))
             for number in range(count)]
    db.session.add_all(items)
    db.session.flush()
    rules.adjust_media_counts({group.id: count})
    db.session.commit()
    return items


def tile_ids(html: str) -> list[int]:
    return [int(tile.attributes["id"].removeprefix("media-")) for tile in Html(html).css("li.media-tile")]


def next_page_url(html: str) -> str | None:
    more = Html(html).css("li.load-more")
    return more[0].attributes["hx-get"] if more else None


def test_the_library_pages_newest_first_without_gaps_or_repeats(agency, auth, client):
    items = make_items(agency["maya"], 130)
    # Two items share a timestamp: the id breaks the tie, so neither is skipped.
    items[5].created_at = items[6].created_at
    db.session.commit()
    auth.login(agency["manager"])
    html = client.get(library_url(agency["maya"])).get_data(as_text=True)
    seen = tile_ids(html)
    assert squeeze(Html(html).one("[data-testid=media-count]").text()) == "130 items in this library"
    url = next_page_url(html)
    while url:
        html = client.get(url, headers=HTMX).get_data(as_text=True)
        assert "<html" not in html
        seen += tile_ids(html)
        url = next_page_url(html)
    expected = sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)
    assert seen == [item.id for item in expected]


def test_the_library_filters_by_type_and_name(agency, auth, client):
    make_items(agency["maya"], 3)
    make_items(agency["maya"], 2, kind="video")
    auth.login(agency["manager"])
    page = Html(client.get(library_url(agency["maya"], "?kind=video"), headers=HTMX))
    assert len(page.css("li.media-tile")) == 2 and page.has_text("2 of 5 items match")
    # The filter form sends its fields and gets the library alone; the sidebar's link gets the whole page.
    assert page.top_level[0].attributes["id"] == "library" and not page.css("h1")
    html = client.get(library_url(agency["maya"]), headers=HTMX).get_data(as_text=True)
    page = Html(html)
    assert "<html" not in html and page.by_role("heading", "Media").tag == "h1" and not page.css("[hx-select]")
    html = client.get(library_url(agency["maya"], "?q=IMAGE-001")).get_data(as_text=True)
    assert len(tile_ids(html)) == 1
    html = client.get(library_url(agency["maya"], "?q=%25")).get_data(as_text=True)
    assert "No items match the filter." in html


def test_an_empty_library_says_so(agency, auth, client):
    auth.login(agency["creator"])
    html = client.get(library_url(agency["maya"])).get_data(as_text=True)
    assert "This library is empty. Upload files or drop them here." in html


def test_the_library_shows_where_items_are_used_among_visible_posts(agency, auth, client):
    item = make_items(agency["maya"], 1)[0]
    post = factories.make_post(agency["profile"])
    post.media_items = [item]
    leo_post = factories.make_post(factories.make_profile(factories.make_social_set(agency["closed"])))
    leo_post.media_items = [item]
    db.session.commit()
    auth.login(agency["manager"])  # sees Maya's post, not the closed group's
    assert "Used in 1 post" in client.get(library_url(agency["maya"])).get_data(as_text=True)
    page = client.get(library_url(agency["maya"], f"/{item.id}")).get_data(as_text=True)
    assert "In 1 post you can see." in page and post.caption in page
    auth.login(agency["owner"])
    assert "Used in 2 posts" in client.get(library_url(agency["maya"])).get_data(as_text=True)


# --- serving files -------------------------------------------------------------------------------


def test_files_are_served_typed_and_sandboxed(agency, auth, client):
    auth.login(agency["creator"])
    upload(client, agency["maya"], ("photo.png", image_bytes()))
    item = items_of(agency["maya"])[0]
    response = client.get(f"/media/{item.id}/file")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Disposition"] == "inline; filename=photo.png"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["ETag"] == f'"{item.storage_key}-{item.byte_size}"'
    assert response.data == image_bytes()
    ranged = client.get(f"/media/{item.id}/file", headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.data == b"\x89PNG\r\n\x1a\n"
    thumbnail = client.get(f"/media/{item.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/webp"
    assert thumbnail.headers["Cache-Control"] == "private, no-cache"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    assert thumbnail.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    thumbnail_size = len(media_storage().read(item.thumbnail_key))
    assert thumbnail.headers["ETag"] == f'"{item.thumbnail_key}-{thumbnail_size}"'


@pytest.mark.parametrize("view", ["file", "thumbnail"])
def test_a_browser_revalidates_its_copy_and_loses_it_with_access(agency, auth, client, view):
    auth.login(agency["manager"])
    upload(client, agency["maya"], ("photo.png", image_bytes()))
    item = items_of(agency["maya"])[0]
    auth.login(agency["creator"])
    url = f"/media/{item.id}/{view}"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    revalidate = {"If-None-Match": first.headers["ETag"]}
    unchanged = client.get(url, headers=revalidate)
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == first.headers["ETag"]
    assert unchanged.headers["Cache-Control"] == "private, no-cache"
    # Removed from Maya's Users tab: the same revalidation no longer confirms the copy.
    db.session.delete(db.session.get(GroupUser, (agency["maya"].id, agency["creator"].id)))
    db.session.commit()
    removed = client.get(url, headers=revalidate)
    assert removed.status_code == 404 and removed.headers.get("ETag") is None


def test_another_groups_files_are_not_found(agency, auth, client):
    auth.login(agency["manager"])
    upload(client, agency["leo"], ("leo.png", image_bytes()))
    item = items_of(agency["leo"])[0]
    auth.login(agency["creator"])
    assert client.get(f"/media/{item.id}/file").status_code == 404
    assert client.get(f"/media/{item.id}/thumbnail").status_code == 404
    assert client.get(library_url(agency["leo"], f"/{item.id}")).status_code == 404
    assert client.get(library_url(agency["maya"], f"/{item.id}")).status_code == 404
    auth.logout()
    assert client.get(f"/media/{item.id}/file").status_code in (302, 303)


def test_a_moved_item_stays_visible_through_the_posts_that_use_it(agency, auth, client):
    auth.login(agency["manager"])
    upload(client, agency["maya"], ("shared.png", image_bytes()))
    item = items_of(agency["maya"])[0]
    post = factories.make_post(agency["profile"])
    post.media_items = [item]
    db.session.commit()
    response = client.post(library_url(agency["maya"], "/move"), data={"item": item.id, "target": agency["leo"].id})
    assert response.status_code == 303
    auth.login(agency["viewer"])  # sees Maya's posts, not her library, not Leo's group
    assert client.get(f"/media/{item.id}/file").status_code == 200
    db.session.delete(db.session.get(PostMedia, (post.id, item.id)))
    db.session.commit()
    assert client.get(f"/media/{item.id}/file").status_code == 404


# --- moving ---------------------------------------------------------------------------------------


def test_moving_changes_the_group_in_one_update_and_keeps_attachments(agency, auth, client, count_queries):
    items = make_items(agency["maya"], 5)
    post = factories.make_post(agency["profile"])
    post.media_items = [items[0]]
    db.session.commit()
    auth.login(agency["manager"])
    chosen = [items[0].id, items[2].id, items[4].id]
    with count_queries() as counter:
        response = client.post(library_url(agency["maya"], "/move"),
                               data={"item": chosen, "target": agency["leo"].id}, headers=HTMX)
    assert response.status_code == 200
    updates = [statement for statement in counter.statements if statement.lstrip().upper().startswith("UPDATE MEDIA_ITEMS")]
    assert len(updates) == 1
    page = Html(response)
    for item_id in chosen:
        removed = page.one(f"#media-{item_id}")
        assert (removed.tag, removed.attributes, removed.text()) == (
            "li", {"id": f"media-{item_id}", "hx-swap-oob": "delete"}, "")
    assert squeeze(page.one("[data-testid=media-count]").text()) == "2 items in this library"
    assert page.has_text("Moved 3 items to “Leo Park”.")
    db.session.expire_all()
    assert sorted(item.id for item in items_of(agency["leo"])) == chosen
    assert db.session.get(PostMedia, (post.id, items[0].id)) is not None
    event = events("media.moved")[0]
    assert event.before["access_group_id"] == agency["maya"].id and event.after["access_group_id"] == agency["leo"].id
    assert event.after["media_item_ids"] == chosen


def test_the_move_dialog_lists_only_groups_where_the_user_may_upload(agency, auth, client):
    item = make_items(agency["maya"], 1)[0]
    auth.login(agency["manager"])
    page = Html(client.get(library_url(agency["maya"], f"/move?item={item.id}"), headers=HTMX))
    assert page.by_role("heading", "Move 1 item to another group") and page.by_role("radio", "Leo Park")
    assert not page.has_text("Closed Group")
    assert str(agency["maya"].id) not in [radio.attributes["value"] for radio in page.all_by_role("radio")]
    auth.login(agency["owner"])
    html = client.get(library_url(agency["maya"], f"/move?item={item.id}")).get_data(as_text=True)
    assert "Closed Group" in html and "<html" in html  # a whole page without htmx


@pytest.mark.parametrize("case", ["empty", "foreign_item", "unknown_item", "not_an_id", "forbidden_target",
                                  "same_group", "no_target"])
def test_bad_moves_change_nothing_and_say_why(agency, auth, client, case):
    mine = make_items(agency["maya"], 2)
    theirs = make_items(agency["leo"], 1)
    ids = [mine[0].id]
    target = agency["leo"].id
    expected = {
        "empty": "Select at least one item first.",
        "foreign_item": "1 of the 2 selected items are no longer in this library, so nothing was moved.",
        "unknown_item": "1 of the 2 selected items are no longer in this library, so nothing was moved.",
        "not_an_id": "not a media item",
        "forbidden_target": "You may not add media to that group, so nothing was moved.",
        "same_group": "You may not add media to that group",
        "no_target": "Choose the group to move the items to.",
    }[case]
    if case == "empty":
        ids = []
    elif case == "foreign_item":
        ids = [mine[0].id, theirs[0].id]
    elif case == "unknown_item":
        ids = [mine[0].id, 999999]
    elif case == "not_an_id":
        ids = ["1 OR 1=1"]
    elif case == "forbidden_target":
        target = agency["closed"].id
    elif case == "same_group":
        target = agency["maya"].id
    data = {"item": ids}
    if case != "no_target":
        data["target"] = target
    auth.login(agency["manager"])
    response = client.post(library_url(agency["maya"], "/move"), data=data, headers=HTMX)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    db.session.expire_all()
    assert [item.id for item in items_of(agency["maya"])] == [item.id for item in mine]
    assert [item.id for item in items_of(agency["leo"])] == [theirs[0].id]
    assert events("media.moved") == []


def test_a_creator_no_longer_sees_items_moved_out_of_their_group(agency, auth, client):
    items = make_items(agency["maya"], 2)
    auth.login(agency["manager"])
    client.post(library_url(agency["maya"], "/move"), data={"item": [items[0].id], "target": agency["leo"].id})
    auth.login(agency["creator"])
    html = client.get(library_url(agency["maya"])).get_data(as_text=True)
    assert tile_ids(html) == [items[1].id]
    assert client.get(library_url(agency["leo"])).status_code == 404


def test_moving_needs_the_move_right(agency, auth, client):
    item = make_items(agency["maya"], 1)[0]
    auth.login(agency["creator"])  # may view and upload, not move
    response = client.post(library_url(agency["maya"], "/move"), data={"item": item.id, "target": agency["leo"].id})
    assert response.status_code == 403
    assert items_of(agency["maya"])[0].id == item.id


# --- deleting -------------------------------------------------------------------------------------


def test_deleting_removes_rows_files_and_attachments(agency, auth, client):
    auth.login(agency["manager"])
    upload(client, agency["maya"], ("a.png", image_bytes()), ("b.png", image_bytes()))
    first, second = items_of(agency["maya"])
    post = factories.make_post(agency["profile"])
    post.media_items = [first]
    db.session.commit()
    dialog = client.get(library_url(agency["maya"], f"/delete?item={first.id}&item={second.id}"), headers=HTMX)
    assert "Delete 2 items?" in dialog.get_data(as_text=True)
    assert "1 of them is used in 1 post; that post will lose it." in dialog.get_data(as_text=True)
    storage = media_storage()
    keys = [first.storage_key, first.thumbnail_key, second.storage_key, second.thumbnail_key]
    response = client.post(library_url(agency["maya"], "/delete"), data={"item": [first.id, second.id]}, headers=HTMX)
    assert response.status_code == 200 and "Deleted 2 items." in response.get_data(as_text=True)
    db.session.expire_all()
    assert items_of(agency["maya"]) == []
    assert db.session.scalar(select(func.count()).select_from(PostMedia)) == 0
    assert not any((storage.root / key).exists() for key in keys)
    assert events("media.deleted")[0].before["media_items"][0]["name"] == "a.png"


def test_deleting_another_groups_item_changes_nothing(agency, auth, client):
    mine = make_items(agency["maya"], 1)
    theirs = make_items(agency["leo"], 1)
    auth.login(agency["manager"])
    response = client.post(library_url(agency["maya"], "/delete"), data={"item": [mine[0].id, theirs[0].id]},
                           headers=HTMX)
    assert response.status_code == 422
    assert "nothing was deleted" in response.get_data(as_text=True)
    assert len(items_of(agency["maya"])) == 1 and len(items_of(agency["leo"])) == 1


def test_deleting_needs_the_delete_right(agency, auth, client):
    item = make_items(agency["maya"], 1)[0]
    auth.login(agency["creator"])
    assert client.post(library_url(agency["maya"], "/delete"), data={"item": item.id}).status_code == 403
    assert client.get(library_url(agency["maya"], f"/delete?item={item.id}")).status_code == 403


# --- the switcher keeps the section ----------------------------------------------------------------


def test_the_switcher_leads_to_the_same_section_of_the_chosen_group(agency, auth, client):
    auth.login(agency["manager"])
    page = Html(client.get(library_url(agency["maya"])))
    assert page.one("#switcher-options").attributes["hx-get"] == f"/g/{agency['maya'].id}/switcher?section=media"
    options = Html(client.get(f"/g/{agency['maya'].id}/switcher?section=media", headers=HTMX))
    assert options.by_role("link", "Leo Park").attributes["href"] == f"/g/{agency['leo'].id}/media"
    options = Html(client.get(f"/g/{agency['maya'].id}/switcher?section=../admin", headers=HTMX))
    assert options.by_role("link", "Leo Park").attributes["href"] == f"/g/{agency['leo'].id}/"


@pytest.mark.parametrize("cursor", ["2026-01-01T00:00:00~5", "2026-01-01T00:00:00%2B00:00~99999999999999999999",
                                    "nonsense", "~", "2026-13-01T00:00:00%2B00:00~1"])
def test_a_malformed_cursor_gives_the_first_page(agency, auth, client, cursor):
    items = make_items(agency["maya"], 3)
    auth.login(agency["manager"])
    response = client.get(library_url(agency["maya"], f"?cursor={cursor}"), headers=HTMX)
    assert response.status_code == 200
    assert tile_ids(response.get_data(as_text=True)) == [item.id for item in reversed(items)]
