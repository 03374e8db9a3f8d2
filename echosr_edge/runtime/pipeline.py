"""Enhance-then-classify on one frame: pre-process → SR → classifiers, timed per stage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.bundle.manifest import Manifest, ModelEntry
from echosr_edge.data.preprocess import bicubic_down, resize_unit, to_grey
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.errors import BundleError
from echosr_edge.runtime.engine import Engine, open_engine, run_single

ENHANCE_MODES = ("always", "never")


@dataclass(frozen=True)
class Classifier:
    """A classifier engine with its task, labels and input size."""

    name: str
    engine: Engine
    labels: tuple[str, ...]
    input_size: int


@dataclass(frozen=True)
class FrameResult:
    """What the pipeline made of one frame. ``enhanced`` is H×W float32 in [0, 1]."""

    labels: dict[str, str]
    probabilities: dict[str, dict[str, float]]
    timings_ms: dict[str, float]
    enhanced_applied: bool
    enhanced: np.ndarray = field(repr=False)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of N×K logits."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Pipeline:
    """Pre-process, optionally enhance with SR, then run every classifier."""

    def __init__(
        self,
        hr_size: int,
        scale: int,
        sr: Engine | None,
        classifiers: list[Classifier],
        enhance: str = "always",
    ):
        if enhance not in ENHANCE_MODES:
            raise ValueError(f"enhance must be one of {ENHANCE_MODES}")
        if enhance == "always" and sr is None:
            raise BundleError("enhancement was asked for but the bundle has no SR model")
        self.hr_size = hr_size
        self.scale = scale
        self.sr = sr
        self.classifiers = classifiers
        self.enhance = enhance

    def preprocess(self, frame: np.ndarray) -> np.ndarray:
        """Camera/file frame (H×W or H×W×3 BGR) → hr_size² float32 in [0, 1]."""
        return resize_unit(to_grey(frame), self.hr_size)

    def enhance_hr(self, hr: np.ndarray) -> np.ndarray:
        """SR(bicubic ↓scale(hr)): the study's enhanced frame, the same size as ``hr``."""
        lr = bicubic_down(hr, self.scale)
        out = run_single(self.sr, lr[None, None])
        return np.clip(out[0, 0], 0.0, 1.0)

    def classify(self, image: np.ndarray) -> tuple[dict[str, str], dict[str, dict[str, float]], dict[str, float]]:
        """Run every classifier on an H×W float32 image in [0, 1]."""
        labels, probabilities, timings = {}, {}, {}
        for clf in self.classifiers:
            start = time.perf_counter()
            x = image
            if x.shape[0] != clf.input_size:
                x = cv2.resize(x, (clf.input_size, clf.input_size), interpolation=cv2.INTER_AREA)
            probs = softmax(run_single(clf.engine, x[None, None].astype(np.float32)))[0]
            timings[f"classify_{clf.name}"] = (time.perf_counter() - start) * 1000.0
            labels[clf.name] = clf.labels[int(probs.argmax())]
            probabilities[clf.name] = {lab: float(p) for lab, p in zip(clf.labels, probs)}
        return labels, probabilities, timings

    def process(self, frame: np.ndarray) -> FrameResult:
        """Run the whole chain on one frame."""
        t0 = time.perf_counter()
        hr = self.preprocess(frame)
        t1 = time.perf_counter()
        applied = self.enhance == "always"
        image = self.enhance_hr(hr) if applied else hr
        t2 = time.perf_counter()
        labels, probabilities, clf_ms = self.classify(image)
        t3 = time.perf_counter()
        timings = {"preprocess": (t1 - t0) * 1000.0, "sr": (t2 - t1) * 1000.0}
        timings.update(clf_ms)
        timings["classify"] = (t3 - t2) * 1000.0
        timings["total"] = (t3 - t0) * 1000.0
        return FrameResult(labels, probabilities, timings, applied, image)


def pick_artifact(entry: ModelEntry, format: str, precision: str | None, preferred: tuple[str, ...]):
    """The artifact of ``entry`` for ``format`` at ``precision`` (or the best of ``preferred``)."""
    wanted = (precision,) if precision else preferred
    for p in wanted:
        art = entry.artifact(format, p)
        if art is not None:
            return art
    have = ", ".join(f"{a.format}/{a.precision}" for a in entry.artifacts) or "none"
    raise BundleError(
        f"model {entry.name!r} has no {format} artifact at {'/'.join(wanted)} (the bundle has: {have})"
    )


def load_pipeline(
    bundle_dir: Path,
    device: DeviceProfile,
    precision: str | None = None,
    enhance: str = "always",
    manifest: Manifest | None = None,
) -> Pipeline:
    """Verify the bundle's checksums, open its engines for ``device`` and build the pipeline."""
    bundle_dir = Path(bundle_dir)
    manifest = manifest or open_bundle(bundle_dir)
    sr_entry = manifest.sr_model()
    sr_engine = None
    if sr_entry is not None and enhance != "never":
        art = pick_artifact(sr_entry, device.format, precision, device.precisions)
        sr_engine = open_engine(bundle_dir / art.file, art.format, device.threads)
    classifiers = []
    for entry in manifest.classifiers():
        art = pick_artifact(entry, device.format, precision, device.precisions)
        engine = open_engine(bundle_dir / art.file, art.format, device.threads)
        classifiers.append(Classifier(entry.name, engine, entry.labels, int(entry.preprocessing["input_size"])))
    prep = (sr_entry or manifest.classifiers()[0]).preprocessing
    scale = sr_entry.scale if sr_entry else 4
    return Pipeline(int(prep["hr_size"]), int(scale), sr_engine, classifiers, enhance)
