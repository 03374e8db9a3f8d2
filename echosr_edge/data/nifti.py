"""NIfTI frames and cines as CAMUS stores them.

CAMUS (2023 release) stores an image with the first array axis along the image columns (x)
and the second along the rows (y), so ``nibabel`` returns a W×H array. The product's one
orientation is H×W with the probe apex at the top (row 0): readers transpose on load and
writers transpose on save. Pixel spacing comes from the header's zooms, (row, column) in mm.
"""

from __future__ import annotations

import math
import os
import zlib
from pathlib import Path

import numpy as np

from echosr_edge.data.pixels import as_mask, as_uint8, row_col_spacing
from echosr_edge.errors import DataError

_MAX_DEFLATE_RATIO = 1032  # deflate's largest expansion: more output than this is impossible
_to_uint8 = as_uint8  # kept for callers of the walking skeleton's name


def _needed_bytes(header, offset: int) -> int:
    """Bytes a NIfTI file must hold: vox_offset plus the data its header describes."""
    return offset + math.prod(int(n) for n in header.get_data_shape()) * header.get_data_dtype().itemsize


def _check_size(path: Path, header, offset: int, size: int) -> None:
    """Refuse a file whose data are shorter or longer than its header describes."""
    shape = header.get_data_shape()
    need = _needed_bytes(header, offset)
    if size != need:
        dims = "x".join(map(str, shape))
        dims = dims if len(dims) <= 60 else dims[:57] + "..."
        what = "truncated" if size < need else "header disagrees with data"
        raise DataError(path, f"{what}: holds {size} bytes, the header ({dims} {header.get_data_dtype()}) needs {need}")


def _image_class(head: bytes, nib):
    nifti2 = head[:4] in (b"\x1c\x02\x00\x00", b"\x00\x00\x02\x1c")  # sizeof_hdr 540
    return nib.Nifti2Image if nifti2 else nib.Nifti1Image


def _gunzip(compressed: bytes, keep: int, path: Path, count_all: bool = False) -> tuple[bytes, int]:
    """Inflate the gzip members of ``compressed``, keeping the first ``keep`` bytes in memory.

    Returns them and the whole uncompressed size; the rest is inflated in 1 MiB pieces and
    only counted (``count_all``), so a decompression bomb costs time, never memory.
    """
    out, total, rest = bytearray(), 0, compressed
    while rest:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while True:
            want = keep - len(out) if len(out) < keep else 1 << 20
            try:
                piece = inflater.decompress(rest, want)
            except zlib.error as exc:
                raise DataError(path, f"not a readable NIfTI file: damaged gzip data ({exc})") from exc
            rest = inflater.unconsumed_tail
            total += len(piece)
            if len(out) < keep:
                out += piece[: keep - len(out)]
            if inflater.eof or not piece or (len(out) >= keep and not count_all):
                break
        if len(out) >= keep and not count_all:
            break
        if not inflater.eof:
            raise DataError(path, "not a readable NIfTI file: truncated gzip data (the stream does not end)")
        rest = inflater.unused_data
    return bytes(out), total


def _header_only(head: bytes, nib):
    """The fixed-size header at the start of ``head``, without reading extensions (those come later)."""
    header_class = _image_class(head, nib).header_class
    return header_class(head[: header_class.sizeof_hdr])


def _read_checked(path: Path, nib) -> bytes:
    """The bytes of an uncompressed NIfTI file, read only once its header's size matches the file's."""
    with open(path, "rb") as fh:
        head = fh.read(540)
        if len(head) < 348:
            raise DataError(path, f"truncated: {len(head)} bytes, shorter than a NIfTI header")
        header = _header_only(head, nib)
        _check_size(path, header, int(header.get_data_offset()), os.fstat(fh.fileno()).st_size)
        fh.seek(0)
        return fh.read()


def _gunzip_checked(path: Path, nib) -> bytes:
    """The uncompressed file, checked against its header's declared size before it is kept whole."""
    compressed = path.read_bytes()
    head, _ = _gunzip(compressed, 540, path)
    if len(head) < 348:
        raise DataError(path, f"truncated: {len(head)} bytes, shorter than a NIfTI header")
    header = _header_only(head, nib)
    offset = int(header.get_data_offset())
    need = _needed_bytes(header, offset)
    if need > _MAX_DEFLATE_RATIO * len(compressed) + 1024:
        raise DataError(path, f"truncated: {len(compressed)} compressed bytes cannot hold the {need} its header describes")
    raw, total = _gunzip(compressed, need, path, count_all=True)
    _check_size(path, header, offset, total)
    return raw


def _load(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """T×H×W array in the file's dtype and (row, col) spacing."""
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        # In memory, after the sizes are checked: ~1.6x faster than nib.load's file machinery on
        # CAMUS frames, and nibabel's reads (extensions) are then bounded by the bytes there are.
        raw = _gunzip_checked(path, nib) if path.name.endswith(".gz") else _read_checked(path, nib)
        img = _image_class(raw, nib).from_bytes(raw)
        data = np.asanyarray(img.dataobj)
        zooms = img.header.get_zooms()
    except DataError:
        raise
    except Exception as exc:  # nibabel raises many types for damaged or truncated files
        raise DataError(path, f"not a readable NIfTI file ({type(exc).__name__}: {exc})") from exc
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 4 and data.shape[2] == 1:
        data = data[:, :, 0, :]
    if data.ndim != 3:
        raise DataError(path, f"expected a 2-D frame or a 2-D+time cine, got shape {data.shape}")
    if min(data.shape[:2]) < 8:
        raise DataError(path, f"image too small: {data.shape[0]}x{data.shape[1]}")
    frames = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))  # (x, y, t) -> (t, y, x)
    spacing = row_col_spacing(zooms[0], zooms[1]) if len(zooms) >= 2 else (1.0, 1.0)
    return frames, spacing


def read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """Read a NIfTI file as T×H×W uint8 (T=1 for a single frame) and (row, col) spacing in mm."""
    frames, spacing = _load(path)
    return as_uint8(frames, Path(path)), spacing


def read_nifti_mask(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """Read a ``_gt`` NIfTI file as T×H×W uint8 labels (0–3), refusing other values."""
    frames, spacing = _load(path)
    return as_mask(frames, Path(path)), spacing


def write_nifti(path: Path, frames: np.ndarray, spacing: tuple[float, float]) -> None:
    """Write H×W or T×H×W uint8 frames in CAMUS's NIfTI layout (the inverse of read_nifti)."""
    import nibabel as nib

    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 2:
        data = frames.T  # (y, x) -> (x, y)
        zooms = (spacing[1], spacing[0])
    else:
        data = np.transpose(frames, (2, 1, 0))  # (t, y, x) -> (x, y, t)
        zooms = (spacing[1], spacing[0], 1.0)
    affine = np.diag([spacing[1], spacing[0], 1.0, 1.0])
    img = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    img.header.set_zooms(zooms)
    nib.save(img, str(path))
