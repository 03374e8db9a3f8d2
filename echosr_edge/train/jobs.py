"""Training jobs: train on given frames, evaluate on held-out frames, save a checkpoint.

``run_sr`` / ``run_srgan`` / ``run_classifier`` take explicit frame lists (what the experiments
runner calls with its task sets and splits); ``sr_job`` / ``srgan_job`` / ``classifier_job`` /
``quality_job`` read a CAMUS tree and split it by patient first. Beside ``out`` go
``out.state.pt`` (the per-epoch training state that ``resume`` continues from) and
``out.metrics.jsonl`` (one JSON line per epoch). Under torchrun only rank 0 evaluates and
writes; the other ranks return an empty evaluation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echosr_edge.data.camus import read_camus
from echosr_edge.data.records import TASK_LABELS, Frame
from echosr_edge.data.splits import split_patients
from echosr_edge.errors import ConfigError
from echosr_edge.models.checkpoint import save_checkpoint
from echosr_edge.train.classifier import ClassifierTrainConfig, evaluate_classifier, train_classifier
from echosr_edge.train.common import EpochCallback, plain_config
from echosr_edge.train.distill import DistillConfig
from echosr_edge.train.distributed import dist_info
from echosr_edge.train.gan import SRGANTrainConfig, train_srgan
from echosr_edge.train.loop import Checkpointing
from echosr_edge.train.sr import SRTrainConfig, evaluate_sr, train_sr


@dataclass(frozen=True)
class JobResult:
    """A finished training job: its checkpoint, metrics file and held-out evaluation."""

    checkpoint: Path
    metrics_path: Path
    evaluation: dict
    state_path: Path | None = None


def load_split(root: Path, test_fraction: float, seed: int) -> tuple[list[Frame], list[Frame]]:
    """Read ``root`` and split it by patient (the honest default)."""
    frames = read_camus(root).frames
    if not frames:
        raise ConfigError(f"no readable frames under {root}")
    return split_patients(frames, test_fraction, seed)


def frames_digest(frames: list[Frame]) -> str:
    """sha256 of the sorted frame keys: which frames a model saw, in 64 characters."""
    return hashlib.sha256("\n".join(sorted(f.key for f in frames)).encode()).hexdigest()


def _data_meta(train: list[Frame], test: list[Frame], split: str) -> dict:
    return {
        "split": split,
        "train_frames": len(train),
        "train_frames_sha256": frames_digest(train),
        "test_frames": len(test),
        "test_frames_sha256": frames_digest(test),
    }


def _init_meta(config: SRTrainConfig) -> dict:
    """How the generator started: its init, or the pretrained file and the layout it was read as."""
    if config.pretrained is None:
        return {"init": config.init}
    from echosr_edge.models.pretrained import read_pretrained_sr

    weights = read_pretrained_sr(config.pretrained)
    return {"init": "pretrained", "pretrained": str(weights.source), "pretrained_layout": weights.layout,
            "pretrained_notes": list(weights.notes)}


def _sr_checkpoint(out: Path, model, config: SRTrainConfig, files: Checkpointing, evaluation: dict, meta: dict) -> JobResult:
    arch_config = {"features": config.features, "blocks": config.blocks, "scale": config.scale}
    meta = {"role": "sr", "hr_size": config.hr_size, "scale": config.scale, "evaluation": evaluation,
            **_init_meta(config), **meta}
    ckpt = save_checkpoint(out, model, config.arch, arch_config, meta)
    return JobResult(ckpt, files.metrics_path, evaluation, files.state_path)


def run_sr(
    train: list[Frame],
    test: list[Frame],
    out: Path,
    config: SRTrainConfig,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
    split: str = "patient",
    validation: list[Frame] | None = None,
) -> JobResult:
    """Train SRResNet (MSE) on ``train`` (good frames); evaluate PSNR/SSIM against bicubic on ``test``."""
    files = Checkpointing.beside(out, resume)
    model, history = train_sr(train, config, on_epoch, checkpointing=files, validation=validation)
    if not dist_info().is_main:
        return JobResult(Path(out), files.metrics_path, {}, files.state_path)
    evaluation = evaluate_sr(model, test, config.hr_size, config.scale)
    meta = {"model": "srresnet", "loss": "mse", "train_config": plain_config(config), "epochs_run": len(history),
            **_data_meta(train, test, split)}
    return _sr_checkpoint(out, model, config, files, evaluation, meta)


def run_srgan(
    train: list[Frame],
    test: list[Frame],
    out: Path,
    config: SRGANTrainConfig,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
    split: str = "patient",
    validation: list[Frame] | None = None,
) -> JobResult:
    """Train SRGAN on ``train`` (good frames); evaluate its generator against bicubic on ``test``."""
    files = Checkpointing.beside(out, resume)
    model, history, losses = train_srgan(train, config, on_epoch, checkpointing=files, validation=validation)
    if not dist_info().is_main:
        return JobResult(Path(out), files.metrics_path, {}, files.state_path)
    evaluation = evaluate_sr(model, test, config.hr_size, config.scale)
    meta = {"model": "srgan", **losses, "train_config": plain_config(config), "epochs_run": len(history),
            **_data_meta(train, test, split)}
    return _sr_checkpoint(out, model, config, files, evaluation, meta)


def run_classifier(
    train: list[Frame],
    test: list[Frame],
    out: Path,
    config: ClassifierTrainConfig,
    hr_size: int,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
    split: str = "patient",
) -> JobResult:
    """Train a ResNet-18 for ``config.task`` on ``train``; evaluate on ``test``."""
    files = Checkpointing.beside(out, resume)
    model, history = train_classifier(train, config, on_epoch, checkpointing=files)
    if not dist_info().is_main:
        return JobResult(Path(out), files.metrics_path, {}, files.state_path)
    evaluation = evaluate_classifier(model, test, config.task, config.input_size)
    calibration, ood = calibrate_classifier(model, test, config.task, config.input_size)
    evaluation["ece_before"], evaluation["ece_after"] = calibration["ece_before"], calibration["ece_after"]
    meta = {
        "role": "classifier",
        "task": config.task,
        "labels": list(TASK_LABELS[config.task]),
        "input_size": config.input_size,
        "hr_size": hr_size,
        "imagenet_weights": str(config.imagenet_weights) if config.imagenet_weights else None,
        "evaluation": evaluation,
        "train_config": plain_config(config),
        "epochs_run": len(history),
        "calibration": calibration,
        **_data_meta(train, test, split),
    }
    if ood:
        meta["ood"] = ood
    if config.task == "cardiac":
        from echosr_edge.data.outliers import HELD_OUT, TRAINING_KINDS

        meta["purpose"] = "out-of-distribution gate: abstain on frames that are not a cardiac view"
        meta["outlier_kinds"], meta["held_out_kinds"] = list(TRAINING_KINDS), list(HELD_OUT)
    if config.task == "quality":
        meta["purpose"] = "image-quality gate: enhance frames predicted 'poor' (or 'medium') before classifying"
    ckpt = save_checkpoint(out, model, "resnet18", {"num_classes": len(TASK_LABELS[config.task])}, meta)
    return JobResult(ckpt, files.metrics_path, evaluation, files.state_path)


def calibrate_classifier(model, frames: list[Frame], task: str, input_size: int) -> tuple[dict, dict]:
    """Temperature scaling on held-out ``frames`` and, for the 'cardiac' gate, its OOD threshold.

    Returns (calibration record, OOD record or {}): see train/calibrate.py. View and phase get the
    minimum calibrated confidence below which the runtime abstains ('low confidence').
    """
    from echosr_edge.train.calibrate import calibration_record, ood_margin, ood_threshold_record
    from echosr_edge.train.classifier import make_inputs
    from echosr_edge.train.common import predict_batches

    x, y = make_inputs(frames, task, input_size)
    logits = predict_batches(model, x).astype(np.float64)
    calibration = calibration_record(logits, y, abstain=task in ("view", "phase"))
    if task != "cardiac":
        return calibration, {}
    margin = ood_margin(logits, TASK_LABELS["cardiac"])
    cardiac = y == TASK_LABELS["cardiac"].index("cardiac")
    tiers = np.array([str(f.quality) for f in frames])[cardiac]
    return calibration, ood_threshold_record(margin[cardiac], outlier_scores=margin[~cardiac], tiers=tiers)


def cardiac_job(
    root: Path,
    out: Path,
    config: ClassifierTrainConfig,
    hr_size: int,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    outliers_per_frame: float = 1.0,
    resume: bool = False,
) -> JobResult:
    """The out-of-distribution gate: 'cardiac' (the frames of ROOT) vs 'other' (synthetic outliers).

    Outlier exposure: the training patients' frames, every quality tier repeated to the largest
    tier's count (``balance_tiers``), against as many synthetic non-cardiac frames of the training
    kinds (data/outliers.py; the held-out kinds are never drawn). The threshold accepting 99 % of
    each tier's held-out frames (at least 0) is stored in the checkpoint's ``ood``.
    """
    from echosr_edge.data.outliers import TRAINING_KINDS, outlier_frames

    if config.task != "cardiac":
        raise ValueError(f"the OOD gate is trained on task 'cardiac', not {config.task!r}")
    train, test = load_split(root, test_fraction, config.seed)
    train = balance_tiers(train)
    train = train + outlier_frames(round(len(train) * outliers_per_frame), TRAINING_KINDS, seed=config.seed + 7001, cropped=0.3)
    test = test + outlier_frames(round(len(test) * outliers_per_frame), TRAINING_KINDS, seed=config.seed + 7002)
    return run_classifier(train, test, out, config, hr_size, on_epoch, resume=resume, split="patient")


def balance_tiers(frames: list[Frame]) -> list[Frame]:
    """Each quality tier's frames repeated (cyclically) up to the largest tier's count.

    The gate must accept every tier; trained on CAMUS's mix (about one poor frame in eight) it
    learns the poor minority as half-way to 'other' (measured: a fresh poor frame past its boundary).
    """
    tiers: dict[str, list[Frame]] = {}
    for f in frames:
        tiers.setdefault(str(f.quality), []).append(f)
    most = max((len(v) for v in tiers.values()), default=0)
    return [group[i % len(group)] for group in tiers.values() for i in range(most)]


def _good(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.quality == "good"]


def sr_job(
    root: Path,
    out: Path,
    config: SRTrainConfig,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
) -> JobResult:
    """Train SRResNet on the good frames of the training patients; evaluate on held-out good frames."""
    train, test = load_split(root, test_fraction, config.seed)
    return run_sr(_good(train), _good(test) or test, out, config, on_epoch, resume=resume, split="patient")


def srgan_job(
    root: Path,
    out: Path,
    config: SRGANTrainConfig,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
) -> JobResult:
    """Train SRGAN on the good frames of the training patients; evaluate on held-out good frames."""
    train, test = load_split(root, test_fraction, config.seed)
    return run_srgan(_good(train), _good(test) or test, out, config, on_epoch, resume=resume, split="patient")


def classifier_job(
    root: Path,
    out: Path,
    config: ClassifierTrainConfig,
    hr_size: int,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
) -> JobResult:
    """Train a ResNet-18 for ``config.task`` on the training patients; evaluate on held-out patients."""
    train, test = load_split(root, test_fraction, config.seed)
    return run_classifier(train, test, out, config, hr_size, on_epoch, resume=resume, split="patient")


def quality_job(
    root: Path,
    out: Path,
    config: ClassifierTrainConfig,
    hr_size: int,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
) -> JobResult:
    """The quality model (good / medium / poor) for the enhance-when-needed gate, on all frames of ROOT."""
    if config.task != "quality":
        raise ConfigError(f"the quality model is trained on task 'quality', not {config.task!r}")
    return classifier_job(root, out, config, hr_size, test_fraction, on_epoch, resume=resume)


def distill_job(
    root: Path,
    out: Path,
    teacher_checkpoint: Path,
    config: DistillConfig,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
    *,
    resume: bool = False,
) -> JobResult:
    """Distil the teacher checkpoint into ``config.student`` on the good frames of the training
    patients (the teacher's own split); evaluate against HR and against the teacher on held-out good frames."""
    from echosr_edge.metrics import mean_psnr
    from echosr_edge.models.checkpoint import load_checkpoint
    from echosr_edge.train.common import predict_batches
    from echosr_edge.train.distill import train_distill
    from echosr_edge.train.sr import make_pairs

    teacher, teacher_meta = load_checkpoint(teacher_checkpoint)
    if teacher_meta.get("role") != "sr":
        raise ConfigError(f"{teacher_checkpoint} is not an SR checkpoint (role {teacher_meta.get('role')!r})")
    if int(teacher_meta["hr_size"]) != config.hr_size or int(teacher_meta["scale"]) != config.scale:
        raise ConfigError(
            f"the teacher was trained at HR {teacher_meta['hr_size']} x{teacher_meta['scale']}; "
            f"distil at the same size (got HR {config.hr_size} x{config.scale})"
        )
    train, test = load_split(root, test_fraction, config.seed)
    train, test = _good(train), _good(test) or test
    files = Checkpointing.beside(out, resume)
    student, history = train_distill(train, teacher, config, on_epoch, checkpointing=files)
    if not dist_info().is_main:
        return JobResult(Path(out), files.metrics_path, {}, files.state_path)
    evaluation = evaluate_sr(student, test, config.hr_size, config.scale)
    lr, _ = make_pairs(test, config.hr_size, config.scale)
    teacher_out = predict_batches(teacher.eval(), lr, batch=8).clip(0, 1)
    evaluation["psnr_vs_teacher"] = mean_psnr(teacher_out, predict_batches(student, lr, batch=8).clip(0, 1))
    evaluation["teacher"] = evaluate_sr(teacher, test, config.hr_size, config.scale)
    meta = {
        "role": "sr",
        "hr_size": config.hr_size,
        "scale": config.scale,
        "model": config.student,
        "loss": f"l1 + {config.distill_weight} x l1 to teacher",
        "teacher": str(teacher_checkpoint),
        "evaluation": evaluation,
        "train_config": plain_config(config),
        "epochs_run": len(history),
        **_data_meta(train, test, "patient"),
    }
    arch_config = {"scale": config.scale, **config.student_config}
    ckpt = save_checkpoint(out, student, config.student, arch_config, meta)
    return JobResult(ckpt, files.metrics_path, evaluation, files.state_path)
