"""echosr-edge train …: SRResNet, SRGAN, the classifiers and the quality model.

Every command takes ``--schedule paper|smoke`` for the named settings (train/configs.py);
options given on the command line win over the schedule. Run under
``torchrun --nproc_per_node N -m echosr_edge train …`` for data-parallel training.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _epoch_line(prefix: str):
    def show(record: dict) -> None:
        extras = [f"{k} {record[k]:.4f}" for k in ("train_accuracy", "d_loss", "val_psnr") if k in record]
        extra = ("; " + ", ".join(extras)) if extras else ""
        click.echo(f"{prefix} epoch {record['epoch']}: loss {record['loss']:.5f}{extra} ({record['seconds']:.1f} s)", err=True)

    return show


def _schedule_part(schedule: str | None, part: str, fallback):
    if schedule is None:
        return fallback
    from echosr_edge.train.configs import get_schedule

    return getattr(get_schedule(schedule), part)


def _override(config, **given):
    return replace(config, **{k: v for k, v in given.items() if v is not None})


def _report(result, info) -> None:
    if info.is_main:
        payload = {"checkpoint": str(result.checkpoint), "metrics": str(result.metrics_path), **result.evaluation}
        click.echo(json.dumps(payload, indent=2, default=str))


def _common(fn):
    """Options every trainer shares."""
    options = [
        click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="Checkpoint to write (the training state and metrics go beside it)."),
        click.option("--schedule", type=click.Choice(["paper", "smoke"]), help="Named settings to start from."),
        click.option("--epochs", type=click.IntRange(min=1)),
        click.option("--batch", type=click.IntRange(min=1), help="Global batch (shared by torchrun processes)."),
        click.option("--lr", type=float, help="Adam learning rate."),
        click.option("--seed", type=int),
        click.option("--device", help="auto (CUDA when present), cpu or cuda."),
        click.option("--amp/--no-amp", default=None, help="Mixed precision on CUDA (default on)."),
        click.option("--resume", is_flag=True, help="Continue from the training state beside --out, if there is one."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _sr_options(fn):
    options = [
        click.option("--hr-size", type=click.Choice(["64", "128", "256", "512"]), help="HR frame size."),
        click.option("--patch", type=click.IntRange(min=4), help="LR patch size (HR = 4x)."),
        click.option("--patches-per-frame", type=click.IntRange(min=1)),
        click.option("--arch", type=click.Choice(["srresnet", "msrresnet"]), help="Generator (default srresnet)."),
        click.option("--blocks", type=click.IntRange(min=1), help="Residual blocks (paper 16)."),
        click.option("--features", type=click.IntRange(min=1), help="Channels (paper 64)."),
        click.option("--init", type=click.Choice(["random", "interpolation"]), help="Start without pretrained weights."),
        click.option("--lr-schedule", type=click.Choice(["constant", "cosine"])),
        click.option("--pretrained", type=_FILE, help="SRResNet/SRGAN weights file (BasicSR, common re-implementations, ours)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _sr_config(base, pretrained: Path | None, arch: str | None, blocks: int | None, features: int | None, hr_size, **given):
    if pretrained is not None:
        from echosr_edge.models.pretrained import read_pretrained_sr

        found = read_pretrained_sr(pretrained)
        arch = arch or found.arch
        blocks = blocks or found.config["blocks"]
        features = features or found.config["features"]
    return _override(base, pretrained=pretrained, arch=arch, blocks=blocks, features=features,
                     hr_size=int(hr_size) if hr_size else None, **given)


@click.group("train")
def command() -> None:
    """Train the SR models, the classifiers and the quality model (needs the 'train' extra)."""


@command.command("sr")
@_common
@_sr_options
def sr(root, out, schedule, epochs, batch, lr, seed, device, amp, resume, hr_size, patch, patches_per_frame,
       arch, blocks, features, init, lr_schedule, pretrained) -> None:
    """Train SRResNet (x4, MSE) on the good-quality frames of ROOT's training patients."""
    from echosr_edge.train.distributed import distributed_from_env
    from echosr_edge.train.jobs import sr_job
    from echosr_edge.train.sr import SRTrainConfig

    base = _schedule_part(schedule, "sr", SRTrainConfig())
    config = _sr_config(base, pretrained, arch, blocks, features, hr_size, epochs=epochs, batch=batch, lr=lr,
                        seed=seed, device=device, amp=amp, patch_lr=patch, patches_per_frame=patches_per_frame,
                        init=init, lr_schedule=lr_schedule)
    with distributed_from_env(config.device) as info:
        result = sr_job(root, out, config, on_epoch=_epoch_line("sr"), resume=resume)
        _report(result, info)


