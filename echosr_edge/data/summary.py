"""Table 1 of the study (frames by view × phase × quality) for any CAMUS tree, as JSON and text."""

from __future__ import annotations

from collections import Counter

from echosr_edge.data.camus import CamusTree
from echosr_edge.data.records import PHASES, QUALITIES, VIEWS, Frame
from echosr_edge.data.tasks import TASKS, cell_name, class_counts, reference_composition
from echosr_edge.errors import DataError

SUMMARY_SCHEMA = "echosr-edge/camus-summary"
SUMMARY_VERSION = 1


def table1(frames: list[Frame]) -> list[dict]:
    """Rows view, phase, good, medium, poor, total, one per (view, phase), then 'all'."""
    counts = Counter((f.view, f.phase, f.quality) for f in frames)
    rows = []
    for view in VIEWS:
        for phase in PHASES:
            row = {"view": view, "phase": phase, **{q: counts.get((view, phase, q), 0) for q in QUALITIES}}
            row["total"] = sum(row[q] for q in QUALITIES)
            rows.append(row)
    all_row = {"view": "all", "phase": "", **{q: sum(r[q] for r in rows) for q in QUALITIES}}
    all_row["total"] = sum(all_row[q] for q in QUALITIES)
    return rows + [all_row]


def _problem(exc: DataError) -> dict:
    patient = next((part for part in reversed(exc.path.parts) if part.startswith("patient") and "_" not in part), None)
    return {"patient": patient, "path": str(exc.path), "problem": exc.problem}


def summarise(tree: CamusTree, reference: str = "poor") -> dict:
    """The JSON summary of a read tree: Table 1, the task-set composition, groups and problems."""
    composition = reference_composition(tree.frames, reference)
    return {
        "schema": SUMMARY_SCHEMA,
        "version": SUMMARY_VERSION,
        "root": str(tree.root) if tree.root else None,
        "release": tree.release,
        "patients": {"found": tree.patients_found, "read": len(tree.patients), "skipped": len(tree.skipped)},
        "frames": len(tree.frames),
        "table1": table1(tree.frames),
        "task_sets": {
            "reference_tier": reference,
            "composition": {cell_name(c): n for c, n in composition.items()},
            **{task: class_counts(composition, task) for task in TASKS},
        },
        "groups": {name: len(members) for name, members in tree.groups.items()},
        "skipped": [_problem(e) for e in tree.skipped],
        "stray": [_problem(e) for e in tree.stray],
    }


def format_table1(rows: list[dict]) -> str:
    """Table 1 rows as aligned text, the paper's column order."""
    header = ["view", "phase", *QUALITIES, "total"]
    cells = [header] + [[str(r[h]) for h in header] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if index == 0 or index == len(cells) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    """The terminal report: counts, Table 1, task-set sizes and groups (problems are listed separately)."""
    p = summary["patients"]
    lines = [
        f"CAMUS {summary['release']} release at {summary['root']}",
        f"{p['read']} of {p['found']} patients read ({p['skipped']} skipped), {summary['frames']} frames",
        "",
        format_table1(summary["table1"]),
        "",
    ]
    sets = summary["task_sets"]
    comp = ", ".join(f"{k} {v}" for k, v in sets["composition"].items())
    lines.append(f"task sets per tier ({sets['reference_tier']} count as reference): {comp}")
    for task in TASKS:
        lines.append(f"  {task}: " + ", ".join(f"{k} {v}" for k, v in sets[task].items()))
    if summary["groups"]:
        lines.append("groups: " + ", ".join(f"{k} {v}" for k, v in summary["groups"].items()))
    return "\n".join(lines)
