"""The demo: synthetic CAMUS → train → export → bundle → torch-free run → bench, in one call."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.data.camus import read_camus
from echosr_edge.data.splits import split_patients
from echosr_edge.data.synth import write_synthetic_camus

log = logging.getLogger(__name__)
Step = Callable[[str], None]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes small enough for 2 CPU cores in a few minutes; the architectures are the study's."""

    patients: int = 60
    hr_size: int = 128
    scale: int = 4
    classifier_size: int = 128
    sr_epochs: int = 5
    sr_patches_per_frame: int = 3
    sr_patch_lr: int = 16
    sr_lr: float = 1e-3
    sr_init: str = "interpolation"  # SRResNet starts as a bicubic interpolator (models/interp_init.py)
    classifier_epochs: int = 4
    classifier_lr: float = 3e-4
    classifier_augment: str = "robust"  # steadier labels on SR output and across INT8 backends (train/augment.py)
    tasks: tuple[str, ...] = ("view", "phase")
    video_frames: int = 48
    verification_frames: int = 48  # every held-out frame (12 patients × 4)
    bench_runs: int = 20
    targets: tuple[str, ...] = ("onnx", "openvino")
    seed: int = 0
    workers: int = 2  # processes forming the simulator's patients


@dataclass
class DemoResult:
    """Where the demo put things, and what it measured."""

    out: Path
    data: Path
    bundle: Path
    video: Path
    run_log: Path
    bench_json: Path
    bench_md: Path
    evaluations: dict = field(default_factory=dict)
    seconds: float = 0.0


def run_demo(out: Path, config: DemoConfig = DemoConfig(), step: Step | None = None) -> DemoResult:
    """Run the whole chain into ``out``; ``step`` receives a one-line message per stage."""
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle
    from echosr_edge.runtime.bench import bench_bundle, write_report
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.session import open_session
    from echosr_edge.runtime.sources import open_source
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import classifier_job, sr_job
    from echosr_edge.train.sr import SRTrainConfig

    say = step or (lambda msg: None)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    say(f"1/6 simulating {config.patients} CAMUS patients (B-mode image formation) to {data}")
    write_synthetic_camus(data, patients=config.patients, seed=config.seed, style="sim", workers=config.workers)
    evaluations = {}

    say("2/6 training SRResNet (x4, MSE) on good-quality frames")
    sr_cfg = SRTrainConfig(
        hr_size=config.hr_size,
        scale=config.scale,
        epochs=config.sr_epochs,
        lr=config.sr_lr,
        patch_lr=config.sr_patch_lr,
        patches_per_frame=config.sr_patches_per_frame,
        init=config.sr_init,
        lr_schedule="cosine",
        seed=config.seed,
    )
    sr = sr_job(data, out / "checkpoints" / "sr.pt", sr_cfg, on_epoch=lambda r: say(f"    sr epoch {r['epoch']} loss {r['loss']:.4f}"))
    evaluations["sr"] = sr.evaluation
    checkpoints = {"sr": sr.checkpoint}
    for task in config.tasks:
        say(f"3/6 training the ResNet-18 {task} classifier")
        clf_cfg = ClassifierTrainConfig(
            task=task,
            input_size=config.classifier_size,
            epochs=config.classifier_epochs,
            lr=config.classifier_lr,
            augment=config.classifier_augment,
            seed=config.seed,
        )
        job = classifier_job(
            data,
            out / "checkpoints" / f"{task}.pt",
            clf_cfg,
            hr_size=config.hr_size,
            on_epoch=lambda r, t=task: say(f"    {t} epoch {r['epoch']} loss {r['loss']:.4f} train acc {r['train_accuracy']:.2f}"),
        )
        evaluations[task] = job.evaluation
        checkpoints[task] = job.checkpoint

    say("4/6 exporting ONNX and OpenVINO, FP32 and INT8, into a verified bundle")
    train, test = split_patients(read_camus(data).frames, 0.2, config.seed)
    bundle = out / "bundle"
    manifest, rows = export_bundle(
        checkpoints, calibration=train, verification=test, out=bundle, config=ExportConfig(targets=config.targets, verification_count=config.verification_frames, allow_degraded=True)
    )
    evaluations["export"] = [row.__dict__ for row in rows]

    say("5/6 running the torch-free pipeline on a demo video")
    from echosr_edge.runtime.batch_synth import write_video

    video = write_video(out / "demo.mp4", np.stack([f.image for f in test[: config.video_frames]]), "mp4v", fps=10.0)
    device = get_profile("cpu")
    # The device's choice: INT8 where it met its export budget, the next precision where it did not.
    pipeline = open_session(bundle, device, enhance="always", crop=False, startup_check=False).pipeline
    say("    " + ", ".join(f"{name} {a.format}/{a.precision}" for name, a in pipeline.artifacts.items()))
    for note in pipeline.notes:
        say(f"    {note}")
    run_log = out / "run.jsonl"
    run_source(pipeline, open_source(video), log_path=run_log)

    say("6/6 benchmarking every backend and precision against the PyTorch FP32 models")
    from echosr_edge.devices.detect import detect_devices
    from echosr_edge.export.torch_engine import find_checkpoints, torch_target

    runnable = {s.name: s for s in detect_devices() if s.available}
    others = [get_profile(n).with_formats(runnable[n].formats) for n in ("intel-cpu",) if n in runnable]
    baseline = torch_target(manifest, find_checkpoints(out / "checkpoints", manifest))
    report = bench_bundle(bundle, device, runs=config.bench_runs, devices=others, torch_target=baseline)
    bench_json, bench_md = write_report(report, out / "report")
    (out / "report" / "demo.json").write_text(json.dumps(evaluations, indent=2, default=str) + "\n")
    return DemoResult(
        out, data, bundle, video, run_log, bench_json, bench_md, evaluations, time.perf_counter() - started
    )
