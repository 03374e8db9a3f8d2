"""Long fuzz run over every reader: inputs tried and escapes per reader, for a time budget each.

    nice -n 10 python benchmarks/fuzz_readers.py --seconds 90 --out fuzz-results.json

Each reader runs in its own process. With atheris installed (``pip install atheris``) that
process is a coverage-guided libFuzzer run over the readers' code (echosr_edge, nibabel,
pydicom instrumented), started from the valid seed files of tests/fuzz/targets.py; libFuzzer
also kills an input that runs past ``--timeout`` seconds (a hang) or grows the process past
``--rss-limit-mb`` (unbounded memory), and either counts as an escape. Without atheris the
process runs hypothesis with the CI suite's mutation strategy and no example limit.

An escape is any exception that is not an ``EchoSRError``. Each distinct one (type and the
innermost echosr_edge frame) is written with its input under ``--escapes DIR`` so that it can
be replayed: ``python benchmarks/fuzz_readers.py --replay FILE --readers NAME``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INSTRUMENTED = ("echosr_edge", "nibabel", "pydicom")
READER_MODULES = (
    "echosr_edge.data.metaimage",
    "echosr_edge.data.nifti",
    "echosr_edge.data.dicom",
    "echosr_edge.data.camus_cfg",
    "echosr_edge.data.split_file",
    "echosr_edge.bundle.integrity",
    "echosr_edge.bundle.manifest",
    "echosr_edge.bundle.schema",
    "echosr_edge.bundle.signing",
    "echosr_edge.bundle.keys",
    "echosr_edge.bundle.trust",
    "echosr_edge.data.image_header",
    "echosr_edge.batch.inputs",
    "echosr_edge.runtime.sources",
    "nibabel",
    "pydicom",
    "pydicom.pixels",
)


def _signature(exc: BaseException) -> str:
    """Type and innermost frame of the product (else the innermost frame) that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "echosr_edge" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


class _Recorder:
    """Counts inputs and escapes in a child process; flushes a JSON report often (libFuzzer exits hard)."""

    def __init__(self, reader: str, report: Path, escapes: Path):
        self.reader, self.report, self.escapes = reader, report, escapes
        self.inputs = 0
        self.found: dict[str, dict] = {}
        self.started = self.flushed = time.monotonic()

    def record(self, data: bytes, exc: BaseException | None) -> None:
        self.inputs += 1
        if exc is not None:
            sig = _signature(exc)
            entry = self.found.setdefault(sig, {"count": 0, "message": str(exc)[:300], "example": None})
            entry["count"] += 1
            if entry["example"] is None:
                self.escapes.mkdir(parents=True, exist_ok=True)
                path = self.escapes / f"{self.reader}-{len(self.found)}.bin"
                path.write_bytes(data)
                entry["example"] = str(path)
        if exc is not None or time.monotonic() - self.flushed > 0.5:
            self.flush()

    def flush(self) -> None:
        self.flushed = time.monotonic()
        doc = {
            "reader": self.reader,
            "inputs": self.inputs,
            "escapes": sum(e["count"] for e in self.found.values()),
            "distinct": self.found,
            "seconds": round(self.flushed - self.started, 1),
        }
        tmp = self.report.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        tmp.replace(self.report)


def _child_atheris(reader: str, seconds: int, report: Path, escapes: Path, timeout: int, rss_mb: int) -> None:
    import atheris

    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        for module in READER_MODULES:
            try:
                __import__(module)
            except ImportError:
                pass
    from tests.fuzz.targets import TARGETS, run_contained

    target = TARGETS[reader]
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{reader}-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(target.seeds(work / "seeds")):
        (corpus / f"seed{i}").write_bytes(seed)
    recorder = _Recorder(reader, report, escapes)

    def one_input(data: bytes) -> None:
        recorder.record(data, run_contained(target, data, work / "run"))

    args = [sys.argv[0], str(corpus), f"-max_total_time={seconds}", f"-timeout={timeout}", f"-rss_limit_mb={rss_mb}",
            "-max_len=65536", "-print_final_stats=1", "-close_fd_mask=1", f"-artifact_prefix={escapes}/{reader}-"]
    escapes.mkdir(parents=True, exist_ok=True)
    atheris.Setup(args, one_input)
    try:
        atheris.Fuzz()
    finally:
        recorder.flush()


