"""The study's experiment grid, as repeated patient-grouped k-fold cross-validation.

Per repeat and fold (the fold's patients are the test side, every other patient the training
side) and per task (view, phase):

- SR models (SRResNet, then SRGAN started from that fine-tuned SRResNet) fine-tuned on the
  fold's training-side good frames; ``--sr-checkpoint`` models are used as given.
- Every enhancement arm (train/arms.py: ``none``, ``bicubic``, ``nlmeans``, each SR model) is
  applied to the fold's poor frames through one resize chain; every other frame goes through
  the same chain as ``none``.
- Classifiers: one per training tier on plain frames (Table 2; tested on every tier, and on
  each arm's enhanced poor test frames: Fig. 4 b/d, "test-time"), one per arm on enhanced poor
  training frames (Fig. 4 a/c, "train on enhanced"), and the competitor, one per training tier
  trained with degradation augmentation (``--augment robust``) on plain frames.
- The gated pipeline (train/gated.py): the fold's quality model, and ``never`` / ``always`` /
  ``auto`` on the fold's mixed-quality test frames.

Every cell (SR model, classifier) is a file under ``OUT/cells`` (train/grid_cells.py), reused
by ``resume``. Each classifier's per-frame predictions go to ``predictions.csv``; the summary
(train/grid_summary.py) pools them with patient-cluster bootstrap intervals and paired tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from echosr_edge.data.camus import read_camus
from echosr_edge.data.layout import locate
from echosr_edge.data.records import QUALITIES, TASK_LABELS, Frame
from echosr_edge.data.summary import table1
from echosr_edge.data.tasks import TASKS, patient_folds, task_sets_for
from echosr_edge.errors import ConfigError
from echosr_edge.train.arms import enhance, fidelity, model_restorer
from echosr_edge.train.experiment_config import (
    DeviationError,
    ExperimentConfig,
    config_from_dict,
    deviations,
    paper_checks,
)
from echosr_edge.train.gated import (
    classifier_tests,
    enhance_unenhanced_tiers,
    gated_cell,
    gated_rows,
    mixed_test_frames,
    quality_cell,
    sr_arms,
    summarise_gated,
)
from echosr_edge.train.grid_cells import CellHook, CellStore
from echosr_edge.train.grid_files import DECISION_COLUMNS, PREDICTION_COLUMNS, read_table, write_table
from echosr_edge.train.grid_summary import prediction_rows, summarise

log = logging.getLogger(__name__)
RESULTS_SCHEMA = "echosr-edge/experiments"
RESULTS_VERSION = 3  # 3: intervals resample repeats too; paired differences carry per_repeat, classifiers and evidence
Progress = Callable[[str], None]


def _fold_seed(repeat: int, fold: int) -> int:
    return repeat * 100 + fold


def _where(start: Path | None, cell: Path) -> str | None:
    """A starting-weights file as recorded: relative to the cells folder when it is another cell."""
    if start is None:
        return None
    try:
        return f"cells/{Path(start).relative_to(cell.parent.parent)}"  # cells/<fold or shared>/<cell>
    except ValueError:
        return str(start)


def _train_sr_cell(kind: str, frames: list[Frame], path: Path, config: ExperimentConfig, seed: int, start: Path | None,
                   resume: bool):
    """Fine-tune one SR model into ``path`` (per-epoch state beside it, continued under ``resume``); returns (model, meta)."""
    from echosr_edge.models.checkpoint import save_checkpoint
    from echosr_edge.train.gan import train_srgan
    from echosr_edge.train.loop import Checkpointing
    from echosr_edge.train.sr import train_sr

    files = Checkpointing.beside(path, resume=resume)
    base = config.schedule.sr if kind == "srresnet" else config.schedule.srgan
    cfg = replace(base, seed=seed, device=config.device, pretrained=start, downsample=config.downsample)
    meta = {"role": "sr", "model": kind, "hr_size": cfg.hr_size, "scale": cfg.scale, "train_frames": len(frames),
            "init": "pretrained" if start else cfg.init, "pretrained": _where(start, path)}
    if kind == "srresnet":
        model, history = train_sr(frames, cfg, checkpointing=files)
        meta["content_loss"] = "mse"
    else:
        cfg = replace(cfg, vgg_weights=config.vgg_weights)
        model, history, losses = train_srgan(frames, cfg, checkpointing=files)
        meta.update(losses)
    meta["epochs_run"] = len(history)
    save_checkpoint(path, model, cfg.arch, {"features": cfg.features, "blocks": cfg.blocks, "scale": cfg.scale}, meta)
    files.state_path.unlink(missing_ok=True)
    return model, meta


def _sr_models(store: CellStore, config: ExperimentConfig, repeat: int | None, fold: int | None, good: list[Frame], say: Progress):
    """This fold's SR models (trained, or read back under resume) and their metadata."""
    from echosr_edge.models.checkpoint import load_checkpoint

    models, metas = {}, {}
    seed = 0 if repeat is None else _fold_seed(repeat, fold)
    for kind in config.sr_models:
        path = store.sr_path(repeat, fold, kind)
        label = f"{'shared' if repeat is None else f'r{repeat} f{fold}'} {kind}"
        if store.done(path):
            models[kind], meta = load_checkpoint(path)
            metas[kind] = {k: v for k, v in meta.items() if k not in ("arch", "config")}
            store.mark(label, skipped=True)
            continue
        start = config.pretrained_for(kind)
        if kind == "srgan" and config.srgan_from_srresnet and "srresnet" in models:
            start = store.sr_path(repeat, fold, "srresnet")
        say(f"{label}: fine-tuning on {len(good)} good frames")
        models[kind], metas[kind] = _train_sr_cell(kind, good, path, config, seed, start, store.resume)
        store.mark(label, skipped=False)
    return models, metas


