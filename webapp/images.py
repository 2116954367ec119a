"""Reading an uploaded image within a memory budget: its size, and an upright thumbnail of it.

Decoding a whole 50-megapixel photograph takes 200 MB, per upload and per thread, so each image is
read the cheapest way its format allows: a JPEG at a reduced scale (libjpeg scales as it decodes), an
8-bit PNG a strip of rows at a time, each strip shrunk before the next one is read. What can only be
decoded whole (WebP, progressive JPEG, GIF, palette, 16-bit or interlaced PNG) is, if that fits the
budget; if not, the image is refused, saying how many pixels such an image may have. Large decodes
take turns, one at a time per process, so several uploads at once do not add up.
"""
from __future__ import annotations

import io
import math
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import BinaryIO

from PIL import ExifTags, Image, ImageOps

# Pillow keeps a pixel of these modes in fewer than 4 bytes; any other mode takes 4.
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2}
# Modes `Image.reduce` shrinks; others (palette, 16-bit) go straight to the thumbnail, as Pillow does.
REDUCIBLE = {"L", "LA", "RGB", "RGBA", "CMYK"}
# A WebP's canvas (libwebp's), the frame Pillow copies out of it, and the image it decodes that into.
WEBP_BYTES_PER_PIXEL = 12
# A progressive JPEG's DCT coefficients, 64 of 2 bytes a block, stay in memory until its last scan.
BLOCK_BYTES = 128
STRIP_PIXELS = 2_000_000  # how much of an image is shrunk (or, for a PNG, decoded) at once
LARGE_DECODE = 16 * 1024 * 1024  # reading more than this takes turns
QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that show the picture turned a quarter
ORIENTATION_INFO = ("exif", "xmp", "XML:com.adobe.xmp")  # where Pillow finds an orientation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # samples per pixel of each colour type
PNG_STRIP_MODES = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}  # at 8 bits, Pillow's mode and raw mode
PNG_PIECE = 1024 * 1024  # the most of one chunk read at once
PNG_EXIF_BYTES = 1024 * 1024  # a larger eXIf chunk is passed over

_large_decodes = threading.Lock()


class TooLarge(Exception):
    """More pixels than may be read: `limit` for any image, or, when `kind` is given, for that kind."""

    def __init__(self, width: int, height: int, limit: int, kind: str | None = None) -> None:
        super().__init__(f"{width} × {height} pixels; at most {limit}" + (f" for {kind}" if kind else ""))
        self.width, self.height, self.limit, self.kind = width, height, limit, kind


