"""One input through the pipeline: per-frame results, enhanced images and a per-file summary.

The record this module returns is plain JSON data (it is what the record store keeps, and
what results.jsonl / the CSVs / the report are rebuilt from).
"""

from __future__ import annotations

import base64
import heapq
import logging
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.records import QUALITIES
from echosr_edge.errors import DataError
from echosr_edge.runtime.batch_inputs import InputFile, read_input
from echosr_edge.runtime.record import FrameRecord
from echosr_edge.runtime.batch_store import fsync_files, input_stamp, write_atomic
from echosr_edge.runtime.pipeline import Pipeline
from echosr_edge.runtime.provenance import frame_provenance

log = logging.getLogger(__name__)

ENHANCED_DIR = "enhanced"
TASKS = ("quality", "view", "phase")
THUMBS_PER_FILE = 3
THUMB_SIZE = 128
PEAK_THRESHOLD = 0.5


def frame_image_path(relative: str, index: int) -> str:
    """Where frame ``index`` of input ``relative`` goes, relative to the output folder."""
    return f"{ENHANCED_DIR}/{relative}/frame_{index:05d}.png"


def clear_frame_images(out: Path, relative: str) -> None:
    """Remove the frame images an earlier, unfinished attempt at ``relative`` left."""
    folder = Path(out) / ENHANCED_DIR / relative
    if folder.is_dir():
        for path in folder.glob("frame_*.png"):
            path.unlink(missing_ok=True)


def poorness(probabilities: dict[str, dict[str, float]]) -> tuple[float | None, str]:
    """How poor a frame looks, in [0, 1], and how that was judged.

    With a quality classifier: the expected quality rank (good 0, medium 0.5, poor 1). Without
    one: one minus the mean top-class confidence of the classifiers (a proxy, named as such).
    """
    quality = probabilities.get("quality")
    if quality:
        known = [q for q in QUALITIES if q in quality]
        order = known if len(known) == len(quality) else list(quality)
        if len(order) < 2:
            return 0.0, "quality model"
        return sum(quality[q] * i / (len(order) - 1) for i, q in enumerate(order)), "quality model"
    if not probabilities:
        return None, "none"
    confidence = float(np.mean([max(p.values()) for p in probabilities.values()]))
    return 1.0 - confidence, "classifier confidence"


def phase_peaks(p: np.ndarray, threshold: float = PEAK_THRESHOLD) -> list[int]:
    """Frames where the probability ``p`` (length T) has a local peak at or above ``threshold``.

    Along a cine the end-diastolic (end-systolic) candidates are the peaks of P(ED) (P(ES));
    a plateau counts once, at its last frame.
    """
    p = np.asarray(p, dtype=np.float64)
    peaks = []
    for i in range(len(p)):
        left_ok = i == 0 or p[i] >= p[i - 1]
        right_ok = i == len(p) - 1 or p[i] > p[i + 1]
        if p[i] >= threshold and left_ok and right_ok:
            peaks.append(i)
    return peaks


def _majority(labels: list[str], probs: list[float]) -> tuple[str, float]:
    """The most frequent label (ties broken by the higher summed probability) and its share."""
    counts = Counter(labels)
    weight = Counter()
    for label, p in zip(labels, probs):
        weight[label] += p
    best = max(counts, key=lambda lab: (counts[lab], weight[lab]))
    return best, counts[best] / len(labels)


def summarise(frames: list[dict]) -> dict:
    """The per-file summary: view and quality by majority, ED/ES candidates, the poorest frame."""
    summary: dict = {"frames": len(frames)}
    if not frames:
        return summary
    for task in ("view", "quality"):
        labels = [f["labels"].get(task, "unknown") for f in frames]
        if all(lab == "unknown" for lab in labels):
            summary[task], summary[f"{task}_share"] = "unknown", None
            continue
        probs = [f["probabilities"][task][lab] for f, lab in zip(frames, labels)]
        summary[task], share = _majority(labels, probs)
        summary[f"{task}_share"] = round(share, 4)
    phase = [f["probabilities"].get("phase", {}) for f in frames]
    for name in ("ED", "ES"):
        if all(name in p for p in phase):
            summary[f"{name.lower()}_frames"] = phase_peaks(np.array([p[name] for p in phase]))
        else:
            summary[f"{name.lower()}_frames"] = []
    scored = [(f["poorness"], f["frame"]) for f in frames if f["poorness"] is not None]
    if scored:
        worst, index = max(scored)
        summary["poorest_frame"], summary["poorest_score"] = index, round(worst, 4)
    summary["mean_ms"] = round(float(np.mean([f["ms"]["total"] for f in frames])), 3)
    return summary


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return buf.tobytes()


