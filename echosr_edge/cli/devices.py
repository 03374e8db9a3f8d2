"""echosr-edge devices: which device profiles run on this machine, and why not the others."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("devices")
@click.option("--bundle", type=click.Path(path_type=Path), help="Also show which of this bundle's artifacts each device would run.")
def command(bundle: Path | None) -> None:
    """List the device profiles (cpu, intel-cpu, jetson, cuda) this machine can run."""
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.devices.detect import DeviceUnavailable, MachineFacts, choose_device, detect_devices
    from echosr_edge.devices.profiles import ON_DEVICE, get_profile
    from echosr_edge.errors import BundleError

    facts = MachineFacts()
    manifest = open_bundle(bundle) if bundle else None
    for status in detect_devices(facts):
        profile = get_profile(status.name)
        head = f"{status.name:<10} {'yes' if status.available else 'no ':<4}"
        if not status.available:
            click.echo(f"{head} {profile.description}\n{'':16}{status.reason}")
            continue
        click.echo(f"{head} {profile.description} [{', '.join(status.formats)}; {' > '.join(profile.precisions)}]")
        for note in status.notes:
            click.echo(f"{'':16}{note}")
        if manifest is not None:
            runnable = profile.with_formats(status.formats)
            for entry in manifest.models:
                try:
                    art = runnable.choose_artifact(entry)
                    where = f"built on this device from {art.file}" if art.build.get(ON_DEVICE) else art.file
                    click.echo(f"{'':16}{entry.name}: {art.format}/{art.precision} ({where})")
                except BundleError:
                    have = ", ".join(f"{a.format}/{a.precision}" for a in entry.artifacts)
                    click.echo(f"{'':16}{entry.name}: no artifact for this device (the bundle has {have})")
    try:
        auto = choose_device("auto", manifest, facts=facts)
        click.echo(f"auto       -> {auto.profile.name}" + (" (for this bundle)" if manifest is not None else ""))
        click.echo(f"{'':16}{auto.reason}")
    except DeviceUnavailable as exc:
        click.echo(f"auto       -> none: {exc}")