@dataclass(frozen=True)
class Allowance:
    """How many pixels an image may have, and how much memory reading it may take."""

    max_pixels: int
    budget: int

    def check_pixels(self, width: int, height: int) -> None:
        if width * height > self.max_pixels:
            raise TooLarge(width, height, self.max_pixels)

    def check_cost(self, width: int, height: int, cost: int, kind: str) -> None:
        """Refuse a reading that would take more than the budget, naming how many pixels would fit."""
        if cost > self.budget:
            raise TooLarge(width, height, self.budget * width * height // cost, kind)


def read_thumbnail(
    stream: BinaryIO, pillow_format: str, size: int, max_pixels: int, budget: int
) -> tuple[int, int, Image.Image]:
    """The image's width and height as it is seen, and an upright thumbnail, `size` on its longer side.

    The thumbnail keeps the original's metadata in its info (the caller strips it). TooLarge if the
    image has more than `max_pixels` pixels or reading it would take more than `budget` bytes;
    Pillow's errors, or ValueError, if it cannot be read.
    """
    reader = READERS[pillow_format]
    width, height, thumbnail = reader(stream, size, Allowance(max_pixels, budget))
    orientation = thumbnail.getexif().get(ExifTags.Base.Orientation, 1)
    ImageOps.exif_transpose(thumbnail, in_place=True)
    if orientation in QUARTER_TURNS:
        width, height = height, width
    return width, height, thumbnail


def _turn(cost: int) -> AbstractContextManager:
    """Wait for other large decodes of this process to finish, if this one is large too."""
    return _large_decodes if cost > LARGE_DECODE else nullcontext()


# --- shrinking ---------------------------------------------------------------------------------------


def _reduction(width: int, height: int, size: int) -> int:
    """The whole factor to shrink by first, keeping twice the thumbnail's size (as Pillow's thumbnail does)."""
    return max(1, max(width, height) // (2 * size))


def _strip_rows(width: int, factor: int) -> int:
    """How many rows to take at a time: about STRIP_PIXELS, a multiple of `factor`."""
    return max(factor, STRIP_PIXELS // width // factor * factor)


def _decoded_bytes(mode: str, width: int, height: int) -> int:
    return BYTES_PER_PIXEL.get(mode, 4) * width * height


def _shrinking_bytes(width: int, height: int, factor: int) -> int:
    """What shrinking holds besides the image: a strip and its premultiplied copy, the result twice.

    Unshrunk (factor 1), the thumbnail is made from a premultiplied copy of the whole image.
    """
    if factor == 1:
        return 4 * width * height
    strip = 2 * 4 * min(height, _strip_rows(width, factor)) * width
    return strip + 2 * 4 * math.ceil(width / factor) * math.ceil(height / factor)


class _Shrinking:
    """A canvas that an image, given a strip at a time from the top, is shrunk onto `factor` times."""

    def __init__(self, width: int, height: int, factor: int) -> None:
        self.width, self.height, self.factor = width, height, factor
        self.canvas: Image.Image | None = None

    def add(self, strip: Image.Image, top: int, box: tuple[int, int, int, int] | None = None) -> None:
        """Shrink `box` of `strip` (all of it by default), whose first row is row `top` of the image."""
        part = strip.reduce(self.factor, box)
        if self.canvas is None:
            size = (math.ceil(self.width / self.factor), math.ceil(self.height / self.factor))
            self.canvas = Image.new(part.mode, size)
        self.canvas.paste(part, (0, top // self.factor))


def _shrunk(image: Image.Image, factor: int) -> Image.Image:
    """A loaded image shrunk `factor` times a strip at a time (reducing an image with alpha would first
    make a premultiplied copy of all of it)."""
    shrinking = _Shrinking(image.width, image.height, factor)
    rows = _strip_rows(image.width, factor)
    for top in range(0, image.height, rows):
        shrinking.add(image.crop((0, top, image.width, min(image.height, top + rows))), top)
    assert shrinking.canvas is not None
    shrinking.canvas.info = dict(image.info)
    return shrinking.canvas


def _whole(image: Image.Image, size: int) -> Image.Image:
    """The thumbnail of an image decoded whole (a copy: it outlives the file)."""
    image.load()
    factor = _reduction(image.width, image.height, size)
    if factor > 1 and image.mode in REDUCIBLE:
        image = _shrunk(image, factor)
    image.thumbnail((size, size))
    return image.copy()


def _whole_bytes(mode: str, width: int, height: int, size: int) -> int:
    return _decoded_bytes(mode, width, height) + _shrinking_bytes(width, height, _reduction(width, height, size))


# --- JPEG, GIF, WebP -----------------------------------------------------------------------------


def _read_jpeg(stream: BinaryIO, size: int, allowed: Allowance) -> tuple[int, int, Image.Image]:
    """Decoded at 1/2, 1/4 or 1/8 scale, still at least twice the thumbnail."""
    with Image.open(stream, formats=["JPEG"]) as image:
        width, height = image.size
        allowed.check_pixels(width, height)
        coefficients = _coefficient_bytes(image) if image.info.get("progressive") else 0
        longest = max(width, height)
        image.draft("RGB", (max(1, 2 * size * width // longest), max(1, 2 * size * height // longest)))
        cost = coefficients + _decoded_bytes(image.mode, *image.size)
        allowed.check_cost(width, height, cost, "a progressive JPEG" if coefficients else "a JPEG")
        with _turn(cost):
            image.thumbnail((size, size))
            return width, height, image.copy()


def _coefficient_bytes(image: Image.Image) -> int:
    """What libjpeg holds for a progressive JPEG: every block of every component, padded to whole MCUs."""
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    most_across = max(layer[1] for layer in layers)
    most_down = max(layer[2] for layer in layers)
    blocks = 0
    for _component, across, down, _table in layers:
        blocks_across = math.ceil(image.width * across / (most_across * 8))
        blocks_down = math.ceil(image.height * down / (most_down * 8))
        blocks += math.ceil(blocks_across / across) * across * math.ceil(blocks_down / down) * down
    return blocks * BLOCK_BYTES


def _read_gif(stream: BinaryIO, size: int, allowed: Allowance) -> tuple[int, int, Image.Image]:
    """The first frame, decoded whole (a byte a pixel)."""
    with Image.open(stream, formats=["GIF"]) as image:
        width, height = image.size
        allowed.check_pixels(width, height)
        cost = _whole_bytes(image.mode, width, height, size)
        allowed.check_cost(width, height, cost, "a GIF")
        with _turn(cost):
            return width, height, _whole(image, size)


def _read_webp(stream: BinaryIO, size: int, allowed: Allowance) -> tuple[int, int, Image.Image]:
    """The first frame, decoded whole; checked before Pillow opens it, as libwebp allocates on opening."""
    width, height = _webp_size(stream)
    allowed.check_pixels(width, height)
    file_bytes = stream.seek(0, io.SEEK_END)
    # Pillow reads the whole file, and libwebp keeps a copy of it.
    cost = 2 * file_bytes + (WEBP_BYTES_PER_PIXEL - 4) * width * height + _whole_bytes("RGBA", width, height, size)
    allowed.check_cost(width, height, cost, "a WebP image")
    with _turn(cost), Image.open(stream, formats=["WEBP"]) as image:
        return width, height, _whole(image, size)


def _webp_size(stream: BinaryIO) -> tuple[int, int]:
    """Width and height from the first chunk of a WebP file (lossy, lossless or extended)."""
    stream.seek(0)
    head = stream.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    raise ValueError("not a WebP file")


# --- PNG ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    depth: int
    colour: int
    interlaced: bool

    @property
    def line_bytes(self) -> int:
        """A row as stored: its filter type, then its samples."""
        return 1 + math.ceil(self.width * PNG_SAMPLES[self.colour] * self.depth / 8)

    @property
    def in_strips(self) -> bool:
        """Whether its rows can be decoded a strip at a time (Pillow gives back an 8-bit row exactly)."""
        return self.depth == 8 and self.colour in PNG_STRIP_MODES and not self.interlaced

    def kind(self) -> str:
        """The image's kind, in words, for a refusal."""
        if self.interlaced:
            return "an interlaced PNG"
        if self.colour == 3:
            return "a palette PNG"
        return "a 16-bit PNG" if self.depth == 16 else "a PNG"


def _png_header(stream: BinaryIO) -> PngHeader:
    stream.seek(0)
    head = stream.read(29)
    if len(head) < 29 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height, depth, colour, _compression, _filtering, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if not width or not height or colour not in PNG_SAMPLES or depth not in (1, 2, 4, 8, 16):
        raise ValueError("not a PNG file")
    return PngHeader(width, height, depth, colour, interlace == 1)


def _read_png(stream: BinaryIO, size: int, allowed: Allowance) -> tuple[int, int, Image.Image]:
    """An 8-bit PNG in strips; any other whole."""
    header = _png_header(stream)
    width, height = header.width, header.height
    allowed.check_pixels(width, height)
    with Image.open(stream, formats=["PNG"]) as image:  # reads the chunks before the pixels
        if not header.in_strips:
            cost = _whole_bytes(image.mode, width, height, size)
            allowed.check_cost(width, height, cost, header.kind())
            with _turn(cost):
                return width, height, _whole(image, size)
        factor = _reduction(width, height, size)
        rows = _strip_rows(width, factor)
        cost = (rows + 1) * 3 * (header.line_bytes + 4 * width) + _shrinking_bytes(width, height, factor)
        allowed.check_cost(width, height, cost, header.kind())
        with _turn(cost):
            shrunk, exif = _png_in_strips(stream, header, factor, rows)
        shrunk.info = {key: image.info[key] for key in ORIENTATION_INFO if key in image.info}
    if exif is not None and "exif" not in shrunk.info:
        shrunk.info["exif"] = b"Exif\x00\x00" + exif  # an eXIf chunk after the pixels
    shrunk.thumbnail((size, size))
    return width, height, shrunk


def _png_chunks(stream: BinaryIO) -> Iterator[tuple[bytes, int, Iterator[bytes]]]:
    """The PNG's chunks up to IEND: type, length and data in pieces, each chunk checked against its CRC."""
    stream.seek(len(PNG_SIGNATURE))
    while True:
        head = stream.read(8)
        if len(head) < 8:
            raise ValueError("the PNG file ends early")
        length, kind = struct.unpack(">I4s", head)
        pieces = _png_chunk_data(stream, kind, length)
        yield kind, length, pieces
        for _unread in pieces:  # whatever the reader left, so the next chunk starts where it should
            pass
        if kind == b"IEND":
            return


def _png_chunk_data(stream: BinaryIO, kind: bytes, length: int) -> Iterator[bytes]:
    checksum = zlib.crc32(kind)
    left = length
    while left:
        piece = stream.read(min(left, PNG_PIECE))
        if not piece:
            raise ValueError("the PNG file ends early")
        checksum = zlib.crc32(piece, checksum)
        left -= len(piece)
        yield piece
    if stream.read(4) != checksum.to_bytes(4, "big"):
        raise ValueError(f"the PNG file's {kind!r} chunk is damaged")


def _png_in_strips(stream: BinaryIO, header: PngHeader, factor: int, rows: int) -> tuple[Image.Image, bytes | None]:
    """The PNG shrunk `factor` times, decoded `rows` rows at a time; and its eXIf chunk, if any.

    Each strip is decoded as a PNG of its own: its rows as they are filtered in the file, after the
    previous strip's last row unfiltered (filter type 0), the row its first row's filter may refer to.
    """
    shrinking = _Shrinking(header.width, header.height, factor)
    inflater = zlib.decompressobj()
    rows_data = bytearray()
    previous = b""  # the last row decoded, as raw samples
    top = 0  # the image's row that `rows_data` starts at
    transparency: bytes | None = None
    exif: bytes | None = None

    def take(compressed: bytes) -> None:
        """Inflate `compressed` (b"": what zlib still holds), decoding and shrinking each strip filled."""
        nonlocal previous, top
        while top < header.height:
            wanted = min(rows, header.height - top) * header.line_bytes
            try:
                rows_data.extend(inflater.decompress(compressed, wanted - len(rows_data)))
            except zlib.error as error:
                raise ValueError("the PNG file's pixels are damaged") from error
            compressed = inflater.unconsumed_tail
            if len(rows_data) < wanted:
                return
            strip = _png_strip(header, transparency, previous, rows_data)
            previous = strip.crop((0, strip.height - 1, strip.width, strip.height)).tobytes(
                "raw", PNG_STRIP_MODES[header.colour])
            if "transparency" in strip.info:  # a colour key: made an alpha channel before any averaging
                strip = strip.convert("RGBA")
            shrinking.add(strip, top, (0, strip.height - len(rows_data) // header.line_bytes,
                                       strip.width, strip.height))
            top += len(rows_data) // header.line_bytes
            rows_data.clear()

    for kind, length, pieces in _png_chunks(stream):
        if kind == b"IDAT":
            for piece in pieces:
                take(piece)
        elif kind == b"tRNS" and top == 0 and length <= PNG_PIECE:
            transparency = b"".join(pieces)
        elif kind == b"eXIf" and length <= PNG_EXIF_BYTES:
            exif = b"".join(pieces)
    take(b"")
    if top < header.height or shrinking.canvas is None:
        raise ValueError("the PNG file's pixels end early")
    return shrinking.canvas, exif


def _png_strip(header: PngHeader, transparency: bytes | None, previous: bytes, rows_data: bytearray) -> Image.Image:
    """Rows of the PNG (as filtered in the file) decoded by Pillow, after `previous` if given."""
    height = len(rows_data) // header.line_bytes + (1 if previous else 0)
    deflater = zlib.compressobj(0)  # stored, not compressed: only Pillow reads it, at once
    pixels = b"".join([deflater.compress(b"\x00" + previous if previous else b""), deflater.compress(rows_data),
                       deflater.flush()])
    ihdr = struct.pack(">IIBBBBB", header.width, height, 8, header.colour, 0, 0, 0)
    png = b"".join([PNG_SIGNATURE, _png_chunk(b"IHDR", ihdr),
                    _png_chunk(b"tRNS", transparency) if transparency else b"",
                    _png_chunk(b"IDAT", pixels), _png_chunk(b"IEND", b"")])
    del pixels
    strip = Image.open(io.BytesIO(png), formats=["PNG"])
    strip.load()
    return strip


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


READERS: dict[str, Callable[[BinaryIO, int, Allowance], tuple[int, int, Image.Image]]] = {
    "JPEG": _read_jpeg, "PNG": _read_png, "GIF": _read_gif, "WEBP": _read_webp,
}