def _to_u8(image: np.ndarray) -> np.ndarray:
    """H×W float32 in [0, 1] → H×W uint8."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _thumbnail(image: np.ndarray) -> str:
    """H×W float32 in [0, 1] → base64 PNG no larger than THUMB_SIZE."""
    u8 = _to_u8(image)
    if max(u8.shape) > THUMB_SIZE:
        u8 = cv2.resize(u8, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA)
    return base64.b64encode(_png(u8)).decode("ascii")


def _frame_record(index: int, result, image_path: str | None) -> dict:
    """The run log's record (``runtime.record``) plus batch's own keys: the image written and the poorness."""
    record = FrameRecord.from_result(index, None, result).to_json()
    record["labels"] = {task: "unknown" for task in TASKS} | record["labels"]
    score, method = poorness(record["probabilities"])
    record.update(poorness=None if score is None else round(score, 5), poorness_by=method, enhanced_image=image_path)
    return record


def _error_message(exc: BaseException, inp: InputFile) -> str:
    """The problem in one line, naming the input by its path under the input folder."""
    if isinstance(exc, DataError):
        return exc.problem
    text = str(exc).strip().replace(str(inp.path), inp.relative)
    return text if text and type(exc).__module__.startswith("echosr_edge") else f"{type(exc).__name__}: {text}"


def process_input(
    pipeline: Pipeline,
    inp: InputFile,
    out: Path,
    keep_phi: bool = False,
    write_images: bool = True,
) -> dict:
    """Run every frame of ``inp`` through ``pipeline``; write its enhanced images under ``out``.

    Returns the input's record. A file that cannot be read or processed gives a record with
    status 'error' and its message (its partial images are removed), never an exception.
    """
    out = Path(out)
    start = time.perf_counter()
    record = {"file": inp.relative, "kind": inp.kind, "input": input_stamp(inp.path)}
    record["provenance"] = pipeline.provenance  # the full block on every row (runtime/provenance.py)
    write_images = write_images and pipeline.enhance == "always"
    clear_frame_images(out, inp.relative)
    frames: list[dict] = []
    written: list[Path] = []
    poorest: list[tuple[float, int, np.ndarray, np.ndarray]] = []  # min-heap of the worst frames
    try:
        frame_iter, metadata = read_input(inp, keep_phi)
        for index, frame in enumerate(frame_iter):
            result = pipeline.process(frame)
            image_path = frame_image_path(inp.relative, index) if write_images else None
            if image_path:
                written.append(write_atomic(out / image_path, _png(_to_u8(result.enhanced)), durable=False))
            rec = _frame_record(index, result, image_path)
            rec["provenance"] = frame_provenance(pipeline.provenance, pipeline.enhance, result.enhanced_applied)
            frames.append(rec)
            if rec["poorness"] is not None:
                entry = (rec["poorness"], -index, pipeline.preprocess(frame)[0], result.enhanced)
                if len(poorest) < THUMBS_PER_FILE:
                    heapq.heappush(poorest, entry)
                elif entry[:2] > poorest[0][:2]:
                    heapq.heapreplace(poorest, entry)
        if not frames:
            raise DataError(inp.path, "no frames")
        fsync_files(written)  # the images reach the disk before the record that vouches for them
    except Exception as exc:  # one bad file must never stop the batch
        log.info("%s failed: %s", inp.relative, exc)
        clear_frame_images(out, inp.relative)
        record.update(status="error", error=_error_message(exc, inp), metadata={}, frames=[], summary={}, thumbnails=[])
        record["seconds"] = round(time.perf_counter() - start, 4)
        return record
    metadata["frames"] = len(frames)
    thumbnails = [
        {"frame": -neg_index, "poorness": score, "before": _thumbnail(before), "after": _thumbnail(after)}
        for score, neg_index, before, after in sorted(poorest, reverse=True)
    ]
    record.update(
        status="ok",
        error=None,
        metadata=metadata,
        frames=frames,
        summary=summarise(frames),
        thumbnails=thumbnails,
        seconds=round(time.perf_counter() - start, 4),
    )
    return record
