"""The live view's server, over real sockets: access control, controls, and per-client back-pressure."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import sys
import threading
import tracemalloc
from urllib.parse import urlsplit

import numpy as np
import pytest

from echosr_edge.errors import EchoSRError, MissingExtra
from echosr_edge.web import LiveHub, serve

aiohttp = pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra (aiohttp)")
from echosr_edge.web.frames import unpack_frame  # noqa: E402


def request(url: str, method: str = "GET", path: str = "/", body=None, headers=None):
    """One HTTP request without following redirects: (status, headers, body bytes)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    res = conn.getresponse()
    out = (res.status, dict(res.getheaders()), res.read())
    conn.close()
    return out


def local(handle) -> str:
    return f"http://127.0.0.1:{handle.port}"


def publish(hub: LiveHub, i: int, size: int = 32) -> None:
    rng = np.random.default_rng(i)
    hub.publish(
        rng.integers(0, 256, (size, size), dtype=np.uint8),
        rng.random((size, size), dtype=np.float32),
        {"frame": i, "labels": {"view": "2CH"}, "ms": {"total": 1.0}},
    )


@pytest.fixture()
def hub(tmp_path):
    hub = LiveHub(snapshot_dir=tmp_path / "snaps", enhance_modes=("auto", "always", "never"))
    hub.modes_seen = []
    hub.on_enhance_mode(hub.modes_seen.append)
    return hub


@pytest.fixture()
def open_server(hub):
    with serve(hub, "127.0.0.1", 0) as handle:
        yield handle


@pytest.fixture()
def network_server(hub):
    """Bound to every interface: the rule asks for a token; reached here over 127.0.0.1."""
    with serve(hub, "0.0.0.0", 0) as handle:
        yield handle


ROUTES = [("GET", "/", None), ("GET", "/ws", None), ("GET", "/static/app.js", None), ("GET", "/api/state", None),
          ("POST", "/api/enhance", {"mode": "never"}), ("POST", "/api/freeze", {"frozen": True}), ("POST", "/api/snapshot", {})]


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_on_the_network_every_route_answers_401_without_the_token(network_server, hub, method, path, body):
    publish(hub, 0)
    status, _, _ = request(local(network_server), method, path, body)
    assert status == 401
    assert hub.modes_seen == [] and not hub.frozen


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_on_the_network_a_wrong_token_or_cookie_answers_403(network_server, method, path, body):
    status, _, _ = request(local(network_server), method, path + "?token=not-the-token", body)
    assert status == 403
    status, _, _ = request(local(network_server), method, path, body, {"Cookie": "echosr_view=forged"})
    assert status == 403


def test_the_first_visit_trades_the_token_for_an_httponly_cookie_and_drops_it_from_the_url(network_server):
    assert network_server.access.required
    assert network_server.url.endswith(f"?token={network_server.access.token}")
    status, headers, _ = request(local(network_server), "GET", f"/?token={network_server.access.token}")
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and network_server.access.token not in cookie
    status, _, body = request(local(network_server), "GET", "/", headers={"Cookie": cookie.split(";")[0]})
    assert status == 200 and b"echosr-edge" in body


def test_the_token_is_required_when_forced_on_loopback(hub):
    with serve(hub, "127.0.0.1", 0, require_token=True, token="fixed-token-for-test") as handle:
        assert request(local(handle), "GET", "/")[0] == 401
        assert request(local(handle), "GET", "/api/state", headers={"Authorization": "Bearer fixed-token-for-test"})[0] == 200


def test_no_auth_on_the_network_opens_the_view_and_warns(hub):
    with serve(hub, "0.0.0.0", 0, no_auth=True) as handle:
        assert "no access control" in handle.warning
        assert request(local(handle), "GET", "/")[0] == 200
    with serve(hub, "127.0.0.1", 0) as handle:
        assert handle.warning is None and not handle.access.required


def test_the_token_never_reaches_the_server_log(network_server, caplog):
    token = network_server.access.token
    with caplog.at_level(logging.DEBUG, logger="echosr_edge"):
        request(local(network_server), "GET", f"/?token={token}")
        request(local(network_server), "GET", "/?token=wrong")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET / 303" in logged  # the access log is on, and carries only the path
    assert token not in logged and "wrong" not in logged


def test_an_open_loopback_server_refuses_a_foreign_host_header(open_server):
    """A page whose DNS name was rebound to 127.0.0.1 still sends its own name as Host."""
    assert request(local(open_server), "GET", "/api/state", headers={"Host": "attacker.example"})[0] == 403
    assert request(local(open_server), "GET", "/api/state", headers={"Host": f"localhost:{open_server.port}"})[0] == 200


def test_controls_from_another_origin_are_refused(open_server, hub):
    status, _, _ = request(local(open_server), "POST", "/api/freeze", {"frozen": True}, {"Origin": "http://attacker.example"})
    assert status == 403 and not hub.frozen


def test_controls_need_a_json_body(open_server, hub):
    status, _, _ = request(local(open_server), "POST", "/api/freeze", headers={"Content-Type": "text/plain"})
    assert status == 415 and not hub.frozen


def test_the_enhancement_control_changes_the_mode_through_the_callback(open_server, hub):
    status, _, body = request(local(open_server), "POST", "/api/enhance", {"mode": "never"})
    assert status == 200 and json.loads(body)["state"]["enhance_mode"] == "never"
    assert hub.modes_seen == ["never"]
    status, _, body = request(local(open_server), "POST", "/api/enhance", {"mode": "sometimes"})
    assert status == 400 and "auto, always, never" in json.loads(body)["error"]


