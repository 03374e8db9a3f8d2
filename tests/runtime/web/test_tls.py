"""HTTPS beyond loopback: a self-signed certificate kept in the state dir, its fingerprint printed and served."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.web import LiveHub, serve
from echosr_edge.runtime.web.auth import reachable_host
from echosr_edge.runtime.web.tls import choose_tls, fingerprint, link_with_fingerprint, qr_code

pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra (aiohttp)")


def _lan_address() -> str:
    host = reachable_host("0.0.0.0")
    try:
        socket.inet_aton(host)
    except OSError:
        pytest.skip(f"this machine has no IPv4 non-loopback address ({host!r})")
    if host.startswith("127."):
        pytest.skip("this machine has no non-loopback address")
    return host


def _https(host: str, port: int, path: str, cert: Path, headers: dict | None = None) -> int:
    ctx = ssl.create_default_context(cafile=str(cert))  # trust exactly this certificate, names checked
    conn = http.client.HTTPSConnection(host, port, timeout=10, context=ctx)
    conn.request("GET", path, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


def _served_fingerprint(host: str, port: int) -> str:
    return fingerprint(ssl.get_server_certificate((host, port)).encode())


def test_loopback_stays_http_and_insecure_http_opts_out(tmp_path):
    assert choose_tls("127.0.0.1", True, folder=tmp_path) is None
    assert choose_tls("0.0.0.0", False, insecure_http=True, folder=tmp_path) is None
    assert not any(tmp_path.iterdir())


def test_the_certificate_is_made_once_with_a_private_key_only_its_owner_reads(tmp_path):
    first = choose_tls("0.0.0.0", False, folder=tmp_path / "state", shown_host="192.0.2.7")
    again = choose_tls("0.0.0.0", False, folder=tmp_path / "state", shown_host="192.0.2.7")
    assert first.generated and not again.generated and first.fingerprint == again.fingerprint
    assert first.key.stat().st_mode & 0o777 == 0o600
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", first.fingerprint)


def test_a_new_address_gets_a_new_certificate_naming_it(tmp_path):
    first = choose_tls("0.0.0.0", False, folder=tmp_path, shown_host="192.0.2.7")
    moved = choose_tls("0.0.0.0", False, folder=tmp_path, shown_host="192.0.2.8")
    assert moved.generated and moved.fingerprint != first.fingerprint


def test_a_key_others_can_read_is_refused(tmp_path):
    tls = choose_tls("0.0.0.0", False, folder=tmp_path)
    tls.key.chmod(0o644)
    with pytest.raises(EchoSRError, match="chmod 600"):
        choose_tls("0.0.0.0", False, folder=tmp_path)


def test_a_clinic_certificate_needs_its_key(tmp_path):
    tls = choose_tls("0.0.0.0", False, folder=tmp_path)
    with pytest.raises(EchoSRError, match="go together"):
        choose_tls("0.0.0.0", False, cert=tls.cert)
    assert choose_tls("0.0.0.0", False, cert=tls.cert, key=tls.key).fingerprint == tls.fingerprint


def test_the_qr_code_carries_link_token_and_fingerprint_and_its_png_is_private(tmp_path):
    pytest.importorskip("segno", reason="the QR code needs the 'web' extra (segno)")
    link = link_with_fingerprint("https://192.0.2.7:8765/?token=abc", "AB:CD")
    assert link == "https://192.0.2.7:8765/?token=abc#sha256=ABCD"
    text = qr_code(link, tmp_path / "qr.png")
    assert text.count("\n") > 10 and "█" in text
    assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "qr.png").stat().st_mode & 0o777 == 0o600


def test_https_on_the_lan_address_asks_for_the_token_and_serves_the_printed_certificate(tmp_path):
    host = _lan_address()
    tls = choose_tls("0.0.0.0", False, folder=tmp_path, shown_host=host)
    hub = LiveHub()
    hub.publish(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32), {"frame": 0})
    with serve(hub, "0.0.0.0", 0, tls=tls) as handle:
        assert handle.url.startswith(f"https://{host}:") and handle.fingerprint == tls.fingerprint
        assert _served_fingerprint(host, handle.port) == tls.fingerprint
        assert _https(host, handle.port, "/api/state", tls.cert) == 401
        assert _https(host, handle.port, f"/api/state?token={handle.access.token}", tls.cert) == 200
        plain = http.client.HTTPConnection(host, handle.port, timeout=10)
        with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request("GET", "/")
            plain.getresponse()


def _clip(tmp_path: Path, frames: int = 400) -> Path:
    import cv2

    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (80, 96))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (96, 80, 3), dtype=np.uint8))
    writer.release()
    return path


def test_run_serve_on_the_network_prints_link_fingerprint_and_qr_and_curl_agrees(tmp_path, bundle_dir):
    """Must-show: curl to the LAN address, 401 without the token, 200 with, plain HTTP refused, same fingerprint."""
    pytest.importorskip("segno", reason="the QR code needs the 'web' extra (segno)")
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    host = _lan_address()
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "ECHOSR_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "echosr_edge", "run", "--bundle", str(bundle_dir), "--source", str(_clip(tmp_path)), "--device", "cpu",
         "--headless", "--realtime", "--serve", f"0.0.0.0:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(line.startswith("scan to join") for line in lines):
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        text = "\n".join(lines)
        url = re.search(r"live view: (https://\S+)", text).group(1)
        printed = re.search(r"fingerprint[^:]*: ([0-9A-F:]{95})", text).group(1)
        assert url.startswith(f"https://{host}:{port}/?token=")
        bare = f"https://{host}:{port}/api/state"
        curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(tmp_path / "state" / "live-view.crt")]
        assert subprocess.run([*curl, bare], capture_output=True, text=True).stdout == "401"
        assert subprocess.run([*curl, bare + "?" + url.split("?", 1)[1]], capture_output=True, text=True).stdout == "200"
        plain = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"http://{host}:{port}/"],
                               capture_output=True, text=True)
        assert plain.returncode != 0 and plain.stdout == "000"  # no HTTP answer: the TLS port refuses it
        assert _served_fingerprint(host, port) == printed
        assert (tmp_path / "state" / "live-view-qr.png").is_file() and "█" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
