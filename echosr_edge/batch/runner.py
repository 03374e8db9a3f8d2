"""Offline batch: every scan under a folder through the pipeline, resumable, in worker processes.

``run_batch(IN, OUT, config)`` finds the inputs, skips those an earlier run finished, hands the
rest to ``config.workers`` worker processes (each opens its own engines), then rebuilds
results.jsonl, results.csv, frames.csv and report.html from the per-input records. A file that
fails is recorded with its error and the run goes on; a worker that dies (a decoder crash, the
out-of-memory killer) costs only the file it was on, found by retrying the suspects one at a time.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from echosr_edge.batch.inputs import Discovery, InputFile, discover_inputs
from echosr_edge.batch.process import clear_frame_images, process_input
from echosr_edge.batch.report import ReportPaths, write_outputs
from echosr_edge.batch.store import (
    RecordStore,
    RunLock,
    check_run_settings,
    input_stamp,
    sweep_partials,
)
from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.session import open_session

log = logging.getLogger(__name__)

START_METHOD = "spawn"  # a fresh interpreter per worker: no forked engine or lock state


@dataclass(frozen=True)
class BatchConfig:
    """How to process a batch; the settings that change results are pinned in OUT on first run."""

    bundle: Path
    device: str = "auto"  # resolved by devices.detect.choose_device; the pinned settings keep the profile it chose
    precision: str | None = None
    enhance: str = "always"
    abstain: bool = True  # refuse frames that are not a cardiac view or too uncertain (docs/abstention.md)
    workers: int = 1
    # Engine threads per worker. One: on the 2-core reference machine a second intra-op thread
    # did not speed up the study's models and, when other work holds the cores, ONNX Runtime's
    # spinning threads doubled the CPU time (benchmarks/batch_workers.py); scale with --workers.
    threads: int = 1
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ground_truth: bool = False  # also read masks and clean twins (inputs.GROUND_TRUTH)
    keep_phi: bool = False
    write_images: bool = True
    trust: tuple[Path, ...] = ()  # public keys / folders; with the configured trust store, unsigned bundles are refused
    profile: str = "default"  # the bundle profile to run ("realtime": the distilled student)


@dataclass(frozen=True)
class BatchProgress:
    """Progress at the start and after each finished input of this run (``resumed``: finished earlier)."""

    done: int
    total: int
    failed: int
    resumed: int
    elapsed_s: float
    last: str

    @property
    def eta_s(self) -> float | None:
        """Seconds left at this run's rate so far, or None before the first input is done."""
        if self.done == 0:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


@dataclass(frozen=True)
class BatchResult:
    """What a batch run came to."""

    out: Path
    inputs: int
    ok: int
    failed: int
    resumed: int
    frames: int
    errors: tuple[tuple[str, str], ...]
    seconds: float
    reports: ReportPaths
    unsupported: int = 0
    filtered: int = 0
    ground_truth: int = 0  # masks and clean twins passed over
    abstained: int = 0  # frames given no answer
    device: str = ""  # the device profile that ran, and why (``--device auto`` says its reason)

    @property
    def partial(self) -> bool:
        """True when at least one input failed."""
        return self.failed > 0


@dataclass(frozen=True)
class FileOutcome:
    """What a worker reports back for one input."""

    relative: str
    status: str
    frames: int


# ---------------------------------------------------------------- worker side

_WORKER: dict = {}


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker if the batch process dies (kill -9 included)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != _WORKER.get("parent"):
        os._exit(1)  # the parent died before prctl took effect


def _init_worker(parent: int, bundle: str, profile, precision, enhance, manifest, out: str, keep_phi: bool, images: bool,
                 abstain: bool = True) -> None:
    _WORKER.update(parent=parent, out=Path(out), keep_phi=keep_phi, images=images)
    _die_with_parent()
    try:
        # The parent verified the bundle (trust store included) and hands its manifest over.
        _WORKER["pipeline"] = open_session(
            Path(bundle), profile, precision=precision, enhance=enhance, manifest=manifest, crop=False, startup_check=False,
            abstain=abstain,
        ).pipeline
    except Exception as exc:  # reported by the first task, so the parent can stop with the reason
        _WORKER["init_error"] = f"{type(exc).__name__}: {exc}"