def _child_hypothesis(reader: str, seconds: int, report: Path, escapes: Path) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    from tests.fuzz.mutations import mutated
    from tests.fuzz.targets import TARGETS, run_contained

    target = TARGETS[reader]
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{reader}-"))
    recorder = _Recorder(reader, report, escapes)
    deadline = time.monotonic() + seconds

    class _TimeUp(Exception):
        pass

    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(mutated(target.seeds(work / "seeds")))
    def run(data: bytes) -> None:
        if time.monotonic() > deadline:
            raise _TimeUp
        recorder.record(data, run_contained(target, data, work / "run"))

    try:
        run()
    except _TimeUp:
        pass
    recorder.flush()


def _run_reader(reader: str, args, out_dir: Path, engine: str) -> dict:
    report = out_dir / f"{reader}.json"
    cmd = [sys.executable, __file__, "--child", reader, "--seconds", str(args.seconds), "--report", str(report),
           "--escapes", str(args.escapes), "--engine", engine, "--timeout", str(args.timeout), "--rss-limit-mb", str(args.rss_limit_mb)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.seconds * 3 + 120)
    result = json.loads(report.read_text()) if report.is_file() else {"reader": reader, "inputs": 0, "escapes": 0, "distinct": {}}
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    if executed:  # libFuzzer's own count is exact; the child's last flush may be half a second old
        result["inputs"] = max(result["inputs"], int(executed.group(1)))
    for marker, kind in (("ALARM: working on the last Unit", "hang"), ("out-of-memory", "out of memory"),
                         ("deadly signal", "crash (signal)"), ("Uncaught Python exception", "uncaught exception")):
        if marker in proc.stderr:
            result["escapes"] += 1
            result["distinct"][f"libFuzzer: {kind}"] = {"count": 1, "message": proc.stderr[-600:], "example": None}
    result["engine"] = engine
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["exit_code"] = proc.returncode
    return result


def _replay(path: Path, reader: str) -> None:
    from tests.fuzz.targets import TARGETS, run_contained

    with tempfile.TemporaryDirectory() as tmp:
        escape = run_contained(TARGETS[reader], path.read_bytes(), Path(tmp))
    if escape is not None:
        raise escape  # with its traceback
    print(f"{path}: the {reader} reader now returns or raises EchoSRError")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="budget per reader")
    parser.add_argument("--readers", default="", help="comma list (default: all)")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--out", type=Path, help="write the per-reader results as JSON here")
    parser.add_argument("--escapes", type=Path, default=Path(tempfile.gettempdir()) / "echosr-fuzz-escapes")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (atheris)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory limit of a fuzz process (atheris)")
    parser.add_argument("--replay", type=Path, help="run one saved input through --readers NAME")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    from tests.fuzz.targets import TARGETS

    if args.replay:
        _replay(args.replay, args.readers)
        return
    if args.child:
        if args.engine == "atheris":
            _child_atheris(args.child, args.seconds, args.report, args.escapes, args.timeout, args.rss_limit_mb)
        else:
            _child_hypothesis(args.child, args.seconds, args.report, args.escapes)
        return

    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    readers = [r for r in args.readers.split(",") if r] or list(TARGETS)
    unknown = [r for r in readers if r not in TARGETS]
    if unknown:
        parser.error(f"unknown reader(s) {unknown}; readers: {', '.join(TARGETS)}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for reader in readers:
            result = _run_reader(reader, args, Path(tmp), engine)
            results.append(result)
            print(f"{reader:<18} {result['inputs']:>9} inputs  {result['escapes']:>4} escapes  "
                  f"({result['engine']}, {result['wall_s']} s)", flush=True)
            for sig, entry in result["distinct"].items():
                print(f"    {entry['count']:>6} x {sig}: {entry['message'][:160]!r} -> {entry['example']}", flush=True)
    total_in, total_esc = sum(r["inputs"] for r in results), sum(r["escapes"] for r in results)
    print(f"{'total':<18} {total_in:>9} inputs  {total_esc:>4} escapes")
    if args.out:
        from echosr_edge.bench.runner import machine_info

        doc = {"seconds_per_reader": args.seconds, "engine": engine, "machine": machine_info(), "readers": results}
        args.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
