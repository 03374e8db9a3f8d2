"""DICOM pixel data → H×W uint8 grey, frame by frame, for every transfer syntax scanners write (torch-free).

Decoding goes through pydicom 3's pixel-data plugins. The ``dicom`` extra installs a set that
covers uncompressed little/big endian, RLE Lossless (pydicom itself; pylibjpeg-rle is faster),
JPEG Baseline and 8-bit Extended (Pillow), JPEG-LS lossless and near-lossless (pyjpegls, CharLS) and
JPEG 2000 lossless and lossy (pylibjpeg-openjpeg; Pillow too). None of them is GPL: the
pylibjpeg-libjpeg plugin (GPLv3) is left out, so JPEG Lossless (Process 14) needs it or
python-gdcm added by hand, and the error says so.

Colour: pydicom's ``raw=False`` path returns RGB for RGB, YBR_FULL and YBR_FULL_422 whether or
not the plugin converted YCbCr itself (pydicom tracks what the plugin did; the tests check each
plugin against a reference decode), and the JPEG 2000 plugins undo YBR_ICT/YBR_RCT. RGB becomes
grey with the BT.601 luma weights, the same weights that define Y in YBR_FULL, so a YBR file's
grey is its Y channel up to rounding. PALETTE COLOR goes through the file's own lookup tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from echosr_edge.data.capped_file import CappedFile
from echosr_edge.errors import DataError, import_optional

INSTALL_HINT = 'pip install "echosr-edge[dicom]"'
# Syntaxes whose decoder the ``dicom`` extra installs (by UID prefix; JPEG-LS and JPEG 2000 cover
# their lossless and lossy variants).
COVERED = {
    "1.2.840.10008.1.2": "uncompressed",
    "1.2.840.10008.1.2.1": "uncompressed",
    "1.2.840.10008.1.2.2": "uncompressed",
    "1.2.840.10008.1.2.5": "RLE",
    "1.2.840.10008.1.2.4.50": "Pillow",
    "1.2.840.10008.1.2.4.51": "Pillow",
    "1.2.840.10008.1.2.4.80": "pyjpegls",
    "1.2.840.10008.1.2.4.81": "pyjpegls",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg",
}


JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"


def check_decodable(path: Path, syntax, bits_stored: int = 8) -> str:
    """The names of the installed plugins that decode ``syntax``; DataError naming what to install if none.

    ``syntax`` is a pydicom UID. Native (uncompressed) syntaxes need no plugin and give "native".
    Pillow decodes JPEG Extended only at 8 bits, so 12-bit data asks for the other decoders.
    """
    pixels = import_optional("pydicom.pixels", "dicom")
    try:
        decoder = pixels.get_decoder(syntax)
    except NotImplementedError as exc:
        raise DataError(path, f"pixel data in {syntax.name} ({syntax}) cannot be decoded: no DICOM decoder supports it") from exc
    if decoder.is_native:
        return "native"
    plugins = decoder.available_plugins
    if str(syntax) == JPEG_EXTENDED and bits_stored > 8:
        plugins = tuple(p for p in plugins if p != "pillow")
    if plugins:
        return ", ".join(plugins)
    if str(syntax) in COVERED and not (str(syntax) == JPEG_EXTENDED and bits_stored > 8):
        need = f"{INSTALL_HINT} (it adds {COVERED[str(syntax)]})"
    else:
        options = "; ".join(decoder.missing_dependencies) or "pylibjpeg-libjpeg or python-gdcm"
        need = f"a decoder the 'dicom' extra does not include — one of: {options}"
    raise DataError(path, f"pixel data in {syntax.name} needs a decoder that is not installed: {need}")


def _scale_bits(values: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """Integer samples of ``bits`` stored bits → uint8 by the bit depth (not by the frame's range)."""
    if values.dtype == np.uint8 and bits <= 8 and not signed:
        return values
    floats = values.astype(np.float32)
    if signed:
        floats += float(2 ** (bits - 1))
    return np.clip(floats * (255.0 / (2**bits - 1)) + 0.5, 0, 255).astype(np.uint8)


def rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 RGB → H×W uint8 luma (BT.601: 0.299 R + 0.587 G + 0.114 B)."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _palette_to_rgb8(index: np.ndarray, lut_source) -> np.ndarray:
    """Palette indices → H×W×3 uint8 RGB through the file's Palette Color lookup tables."""
    from pydicom.pixels import apply_color_lut

    rgb = apply_color_lut(index, lut_source)[..., :3]
    if rgb.dtype == np.uint8:
        return rgb
    # A 16-bit table holds 16-bit intensities, except that some writers declare 16 bits and
    # store 8-bit values (PS3.3 C.7.6.3.1.5 allows 8-bit entries in 16-bit words).
    nominal = int(lut_source.RedPaletteColorLookupTableDescriptor[2])
    if nominal <= 8:
        return rgb.astype(np.uint8)
    return np.clip(rgb.astype(np.float32) / 257.0 + 0.5, 0, 255).astype(np.uint8)


def _swap_big_endian_luts(lut_source) -> None:
    """pydicom reads OW lookup tables as raw bytes and ``apply_color_lut`` assumes little endian."""
    for colour in ("Red", "Green", "Blue"):
        keyword = f"{colour}PaletteColorLookupTableData"
        if keyword in lut_source and len(lut_source[keyword].value) % 2 == 0:
            lut_source[keyword].value = np.frombuffer(lut_source[keyword].value, ">u2").astype("<u2").tobytes()


def frame_to_grey(frame: np.ndarray, photometric: str, bits: int, signed: bool, lut_source=None) -> np.ndarray:
    """One frame as pydicom decodes it (H×W, or H×W×3 RGB) → H×W uint8 grey as displayed.

    MONOCHROME1 is inverted; more than 8 stored bits are scaled by the bit depth, the same for
    every frame so a cine does not flicker; PALETTE COLOR needs ``lut_source``, a dataset with the
    lookup tables.
    """
    if photometric == "PALETTE COLOR":
        if lut_source is None:
            raise ValueError("PALETTE COLOR needs the dataset holding the lookup tables")
        return rgb_to_grey(_palette_to_rgb8(frame, lut_source))
    if frame.ndim == 3:
        return rgb_to_grey(_scale_bits(frame[..., :3], bits, False))
    grey = _scale_bits(frame, bits, signed)
    return 255 - grey if photometric == "MONOCHROME1" else grey


def decode_frames(path: Path, indices: Iterable[int] | None = None, plugin: str = "") -> Iterator[np.ndarray]:
    """Yield the frames of a DICOM file (all, or ``indices``) as H×W uint8 grey, decoding one at a time.

    pydicom reads the header once and then each frame's bytes from the file as it is asked for
    it, so a long cine never sits in memory whole. Raises MissingExtra without pydicom and
    DataError naming the file for anything it cannot decode (a missing plugin names what to
    install). ``plugin`` names one of pydicom's decoding plugins (default: the first that works).
    """
    pydicom = import_optional("pydicom", "dicom")
    pixels = import_optional("pydicom.pixels", "dicom")
    path = Path(path)
    try:
        with CappedFile(path) as fh:  # a damaged length field must not allocate beyond the file
            header = pydicom.dcmread(fh, stop_before_pixels=True)
    except Exception as exc:  # InvalidDicomError, truncated files, bad VRs
        raise DataError(path, f"not a readable DICOM file ({type(exc).__name__}: {str(exc)[:200]})") from exc
    try:  # pydicom converts values on access: a damaged value raises any type
        meta = getattr(header, "file_meta", None)
        syntax = meta.get("TransferSyntaxUID") if meta is not None else None
        bits = int(header.get("BitsStored", header.get("BitsAllocated", 8)) or 8)
        photometric = str(header.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        signed = int(header.get("PixelRepresentation", 0) or 0) == 1
    except Exception as exc:
        raise DataError(path, f"unreadable DICOM header value ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not syntax:
        raise DataError(path, "the DICOM file has no transfer syntax (not a DICOM Part 10 file)")
    check_decodable(path, syntax, bits)
    lut_source = pydicom.Dataset() if photometric == "PALETTE COLOR" else None
    try:
        with CappedFile(path) as fh:
            frames = pixels.iter_pixels(fh, ds_out=lut_source, indices=indices, decoding_plugin=plugin)
            for index, frame in enumerate(frames):
                if index == 0 and lut_source is not None and not syntax.is_little_endian:
                    _swap_big_endian_luts(lut_source)
                yield frame_to_grey(frame, photometric, bits, signed, lut_source)
    except DataError:
        raise
    except Exception as exc:  # truncated pixel data, a plugin that fails, bad geometry or LUTs
        raise DataError(path, f"cannot decode the pixel data ({syntax.name}; {type(exc).__name__}: {str(exc)[:200]})") from exc