def test_a_mode_the_pipeline_refuses_comes_back_as_409_with_its_reason(open_server, hub):
    def refuse(mode):
        raise EchoSRError("no quality model in this bundle")

    hub.on_enhance_mode(refuse)
    status, _, body = request(local(open_server), "POST", "/api/enhance", {"mode": "auto"})
    assert status == 409 and json.loads(body)["error"] == "no quality model in this bundle"


def test_freeze_and_snapshot_controls(open_server, hub, tmp_path):
    assert request(local(open_server), "POST", "/api/snapshot", {})[0] == 409  # nothing shown yet
    publish(hub, 4)
    status, _, body = request(local(open_server), "POST", "/api/freeze", {"frozen": True})
    assert status == 200 and hub.frozen and json.loads(body)["state"]["frozen"] is True
    status, _, body = request(local(open_server), "POST", "/api/snapshot", {})
    saved = json.loads(body)["result"]
    assert status == 200 and sorted(p.name for p in (tmp_path / "snaps").iterdir()) == sorted(saved.values())
    assert request(local(open_server), "POST", "/api/freeze", {"frozen": "yes"})[0] == 400


def test_responses_carry_no_store_and_a_strict_content_policy(open_server):
    _, headers, _ = request(local(open_server), "GET", "/")
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_busy_port_is_an_error_naming_the_address(open_server, hub):
    with pytest.raises(EchoSRError, match=f"cannot serve the live view on 127.0.0.1:{open_server.port}"):
        serve(hub, "127.0.0.1", open_server.port)


def test_a_missing_aiohttp_names_the_web_extra(hub, monkeypatch):
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(MissingExtra, match=r'pip install "echosr-edge\[web\]"'):
        serve(hub)


# --- the stream ---------------------------------------------------------------------------


async def next_frame(ws) -> dict:
    """Skip state messages; the header of the next frame."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == aiohttp.WSMsgType.BINARY:
            return unpack_frame(msg.data)[0]
        assert msg.type == aiohttp.WSMsgType.TEXT, msg


async def next_state(ws, status: str) -> dict:
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["status"] == status:
            return json.loads(msg.data)


def test_a_slow_client_gets_the_newest_frame_not_a_backlog(open_server, hub):
    async def scenario():
        async with aiohttp.ClientSession() as session, session.ws_connect(local(open_server) + "/ws") as ws:
            publish(hub, 0)
            assert (await next_frame(ws))["record"]["frame"] == 0
            for i in range(1, 11):  # ten frames while this client is busy
                publish(hub, i)
            await ws.send_str("next")
            header = await next_frame(ws)
            assert header["seq"] == 11 and header["record"]["frame"] == 10

    asyncio.run(scenario())
    assert hub.encodes == 2


def test_several_clients_receive_frames_at_once(open_server, hub):
    publish(hub, 0)

    async def one_client(session):
        async with session.ws_connect(local(open_server) + "/ws") as ws:
            return (await next_frame(ws))["seq"]

    async def scenario():
        async with aiohttp.ClientSession() as session:
            return await asyncio.gather(*(one_client(session) for _ in range(3)))

    assert asyncio.run(scenario()) == [1, 1, 1]
    assert hub.encodes == 1  # three clients, one encode


def test_source_status_reaches_the_page(open_server, hub):
    async def scenario():
        async with aiohttp.ClientSession() as session, session.ws_connect(local(open_server) + "/ws") as ws:
            await next_state(ws, "starting")
            hub.set_status("reconnecting", "rtsp://probe: connection refused, retry in 2 s")
            return await next_state(ws, "reconnecting")

    assert asyncio.run(scenario())["message"].startswith("rtsp://probe")


def test_a_stalled_client_neither_blocks_the_publisher_nor_grows_memory(open_server, hub):
    """One client never asks for a frame, one keeps up; 300 large noisy frames go by."""
    publish(hub, 0, size=256)
    frames, done = 300, threading.Event()

    def publisher():
        for i in range(1, frames + 1):
            publish(hub, i, size=256)  # ≈ 130 KB of JPEG per frame: a queue would show
        done.set()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(local(open_server) + "/ws") as stalled, session.ws_connect(local(open_server) + "/ws") as active:
                await next_frame(stalled)  # its one frame of credit, then silence
                tracemalloc.start()
                before = tracemalloc.take_snapshot()
                thread = threading.Thread(target=publisher)
                thread.start()
                received = 0
                while True:
                    header = await next_frame(active)
                    received += 1
                    if header["record"]["frame"] == frames:
                        break
                    await active.send_str("next")
                thread.join(30)
                growth = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
                tracemalloc.stop()
                return received, growth, not thread.is_alive(), sorted(open_server.frames_sent())

    received, growth, finished, sent = asyncio.run(scenario())
    assert finished and done.is_set()
    assert sent == [1, received]
    assert growth < 2_000_000, f"memory grew by {growth} bytes"
    assert hub.encodes <= received + 1  # nothing was encoded for the stalled client


def test_the_page_needs_nothing_from_outside_the_package():
    from importlib import resources

    folder = resources.files("echosr_edge.web") / "static"
    for name in ("index.html", "app.js", "style.css"):
        text = (folder / name).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
        assert "@import" not in text and "url(" not in text, name


def test_the_static_assets_are_served_with_their_types(open_server):
    for path, kind in (("/static/app.js", "text/javascript"), ("/static/style.css", "text/css"), ("/", "text/html")):
        status, headers, body = request(local(open_server), "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and body
    assert request(local(open_server), "GET", "/static/../hub.py")[0] == 404
