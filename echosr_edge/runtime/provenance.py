"""Provenance: every output says which bundle, artifacts, device and software made it (IEC 62304 traceability).

The *block* describes a run and does not change while it runs: the bundle's manifest sha256
(and the key ids whose signatures hold on it), each loaded model's artifact file, sha256,
format and precision, the bundle profile, the device profile and the echosr-edge version. Its
``id`` is the first 16 hex digits of the sha256 of the block's canonical JSON, so anyone can
recompute it from the block.

Where each line is one frame (the run log, the web feed, frames.csv) the line carries the
compact per-frame part, ``{"id", "enhance", "enhanced"}`` (about 60 bytes: the enhancement
mode can change mid-run from the web page, and whether this frame was enhanced), and the
full block is written once in the same output: the run log's first frame line also carries
it as ``provenance_block`` (a frame line, not a separate header, so every line of the log
stays a frame or an event for the readers that already exist), the web page gets it from
``/api/state``, a batch folder has ``provenance.json``. Per-file batch rows (results.jsonl) and reports (bench JSON,
batch report) carry the full block itself. Repeating ~700 bytes on every frame at 25 fps
would triple a log for no information the id does not already pin.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Mapping

from echosr_edge import __version__

log = logging.getLogger(__name__)

ID_HEX = 16


def provenance_id(block: Mapping) -> str:
    """The id of a block: sha256 of its canonical JSON without the id, first 16 hex digits."""
    body = {k: v for k, v in block.items() if k != "id"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:ID_HEX]


def _valid_signers(bundle_dir: Path, raw: bytes) -> list[str]:
    from echosr_edge.bundle.signing import read_signatures
    from echosr_edge.errors import EchoSRError

    try:
        return sorted(s.key_id for s in read_signatures(bundle_dir, raw) if s.valid)
    except (EchoSRError, OSError, ValueError) as exc:  # provenance never stops a run; say it, record none
        log.warning("cannot read the bundle's signatures for provenance: %s", exc)
        return []


def build_provenance(bundle_dir: Path, artifacts: Mapping, device: str, profile: str = "default") -> dict:
    """The block of a run that loaded ``artifacts`` (model name → manifest Artifact) from ``bundle_dir``."""
    bundle_dir = Path(bundle_dir)
    raw = (bundle_dir / "manifest.json").read_bytes()
    block = {
        "bundle": {"manifest_sha256": hashlib.sha256(raw).hexdigest(), "signed_by": _valid_signers(bundle_dir, raw)},
        "models": {
            name: {"file": a.file, "sha256": a.sha256, "format": a.format, "precision": a.precision}
            for name, a in sorted(artifacts.items())
        },
        "profile": profile,
        "device": device,
        "echosr_edge": __version__,
    }
    return {"id": provenance_id(block), **block}


def frame_provenance(block: Mapping | None, enhance_mode: str, enhanced: bool) -> dict | None:
    """The compact per-frame part: the block's id, the enhancement mode, whether this frame was enhanced."""
    if block is None:
        return None
    return {"id": block["id"], "enhance": enhance_mode, "enhanced": bool(enhanced)}


def check_block(block: Mapping, manifest_sha256: str, manifest_models: Mapping, version: str = __version__) -> list[str]:
    """What in ``block`` names another bundle, artifact or version than the ones given; [] when it all matches.

    ``manifest_models``: model name → {(file, sha256), ...} of every artifact the bundle holds.
    """
    problems = []
    if provenance_id(block) != block.get("id"):
        problems.append(f"the block's id {block.get('id')} does not match its content (altered?)")
    got = (block.get("bundle") or {}).get("manifest_sha256")
    if got != manifest_sha256:
        problems.append(f"bundle {str(got)[:12]}… is not {manifest_sha256[:12]}…")
    for name, art in (block.get("models") or {}).items():
        if (art.get("file"), art.get("sha256")) not in manifest_models.get(name, set()):
            problems.append(f"artifact {name} {art.get('file')} ({str(art.get('sha256'))[:12]}…) is not in the bundle")
    if block.get("echosr_edge") != version:
        problems.append(f"echosr-edge {block.get('echosr_edge')} is not {version}")
    return problems


def bundle_reference(bundle_dir: Path) -> tuple[str, dict[str, set]]:
    """(manifest sha256, model name → {(file, sha256)}) of a bundle, for ``check_block``."""
    raw = (Path(bundle_dir) / "manifest.json").read_bytes()
    data = json.loads(raw)
    models: dict[str, set] = {}
    for entry in data.get("models", []):
        models[entry["name"]] = {(a["file"], a["sha256"]) for a in entry.get("artifacts", [])}
    return hashlib.sha256(raw).hexdigest(), models


def verify_batch_provenance(out: Path, bundle_dir: Path, version: str = __version__) -> tuple[int, list[tuple[str, list[str]]]]:
    """Check every row of a batch folder against ``bundle_dir``: (rows checked, [(row, problems)] that differ).

    Rows are results.jsonl's (each carries its block; its frames must carry the same id) and
    results.csv's (their ``provenance_id`` must key to a block in provenance.json that matches).
    """
    import csv

    from echosr_edge.errors import EchoSRError

    out = Path(out)
    results = out / "results.jsonl"
    if not results.is_file():
        raise EchoSRError(f"{out} is not a batch output folder (no results.jsonl)")
    sha, models = bundle_reference(bundle_dir)
    blocks_path = out / "provenance.json"
    blocks = json.loads(blocks_path.read_text()) if blocks_path.is_file() else {}
    checked, bad = 0, []
    for number, line in enumerate(results.read_text().splitlines(), 1):
        record = json.loads(line)
        label = f"results.jsonl:{number} {record.get('file', '?')}"
        checked += 1
        block = record.get("provenance")
        if not block:
            bad.append((label, ["no provenance block"]))
            continue
        problems = check_block(block, sha, models, version)
        ids = {(f.get("provenance") or {}).get("id") for f in record.get("frames") or []}
        if ids - {block.get("id")}:
            problems.append(f"frames name provenance {', '.join(sorted(map(str, ids - {block.get('id')})))}")
        if problems:
            bad.append((label, problems))
    csv_path = out / "results.csv"
    if csv_path.is_file():
        with open(csv_path, newline="", encoding="utf-8") as f:
            for number, row in enumerate(csv.DictReader(f), 2):
                checked += 1
                label = f"results.csv:{number} {row.get('file', '?')}"
                block = blocks.get(row.get("provenance_id") or "")
                problems = check_block(block, sha, models, version) if block else [
                    f"provenance id {row.get('provenance_id') or '(none)'} has no block in provenance.json"]
                if problems:
                    bad.append((label, problems))
    return checked, bad
