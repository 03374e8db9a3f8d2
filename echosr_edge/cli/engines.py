"""echosr-edge engines build: TensorRT engines built on this device from a bundle's ONNX, checked, cached."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.cli._trust import trust_option, trust_store


@click.group("engines")
def command() -> None:
    """TensorRT engines for this device (built from the bundle's ONNX, cached per TensorRT and GPU)."""


@command.command("build")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--device", default="jetson", show_default=True, type=click.Choice(["jetson", "cuda"]), help="Device profile.")
@click.option("--precision", default="fp16", show_default=True, type=click.Choice(["fp32", "fp16", "int8"]),
              help="int8 builds from the bundle's symmetric QDQ ONNX.")
@click.option("--dla", type=click.IntRange(min=0), help="Build for this DLA core (Jetson), GPU fallback on.")
@click.option("--workspace", default=1.0, show_default=True, type=click.FloatRange(min=0.0625), help="Builder workspace in GiB.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help="Engine cache folder (default: $ECHOSR_ENGINE_CACHE or ~/.cache/echosr-edge/engines).")
@click.option("--force", is_flag=True, help="Build again even when the cache has the engines.")
@trust_option
def build(bundle: Path, device: str, precision: str, dla: int | None, workspace: float, cache: Path | None, force: bool,
          trust: tuple[Path, ...]) -> None:
    """Build, check against the bundle's FP32 references, and cache an engine per model."""
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.cli._engines import describe_event, describe_start
    from echosr_edge.devices.detect import require_device
    from echosr_edge.runtime.engine_build import BuildSettings, build_engines, ensure_engines, plan_engines
    from echosr_edge.runtime.engine_cache import EngineCache

    profile = require_device(device)  # "TensorRT is missing" is one line, before the bundle is read
    if "tensorrt" not in profile.formats:
        raise click.ClickException(f"device {device!r} has no TensorRT here (only {', '.join(profile.formats)})")
    manifest = open_bundle(bundle, trust=trust_store(trust))
    settings = BuildSettings(precision=precision, dla_core=dla, workspace_gb=workspace, cache_dir=cache)
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    if force:
        plans = plan_engines(bundle, manifest, settings)
        say(describe_start(plans, EngineCache(cache).last_build()))
        report = build_engines(bundle, manifest, plans, settings, lambda e: say(describe_event(e)))
    else:
        report = ensure_engines(bundle, manifest, settings, on_start=lambda m, last: say(describe_start(m, last)),
                                on_progress=lambda e: say(describe_event(e)))
    where = EngineCache(cache).root
    if report is None:
        click.echo(f"every {precision} engine of {bundle} is already cached for this device in {where}")
    else:
        click.echo(f"built {len(report.built)} engine(s) in {report.seconds:.1f} s into {where}")
