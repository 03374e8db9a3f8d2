"""The batch's output folder: atomic writes, the per-file records of finished work, the run lock.

Every file the batch writes goes to a hidden ``.NAME.PID.part`` beside its target and is renamed
over the target (and fsynced before the input's record is written), so a reader (or a killed run) sees the old file or the new one,
never half of one. A per-input record ``.echosr-batch/records/<key>.json`` is written last,
after that input's images: its presence is the proof that the input is finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from echosr_edge.errors import EchoSRError

STATE_DIR = ".echosr-batch"
PART_SUFFIX = ".part"
RECORD_SCHEMA = 1


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename (fsynced if ``durable``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        _fsync_dir(path.parent)
    return path


def fsync_files(paths: list[Path]) -> None:
    """Flush files written with ``durable=False`` (and their folders) to disk, in one pass."""
    folders = set()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folders.add(Path(path).parent)
    for folder in folders:
        _fsync_dir(folder)


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Open ``path`` for writing text through a temporary file renamed over it on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def sweep_partials(out: Path) -> int:
    """Delete the temporary files a killed run left under ``out``; returns how many."""
    removed = 0
    for path in Path(out).rglob(f".*{PART_SUFFIX}"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def record_key(relative: str) -> str:
    """A file name for the record of the input at ``relative`` (stable, filesystem-safe)."""
    return hashlib.sha1(relative.encode("utf-8")).hexdigest()[:20]


class RecordStore:
    """The records of finished inputs under ``out/.echosr-batch/records``."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.state = self.out / STATE_DIR
        self.folder = self.state / "records"

    def path(self, relative: str) -> Path:
        return self.folder / f"{record_key(relative)}.json"

    def save(self, record: dict) -> Path:
        """Write one input's record atomically (it marks that input as finished)."""
        data = json.dumps({"schema": RECORD_SCHEMA, **record}, separators=(",", ":")).encode("utf-8")
        return write_atomic(self.path(record["file"]), data)

    def load(self, relative: str) -> dict | None:
        """The record of ``relative``, or None if there is none (or it cannot be read)."""
        try:
            record = json.loads(self.path(relative).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("schema") != RECORD_SCHEMA or record.get("file") != relative:
            return None
        return record

    def iter_records(self, relatives: list[str]) -> Iterator[tuple[str, dict | None]]:
        for relative in relatives:
            yield relative, self.load(relative)


def input_stamp(path: Path) -> dict:
    """Size and modification time of an input: a record is reused only while they match."""
    st = Path(path).stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_run_settings(out: Path, settings: dict) -> None:
    """Record the settings of the first run in ``out``; refuse a later run whose settings differ.

    Results from two bundles or precisions in one folder would be a silent mix.
    """
    path = Path(out) / STATE_DIR / "run.json"
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            before = None
        if before is not None and before != settings:
            changed = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
            detail = "; ".join(f"{k}: {before.get(k)!r} then, {settings.get(k)!r} now" for k in changed)
            raise EchoSRError(
                f"{out} holds results of a batch run with other settings ({detail}); "
                "rerun with the same settings to resume, or choose a new output folder"
            )
        if before is not None:
            return
    write_atomic(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode("utf-8"))


class RunLock:
    """An exclusive lock on the output folder, released by the kernel if the process dies."""

    def __init__(self, out: Path):
        self.path = Path(out) / STATE_DIR / "lock"
        self._file = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+b")
        try:
            import fcntl
        except ImportError:  # Windows: no advisory lock; one run at a time is then the user's job
            return self
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._file.close()
            raise EchoSRError(f"another batch run is writing to {self.path.parent.parent}; wait for it to finish") from exc
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None
