"""Enhance-then-classify on one frame: pre-process → quality gate → SR → classifiers, timed per stage."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.bundle.manifest import Artifact, Manifest, ModelEntry
from echosr_edge.data.preprocess import bicubic_down, resize_unit, to_grey
from echosr_edge.devices.profiles import ON_DEVICE, DeviceProfile
from echosr_edge.errors import BundleError
from echosr_edge.runtime.engine import Engine, open_artifact, run_single
from echosr_edge.runtime.provenance import build_provenance
from echosr_edge.runtime.sector import SectorBox, SectorCropper

log = logging.getLogger(__name__)

ENHANCE_MODES = ("auto", "always", "never")
GOOD_QUALITY = "good"
NOT_CARDIAC = "not a cardiac view"
LOW_CONFIDENCE = "low confidence"


@dataclass(frozen=True)
class Classifier:
    """A classifier engine with its task, labels, input size and calibration.

    ``temperature`` divides the logits before the softmax (the bundle's calibration, 1.0 when
    none); a calibrated top probability below ``min_confidence`` makes the frame abstain.
    """

    name: str
    engine: Engine
    labels: tuple[str, ...]
    input_size: int
    temperature: float = 1.0
    min_confidence: float | None = None


@dataclass(frozen=True)
class FrameResult:
    """What the pipeline made of one frame.

    ``enhanced`` is the image the classifiers saw (H×W float32 in [0, 1]: SR output when
    enhancement was applied, else the pre-processed frame); ``quality`` is the quality model's
    tier, None without one.
    """

    labels: dict[str, str]
    probabilities: dict[str, dict[str, float]]
    timings_ms: dict[str, float]
    enhanced_applied: bool
    enhanced: np.ndarray = field(repr=False)
    quality: str | None = None
    quality_probabilities: dict[str, float] | None = None
    crop: SectorBox | None = None
    # Abstention: ``accepted`` False means the labels are None and ``abstain_reason`` says why
    # (NOT_CARDIAC or LOW_CONFIDENCE); ``ood_score`` is the cardiac gate's score (None without one).
    accepted: bool = True
    abstain_reason: str | None = None
    ood_score: float | None = None


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of N×K logits."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def resized(image: np.ndarray, size: int) -> np.ndarray:
    """An H×W float32 image at size×size (OpenCV INTER_AREA), or the image itself when it is that size."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def classifier_logits(clf: Classifier, image: np.ndarray) -> np.ndarray:
    """The K logits of ``clf`` on an H×W float32 image in [0, 1]."""
    x = resized(image, clf.input_size)
    return run_single(clf.engine, np.ascontiguousarray(x[None, None], dtype=np.float32))[0]


def _run_classifier(clf: Classifier, image: np.ndarray) -> np.ndarray:
    """Calibrated class probabilities of ``clf`` on an H×W float32 image in [0, 1]."""
    return softmax(classifier_logits(clf, image)[None] / clf.temperature)[0]


@dataclass(frozen=True)
class CardiacGate:
    """The out-of-distribution check: a 'cardiac'/'other' classifier and the bundle's threshold on
    logit(other) − logit(cardiac); a frame scoring above it is not a cardiac view."""

    classifier: Classifier
    threshold: float

    def score(self, hr: np.ndarray) -> float:
        logits = classifier_logits(self.classifier, hr)
        labels = self.classifier.labels
        return float(logits[labels.index("other")] - logits[labels.index("cardiac")])


