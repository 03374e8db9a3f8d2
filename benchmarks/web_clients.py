"""Does serving the live view slow the pipeline? Per-frame latency with and without 3 viewers.

The publisher stands in for the run loop: for each frame it runs the real pipeline and, in
the served arm, publishes the result to a LiveHub that an aiohttp server streams to three
clients — three windows of one headless Chromium (``--clients browser``, the default when
chromium and selenium are installed) or three Python WebSocket consumers in another process
(``--clients ws``). The latency of a frame is from the start of ``pipeline.process`` to the
return of ``hub.publish`` (to the return of ``process`` without a server).

Arms, on the same frames, in one process:
  none    no hub and no server at all (blocks before the server starts and after it stops);
  idle    the same loop while the server and its clients are up but get nothing;
  served  the loop publishing every frame to the clients.
``idle`` and ``served`` blocks alternate in ABBA order, so slow drifts in machine load hit
both; the verdict compares the medians of ``served`` with ``idle`` and with ``none``. The
report also gives the CPU time the server's threads (event loop, JPEG workers) and the
client processes spent per frame in each arm, from /proc.

``--pin`` keeps the clients off the pipeline's cores (they would run on the tablets, not on
the device): the clients get the last CPU, the pipeline and the server the others.

    PYTHONPATH=. python benchmarks/web_clients.py --bundle demo-out/bundle --source demo-out/demo.mp4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.bench import machine_info
from echosr_edge.runtime.session import open_session
from echosr_edge.runtime.run import result_record
from echosr_edge.runtime.web import LiveHub, serve


def load_frames(source: str | None, bundle: Path) -> list[np.ndarray]:
    """Every frame of ``source`` (or the bundle's verification frames), decoded up front."""
    if source is None:
        return list(np.load(bundle / "verification" / "frames.npy"))
    from echosr_edge.runtime.sources import open_source

    return [frame for _, _, frame in open_source(source).frames()]


def run_block(pipeline, frames, hub: LiveHub | None, count: int, start: int, period: float) -> list[float]:
    """Process ``count`` frames from ``start`` (cyclically), paced at ``period`` s; per-frame ms."""
    out = []
    next_at = time.perf_counter()
    for k in range(count):
        index = start + k
        frame = frames[index % len(frames)]
        t0 = time.perf_counter()
        result = pipeline.process(frame)
        if hub is not None:
            hub.publish(frame, result.enhanced, result_record(index, t0, result))
        out.append((time.perf_counter() - t0) * 1000.0)
        if period:
            next_at += period
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.perf_counter()  # late: a live loop would have dropped frames
    return out


TICK = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: str) -> float:
    try:
        fields = open(path).read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def thread_cpu_seconds(tids: list[int]) -> float:
    """utime+stime of these threads of this process."""
    return sum(_stat_cpu(f"/proc/self/task/{t}/stat") for t in tids)


def cpu_seconds(pids: list[int]) -> float:
    """utime+stime of processes ``pids`` and all their descendants."""
    stat = _stat_cpu
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += stat(f"/proc/{pid}/stat")
        for task in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
            try:
                todo += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
            except OSError:
                pass
    return total


def pin_thread(cpus: set[int] | None) -> None:
    """Set this thread's CPU set; threads and processes started afterwards inherit it."""
    if cpus:
        os.sched_setaffinity(0, cpus)


@contextmanager
def browser_clients(url: str, n: int):
    """``n`` windows of one headless Chromium on ``url``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(url)
        for _ in range(n - 1):
            driver.switch_to.new_window("window")
            driver.get(url)
        yield driver.service.process.pid
    finally:
        driver.quit()


CONSUMER = """
import asyncio, sys, aiohttp
async def one(session, url):
    async with session.ws_connect(url) as ws:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await ws.send_str("next")
async def main(url, n):
    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(one(s, url) for _ in range(n)))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@contextmanager
