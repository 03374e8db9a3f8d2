"""The batch's results, rebuilt from the per-input records: JSON lines, two CSVs, an HTML report.

Each output is streamed into a temporary file and renamed, and every input of the run appears
exactly once (an input with no record, which only a failure of the batch itself can leave, is
listed as an error). The report is one self-contained HTML file: counts, the failed files with
their errors, before/after thumbnails of the poorest frames (base64 PNG) and a per-file table.
"""

from __future__ import annotations

import csv
import heapq
import html
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from echosr_edge.runtime.batch_store import RecordStore, atomic_text

POOREST_SHOWN = 12
PROVENANCE_FILE = "provenance.json"
FILE_ROWS_SHOWN = 2000

FILE_COLUMNS = [
    "file", "kind", "status", "error", "frames", "view", "view_share", "quality", "quality_share",
    "ed_frames", "es_frames", "poorest_frame", "poorest_score", "mean_ms", "enhanced_dir", "provenance_id",
]
HTML_HIDDEN = ("enhanced_dir", "provenance_id")  # the report shows the provenance block once, above


@dataclass(frozen=True)
class ReportPaths:
    """Where the batch's outputs are."""

    results_jsonl: Path
    results_csv: Path
    frames_csv: Path
    report_html: Path


@dataclass
class Totals:
    """Counts over all inputs of the run."""

    ok: int = 0
    failed: int = 0
    frames: int = 0
    errors: tuple[tuple[str, str], ...] = ()
    views: Counter = field(default_factory=Counter)
    qualities: Counter = field(default_factory=Counter)
    frame_qualities: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    ranked_by: set = field(default_factory=set)


def _missing(relative: str) -> dict:
    return {"file": relative, "kind": "?", "status": "error", "error": "no record: the file was not processed",
            "metadata": {}, "frames": [], "summary": {}, "thumbnails": []}


def _file_row(record: dict) -> dict:
    s = record.get("summary") or {}
    ok = record["status"] == "ok"
    return {
        "file": record["file"],
        "kind": record.get("kind", "?"),
        "status": record["status"],
        "error": record.get("error") or "",
        "frames": len(record.get("frames") or []),
        "view": s.get("view", ""),
        "view_share": "" if s.get("view_share") is None else s["view_share"],
        "quality": s.get("quality", ""),
        "quality_share": "" if s.get("quality_share") is None else s["quality_share"],
        "ed_frames": " ".join(map(str, s.get("ed_frames", []))),
        "es_frames": " ".join(map(str, s.get("es_frames", []))),
        "poorest_frame": s.get("poorest_frame", ""),
        "poorest_score": s.get("poorest_score", ""),
        "mean_ms": s.get("mean_ms", ""),
        "enhanced_dir": f"enhanced/{record['file']}" if ok and any(f.get("enhanced_image") for f in record["frames"]) else "",
        "provenance_id": (record.get("provenance") or {}).get("id", ""),
    }


def frame_columns(tasks: dict[str, list[str]]) -> list[str]:
    """frames.csv's columns for a bundle whose classifiers are ``tasks`` (name → labels)."""
    probs = [f"p_{task}_{label}" for task, labels in tasks.items() for label in labels]
    return ["file", "frame", "quality", "view", "phase", "poorness", "poorness_by", "enhanced", "enhanced_image", *probs, "ms",
            "provenance_id"]


def _frame_row(relative: str, frame: dict) -> dict:
    row = {
        "file": relative,
        "frame": frame["frame"],
        "poorness": "" if frame["poorness"] is None else frame["poorness"],
        "poorness_by": frame["poorness_by"],
        "enhanced": frame["enhanced"],
        "enhanced_image": frame["enhanced_image"] or "",
        "ms": frame["ms"]["total"],
        "provenance_id": (frame.get("provenance") or {}).get("id", ""),
    }
    row.update({task: frame["labels"].get(task, "unknown") for task in ("view", "phase")})
    row["quality"] = frame.get("quality") or "unknown"
    for task, probs in frame["probabilities"].items():
        row.update({f"p_{task}_{label}": p for label, p in probs.items()})
    return row


