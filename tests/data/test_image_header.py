"""Image headers are read before decoding: the declared size is checked, unknown content refused."""

import struct

import cv2
import numpy as np
import pytest

from echosr_edge.data.image_header import MAX_IMAGE_PIXELS, read_image_header
from echosr_edge.errors import DataError

FRAME = (np.arange(30 * 20) % 256).astype(np.uint8).reshape(30, 20)


@pytest.mark.parametrize("ext,kind", [(".png", "png"), (".jpg", "jpeg"), (".bmp", "bmp"), (".tif", "tiff")])
def test_the_size_of_each_format_is_read_from_its_header(tmp_path, ext, kind):
    path = tmp_path / f"frame{ext}"
    assert cv2.imwrite(str(path), FRAME)
    header = read_image_header(path)
    assert (header.format, header.width, header.height) == (kind, 20, 30)


def test_a_png_declaring_30000_squared_pixels_is_refused_before_decoding(tmp_path):
    data = bytearray(cv2.imencode(".png", FRAME)[1].tobytes())
    data[16:24] = struct.pack(">II", 30000, 30000)
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=rf"bomb\.png: PNG header declares 30000x30000 pixels, over the limit of {MAX_IMAGE_PIXELS}"):
        read_image_header(path)


def test_content_that_is_no_supported_image_is_refused_by_name(tmp_path):
    path = tmp_path / "frame.png"
    path.write_bytes(b"P5\n60000 60000\n255\n" + bytes(64))  # a PGM: OpenCV would allocate 3.6 GB
    with pytest.raises(DataError, match=r"frame\.png: not a PNG, JPEG, BMP or TIFF image"):
        read_image_header(path)


def test_a_jpeg_cut_before_its_frame_header_is_damaged(tmp_path):
    data = cv2.imencode(".jpg", FRAME)[1].tobytes()
    sof = data.index(b"\xff\xc0")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[:sof])
    with pytest.raises(DataError, match=r"cut\.jpg: damaged JPEG header: no image size found"):
        read_image_header(path)


def test_the_image_folder_source_skips_an_oversized_image_and_reads_the_rest(tmp_path):
    from echosr_edge.runtime.sources import ImageFolderSource

    cv2.imwrite(str(tmp_path / "a.png"), FRAME)
    data = bytearray(cv2.imencode(".png", FRAME)[1].tobytes())
    data[16:24] = struct.pack(">II", 30000, 30000)
    (tmp_path / "b.png").write_bytes(bytes(data))
    frames = list(ImageFolderSource(tmp_path).frames())
    assert [f.shape for _, _, f in frames] == [(30, 20)]


def test_a_png_chunk_longer_than_the_file_is_damaged(tmp_path):
    data = bytearray(cv2.imencode(".png", FRAME)[1].tobytes())
    idat = data.index(b"IDAT") - 4
    data[idat : idat + 4] = struct.pack(">I", 1212416086)
    path = tmp_path / "long.png"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"long\.png: damaged PNG: chunk IDAT at byte \d+ declares 1212416086 bytes"):
        read_image_header(path)
