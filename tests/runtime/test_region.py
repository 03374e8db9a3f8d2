"""The image-region detector finds the ultrasound image inside scanner UI on screen captures."""

import cv2
import numpy as np
import pytest

from echosr_edge.data.synth_screen import LAYOUTS, box_iou, random_layout, screen_capture
from echosr_edge.runtime.region import find_image_region
from echosr_edge.runtime.sector import SectorCropper

CASES = [pytest.param(layout, id=f"layout{i}") for i, layout in enumerate(LAYOUTS)] + [
    pytest.param(random_layout(seed), id=f"random{seed}") for seed in range(6)
]


def _iou(box, truth):
    return box_iou((box.top, box.left, box.bottom, box.right), truth)


@pytest.mark.parametrize("layout", CASES)
def test_image_region_overlaps_the_true_image_despite_text_ruler_ecg_and_buttons(layout):
    capture, truth = screen_capture(layout)
    box = find_image_region(capture)
    assert box is not None and _iou(box, truth) >= 0.9


@pytest.mark.parametrize("layout", CASES[:5])
def test_grey_captures_without_colour_still_give_the_region(layout):
    capture, truth = screen_capture(layout)
    box = find_image_region(cv2.cvtColor(capture, cv2.COLOR_BGR2GRAY))
    assert box is not None and _iou(box, truth) >= 0.85


def test_the_plain_largest_bright_region_is_fooled_where_the_detector_is_not():
    from echosr_edge.runtime.sector import find_sector

    capture, truth = screen_capture(LAYOUTS[0])
    grey = cv2.cvtColor(capture, cv2.COLOR_BGR2GRAY)
    old = find_sector(grey)
    assert old is None or _iou(old, truth) < 0.9  # the panel (grey level 24) joins everything


def test_blank_and_flat_frames_have_no_region():
    assert find_image_region(np.zeros((120, 160), np.uint8)) is None
    flat = np.full((120, 160, 3), 30, np.uint8)
    cv2.rectangle(flat, (20, 20), (140, 100), (128, 128, 128), -1)  # a big flat grey button
    assert find_image_region(flat) is None


def test_cropper_crops_a_colour_capture_to_the_image():
    capture, truth = screen_capture(LAYOUTS[1])
    grey = cv2.cvtColor(capture, cv2.COLOR_BGR2GRAY)
    crop, box = SectorCropper(pad=0.0)(grey, capture)
    assert box is not None and _iou(box, truth) >= 0.9
    assert crop.shape == (box.bottom - box.top, box.right - box.left)
