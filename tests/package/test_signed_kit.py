"""`package --sign KEY`: packaging rewrites the manifest, so the kit's bundle is signed after it."""

import shutil

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main

pytest.importorskip("cryptography", reason="signing needs the 'sign' extra (cryptography)")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    from echosr_edge.bundle.keys import new_keypair

    return new_keypair(tmp_path_factory.mktemp("keys"), name="vendor")


@pytest.fixture(scope="module")
def signed_bundle(tmp_path_factory, bundle_dir, keys):
    from echosr_edge.bundle.signing import sign_bundle

    bundle = shutil.copytree(bundle_dir, tmp_path_factory.mktemp("signed") / "bundle")
    sign_bundle(bundle, keys.private_key)
    return bundle


def _package(bundle, kit, wheel, *extra):
    args = ["package", "--bundle", str(bundle), "--target", "cpu", "--out", str(kit), "--wheel", str(wheel), "--no-deps-download", *map(str, extra)]
    return CliRunner().invoke(main, args)


def test_package_of_a_signed_bundle_without_sign_is_reported_unsigned_and_refused_by_trust(tmp_path, signed_bundle, keys, project_wheel):
    kit = tmp_path / "kit"
    built = _package(signed_bundle, kit, project_wheel)
    assert built.exit_code == 0, built.output
    assert "note: the kit's bundle is unsigned" in built.output and "build with --sign KEY" in built.output
    assert "source bundle's signature does not carry over" in built.output
    assert not (kit / "bundle" / "signatures").exists()
    checked = CliRunner().invoke(main, ["package", "--verify", str(kit), "--trust", str(keys.public_key)])
    assert checked.exit_code == 1
    assert "it is unsigned" in checked.output and "failed verification: 1 problem(s)" in checked.output


def test_package_with_sign_verifies_under_the_trust_store(tmp_path, signed_bundle, keys, project_wheel):
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.bundle.trust import TrustStore

    kit = tmp_path / "kit"
    built = _package(signed_bundle, kit, project_wheel, "--sign", keys.private_key)
    assert built.exit_code == 0, built.output
    assert f"signed by key {keys.key_id}" in built.output
    checked = CliRunner().invoke(main, ["package", "--verify", str(kit), "--trust", str(keys.public_key)])
    assert checked.exit_code == 0, checked.output
    assert f"signed by trusted key {keys.key_id}" in checked.output
    # The device's own check: the kit's (rewritten) manifest is what the signature covers.
    assert open_bundle(kit / "bundle", trust=TrustStore.from_paths([keys.public_key])).notes["packaged_for"] == "cpu"


def test_a_signed_kit_whose_manifest_is_then_edited_fails_verification(tmp_path, bundle_dir, keys, project_wheel):
    from echosr_edge.package.kit import write_sums

    kit = tmp_path / "kit"
    assert _package(bundle_dir, kit, project_wheel, "--sign", keys.private_key).exit_code == 0
    manifest = kit / "bundle" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"packaged_for": "cpu"', '"packaged_for": "cpu" '))
    write_sums(kit)  # whoever edited it also rewrote SHA256SUMS
    checked = CliRunner().invoke(main, ["package", "--verify", str(kit)])
    assert checked.exit_code == 1
    assert "does not hold: manifest.json changed since it was signed" in checked.output


def test_verify_takes_no_sign_and_build_takes_trust_only_with_sign(tmp_path, bundle_dir, keys, project_wheel):
    result = CliRunner().invoke(main, ["package", "--verify", str(tmp_path), "--sign", str(keys.private_key)])
    assert result.exit_code == 2 and "does not take --sign" in result.output
    result = _package(bundle_dir, tmp_path / "kit", project_wheel, "--trust", keys.public_key)
    assert result.exit_code == 2 and "must be signed: add --sign KEY" in result.output
