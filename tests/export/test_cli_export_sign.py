"""`echosr-edge export --sign KEY`: the bundle it writes verifies under a trust store holding the key."""

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main

pytest.importorskip("cryptography", reason="signing needs the 'sign' extra (cryptography)")


def test_signed_export_verifies_under_a_trust_store_holding_the_key(tmp_path, tiny_checkpoints, camus_root):
    from echosr_edge.bundle.integrity import open_bundle
    from echosr_edge.bundle.keys import new_keypair
    from echosr_edge.bundle.trust import TrustStore

    keys = new_keypair(tmp_path / "keys", name="vendor")
    out = tmp_path / "bundle"
    args = ["export", str(tiny_checkpoints["sr"]), "--calibration", str(camus_root), "--precision", "fp32", "--out", str(out), "--sign", str(keys.private_key)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"signed with key {keys.key_id}" in result.output
    assert open_bundle(out, trust=TrustStore.from_paths([keys.public_key])).model_names == ["sr"]
    verified = CliRunner().invoke(main, ["bundle", "verify", str(out), "--trust", str(keys.public_key)])
    assert verified.exit_code == 0, verified.output
    assert f"trust: accepted, signed by trusted key {keys.key_id}" in verified.output


def test_export_with_an_unusable_key_fails_before_exporting(tmp_path, tiny_checkpoints, camus_root):
    bad = tmp_path / "not.key"
    bad.write_text("not a key")
    bad.chmod(0o600)
    out = tmp_path / "bundle"
    args = ["export", str(tiny_checkpoints["sr"]), "--calibration", str(camus_root), "--precision", "fp32", "--out", str(out), "--sign", str(bad)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "not.key" in result.output and "Traceback" not in result.output
    assert not out.exists()
