"""Every transfer syntax and colour model scanners write decodes to the right grey frames.

Files are built here from known frames; the product's grey frames are compared with a reference
decode: the source frames themselves for lossless encodings (exact, or within one grey level of
the float luma for colour), an independent Pillow decode for JPEG, and a small mean error for
the lossy encodings.
"""

import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")

from pydicom import uid  # noqa: E402

from echosr_edge.data.dicom import dicom_info, iter_dicom_frames, read_dicom  # noqa: E402
from echosr_edge.data.dicom_pixels import decode_frames  # noqa: E402
from echosr_edge.errors import DataError  # noqa: E402
from tests import dicom_files as df  # noqa: E402


def _needs_encoder(syntax):
    from pydicom.pixels import get_encoder

    encoder = get_encoder(syntax)
    if not encoder.is_available:
        pytest.skip(f"no {syntax.name} encoder here ({'; '.join(encoder.missing_dependencies)})")


@pytest.fixture(scope="module")
def grey():
    return df.sector_cine(3)


@pytest.fixture(scope="module")
def rgb(grey):
    return df.colour_cine(grey)


@pytest.mark.parametrize("syntax", [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian])
def test_uncompressed_little_and_big_endian_read_exactly(tmp_path, grey, syntax):
    frames, info = read_dicom(df.write_native(tmp_path / "a.dcm", grey, syntax=syntax))
    np.testing.assert_array_equal(frames, grey)
    assert info.transfer_syntax == syntax.name and info.frames == 3


def test_sixteen_bit_big_endian_is_byte_swapped_and_scaled_by_its_depth(tmp_path, grey):
    wide = grey.astype(np.uint16) * 257  # 0..65535, so the low byte is not zero and a swap shows
    frames, _ = read_dicom(df.write_native(tmp_path / "be16.dcm", wide, syntax=uid.ExplicitVRBigEndian))
    np.testing.assert_array_equal(frames, grey)


@pytest.mark.parametrize("syntax", [uid.RLELossless, uid.JPEGLSLossless, uid.JPEG2000Lossless])
def test_lossless_compression_of_grey_frames_is_exact(tmp_path, grey, syntax):
    _needs_encoder(syntax)
    frames, info = read_dicom(df.write_compressed(tmp_path / "c.dcm", grey, syntax))
    assert info.transfer_syntax == syntax.name
    np.testing.assert_array_equal(frames, grey)


@pytest.mark.parametrize("syntax", [uid.ExplicitVRLittleEndian, uid.RLELossless, uid.JPEGLSLossless, uid.JPEG2000Lossless])
def test_lossless_rgb_becomes_its_luma(tmp_path, rgb, syntax):
    if syntax.is_compressed:
        _needs_encoder(syntax)
        path = df.write_compressed(tmp_path / "c.dcm", rgb, syntax)
    else:
        path = df.write_native(tmp_path / "c.dcm", rgb, "RGB")
    frames, _ = read_dicom(path)
    assert np.abs(frames.astype(int) - df.luma(rgb)).max() <= 1


def test_jpeg_ls_near_lossless_stays_within_its_declared_error(tmp_path, grey):
    _needs_encoder(uid.JPEGLSNearLossless)
    frames, _ = read_dicom(df.write_compressed(tmp_path / "c.dcm", grey, uid.JPEGLSNearLossless, jls_error=3))
    error = np.abs(frames.astype(int) - grey)
    assert error.max() <= 3 and error.mean() < 2.0


@pytest.mark.parametrize("frames_of", ["grey", "rgb"])
def test_jpeg_2000_lossy_is_close_to_the_source(tmp_path, grey, rgb, frames_of):
    _needs_encoder(uid.JPEG2000)
    source = grey if frames_of == "grey" else rgb
    frames, _ = read_dicom(df.write_compressed(tmp_path / "c.dcm", source, uid.JPEG2000, j2k_psnr=[38]))
    reference = grey if frames_of == "grey" else df.luma(rgb)
    error = np.abs(frames.astype(int) - reference)
    assert 0 < error.mean() < 3.0  # lossy: some error, and little of it


@pytest.mark.parametrize("subsampling, photometric", [(1, "YBR_FULL_422"), (2, "YBR_FULL_422"), (0, "YBR_FULL")])
@pytest.mark.parametrize("plugin", ["pillow", "pylibjpeg", "gdcm"])
def test_jpeg_baseline_ybr_cine_matches_an_independent_decode_for_each_plugin(tmp_path, rgb, subsampling, photometric, plugin):
    from pydicom.pixels import get_decoder

    if plugin not in get_decoder(uid.JPEGBaseline8Bit).available_plugins:
        pytest.skip(f"pydicom's {plugin!r} JPEG plugin is not installed (the 'dicom' extra uses pillow)")
    path, jpegs = df.write_jpeg_baseline(tmp_path / "j.dcm", rgb, subsampling, photometric)
    frames = np.stack(list(decode_frames(path, plugin=plugin)))
    reference = df.reference_jpeg_grey(jpegs)
    assert np.abs(frames.astype(int) - reference).max() <= 2
    assert np.abs(frames.astype(int) - df.luma(rgb)).mean() < 4.0  # JPEG at quality 90 on speckle
    # Treating YCbCr as RGB (the bug this guards against) would be far off.
    import io

    from PIL import Image

    raw_ycbcr = np.stack([np.asarray(Image.open(io.BytesIO(j)).convert("YCbCr")) for j in jpegs])
    assert np.abs(df.luma(raw_ycbcr).astype(int) - reference).mean() > 10


