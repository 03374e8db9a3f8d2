"""echosr-edge inspect: what the readers see in one file, as ffprobe is for video (torch-free)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from echosr_edge.cli._trust import trust_option


def _text(inspection) -> str:
    d = inspection.to_dict()
    lines = [f"{d['path']}: {d['format']}"]
    lines.append(f"  frames       {d['frames']}" + (f" at {d['fps']:.2f} fps" if d["fps"] else ""))
    lines.append(f"  size         {d['height']} x {d['width']} (rows x columns)")
    lines.append(f"  colour       {d['colour']}" + (f"; {d['encoding']}" if d["encoding"] else ""))
    if d["spacing_mm"]:
        row, col = d["spacing_mm"]
        lines.append(f"  spacing      {row:.4g} x {col:.4g} mm (from {d['spacing_source']})")
    else:
        lines.append("  spacing      unknown")
    if d["region"]:
        top, left, bottom, right = d["region"]
        lines.append(f"  region       rows {top}-{bottom}, columns {left}-{right} ({bottom - top} x {right - left}; {d['region_source']})")
    else:
        lines.append("  region       none found")
    if d["quality"]:
        probs = ", ".join(f"{k} {v:.2f}" for k, v in (d["quality_probabilities"] or {}).items())
        lines.append(f"  quality      {d['quality']} ({probs})")
    lines.extend(f"  note: {note}" for note in d["notes"])
    return "\n".join(lines)


@click.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the inspection as JSON.")
@click.option("--save", "save_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the pre-processed (grey) frame with the image region drawn, as PNG.")
@click.option("--frame", "frame_index", default=0, show_default=True, type=click.IntRange(min=0), help="Which frame to look at.")
@click.option("--bundle", type=click.Path(path_type=Path), help="Estimate the frame's quality with this bundle's quality model.")
@trust_option
def command(file: Path, as_json: bool, save_path: Path | None, frame_index: int, bundle: Path | None, trust: tuple[Path, ...]) -> None:
    """Show what echosr-edge reads from FILE: format, frames, size, colour, spacing, image region, quality."""
    import cv2

    from echosr_edge.errors import DataError
    from echosr_edge.runtime.inspect import inspect_file, preview

    inspection, frame = inspect_file(file, frame_index, bundle, trust)
    if save_path is not None:
        save_path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(save_path), preview(frame, inspection)):
            raise DataError(save_path, "cannot write the preview (give a .png path in a writable folder)")
    click.echo(json.dumps(inspection.to_dict(), indent=2) if as_json else _text(inspection))
    if save_path is not None and not as_json:
        click.echo(f"  preview      {save_path}")