@command.command("srgan")
@_common
@_sr_options
@click.option("--vgg-weights", type=_FILE, help="torchvision vgg19-*.pth for the VGG content loss; without it: MSE.")
@click.option("--adversarial-weight", type=float, help="Weight of the adversarial loss (paper 1e-3).")
def srgan(root, out, schedule, epochs, batch, lr, seed, device, amp, resume, hr_size, patch, patches_per_frame,
          arch, blocks, features, init, lr_schedule, pretrained, vgg_weights, adversarial_weight) -> None:
    """Train SRGAN (content + 1e-3 x adversarial) on the good-quality frames of ROOT.

    Ledig et al. start SRGAN from the trained SRResNet: pass its checkpoint as --pretrained.
    """
    from echosr_edge.train.distributed import distributed_from_env
    from echosr_edge.train.gan import SRGANTrainConfig
    from echosr_edge.train.jobs import srgan_job

    if vgg_weights is None:
        click.echo("note: no --vgg-weights given; the SRGAN content loss falls back to pixel MSE (SRGAN-MSE)", err=True)
    base = _schedule_part(schedule, "srgan", SRGANTrainConfig())
    config = _sr_config(base, pretrained, arch, blocks, features, hr_size, epochs=epochs, batch=batch, lr=lr,
                        seed=seed, device=device, amp=amp, patch_lr=patch, patches_per_frame=patches_per_frame,
                        init=init, lr_schedule=lr_schedule, vgg_weights=vgg_weights,
                        adversarial_weight=adversarial_weight)
    with distributed_from_env(config.device) as info:
        result = srgan_job(root, out, config, on_epoch=_epoch_line("srgan"), resume=resume)
        _report(result, info)


