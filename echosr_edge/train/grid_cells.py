"""The grid's cells on disk: one file per finished cell, so a rerun with ``resume`` skips it.

Layout under ``OUT/cells/``: ``r{repeat}_f{fold}/sr_{kind}.pt`` (an SR checkpoint, with its
per-epoch ``.state.pt`` while it trains, so a long SRGAN resumes mid-run too) and
``r{repeat}_f{fold}/{task}/{classifier}.json`` (a classifier cell: its predictions on every test
set it is evaluated on, not its weights — 45 MB × hundreds of classifiers would be the run's
disk). A cell file is written atomically once the cell is complete; a killed run leaves at most
one cell unfinished. ``config.json`` records the settings the cells were made with, and a
resumed run whose settings differ is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from echosr_edge.errors import EchoSRError

CellHook = Callable[[str, bool], None]  # (cell name, skipped) after each cell


class ResumeError(EchoSRError):
    """``--resume`` over cells made with other settings."""


@dataclass
class CellStore:
    """Where cells live, whether finished ones are reused, and who hears about each cell."""

    root: Path
    resume: bool = False
    on_cell: CellHook | None = None
    computed: int = 0
    skipped: int = 0

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def check_settings(self, settings: dict) -> None:
        """Record the settings; on resume, refuse cells made with different ones."""
        path = self.root / "config.json"
        text = json.dumps(settings, indent=2, sort_keys=True, default=str)
        if self.resume and path.is_file() and path.read_text() != text + "\n":
            raise ResumeError(f"{path} was written with other settings; rerun without --resume or with the same options")
        _atomic_write(path, text + "\n")

    def folder(self, repeat: int, fold: int) -> Path:
        path = self.root / f"r{repeat}_f{fold}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sr_path(self, repeat: int | None, fold: int | None, kind: str) -> Path:
        """The SR cell's checkpoint (``repeat``/``fold`` None: one model shared by every fold)."""
        base = self.root / "shared" if repeat is None else self.folder(repeat, fold)
        base.mkdir(parents=True, exist_ok=True)
        return base / f"sr_{kind}.pt"

    def done(self, path: Path) -> bool:
        """True when ``path`` is a finished cell to reuse (only under resume)."""
        return self.resume and Path(path).is_file()

    def classifier(self, repeat: int, fold: int, task: str, name: str, compute: Callable[[], dict]) -> dict:
        """The classifier cell's predictions: read back under resume, else computed and saved."""
        path = self.folder(repeat, fold) / task / f"{name}.json"
        label = f"r{repeat} f{fold} {task} {name}"
        if self.done(path):
            self.mark(label, skipped=True)
            return json.loads(path.read_text())
        value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, json.dumps(value) + "\n")
        self.mark(label, skipped=False)
        return value

    def mark(self, label: str, skipped: bool) -> None:
        """Count a finished cell and tell the hook (which may raise: a simulated crash)."""
        if skipped:
            self.skipped += 1
        else:
            self.computed += 1
        if self.on_cell:
            self.on_cell(label, skipped)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
