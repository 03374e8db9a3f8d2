"""Inputs the fuzzer found escaping, kept as named cases: each now gives a DataError naming the file."""

import gzip
import tracemalloc
import zlib
from contextlib import contextmanager

import numpy as np
import pytest

from echosr_edge.data.metaimage import read_metaimage
from echosr_edge.data.nifti import read_nifti
from echosr_edge.errors import DataError

MHD = (
    "ObjectType = Image\nNDims = {ndims}\nBinaryData = True\nCompressedData = {compressed}\n"
    "ElementSpacing = 0.3 0.15 1\nDimSize = {dims}\nElementType = MET_UCHAR\nElementDataFile = {data}\n"
)


def _mhd(tmp_path, ndims="3", dims="16 16 2", compressed="False", data="image.raw", payload=None, extra=""):
    header = tmp_path / "image.mhd"
    header.write_text(extra + MHD.format(ndims=ndims, dims=dims, compressed=compressed, data=data))
    if payload is not None:
        (tmp_path / data).write_bytes(payload)
    return header


@contextmanager
def _allocates_under(mb: float):
    """Fail if the block's peak traced allocation (Python objects and numpy arrays) reaches ``mb``."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak < mb, f"peak allocation {peak:.0f} MB"


def test_metaimage_with_an_empty_ndims_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"image\.mhd: NDims is not a list of finite numbers"):
        read_metaimage(_mhd(tmp_path, ndims="", payload=bytes(512)))


def test_metaimage_naming_a_data_file_with_a_nul_byte_is_a_data_error(tmp_path):
    header = tmp_path / "image.mhd"
    header.write_bytes(MHD.format(ndims=3, dims="16 16 2", compressed="False", data="ima\0ge.raw").encode())
    with pytest.raises(DataError, match="file lists are not supported"):
        read_metaimage(header)


def test_metaimage_with_a_non_numeric_header_size_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="HeaderSize is not supported"):
        read_metaimage(_mhd(tmp_path, payload=bytes(512), extra="HeaderSize = -x\n"))


def test_metaimage_declaring_terabytes_over_a_small_raw_allocates_nothing(tmp_path):
    header = _mhd(tmp_path, dims="1000000 1000000 1000", payload=bytes(512))
    with _allocates_under(16), pytest.raises(DataError, match=r"image\.raw: truncated: holds 512 bytes, DimSize 1000000 1000000 1000 .* needs 1000000000000000"):
        read_metaimage(header)


def test_compressed_metaimage_bomb_stops_at_the_declared_size(tmp_path):
    bomb = zlib.compress(bytes(200 << 20), 9)  # 200 MiB of zeros in ~200 kB
    header = _mhd(tmp_path, compressed="True", data="image.zraw", payload=bomb)
    with _allocates_under(16), pytest.raises(DataError, match=r"image\.zraw: header disagrees with data: holds 513 bytes or more, .* needs 512"):
        read_metaimage(header)


def test_compressed_metaimage_too_small_to_hold_its_data_is_refused_before_inflating(tmp_path):
    with pytest.raises(DataError, match="compressed bytes cannot hold"):
        read_metaimage(_mhd(tmp_path, dims="4096 4096 64", compressed="True", data="image.zraw", payload=zlib.compress(bytes(64))))


def _nifti_bytes(shape=(16, 16, 2), dtype=np.uint8):
    import nibabel as nib

    return nib.Nifti1Image(np.zeros(shape, dtype), np.eye(4)).to_bytes()


def test_nifti_with_a_zero_sized_axis_is_a_data_error(tmp_path):
    path = tmp_path / "empty.nii"
    path.write_bytes(_nifti_bytes((16, 0, 2)))
    with pytest.raises(DataError, match=r"empty\.nii: .*(no pixels|too small|expected a 2-D frame)"):
        read_nifti(path)


def test_nifti_with_complex_pixels_is_a_data_error(tmp_path):
    path = tmp_path / "complex.nii"
    path.write_bytes(_nifti_bytes((16, 16, 2), np.complex64))
    with pytest.raises(DataError, match=r"complex\.nii: pixel type complex64 is not a grey-level number type"):
        read_nifti(path)


def _declare_huge(raw: bytes) -> bytes:
    import nibabel as nib

    header = nib.Nifti1Header.from_fileobj(__import__("io").BytesIO(raw))
    header.set_data_shape((30000, 30000, 100))
    return header.binaryblock + raw[348:]


def test_nifti_declaring_more_than_the_file_holds_allocates_nothing(tmp_path):
    path = tmp_path / "huge.nii"
    path.write_bytes(_declare_huge(_nifti_bytes()))
    with _allocates_under(16), pytest.raises(DataError, match=r"huge\.nii: truncated: holds \d+ bytes, the header \(30000x30000x100 uint8\) needs"):
        read_nifti(path)


def test_nifti_gz_declaring_more_than_its_compressed_size_could_hold_is_refused_at_once(tmp_path):
    path = tmp_path / "huge.nii.gz"
    path.write_bytes(gzip.compress(_declare_huge(_nifti_bytes())))
    with pytest.raises(DataError, match="compressed bytes cannot hold"):
        read_nifti(path)


def test_nifti_gz_bomb_behind_a_small_header_costs_no_memory(tmp_path):
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(gzip.compress(_nifti_bytes() + bytes(200 << 20), 9))
    with _allocates_under(16), pytest.raises(DataError, match=r"bomb\.nii\.gz: header disagrees with data: holds 20971\d+ bytes"):
        read_nifti(path)


def test_dicom_with_a_damaged_header_value_is_a_data_error(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")
    from echosr_edge.data.dicom import dicom_info, read_dicom
    from tests.fuzz.targets import _dicom_bytes

    data = _dicom_bytes(np.zeros((2, 16, 16), np.uint8))
    damaged = data.replace(b"33.3", b"33UN")  # FrameTime (a decimal string) no longer a number
    assert damaged != data
    path = tmp_path / "cine.dcm"
    path.write_bytes(damaged)
    with pytest.raises(DataError, match=r"cine\.dcm: unreadable DICOM header value \(ValueError"):
        dicom_info(path)
    with pytest.raises(DataError, match=r"cine\.dcm: unreadable DICOM header value"):
        read_dicom(path)


@pytest.mark.parametrize("value", ["²", "9" * 5000, "0"])
def test_cfg_frame_number_that_int_cannot_take_is_a_data_error(tmp_path, value):
    from echosr_edge.data.camus_cfg import parse_info_cfg

    path = tmp_path / "Info_2CH.cfg"
    path.write_text(f"ED: {value}\nES: 12\nImageQuality: Good\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"Info_2CH\.cfg: ED must be a frame number counted from 1"):
        parse_info_cfg(path)


def _split_doc(**change) -> dict:
    doc = {
        "schema": "echosr-edge/task-splits", "version": 1, "unit": "patient", "test_fraction": 0.2,
        "reference_tier": "poor", "composition": {}, "seeds": [0], "qualities": {},
        "splits": [{"task": "view", "tier": "good", "seed": 0, "train": [], "test": []}],
    }
    doc.update(change)
    return doc


@pytest.mark.parametrize(
    "text",
    [
        '{"schema": "echosr-edge/task-splits", "version": 1, "unit": "patient", "splits": [{"task": "v", "tier": "g", "seed": Infinity, "train": [], "test": []}], "qualities": {}}',
        "[" * 100000,
        __import__("json").dumps(_split_doc(qualities=["good"])),
    ],
    ids=["infinite-seed", "deep-nesting", "qualities-not-an-object"],
)
def test_split_file_that_json_or_int_chokes_on_is_a_data_error(tmp_path, text):
    from echosr_edge.data.split_file import load_split_file

    path = tmp_path / "splits.json"
    path.write_text(text)
    with pytest.raises(DataError, match=r"splits\.json: (malformed|not a JSON) split file"):
        load_split_file(path)


def test_metaimage_whose_element_data_file_is_empty_is_a_data_error(tmp_path):
    header = tmp_path / "image.mhd"
    header.write_text(MHD.format(ndims=3, dims="16 16 2", compressed="False", data=""))
    with pytest.raises(DataError, match="ElementDataFile names no file"):
        read_metaimage(header)


def test_valid_nifti_with_a_header_extension_still_reads(tmp_path):
    import nibabel as nib

    image = nib.Nifti1Image(np.full((16, 16, 2), 7, np.uint8), np.eye(4))
    image.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"scanner notes " * 200))
    for name, data in (("ext.nii", image.to_bytes()), ("ext.nii.gz", gzip.compress(image.to_bytes()))):
        (tmp_path / name).write_bytes(data)
        frames, _ = read_nifti(tmp_path / name)
        assert frames.shape == (2, 16, 16) and int(frames.max()) == 7


def test_nifti_extension_declaring_gigabytes_allocates_nothing(tmp_path):
    import struct

    import nibabel as nib

    image = nib.Nifti1Image(np.zeros((16, 16, 2), np.uint8), np.eye(4))
    image.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"x" * 8))
    raw = bytearray(image.to_bytes())
    raw[352:356] = struct.pack("<i", 0x7FFFFFF0)  # the extension now declares ~2 GB
    path = tmp_path / "ext.nii"
    path.write_bytes(bytes(raw))
    with _allocates_under(16), pytest.raises(DataError, match=r"ext\.nii: not a readable NIfTI file"):
        read_nifti(path)


def test_dicom_element_declaring_gigabytes_allocates_nothing(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")
    import struct

    from echosr_edge.data.dicom import dicom_info
    from echosr_edge.runtime.readers import read_dicom_frames
    from tests.fuzz.targets import _dicom_bytes

    data = bytearray(_dicom_bytes(np.zeros((2, 16, 16), np.uint8)))
    at = data.index(b"\x08\x00\x60\x00CS")  # Modality (0008,0060), explicit VR CS
    data[at : at + 8] = b"\x08\x00\x60\x00UN\x00\x00"  # now UN, whose length is 4 bytes…
    data[at + 8 : at + 8] = struct.pack("<I", 0xFFFFFFF0)  # …declaring ~4 GB
    path = tmp_path / "long.dcm"
    path.write_bytes(bytes(data))
    with _allocates_under(64), pytest.raises(DataError, match=r"long\.dcm"):
        dicom_info(path)
    with _allocates_under(64), pytest.raises(DataError, match=r"long\.dcm"):
        read_dicom_frames(path)
