"""A kit built with --sign/--trust provisions the device's trust store, and the service runs with it."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main

pytest.importorskip("cryptography", reason="signing needs cryptography")
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    from echosr_edge.bundle.keys import new_keypair

    folder = tmp_path_factory.mktemp("keys")
    return new_keypair(folder, name="vendor"), new_keypair(folder, name="clinic"), new_keypair(folder, name="stranger")


def _package(bundle, kit, wheel, *extra):
    args = ["package", "--bundle", str(bundle), "--target", "cpu", "--out", str(kit), "--wheel", str(wheel), "--no-deps-download", *map(str, extra)]
    return CliRunner().invoke(main, args)


def test_sign_and_trust_put_both_public_keys_in_the_kits_trust_folder(tmp_path, bundle_dir, keys, project_wheel):
    vendor, clinic, _ = keys
    kit = tmp_path / "kit"
    result = _package(bundle_dir, kit, project_wheel, "--sign", vendor.private_key, "--trust", clinic.public_key)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (kit / "trust").iterdir()) == sorted(f"{k.key_id}.pub" for k in (vendor, clinic))
    assert json.loads((kit / "kit.json").read_text())["trust_store"] == sorted([vendor.key_id, clinic.key_id])
    assert f"  trust/{vendor.key_id}.pub" in (kit / "SHA256SUMS").read_text()
    assert "trust store installed on the device" in result.output


def test_a_kit_signed_without_trust_still_trusts_its_signer(tmp_path, bundle_dir, keys, project_wheel):
    kit = tmp_path / "kit"
    assert _package(bundle_dir, kit, project_wheel, "--sign", keys[0].private_key).exit_code == 0
    assert [p.name for p in (kit / "trust").iterdir()] == [f"{keys[0].key_id}.pub"]


def test_an_unsigned_kit_provisions_no_trust_store(tmp_path, bundle_dir, project_wheel):
    kit = tmp_path / "kit"
    assert _package(bundle_dir, kit, project_wheel).exit_code == 0
    assert not (kit / "trust").exists()


def test_launch_sh_points_the_run_at_the_installed_trust_store(tmp_path, bundle_dir, keys, project_wheel):
    kit = tmp_path / "kit"
    assert _package(bundle_dir, kit, project_wheel, "--sign", keys[0].private_key).exit_code == 0
    prefix = tmp_path / "opt"
    (prefix / "venv" / "bin").mkdir(parents=True)
    shutil.copy(kit / "launch.sh", prefix)
    shutil.copytree(kit / "trust", prefix / "trust")
    stub = prefix / "venv" / "bin" / "echosr-edge"
    stub.write_text('#!/bin/sh\necho "ECHOSR_TRUST_DIR=$ECHOSR_TRUST_DIR"\n')
    stub.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "ECHOSR_TRUST_DIR"} | {"ECHOSR_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run(["sh", str(prefix / "launch.sh")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ECHOSR_TRUST_DIR={prefix / 'trust'}"
    assert "unsigned or foreign-signed bundles are refused" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ECHOSR_SLOW") != "1", reason="downloads and installs real wheels: set ECHOSR_SLOW=1")
def test_installed_kit_refuses_unsigned_and_foreign_bundles_and_runs_the_signed_one(tmp_path, bundle_dir, keys, project_wheel, camus_root):
    """Must-show: install.sh into a temporary prefix, then the service's launch.sh with three bundles."""
    from echosr_edge.bundle.signing import sign_bundle
    from echosr_edge.package.kit import KitOptions, build_kit

    vendor, clinic, stranger = keys
    kit = tmp_path / "kit"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=kit, python=HERE, wheel=project_wheel,
                         sign=vendor.private_key, trust=(clinic.public_key,)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "ECHOSR_")) and k != "PYTHONPATH"}
    prefix = tmp_path / "opt"
    done = subprocess.run(["sh", str(kit / "install.sh"), "--prefix", str(prefix), "--python", sys.executable],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "installing the trust store" in done.stdout and (prefix / "trust" / f"{vendor.key_id}.pub").is_file()
    conf = tmp_path / "echosr-edge.conf"  # the settings file launch.sh reads, as a technician would edit it
    conf.write_text(f'ECHOSR_SOURCE={camus_root / "patient0003"}\nECHOSR_DEVICE=cpu\n'
                    f'ECHOSR_ARGS="--headless --max-frames 2"\nECHOSR_LOG_DIR={tmp_path / "logs"}\n')
    run_env = env | {"ECHOSR_CONF": str(conf)}

    def launch():
        return subprocess.run(["sh", str(prefix / "launch.sh")], capture_output=True, text=True, env=run_env, cwd=tmp_path)

    signed = launch()
    assert signed.returncode == 0, signed.stderr
    unsigned = prefix / "bundle"
    shutil.rmtree(unsigned / "signatures")
    refused = launch()
    assert refused.returncode == 1 and "Error:" in refused.stderr and "unsigned" in refused.stderr.lower(), refused.stderr
    sign_bundle(unsigned, stranger.private_key)
    foreign = launch()
    assert foreign.returncode == 1 and stranger.key_id in foreign.stderr, foreign.stderr
    print("\n".join(["signed:", signed.stderr, "unsigned:", refused.stderr, "foreign:", foreign.stderr]))


def test_verify_refuses_a_kit_whose_trust_store_would_refuse_its_own_bundle(tmp_path, bundle_dir, keys, project_wheel):
    from echosr_edge.package.kit import write_sums
    from echosr_edge.package.verify import verify_kit

    kit = tmp_path / "kit"
    assert _package(bundle_dir, kit, project_wheel, "--sign", keys[0].private_key).exit_code == 0
    assert verify_kit(kit).ok
    for pub in (kit / "trust").iterdir():
        pub.unlink()
    shutil.copy(keys[2].public_key, kit / "trust" / f"{keys[2].key_id}.pub")  # someone swapped the trusted key
    write_sums(kit)
    check = verify_kit(kit)
    assert not check.ok and any("the device would refuse the kit's bundle" in p for p in check.problems)
