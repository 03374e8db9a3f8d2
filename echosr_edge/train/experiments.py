"""The study's experiment grid: Table 2 (train × test quality tiers), Fig. 4 a–d, SR fidelity.

For every seed and task (view, phase):
- Table 2: a ResNet-18 trained on each tier's training side, tested on every tier's test side.
- Fig. 4 (a)/(c): a ResNet-18 trained on SR-enhanced poor frames, tested on every tier's test
  side (poor test frames enhanced too), against the poor-trained row of Table 2.
- Fig. 4 (b)/(d): the Table 2 classifiers tested on the SR-enhanced poor test side, against
  their accuracy on the plain poor test side.
Every SR model (SRResNet, SRGAN) gets its own panels. Accuracies are reported per seed and as
mean with a 95% CI; improvements in percentage points and in relative percent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
import json
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from echosr_edge.data.camus import read_camus
from echosr_edge.data.preprocess import as_batch, bicubic_down, bicubic_up, resize_unit
from echosr_edge.data.records import QUALITIES, Frame
from echosr_edge.data.summary import table1
from echosr_edge.data.tasks import TASKS, build_task_splits, source_of, sr_training_frames
from echosr_edge.errors import ConfigError
from echosr_edge.metrics import psnr, ssim
from echosr_edge.train.classifier import evaluate_classifier, train_classifier
from echosr_edge.train.common import predict_batches
from echosr_edge.train.experiment_config import ExperimentConfig
from echosr_edge.train.stats import improvement, mean_ci

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def enhance_frames(model: torch.nn.Module, frames: list[Frame], hr_size: int, scale: int) -> list[Frame]:
    """The study's enhanced frames: SR(bicubic ↓scale(x)) at the HR size, as uint8 frame records."""
    hr = [resize_unit(f.image, hr_size) for f in frames]
    lr = as_batch([bicubic_down(x, scale) for x in hr])
    sr = np.clip(predict_batches(model, lr, batch=8), 0.0, 1.0) if len(frames) else np.empty((0, 1, 1, 1))
    return [
        dataclasses.replace(f, image=(sr[i, 0] * 255.0 + 0.5).astype(np.uint8), meta={**f.meta, "enhanced": True})
        for i, f in enumerate(frames)
    ]


def sr_fidelity(model: torch.nn.Module | None, frames: list[Frame], hr_size: int, scale: int) -> dict:
    """Mean PSNR/SSIM against the frame itself of SR(bicubic ↓(x)) (or bicubic ↑ when model is None)."""
    if not frames:
        return {"frames": 0, "psnr": float("nan"), "ssim": float("nan")}
    hr = [resize_unit(f.image, hr_size) for f in frames]
    if model is None:
        out = [bicubic_up(bicubic_down(x, scale), scale) for x in hr]
    else:
        lr = as_batch([bicubic_down(x, scale) for x in hr])
        out = list(np.clip(predict_batches(model, lr, batch=8), 0.0, 1.0)[:, 0])
    return {
        "frames": len(frames),
        "psnr": float(np.mean([psnr(h, o) for h, o in zip(hr, out)])),
        "ssim": float(np.mean([ssim(h, o) for h, o in zip(hr, out)])),
    }


def train_sr_model(kind: str, frames: list[Frame], config: ExperimentConfig, seed: int) -> torch.nn.Module:
    """Fine-tune one SR model ('srresnet' or 'srgan') on ``frames`` with the schedule's settings."""
    from echosr_edge.train.gan import train_srgan
    from echosr_edge.train.sr import train_sr

    if kind == "srresnet":
        model, _ = train_sr(frames, replace(config.schedule.sr, seed=seed, device=config.device))
        return model
    if kind == "srgan":
        model, _, _ = train_srgan(frames, replace(config.schedule.srgan, seed=seed, device=config.device))
        return model
    raise ConfigError(f"unknown SR model {kind!r}; known: srresnet, srgan")


def _classifier(frames: list[Frame], task: str, config: ExperimentConfig, seed: int) -> torch.nn.Module:
    cfg = replace(
        config.schedule.classifier, task=task, seed=seed, device=config.device, imagenet_weights=config.imagenet_weights
    )
    model, _ = train_classifier(frames, cfg)
    return model


def _accuracy(model, frames: list[Frame], task: str, size: int) -> float:
    return evaluate_classifier(model, frames, task, size)["accuracy"]


