"""`echosr-edge inspect`: what the readers see in every format the product reads, one line when it cannot."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.data.synth_screen import LAYOUTS, box_iou, screen_capture
from echosr_edge.runtime.inspect import inspect_file


def _inspect(*args):
    return CliRunner().invoke(main, ["inspect", *map(str, args)])


def _json(*args) -> dict:
    result = _inspect(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_screen_capture_shows_the_detected_image_region(tmp_path):
    capture, truth = screen_capture(LAYOUTS[2])
    cv2.imwrite(str(tmp_path / "capture.png"), capture)
    report = _json(tmp_path / "capture.png")
    assert report["format"] == "image" and report["colour"] == "BGR" and report["frames"] == 1
    assert report["region_source"] == "detected" and box_iou(tuple(report["region"]), truth) >= 0.9
    assert report["spacing_mm"] is None and report["quality"] is None
    assert any("quality: not estimated" in note for note in report["notes"])


def test_text_output_names_every_fact_and_the_preview_is_written(tmp_path):
    capture, _ = screen_capture(LAYOUTS[0])
    cv2.imwrite(str(tmp_path / "capture.png"), capture)
    result = _inspect(tmp_path / "capture.png", "--save", tmp_path / "out" / "preview.png")
    assert result.exit_code == 0, result.output
    for word in ("image", "frames", "size", "colour", "spacing", "region", "preview"):
        assert word in result.output
    preview = cv2.imread(str(tmp_path / "out" / "preview.png"))
    assert preview.shape == capture.shape and (preview[..., 1] == 220).any()


def test_nifti_and_metaimage_give_their_header_spacing(tmp_path):
    from echosr_edge.data.metaimage import write_metaimage
    from echosr_edge.data.nifti import write_nifti

    frames = np.stack([np.full((40, 48), 30 * i, np.uint8) for i in range(3)])
    write_nifti(tmp_path / "a.nii.gz", frames, (0.3, 0.2))
    write_metaimage(tmp_path / "a.mhd", frames, (0.3, 0.2))
    for name, fmt in (("a.nii.gz", "NIfTI"), ("a.mhd", "MetaImage")):
        report = _json(tmp_path / name)
        assert report["format"] == fmt and report["frames"] == 3 and (report["height"], report["width"]) == (40, 48)
        assert report["spacing_mm"] == pytest.approx([0.3, 0.2]) and report["spacing_source"] == f"{fmt} header"


def test_a_video_gives_its_frame_count_rate_and_codec(tmp_path):
    capture, truth = screen_capture(LAYOUTS[1])
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, capture.shape[1::-1])
    if not writer.isOpened():
        pytest.skip("OpenCV has no MJPG writer here")
    for _ in range(5):
        writer.write(capture)
    writer.release()
    report = _json(path)
    assert report["format"] == "video" and report["frames"] == 5 and report["fps"] == pytest.approx(20.0)
    assert report["encoding"] == "MJPG" and box_iou(tuple(report["region"]), truth) >= 0.9


def test_a_dicom_ultrasound_region_is_the_region_and_gives_the_spacing(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")
    from tests import dicom_files as df

    grey = df.sector_cine(2)
    region = df.ultrasound_region(3, 8, 60, 72, (0.025, 0.03))
    report = _json(df.write_native(tmp_path / "r.dcm", grey, SequenceOfUltrasoundRegions=[region]))
    assert report["region"] == [3, 8, 60, 72] and report["region_source"] == "DICOM SequenceOfUltrasoundRegions"
    assert report["spacing_mm"] == pytest.approx([0.25, 0.3]) and report["spacing_source"] == "ultrasound region"


def test_a_dicom_whose_decoder_is_missing_is_one_line_naming_what_to_install(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")
    from pydicom import uid
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder

    from tests import dicom_files as df

    if get_decoder(uid.JPEGLosslessSV1).is_available:
        pytest.skip("a JPEG Lossless decoder is installed here")
    ds = df.dataset(df.sector_cine(1), "MONOCHROME2", uid.JPEGLosslessSV1)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    result = _inspect(df.save(ds, tmp_path / "lossless.dcm"))
    assert result.exit_code == 1
    assert "lossless.dcm: pixel data in JPEG Lossless" in result.output and "pylibjpeg-libjpeg" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("name, content", [("scan.dcm", b"not dicom at all"), ("notes.txt", b"hello"), ("frame.png", b"\x89PNG broken")])
def test_unreadable_files_are_one_line_and_exit_1(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    result = _inspect(tmp_path / name)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and name in result.output


def test_a_bundle_without_a_quality_model_says_quality_was_not_estimated(tmp_path, bundle_dir):
    capture, _ = screen_capture(LAYOUTS[0])
    cv2.imwrite(str(tmp_path / "capture.png"), capture)
    inspection, frame = inspect_file(tmp_path / "capture.png", bundle=bundle_dir)
    assert inspection.quality is None and frame.shape == capture.shape
    assert any("has no quality model" in note for note in inspection.notes)


def test_with_a_quality_model_the_quality_is_the_models_on_the_preprocessed_frame(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import echosr_edge.runtime.session as session_module
    from echosr_edge.runtime.pipeline import Classifier, Pipeline
    from echosr_edge.runtime.sector import SectorCropper
    from tests.runtime.test_pipeline import FakeEngine

    seen = []

    def by_brightness(x):  # 'good' for a bright frame, 'poor' for a dark one
        seen.append(x.shape)
        m = float(x.mean())
        return np.array([[10 * m, 0.0, 10 * (0.3 - m)]], np.float32)

    quality = Classifier("quality", FakeEngine(by_brightness), ("good", "medium", "poor"), 32)
    monkeypatch.setattr(
        session_module, "open_session",
        lambda bundle, device, **options: SimpleNamespace(pipeline=Pipeline(32, 4, None, [], "never", quality, SectorCropper())),
    )
    capture, _ = screen_capture(LAYOUTS[0])
    cv2.imwrite(str(tmp_path / "bright.png"), np.clip(capture.astype(int) * 3, 0, 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "dark.png"), capture // 4)
    bright, _ = inspect_file(tmp_path / "bright.png", bundle=tmp_path)
    dark, _ = inspect_file(tmp_path / "dark.png", bundle=tmp_path)
    assert bright.quality == "good" and dark.quality == "poor"
    assert set(bright.quality_probabilities) == {"good", "medium", "poor"} and seen == [(1, 1, 32, 32)] * 2
