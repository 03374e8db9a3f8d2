"""The keys and bundle commands: one line and exit code 1 when a bundle is refused."""

import stat

from click.testing import CliRunner

from echosr_edge.cli import main
from tests.bundle.test_signing import alter_model_and_manifest_consistently


def _run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def test_keys_new_then_show_agree_on_the_key_id(tmp_path):
    made = _run("keys", "new", "--out", tmp_path / "k", "--name", "vendor")
    assert made.exit_code == 0, made.output
    kid = made.output.split()[1]
    assert stat.S_IMODE((tmp_path / "k" / "vendor.key").stat().st_mode) == 0o600
    for name in ("vendor.key", "vendor.pub"):
        shown = _run("keys", "show", tmp_path / "k" / name)
        assert shown.exit_code == 0 and shown.output.strip().endswith(kid)


def test_encrypted_key_signs_with_the_passphrase_from_the_environment(tmp_path, mini_bundle):
    env = {"ECHOSR_KEY_PASSPHRASE": "s3cret"}
    assert _run("keys", "new", "--out", tmp_path / "k", "--encrypt", env=env).exit_code == 0
    assert "private, encrypted" in _run("keys", "show", tmp_path / "k" / "signing.key", env=env).output
    signed = _run("bundle", "sign", mini_bundle, "--key", tmp_path / "k" / "signing.key", env=env)
    assert signed.exit_code == 0, signed.output
    wrong = _run("bundle", "sign", mini_bundle, "--key", tmp_path / "k" / "signing.key", env={"ECHOSR_KEY_PASSPHRASE": "nope"})
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output


def test_sign_then_verify_with_trust_accepts_the_bundle(mini_bundle, keypair):
    signed = _run("bundle", "sign", mini_bundle, "--key", keypair.private_key)
    assert signed.exit_code == 0 and keypair.key_id in signed.output
    verified = _run("bundle", "verify", mini_bundle, "--trust", keypair.public_key)
    assert verified.exit_code == 0, verified.output
    assert "checksums: 4 files" in verified.output
    assert f"trust: accepted, signed by trusted key {keypair.key_id}" in verified.output


def test_verify_refuses_an_untrusted_signer_in_one_line(mini_bundle, keypair, other_keypair):
    _run("bundle", "sign", mini_bundle, "--key", other_keypair.private_key)
    result = _run("bundle", "verify", mini_bundle, "--trust", keypair.public_key)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert f"signed only by key(s) {other_keypair.key_id}, none of which is trusted" in result.output


def test_verify_refuses_a_consistently_altered_bundle(mini_bundle, keypair):
    _run("bundle", "sign", mini_bundle, "--key", keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    result = _run("bundle", "verify", mini_bundle, "--trust", keypair.public_key)
    assert result.exit_code == 1 and "manifest.json changed since it was signed" in result.output


def test_verify_uses_the_trust_dir_from_the_environment(tmp_path, mini_bundle, keypair):
    trust_dir = tmp_path / "trust"
    assert _run("keys", "trust", keypair.public_key, "--dir", trust_dir).exit_code == 0
    result = _run("bundle", "verify", mini_bundle, env={"ECHOSR_TRUST_DIR": str(trust_dir)})
    assert result.exit_code == 1 and "it is unsigned" in result.output
    listed = _run("keys", "list", env={"ECHOSR_TRUST_DIR": str(trust_dir)})
    assert keypair.key_id in listed.output


def test_verify_without_trust_store_reports_checksums_only(tmp_path, mini_bundle):
    result = _run("bundle", "verify", mini_bundle, env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": None, "ECHOSR_TRUST_DIR": None})
    assert result.exit_code == 0, result.output
    assert "signature: none" in result.output and "no trust store set" in result.output