def run_experiments(root: Path, out: Path, config: ExperimentConfig, progress: Progress | None = None) -> dict:
    """Run the whole grid on the CAMUS tree ``root``; write splits.json and results.json to ``out``."""
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tree = read_camus(root)
    frames = tree.frames
    if not frames:
        raise ConfigError(f"no readable frames under {root}")
    by_key = {f.key: f for f in frames}
    split_file = build_task_splits(
        frames, seeds=config.seeds, unit=config.unit, test_fraction=config.test_fraction, source=source_of(root, tree.release, frames)
    )
    split_file.save(out / "splits.json")
    say(f"{len(frames)} frames, {len(config.seeds)} seed(s), {config.unit}-level splits → {out / 'splits.json'}")

    # SR models: fine-tuned once, on good frames of patients in no test split of any seed
    # (or on every good frame, the paper's choice), so no classifier test patient is ever seen.
    if config.sr_data == "all":
        sr_frames = [f for f in frames if f.quality == "good"]
    else:
        held_out = set().union(*(split_file.test_patients(s) for s in config.seeds))
        sr_frames = [f for f in frames if f.quality == "good" and f.patient not in held_out]
    if not sr_frames:
        raise ConfigError("no good-quality frames are left to fine-tune the SR models on")
    sr_eval_good = [f for f in frames if f.quality == "good" and f.patient in set().union(*(split_file.test_patients(s) for s in config.seeds))]
    poor_all = [f for f in frames if f.quality == "poor"]
    sr_models, fidelity = {}, {"bicubic": {}}
    fidelity["bicubic"]["held_out_good_vs_hr"] = sr_fidelity(None, sr_eval_good, config.hr_size, config.scale)
    fidelity["bicubic"]["poor_vs_self"] = sr_fidelity(None, poor_all, config.hr_size, config.scale)
    for kind in config.sr_models:
        t = time.perf_counter()
        say(f"fine-tuning {kind} on {len(sr_frames)} good frames")
        sr_models[kind] = train_sr_model(kind, sr_frames, config, seed=config.seeds[0])
        fidelity[kind] = {
            "train_frames": len(sr_frames),
            "seconds": time.perf_counter() - t,
            "held_out_good_vs_hr": sr_fidelity(sr_models[kind], sr_eval_good, config.hr_size, config.scale),
            "poor_vs_self": sr_fidelity(sr_models[kind], poor_all, config.hr_size, config.scale),
        }
        say(f"  {kind}: PSNR {fidelity[kind]['held_out_good_vs_hr']['psnr']:.2f} dB on held-out good frames "
            f"(bicubic {fidelity['bicubic']['held_out_good_vs_hr']['psnr']:.2f} dB)")
    enhanced = {kind: {f.key: e for f, e in zip(poor_all, enhance_frames(m, poor_all, config.hr_size, config.scale))} for kind, m in sr_models.items()}

    per_seed: list[dict] = []
    for seed in config.seeds:
        seed_result: dict = {"seed": seed, "table2": {}, "fig4_train_sr": {}, "fig4_test_sr": {}}
        for task in TASKS:
            sides = {}
            for tier in QUALITIES:
                split = split_file.get(task, tier, seed)
                sides[tier] = ([by_key[k] for k in split.train], [by_key[k] for k in split.test])
                if not sides[tier][0] or not sides[tier][1]:
                    raise ConfigError(
                        f"the {tier} {task} set of seed {seed} has an empty train or test side: "
                        "too few patients for an 80/20 split (use more patients)"
                    )
            table = {}
            test_sr = {kind: {} for kind in sr_models}
            for train_tier in QUALITIES:
                say(f"seed {seed} {task}: training on {train_tier} ({len(sides[train_tier][0])} frames)")
                model = _classifier(sides[train_tier][0], task, config, seed)
                table[train_tier] = {tier: _accuracy(model, sides[tier][1], task, config.classifier_size) for tier in QUALITIES}
                for kind in sr_models:
                    poor_test_sr = [enhanced[kind][f.key] for f in sides["poor"][1]]
                    test_sr[kind][train_tier] = _accuracy(model, poor_test_sr, task, config.classifier_size)
            train_sr = {}
            for kind in sr_models:
                say(f"seed {seed} {task}: training on {kind}-enhanced poor frames")
                poor_train_sr = [enhanced[kind][f.key] for f in sides["poor"][0]]
                model = _classifier(poor_train_sr, task, config, seed)
                row = {}
                for tier in QUALITIES:
                    test = sides[tier][1]
                    if tier == "poor":
                        test = [enhanced[kind][f.key] for f in test]
                    row[tier] = _accuracy(model, test, task, config.classifier_size)
                train_sr[kind] = row
            seed_result["table2"][task] = table
            seed_result["fig4_test_sr"][task] = test_sr
            seed_result["fig4_train_sr"][task] = train_sr
        per_seed.append(seed_result)
    results = summarise(per_seed, config, sr_models.keys())
    results.update(
        {
            "schema": "echosr-edge/experiments",
            "version": 1,
            "config": config.to_dict(),
            "split": {"unit": split_file.unit, "test_fraction": split_file.test_fraction, "file": "splits.json"},
            "data": {"root": str(root), "release": tree.release, "frames": len(frames), "table1": table1(frames)},
            "sr_fidelity": fidelity,
            "per_seed": per_seed,
            "seconds": time.perf_counter() - started,
            "imagenet_weights": bool(config.imagenet_weights),
        }
    )
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


def summarise(per_seed: list[dict], config: ExperimentConfig, sr_kinds) -> dict:
    """Mean and 95% CI over seeds of every cell, and the Fig. 4 improvements."""
    table2, fig4 = {}, {}
    for task in TASKS:
        table2[task] = {
            a: {b: mean_ci([s["table2"][task][a][b] for s in per_seed]) for b in QUALITIES} for a in QUALITIES
        }
        fig4[task] = {}
        for kind in sr_kinds:
            train_panel = {}
            for tier in QUALITIES:
                before = [s["table2"][task]["poor"][tier] for s in per_seed]
                after = [s["fig4_train_sr"][task][kind][tier] for s in per_seed]
                train_panel[tier] = _panel_cell(before, after)
            test_panel = {}
            for tier in QUALITIES:
                before = [s["table2"][task][tier]["poor"] for s in per_seed]
                after = [s["fig4_test_sr"][task][kind][tier] for s in per_seed]
                test_panel[tier] = _panel_cell(before, after)
            fig4[task][kind] = {"train_on_sr_poor": train_panel, "test_on_sr_poor": test_panel}
    return {"table2": table2, "fig4": fig4}


def _panel_cell(before: list[float], after: list[float]) -> dict:
    points = [improvement(b, a)["points"] for b, a in zip(before, after)]
    relative = [improvement(b, a)["relative_percent"] for b, a in zip(before, after)]
    return {
        "before": mean_ci(before),
        "after": mean_ci(after),
        "improvement_points": mean_ci(points),
        "improvement_relative_percent": mean_ci(relative),
    }
