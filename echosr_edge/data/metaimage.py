"""MetaImage (``.mhd`` header + ``.raw`` data) as the 2019 CAMUS release stores it.

Why a small strict reader rather than SimpleITK: CAMUS writes one narrow MetaImage subset
(``ObjectType = Image``, 2-D or 2-D+time, one channel, ``MET_UCHAR``, an external ``.raw``
beside the header). Reading that is ~100 lines, whereas SimpleITK is a ~50 MB wheel that a
companion device would carry only for this, and its errors ("Exception thrown in
SimpleITK ImageFileReader_Execute …") name neither the byte count nor which side is wrong.
Reading strictly also lets every disagreement between a header and its data (a truncated
``.raw``, a ``.raw`` longer than ``DimSize`` says, an unknown element type) become a
DataError naming the file and the problem. Features CAMUS never uses (``HeaderSize``,
``ElementDataFile = LIST``, several channels) are refused by name rather than guessed at.

Orientation: ``DimSize`` is x (columns) first and the data are stored x-fastest, so the
bytes reshape to T×H×W with row 0 at the probe apex, the product's one orientation.
"""

from __future__ import annotations

import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echosr_edge.data.pixels import as_mask, as_uint8, row_col_spacing
from echosr_edge.errors import DataError

ELEMENT_TYPES: dict[str, str] = {
    "MET_UCHAR": "u1",
    "MET_CHAR": "i1",
    "MET_USHORT": "u2",
    "MET_SHORT": "i2",
    "MET_UINT": "u4",
    "MET_INT": "i4",
    "MET_FLOAT": "f4",
    "MET_DOUBLE": "f8",
}
_MAX_HEADER_BYTES = 64 * 1024
_MAX_DEFLATE_RATIO = 1032  # zlib's largest possible expansion: more output than this is impossible
_TRUE, _FALSE = ("true", "1"), ("false", "0")


@dataclass(frozen=True)
class MetaHeader:
    """The parts of a MetaImage header that decide how its data are read."""

    path: Path
    dims: tuple[int, ...]  # DimSize: x, y[, t]
    spacing: tuple[float, ...]  # ElementSpacing, same order as dims
    dtype: np.dtype
    data_file: Path | None  # None: the data follow the header in the same file (LOCAL)
    data_offset: int  # where LOCAL data start
    compressed: bool

    @property
    def data_bytes(self) -> int:
        """Bytes of uncompressed data the header describes."""
        return math.prod(self.dims) * self.dtype.itemsize


def _flag(header: Path, fields: dict[str, str], key: str, default: bool) -> bool:
    value = fields.get(key)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise DataError(header, f"{key} must be True or False, got {value!r}")


def _numbers(header: Path, fields: dict[str, str], key: str, kind: type) -> tuple:
    try:
        values = tuple(kind(v) for v in fields[key].split())
    except ValueError as exc:
        raise DataError(header, f"{key} is not a list of numbers: {fields[key]!r}") from exc
    if not values or (kind is float and not all(math.isfinite(v) for v in values)):
        raise DataError(header, f"{key} is not a list of finite numbers: {fields[key]!r}")
    return values