def _work(inp: InputFile) -> FileOutcome:
    if "init_error" in _WORKER:
        raise EchoSRError(f"a worker could not open the bundle: {_WORKER['init_error']}")
    record = process_input(_WORKER["pipeline"], inp, _WORKER["out"], _WORKER["keep_phi"], _WORKER["images"])
    RecordStore(_WORKER["out"]).save(record)
    return FileOutcome(inp.relative, record["status"], len(record["frames"]))


# ---------------------------------------------------------------- parent side


def _settings(config: BatchConfig, root: Path, manifest_sha: str, artifacts: dict[str, str], device: str) -> dict:
    return {
        "input": str(root.resolve()),
        "bundle_manifest_sha256": manifest_sha,
        "device": device,
        "precisions": artifacts,
        "enhance": config.enhance,
        "images": config.write_images,
        "keep_phi": config.keep_phi,
    } | ({"profile": config.profile} if config.profile != "default" else {}) | ({} if config.abstain else {"abstain": False})


def _is_finished(store: RecordStore, inp: InputFile) -> bool:
    record = store.load(inp.relative)
    return record is not None and record.get("status") == "ok" and record.get("input") == input_stamp(inp.path)


def _crash_record(inp: InputFile, out: Path) -> dict:
    clear_frame_images(out, inp.relative)
    return {
        "file": inp.relative,
        "kind": inp.kind,
        "input": input_stamp(inp.path),
        "status": "error",
        "error": "the worker process died while processing this file (a decoder crash or out of memory)",
        "metadata": {},
        "frames": [],
        "summary": {},
        "thumbnails": [],
        "seconds": None,
    }


def run_pool(
    todo: list[InputFile],
    workers: int,
    work: Callable[[InputFile], FileOutcome],
    initializer: Callable[..., None],
    initargs: tuple,
    on_outcome: Callable[[FileOutcome], None],
    on_crash: Callable[[InputFile], None],
) -> None:
    """Run ``work`` on every input in ``workers`` spawned processes, restarting the pool if one dies.

    The inputs in flight when a worker died are retried one at a time; one that kills its
    worker while running alone is handed to ``on_crash``. Exceptions ``work`` raises propagate.
    """
    pending: deque[InputFile] = deque(todo)
    suspects: deque[InputFile] = deque()
    context = multiprocessing.get_context(START_METHOD)
    while pending or suspects:
        broken = False
        with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
            in_flight: dict[Future, tuple[InputFile, bool]] = {}
            while (pending or suspects or in_flight) and not broken:
                if suspects and not in_flight:
                    inp = suspects.popleft()
                    in_flight[pool.submit(work, inp)] = (inp, True)  # a fresh pool: nothing else can break it
                while pending and not suspects and len(in_flight) < workers:
                    inp = pending.popleft()
                    try:
                        in_flight[pool.submit(work, inp)] = (inp, False)
                    except BrokenProcessPool:  # a worker died since the last wait: this input never started
                        pending.appendleft(inp)
                        broken = True
                        break
                if broken:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    inp, alone = in_flight.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:  # it ran by itself, so it is the input that kills workers
                            on_crash(inp)
                        else:
                            suspects.append(inp)
                        continue
                    on_outcome(outcome)
            if broken:
                for future, (inp, _) in in_flight.items():  # keep what finished before the pool broke
                    if future.done() and not future.cancelled() and future.exception() is None:
                        on_outcome(future.result())
                    else:
                        suspects.append(inp)
                log.warning("a worker process died; retrying %d file(s) one at a time", len(suspects))
                spawned = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=True, cancel_futures=True)
                _reap(spawned)


def _reap(processes: list) -> None:
    """End workers a broken pool left behind. A worker the pool spawned for a submit racing the
    breakage is never sent its stop sentinel; it would wait for work forever, and the interpreter,
    which joins its child processes at exit, with it."""
    for process in processes:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)


def _open_bundle(config: BatchConfig):
    """The device profile (threads per worker set), the verified manifest and the precision of
    each model the run will use. Opens the engines once, so a bad bundle stops the run here."""
    session = open_session(
        Path(config.bundle), config.device, precision=config.precision, bundle_profile=config.profile,
        trust=tuple(config.trust), threads=config.threads, enhance=config.enhance, crop=False, startup_check=False,
        abstain=config.abstain,
    )
    log.info("device %s: %s", session.device.name, session.device_reason)
    artifacts = {name: art.precision for name, art in session.pipeline.artifacts.items()}
    return session.device, session.manifest.for_profile(config.profile), artifacts, session.device_reason


