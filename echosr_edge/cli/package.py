"""echosr-edge package: an offline install kit for a companion device, and its check."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.cli._trust import passphrase, trust_option, trust_store
from echosr_edge.package.targets import TARGETS


@click.command("package")
@click.option("--bundle", type=click.Path(file_okay=False, path_type=Path), help="Bundle folder to package.")
@click.option("--target", type=click.Choice(list(TARGETS)), help="The device the kit is for.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Kit folder to write.")
@click.option("--python", "python", help="The device's Python, MAJOR.MINOR (default: the target's; 3.10 for Ubuntu 22.04 and JetPack 6, 3.11 for arm64-cpu: Raspberry Pi OS 12).")
@click.option("--platform", "platforms", multiple=True, help="manylinux tag of the device (repeatable; manylinux_2_31_aarch64 also takes older tags). Default: glibc 2.35 for the target's CPU.")
@click.option("--wheel", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A ready echosr-edge wheel (default: build one from the source tree).")
@click.option("--wheels-from", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Take the dependency wheels from this folder, not from the package index.")
@click.option("--no-deps-download", is_flag=True, help="Leave the dependency wheels out (the kit then cannot install offline; for checking a layout).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--sign", "sign_key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Sign the kit's bundle (its rewritten manifest) with this private key.")
@click.option("--verify", "verify", type=click.Path(path_type=Path), help="Check the kit KIT instead of building one.", metavar="KIT")
@trust_option
def command(bundle, target, out, python, platforms, wheel, wheels_from, no_deps_download, force, sign_key, verify, trust) -> None:
    """Build an offline install kit: the bundle's TARGET artifacts, wheels, install.sh, a service, SHA256SUMS."""
    if verify is not None:
        given = [name for name, value in (("--bundle", bundle), ("--target", target), ("--out", out), ("--sign", sign_key)) if value]
        if given:
            raise click.UsageError(f"--verify checks an existing kit; it does not take {', '.join(given)}")
        _verify(verify, trust)
        return
    if trust and not sign_key:
        raise click.UsageError("--trust provisions the device's trust store, so the kit's bundle must be signed: add --sign KEY")
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
        sign=sign_key,
        passphrase=passphrase(sign_key) if sign_key else None,
        trust=tuple(trust),
    )
    result = build_kit(options, step=lambda msg: click.echo(msg, err=True))
    click.echo(f"kit for {result.target} (Python {result.python}, --device {result.device}): {result.kit}")
    click.echo(f"  {result.files} files, {result.bytes / 1e6:.1f} MB; {len(result.wheels)} wheels")
    for artifact in result.artifacts:
        click.echo(f"  bundle: {artifact}")
    if result.signed_by:
        click.echo(f"  signed by key {result.signed_by}")  # unsigned: one of the notes below says so
    if result.trusted:
        click.echo(f"  trust store installed on the device: key(s) {', '.join(result.trusted)}")
    if result.dropped:
        click.echo(f"  left out (not for {result.target}): {', '.join(result.dropped)}")
    for note in result.notes:
        click.echo(f"  note: {note}")


def _verify(kit: Path, trust: tuple[Path, ...]) -> None:
    from echosr_edge.package.kit import KitError
    from echosr_edge.package.verify import verify_kit

    check = verify_kit(kit, trust_store(trust))
    if check.ok:
        click.echo(f"kit {kit} is sound: {check.files_checked} files match SHA256SUMS; the bundle suits {check.target}")
        if check.accepted_by is not None:
            click.echo(f"  signed by trusted key {check.accepted_by.key_id} ({check.accepted_by.key_source})")
        elif check.signatures:
            click.echo(f"  signed by key(s) {', '.join(s.key_id for s in check.signatures)} (no trust store set)")
        else:
            click.echo("  its bundle is unsigned: a device with a trust store refuses it")
        return
    for problem in check.problems:
        click.echo(f"  {problem}", err=True)
    raise KitError(f"kit {kit} failed verification: {len(check.problems)} problem(s), listed above")
