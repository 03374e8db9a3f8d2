"""The strict MetaImage reader: CAMUS 2019's .mhd + .raw, and the errors it names."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from echosr_edge.data.metaimage import read_metaimage, read_metaimage_mask, write_metaimage
from echosr_edge.errors import DataError


@pytest.fixture()
def frame_mhd(tmp_path):
    image = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    path = tmp_path / "patient0001_2CH_ED.mhd"
    write_metaimage(path, image, (0.2, 0.4))
    return path, image


def test_round_trip_keeps_orientation_and_spacing(frame_mhd):
    path, image = frame_mhd
    frames, spacing = read_metaimage(path)
    assert frames.shape == (1, 12, 10) and np.array_equal(frames[0], image)
    assert spacing == (0.2, 0.4)


def test_header_describes_width_first_as_camus_does(frame_mhd):
    path, _ = frame_mhd
    text = path.read_text()
    assert "DimSize = 10 12 1" in text and "ElementSpacing = 0.4 0.2 1" in text
    assert "ElementDataFile = patient0001_2CH_ED.raw" in text


def test_truncated_raw_is_named_with_the_byte_counts(frame_mhd):
    path, _ = frame_mhd
    raw = path.with_suffix(".raw")
    raw.write_bytes(raw.read_bytes()[:50])
    with pytest.raises(DataError, match=r"patient0001_2CH_ED\.raw: truncated: holds 50 bytes.*needs 120"):
        read_metaimage(path)


def test_header_that_disagrees_with_its_data_is_refused(frame_mhd):
    path, _ = frame_mhd
    path.write_text(path.read_text().replace("DimSize = 10 12 1", "DimSize = 10 11 1"))
    with pytest.raises(DataError, match=r"\.raw: header disagrees with data: holds 120 bytes.*needs 110"):
        read_metaimage(path)


def test_unknown_element_type_names_the_header(frame_mhd):
    path, _ = frame_mhd
    path.write_text(path.read_text().replace("MET_UCHAR", "MET_COMPLEX"))
    with pytest.raises(DataError, match=r"_ED\.mhd: unknown ElementType 'MET_COMPLEX'"):
        read_metaimage(path)


def test_missing_data_file_names_it(frame_mhd):
    path, _ = frame_mhd
    path.with_suffix(".raw").unlink()
    with pytest.raises(DataError, match=r"_ED\.raw: data file named by patient0001_2CH_ED\.mhd not found"):
        read_metaimage(path)


def test_binary_bytes_are_not_a_header(tmp_path):
    path = tmp_path / "x.mhd"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(DataError, match="not a MetaImage header"):
        read_metaimage(path)


def test_data_file_outside_the_folder_is_refused(frame_mhd):
    path, _ = frame_mhd
    path.write_text(path.read_text().replace("= patient0001_2CH_ED.raw", "= ../elsewhere.raw"))
    with pytest.raises(DataError, match="must be a file beside the header"):
        read_metaimage(path)


def test_local_compressed_big_endian_data_are_read(tmp_path):
    values = (np.arange(16 * 9).reshape(9, 16) * 3).astype(">u2")
    payload = zlib.compress(values.tobytes())
    header = (
        "ObjectType = Image\nNDims = 2\nBinaryData = True\nBinaryDataByteOrderMSB = True\n"
        f"CompressedData = True\nCompressedDataSize = {len(payload)}\nElementSpacing = 0.5 0.25\n"
        "DimSize = 16 9\nElementType = MET_USHORT\nElementDataFile = LOCAL\n"
    )
    path = tmp_path / "x.mha"
    path.write_bytes(header.encode() + payload)
    frames, spacing = read_metaimage(path)
    assert spacing == (0.25, 0.5) and frames.shape == (1, 9, 16) and frames.dtype == np.uint8
    expected = (values.astype(float) - values.min()) * (255.0 / (values.max() - values.min()))
    assert np.array_equal(frames[0], expected.astype(np.uint8))


def test_mask_with_labels_outside_camus_names_the_file(tmp_path):
    path = tmp_path / "patient0001_2CH_ED_gt.mhd"
    write_metaimage(path, np.full((10, 10), 7, np.uint8), (0.3, 0.3))
    with pytest.raises(DataError, match=r"_gt\.raw: segmentation mask holds labels \[7\]"):
        read_metaimage_mask(path)
