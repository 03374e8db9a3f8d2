"""echosr-edge train …: SR and classifier training."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _epoch_line(prefix: str):
    def show(record: dict) -> None:
        extra = f" train acc {record['train_accuracy']:.3f}" if "train_accuracy" in record else ""
        click.echo(f"{prefix} epoch {record['epoch']}: loss {record['loss']:.5f}{extra} ({record['seconds']:.1f} s)", err=True)

    return show


@click.group("train")
def command() -> None:
    """Train the SR model and the classifiers (needs the 'train' extra)."""


@command.command("sr")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Checkpoint to write.")
@click.option("--hr-size", default=256, show_default=True, type=click.Choice(["64", "128", "256", "512"]), help="HR frame size.")
@click.option("--epochs", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=1e-4, show_default=True, type=float, help="Adam learning rate.")
@click.option("--patch", default=24, show_default=True, type=click.IntRange(min=4), help="LR patch size.")
@click.option("--blocks", default=16, show_default=True, type=click.IntRange(min=1), help="Residual blocks.")
@click.option("--features", default=64, show_default=True, type=click.IntRange(min=1), help="Channels.")
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
def sr(root: Path, out: Path, hr_size: str, epochs: int, batch: int, lr: float, patch: int, blocks: int, features: int, seed: int, device: str) -> None:
    """Train SRResNet (x4, MSE) on good-quality frames of ROOT."""
    from echosr_edge.train.jobs import sr_job
    from echosr_edge.train.sr import SRTrainConfig

    config = SRTrainConfig(
        hr_size=int(hr_size), epochs=epochs, batch=batch, lr=lr, patch_lr=patch, blocks=blocks, features=features, seed=seed, device=device
    )
    result = sr_job(root, out, config, on_epoch=_epoch_line("sr"))
    click.echo(json.dumps({"checkpoint": str(result.checkpoint), **result.evaluation}, indent=2))


@command.command("classifier")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Checkpoint to write.")
@click.option("--task", default="view", show_default=True, type=click.Choice(["view", "phase", "quality"]))
@click.option("--input-size", default=224, show_default=True, type=click.IntRange(min=32))
@click.option("--hr-size", default=256, show_default=True, type=click.IntRange(min=32), help="HR size of the pipeline that feeds it.")
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=1e-4, show_default=True, type=float)
@click.option("--imagenet-weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="torchvision resnet18-*.pth file.")
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
def classifier(root: Path, out: Path, task: str, input_size: int, hr_size: int, epochs: int, batch: int, lr: float, imagenet_weights: Path | None, seed: int, device: str) -> None:
    """Train a ResNet-18 classifier for TASK on ROOT (patient-level split)."""
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import classifier_job

    if imagenet_weights is None:
        click.echo("note: no --imagenet-weights given; the classifier starts from random weights", err=True)
    config = ClassifierTrainConfig(
        task=task, input_size=input_size, epochs=epochs, batch=batch, lr=lr, seed=seed, device=device, imagenet_weights=imagenet_weights
    )
    result = classifier_job(root, out, config, hr_size=hr_size, on_epoch=_epoch_line(task))
    click.echo(json.dumps({"checkpoint": str(result.checkpoint), **result.evaluation}, indent=2))
