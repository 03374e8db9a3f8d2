"""Synthetic non-cardiac frames: what a bedside probe also sees (torch-free).

Each kind is drawn in the field a scanner would show it in — a curvilinear sector from an apex
at the top, or the rectangle of a linear probe — with speckle, depth attenuation and the same
quality tiers of contrast, blur, haze and noise as the cardiac generator (``data.synth``):

- ``liver``: homogeneous parenchyma crossed by dark vessels (the hard case: a sector of tissue);
- ``kidney``: an oval bright capsule and sinus with dark medullary pyramids, in parenchyma;
- ``vessel``: a linear-probe rectangle with one or two dark tubes and bright walls (carotid);
- ``phantom``: a resolution phantom, rows of bright pins and anechoic cysts of graded sizes;
- ``eye``: an ocular scan, a linear rectangle holding a dark globe, the lens echo and the nerve;
- ``noise``: speckle or white noise with no structure, in a sector or the whole frame;
- ``blank``: a black or flat frame (probe in air, a frozen blank screen) with faint noise;
- ``menu``: a scanner menu or settings page, boxes and text without an image.

Outlier exposure trains on some kinds and keeps others out (``HELD_OUT``) to measure refusal
on a kind the models never saw. These are synthetic: real non-cardiac recordings are for
evaluation only.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.records import Frame
from echosr_edge.data.synth import TIERS

KINDS: tuple[str, ...] = ("liver", "kidney", "vessel", "phantom", "eye", "noise", "blank", "menu")
HELD_OUT: tuple[str, ...] = ("eye",)  # never used in training: must-show 2 measures refusal on it
TRAINING_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k not in HELD_OUT)
OUTLIER_LABEL = "other"


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy / h, xx / w


def _sector_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A curvilinear fan from the top centre (half angle 30-45 degrees), as real sector probes show."""
    yy, xx = _grid(h, w)
    theta = np.arctan2(xx - 0.5, yy - 0.02)
    depth = np.hypot(xx - 0.5, yy - 0.02)
    half = math.radians(rng.uniform(30.0, 45.0))
    return (np.abs(theta) <= half) & (depth <= rng.uniform(0.85, 0.97)) & (yy >= 0.02)