def _external_models(config: ExperimentConfig) -> dict:
    from echosr_edge.models.checkpoint import load_checkpoint

    models = {}
    for name, path in config.sr_checkpoints:
        model, meta = load_checkpoint(path)
        if meta.get("role") != "sr" or int(meta.get("scale", config.scale)) != config.scale:
            raise DeviationError(f"--sr-checkpoint {name}={path}: not an x{config.scale} SR checkpoint")
        models[name] = model
    return models


def _predict(model, frames: list[Frame], task: str, size: int, device: str) -> dict:
    import torch

    from echosr_edge.train.classifier import make_inputs
    from echosr_edge.train.common import pick_device, predict_batches

    model = model.to(pick_device(device))
    x, _ = make_inputs(frames, task, size)
    logits = predict_batches(model, x) if len(x) else np.zeros((0, len(TASK_LABELS[task])), np.float32)
    prob = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    pred = prob.argmax(1) if len(prob) else np.zeros(0, int)
    return {"keys": [f.key for f in frames], "pred": pred.tolist(), "p": [float(prob[i, k]) for i, k in enumerate(pred)]}


def _classifier_cell(train: list[Frame], tests: dict[str, list[Frame]], task: str, config: ExperimentConfig, seed: int, augment: str):
    def compute() -> dict:
        from echosr_edge.train.classifier import train_classifier

        cfg = replace(config.schedule.classifier, task=task, seed=seed, device=config.device,
                      imagenet_weights=config.imagenet_weights, augment=augment)
        model, _ = train_classifier(train, cfg)
        return {"train_frames": len(train), "epochs": cfg.epochs_for(len(train)),
                "tests": {name: _predict(model, fs, task, config.classifier_size, config.device)
                                                      for name, fs in tests.items()}}

    return compute


def _fold_cells(store, config, repeat, fold, sets, arms_frames, say) -> dict:
    """Every classifier cell of one fold: {task: {classifier name: cell}}."""
    seed = _fold_seed(repeat, fold)
    enhanced_arms = [a for a in config.arms if a != "none"]

    def side(arm: str, tier: str, index: int) -> list[Frame]:
        return [arms_frames[arm if tier == "poor" else "none"][f.key] for f in sets[tier][index]]

    cells: dict = {}
    for task in TASKS:
        cells[task] = {}
        plain_tests = {f"none|{t}": side("none", t, 1) for t in QUALITIES}
        arm_tests = {**plain_tests, **{f"{a}|poor": side(a, "poor", 1) for a in enhanced_arms}}
        for tier in QUALITIES:
            tests = dict(arm_tests)
            if tier == "good" and gated_cell(config) == "plain_good":  # the gated pipeline's classifier: SR on good and medium too
                tests.update(classifier_tests(arms_frames, sets, config))
            say(f"r{repeat} f{fold} {task}: classifier on {tier}")
            cells[task][f"plain_{tier}"] = store.classifier(
                repeat, fold, task, f"plain_{tier}", _classifier_cell(side("none", tier, 0), tests, task, config, seed, "none"))
        if sr_arms(config) and gated_cell(config) == "plain_all":  # the gated pipeline's classifier: every tier's training frames, as the product's
            tests = {**arm_tests, **classifier_tests(arms_frames, sets, config)}
            say(f"r{repeat} f{fold} {task}: classifier on every tier (the gated pipeline's)")
            train = [f for tier in QUALITIES for f in side("none", tier, 0)]
            cells[task]["plain_all"] = store.classifier(
                repeat, fold, task, "plain_all", _classifier_cell(train, tests, task, config, seed, "none"))
        for arm in enhanced_arms:
            tests = {f"{arm if t == 'poor' else 'none'}|{t}": side(arm, t, 1) for t in QUALITIES}
            cells[task][f"enhanced_{arm}"] = store.classifier(
                repeat, fold, task, f"enhanced_{arm}", _classifier_cell(side(arm, "poor", 0), tests, task, config, seed, "none"))
        if config.augmented:
            for tier in QUALITIES:
                cells[task][f"augmented_{tier}"] = store.classifier(
                    repeat, fold, task, f"augmented_{tier}", _classifier_cell(side("none", tier, 0), plain_tests, task, config, seed, "robust"))
    return cells


