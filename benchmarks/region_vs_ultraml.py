"""Image-region detection on synthetic screen captures: ours against ultraml, side by side.

    PYTHONPATH=. python benchmarks/region_vs_ultraml.py [--captures 40]

For each capture (data.synth_screen: a sector inside vendor UI with text, a depth ruler, a
green ECG trace, coloured buttons, thumbnails) it reports the IoU of the detected box with the
true image box: ours on the colour capture; ultraml's single-image extractor on the same
capture; ultraml's video extractor on an 8-frame cine of it (the fan's speckle redrawn each
frame, the UI still). ultraml is not a dependency: install it by hand to compare
(``pip install ultraml``); without it only our detector runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from echosr_edge.data.synth_screen import LAYOUTS, box_iou, random_layout, screen_capture
from echosr_edge.runtime.region import find_image_region


def _cine(layout, frames: int = 8) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    from dataclasses import replace

    shots = [screen_capture(replace(layout, seed=layout.seed + 100 * i)) for i in range(frames)]
    return np.stack([s[0] for s in shots]), shots[0][1]


def _ultraml_boxes(capture: np.ndarray, layout) -> tuple[float | None, float | None, tuple]:
    from ultraml.core.extract import (
        EmptyMaskError,
        compute_ultrasound_video_mask,
        create_tight_crop,
        extract_ultrasound_image_foreground,
    )

    rgb = capture[..., ::-1].copy()
    try:
        _, static = extract_ultrasound_image_foreground(rgb, crop=False)
        y0, y1, x0, x1 = create_tight_crop((~static).astype(np.uint8))
        single = (y0, x0, y1, x1) if y0 is not None else None
    except EmptyMaskError:
        single = None
    cine, _ = _cine(layout)
    try:
        _, (y0, y1, x0, x1) = compute_ultrasound_video_mask(cine[..., ::-1])
        video = (y0, x0, y1, x1)
    except EmptyMaskError:
        video = None
    return single, video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=40, help="random layouts on top of the fixed ones")
    args = parser.parse_args()
    try:
        import ultraml  # noqa: F401

        have_ultraml = True
    except ImportError:
        have_ultraml = False
    layouts = list(LAYOUTS) + [random_layout(s) for s in range(args.captures)]
    ours, single, video, ms = [], [], [], []
    for layout in layouts:
        capture, truth = screen_capture(layout)
        start = time.perf_counter()
        box = find_image_region(capture)
        ms.append((time.perf_counter() - start) * 1000)
        ours.append(box_iou((box.top, box.left, box.bottom, box.right), truth) if box else 0.0)
        if have_ultraml:
            s, v = _ultraml_boxes(capture, layout)
            single.append(box_iou(s, truth) if s else 0.0)
            video.append(box_iou(v, truth) if v else 0.0)

    def row(name, values):
        v = np.array(values)
        return f"{name:34s} mean IoU {v.mean():.3f}  min {v.min():.3f}  >=0.9 in {int((v >= 0.9).sum())}/{len(v)}"

    print(f"{len(layouts)} synthetic screen captures")
    print(row("ours (colour capture)", ours) + f"  ({np.median(ms):.1f} ms median)")
    if have_ultraml:
        print(row("ultraml single image", single))
        print(row("ultraml video (8-frame cine)", video))
    else:
        print("ultraml not installed: pip install ultraml to compare")


if __name__ == "__main__":
    main()
