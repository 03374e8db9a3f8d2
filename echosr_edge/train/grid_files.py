"""The grid's per-frame tables on disk: ``predictions.csv`` and ``gated.csv``.

Written once by the grid and read back, typed as the grid made them, by ``train report``,
which recomputes the statistics without training anything. A table whose header is not the
expected one is refused by name, so a file from another tool is never silently misread.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from echosr_edge.errors import ConfigError

PREDICTION_COLUMNS = ("repeat", "fold", "task", "setting", "arm", "train_tier", "patient", "view", "phase", "tier",
                      "label", "predicted", "p")
DECISION_COLUMNS = ("repeat", "fold", "patient", "view", "phase", "tier", "quality_predicted", "quality_p", "enhanced")
_INTS = {"repeat", "fold", "enhanced"}
_FLOATS = {"p", "quality_p"}


def write_table(path: Path, columns: Sequence[str], rows: list[tuple]) -> None:
    """One CSV: a header of ``columns``, then ``rows``."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)


def read_table(path: Path, columns: Sequence[str]) -> list[tuple]:
    """``write_table``'s rows back as tuples, with the grid's int and float columns typed."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: not found (a grid's output folder holds predictions.csv and, with the gated experiment, gated.csv)")
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = tuple(next(reader, ()))
        if header != tuple(columns):
            raise ConfigError(f"{path}: columns {', '.join(header) or '(none)'} are not the grid's ({', '.join(columns)})")
        kinds = [int if c in _INTS else float if c in _FLOATS else str for c in columns]
        rows = []
        for number, row in enumerate(reader, start=2):
            if len(row) != len(columns):
                raise ConfigError(f"{path}, line {number}: {len(row)} fields where the header has {len(columns)}")
            try:
                rows.append(tuple(kind(v) for kind, v in zip(kinds, row)))
            except ValueError as exc:
                raise ConfigError(f"{path}, line {number}: {exc}") from None
    return rows