def _quality(store, config, repeat, fold, frames, test_patients, arms_frames, sets, chain, say) -> dict:
    """The fold's quality-model cell: trained on every training-side frame (the HR frame, as the runtime sees it)."""
    def compute() -> dict:
        train = [f for f in frames if f.patient not in test_patients]
        train_hr = enhance("none", train, *chain)
        test = [arms_frames["none"][f.key] for f in mixed_test_frames(sets)]
        return quality_cell(train_hr, test, config, _fold_seed(repeat, fold), _predict)()

    say(f"r{repeat} f{fold}: quality model for the gated pipeline")
    return store.classifier(repeat, fold, "gated", "quality", compute)


def _fingerprint(frames: list[Frame]) -> str:
    return hashlib.sha256("\n".join(sorted(f.key + ":" + f.quality for f in frames)).encode()).hexdigest()[:16]


def read_checked(root: Path, config: ExperimentConfig):
    """Read the tree after checking its patient count from the listing; refuse a paper run on a short tree."""
    listed = len(locate(root).patients)
    paper_checks(config, listed, 4 * listed)
    tree = read_camus(root)
    if not tree.frames:
        raise ConfigError(f"no readable frames under {root}")
    if tree.skipped and config.name == "paper" and not config.allow_deviation:
        raise DeviationError(f"{len(tree.skipped)} patient(s) unreadable, first: {tree.skipped[0]}; pass --allow-deviation to run without them")
    paper_checks(config, len(tree.patients), len(tree.frames))
    return tree


