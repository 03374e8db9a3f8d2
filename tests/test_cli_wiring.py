"""The run and bench commands honour a trust store and serve the live view when asked."""

import socket

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_with_a_trust_store_refuses_an_unsigned_bundle(tmp_path, bundle_dir, camus_root):
    pytest.importorskip("cryptography", reason="signatures need the cryptography package")
    keys = tmp_path / "keys"
    assert CliRunner().invoke(main, ["keys", "new", "--out", str(keys)]).exit_code == 0
    pub = next(keys.glob("*.pub"))
    commands = (
        ["run", "--source", str(camus_root / "patient0001"), "--headless", "--device", "cpu"],
        ["bench", "--runs", "1"],
        ["batch", str(camus_root / "patient0001"), str(tmp_path / "batch-out"), "--quiet"],
    )
    for command in commands:
        if command[0] == "batch":
            args = command[:3] + ["--bundle", str(bundle_dir), "--trust", str(pub)] + command[3:]
        else:
            args = [command[0], "--bundle", str(bundle_dir), "--trust", str(pub), *command[1:]]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "unsigned" in result.output and "Traceback" not in result.output


def test_run_serves_the_live_view_and_logs_every_frame(tmp_path, bundle_dir, camus_root):
    pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra (aiohttp)")
    port = _free_port()
    log = tmp_path / "run.jsonl"
    result = CliRunner().invoke(
        main,
        ["run", "--bundle", str(bundle_dir), "--source", str(camus_root / "patient0002"), "--headless", "--device", "cpu",
         "--log", str(log), "--serve", f"127.0.0.1:{port}"],
    )
    assert result.exit_code == 0, result.output
    assert f"live view: http://127.0.0.1:{port}" in result.output
    assert len(log.read_text().splitlines()) == 4


def test_serve_on_another_address_without_auth_warns(tmp_path, bundle_dir, camus_root):
    pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra (aiohttp)")
    result = CliRunner().invoke(
        main,
        ["run", "--bundle", str(bundle_dir), "--source", str(camus_root / "patient0002"), "--headless", "--device", "cpu",
         "--serve", f"0.0.0.0:{_free_port()}", "--no-auth", "--max-frames", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output.lower()
