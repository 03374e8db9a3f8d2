"""Synthetic scanner screen captures: a sector frame inside vendor UI (torch-free).

A capture card or a screen recorder gives the whole scanner screen: the image sits in a dark
panel with burned-in text (patient banner, settings), a depth ruler with tick marks and
numbers, a green ECG trace, coloured buttons and a thumbnail strip. These captures test the
image-region detector (``runtime.region``) where the true region is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from echosr_edge.data.synth import patient_anatomy, render


@dataclass(frozen=True)
class ScreenLayout:
    """Where things go on a capture; sizes in pixels, ``background`` the panel's grey level."""

    canvas: tuple[int, int] = (300, 400)  # (height, width)
    fan_size: tuple[int, int] = (160, 200)
    fan_at: tuple[int, int] = (50, 110)  # (top, left)
    background: int = 24
    ruler_side: str = "left"  # or "right"
    buttons: str = "right"  # "right", "bottom" or "none"
    thumbnails: bool = True
    seed: int = 0


LAYOUTS = (
    ScreenLayout(),
    ScreenLayout(canvas=(240, 320), fan_size=(150, 170), fan_at=(40, 60), background=0, ruler_side="right", buttons="bottom", seed=1),
    ScreenLayout(canvas=(360, 480), fan_size=(220, 260), fan_at=(60, 40), background=40, buttons="right", thumbnails=False, seed=2),
    ScreenLayout(canvas=(270, 480), fan_size=(170, 190), fan_at=(34, 150), background=12, ruler_side="right", buttons="bottom", seed=3),
    ScreenLayout(canvas=(320, 320), fan_size=(200, 220), fan_at=(50, 50), background=55, ruler_side="left", buttons="none", seed=4),
)


def random_layout(seed: int) -> ScreenLayout:
    """A layout drawn from ``seed``: canvas, image size and place, panel level, ruler and buttons."""
    rng = np.random.default_rng(1000 + seed)
    fh, fw = int(rng.integers(120, 200)), int(rng.integers(150, 230))
    h, w = fh + int(rng.integers(90, 150)), fw + int(rng.integers(150, 260))
    top = int(rng.integers(36, h - fh - 40))
    left = int(rng.integers(30, w - fw - 80))
    return ScreenLayout(
        canvas=(h, w), fan_size=(fh, fw), fan_at=(top, left), background=int(rng.integers(0, 60)),
        ruler_side=str(rng.choice(["left", "right"])), buttons=str(rng.choice(["right", "bottom", "none"])),
        thumbnails=bool(rng.integers(0, 2)), seed=seed,
    )


def screen_capture(layout: ScreenLayout = ScreenLayout()) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(H×W×3 BGR uint8 capture, the fan's true box as (top, left, bottom, right))."""
    rng = np.random.default_rng(layout.seed)
    h, w = layout.canvas
    canvas = np.full((h, w, 3), layout.background, np.uint8)
    fan = render("4CH", 0.3, "good", patient_anatomy(rng), rng, layout.fan_size)[0]
    top, left = layout.fan_at
    fh, fw = fan.shape
    region = canvas[top : top + fh, left : left + fw]
    inside = fan > 0
    region[inside] = fan[inside][:, None]
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    truth = (top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1)

    white, grey = (235, 235, 235), (170, 170, 170)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(canvas, "ACME VIVID  ADULT ECHO", (6, 14), font, 0.4, white, 1, cv2.LINE_AA)
    cv2.putText(canvas, "MI 1.2  TIS 0.4", (w - 110, 14), font, 0.35, grey, 1, cv2.LINE_AA)
    cv2.putText(canvas, "G 54  DR 60  FR 48Hz", (6, 30), font, 0.35, grey, 1, cv2.LINE_AA)
    # Depth ruler: a vertical line with ticks every cm and its numbers, a few pixels off the image.
    x = left - 14 if layout.ruler_side == "left" else left + fw + 8
    cv2.line(canvas, (x, top), (x, top + fh), grey, 1)
    for i, y in enumerate(range(top, top + fh, max(8, fh // 8))):
        tick = 6 if i % 2 == 0 else 3
        cv2.line(canvas, (x, y), (x + (tick if layout.ruler_side == "right" else -tick), y), white, 1)
        if i % 2 == 0:
            tx = x + 8 if layout.ruler_side == "right" else x - 22
            cv2.putText(canvas, str(i), (max(0, tx), y + 4), font, 0.3, white, 1, cv2.LINE_AA)
    # ECG: a green trace just below the image, across its width.
    base = min(h - 6, top + fh + 10)
    xs = np.arange(left, left + fw)
    beat = np.where((xs - left) % 60 < 4, -14 * np.sin(np.pi * ((xs - left) % 60) / 4), 2 * np.sin(xs / 6.0))
    points = np.stack([xs, base + beat.astype(int)], axis=1).astype(np.int32)
    cv2.polylines(canvas, [points], False, (40, 220, 60), 1, cv2.LINE_AA)
    # Buttons: coloured filled boxes with labels.
    colours = [(200, 120, 30), (40, 160, 220), (60, 60, 200), (120, 120, 120)]
    labels = ["FREEZE", "SAVE", "MEAS", "2D"]
    for i, (colour, label) in enumerate(zip(colours, labels)):
        if layout.buttons == "right":
            x0, y0 = w - 58, 40 + i * 34
        elif layout.buttons == "bottom":
            x0, y0 = 8 + i * 62, h - 26
        else:
            break
        cv2.rectangle(canvas, (x0, y0), (x0 + 52, y0 + 22), colour, -1)
        cv2.putText(canvas, label, (x0 + 4, y0 + 15), font, 0.35, white, 1, cv2.LINE_AA)
    if layout.thumbnails:  # two small copies of earlier images in a corner, as review strips show
        thumb = cv2.resize(fan, (36, 30), interpolation=cv2.INTER_AREA)
        for i in range(2):
            if layout.buttons == "bottom":  # a column at the right edge
                y0, x0 = 40 + i * 36, w - 44
            else:  # a row in the bottom-right corner
                y0, x0 = h - 36, w - 90 + i * 42
            canvas[y0 : y0 + 30, x0 : x0 + 36] = np.maximum(canvas[y0 : y0 + 30, x0 : x0 + 36], thumb[:, :, None])
    return canvas, truth


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (top, left, bottom, right) boxes."""
    top, left = max(a[0], b[0]), max(a[1], b[1])
    bottom, right = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0
