"""A batch killed with SIGKILL resumes with the same command; a worker that dies costs one file."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

import echosr_edge
from echosr_edge.batch.inputs import InputFile
from echosr_edge.batch.runner import FileOutcome, run_pool
from echosr_edge.batch.store import PART_SUFFIX, STATE_DIR
from echosr_edge.data.synth_clinic import write_clinic_folder

REPO = Path(echosr_edge.__file__).resolve().parent.parent


def _records(out: Path) -> list[Path]:
    folder = out / STATE_DIR / "records"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.02)


def _session_alive(pgid: int) -> bool:
    """True while a live (not zombie) process of process group ``pgid`` exists (Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses SIGKILL and process groups (Linux)")
def test_kill_9_mid_run_then_the_same_command_gives_every_input_exactly_once(tmp_path, bundle_dir):
    root, out = tmp_path / "in", tmp_path / "out"
    written = write_clinic_folder(root, files=24, corrupt=1, size=(96, 80), cine_frames=12, kinds=("nifti", "mp4", "png"))
    command = [sys.executable, "-m", "echosr_edge", "batch", str(root), str(out), "--bundle", str(bundle_dir), "--workers", "2", "--quiet"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    first = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def some_done() -> bool:
        if first.poll() is not None:
            pytest.fail(f"the run ended (code {first.returncode}) before it could be killed: {first.stderr.read().decode()}")
        return len(_records(out)) >= 3

    _wait_until(some_done, 300, "the first finished files")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    first.stderr.close()
    _wait_until(lambda: not _session_alive(first.pid), 30, "the workers to die with their parent")
    finished_at_kill = len(_records(out))
    assert 3 <= finished_at_kill < len(written), "the kill did not land mid-run"
    assert not (out / "results.jsonl").exists()

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 3, second.stderr  # one damaged input: partial
    assert "finished by an earlier run" in second.stdout
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    files = [r["file"] for r in records]
    assert sorted(files) == sorted(w.relative for w in written) and len(set(files)) == len(files)
    assert [r["file"] for r in records if r["status"] == "error"] == [w.relative for w in written if w.corrupt]
    assert not [p for p in out.rglob(f"*{PART_SUFFIX}")], "a temporary file was left behind"
    images = [p for p in (out / "enhanced").rglob("frame_*.png") if p.is_file()]
    assert len(images) == sum(len(r["frames"]) for r in records)
    assert all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None for p in images)
    for path in _records(out):
        json.loads(path.read_text())


# Worker functions for the crash test: module-level so spawned workers can import them.


def _no_setup() -> None:
    pass


def _dies_on_crash_files(inp: InputFile) -> FileOutcome:
    if inp.relative.startswith("crash"):
        os._exit(7)  # what a decoder segfault or the OOM killer looks like from outside
    return FileOutcome(inp.relative, "ok", 1)


def test_a_file_that_kills_its_worker_is_the_only_one_lost():
    names = ["a", "b", "crash-me", "c", "d", "e", "f"]
    todo = [InputFile(Path("/nowhere") / n, n, "image") for n in names]
    outcomes, crashed = [], []
    run_pool(todo, 2, _dies_on_crash_files, _no_setup, (), outcomes.append, crashed.append)
    assert [c.relative for c in crashed] == ["crash-me"]
    assert sorted(o.relative for o in outcomes) == sorted(set(names) - {"crash-me"})
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]  # no worker left waiting for work
