"""The live view refusing a frame that is not a cardiac view: a screenshot for docs/.

usage: python benchmarks/abstention_screenshot.py BUNDLE OUT.png [--kind eye] [--seed 7]

Feeds a synthetic non-cardiac frame of ``--kind`` (data/outliers.py; 'eye' is the kind the gate
never saw in training) through the bundle's pipeline into a LiveHub served on loopback, opens
the page in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, with selenium,
the 'dev' extra) and screenshots it once the page shows the refusal. The record the page shows
is printed, so the screenshot can be matched with the pipeline's answer.
"""

from __future__ import annotations

import argparse
import json
import shutil
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
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    from echosr_edge.data.outliers import render_outlier
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.run import result_record
    from echosr_edge.runtime.session import open_session
    from echosr_edge.web import LiveHub, serve

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        sys.exit("needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    pipeline = open_session(args.bundle, get_profile("cpu"), enhance="always", crop=False, startup_check=False).pipeline
    hr = pipeline.hr_size
    frame = render_outlier(args.kind, np.random.default_rng(args.seed), size=(hr, hr))
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
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--force-device-scale-factor=1", "--hide-scrollbars"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        with serve(hub, "127.0.0.1", 0, require_token=False) as handle:
            browser.get(handle.url)
            WebDriverWait(browser, args.timeout, poll_frequency=0.1).until(
                lambda d: d.execute_script("return Number(document.body.dataset.frames || 0) >= 2"))
            time.sleep(0.5)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(args.out))
            shown["banner"] = browser.execute_script("const a = document.getElementById('abstain'); return a.hidden ? null : a.textContent;")
    finally:
        browser.quit()
    halt.set()
    thread.join(5)
    record = shown.get("record", {})
    print(json.dumps({"banner": shown.get("banner"),
                      **{k: record.get(k) for k in ("frame", "accepted", "abstain_reason", "ood_score", "labels")}}))


if __name__ == "__main__":
    main()