def write_outputs(out: Path, relatives: list[str], store: RecordStore, context: dict) -> tuple[Totals, ReportPaths]:
    """Rebuild every output of the batch in ``out`` from the records of ``relatives``.

    ``context`` describes the run for the report ('input', 'bundle', 'tasks' as name → labels,
    'unsupported', 'filtered', ...).
    """
    out = Path(out)
    paths = ReportPaths(out / "results.jsonl", out / "results.csv", out / "frames.csv", out / "report.html")
    totals = Totals()
    errors: list[tuple[str, str]] = []
    poorest: list[tuple[float, str, int, dict]] = []  # min-heap of the worst frames across files
    file_rows: list[dict] = []
    blocks: dict[str, dict] = {}  # provenance id → block, written to provenance.json
    with atomic_text(paths.results_jsonl) as jsonl, atomic_text(paths.results_csv) as files_f, atomic_text(paths.frames_csv) as frames_f:
        files_csv = csv.DictWriter(files_f, FILE_COLUMNS)
        frames_csv = csv.DictWriter(frames_f, frame_columns(context.get("tasks", {})), extrasaction="ignore")
        files_csv.writeheader()
        frames_csv.writeheader()
        for relative, record in store.iter_records(relatives):
            record = record or _missing(relative)
            thumbnails = record.pop("thumbnails", None) or []
            record.pop("schema", None)
            jsonl.write(json.dumps(record, separators=(",", ":")) + "\n")
            if record.get("provenance"):
                blocks[record["provenance"]["id"]] = record["provenance"]
            row = _file_row(record)
            files_csv.writerow(row)
            if len(file_rows) < FILE_ROWS_SHOWN:
                file_rows.append(row)
            totals.kinds[record.get("kind", "?")] += 1
            if record["status"] != "ok":
                totals.failed += 1
                errors.append((relative, record.get("error") or "unknown error"))
                continue
            totals.ok += 1
            totals.frames += len(record["frames"])
            totals.views[row["view"]] += 1
            totals.qualities[row["quality"]] += 1
            for frame in record["frames"]:
                frames_csv.writerow(_frame_row(relative, frame))
                totals.frame_qualities[frame["labels"].get("quality", "unknown")] += 1
                totals.ranked_by.add(frame["poorness_by"])
            for thumb in thumbnails:
                entry = (thumb["poorness"], relative, thumb["frame"], thumb)
                if len(poorest) < POOREST_SHOWN:
                    heapq.heappush(poorest, entry)
                elif entry[:3] > poorest[0][:3]:
                    heapq.heapreplace(poorest, entry)
    totals.errors = tuple(errors)
    with atomic_text(out / PROVENANCE_FILE) as f:
        f.write(json.dumps(blocks, indent=1) + "\n")
    context = {**context, "provenance": "; ".join(json.dumps(b, separators=(",", ":")) for b in blocks.values()) or "none"}
    with atomic_text(paths.report_html) as f:
        f.write(render_html(totals, sorted(poorest, reverse=True), file_rows, context))
    return totals, paths


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:0.9em}
th{background:#f0f0f0}
.err{color:#a00}
.thumbs{display:flex;flex-wrap:wrap;gap:1em}
.thumb{border:1px solid #ccc;padding:0.5em;font-size:0.8em}
.thumb img{width:128px;height:128px;image-rendering:pixelated}
"""


def _e(value) -> str:
    return html.escape(str(value))


def _counter_table(title: str, counts: Counter) -> str:
    if not counts:
        return ""
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in sorted(counts.items()))
    return f"<h3>{_e(title)}</h3><table><tr><th>label</th><th>count</th></tr>{rows}</table>"


def render_html(totals: Totals, poorest: list[tuple], file_rows: list[dict], context: dict) -> str:
    """The human report as one self-contained HTML document."""
    total = totals.ok + totals.failed
    status = "complete" if not totals.failed else "partial"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>echosr-edge batch report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>echosr-edge batch report</h1>",
        f"<p>Run {status}: <b>{totals.ok}</b> of <b>{total}</b> files processed, "
        f"<b class='err'>{totals.failed}</b> failed; {totals.frames} frames. "
        f"Written {_e(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>",
        "<table>",
        *(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in context.items() if k != "tasks"),
        "</table>",
        "<h2>Counts</h2>",
        _counter_table("Files by kind", totals.kinds),
        _counter_table("Files by view (majority of frames)", totals.views),
        _counter_table("Files by quality (majority of frames)", totals.qualities),
        _counter_table("Frames by quality", totals.frame_qualities),
    ]
    parts.append(f"<h2>Failed files ({totals.failed})</h2>")
    if totals.errors:
        rows = "".join(f"<tr><td>{_e(f)}</td><td class='err'>{_e(msg)}</td></tr>" for f, msg in totals.errors)
        parts.append(f"<table><tr><th>file</th><th>error</th></tr>{rows}</table>")
    else:
        parts.append("<p>None.</p>")
    ranked = ", ".join(sorted(totals.ranked_by - {"none"})) or "nothing (the bundle has no classifier)"
    parts.append(f"<h2>Poorest frames</h2><p>Ranked by {_e(ranked)}; at most 3 per file. "
                 "Before: the input frame as the pipeline sees it. After: the enhanced frame.</p><div class='thumbs'>")
    for score, relative, frame, thumb in poorest:
        parts.append(
            f"<div class='thumb'><div>{_e(relative)} frame {frame}<br>poorness {score:.3f}</div>"
            f"<img alt='before' src='data:image/png;base64,{thumb['before']}'>"
            f"<img alt='after' src='data:image/png;base64,{thumb['after']}'></div>"
        )
    parts.append("</div>")
    shown = len(file_rows)
    parts.append(f"<h2>Files</h2><p>{shown} of {total} shown; all are in results.csv.</p>" if shown < total else "<h2>Files</h2>")
    head = "".join(f"<th>{_e(c)}</th>" for c in FILE_COLUMNS if c not in HTML_HIDDEN)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row[c])}</td>" for c in FILE_COLUMNS if c not in HTML_HIDDEN) + "</tr>"
        for row in file_rows
    )
    parts.append(f"<table><tr>{head}</tr>{body}</table></body></html>\n")
    return "\n".join(p for p in parts if p)
