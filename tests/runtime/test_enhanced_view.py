"""The second pane at the original's aspect, labelled for what it is, never "enhanced" below bicubic."""

import numpy as np
import pytest

from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.display import compose_view, overlay_lines
from echosr_edge.runtime.enhanced_view import SRCheck, check_sr_against_bicubic, display_aspect, frame_flag, pane_title
from echosr_edge.runtime.pipeline import FrameResult, load_pipeline
from echosr_edge.runtime.sector import SectorBox


def _aspect(image: np.ndarray) -> float:
    return image.shape[1] / image.shape[0]


def _content_box(pane: np.ndarray) -> tuple[int, int]:
    """Height and width of the non-black part of a letterboxed BGR pane."""
    rows, cols = np.nonzero(pane.max(axis=2) > 0)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def _result(crop=None, applied=True) -> FrameResult:
    square = np.full((64, 64), 0.6, np.float32)
    return FrameResult({"view": "2CH"}, {"view": {"2CH": 0.9, "4CH": 0.1}}, {"total": 1.0}, applied, square, crop=crop)


BELOW = SRCheck("student", 4, 16, sr_psnr_db=24.0, bicubic_psnr_db=26.0)
ABOVE = SRCheck("srresnet", 4, 16, sr_psnr_db=28.5, bicubic_psnr_db=26.0)


def test_the_web_pane_has_the_originals_aspect_not_the_models_square():
    pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra")
    import cv2

    from echosr_edge.runtime.web import LiveHub
    from echosr_edge.runtime.web.frames import unpack_frame
    from echosr_edge.runtime.web.sink import WebSink

    class Pipe:
        sr, quality, scale, enhance, provenance = object(), None, 4, "always", None

    hub = LiveHub()
    sink = WebSink(hub, Pipe(), ABOVE)
    original = np.full((300, 200), 120, np.uint8)  # portrait, as a phone-shaped capture
    sink.frame({"frame": 0}, original, _result())
    _, a, b = unpack_frame(hub.encoded_frame().payload)
    left, right = (cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_UNCHANGED) for x in (a, b))
    assert _aspect(right) == pytest.approx(_aspect(left), rel=0.02)
    assert hub.state()["pane"]["title"] == pane_title(ABOVE, 4)


def test_a_cropped_sector_is_shown_at_the_crops_aspect():
    original = np.zeros((480, 640), np.uint8)
    crop = SectorBox(top=40, left=100, bottom=440, right=400)  # 400 tall, 300 wide
    assert display_aspect(original, crop) == pytest.approx(0.75)
    canvas = compose_view(original + 50, _result(crop), labels=False, mode="enhanced")
    h, w = _content_box(canvas)
    assert w / h == pytest.approx(0.75, rel=0.02)


def test_side_by_side_panes_share_the_originals_aspect_and_keep_one_size():
    original = np.full((96, 80), 90, np.uint8)
    canvas = compose_view(original, _result(), labels=False)
    left, right = canvas[:, :384], canvas[:, 388:]
    assert canvas.shape == (384, 2 * 384 + 4, 3)
    lh, lw = _content_box(left)
    rh, rw = _content_box(right)
    assert rw / rh == pytest.approx(lw / lh, rel=0.02) == pytest.approx(80 / 96, rel=0.02)


def test_the_pane_title_says_it_is_sr_of_the_reduced_frame_with_model_and_psnr():
    assert pane_title(ABOVE, 4) == ("model input: SR of the ×4-reduced frame · srresnet · "
                                    "PSNR vs original 28.5 dB (bicubic 26.0 dB, 16 frames)")
    assert "below bicubic" in pane_title(BELOW) and "not an enhancement" in pane_title(BELOW)


def test_a_frame_is_never_called_enhanced_when_sr_scored_below_bicubic():
    assert frame_flag(True, ABOVE) == "enhanced (SR)" and frame_flag(False, ABOVE) == "not enhanced"
    assert frame_flag(True, BELOW) == "SR applied (below bicubic)"
    assert not any("enhanced (SR)" in line for line in overlay_lines(_result(), None, BELOW))


def test_the_start_up_check_measures_sr_and_bicubic_against_the_original(bundle_dir):
    from echosr_edge.bundle.integrity import open_bundle

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    check = check_sr_against_bicubic(bundle_dir, open_bundle(bundle_dir), pipeline)
    assert check.frames > 0 and check.scale == pipeline.scale and check.model == "sr"
    assert 0 < check.sr_psnr_db < 100 and 0 < check.bicubic_psnr_db < 100
    assert check.beats_bicubic == (check.sr_psnr_db > check.bicubic_psnr_db)


def test_without_sr_there_is_no_check(bundle_dir):
    from echosr_edge.bundle.integrity import open_bundle

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"), enhance="never")
    assert check_sr_against_bicubic(bundle_dir, open_bundle(bundle_dir), pipeline) is None


def test_the_comparison_is_remembered_for_the_next_start_on_this_machine(bundle_dir, monkeypatch):
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.runtime import enhanced_view
    from echosr_edge.runtime.enhanced_view import cached_sr_check

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    manifest = open_bundle(bundle_dir)
    first = cached_sr_check(bundle_dir, manifest, pipeline, get_profile("cpu"), recheck=True)
    monkeypatch.setattr(enhanced_view, "check_sr_against_bicubic", lambda *a: pytest.fail("measured again"))
    assert cached_sr_check(bundle_dir, manifest, pipeline, get_profile("cpu")) == first
