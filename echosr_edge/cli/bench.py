"""echosr-edge bench: latency and fidelity report for a bundle, every backend side by side."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.cli._trust import trust_option


@click.command("bench")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--device", "devices", multiple=True, default=("all",), show_default=True,
              help="Device profile(s) to bench (repeatable); 'all' benches every profile this machine runs.")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(min=1), help="Timed runs per target.")
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(min=0))
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads per engine (default: all cores).")
@click.option("--hint", type=click.Choice(["latency", "throughput"]), default="latency", show_default=True,
              help="OpenVINO performance hint.")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Bench on this CAMUS tree's frames (default: the bundle's verification frames).")
@click.option("--frames", "max_frames", default=64, show_default=True, type=click.IntRange(min=1), help="Frames drawn from --data.")
@click.option("--torch-checkpoints", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with NAME.pt for each bundle model: adds the PyTorch FP32 baseline (needs the 'train' extra).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for bench.json, bench.md and PNGs (default: BUNDLE/../report).")
@click.option("--profile", "model_profile", default="default", show_default=True, help="Bundle profile to bench (default, realtime).")
@click.option("--frontier", is_flag=True, help="Speed/accuracy frontier of every SR model of the bundle, bicubic and no SR (needs --data).")
@click.option("--frontier-classifiers", help="Profile whose classifiers every frontier row uses (default: realtime if present).")
@click.option("--poor-frames", default="held-out", show_default=True, type=click.Choice(["held-out", "all"]),
              help="Frontier accuracy on the held-out patients' poor frames, or on every poor frame (when no model trained on poor frames).")
@click.option("--split-seed", default=0, show_default=True, help="Frontier: the patient split seed training used.")
@click.option("--test-fraction", default=0.2, show_default=True, type=click.FloatRange(0.01, 0.99), help="Frontier: held-out patient fraction.")
@click.option("--no-build", is_flag=True, help="jetson/cuda: refuse to build missing TensorRT engines (name the command instead).")
@trust_option
def command(bundle, devices, runs, warmup, threads, hint, data, max_frames, torch_checkpoints, out, model_profile, frontier,
            frontier_classifiers, poor_frames, split_seed, test_fraction, trust, no_build=False) -> None:
    """Bench BUNDLE: per-stage latency, fps, memory, size and fidelity against FP32 for every target."""
    from echosr_edge.devices.detect import detect_devices
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.bench import bench_targets, bundle_targets, format_table, load_frames, write_report
    from echosr_edge.runtime.session import open_verified, resolve_device

    manifest, _ = open_verified(bundle, trust)
    statuses = {s.name: s for s in detect_devices()}
    names = [n for n in statuses if statuses[n].available] if "all" in devices else list(devices)
    profiles = []
    for name in names:
        status = statuses.get(name)
        if status is None:
            get_profile(name)  # raises with the known names
        if not status.available:
            click.echo(f"skipping device {name}: {status.reason}", err=True)
            continue
        profiles.append(resolve_device(get_profile(name).with_formats(status.formats), threads=threads, openvino_hint=hint))
    if frontier:
        from echosr_edge.cli._frontier import run_frontier_command

        run_frontier_command(bundle, manifest, profiles, data, out, runs, warmup, frontier_classifiers, poor_frames,
                             split_seed, test_fraction)
        return
    manifest.for_profile(model_profile)  # an unknown profile is refused before any engine loads
    if data:
        from echosr_edge.runtime.bench_data import frames_from_tree

        frames, labels = frames_from_tree(data, manifest, max_frames)
    else:
        frames, labels = load_frames(bundle, manifest)
    baseline = None
    if torch_checkpoints:
        from echosr_edge.export.torch_engine import find_checkpoints, torch_target

        baseline = torch_target(manifest.for_profile(model_profile), find_checkpoints(torch_checkpoints, manifest), threads)
    from echosr_edge.cli._engines import prepare_engines

    for profile in profiles:  # the default-precision engines this device builds from the ONNX, before timing
        prepare_engines(bundle, manifest.for_profile(model_profile), profile, None, no_build)
    targets = bundle_targets(bundle, manifest, profiles, profile=model_profile)
    report = bench_targets(
        targets, frames, labels, runs, warmup, baseline, bundle=str(bundle), threads=threads,
        on_row=lambda r: click.echo(f"  {r.format} {r.precision}: {r.status}"
                                    + (f", p50 {r.stages['total'].p50:.1f} ms" if r.stages else ""), err=True),
    )
    json_path, md_path = write_report(report, out or Path(bundle).parent / "report")
    m = report.machine
    click.echo(f"{m['cpu']}, {m['cores']} cores, SIMD {' '.join(m['simd'])}; {report.runs} runs × batch 1; reference {report.reference}")
    click.echo(format_table(report))
    click.echo(f"report: {json_path} and {md_path}")