def run_batch(
    input_root: Path,
    out: Path,
    config: BatchConfig,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_device: Callable[[str], None] | None = None,
) -> BatchResult:
    """Process every supported file under ``input_root`` into ``out``; resume where a run stopped.

    Raises EchoSRError before any work if the bundle, the device, the inputs or the output
    folder are unusable. Errors of single inputs are in the result and the report instead.
    ``on_device`` receives the device that will run and why, before any file is processed.
    """
    started = time.perf_counter()
    input_root, out = Path(input_root), Path(out)
    if config.workers < 1 or config.threads < 1:
        raise EchoSRError(f"workers and threads must be at least 1, got {config.workers} and {config.threads}")
    discovery: Discovery = discover_inputs(input_root, config.include, config.exclude, skip_under=out,
                                                 ground_truth=config.ground_truth)
    if not discovery.files:
        raise EchoSRError(
            f"no input files under {input_root} (NIfTI, DICOM, PNG/JPEG, mp4/avi"
            + (", after --include/--exclude" if discovery.filtered else "")
            + (f"; {discovery.ground_truth} ground-truth files passed over: --ground-truth reads them" if discovery.ground_truth else "")
            + ")"
        )
    profile, manifest, artifacts, device_reason = _open_bundle(config)
    if on_device:
        on_device(f"{profile.name}: {device_reason}")
    manifest_sha = hashlib.sha256((Path(config.bundle) / "manifest.json").read_bytes()).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        check_run_settings(out, _settings(config, input_root, manifest_sha, artifacts, profile.name))
        removed = sweep_partials(out)
        if removed:
            log.info("removed %d temporary file(s) a stopped run left", removed)
        store = RecordStore(out)
        todo = [inp for inp in discovery.files if not _is_finished(store, inp)]
        resumed = len(discovery.files) - len(todo)
        counts = {"done": 0, "failed": 0}
        run_started = time.perf_counter()

        def on_outcome(outcome: FileOutcome) -> None:
            counts["done"] += 1
            counts["failed"] += outcome.status != "ok"
            if on_progress:
                on_progress(
                    BatchProgress(
                        counts["done"], len(todo), counts["failed"], resumed, time.perf_counter() - run_started, outcome.relative
                    )
                )

        if on_progress:
            on_progress(BatchProgress(0, len(todo), 0, resumed, 0.0, ""))
        if todo:
            initargs = (os.getpid(), str(config.bundle), profile, config.precision, config.enhance,
                        manifest, str(out), config.keep_phi, config.write_images, config.abstain)

            def on_crash(inp: InputFile) -> None:
                store.save(_crash_record(inp, out))
                on_outcome(FileOutcome(inp.relative, "error", 0))

            try:
                run_pool(todo, min(config.workers, len(todo)), _work, _init_worker, initargs, on_outcome, on_crash)
            except OSError as exc:  # disk full, output folder gone: nothing more can be saved
                raise EchoSRError(f"cannot write the batch results to {out}: {exc}") from exc
        context = {
            "input": str(input_root),
            "bundle": str(config.bundle),
            "precisions": artifacts,
            "device": f"{profile.name} ({device_reason})",
            "workers": config.workers,
            "threads per worker": profile.threads,
            "keep_phi": config.keep_phi,
            "unsupported": discovery.unsupported,
            "filtered": discovery.filtered,
            "ground truth passed over": discovery.ground_truth,
            "tasks": {m.name: list(m.labels) for m in manifest.classifiers() if m.task != "cardiac"},
            "abstention": "on" if config.abstain else "off",
        }
        totals, paths = write_outputs(out, [f.relative for f in discovery.files], store, context)
    return BatchResult(
        out=out,
        inputs=len(discovery.files),
        ok=totals.ok,
        failed=totals.failed,
        resumed=resumed,
        frames=totals.frames,
        abstained=totals.abstained,
        errors=totals.errors,
        seconds=time.perf_counter() - started,
        reports=paths,
        unsupported=discovery.unsupported,
        device=f"{profile.name}: {device_reason}",
        filtered=discovery.filtered,
        ground_truth=discovery.ground_truth,
    )

