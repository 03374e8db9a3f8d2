"""The split file: the task sets and their train/test sides, written once and read back by experiments.

JSON with a schema name and version; the loader refuses versions it does not know. Frames are
named by ``Frame.key`` (patient_view_phase) and each key's quality label is kept, so that
resolving a split against data that changed since it was written fails loudly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from echosr_edge import __version__
from echosr_edge.data.records import QUALITIES, Frame
from echosr_edge.errors import ConfigError, DataError

SPLIT_SCHEMA = "echosr-edge/task-splits"
SPLIT_VERSION = 1
UNITS: tuple[str, ...] = ("patient", "frame")
MAX_SPLIT_BYTES = 256 << 20  # a split of every CAMUS frame is a few MB


def patient_of(key: str) -> str:
    """The patient of a frame key ('patient0001_2CH_ED' → 'patient0001')."""
    return key.split("_", 1)[0]


@dataclass(frozen=True)
class TaskSplit:
    """One task set (task × quality tier × seed) and its train/test frame keys."""

    task: str
    tier: str
    seed: int
    train: tuple[str, ...]
    test: tuple[str, ...]

    def patients(self, side: str) -> set[str]:
        """The patients on ``side`` ('train' or 'test')."""
        return {patient_of(k) for k in getattr(self, side)}


@dataclass(frozen=True)
class SplitFile:
    """Every task split of one protocol run, with what produced it.

    ``unit``: 'patient' (no patient on both sides of any split of a seed, across tiers) or
    'frame' (the paper's: frames split independently per tier). ``composition``: the
    reference tier's frames per 'view/phase' cell, which every tier's set reproduces.
    """

    unit: str
    test_fraction: float
    reference_tier: str
    composition: dict[str, int]
    seeds: tuple[int, ...]
    splits: tuple[TaskSplit, ...]
    qualities: dict[str, str]  # frame key → quality label when the split was made
    source: dict = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    def get(self, task: str, tier: str, seed: int | None = None) -> TaskSplit:
        """The split of ``task`` on ``tier`` for ``seed`` (default: the first seed)."""
        seed = self.seeds[0] if seed is None else seed
        for split in self.splits:
            if (split.task, split.tier, split.seed) == (task, tier, seed):
                return split
        have = sorted({(s.task, s.tier) for s in self.splits})
        raise ConfigError(f"no split for task {task!r}, tier {tier!r}, seed {seed}; the file has {have} for seeds {list(self.seeds)}")

    def test_patients(self, seed: int | None = None) -> set[str]:
        """Every patient on a test side of any split of ``seed``."""
        seed = self.seeds[0] if seed is None else seed
        return {p for s in self.splits if s.seed == seed for p in s.patients("test")}

    def resolve(self, split: TaskSplit, frames: list[Frame]) -> tuple[list[Frame], list[Frame]]:
        """(train, test) frames of ``split`` from ``frames``; refuses data that no longer match."""
        by_key = {f.key: f for f in frames}
        where = self.path or "split file"
        sides = []
        for side in (split.train, split.test):
            missing = [k for k in side if k not in by_key]
            if missing:
                raise DataError(where, f"{len(missing)} frame(s) of the {split.task}/{split.tier} split are not in the data, e.g. {missing[0]}")
            changed = [k for k in side if by_key[k].quality != self.qualities.get(k)]
            if changed:
                k = changed[0]
                raise DataError(where, f"{k} is now labelled {by_key[k].quality!r}, the split was made when it was {self.qualities.get(k)!r}")
            sides.append([by_key[k] for k in side])
        return sides[0], sides[1]

    def to_json(self) -> dict:
        """The file's JSON document."""
        return {
            "schema": SPLIT_SCHEMA,
            "version": SPLIT_VERSION,
            "tool": f"echosr-edge {__version__}",
            "unit": self.unit,
            "test_fraction": self.test_fraction,
            "reference_tier": self.reference_tier,
            "composition": self.composition,
            "seeds": list(self.seeds),
            "source": self.source,
            "splits": [
                {"task": s.task, "tier": s.tier, "seed": s.seed, "train": list(s.train), "test": list(s.test)} for s in self.splits
            ],
            "qualities": self.qualities,
        }

    def save(self, path: Path) -> Path:
        """Write the split file atomically; returns ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_json(), fh, indent=1)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def load_split_file(path: Path) -> SplitFile:
    """Read a split file written by ``SplitFile.save``; DataError names the file and the problem."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SPLIT_BYTES:
            raise DataError(path, f"{path.stat().st_size} bytes, over the {MAX_SPLIT_BYTES}-byte limit for a split file")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(path, "split file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataError(path, f"not a JSON split file ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SPLIT_SCHEMA:
        raise DataError(path, f"not an echosr-edge split file (schema {doc.get('schema') if isinstance(doc, dict) else None!r})")
    if doc.get("version") != SPLIT_VERSION:
        raise DataError(path, f"split file version {doc.get('version')!r} is not supported (this tool reads version {SPLIT_VERSION})")
    try:
        unit = doc["unit"]
        if unit not in UNITS:
            raise DataError(path, f"unknown split unit {unit!r}; units: {', '.join(UNITS)}")
        splits = tuple(
            TaskSplit(s["task"], s["tier"], int(s["seed"]), tuple(s["train"]), tuple(s["test"])) for s in doc["splits"]
        )
        qualities = {str(k): str(v) for k, v in doc["qualities"].items()}
        bad = sorted({q for q in qualities.values() if q not in QUALITIES})
        if bad:
            raise DataError(path, f"unknown quality label(s) {bad}")
        return SplitFile(
            unit=unit,
            test_fraction=float(doc["test_fraction"]),
            reference_tier=doc["reference_tier"],
            composition={str(k): int(v) for k, v in doc["composition"].items()},
            seeds=tuple(int(s) for s in doc["seeds"]),
            splits=splits,
            qualities=qualities,
            source=dict(doc.get("source", {})),
            path=path,
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise DataError(path, f"malformed split file ({type(exc).__name__}: {exc})") from exc