def _linear_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The rectangle a linear probe shows, centred, with a margin."""
    mask = np.zeros((h, w), bool)
    top, side = int(h * rng.uniform(0.03, 0.08)), int(w * rng.uniform(0.08, 0.2))
    mask[top : h - int(h * rng.uniform(0.05, 0.15)), side : w - side] = True
    return mask


def _speckle(h: int, w: int, rng: np.random.Generator, grain: float = 0.8) -> np.ndarray:
    noise = rng.rayleigh(0.8, size=(h, w)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), grain)


def _ellipse(xx, yy, cx, cy, ax, ay, angle=0.0) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    u = (c * (xx - cx) + s * (yy - cy)) / ax
    v = (-s * (xx - cx) + c * (yy - cy)) / ay
    return u * u + v * v


def _tube(xx, yy, x0, y0, x1, y1, radius) -> np.ndarray:
    """Distance (in radii) of every pixel from the segment (x0, y0)-(x1, y1)."""
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy + 1e-9), 0.0, 1.0)
    return np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy)) / radius


def _liver(h, w, rng):
    yy, xx = _grid(h, w)
    image = np.full((h, w), rng.uniform(0.35, 0.55), np.float32)
    for _ in range(rng.integers(2, 6)):  # portal and hepatic vessels: dark tubes, some with bright walls
        x0, y0 = rng.uniform(0.1, 0.9), rng.uniform(0.2, 0.9)
        ang, length = rng.uniform(0, math.pi), rng.uniform(0.15, 0.5)
        d = _tube(xx, yy, x0, y0, x0 + length * math.cos(ang), y0 + length * math.sin(ang), rng.uniform(0.012, 0.04))
        image[d <= 1.4] = 0.8 if rng.random() < 0.5 else image[d <= 1.4]
        image[d <= 1.0] = 0.05
    if rng.random() < 0.5:  # the diaphragm: a bright curved line deep in the field
        d = np.abs(np.hypot(xx - 0.5, yy + 0.2) - rng.uniform(0.85, 1.0))
        image[d < 0.012] = 0.95
    return image * _speckle(h, w, rng), _sector_mask(h, w, rng)


def _kidney(h, w, rng):
    yy, xx = _grid(h, w)
    image = np.full((h, w), rng.uniform(0.3, 0.45), np.float32)
    cx, cy, ax, ay, ang = rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.65), rng.uniform(0.22, 0.3), rng.uniform(0.12, 0.18), rng.uniform(-0.5, 0.5)
    image[_ellipse(xx, yy, cx, cy, ax + 0.015, ay + 0.015, ang) <= 1] = 0.9  # capsule
    image[_ellipse(xx, yy, cx, cy, ax, ay, ang) <= 1] = 0.3  # cortex
    for k in range(rng.integers(4, 8)):  # medullary pyramids: dark triangles-ish around the sinus
        a = 2 * math.pi * k / 7 + rng.uniform(-0.2, 0.2)
        px, py = cx + 0.65 * ax * math.cos(a), cy + 0.65 * ay * math.sin(a)
        image[_ellipse(xx, yy, px, py, 0.035, 0.025, a) <= 1] = 0.1
    image[_ellipse(xx, yy, cx, cy, ax * 0.45, ay * 0.35, ang) <= 1] = 0.85  # bright sinus fat
    return image * _speckle(h, w, rng), _sector_mask(h, w, rng)


def _vessel(h, w, rng):
    yy, xx = _grid(h, w)
    image = np.full((h, w), rng.uniform(0.25, 0.45), np.float32)
    for _ in range(rng.integers(1, 3)):
        y0, tilt, r = rng.uniform(0.3, 0.7), rng.uniform(-0.1, 0.1), rng.uniform(0.05, 0.11)
        d = _tube(xx, yy, -0.1, y0, 1.1, y0 + tilt, r)
        image[d <= 1.25] = 0.9
        image[d <= 1.0] = 0.04
    for _ in range(rng.integers(2, 5)):  # muscle and fascia layers above
        y = rng.uniform(0.05, 0.3)
        image[np.abs(yy - y - 0.03 * np.sin(6 * xx)) < 0.008] = 0.8
    return image * _speckle(h, w, rng, 1.2), _linear_mask(h, w, rng)


def _phantom(h, w, rng):
    yy, xx = _grid(h, w)
    image = np.full((h, w), rng.uniform(0.3, 0.45), np.float32)
    for row in range(rng.integers(4, 9)):  # pin rows: bright points at regular depths
        y = 0.12 + row * rng.uniform(0.08, 0.1)
        for col in np.linspace(0.35, 0.65, rng.integers(1, 6)):
            image[_ellipse(xx, yy, col, y, 0.008, 0.006) <= 1] = 1.0
    for i, r in enumerate(sorted(rng.uniform(0.015, 0.06, size=rng.integers(3, 7)))):  # graded anechoic cysts
        image[_ellipse(xx, yy, 0.25 + 0.1 * (i % 5), rng.uniform(0.35, 0.85), r, r * h / w * 0.8) <= 1] = 0.02
    return image * _speckle(h, w, rng), _sector_mask(h, w, rng)


def _eye(h, w, rng):
    yy, xx = _grid(h, w)
    image = np.full((h, w), rng.uniform(0.3, 0.5), np.float32)  # orbital fat
    cx, cy, r = rng.uniform(0.42, 0.58), rng.uniform(0.42, 0.55), rng.uniform(0.25, 0.33)
    image[_ellipse(xx, yy, cx, cy, r + 0.02, (r + 0.02) * w / h) <= 1] = 0.85  # sclera
    image[_ellipse(xx, yy, cx, cy, r, r * w / h) <= 1] = 0.03  # vitreous: anechoic
    image[_ellipse(xx, yy, cx, cy - r * w / h * 0.8, r * 0.55, 0.025) <= 1] = 0.9  # lens echoes
    image[_tube(xx, yy, cx, cy + r * w / h, cx + rng.uniform(-0.05, 0.05), 0.98, 0.035) <= 1] = 0.1  # optic nerve
    return image * _speckle(h, w, rng), _linear_mask(h, w, rng)


def _noise(h, w, rng):
    image = _speckle(h, w, rng, rng.uniform(0.5, 3.0)) * rng.uniform(0.2, 0.6)
    if rng.random() < 0.5:
        image = rng.uniform(0, 1, size=(h, w)).astype(np.float32)
    mask = _sector_mask(h, w, rng) if rng.random() < 0.6 else np.ones((h, w), bool)
    return image, mask


def _blank(h, w, rng):
    image = np.full((h, w), rng.choice([0.0, rng.uniform(0.0, 0.5)]), np.float32)
    mask = _sector_mask(h, w, rng) if rng.random() < 0.5 else np.ones((h, w), bool)
    return image, mask


def _menu(h, w, rng) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((h, w), int(rng.uniform(0, 50)), np.uint8)  # OpenCV draws text on 8-bit images
    words = ("PRESET", "CARDIAC", "ABDOMEN", "DEPTH", "GAIN", "FREEZE", "PATIENT", "EXAM", "MEASURE", "SAVE", "TGC", "MI 0.9")
    for _ in range(rng.integers(4, 12)):
        x, y = int(rng.uniform(0, 0.7) * w), int(rng.uniform(0.05, 0.95) * h)
        if rng.random() < 0.5:
            cv2.rectangle(image, (x, y - 14), (x + int(w * rng.uniform(0.2, 0.35)), y + 6), int(rng.uniform(70, 180)), -1)
        cv2.putText(image, str(rng.choice(words)), (x + 3, y), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.3, 0.6),
                    int(rng.uniform(180, 255)), 1, cv2.LINE_AA)
    return image.astype(np.float32) / 255.0, np.ones((h, w), bool)


_DRAW = {"liver": _liver, "kidney": _kidney, "vessel": _vessel, "phantom": _phantom, "eye": _eye,
         "noise": _noise, "blank": _blank, "menu": _menu}
_SCANNED = ("liver", "kidney", "vessel", "phantom", "eye")  # tissue-like kinds get the scanner's degradations


def render_outlier(kind: str, rng: np.random.Generator, size: tuple[int, int] = (320, 256), quality: str | None = None) -> np.ndarray:
    """One H×W uint8 frame of ``kind`` (one of KINDS); tissue kinds at ``quality`` (drawn when None)."""
    if kind not in _DRAW:
        raise ValueError(f"unknown outlier kind {kind!r}; kinds: {', '.join(KINDS)}")
    h, w = size
    image, mask = _DRAW[kind](h, w, rng)
    image = image.astype(np.float32)
    if kind in _SCANNED:
        tier = TIERS[quality or str(rng.choice(list(TIERS)))]
        image = cv2.GaussianBlur(image, (0, 0), 0.6 + tier.blur_sigma * rng.uniform(0.8, 1.2))
        yy, xx = _grid(h, w)
        image = image * (1.0 - tier.attenuation * rng.uniform(0.7, 1.0) * np.hypot(xx - 0.5, yy - 0.02))
        image = image * tier.contrast * rng.uniform(0.9, 1.1) + tier.haze
        image = image + rng.normal(0.0, tier.noise, size=(h, w)).astype(np.float32)
    elif kind == "blank":
        image = image + rng.normal(0.0, 0.01, size=(h, w)).astype(np.float32)
    image = np.where(mask, image, 0.0)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def crop_to_field(image: np.ndarray) -> np.ndarray:
    """The bounding box of the non-black pixels: the frame as the runtime's sector crop may hand it on."""
    rows, cols = np.nonzero(image.max(axis=1))[0], np.nonzero(image.max(axis=0))[0]
    if len(rows) < 8 or len(cols) < 8:
        return image
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def outlier_frames(count: int, kinds: tuple[str, ...] = TRAINING_KINDS, seed: int = 0,
                   size: tuple[int, int] = (320, 256), cropped: float = 0.0) -> list[Frame]:
    """``count`` outlier Frames cycling through ``kinds``; each is labelled 'other' for the 'cardiac' task.

    View, phase and quality are 'none'; ``meta['kind']`` names the scene. A share ``cropped`` of
    them is cut to the bounding box of the field (as `run`'s sector crop does to a linear scan).
    """
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        image = render_outlier(kind, rng, size)
        if cropped and rng.random() < cropped:
            image = np.ascontiguousarray(crop_to_field(image))
        frames.append(Frame(patient=f"outlier{seed}_{i:04d}", view="none", phase="none", quality="none", image=image,
                            spacing=(0.3, 0.3), source=Path(f"synthetic-outliers/{kind}"),
                            meta={"kind": kind, "cardiac": OUTLIER_LABEL}))
    return frames