def run_experiments(
    root: Path, out: Path, config: ExperimentConfig, progress: Progress | None = None, *, resume: bool = False,
    on_cell: CellHook | None = None,
) -> dict:
    """Run the grid on the CAMUS tree ``root``; write results.json and predictions.csv to ``out``."""
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tree = read_checked(root, config)
    frames = tree.frames
    by_key = {f.key: f for f in frames}
    store = CellStore(out / "cells", resume, on_cell)
    store.check_settings({"config": config.to_dict(), "data": _fingerprint(frames)})
    external = _external_models(config)
    say(f"{len(frames)} frames of {len(tree.patients)} patients; {config.folds} folds × {config.repeats} repeat(s), "
        f"arms {', '.join(config.arms)}")
    shared = None
    if config.sr_data == "all":
        shared = _sr_models(store, config, None, None, [f for f in frames if f.quality == "good"], say)
    all_cells, quality_cells, fid, sr_meta = [], [], {}, {}
    for repeat in range(config.repeats):
        for fold, test_patients in enumerate(patient_folds(frames, config.folds, repeat)):
            sets = task_sets_for(frames, test_patients, QUALITIES, "poor", _fold_seed(repeat, fold))
            train_good = [f for f in frames if f.quality == "good" and f.patient not in test_patients]
            models, metas = shared or _sr_models(store, config, repeat, fold, train_good, say)
            for kind, meta in metas.items():
                sr_meta.setdefault(kind, []).append({"repeat": repeat, "fold": fold, **meta})
            restorers = {k: model_restorer(m, config.device) for k, m in {**models, **external}.items()}
            chain = (config.hr_size, config.scale, config.enhance_mode)
            in_sets = list({f.key: f for t in QUALITIES for s in sets[t] for f in s}.values())
            poor = [f for f in in_sets if f.quality == "poor"]
            arms_frames = {"none": {f.key: e for f, e in zip(in_sets, enhance("none", in_sets, *chain))}}
            for arm in config.arms[1:]:
                arms_frames[arm] = {f.key: e for f, e in zip(poor, enhance(arm, poor, *chain, restorers.get(arm), config.downsample))}
            enhance_unenhanced_tiers(arms_frames, sets, config, chain, restorers)
            test_good = [f for f in frames if f.quality == "good" and f.patient in test_patients]
            for arm in config.arms[1:]:
                fid.setdefault(arm, []).append(fidelity(arm, test_good, *chain, restorers.get(arm), config.downsample))
            cells = _fold_cells(store, config, repeat, fold, sets, arms_frames, say)
            all_cells.append((repeat, fold, cells))
            if sr_arms(config):
                quality_cells.append(_quality(store, config, repeat, fold, frames, test_patients, arms_frames, sets, chain, say))
    rows = prediction_rows(all_cells, by_key, config)
    gated, decisions = gated_rows(all_cells, quality_cells, by_key, config) if quality_cells else ([], [])
    rows += gated
    write_table(out / "predictions.csv", PREDICTION_COLUMNS, rows)
    if decisions:
        write_table(out / "gated.csv", DECISION_COLUMNS, decisions)
    srgan_loss = sr_meta["srgan"][0].get("content_loss") if "srgan" in sr_meta else None
    departures = deviations(config, len(tree.patients), len(frames), srgan_loss)
    if tree.skipped:
        departures.append(f"{len(tree.skipped)} patient(s) unreadable and left out: {', '.join(str(e) for e in tree.skipped[:3])}")
    results = summarise(rows, config)
    results.update({
        "schema": RESULTS_SCHEMA,
        "version": RESULTS_VERSION,
        "config": config.to_dict(),
        "arms": list(config.arms) + (["augmented"] if config.augmented else []),
        "deviations": departures,
        "data": {"root": str(root), "release": tree.release, "patients": len(tree.patients), "frames": len(frames),
                 "table1": table1(frames)},
        "sr_fidelity": _mean_fidelity(fid, config),
        "gated": summarise_gated(rows, decisions, config),
        "sr_models": sr_meta,
        "cells": {"computed": store.computed, "skipped": store.skipped},
        "predictions": "predictions.csv",
        "gated_decisions": "gated.csv" if decisions else None,
        "seconds": time.perf_counter() - started,
    })
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


def reanalyse(out: Path, bootstrap: int | None = None) -> dict:
    """Recompute a finished grid's statistics from its ``predictions.csv`` (and ``gated.csv``); nothing is trained.

    Rewrites ``OUT/results.json`` with this version's intervals and tests and returns it. The
    training, fidelity and data sections are kept as the grid wrote them. ``bootstrap``: resamples
    (default: the grid's).
    """
    out = Path(out)
    path = out / "results.json"
    if not path.is_file():
        raise ConfigError(f"{path}: not found; give the --out folder of a finished `train experiments` run")
    try:
        results = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(results, dict) or results.get("schema") != RESULTS_SCHEMA or "config" not in results:
        raise ConfigError(f"{path}: not a `train experiments` results file (schema {RESULTS_SCHEMA!r})")
    config = config_from_dict(results["config"])
    if bootstrap is not None:
        config = replace(config, bootstrap=bootstrap)
    rows = read_table(out / "predictions.csv", PREDICTION_COLUMNS)
    decisions = read_table(out / "gated.csv", DECISION_COLUMNS) if results.get("gated_decisions") else []
    results.update(summarise(rows, config))
    results.update({"gated": summarise_gated(rows, decisions, config), "config": config.to_dict(), "version": RESULTS_VERSION,
                    "reanalysed": {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "bootstrap": config.bootstrap,
                                   "from": ["predictions.csv"] + (["gated.csv"] if decisions else [])}})
    path.write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


def _mean_fidelity(per_fold: dict, config: ExperimentConfig) -> dict:
    held_out = config.sr_data != "all"
    out = {}
    for arm, folds in per_fold.items():
        keys = [k for k in folds[0] if isinstance(folds[0][k], float)]
        out[arm] = {k: float(np.mean([f[k] for f in folds])) for k in keys}
        out[arm].update({"frames": int(sum(f["frames"] for f in folds)), "folds": len(folds), "reference": folds[0].get("reference"),
                         "frames_are": "held-out good frames (the fold's test patients)" if held_out or arm in ("bicubic", "nlmeans")
                         else "good frames of the fold's test patients, also in SR training (--sr-data all): not held out"})
    return out
