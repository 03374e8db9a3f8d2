"""The size a still image declares, read from its header before any decoder allocates for it.

OpenCV allocates the whole image from the header's width and height before it decodes a byte,
and accepts up to 2**30 pixels: a 100-byte PNG that claims 30000×30000 costs gigabytes. So the
image readers first read the declared size here and refuse anything over ``MAX_IMAGE_PIXELS``
(an 8K screen capture is 33 MP). Only the formats the product reads are recognised (PNG, JPEG,
BMP, TIFF); any other content is refused by name rather than handed to a decoder that was
never checked. A PNG's chunk lengths are checked against the file too: OpenCV's decoder trusts
them (a 143-byte file whose IDAT declares 1.2 GB took it seconds).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from echosr_edge.errors import DataError

MAX_IMAGE_PIXELS = 40_000_000
_JPEG_SCAN_BYTES = 4 << 20  # SOF sits after the APP segments, each at most 64 KiB
_MAX_PNG_CHUNKS = 1 << 16
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class ImageHeader:
    """What an image file declares: its format and size."""

    format: str  # "png", "jpeg", "bmp", "tiff"
    width: int
    height: int


def _png(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _png_chunk_problem(fh, size: int) -> str | None:
    """Why the PNG's chunk lengths do not fit the file (a decoder would trust them), or None."""
    at, chunks = 8, 0
    while at + 12 <= size and chunks < _MAX_PNG_CHUNKS:
        fh.seek(at)
        head = fh.read(8)
        (length,), kind = struct.unpack(">I", head[:4]), head[4:8]
        if at + 12 + length > size:
            name = kind.decode("latin-1") if kind.isalpha() else repr(kind)
            return f"chunk {name} at byte {at} declares {length} bytes, the file has {size - at - 12} left"
        if kind == b"IEND":
            return None
        at += 12 + length
        chunks += 1
    return None if chunks < _MAX_PNG_CHUNKS else f"over {_MAX_PNG_CHUNKS} chunks"


def _bmp(head: bytes) -> tuple[int, int] | None:
    if len(head) < 26:
        return None
    (info_size,) = struct.unpack("<I", head[14:18])
    if info_size == 12:  # BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack("<HH", head[18:22])
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)  # a negative height means top-down rows


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _JPEG_SOF:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xD9 or length < 2:
            return None
        i += 2 + length
    return None


def _tiff(data: bytes, fh) -> tuple[int, int] | None:
    order = "<" if data[:2] == b"II" else ">"
    (version,) = struct.unpack(order + "H", data[2:4])
    big = version == 43
    try:
        (offset,) = struct.unpack(order + ("Q" if big else "I"), data[8:16] if big else data[4:8])
        fh.seek(offset)
        data = fh.read(8 + 4096 * 20)  # the first directory (writers often put it after the pixels)
        if big:
            (count,) = struct.unpack(order + "Q", data[:8])
            start, entry, value_at = 8, 20, 12
        else:
            (count,) = struct.unpack(order + "H", data[:2])
            start, entry, value_at = 2, 12, 8
        found: dict[int, int] = {}
        for n in range(min(count, 4096)):
            at = start + n * entry
            tag, kind = struct.unpack(order + "HH", data[at : at + 4])
            if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG (LONG8 in BigTIFF)
                fmt = {3: "H", 4: "I", 16: "Q"}.get(kind)
                if fmt is None:
                    return None
                found[tag] = struct.unpack(order + fmt, data[at + value_at : at + value_at + struct.calcsize(fmt)])[0]
        return (found[256], found[257]) if 256 in found and 257 in found else None
    except (struct.error, OSError, OverflowError, ValueError):
        return None


def read_image_header(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageHeader:
    """The format and declared size of a PNG, JPEG, BMP or TIFF file; DataError when it is none of
    them, its header is damaged, or it declares more than ``max_pixels`` pixels."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(_JPEG_SCAN_BYTES)
            tiff = _tiff(data, fh) if data[:4] in _TIFF_MAGIC else None
            png_problem = _png_chunk_problem(fh, os.fstat(fh.fileno()).st_size) if data.startswith(_PNG_MAGIC) else None
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror or exc}") from exc
    if data.startswith(_PNG_MAGIC):
        if png_problem:
            raise DataError(path, f"damaged PNG: {png_problem}")
        kind, size = "png", _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        kind, size = "jpeg", _jpeg(data)
    elif data.startswith(b"BM"):
        kind, size = "bmp", _bmp(data)
    elif data[:4] in _TIFF_MAGIC:
        kind, size = "tiff", tiff
    else:
        raise DataError(path, "not a PNG, JPEG, BMP or TIFF image (unrecognised content)")
    if size is None:
        raise DataError(path, f"damaged {kind.upper()} header: no image size found")
    width, height = size
    if width < 1 or height < 1:
        raise DataError(path, f"{kind.upper()} header declares an empty image ({width}x{height})")
    if width * height > max_pixels:
        raise DataError(path, f"{kind.upper()} header declares {width}x{height} pixels, over the limit of {max_pixels}")
    return ImageHeader(kind, width, height)
