"""echosr-edge run: live enhance-then-classify on a camera, stream or file (torch-free)."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.cli._live_view import start_live_view, tls_options
from echosr_edge.cli._trust import trust_option

from echosr_edge.devices.profiles import DEVICE_NAMES


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command("run")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--source", help="Video file, image folder, NIfTI/DICOM file or folder, or stream URL (rtsp://, http://).")
@click.option("--camera", type=click.IntRange(min=0), help="Camera index (instead of --source).")
@click.option("--device", default="auto", show_default=True, help=f"Device profile: {', '.join(DEVICE_NAMES)}.")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]), help="Artifact precision (default: the device's best).")
@click.option("--profile", "model_profile", default="default", show_default=True,
              help="Bundle profile: default (the study's SRResNet) or realtime (the distilled student), if exported.")
@click.option("--enhance", default="auto", show_default=True, type=click.Choice(["auto", "always", "never"]),
              help="auto: enhance frames the bundle's quality model does not rate 'good'.")
@click.option("--headless", is_flag=True, help="No window.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), help="JSON-lines log, one line per frame.")
@click.option("--record", "record_path", type=click.Path(dir_okay=False, path_type=Path), help="Record original | enhanced to an MP4.")
@click.option("--segment-seconds", default=5.0, show_default=True, type=click.FloatRange(min=0.5),
              help="--record writes segments of this length (rec_000.mp4, …): a kill or power cut loses at most one.")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option("--realtime", is_flag=True, help="Play files at their frame rate, dropping frames the pipeline cannot keep up with.")
@click.option("--strict", is_flag=True, help="Refuse to run when the start-up check is outside the bundle's budgets.")
@click.option("--recheck", is_flag=True, help="Run the start-up check even if it passed on this machine with the same engines before.")
@click.option("--overlap", default="auto", show_default=True, type=click.Choice(["auto", "on", "off"]),
              help="Run SR of frame n+1 while frame n is classified (live sources; auto: when the cores hold both stages).")
@click.option("--dla", type=click.IntRange(min=0), help="Run TensorRT engines on this DLA core (Jetson).")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads per engine (default: all cores).")
@click.option("--no-crop", is_flag=True, help="Do not crop frames to the ultrasound sector.")
@click.option("--stats-every", default=5.0, show_default=True, type=click.FloatRange(min=0.5), help="Seconds between latency reports.")
@click.option("--serve", "serve_at", is_flag=False, flag_value="127.0.0.1:8765", default=None,
              help="Serve the live view to a browser at [HOST:]PORT (default 127.0.0.1:8765; needs the 'web' extra).")
@click.option("--no-auth", is_flag=True, help="With --serve on a non-loopback address: no access token (not recommended).")
@tls_options
@trust_option
@click.option("--no-build", is_flag=True, help="jetson/cuda: refuse to start when TensorRT engines must be built first (names the command).")
@click.option("--engine-cache", type=click.Path(file_okay=False, path_type=Path), help="TensorRT engine cache (default: $ECHOSR_ENGINE_CACHE or ~/.cache/echosr-edge/engines).")
@click.option("--give-up-after", type=click.FloatRange(min=1), help="Stop when a live source has no frames for this many seconds (default: keep retrying).")
def command(
    bundle: Path, source: str | None, camera: int | None, device: str, precision: str | None, enhance: str,
    headless: bool, log_path: Path | None, record_path: Path | None, max_frames: int | None, realtime: bool,
    strict: bool, dla: int | None, threads: int | None, no_crop: bool, stats_every: float, serve_at: str | None,
    no_auth: bool, trust: tuple[Path, ...], give_up_after: float | None, model_profile: str = "default",
    no_build: bool = False, engine_cache: Path | None = None, recheck: bool = False, overlap: str = "auto",
    segment_seconds: float = 5.0, tls_cert: Path | None = None, tls_key: Path | None = None, insecure_http: bool = False,
) -> None:
    """Run the bundle's pipeline on a camera, a stream or a file; show, log or record the results."""
    import os

    from echosr_edge.cli._engines import engine_policy
    from echosr_edge.runtime.display import display_available
    from echosr_edge.runtime.enhanced_view import cached_sr_check, pane_title
    from echosr_edge.runtime.live import ReconnectPolicy
    from echosr_edge.runtime.overlap import overlap_pays
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.recording import SegmentedRecordSink, segment_list_path
    from echosr_edge.runtime.session import open_session
    from echosr_edge.runtime.signals import StopSignals
    from echosr_edge.runtime.sinks import WindowSink
    from echosr_edge.runtime.sources import open_source

    if (source is None) == (camera is None):
        raise click.UsageError("give one of --source or --camera")
    if (tls_cert or tls_key or insecure_http) and not serve_at:
        raise click.UsageError("--tls-cert, --tls-key and --insecure-http go with --serve")
    # Cheap checks first: a wrong device or a missing file is reported before models load.
    policy = ReconnectPolicy(give_up_after_s=give_up_after)
    frames = open_source(camera if camera is not None else source, realtime=realtime, policy=policy)
    engines = engine_policy(no_build, engine_cache)  # jetson/cuda: build missing TensorRT engines first, saying so
    session = open_session(
        bundle, device, precision=precision, bundle_profile=model_profile, trust=trust,
        threads=threads, enhance=enhance, crop=not no_crop, dla=dla, strict=strict, engines=engines, recheck=recheck,
    )
    pipeline = session.pipeline
    if device == "auto":
        _say(f"device {session.device.name}: {session.device_reason}")
    _say(session.describe())
    for line in session.notes + session.check_lines():
        _say(line)
    sr_check = cached_sr_check(bundle, session.manifest, pipeline, session.device, recheck)  # what the second pane may be called
    if sr_check is not None:
        _say(f"second pane: {pane_title(sr_check, pipeline.scale)}")
        if not sr_check.beats_bicubic:
            _say("warning: SR scores below bicubic against the original: no frame is called enhanced")

    pays, why = overlap_pays(pipeline, session.device.threads, os.cpu_count(), frames.live)
    overlapping = overlap == "on" or (overlap == "auto" and pays)
    if overlap != "off":
        _say(f"overlapped stages {'on' if overlapping else 'off'}: " + ("asked for with --overlap on" if overlap == "on" else why))

    sinks = []
    if not headless:
        if display_available():
            sinks.append(WindowSink())
            sinks[-1].sr_check = sr_check
        else:
            _say("no display (or OpenCV without a GUI): running headless")
    recorder = None
    if record_path:
        recorder = SegmentedRecordSink(record_path, fps=frames.fps or 25.0, segment_seconds=segment_seconds)
        recorder.sr_check = sr_check
        sinks.append(recorder)
        _say(f"recording: segments of {segment_seconds:g} s beside {record_path}, listed in {segment_list_path(record_path)}")
    server = None
    if serve_at:
        from echosr_edge.runtime.web import LiveHub, parse_address
        from echosr_edge.runtime.web.sink import WebSink

        try:
            host, port = parse_address(serve_at)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--serve") from exc
        modes = ("auto", "always", "never") if pipeline.quality is not None else ("always", "never")
        if pipeline.sr is None:
            modes = ("never",)
        hub = LiveHub(snapshot_dir=(log_path.parent if log_path else Path.cwd()), enhance_mode=pipeline.enhance, enhance_modes=modes)
        sinks.append(WebSink(hub, pipeline, sr_check))
        server = start_live_view(hub, host, port, no_auth, tls_cert, tls_key, insecure_http, _say)

    # SIGTERM (systemctl stop) and SIGHUP end the run as the source's end would: every sink closes, exit 0.
    stop = StopSignals().install()
    try:
        summary = run_source(
            pipeline,
            frames,
            log_path=log_path,
            max_frames=max_frames,
            sinks=sinks,
            stats_every_s=stats_every,
            on_stats=lambda r: _say(
                f"{r.frames} frames in {r.seconds:.1f} s ({r.fps:.1f} fps): p50 {r.p50_ms:.1f} ms, p95 {r.p95_ms:.1f} ms, "
                f"latency p50 {r.latency_p50_ms:.1f} ms, dropped {r.dropped}"
            ),
            on_event=lambda e: _say(f"{e.source}: {e.detail}"),
            overlap=overlapping,
            should_stop=stop,
        )
    finally:
        stop.restore()
        if server is not None:
            server.stop()
    if stop.received:
        summary.stopped_by = stop.received
    recording = ""
    if recorder is not None:
        names = [p.name for p in recorder.segments] or ["none"]
        recording = f"; recording: {len(recorder.segments)} segment(s) {names[0]}…{names[-1]} in {record_path.parent}"
    click.echo(
        f"{summary.frames} frames from {frames.description} ({summary.stopped_by}): {summary.fps:.1f} fps, "
        f"latency p50 {summary.latency_p50_ms:.1f} ms (compute p50 {summary.p50_ms:.1f}, p95 {summary.p95_ms:.1f} ms), "
        f"dropped {summary.dropped}" + (", stages overlapped" if summary.overlap else "")
        + (f"; log: {log_path}" if log_path else "")
        + recording
    )