def ws_clients(ws_url: str, n: int):
    """``n`` WebSocket consumers that take every frame offered, in a separate process."""
    proc = subprocess.Popen([sys.executable, "-c", CONSUMER, ws_url, str(n)])
    try:
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--source", help="video/folder/NIfTI (default: the bundle's verification frames)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", choices=["fp32", "int8"])
    ap.add_argument("--clients", choices=["browser", "ws"], default="browser" if shutil.which("chromium") else "ws")
    ap.add_argument("--n-clients", type=int, default=3)
    ap.add_argument("--fps", type=float, default=30.0, help="source rate to pace at (0: back to back)")
    ap.add_argument("--block", type=int, default=30, help="frames per block")
    ap.add_argument("--rounds", type=int, default=8, help="idle/served block pairs")
    ap.add_argument("--pin", action="store_true", help="clients on the last CPU, pipeline and server on the others")
    ap.add_argument("--json", type=Path, help="write the report here too")
    args = ap.parse_args(argv)

    cpus = sorted(os.sched_getaffinity(0))
    client_cpus = pipeline_cpus = None
    if args.pin and len(cpus) >= 2:
        client_cpus, pipeline_cpus = {cpus[-1]}, set(cpus[:-1])
    period = 1.0 / args.fps if args.fps else 0.0

    pin_thread(pipeline_cpus)  # the engines' threads are made now and keep this CPU set
    pipeline = open_session(args.bundle, get_profile(args.device), precision=args.precision, enhance="always", crop=False, startup_check=False).pipeline
    frames = load_frames(args.source, args.bundle)
    hub = LiveHub(enhance_mode=pipeline.enhance, enhance_modes=(pipeline.enhance,))
    run_block(pipeline, frames, None, args.block, 0, period)  # warm-up, not counted

    arms: dict[str, list[float]] = {"none": [], "idle": [], "served": []}
    rounds: list[dict] = []
    none_blocks = max(1, args.rounds // 2)  # half before the server starts, half after it stops
    for _ in range(none_blocks):
        arms["none"] += run_block(pipeline, frames, None, args.block, 0, period)
    with serve(hub, "127.0.0.1", 0) as handle:
        pin_thread(client_cpus)
        clients = (
            browser_clients(handle.url, args.n_clients)
            if args.clients == "browser"
            else ws_clients(f"ws://127.0.0.1:{handle.port}/ws", args.n_clients)
        )
        with clients as client_pid:
            pin_thread(pipeline_cpus)
            deadline = time.monotonic() + 60
            index = 0
            # Warm the stream until every client has drawn frames (not counted).
            while time.monotonic() < deadline and not (
                handle.client_count == args.n_clients and min(handle.frames_sent() or [0]) >= 5
            ):
                run_block(pipeline, frames, hub, 5, index, period)
                index += 5
            if handle.client_count != args.n_clients:
                raise SystemExit(f"only {handle.client_count} of {args.n_clients} clients connected")
            sent_before, encodes_before = sum(handle.frames_sent()), hub.encodes
            served_s = 0.0
            cpu = {arm: {"server": 0.0, "clients": 0.0} for arm in ("idle", "served")}
            for r in range(args.rounds):
                order = ("idle", "served") if r % 2 == 0 else ("served", "idle")
                row = {}
                for arm in order:
                    t = time.perf_counter()
                    s0, c0 = thread_cpu_seconds(handle.thread_ids()), cpu_seconds([client_pid])
                    lat = run_block(pipeline, frames, hub if arm == "served" else None, args.block, 0, period)
                    cpu[arm]["server"] += thread_cpu_seconds(handle.thread_ids()) - s0
                    cpu[arm]["clients"] += cpu_seconds([client_pid]) - c0
                    if arm == "served":
                        served_s += time.perf_counter() - t
                    arms[arm] += lat
                    row[arm] = round(median(lat), 3)
                rounds.append(row)
            sent = sum(handle.frames_sent()) - sent_before
            encodes = hub.encodes - encodes_before
            per_client_fps = round(sent / args.n_clients / served_s, 1) if served_s else 0.0
    for _ in range(none_blocks):
        arms["none"] += run_block(pipeline, frames, None, args.block, 0, period)

    report = {
        "machine": machine_info(),
        "bundle": str(args.bundle),
        "source": args.source or "bundle verification frames",
        "frames_in_source": len(frames),
        "clients": f"{args.n_clients} x {'headless Chromium window' if args.clients == 'browser' else 'Python WebSocket consumer'}",
        "pinned": bool(client_cpus),
        "paced_fps": args.fps,
        "block": args.block,
        "rounds": args.rounds,
        "median_ms": {arm: round(median(v), 3) for arm, v in arms.items()},
        "p95_ms": {arm: round(float(np.percentile(v, 95)), 3) for arm, v in arms.items()},
        "frames": {arm: len(v) for arm, v in arms.items()},
        "served_vs_idle": round(median(arms["served"]) / median(arms["idle"]), 3),
        "served_vs_none": round(median(arms["served"]) / median(arms["none"]), 3),
        "rounds_median_ms": rounds,
        "frames_per_client_per_s": per_client_fps,
        "cpu_ms_per_frame": {
            arm: {k: round(v * 1000.0 / max(1, len(arms[arm])), 2) for k, v in d.items()} for arm, d in cpu.items()
        },
        "frames_sent_to_clients": sent,
        "jpeg_pairs_encoded": encodes,
    }
    report["within_10_percent"] = report["served_vs_idle"] <= 1.10 and report["served_vs_none"] <= 1.10
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
