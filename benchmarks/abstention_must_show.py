"""Issue 20's must-show numbers 1-3, from a bundle with calibration and an OOD gate (the demo's).

usage: python benchmarks/abstention_must_show.py BUNDLE OUT [--patients 60] [--outliers 60]
           [--devices cpu,intel-cpu] [--precision int8] [--seed 1000] [--style sim] [--crop]

Everything runs through the deployed artifacts (INT8 by default) with the runtime's own
pipeline, on data none of the models saw:

1. held-out cardiac frames: a fresh synthetic CAMUS tree (``--patients``, even quality mix, a
   seed the demo never uses, ``--style`` sim as the demo simulates its data; ``--data`` keeps
   the tree there and reuses it): coverage per quality tier at the stored thresholds, which check
   refused each tier's frames, and plain vs selective accuracy of view and phase (plain: every frame's arg-max; selective: answered ones);
2. non-cardiac frames: ``--outliers`` frames of each held-out kind (data/outliers.py HELD_OUT,
   never in training) and as many of the training kinds on a fresh seed: the share refused, per
   device profile. Beside the dedicated gate, the energy score −logsumexp(view logits) with its
   threshold set the same way (99 % of the cardiac frames accepted) — the alternative it was
   chosen over, by this measurement;
3. ECE of view and phase before (T = 1) and after (the bundle's T) calibration on the fresh
   cardiac frames, as the classifiers see them at run time (SR-enhanced), and the training
   report's numbers (fitted on the training split's held-out patients) from the manifest.

``--crop`` crops each frame to its sector first, as ``run`` does by default (batch and the demo
do not). OUT/abstention.json and OUT/abstention.md hold the results.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pipeline(bundle: Path, device: str, precision: str, crop: bool = False):
    from echosr_edge.devices.detect import detect_devices
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.session import open_session

    runnable = {s.name: s for s in detect_devices() if s.available}
    if device not in runnable:
        return None
    profile = get_profile(device).with_formats(runnable[device].formats)
    pipeline = open_session(bundle, profile, precision=precision, enhance="always", crop=crop, startup_check=False).pipeline
    if crop:
        from echosr_edge.runtime.sector import SectorCropper

        pipeline.sector = SectorCropper(every=1)  # every frame is another scan: detect its sector afresh
    return pipeline


def _measure(pipeline, frames: list[np.ndarray]) -> dict:
    """Per frame: accepted, reason, OOD score, the view/phase logits on the image the classifiers saw."""
    from echosr_edge.runtime.pipeline import classifier_logits

    out = {"accepted": [], "reason": [], "ood": [], "logits": {c.name: [] for c in pipeline.classifiers}}
    for frame in frames:
        result = pipeline.process(frame)
        out["accepted"].append(result.accepted)
        out["reason"].append(result.abstain_reason)
        out["ood"].append(result.ood_score)
        for clf in pipeline.classifiers:
            out["logits"][clf.name].append(classifier_logits(clf, result.enhanced))
    out["accepted"] = np.array(out["accepted"], bool)
    out["logits"] = {k: np.stack(v).astype(np.float64) for k, v in out["logits"].items()}
    return out


def _energy(logits: np.ndarray) -> np.ndarray:
    m = logits.max(axis=1, keepdims=True)
    return -(m[:, 0] + np.log(np.exp(logits - m).sum(axis=1)))


def _placed_threshold(probs: np.ndarray, hits: np.ndarray, tiers: np.ndarray, patients: np.ndarray, rounds: int = 500) -> dict:
    """What a low-confidence threshold placed by train/calibrate.py's rule would do, were there enough
    frames: fitted on half the fresh patients' deployed probabilities, tested on the other half, ``rounds`` splits."""
    from echosr_edge.train.calibrate import min_confidence_for

    rng = np.random.default_rng(0)
    names = np.unique(patients)
    answered, gain, per_tier = [], [], {t: [] for t in ("good", "medium", "poor")}
    for _ in range(rounds):
        fit = np.isin(patients, rng.permutation(names)[: len(names) // 2])
        threshold = min_confidence_for(probs[fit])
        if threshold is None:
            return {"placed": False}
        kept = probs[~fit].max(axis=1) >= threshold
        answered.append(kept.mean())
        gain.append(hits[~fit][kept].mean() - hits[~fit].mean())
        for t in per_tier:
            per_tier[t].append(kept[tiers[~fit] == t].mean())
    return {"placed": True, "fit_frames": int(fit.sum()), "rounds": rounds, "answered_mean": float(np.mean(answered)),
            "answered_worst": float(np.min(answered)), "answered_by_tier": {t: float(np.mean(v)) for t, v in per_tier.items()},
            "selective_minus_plain_mean": float(np.mean(gain))}


def run(bundle: Path, out: Path, patients: int, n_outliers: int, devices: list[str], precision: str, seed: int,
        style: str = "sim", crop: bool = False, data: Path | None = None) -> dict:
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.outliers import HELD_OUT, TRAINING_KINDS, outlier_frames
    from echosr_edge.data.preprocess import resize_unit
    from echosr_edge.data.synth import write_synthetic_camus
    from echosr_edge.train.calibrate import expected_calibration_error, softmax

    manifest = open_bundle(bundle)
    hr = int(manifest.classifiers()[0].preprocessing["hr_size"])
    if data is not None and (Path(data) / "done").exists():
        cardiac = read_camus(data).frames
    elif data is not None:
        cardiac = read_camus(write_synthetic_camus(data, patients=patients, seed=seed, quality_mix="even", style=style)).frames
        (Path(data) / "done").write_text("")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            root = write_synthetic_camus(Path(tmp) / "heldout", patients=patients, seed=seed, quality_mix="even", style=style)
            cardiac = read_camus(root).frames
    size = cardiac[0].image.shape
    held = outlier_frames(n_outliers * len(HELD_OUT), HELD_OUT, seed=seed + 1, size=size)
    trained = outlier_frames(n_outliers, TRAINING_KINDS, seed=seed + 2, size=size)

    def u8(image):
        # With the crop on, the frame at its own size (the crop needs the borders); off, at the models' size.
        unit = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0) if crop else resize_unit(image, hr)
        return (np.clip(unit, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)

    report: dict = {"bundle": str(bundle), "precision": precision, "held_out_patients": patients, "seed": seed,
                    "style": style, "crop": crop,
                    "cardiac_frames": len(cardiac), "held_out_kinds": list(HELD_OUT), "held_out_outliers": len(held),
                    "training_kind_outliers": len(trained), "real_non_cardiac": "none (no such recordings offline here)",
                    "training_report": {m.name: m.calibration for m in manifest.classifiers() if m.calibration},
                    "ood_entry": next((m.ood for m in manifest.classifiers() if m.ood), {}), "devices": {}}
    for device in devices:
        started = time.perf_counter()
        pipeline = _pipeline(bundle, device, precision, crop)
        if pipeline is None:
            report["devices"][device] = {"status": "not available on this machine"}
            continue
        art = {n: f"{a.format}/{a.precision}" for n, a in pipeline.artifacts.items()}
        c = _measure(pipeline, [u8(f.image) for f in cardiac])
        h = _measure(pipeline, [u8(f.image) for f in held])
        t = _measure(pipeline, [u8(f.image) for f in trained])
        row: dict = {"artifacts": art, "tiers": {}, "ece": {}}
        tiers = np.array([f.quality for f in cardiac])
        for tier in ("good", "medium", "poor", "all"):
            sel = np.ones(len(cardiac), bool) if tier == "all" else tiers == tier
            acc = c["accepted"][sel]
            entry = {"frames": int(sel.sum()), "coverage": float(acc.mean()), "answered": int(acc.sum())}
            why = [c["reason"][i] for i in np.flatnonzero(sel) if c["reason"][i]]
            entry["refused_by"] = {r: why.count(r) for r in sorted(set(why))}
            for clf in pipeline.classifiers:
                truth = np.array([clf.labels.index(f.label(clf.name)) for f in cardiac])[sel]
                hits = c["logits"][clf.name][sel].argmax(1) == truth
                entry[f"{clf.name}_accuracy"] = float(hits.mean())
                entry[f"{clf.name}_selective_accuracy"] = float(hits[acc].mean()) if acc.any() else None
                entry[f"{clf.name}_correct"] = [int(hits.sum()), int(hits[acc].sum())]  # plain, selective
            row["tiers"][tier] = entry
        reasons = [r for r in c["reason"] if r]
        row["cardiac_refused_by"] = {r: reasons.count(r) for r in set(reasons)}
        row["held_out_refused"] = float((~h["accepted"]).mean())
        row["held_out_refused_not_cardiac"] = float(np.mean([r == "not a cardiac view" for r in h["reason"]]))
        row["training_kinds_refused"] = float((~t["accepted"]).mean())
        kinds = [f.meta["kind"] for f in trained]
        row["training_kinds_refused_by_kind"] = {
            k: float(np.mean([not a for a, kind in zip(t["accepted"], kinds) if kind == k])) for k in TRAINING_KINDS if k in kinds}
        row["placed_threshold"] = {}
        for clf in pipeline.classifiers:
            truth = np.array([clf.labels.index(f.label(clf.name)) for f in cardiac])
            logits = c["logits"][clf.name]
            probs = softmax(logits, clf.temperature)
            row["placed_threshold"][clf.name] = _placed_threshold(probs, probs.argmax(1) == truth, tiers,
                                                                  np.array([f.patient for f in cardiac]))
            row["ece"][clf.name] = {"temperature": clf.temperature,
                                    "before": expected_calibration_error(softmax(logits), truth),
                                    "after": expected_calibration_error(softmax(logits, clf.temperature), truth)}
        view = next(clf.name for clf in pipeline.classifiers if clf.name.startswith("view"))
        e_in = _energy(c["logits"][view])
        threshold = float(np.quantile(e_in, 0.99, method="higher"))
        row["energy_score"] = {"threshold": threshold, "cardiac_accepted": float((e_in <= threshold).mean()),
                               "held_out_refused": float((_energy(h["logits"][view]) > threshold).mean()),
                               "training_kinds_refused": float((_energy(t["logits"][view]) > threshold).mean())}
        row["seconds"] = round(time.perf_counter() - started, 1)
        report["devices"][device] = row
    out.mkdir(parents=True, exist_ok=True)
    (out / "abstention.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "abstention.md").write_text(markdown(report))
    return report


def _p(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def markdown(report: dict) -> str:
    lines = ["# Abstention must-show", "",
             f"Bundle `{report['bundle']}`, {report['precision']} artifacts; {report['cardiac_frames']} cardiac frames of "
             f"{report['held_out_patients']} fresh synthetic patients ({report.get('style', 'simple')} style, even quality mix, "
             f"seed {report['seed']}, sector crop {'on' if report.get('crop') else 'off'}); "
             f"{report['held_out_outliers']} outliers of the held-out kind(s) {', '.join(report['held_out_kinds'])}; "
             f"{report['training_kind_outliers']} of the training kinds on a fresh seed. Real non-cardiac recordings: "
             f"{report['real_non_cardiac']}.", ""]
    ood = report["ood_entry"]
    if ood:
        lines += [f"OOD gate threshold {ood['threshold']:.3f} on {ood.get('score')} (set to accept "
                  f"{ood.get('coverage_target', 0):.0%} of {ood.get('in_distribution_frames')} held-out cardiac frames).", ""]
    for device, row in report["devices"].items():
        lines += [f"## {device}", ""]
        if "status" in row:
            lines += [row["status"], ""]
            continue
        lines += ["artifacts: " + ", ".join(f"{k} {v}" for k, v in row["artifacts"].items()), "",
                  "| tier | frames | answered | coverage | refused by | view plain → selective | phase plain → selective |",
                  "|---|---|---|---|---|---|---|"]
        for tier, e in row["tiers"].items():
            lines.append(f"| {tier} | {e['frames']} | {e['answered']} | {_p(e['coverage'])} | "
                         f"{', '.join(f'{r} {n}' for r, n in e['refused_by'].items()) or '—'} | "
                         + " | ".join(f"{_p(e.get(f'{k}_accuracy'))} ({e[f'{k}_correct'][0]}) → "
                                      f"{_p(e.get(f'{k}_selective_accuracy'))} ({e[f'{k}_correct'][1]})"
                                      for k in ("view", "phase") if f"{k}_correct" in e) + " |")
        en = row["energy_score"]
        lines += ["", f"cardiac frames refused by: {row['cardiac_refused_by'] or 'none'}", "",
                  f"- held-out kind refused: **{_p(row['held_out_refused'])}** (as not a cardiac view: {_p(row['held_out_refused_not_cardiac'])})",
                  f"- training kinds (fresh seed) refused: {_p(row['training_kinds_refused'])} — "
                  + ", ".join(f"{k} {_p(v)}" for k, v in row["training_kinds_refused_by_kind"].items()),
                  f"- energy score on the view logits instead (threshold at 99 % of cardiac frames): held-out kind refused "
                  f"{_p(en['held_out_refused'])}, training kinds {_p(en['training_kinds_refused'])}",
                  "", "| classifier | T | ECE before | ECE after |", "|---|---|---|---|"]
        for name, e in row["ece"].items():
            lines.append(f"| {name} | {e['temperature']:.3f} | {e['before']:.4f} | {e['after']:.4f} |")
        for name, e in row.get("placed_threshold", {}).items():
            if e.get("placed"):
                lines.append(f"- {name}: a low-confidence threshold placed by the 99 % rule on {e['fit_frames']} of these frames "
                             f"answers {_p(e['answered_mean'])} of the rest on average (worst of {e['rounds']} patient splits "
                             f"{_p(e['answered_worst'])}; " + ", ".join(f"{t} {_p(v)}" for t, v in e["answered_by_tier"].items())
                             + f"); selective − plain accuracy {e['selective_minus_plain_mean'] * 100:+.2f} points")
        lines += ["", f"({row['seconds']} s)", ""]
    lines += ["## Training report (T fitted on the training split's held-out patients, PyTorch FP32, raw frames)", "",
              "| model | T | ECE before | ECE after | frames | min confidence |", "|---|---|---|---|---|---|"]
    for name, cal in report["training_report"].items():
        lines.append(f"| {name} | {cal['temperature']:.3f} | {cal['ece_before']:.4f} | {cal['ece_after']:.4f} | {cal['frames']} | "
                     f"{cal.get('min_confidence', '—')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--outliers", type=int, default=60, help="frames per held-out kind, and of the training kinds")
    parser.add_argument("--devices", default="cpu,intel-cpu")
    parser.add_argument("--precision", default="int8")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--style", default="sim", choices=("sim", "simple"), help="the demo simulates (sim)")
    parser.add_argument("--crop", action="store_true", help="crop to the sector first, as run does by default")
    parser.add_argument("--data", type=Path, help="keep the held-out cardiac tree here and reuse it")
    args = parser.parse_args()
    report = run(args.bundle, args.out, args.patients, args.outliers, args.devices.split(","), args.precision, args.seed,
                 args.style, args.crop, args.data)
    print(markdown(report))


if __name__ == "__main__":
    main()
