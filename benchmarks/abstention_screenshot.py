"""The live view refusing a frame that is not a cardiac view: a screenshot for docs/.

usage: python benchmarks/abstention_screenshot.py BUNDLE OUT.png [--kind eye] [--seconds 8]

Feeds a synthetic non-cardiac frame of ``--kind`` (data/outliers.py; 'eye' is the kind the gate
never saw in training) through the bundle's pipeline into a LiveHub served on loopback, and has
headless Chromium (Debian's ``chromium``) screenshot the page once frames have arrived. The
record the page shows is printed, so the screenshot can be matched with the pipeline's answer.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", default="eye")
    parser.add_argument("--seconds", type=float, default=8.0, help="virtual time the page gets before the shot")
    args = parser.parse_args()

    from echosr_edge.data.outliers import render_outlier
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.pipeline import load_pipeline
    from echosr_edge.runtime.run import result_record
    from echosr_edge.runtime.web import LiveHub, serve

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("needs Debian's chromium: apt-get install -y chromium")
    pipeline = load_pipeline(args.bundle, get_profile("cpu"), enhance="always")
    hr = pipeline.hr_size
    frame = render_outlier(args.kind, np.random.default_rng(7), size=(hr, hr))
    hub = LiveHub(snapshot_dir=Path(tempfile.mkdtemp()), enhance_mode="always", enhance_modes=("always", "never"))
    halt, shown = threading.Event(), {}

    def publish() -> None:
        index, start = 0, time.monotonic()
        while not halt.is_set():
            result = pipeline.process(frame)
            record = result_record(index, time.monotonic() - start, result)
            record.update(dropped=0, fps=5.0)
            shown["record"] = record
            hub.publish(frame, result.enhanced, record)
            index += 1
            halt.wait(0.2)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    with serve(hub, "127.0.0.1", 0, require_token=False) as handle:
        time.sleep(1.0)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1280,800", f"--virtual-time-budget={int(args.seconds * 1000)}",
                        f"--screenshot={args.out.resolve()}", handle.url],
                       check=True, capture_output=True, timeout=120)
    halt.set()
    thread.join(5)
    record = shown.get("record", {})
    print(json.dumps({k: record.get(k) for k in ("frame", "accepted", "abstain_reason", "ood_score", "labels")}))


if __name__ == "__main__":
    main()
