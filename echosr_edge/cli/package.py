"""echosr-edge package: an offline install kit for a companion device, and its check."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.package.targets import TARGETS


@click.command("package")
@click.option("--bundle", type=click.Path(file_okay=False, path_type=Path), help="Bundle folder to package.")
@click.option("--target", type=click.Choice(list(TARGETS)), help="The device the kit is for.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Kit folder to write.")
@click.option("--python", "python", help="The device's Python, MAJOR.MINOR (default 3.10: Ubuntu 22.04, JetPack 6).")
@click.option("--platform", "platforms", multiple=True, help="manylinux tag of the device (repeatable; manylinux_2_31_aarch64 also takes older tags). Default: glibc 2.35 for the target's CPU.")
@click.option("--wheel", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A ready echosr-edge wheel (default: build one from the source tree).")
@click.option("--wheels-from", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Take the dependency wheels from this folder, not from the package index.")
@click.option("--no-deps-download", is_flag=True, help="Leave the dependency wheels out (the kit then cannot install offline; for checking a layout).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--verify", "verify", type=click.Path(path_type=Path), help="Check the kit KIT instead of building one.", metavar="KIT")
def command(bundle, target, out, python, platforms, wheel, wheels_from, no_deps_download, force, verify) -> None:
    """Build an offline install kit: the bundle's TARGET artifacts, wheels, install.sh, a service, SHA256SUMS."""
    if verify is not None:
        given = [name for name, value in (("--bundle", bundle), ("--target", target), ("--out", out)) if value]
        if given:
            raise click.UsageError(f"--verify checks an existing kit; it does not take {', '.join(given)}")
        _verify(verify)
        return
    for name, value in (("--bundle", bundle), ("--target", target), ("--out", out)):
        if value is None:
            raise click.UsageError(f"{name} is required to build a kit (or pass --verify KIT)")
    if wheels_from and no_deps_download:
        raise click.UsageError("--wheels-from and --no-deps-download contradict each other")

    from echosr_edge.package.kit import KitOptions, build_kit

    options = KitOptions(
        bundle=bundle,
        target=target,
        out=out,
        python=python,
        platforms=tuple(platforms),
        wheel=wheel,
        deps="none" if no_deps_download else "folder" if wheels_from else "download",
        wheels_from=wheels_from,
        force=force,
    )
    result = build_kit(options, step=lambda msg: click.echo(msg, err=True))
    click.echo(f"kit for {result.target} (Python {result.python}, --device {result.device}): {result.kit}")
    click.echo(f"  {result.files} files, {result.bytes / 1e6:.1f} MB; {len(result.wheels)} wheels")
    for artifact in result.artifacts:
        click.echo(f"  bundle: {artifact}")
    if result.dropped:
        click.echo(f"  left out (not for {result.target}): {', '.join(result.dropped)}")
    for note in result.notes:
        click.echo(f"  note: {note}")


def _verify(kit: Path) -> None:
    from echosr_edge.package.kit import KitError
    from echosr_edge.package.verify import verify_kit

    check = verify_kit(kit)
    if check.ok:
        click.echo(f"kit {kit} is sound: {check.files_checked} files match SHA256SUMS; the bundle suits {check.target}")
        return
    for problem in check.problems:
        click.echo(f"  {problem}", err=True)
    raise KitError(f"kit {kit} failed verification: {len(check.problems)} problem(s), listed above")
