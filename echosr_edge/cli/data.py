"""echosr-edge data …: synthesise CAMUS trees, summarise them (Table 1), write task splits."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from echosr_edge.data.records import QUALITIES, RELEASES

_SUMMARY_EXIT_CODES = """\b
Exit codes:
  0  the table was printed (skipped patients and stray files, if any, are listed after it)
  1  ROOT is not a CAMUS tree, or, with --strict, a file is unreadable or stray
  2  usage error (unknown option, ROOT does not exist)"""


def _size(value: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in value.lower().split("x"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not HxW (e.g. 320x256)") from exc
    if min(h, w) < 16:
        raise click.BadParameter("frames must be at least 16x16")
    return h, w


@contextmanager
def _quiet_reader(verbose: bool):
    """The CLI lists skipped files itself; keep the reader's per-file warnings for --verbose."""
    logger = logging.getLogger("echosr_edge.data.camus")
    previous = logger.level
    if not verbose:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _read(ctx: click.Context, root: Path, strict: bool, release: str | None):
    from echosr_edge.data.camus import read_camus

    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    with _quiet_reader(verbose), click.progressbar(length=0, label="reading patients", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        return read_camus(root, strict=strict, release=release, progress=progress)


@click.group("data")
def command() -> None:
    """CAMUS data: synthesise trees, summarise them (Table 1), write task splits."""


@command.command("synth")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--patients", default=50, show_default=True, type=click.IntRange(min=1), help="Number of patients.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--style", type=click.Choice(["sim", "simple"]), default="sim", show_default=True, help="sim: the B-mode simulator (ground truth beside every frame); simple: ellipses with speckle (fast fixtures).")
@click.option("--control", type=click.Choice(["positive", "negative"]), default=None, help="A planted control (sim): poor differs from good only by lost resolution, a wider PSF and a ↓4 capture (positive), or only by contrast/haze (negative).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="Processes forming patients (sim).")
@click.option("--release", type=click.Choice(RELEASES), default="2023", show_default=True, help="Layout: 2023 NIfTI or 2019 MetaImage (.mhd + .raw).")
@click.option("--full-release", is_flag=True, help="Write the release's whole tree (2023: database_nifti/ + database_split/; 2019: training/ + testing/) instead of bare patient folders.")
@click.option("--cines", is_flag=True, help="Also write each view's ED→ES sequence.")
@click.option("--masks/--no-masks", default=None, help="Write the _gt segmentation masks (default: with --style sim only).")
@click.option("--quality-mix", type=click.Choice(["table1", "even"]), default="table1", show_default=True, help="Quality labels per view: CAMUS's Table 1 proportions, or equal thirds.")
@click.option("--size", "size_text", default=None, help="Frame size HxW in pixels (simple; default 320x256). sim frames are 556x678 at 0.27 mm.")
@click.option("--spacing", default=None, type=click.FloatRange(min=0.001), help="Pixel spacing in mm (simple; default 0.3).")
def synth(out: Path, patients: int, seed: int, style: str, control: str | None, workers: int, release: str, full_release: bool,
          cines: bool, masks: bool | None, quality_mix: str, size_text: str | None, spacing: float | None) -> None:
    """Write a synthetic CAMUS-format tree to OUT (2023 NIfTI layout by default)."""
    from echosr_edge.data.synth_tree import write_synthetic_camus

    if style == "sim" and (size_text or spacing):
        raise click.BadParameter("the simulator forms frames at its native size and spacing; --size/--spacing are for --style simple", param_hint="--size/--spacing")
    if control and style != "sim":
        raise click.BadParameter("planted controls need --style sim", param_hint="--control")
    size = _size(size_text or "320x256")
    spacing = spacing or 0.3
    with click.progressbar(length=patients, label="patients", file=sys.stderr) as bar:
        write_synthetic_camus(
            out, patients=patients, seed=seed, size=size, spacing=(spacing, spacing),
            progress=lambda done, total: bar.update(1), release=release, full_release=full_release,
            cines=cines, masks=masks, quality_mix=quality_mix, style=style, control=control, workers=workers,
        )
    kind = f"{style}" + (f", {control} control" if control else "")
    click.echo(f"wrote {patients} patients ({patients * 4} frames, {kind}, CAMUS {release} layout) to {out}")


@command.command("summary", epilog=_SUMMARY_EXIT_CODES)
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the summary as JSON to this file.")
@click.option("--strict", is_flag=True, help="Make an unreadable or stray file fatal (exit 1) instead of skipping it.")
@click.option("--release", type=click.Choice(RELEASES), default=None, help="Override release detection.")
@click.option("--reference", type=click.Choice(QUALITIES), default="poor", show_default=True, help="Tier whose counts size the task sets.")
@click.pass_context
def summary(ctx: click.Context, root: Path, json_path: Path | None, strict: bool, release: str | None, reference: str) -> None:
    """Print Table 1 (frames by view × phase × quality) of the CAMUS tree at ROOT.

    Either release is read; patients with an unreadable file are skipped and listed, and the
    table counts the rest.
    """
    from echosr_edge.data.summary import format_summary, summarise

    tree = _read(ctx, root, strict, release)
    result = summarise(tree, reference)
    click.echo(format_summary(result))
    for title, problems in (("skipped patients", result["skipped"]), ("stray files (ignored)", result["stray"])):
        if problems:
            click.echo(f"\n{title} ({len(problems)}):")
            for p in problems:
                click.echo(f"  {p['path']}: {p['problem']}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        click.echo(f"\nwrote {json_path}")


@command.command("split")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The split file to write (JSON).")
@click.option("--unit", type=click.Choice(["patient", "frame"]), default="patient", show_default=True, help="patient: no patient on both sides (honest); frame: the paper's frame-level split.")
@click.option("--seed", "seeds", multiple=True, type=int, default=(0,), show_default=True, help="Seed; repeat for several repeats.")
@click.option("--test-fraction", default=0.2, show_default=True, type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True))
@click.option("--reference", type=click.Choice(QUALITIES), default="poor", show_default=True, help="Tier whose counts size the task sets.")
@click.option("--release", type=click.Choice(RELEASES), default=None, help="Override release detection.")
@click.option("--strict", is_flag=True, help="Fail on an unreadable or stray file instead of skipping it.")
@click.pass_context
def split(ctx: click.Context, root: Path, out: Path, unit: str, seeds: tuple[int, ...], test_fraction: float, reference: str, release: str | None, strict: bool) -> None:
    """Write the class-balanced view and phase task sets of every quality tier, split train/test, to OUT."""
    from echosr_edge.data.tasks import build_task_splits, describe_splits, source_of

    tree = _read(ctx, root, strict, release)
    if tree.skipped:
        click.echo(f"{len(tree.skipped)} patient(s) skipped (run 'echosr-edge data summary' for the list)", err=True)
    split_file = build_task_splits(
        tree.frames, unit=unit, seeds=tuple(dict.fromkeys(seeds)), test_fraction=test_fraction, reference=reference,
        source=source_of(tree.root, tree.release, tree.frames),
    )
    split_file.save(out)
    click.echo(f"{unit}-level split, composition per tier ({reference} as reference): "
               + ", ".join(f"{k} {v}" for k, v in split_file.composition.items()))
    for row in describe_splits(split_file):
        classes = " / ".join(f"{k} {v}" for k, v in row["test_classes"].items())
        click.echo(f"  seed {row['seed']} {row['task']:5s} {row['tier']:6s} train {row['train']:4d}  test {row['test']:4d} ({classes})")
    click.echo(f"wrote {out} ({len(split_file.seeds)} seed(s))")