class Pipeline:
    """Pre-process (grey, sector crop, resize), gate on quality, enhance with SR, classify.

    ``enhance``: 'always', 'never', or 'auto' (enhance frames the quality model does not rate
    'good'; without a quality model, auto enhances every frame and says so in ``notes``).
    ``cardiac`` (the OOD gate) and the classifiers' ``min_confidence`` decide abstention; with
    ``abstain`` False every frame is answered (scores are still reported).
    """

    def __init__(
        self,
        hr_size: int,
        scale: int,
        sr: Engine | None,
        classifiers: list[Classifier],
        enhance: str = "always",
        quality: Classifier | None = None,
        sector: SectorCropper | None = None,
        cardiac: CardiacGate | None = None,
        abstain: bool = True,
    ):
        if enhance not in ENHANCE_MODES:
            raise ValueError(f"enhance must be one of {ENHANCE_MODES}")
        self.notes: list[str] = []
        if enhance == "auto" and quality is None:
            enhance = "always" if sr is not None else "never"
            self.notes.append(f"--enhance auto: the bundle has no quality model, so frames are {'all' if sr else 'never'} enhanced")
        if enhance == "always" and sr is None:
            raise BundleError("enhancement was asked for but the bundle has no SR model")
        if enhance == "auto" and sr is None:
            enhance = "never"
            self.notes.append("--enhance auto: the bundle has no SR model, so no frame is enhanced")
        self.hr_size = hr_size
        self.scale = scale
        self.sr = sr
        self.classifiers = classifiers
        self.quality = quality
        self.enhance = enhance
        self.sector = sector
        self.cardiac = cardiac
        self.abstain = abstain
        # Set by load_pipeline: model name → the artifact loaded, and its engine (for start-up checks).
        self.artifacts: dict[str, Artifact] = {}
        self.engines: dict[str, Engine] = {}
        self.provenance: dict | None = None  # set by load_pipeline: runtime/provenance.py's block

    def preprocess(self, frame: np.ndarray) -> tuple[np.ndarray, SectorBox | None]:
        """Camera/file frame (H×W, or H×W×3 BGR) → (hr_size² float32 in [0, 1], the sector box used)."""
        grey = to_grey(frame)
        box = None
        if self.sector is not None:
            grey, box = self.sector(grey, frame if frame.ndim == 3 else None)
        return resize_unit(grey, self.hr_size), box

    def enhance_hr(self, hr: np.ndarray) -> np.ndarray:
        """SR(bicubic ↓scale(hr)): the study's enhanced frame, the same size as ``hr``."""
        lr = bicubic_down(hr, self.scale)
        out = run_single(self.sr, lr[None, None])
        return np.clip(out[0, 0], 0.0, 1.0)

    def classify(self, image: np.ndarray) -> tuple[dict[str, str], dict[str, dict[str, float]], dict[str, float]]:
        """Run every classifier on an H×W float32 image in [0, 1].

        The image is resized once per classifier input size, timed as 'resize' (present when a
        resize was needed), so each 'classify_<name>' is its engine's time, as bench compares.
        """
        labels, probabilities, timings = {}, {}, {}
        start = time.perf_counter()
        sized = {size: resized(image, size) for size in {clf.input_size for clf in self.classifiers}}
        if any(x is not image for x in sized.values()):
            timings["resize"] = (time.perf_counter() - start) * 1000.0
        for clf in self.classifiers:
            start = time.perf_counter()
            probs = _run_classifier(clf, sized[clf.input_size])
            timings[f"classify_{clf.name}"] = (time.perf_counter() - start) * 1000.0
            labels[clf.name] = clf.labels[int(probs.argmax())]
            probabilities[clf.name] = {lab: float(p) for lab, p in zip(clf.labels, probs)}
        return labels, probabilities, timings

    def front(self, frame: np.ndarray) -> "Enhanced":
        """The first half of ``process``: pre-process, quality gate and SR (overlapped runs do it a frame ahead)."""
        t0 = time.perf_counter()
        hr, box = self.preprocess(frame)
        t1 = time.perf_counter()
        quality = quality_probs = None
        if self.quality is not None:
            probs = _run_classifier(self.quality, hr)
            quality = self.quality.labels[int(probs.argmax())]
            quality_probs = {lab: float(p) for lab, p in zip(self.quality.labels, probs)}
        ood_score, ood_ms = None, 0.0
        if self.cardiac is not None:
            ood_start = time.perf_counter()
            ood_score = self.cardiac.score(hr)
            ood_ms = (time.perf_counter() - ood_start) * 1000.0
        t2 = time.perf_counter()
        applied = self.enhance == "always" or (self.enhance == "auto" and quality != GOOD_QUALITY)
        image = self.enhance_hr(hr) if applied else hr
        t3 = time.perf_counter()
        timings = {"preprocess": (t1 - t0) * 1000.0}
        if self.quality is not None:
            timings["quality"] = (t2 - t1) * 1000.0 - ood_ms
        if self.cardiac is not None:
            timings["ood"] = ood_ms
        timings["sr"] = (t3 - t2) * 1000.0
        return Enhanced(image, applied, timings, (t3 - t0) * 1000.0, quality, quality_probs, box, ood_score)

    def back(self, front: "Enhanced") -> FrameResult:
        """The second half of ``process``: the classifiers on the enhanced frame."""
        t3 = time.perf_counter()
        labels, probabilities, clf_ms = self.classify(front.image)
        t4 = time.perf_counter()
        timings = dict(front.timings_ms)
        timings.update(clf_ms)
        timings["classify"] = (t4 - t3) * 1000.0
        timings["total"] = front.ms + (t4 - t3) * 1000.0
        reason = self.abstain_reason(front.ood_score, probabilities) if self.abstain else None
        if reason:
            labels = {task: None for task in labels}
        return FrameResult(labels, probabilities, timings, front.applied, front.image, front.quality,
                           front.quality_probabilities, front.crop,
                           accepted=reason is None, abstain_reason=reason, ood_score=front.ood_score)

    def abstain_reason(self, ood_score: float | None, probabilities: dict[str, dict[str, float]]) -> str | None:
        """Why a frame gets no answer: not a cardiac view (the OOD gate), low confidence, or None (answer)."""
        if self.cardiac is not None and ood_score is not None and ood_score > self.cardiac.threshold:
            return NOT_CARDIAC
        for clf in self.classifiers:
            if clf.min_confidence is not None and max(probabilities[clf.name].values()) < clf.min_confidence:
                return LOW_CONFIDENCE
        return None

    def process(self, frame: np.ndarray) -> FrameResult:
        """Run the whole chain on one frame."""
        return self.back(self.front(frame))


