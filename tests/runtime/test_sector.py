"""The sector crop finds the fan on a scanner screen and leaves CAMUS-like frames whole."""

import numpy as np

from echosr_edge.runtime.sector import SectorCropper, find_sector


def test_screen_capture_is_cropped_to_the_fan_ignoring_text(screen_capture):
    canvas, (top, left, bottom, right) = screen_capture
    box = find_sector(canvas)
    assert abs(box.top - top) <= 6 and abs(box.bottom - bottom) <= 6
    assert abs(box.left - left) <= 6 and abs(box.right - right) <= 6


def test_cropper_returns_the_fan_with_a_small_margin(screen_capture):
    canvas, (top, left, bottom, right) = screen_capture
    crop, box = SectorCropper(pad=0.02)(canvas)
    assert crop.shape == (box.bottom - box.top, box.right - box.left)
    assert 0.9 < crop.shape[0] / (bottom - top) < 1.15 and 0.9 < crop.shape[1] / (right - left) < 1.15


def test_frame_whose_fan_fills_it_is_left_whole(camus_root):
    from echosr_edge.data.camus import read_camus

    frame = read_camus(camus_root).frames[0].image
    crop, box = SectorCropper()(frame)
    assert box is None and crop is frame


def test_blank_frame_is_not_cropped():
    blank = np.zeros((120, 100), np.uint8)
    assert find_sector(blank) is None
    assert SectorCropper()(blank)[1] is None


def test_sector_is_found_again_every_n_frames_and_when_the_size_changes(screen_capture):
    canvas, _ = screen_capture
    cropper = SectorCropper(every=5)
    for _ in range(5):
        cropper(canvas)
    assert cropper.detections == 1
    cropper(canvas)
    assert cropper.detections == 2
    cropper(canvas[:, :-10])
    assert cropper.detections == 3
