"""Issue 6's checks on a real (demo) bundle: intel-cpu vs cpu labels, and the runtime's peak memory.

usage: python benchmarks/runtime_must_show.py DEMO_DIR [--out DIR] [--source SOURCE]

DEMO_DIR is the output of `echosr-edge demo --out DEMO_DIR` (bundle/ and demo.mp4). The bundle
is copied; one without OpenVINO artifacts is given IR converted from its ONNX models
(tests/runtime/openvino_ir.py), one exported with them (the demo's) runs the exporter's IR. Then `echosr-edge run` runs as a child process per device
and precision, headless with a JSON-lines log; the script reads each child's peak RSS from
wait4() and has the child report whether any torch module was ever imported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from echosr_edge.bench.runner import machine_info  # noqa: E402

CHILD = """
import sys
from echosr_edge.cli import main
try:
    main(sys.argv[1:], prog_name="echosr-edge", standalone_mode=False)
finally:
    heavy = sorted(m for m, mod in sys.modules.items() if mod is not None and m.split(".")[0] in ("torch", "torchvision", "nncf"))
    print("HEAVY_MODULES=" + ",".join(heavy), file=sys.stderr)
"""


def run_child(args: list[str], workdir: Path) -> dict:
    """Run `echosr-edge ARGS` in a fresh interpreter: its own peak RSS (wait4), wall time, heavy modules, output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out_path, err_path = workdir / "child.stdout", workdir / "child.stderr"
    start = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text()
    heavy = next((line.split("=", 1)[1] for line in stderr.splitlines() if line.startswith("HEAVY_MODULES=")), "?")
    return {
        "args": args,
        "returncode": proc.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports kilobytes
        "heavy_modules": heavy,
        "stdout": out_path.read_text().strip(),
        "start_up": [line for line in stderr.splitlines()
                     if line.startswith(("device ", "start-up", "warning", "--enhance")) or "missed its export budget" in line],
        "stderr_tail": stderr.strip().splitlines()[-3:],
    }


def labels_of(log: Path) -> list[dict]:
    records = [json.loads(line) for line in log.read_text().splitlines()]
    return [r["labels"] for r in records if "event" not in r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demo", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/rt-must-show"))
    parser.add_argument("--source", help="frames to run (default: DEMO_DIR/demo.mp4)")
    args = parser.parse_args()
    from tests.runtime.openvino_ir import add_openvino_artifacts

    out = args.out
    if out.exists():
        shutil.rmtree(out)
    bundle = Path(shutil.copytree(args.demo / "bundle", out / "bundle"))
    from echosr_edge.bundle.integrity import open_bundle

    if not any(a.format == "openvino" for m in open_bundle(bundle).models for a in m.artifacts):
        add_openvino_artifacts(bundle, ("fp32", "int8"))
    video = args.source or str(args.demo / "demo.mp4")
    from echosr_edge.runtime.sources import open_source

    frame_count = sum(1 for _ in open_source(video).frames())

    runs, logs = [], {}
    for precision in (None, "int8", "fp32"):  # the devices' own choice, then every model pinned
        for device in ("intel-cpu", "cpu"):
            key = f"{device}/{precision or 'default'}"
            log = out / f"{device}.{precision or 'default'}.jsonl"
            cli = ["run", "--bundle", str(bundle), "--device", device, "--source", str(video), "--headless", "--log", str(log)]
            if precision:
                cli += ["--precision", precision]
            result = run_child(cli, out)
            result["frames_logged"] = len(labels_of(log)) if log.exists() else 0
            runs.append({"config": key, **result})
            logs[key] = labels_of(log) if log.exists() else []
    agreement = {}
    for precision in ("default", "int8", "fp32"):
        a, b = logs[f"intel-cpu/{precision}"], logs[f"cpu/{precision}"]
        n = min(len(a), len(b))
        agreement[precision] = {
            "frames": n,
            "all_labels_equal": round(sum(x == y for x, y in zip(a, b)) / max(n, 1), 4),
            **{task: round(sum(x[task] == y[task] for x, y in zip(a, b)) / max(n, 1), 4) for task in (a[0] if a else {})},
        }
    report = {"machine": machine_info(), "source": video, "source_frames": frame_count, "runs": runs, "agreement_intel_cpu_vs_cpu": agreement}
    (out / "must_show.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
