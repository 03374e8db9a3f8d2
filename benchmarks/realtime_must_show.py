"""Issue 11's must-show, reproducible with one command: the real-time profile, end to end.

usage: python benchmarks/realtime_must_show.py OUT [--patients 60] [--classifier-size 128]
           [--realtime-size 64] [--student rfdn] [--with-srgan] [--frontier-devices intel-cpu]

1. train (a child process under `nice -n 10`): a synthetic CAMUS tree (even quality mix, so
   poor frames are many); the teacher SRResNet on the smoke schedule at the product's default
   HR 256 (LR 64); ESPCN and RFDN distilled from it; view and phase ResNet-18s trained on GOOD
   frames only (the study's Fig. 4 b/d "trained on good") at --classifier-size (the default
   profile) and at --realtime-size (the realtime profile); optionally the SRGAN generator.
2. `echosr-edge export … --profile realtime --student-checkpoint …` (ONNX + OpenVINO, FP32 + INT8).
3. `echosr-edge run --profile realtime --device intel-cpu --source demo.mp4 --headless --log …`
   three times at this process's priority; best-of-3 median per-frame end-to-end, with the load
   average before and after each run; then three runs with --threads 1 (how much is contention).
4. `echosr-edge bench --frontier` on the held-out good frames and every poor frame.
Everything lands in OUT; OUT/must_show.json and OUT/must_show.md summarise it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HR = 256


# Niced stages run one thread: on a shared 2-core box two threads at low priority spend their
# slices waiting for each other (the smoke teacher's epoch went from minutes to ~8 at load 10).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def cli(*args: str, nice: int | None = None, log: Path | None = None) -> str:
    """Run `echosr-edge ARGS` in a fresh interpreter; its stdout (stderr goes to ``log``)."""
    cmd = [sys.executable, "-m", "echosr_edge", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
        env.update(ONE_THREAD)
    with open(log or os.devnull, "a") as err:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stdout[-2000:]}")
    return done.stdout


def train(out: Path, args) -> dict:
    """Stage 1 (run niced): data, teacher, students, classifiers. Returns what each evaluated to."""
    from dataclasses import replace

    import torch

    torch.set_num_threads(1)
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.splits import split_patients
    from echosr_edge.data.synth_tree import write_synthetic_camus
    from echosr_edge.train.configs import SMOKE
    from echosr_edge.train.distill import DistillConfig
    from echosr_edge.train.jobs import distill_job, run_classifier, run_sr, run_srgan

    t0 = time.perf_counter()
    data = out / "data"
    if not data.exists():
        write_synthetic_camus(data, patients=args.patients, seed=args.seed, quality_mix="even")
    frames = read_camus(data).frames
    train_f, test_f = split_patients(frames, 0.2, args.seed)
    good_train = [f for f in train_f if f.quality == "good"]
    good_test = [f for f in test_f if f.quality == "good"]
    ckpt = out / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    seconds, evals = {}, {}

    def timed(name, fn):
        start = time.perf_counter()
        result = fn()
        seconds[name] = round(time.perf_counter() - start, 1)
        evals[name] = result.evaluation
        print(f"{name}: {seconds[name]} s {json.dumps(result.evaluation, default=float)[:300]}", flush=True)
        return result

    sr_config = replace(SMOKE.sr, hr_size=HR, seed=args.seed, device="cpu")
    teacher = timed("teacher", lambda: run_sr(good_train, good_test, ckpt / "sr.pt", sr_config))
    for student, cfg in (("espcn", {"anchor": True}), ("rfdn", {"features": args.rfdn_features, "blocks": args.rfdn_blocks, "anchor": True})):
        dcfg = DistillConfig(hr_size=HR, scale=4, epochs=args.distill_epochs, batch=16, lr=1e-3, patch_lr=8,
                             patches_per_frame=8, seed=args.seed, device="cpu", lr_schedule="cosine", student=student,
                             student_config=cfg)
        timed(student, lambda: distill_job(data, ckpt / f"{student}.pt", teacher.checkpoint, dcfg))  # noqa: B023 (called in this iteration)
    if args.with_srgan:
        gcfg = replace(SMOKE.srgan, hr_size=HR, seed=args.seed, device="cpu", pretrained=teacher.checkpoint)
        timed("srgan", lambda: run_srgan(good_train, good_test, ckpt / "srgan.pt", gcfg))
    clf_test = test_f
    for size in sorted({args.classifier_size, args.realtime_size}):
        for task in ("view", "phase"):
            ccfg = replace(SMOKE.classifier, task=task, input_size=size, seed=args.seed, device="cpu")
            timed(f"{task}_{size}", lambda: run_classifier(good_train, clf_test, ckpt / f"{task}_{size}.pt", ccfg, HR))  # noqa: B023 (called in this iteration)
    return {"seconds": seconds, "evaluations": evals, "train_seconds": round(time.perf_counter() - t0, 1),
            "frames": len(frames), "poor_frames": sum(f.quality == "poor" for f in frames),
            "held_out_good": len(good_test)}


def write_demo_video(out: Path, seed: int, count: int = 120) -> Path:
    """An MP4 of held-out patients' frames at the synthetic tree's native size (320×256)."""
    import numpy as np

    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.splits import split_patients
    from echosr_edge.data.synth_clinic import write_video

    _, test = split_patients(read_camus(out / "data").frames, 0.2, seed)
    images = [f.image for f in test]
    frames = np.stack([images[i % len(images)] for i in range(count)])
    return write_video(out / "demo.mp4", frames, "mp4v", fps=25.0)


def timed_runs(out: Path, bundle: Path, video: Path, repeats: int = 3, extra: tuple[str, ...] = ()) -> dict:
    """`echosr-edge run --profile realtime` ``repeats`` times: per-run median, best of them, load averages."""
    import numpy as np

    runs = []
    for i in range(repeats):
        log = out / f"run_realtime{''.join(extra).replace('-', '_')}_{i}.jsonl"
        log.unlink(missing_ok=True)
        before = os.getloadavg()
        stdout = cli("run", "--bundle", str(bundle), "--profile", "realtime", "--device", "intel-cpu", "--source", str(video),
                     "--headless", "--log", str(log), *extra, log=out / "run.stderr")
        after = os.getloadavg()
        records = [json.loads(line) for line in log.read_text().splitlines()]
        totals = [r["ms"]["total"] for r in records if "ms" in r]
        stages = {k: float(np.median([r["ms"][k] for r in records if "ms" in r and k in r["ms"]]))
                  for k in records[0]["ms"]}
        runs.append({"log": str(log), "frames": len(totals), "median_ms": float(np.median(totals)),
                     "p95_ms": float(np.percentile(totals, 95)), "stage_medians_ms": stages,
                     "enhanced_frames": sum(bool(r.get("enhanced")) for r in records),
                     "load_before": [round(x, 2) for x in before], "load_after": [round(x, 2) for x in after],
                     "stdout": stdout.strip()})
    best = min(runs, key=lambda r: r["median_ms"])
    return {"command": f"echosr-edge run --bundle {bundle} --profile realtime --device intel-cpu --source {video} "
                       f"--headless --log LOG {' '.join(extra)}".strip(),
            "runs": runs, "best_median_ms": best["median_ms"], "met": best["median_ms"] <= 33.0,
            "contended": any(r["load_before"][0] > 0.5 for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier-size", type=int, default=128, help="default profile classifiers (smoke: 128)")
    parser.add_argument("--realtime-size", type=int, default=64, help="realtime profile classifiers")
    parser.add_argument("--student", default="rfdn", choices=["rfdn", "espcn"], help="the realtime profile's student")
    parser.add_argument("--rfdn-features", type=int, default=24)
    parser.add_argument("--rfdn-blocks", type=int, default=2)
    parser.add_argument("--distill-epochs", type=int, default=10)
    parser.add_argument("--with-srgan", action="store_true", help="also train the SRGAN generator (smoke) for the frontier")
    parser.add_argument("--frontier-devices", default="intel-cpu", help="comma list of device profiles for the frontier")
    parser.add_argument("--frontier-runs", type=int, default=20)
    parser.add_argument("--stage", choices=["all", "train", "measure"], default="all")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "must_show.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}

    if args.stage == "train":
        summary["train"] = train(out, args)
        summary_path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
        return
    if args.stage == "all":
        # Training runs niced in a child, so the timed stages below run at this process's priority.
        cmd = ["nice", "-n", "10", sys.executable, __file__, str(out), "--stage", "train"] + sys.argv[2:]
        subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(ROOT), **ONE_THREAD})
        summary = json.loads(summary_path.read_text())

    from echosr_edge.bench.runner import machine_info

    ckpt, bundle = out / "checkpoints", out / "bundle"
    start = time.perf_counter()
    export_args = ["export", str(ckpt), "--out", str(bundle), "--targets", "onnx,openvino", "--precision", "fp32,int8",
                   "--calibration", str(out / "data"), "--calibration-frames", "32", "--verification-frames", "8", "--profile", "realtime", "--student-checkpoint",
                   str(ckpt / f"{args.student}.pt"), "--realtime-input-size", str(args.realtime_size), "--seed", str(args.seed)]
    summary["export"] = {"command": "echosr-edge " + " ".join(export_args),
                         "table": cli(*export_args, nice=10, log=out / "export.stderr"),
                         "seconds": round(time.perf_counter() - start, 1)}
    video = write_demo_video(out, args.seed)
    summary["machine"] = machine_info()
    summary["realtime_run"] = timed_runs(out, bundle, video)
    # The same command with one engine thread: on a box other work keeps busy, two threads per
    # engine wait on each other; this says how much of the time above is contention.
    summary["realtime_run_threads_1"] = timed_runs(out, bundle, video, extra=("--threads", "1"))
    start = time.perf_counter()
    frontier_args = ["bench", "--frontier", "--bundle", str(bundle), "--data", str(out / "data"), "--poor-frames", "all",
                     "--split-seed", str(args.seed), "--runs", str(args.frontier_runs), "--out", str(out / "frontier")]
    for device in args.frontier_devices.split(","):
        frontier_args += ["--device", device]
    summary["frontier"] = {"command": "echosr-edge " + " ".join(frontier_args),
                           "output": cli(*frontier_args, log=out / "frontier.stderr"),
                           "seconds": round(time.perf_counter() - start, 1)}
    summary_path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    rt = summary["realtime_run"]
    lines = [f"machine: {summary['machine']}",
             f"realtime run: best-of-3 median {rt['best_median_ms']:.1f} ms (≤ 33 ms: {rt['met']}); "
             f"runs {[round(r['median_ms'], 1) for r in rt['runs']]}; load before {[r['load_before'] for r in rt['runs']]}",
             f"with --threads 1: best-of-3 median {summary['realtime_run_threads_1']['best_median_ms']:.1f} ms; runs "
             f"{[round(r['median_ms'], 1) for r in summary['realtime_run_threads_1']['runs']]}",
             summary["frontier"]["output"]]
    (out / "must_show.md").write_text("\n\n".join(lines) + "\n")
    print("\n\n".join(lines))


if __name__ == "__main__":
    main()