def test_native_ybr_full_grey_is_its_y_channel(tmp_path, rgb):
    from pydicom.pixels import convert_color_space

    ybr = np.stack([convert_color_space(f, "RGB", "YBR_FULL") for f in rgb])
    frames, info = read_dicom(df.write_native(tmp_path / "ybr.dcm", ybr, "YBR_FULL"))
    assert info.photometric == "YBR_FULL"
    assert np.abs(frames.astype(int) - ybr[..., 0]).max() <= 1


@pytest.mark.parametrize("bits, declared", [(16, 16), (8, 8)])
def test_palette_colour_goes_through_the_files_lookup_tables(tmp_path, grey, bits, declared):
    table = df.heat_palette(256, bits)
    frames, info = read_dicom(df.write_palette(tmp_path / "p.dcm", grey, table, declared_bits=declared))
    assert info.photometric == "PALETTE COLOR"
    reference = df.reference_palette_grey(grey, table)
    assert np.abs(frames.astype(int) - reference).max() <= 1
    assert np.abs(reference.astype(int) - grey).max() > 20  # the palette really changes the grey


def test_palette_colour_in_big_endian_reads_its_tables_in_that_order(tmp_path, grey):
    table = df.heat_palette(256, 16)
    path = df.write_palette(tmp_path / "pbe.dcm", grey, table, syntax=uid.ExplicitVRBigEndian)
    frames, _ = read_dicom(path)
    assert np.abs(frames.astype(int) - df.reference_palette_grey(grey, table)).max() <= 1


def test_frames_are_decoded_one_at_a_time_not_the_whole_file(tmp_path):
    big = np.random.default_rng(1).integers(0, 255, (24, 256, 256, 3), dtype=np.uint8)  # 4.7 MB of pixels
    path = df.write_native(tmp_path / "long.dcm", big, "RGB")
    tracemalloc.start()
    try:
        frames = iter_dicom_frames(path)
        first = next(frames)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.shape == (256, 256)
    assert peak < 1_500_000, f"reading one frame allocated {peak} bytes"
    tenth = next(iter_dicom_frames(path, indices=[10]))
    assert np.abs(tenth.astype(int) - df.luma(big[10])).max() <= 1


def test_ultrasound_region_gives_the_image_box_and_the_spacing_in_mm(tmp_path, grey):
    doppler = df.ultrasound_region(50, 0, 64, 80, (0.5, 0.5))
    doppler.RegionSpatialFormat, doppler.RegionDataType = 3, 3  # a spectral strip, not the image
    tissue = df.ultrasound_region(4, 10, 48, 70, (0.03, 0.025))
    path = df.write_native(tmp_path / "r.dcm", grey, SequenceOfUltrasoundRegions=[doppler, tissue], PixelSpacing=[9, 9])
    info = dicom_info(path)
    assert info.region == (4, 10, 48, 70)
    assert info.spacing_mm == pytest.approx((0.3, 0.25)) and info.spacing_source == "ultrasound region"


def test_without_regions_the_spacing_comes_from_pixel_spacing_and_says_so(tmp_path, grey):
    info = dicom_info(df.write_native(tmp_path / "s.dcm", grey, PixelSpacing=[0.2, 0.3]))
    assert info.region is None and info.spacing_mm == (0.2, 0.3) and info.spacing_source == "PixelSpacing"
    bare = dicom_info(df.write_native(tmp_path / "n.dcm", grey))
    assert bare.spacing_mm is None and bare.spacing_source is None


def test_a_syntax_whose_decoder_is_not_installed_names_what_to_install(tmp_path, grey):
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder

    if get_decoder(uid.JPEGLosslessSV1).is_available:
        pytest.skip("a JPEG Lossless decoder (pylibjpeg-libjpeg or gdcm) is installed here")
    ds = df.dataset(grey, "MONOCHROME2", uid.JPEGLosslessSV1)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"] * 3)
    path = df.save(ds, tmp_path / "lossless.dcm")
    with pytest.raises(DataError, match=r"lossless\.dcm: pixel data in JPEG Lossless.*pylibjpeg-libjpeg"):
        read_dicom(path)


def test_a_covered_syntax_without_its_plugin_names_the_dicom_extra(tmp_path, grey):
    _needs_encoder(uid.JPEGLSLossless)
    path = df.write_compressed(tmp_path / "jls.dcm", grey, uid.JPEGLSLossless)
    code = textwrap.dedent(f"""
        import sys
        for name in ("jpeg_ls", "libjpeg", "gdcm"):
            sys.modules[name] = None  # as if the plugins were not installed
        from echosr_edge.data.dicom import read_dicom
        from echosr_edge.errors import DataError
        try:
            read_dicom({str(path)!r})
        except DataError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "jls.dcm: pixel data in JPEG-LS Lossless" in out.stdout
    assert 'pip install "echosr-edge[dicom]"' in out.stdout and "pyjpegls" in out.stdout


def test_twelve_bit_jpeg_extended_is_not_left_to_pillow_which_decodes_only_8_bits(tmp_path):
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder

    if set(get_decoder(uid.JPEGExtended12Bit).available_plugins) - {"pillow"}:
        pytest.skip("a 12-bit JPEG decoder (pylibjpeg-libjpeg or gdcm) is installed here")
    frames = np.zeros((1, 16, 16), np.uint16)
    ds = df.dataset(frames, "MONOCHROME2", uid.JPEGExtended12Bit, BitsStored=12, HighBit=11)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    with pytest.raises(DataError, match=r"x12\.dcm: pixel data in JPEG Extended.*pylibjpeg-libjpeg"):
        read_dicom(df.save(ds, tmp_path / "x12.dcm"))