@dataclass(frozen=True)
class Enhanced:
    """A frame after ``Pipeline.front``: the image the classifiers will see and the front's timings."""

    image: np.ndarray = field(repr=False)
    applied: bool
    timings_ms: dict[str, float]
    ms: float
    quality: str | None = None
    quality_probabilities: dict[str, float] | None = None
    crop: SectorBox | None = None
    ood_score: float | None = None  # the cardiac gate's score of the pre-processed frame


def load_pipeline(
    bundle_dir: Path,
    device: DeviceProfile,
    precision: str | None = None,
    enhance: str = "always",
    manifest: Manifest | None = None,
    sector: SectorCropper | None = None,
    profile: str = "default",
    abstain: bool = True,
) -> Pipeline:
    """Open the engines ``device`` selects for a verified ``manifest`` and build the pipeline.

    Commands use ``runtime.session.open_session``, which also resolves the device and runs the
    start-up check; without ``manifest`` the bundle is verified here against the configured trust store.

    Only the models of ``profile`` are loaded ("default", or e.g. "realtime": the distilled
    student and the classifiers at their fast input size).
    The quality model (a classifier with task 'quality') is loaded only for ``enhance='auto'``;
    the SR model not at all for ``enhance='never'``. ``sector`` crops frames to the fan.
    ``abstain``: refuse frames the 'cardiac' gate calls out of distribution or the calibrated
    classifiers are unsure of (the gate is not loaded when off).
    """
    bundle_dir = Path(bundle_dir)
    if enhance not in ENHANCE_MODES:
        raise ValueError(f"enhance must be one of {ENHANCE_MODES}")
    if manifest is None:  # the configured device trust store applies to library callers too
        from echosr_edge.bundle.trust import resolve_trust_store

        manifest = open_bundle(bundle_dir, trust=resolve_trust_store())
    manifest = manifest.for_profile(profile)
    artifacts: dict[str, Artifact] = {}
    engines: dict[str, Engine] = {}

    notes: list[str] = []

    def open_entry(entry: ModelEntry) -> Engine:
        art = device.choose_artifact(entry, precision)
        for skipped in device.passed_over(entry, art) if precision is None else []:
            why = "; ".join(skipped.verification.get("failures", [])) or "see the manifest"
            notes.append(f"{entry.name}: {skipped.format}/{skipped.precision} missed its export budget ({why}), "
                         f"so {art.format}/{art.precision} runs (--precision {skipped.precision} forces it)")
        log.info("%s: %s/%s (%s)", entry.name, art.format, art.precision, art.file)
        if art.build.get(ON_DEVICE):  # an engine this device built from the bundle's ONNX (engine cache)
            from echosr_edge.runtime.engine_build import open_cached_engine

            engine = open_cached_engine(bundle_dir, entry, art, device)
        else:
            engine = open_artifact(bundle_dir, art, device)
        artifacts[entry.name], engines[entry.name] = art, engine
        return engines[entry.name]

    sr_entry = manifest.sr_model()
    sr_engine = open_entry(sr_entry) if sr_entry is not None and enhance != "never" else None
    classifiers, quality, cardiac = [], None, None
    tasks = [e.task for e in manifest.classifiers()]
    for entry in manifest.classifiers():
        if entry.task == "quality":
            if enhance == "auto":
                quality = Classifier(entry.name, open_entry(entry), entry.labels, int(entry.preprocessing["input_size"]),
                                     entry.temperature)
            continue
        if entry.task == "cardiac":
            if abstain and entry.ood:
                gate = Classifier(entry.name, open_entry(entry), entry.labels, int(entry.preprocessing["input_size"]))
                cardiac = CardiacGate(gate, float(entry.ood["threshold"]))
            continue
        # Results are keyed by task ("view", not the realtime profile's "view_64"), so logs and
        # reports read the same whichever profile ran; by model name when a task has two models.
        key = entry.task if entry.task and tasks.count(entry.task) == 1 else entry.name
        classifiers.append(Classifier(key, open_entry(entry), entry.labels, int(entry.preprocessing["input_size"]),
                                      entry.temperature, entry.calibration.get("min_confidence")))
    if not classifiers:
        raise BundleError(f"{bundle_dir}: the bundle has no view/phase classifier to run")
    prep = (sr_entry or manifest.classifiers()[0]).preprocessing
    scale = sr_entry.scale if sr_entry else 4
    pipeline = Pipeline(int(prep["hr_size"]), int(scale), sr_engine, classifiers, enhance, quality, sector,
                        cardiac, abstain)
    if abstain and cardiac is None:
        log.info("the bundle has no out-of-distribution gate: frames are refused only for low confidence")
    pipeline.artifacts, pipeline.engines = artifacts, engines
    pipeline.provenance = build_provenance(bundle_dir, artifacts, device.name, profile)
    pipeline.notes.extend(notes)
    return pipeline
