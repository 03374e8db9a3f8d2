"""Shared by run, bench and batch: build the device's TensorRT engines before the first frame."""

from __future__ import annotations

from pathlib import Path

import click



def _say(message: str) -> None:
    click.echo(message, err=True)


def describe_event(event) -> str:
    """One progress line of an engine build."""
    head = f"  [{event.index}/{event.total}] {event.model}"
    if event.stage == "building":
        return f"{head}: building {event.detail} ..."
    if event.stage == "checking":
        return f"{head}: built in {event.elapsed_s:.1f} s; checking {event.detail}"
    if event.stage == "cached":
        return f"{head}: cached after {event.elapsed_s:.1f} s ({event.detail})"
    return f"{head}: FAILED after {event.elapsed_s:.1f} s ({event.detail})"


def describe_start(missing, last_build: dict | None) -> str:
    """What is about to be built, said before it starts, with how long the last build here took."""
    names = ", ".join(p.model for p in missing)
    last = (f"the last build here took {last_build['seconds'] / 60:.1f} min" if last_build
            else "no earlier build on record; an Orin takes minutes per model")
    return (f"building {len(missing)} TensorRT engine(s) for this device before starting ({names}; "
            f"{missing[0].precision}); {last}")


def engine_policy(no_build: bool, cache: Path | None = None):
    """The EnginePolicy of a command: build with a line per step, or refuse with --no-build."""
    from echosr_edge.runtime.engine_build import EnginePolicy

    return EnginePolicy(
        allow_build=not no_build, cache_dir=cache,
        on_start=lambda missing, last: _say(describe_start(missing, last)),
        on_progress=lambda event: _say(describe_event(event)),
    )


def prepare_engines(bundle: Path, manifest, profile, precision: str | None, no_build: bool, cache: Path | None = None) -> None:
    """Build the engines ``profile`` will load from the cache when some are missing (or refuse, with --no-build)."""
    from echosr_edge.runtime.engine_build import prepare_device_engines

    report = prepare_device_engines(bundle, manifest, profile, precision, engine_policy(no_build, cache))
    if report is not None:
        _say(f"built and cached {len(report.built)} engine(s) in {report.seconds:.1f} s")
