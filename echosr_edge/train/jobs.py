"""Training jobs: read a CAMUS tree, split by patient, train, evaluate, save a checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from echosr_edge.data.camus import read_camus
from echosr_edge.data.records import TASK_LABELS, Frame
from echosr_edge.data.splits import split_patients
from echosr_edge.models.checkpoint import save_checkpoint
from echosr_edge.train.classifier import ClassifierTrainConfig, evaluate_classifier, train_classifier
from echosr_edge.train.common import EpochCallback
from echosr_edge.train.sr import SRTrainConfig, evaluate_sr, train_sr


@dataclass(frozen=True)
class JobResult:
    """A finished training job: its checkpoint, metrics file and held-out evaluation."""

    checkpoint: Path
    metrics_path: Path
    evaluation: dict


def load_split(root: Path, test_fraction: float, seed: int) -> tuple[list[Frame], list[Frame]]:
    """Read ``root`` and split it by patient (the honest default)."""
    frames = read_camus(root).frames
    if not frames:
        raise ValueError(f"no readable frames under {root}")
    return split_patients(frames, test_fraction, seed)


def _metrics_writer(path: Path, forward: EpochCallback | None) -> EpochCallback:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")

    def write(record: dict) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        if forward:
            forward(record)

    return write


def sr_job(
    root: Path, out: Path, config: SRTrainConfig, test_fraction: float = 0.2, on_epoch: EpochCallback | None = None
) -> JobResult:
    """Train SRResNet on the good frames of the training patients; evaluate on held-out good frames."""
    train, test = load_split(root, test_fraction, config.seed)
    good_train = [f for f in train if f.quality == "good"]
    good_test = [f for f in test if f.quality == "good"] or test
    metrics_path = Path(out).with_suffix(".metrics.jsonl")
    model, history = train_sr(good_train, config, _metrics_writer(metrics_path, on_epoch))
    evaluation = evaluate_sr(model, good_test, config.hr_size, config.scale)
    meta = {
        "role": "sr",
        "hr_size": config.hr_size,
        "scale": config.scale,
        "train_config": {k: v for k, v in asdict(config).items()},
        "evaluation": evaluation,
        "split": "patient",
    }
    arch_config = {"features": config.features, "blocks": config.blocks, "scale": config.scale}
    ckpt = save_checkpoint(out, model, "srresnet", arch_config, meta)
    return JobResult(ckpt, metrics_path, evaluation)


def classifier_job(
    root: Path,
    out: Path,
    config: ClassifierTrainConfig,
    hr_size: int,
    test_fraction: float = 0.2,
    on_epoch: EpochCallback | None = None,
) -> JobResult:
    """Train a ResNet-18 for ``config.task`` on the training patients; evaluate on held-out patients."""
    train, test = load_split(root, test_fraction, config.seed)
    metrics_path = Path(out).with_suffix(".metrics.jsonl")
    model, history = train_classifier(train, config, _metrics_writer(metrics_path, on_epoch))
    evaluation = evaluate_classifier(model, test, config.task, config.input_size)
    meta = {
        "role": "classifier",
        "task": config.task,
        "labels": list(TASK_LABELS[config.task]),
        "input_size": config.input_size,
        "hr_size": hr_size,
        "imagenet_weights": str(config.imagenet_weights) if config.imagenet_weights else None,
        "evaluation": evaluation,
        "split": "patient",
    }
    arch_config = {"num_classes": len(TASK_LABELS[config.task])}
    ckpt = save_checkpoint(out, model, "resnet18", arch_config, meta)
    return JobResult(ckpt, metrics_path, evaluation)