def read_metaimage_header(path: Path) -> MetaHeader:
    """Parse and check a MetaImage header; raise DataError naming the file and the problem."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_MAX_HEADER_BYTES)
    except FileNotFoundError as exc:
        raise DataError(path, "file not found") from exc
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror}") from exc
    fields: dict[str, str] = {}
    offset = 0
    for raw_line in head.splitlines(keepends=True):
        offset += len(raw_line)
        try:
            line = raw_line.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise DataError(path, "not a MetaImage header (binary bytes before ElementDataFile)") from exc
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise DataError(path, f"not a MetaImage header: line {line[:60]!r} is not 'Key = Value'")
        fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    else:
        raise DataError(path, "not a MetaImage header: no ElementDataFile line")
    for key in ("NDims", "DimSize", "ElementType"):
        if key not in fields:
            raise DataError(path, f"MetaImage header lacks {key}")
    if fields.get("ObjectType", "Image") != "Image":
        raise DataError(path, f"ObjectType {fields['ObjectType']!r} is not an image")
    ndims = _numbers(path, fields, "NDims", int)[0]
    dims = _numbers(path, fields, "DimSize", int)
    if len(dims) != ndims or ndims not in (2, 3) or min(dims) < 1:
        raise DataError(path, f"DimSize {fields['DimSize']!r} does not fit NDims = {ndims} (2 or 3 expected)")
    spacing_key = "ElementSpacing" if "ElementSpacing" in fields else "ElementSize"
    spacing = _numbers(path, fields, spacing_key, float) if spacing_key in fields else (1.0,) * ndims
    if len(spacing) != ndims or min(spacing) <= 0:
        raise DataError(path, f"{spacing_key} {fields[spacing_key]!r} does not fit NDims = {ndims}")
    if fields.get("ElementNumberOfChannels", "1") != "1":
        raise DataError(path, f"ElementNumberOfChannels {fields['ElementNumberOfChannels']} (only grey images are read)")
    if fields.get("HeaderSize", "0").strip() not in ("", "0"):
        raise DataError(path, "HeaderSize is not supported (CAMUS never uses it)")
    if not _flag(path, fields, "BinaryData", True):
        raise DataError(path, "ASCII MetaImage data (BinaryData = False) is not supported")
    element = fields["ElementType"]
    if element not in ELEMENT_TYPES:
        raise DataError(path, f"unknown ElementType {element!r} (expected one of {', '.join(ELEMENT_TYPES)})")
    msb = _flag(path, fields, "BinaryDataByteOrderMSB", _flag(path, fields, "ElementByteOrderMSB", False))
    dtype = np.dtype(ELEMENT_TYPES[element]).newbyteorder(">" if msb else "<")
    compressed = _flag(path, fields, "CompressedData", False)
    data_name = fields["ElementDataFile"]
    if not data_name:
        raise DataError(path, "ElementDataFile names no file")
    if data_name.upper() == "LOCAL":
        data_file = None
    elif data_name.upper() == "LIST" or "%" in data_name or " " in data_name or "\0" in data_name:
        raise DataError(path, f"ElementDataFile {data_name!r}: file lists are not supported")
    elif Path(data_name).name != data_name:
        raise DataError(path, f"ElementDataFile {data_name!r} must be a file beside the header")
    else:
        data_file = path.with_name(data_name)
    return MetaHeader(path, dims, spacing, dtype, data_file, offset, compressed)


def _read_data(header: MetaHeader) -> np.ndarray:
    source = header.data_file or header.path
    need = header.data_bytes
    described = f"DimSize {' '.join(map(str, header.dims))} of {header.dtype.itemsize}-byte elements in {header.path.name}"
    try:
        with open(source, "rb") as fh:
            start = header.data_offset if header.data_file is None else 0
            # Sizes are compared before reading, so a header that declares terabytes allocates nothing.
            held = os.fstat(fh.fileno()).st_size - start
            if not header.compressed and held != need:
                what = "truncated" if held < need else "header disagrees with data"
                raise DataError(source, f"{what}: holds {held} bytes, {described} needs {need}")
            if header.compressed and need > _MAX_DEFLATE_RATIO * held + 1024:
                raise DataError(source, f"truncated: {held} compressed bytes cannot hold the {need} that {described} needs")
            fh.seek(start)
            payload = fh.read()
    except FileNotFoundError as exc:
        raise DataError(source, f"data file named by {header.path.name} not found") from exc
    except IsADirectoryError as exc:
        raise DataError(source, f"data file named by {header.path.name} is a folder") from exc
    except OSError as exc:
        raise DataError(source, f"cannot read: {exc.strerror}") from exc
    if header.compressed:
        payload = _inflate(payload, need + 1, source)  # one byte more than needed tells "longer"
    if len(payload) < need:
        raise DataError(source, f"truncated: holds {len(payload)} bytes, {described} needs {need}")
    if len(payload) > need:
        raise DataError(source, f"header disagrees with data: holds {len(payload)} bytes or more, {described} needs {need}")
    data = np.frombuffer(payload, dtype=header.dtype)
    if header.dtype.byteorder == ">":
        data = data.astype(header.dtype.newbyteorder("="))
    t = header.dims[2] if len(header.dims) == 3 else 1
    return data.reshape(t, header.dims[1], header.dims[0])  # x fastest: (t, y, x)


def _inflate(payload: bytes, limit: int, source: Path) -> bytes:
    """zlib-inflate at most ``limit`` bytes: a decompression bomb stops at the header's size."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(payload, limit)
    except zlib.error as exc:
        raise DataError(source, f"compressed data are damaged or truncated ({exc})") from exc
    if len(out) < limit and not inflater.eof:
        raise DataError(source, "compressed data are truncated (the zlib stream does not end)")
    return out


def _load(path: Path) -> tuple[np.ndarray, tuple[float, float], Path]:
    header = read_metaimage_header(path)
    frames = _read_data(header)
    if min(frames.shape[1:]) < 8:
        raise DataError(path, f"image too small: {frames.shape[2]}x{frames.shape[1]}")
    return frames, row_col_spacing(header.spacing[0], header.spacing[1]), header.data_file or header.path


def read_metaimage(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """Read a ``.mhd``/``.mha`` file as T×H×W uint8 (T=1 for a frame) and (row, col) spacing in mm."""
    frames, spacing, source = _load(path)
    return as_uint8(frames, source), spacing


def read_metaimage_mask(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """Read a ``_gt`` MetaImage as T×H×W uint8 labels (0–3), refusing other values."""
    frames, spacing, source = _load(path)
    return as_mask(frames, source), spacing


def write_metaimage(path: Path, frames: np.ndarray, spacing: tuple[float, float]) -> Path:
    """Write H×W or T×H×W uint8 frames as ``path`` (.mhd) + a ``.raw`` beside it, as CAMUS 2019 does.

    The header is 3-D (``DimSize = W H T``, T=1 for a frame) like CAMUS's. Returns the .raw path.
    """
    path = Path(path)
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 2:
        frames = frames[None]
    t, h, w = frames.shape
    raw = path.with_suffix(".raw")
    lines = [
        "ObjectType = Image",
        "NDims = 3",
        "BinaryData = True",
        "BinaryDataByteOrderMSB = False",
        "CompressedData = False",
        "TransformMatrix = 1 0 0 0 1 0 0 0 1",
        "Offset = 0 0 0",
        "CenterOfRotation = 0 0 0",
        "AnatomicalOrientation = RAI",
        f"ElementSpacing = {float(spacing[1])!r} {float(spacing[0])!r} 1",
        f"DimSize = {w} {h} {t}",
        "ElementType = MET_UCHAR",
        f"ElementDataFile = {raw.name}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    raw.write_bytes(np.ascontiguousarray(frames).tobytes())
    return raw