def _classifier_options(fn):
    options = [
        click.option("--input-size", type=click.IntRange(min=32)),
        click.option("--hr-size", type=click.IntRange(min=32), help="HR size of the pipeline that feeds it."),
        click.option("--imagenet-weights", type=_FILE, help="torchvision resnet18-*.pth file."),
        click.option("--balanced/--unbalanced", default=None, help="Inverse-frequency class weights in the loss."),
        click.option("--min-steps", type=click.IntRange(min=0),
                     help="At least this many optimiser steps (more epochs on a small set); smoke: 40, paper: 0."),
        # train.augment.AUGMENTS, spelled out: the runtime CLI must not import the train package
        click.option("--augment", type=click.Choice(["none", "robust"]),
                     help="robust: train on smoothed, contrast-shifted, noisy copies (steadier labels on SR and INT8 output); default none, as the paper."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run_classifier(part: str, task: str, root, out, schedule, hr_size, imagenet_weights, resume, **given) -> None:
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.distributed import distributed_from_env
    from echosr_edge.train.jobs import classifier_job

    if imagenet_weights is None:
        click.echo("note: no --imagenet-weights given; the classifier starts from random weights", err=True)
    base = _schedule_part(schedule, part, ClassifierTrainConfig(task=task, balanced=task == "quality"))
    config = _override(base, task=task, imagenet_weights=imagenet_weights, **given)
    hr = hr_size or _schedule_part(schedule, "hr_size", 256)
    with distributed_from_env(config.device) as info:
        result = classifier_job(root, out, config, hr_size=hr, on_epoch=_epoch_line(task), resume=resume)
        _report(result, info)


@command.command("classifier")
@_common
@_classifier_options
@click.option("--task", default="view", show_default=True, type=click.Choice(["view", "phase", "quality"]))
def classifier(root, out, schedule, epochs, batch, lr, seed, device, amp, resume, input_size, hr_size,
               imagenet_weights, balanced, min_steps, augment, task) -> None:
    """Train a ResNet-18 classifier for TASK on ROOT (patient-level split)."""
    _run_classifier("quality" if task == "quality" else "classifier", task, root, out, schedule, hr_size,
                    imagenet_weights, resume, epochs=epochs, batch=batch, lr=lr, seed=seed, device=device, amp=amp,
                    input_size=input_size, balanced=balanced, min_steps=min_steps, augment=augment)


@command.command("quality")
@_common
@_classifier_options
def quality(root, out, schedule, epochs, batch, lr, seed, device, amp, resume, input_size, hr_size,
            imagenet_weights, balanced, min_steps, augment) -> None:
    """Train the image-quality model (good / medium / poor) that gates enhancement at the bedside."""
    _run_classifier("quality", "quality", root, out, schedule, hr_size, imagenet_weights, resume, epochs=epochs,
                    batch=batch, lr=lr, seed=seed, device=device, amp=amp, input_size=input_size, balanced=balanced,
                    min_steps=min_steps, augment=augment)


@command.command("cardiac")
@_common
@_classifier_options
def cardiac(root, out, schedule, epochs, batch, lr, seed, device, amp, resume, input_size, hr_size,
            imagenet_weights, balanced, min_steps, augment) -> None:
    """Train the out-of-distribution gate: ROOT's frames ('cardiac') vs synthetic non-cardiac scenes ('other').

    Every quality tier is trained on equally often. The threshold that accepts 99 % of each quality tier's
    held-out frames and the temperature are stored in the checkpoint; export carries them into the bundle, and `run`/`batch` refuse what scores above it.
    """
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.distributed import distributed_from_env
    from echosr_edge.train.jobs import cardiac_job

    base = _schedule_part(schedule, "classifier", ClassifierTrainConfig(task="cardiac", input_size=64))
    config = _override(base, task="cardiac", imagenet_weights=imagenet_weights, epochs=epochs, batch=batch, lr=lr,
                       seed=seed, device=device, amp=amp, input_size=input_size or 64, balanced=balanced, min_steps=min_steps,
                       augment=augment)
    with distributed_from_env(config.device) as info:
        result = cardiac_job(root, out, config, hr_size=hr_size or _schedule_part(schedule, "hr_size", 256),
                             on_epoch=_epoch_line("cardiac"), resume=resume)
        _report(result, info)


@command.command("schedules")
def schedules() -> None:
    """List the named training schedules and their settings."""
    from echosr_edge.train.common import plain_config
    from echosr_edge.train.configs import SCHEDULES

    for s in SCHEDULES.values():
        click.echo(f"{s.name}: {s.description}")
        for part in ("sr", "srgan", "classifier", "quality"):
            values = {k: v for k, v in plain_config(getattr(s, part)).items() if v is not None}
            click.echo(f"  {part}: {json.dumps(values)}")


def _named_files(values: tuple[str, ...], option: str) -> tuple[tuple[str, Path], ...]:
    """NAME=FILE pairs; each FILE must exist."""
    pairs = []
    for value in values:
        name, sep, file = value.partition("=")
        if not sep or not name or not file:
            raise click.BadParameter(f"{value!r} is not NAME=FILE", param_hint=option)
        if not Path(file).is_file():
            raise click.BadParameter(f"{file} is not a file", param_hint=option)
        pairs.append((name.strip(), Path(file)))
    return tuple(pairs)


@command.command("experiments")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--config", "schedule", default="smoke", show_default=True, type=click.Choice(["smoke", "paper"]),
              help="smoke: the whole grid in minutes on a CPU; paper: the study's schedule (GPU).")
@click.option("--out", default="experiments", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--folds", type=click.IntRange(min=2), help="Patient-grouped folds (default: smoke 2, paper 5).")
@click.option("--repeats", type=click.IntRange(min=1), help="Repeats of the k-fold split, each retraining every cell; with 2 or more the intervals hold the "
                   "training runs' spread, and from 3 train-on-enhanced differences count as evidence (default: smoke 1, paper 3).")
@click.option("--sr-data", default="held-out", show_default=True, type=click.Choice(["held-out", "all"]),
              help="SR fine-tuning frames: the fold's training-side good frames, or all good frames (the paper's).")
@click.option("--sr-models", default="srresnet,srgan", show_default=True, help="Comma list of srresnet, srgan.")
@click.option("--sr-checkpoint", "sr_checkpoints", multiple=True, metavar="NAME=FILE",
              help="An extra SR arm from a checkpoint (e.g. a distilled student); repeatable.")
@click.option("--sr-pretrained", multiple=True, metavar="KIND=FILE",
              help="DIV2K weights to fine-tune from, per generator (srresnet=..., srgan=...); repeatable.")
@click.option("--vgg-weights", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="torchvision vgg19-*.pth for SRGAN's content loss (without: pixel MSE, listed as a deviation).")
@click.option("--srgan-init", default="srresnet", show_default=True, type=click.Choice(["srresnet", "own"]),
              help="srresnet: SRGAN starts from the fold's fine-tuned SRResNet (Ledig et al.); own: its --sr-pretrained file or the schedule's init.")
@click.option("--hr-size", type=click.IntRange(min=8), help="HR frame size (default: the schedule's).")
@click.option("--classifier-size", type=click.IntRange(min=16), help="Classifier input size (default: the schedule's).")
@click.option("--classifier-epochs", type=click.IntRange(min=1), help="Classifier epochs (default: the schedule's; paper 10).")
@click.option("--classifier-steps", type=click.IntRange(min=0),
              help="At least this many optimiser steps per classifier and quality model (default: smoke 40, paper 0).")
@click.option("--enhance-mode", default="down-up", show_default=True, type=click.Choice(["down-up", "direct"]),
              help="down-up: arm(bicubic ↓4(x)) at the HR size; direct: arm(x), 4x larger, resized for the classifier.")
@click.option("--downsample", default="bicubic", show_default=True, type=click.Choice(["bicubic", "area"]),
              help="The down-up chain's ↓4 and the SR training pairs': bicubic (aliases, as the runtime's chain) or area "
                   "(the anti-aliased block mean).")
@click.option("--augmented/--no-augmented", default=True, show_default=True,
              help="Train the competitor: classifiers with --augment robust on plain frames.")
@click.option("--gated/--no-gated", default=True, show_default=True,
              help="The bedside experiment: never / always / auto enhancement on mixed-quality frames (trains a quality model per fold).")
@click.option("--gated-classifier", default="all", show_default=True, type=click.Choice(["all", "good"]),
              help="The gated experiment's classifier: trained on every tier (as the product's) or on good (the paper's Fig. 4 b/d).")
@click.option("--imagenet-weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="torchvision resnet18-*.pth file.")
@click.option("--allow-deviation", is_flag=True, help="Run --config paper without the paper's weight files or on a tree of other counts (listed as deviations).")
@click.option("--resume", is_flag=True, help="Reuse the finished cells under OUT/cells (same settings only).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda (training, enhancement and evaluation).")
@click.option("--plan", is_flag=True, help="List the cells the grid would train (frames, epochs, optimiser steps) and stop; trains nothing.")
def experiments(root, schedule, out, folds, repeats, sr_data, sr_models, sr_checkpoints, sr_pretrained, vgg_weights, srgan_init,
                hr_size, classifier_size, classifier_epochs, classifier_steps, enhance_mode, downsample, augmented, gated,
                gated_classifier, imagenet_weights, allow_deviation, resume, device, plan) -> None:
    """Reproduce the study's grid on ROOT with control arms, per-frame predictions and paired tests."""
    from echosr_edge.train.experiment_config import get_config
    from echosr_edge.train.experiment_report import write_report
    from echosr_edge.train.experiments import run_experiments

    kinds = tuple(k.strip() for k in sr_models.split(",") if k.strip())
    if any(k not in ("srresnet", "srgan") for k in kinds):
        raise click.BadParameter("use srresnet and/or srgan", param_hint="--sr-models")
    pretrained = _named_files(sr_pretrained, "--sr-pretrained")
    if any(k not in ("srresnet", "srgan") for k, _ in pretrained):
        raise click.BadParameter("KIND is srresnet or srgan", param_hint="--sr-pretrained")
    config = get_config(
        schedule, folds=folds, repeats=repeats, sr_data=sr_data, sr_models=kinds,
        sr_checkpoints=_named_files(sr_checkpoints, "--sr-checkpoint"), sr_pretrained=pretrained, vgg_weights=vgg_weights,
        srgan_from_srresnet=srgan_init == "srresnet", hr_size=hr_size, classifier_size=classifier_size,
        classifier_epochs=classifier_epochs, classifier_steps=classifier_steps,
        enhance_mode=enhance_mode, downsample=downsample, augmented=augmented, gated=gated, gated_classifier=gated_classifier,
        imagenet_weights=imagenet_weights,
        allow_deviation=allow_deviation,
        device=device,
    )
    if plan:
        _echo_plan(root, config)
        return
    results = run_experiments(root, out, config, progress=lambda msg: click.echo(msg, err=True), resume=resume)
    report = write_report(results, out)
    for line in results["deviations"]:
        click.echo(f"deviation: {line}", err=True)
    click.echo(f"results: {out / 'results.json'}\npredictions: {out / 'predictions.csv'}\nreport:  {report}\n"
               f"figures: {out}/fig4.png, {out}/forest.png")


def _echo_plan(root: Path, config) -> None:
    from echosr_edge.train.experiments import read_checked
    from echosr_edge.train.grid_plan import TRAINERS, plan_cells, project

    tree = read_checked(root, config)
    cells = plan_cells(tree.frames, config)
    for cell in cells:
        click.echo(f"{cell.label:32s} {cell.trainer:10s} {cell.frames:5d} frames {cell.epochs:5d} epochs {cell.steps:8d} steps")
    totals = project(cells, {})["trainers"]
    click.echo(f"{len(tree.frames)} frames of {len(tree.patients)} patients; {config.folds} folds × {config.repeats} repeat(s); "
               + "; ".join(f"{t}: {totals[t]['cells']} cells, {totals[t]['steps']:,} steps" for t in TRAINERS if t in totals)
               + ". Time them with benchmarks/grid_projection.py on the card that will run it.")


@command.command("report")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--bootstrap", type=click.IntRange(min=100), help="Bootstrap resamples (default: the grid's).")
def report(out, bootstrap) -> None:
    """Recompute OUT's statistics and report from its per-frame predictions (no training).

    OUT is the --out folder of a finished `train experiments` run. Rewrites results.json,
    report.md, fig4.png and forest.png with this version's intervals and tests.
    """
    from echosr_edge.train.experiment_report import write_report
    from echosr_edge.train.experiments import reanalyse

    results = reanalyse(out, bootstrap)
    path = write_report(results, out)
    click.echo(f"results: {out / 'results.json'}\nreport:  {path}\nfigures: {out}/fig4.png, {out}/forest.png")


@command.command("distill")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--teacher", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The fine-tuned SRResNet checkpoint.")
@click.option("--student", default="rfdn", show_default=True, type=click.Choice(["rfdn", "espcn"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Student checkpoint to write.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=1e-3, show_default=True, type=float, help="Adam learning rate (cosine decay).")
@click.option("--patch", default=16, show_default=True, type=click.IntRange(min=4), help="LR patch size.")
@click.option("--patches-per-frame", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--distill-weight", default=1.0, show_default=True, type=float, help="Weight of the L1 term to the teacher's output.")
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the state saved beside --out.")
@click.option("--features", type=click.IntRange(min=1), help="Student width (ESPCN first layer 64, RFDN 32 by default).")
@click.option("--blocks", type=click.IntRange(min=1), help="RFDN blocks (default 4).")
@click.option("--anchor", is_flag=True, help="Learn a residual over nearest-neighbour upsampling (ABPN's anchor): starts near interpolation.")
def distill(root, teacher, student, out, epochs, batch, lr, patch, patches_per_frame, distill_weight, seed, device, resume,
            features, blocks, anchor) -> None:
    """Distil the teacher SRResNet into a light real-time student on ROOT's good frames."""
    from echosr_edge.models.checkpoint import load_checkpoint
    from echosr_edge.train.distill import DistillConfig
    from echosr_edge.train.jobs import distill_job

    _, meta = load_checkpoint(teacher)
    config = DistillConfig(
        hr_size=int(meta["hr_size"]), scale=int(meta["scale"]), epochs=epochs, batch=batch, lr=lr, patch_lr=patch,
        patches_per_frame=patches_per_frame, seed=seed, device=device, lr_schedule="cosine", student=student,
        distill_weight=distill_weight,
        student_config={k: v for k, v in (("features", features), ("blocks", blocks), ("anchor", anchor or None)) if v is not None},
    )
    if blocks is not None and student != "rfdn":
        raise click.BadParameter("--blocks applies to the rfdn student", param_hint="--blocks")
    result = distill_job(root, out, teacher, config, on_epoch=_epoch_line(student), resume=resume)
    click.echo(json.dumps({"checkpoint": str(result.checkpoint), **result.evaluation}, indent=2, default=float))
