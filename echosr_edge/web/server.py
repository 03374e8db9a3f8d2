"""The live view's HTTP server (aiohttp), run on its own asyncio loop in a background thread.

Transport: one WebSocket per page. A binary message carries one whole frame — original
JPEG, enhanced JPEG and the frame's JSON record in a single payload (layout in frames.py) —
so the two images and the labels beside them always belong to the same frame; with MJPEG
the pair and the labels would travel on three unsynchronised channels. Text messages carry
the small state channel (status, enhancement mode, freeze) as JSON.

Back-pressure is by credit, not by buffering: the server sends a frame only after the page
says ``next`` (it does so once it has drawn the previous one), and then sends the newest
frame, whatever came in between is skipped. A slow client therefore gets fewer frames, a
stalled one (or a background tab) gets none, nothing queues per client, and the pipeline
never waits: publishing only touches the hub. Each frame is JPEG-encoded once, on the
server's worker thread, when the first client asks for it, and the bytes are shared.

Controls are JSON POSTs (``/api/enhance``, ``/api/freeze``, ``/api/snapshot``). Access
control is in auth.py; the access log records method, path and status, never a query string.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractAccessLogger

from echosr_edge.errors import EchoSRError
from echosr_edge.web.auth import COOKIE, Access, is_loopback, reachable_host, url_host
from echosr_edge.web.frames import to_json
from echosr_edge.web.hub import LiveHub

log = logging.getLogger(__name__)
access_log = logging.getLogger("echosr_edge.web.access")

STATIC = {"app.js": "text/javascript", "style.css": "text/css", "index.html": "text/html"}
HUB = web.AppKey("hub", LiveHub)
ACCESS = web.AppKey("access", Access)
CLIENTS = web.AppKey("clients", set)
POOL = web.AppKey("pool", ThreadPoolExecutor)
LIMIT = web.AppKey("max_clients", int)
CHECK_HOST = web.AppKey("check_host", bool)
ASSETS = web.AppKey("assets", dict)
LISTENER = web.AppKey("listener", object)
REFUSALS = {
    401: "This live view is protected. Open the full link that echosr-edge printed when it started "
    "(the one ending in ?token=…) on this device.",
    403: "This access link is wrong or belongs to an earlier run. Use the link printed by the current run.",
}


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings: the first visit's URL carries the token."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.debug("%s %s %s %.1f ms", request.method, request.path, response.status, time * 1000.0)


@dataclass(eq=False)
class _Client:
    """One page's WebSocket: may it receive a frame, and what it was sent last."""

    ws: web.WebSocketResponse
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    credit: bool = True
    sent: int = 0  # frames sent, for tests and the benchmark


def _refuse(status: int, request: web.Request) -> web.Response:
    if request.path == "/":
        body = f"<!doctype html><meta charset=utf-8><title>echosr-edge</title><p>{REFUSALS[status]}</p>"
        return web.Response(status=status, text=body, content_type="text/html")
    return web.json_response({"error": REFUSALS[status]}, status=status)


def _host_name(host_header: str) -> str:
    return urlsplit(f"//{host_header}").hostname or ""


@web.middleware
async def _guard(request: web.Request, handler):
    """Access rule on every route; same-origin and JSON on every control."""
    app = request.app
    access = app[ACCESS]
    # On an open loopback server, a page from another site could rebind its DNS name to
    # 127.0.0.1 and read the stream; it cannot fake a loopback Host header, so check that.
    if app[CHECK_HOST] and not is_loopback(_host_name(request.host)):
        return web.json_response({"error": "unexpected Host header"}, status=403)
    auth = request.headers.get("Authorization", "")
    bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    query_token = request.query.get("token")
    status = access.decide(query_token, bearer, request.cookies.get(COOKIE))
    if status != 200:
        return _refuse(status, request)
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
        return web.json_response({"error": "cross-origin requests are refused"}, status=403)
    if request.method == "POST" and request.content_type != "application/json":
        return web.json_response({"error": "controls take a JSON body"}, status=415)
    response = await handler(request)
    if access.required and access.token_ok(query_token) and not response.prepared:
        response.set_cookie(COOKIE, access.cookie_value, httponly=True, samesite="Lax", path="/", secure=request.secure or None)
    return response


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    """Security headers on every response, WebSocket upgrades included."""
    h = response.headers
    h["Cache-Control"] = "no-store"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["X-Frame-Options"] = "DENY"
    h["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        f"connect-src 'self' ws://{request.host} wss://{request.host}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


async def _index(request: web.Request) -> web.Response:
    if "token" in request.query:  # drop the token from the address bar; the cookie carries on
        return web.Response(status=303, headers={"Location": "/"})
    return web.Response(body=request.app[ASSETS]["index.html"], content_type="text/html", charset="utf-8")


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC or name == "index.html":
        raise web.HTTPNotFound()
    return web.Response(body=request.app[ASSETS][name], content_type=STATIC[name], charset="utf-8")


def _state(app: web.Application) -> dict:
    return {**app[HUB].state(), "clients": len(app[CLIENTS])}


async def _get_state(request: web.Request) -> web.Response:
    return web.Response(text=to_json(_state(request.app)), content_type="application/json")


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"error": "the body is not JSON"}', content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "the body must be a JSON object"}', content_type="application/json")
    return body


async def _control(request: web.Request, call) -> web.Response:
    """Run a hub control off the event loop; its refusals become 400/409 with the message."""
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(request.app[POOL], call)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except EchoSRError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    return web.Response(text=to_json({"result": result, "state": _state(request.app)}), content_type="application/json")


async def _set_enhance(request: web.Request) -> web.Response:
    mode = (await _body(request)).get("mode")
    return await _control(request, lambda: request.app[HUB].set_enhance_mode(str(mode)))


async def _set_freeze(request: web.Request) -> web.Response:
    frozen = (await _body(request)).get("frozen")
    if not isinstance(frozen, bool):
        return web.json_response({"error": "frozen must be true or false"}, status=400)
    return await _control(request, lambda: request.app[HUB].set_frozen(frozen))


async def _snapshot(request: web.Request) -> web.Response:
    def save():
        shot = request.app[HUB].snapshot()
        return {"original": shot.original.name, "enhanced": shot.enhanced.name, "record": shot.record.name}

    return await _control(request, save)


async def _pump(app: web.Application, client: _Client) -> None:
    """Send one client the state when it changes and the newest frame when it has credit."""
    hub, loop = app[HUB], asyncio.get_running_loop()
    sent_seq, sent_state = 0, None
    while not client.ws.closed:
        await client.wake.wait()
        client.wake.clear()
        state_key = (hub.version, len(app[CLIENTS]))
        if state_key != sent_state:
            await client.ws.send_str(to_json(_state(app)))
            sent_state = state_key
        if client.credit and hub.seq > sent_seq:
            frame = await loop.run_in_executor(app[POOL], hub.encoded_frame)
            if frame is not None and frame.seq > sent_seq:
                client.credit = False
                client.sent += 1  # counted before the send yields, so a client never sees more than this
                sent_seq = frame.seq
                await client.ws.send_bytes(frame.payload)


def _wake_all(app: web.Application) -> None:
    for client in app[CLIENTS]:
        client.wake.set()


async def _websocket(request: web.Request) -> web.StreamResponse:
    app = request.app
    if len(app[CLIENTS]) >= app[LIMIT]:
        return web.json_response({"error": f"the view already has {app[LIMIT]} clients"}, status=503)
    # JPEGs do not deflate: compression would only cost CPU on the device.
    ws = web.WebSocketResponse(heartbeat=10.0, compress=False, max_msg_size=4096, timeout=2.0)
    await ws.prepare(request)
    client = _Client(ws)
    app[CLIENTS].add(client)
    _wake_all(app)  # every page's client count changes
    pump = asyncio.create_task(_pump(app, client))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "next":
                client.credit = True
                client.wake.set()
    finally:
        app[CLIENTS].discard(client)
        pump.cancel()
        try:
            await pump
        except (asyncio.CancelledError, ConnectionError):
            pass
        except Exception:  # a failed send ends this client only
            log.debug("live view client ended with an error", exc_info=True)
        _wake_all(app)
    return ws


async def _close_clients(app: web.Application) -> None:
    for client in list(app[CLIENTS]):
        await client.ws.close(code=1001, message=b"server stopping")


def build_app(hub: LiveHub, access: Access, check_host: bool = False, max_clients: int = 8) -> web.Application:
    """The aiohttp application of the live view (``check_host``: refuse non-loopback Host headers)."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[HUB], app[ACCESS], app[CLIENTS], app[LIMIT], app[CHECK_HOST] = hub, access, set(), max_clients, check_host
    app[POOL] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="echosr-web")
    folder = resources.files("echosr_edge.web") / "static"
    app[ASSETS] = {name: (folder / name).read_bytes() for name in STATIC}
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/ws", _websocket)
    app.router.add_get("/api/state", _get_state)
    app.router.add_post("/api/enhance", _set_enhance)
    app.router.add_post("/api/freeze", _set_freeze)
    app.router.add_post("/api/snapshot", _snapshot)
    app.on_response_prepare.append(_headers)
    app.on_shutdown.append(_close_clients)

    async def stop_pool(app: web.Application) -> None:
        app[POOL].shutdown(wait=False, cancel_futures=True)

    app.on_cleanup.append(stop_pool)

    async def attach(app: web.Application) -> None:
        loop = asyncio.get_running_loop()

        def listener() -> None:  # on the pipeline's thread: cheap, and nothing at all without clients
            if app[CLIENTS]:
                with suppress(RuntimeError):  # the loop is closing
                    loop.call_soon_threadsafe(_wake_all, app)

        app[LISTENER] = listener
        hub.add_listener(listener)

    async def detach(app: web.Application) -> None:
        hub.remove_listener(app[LISTENER])

    app.on_startup.append(attach)
    app.on_cleanup.append(detach)
    return app


class ServerHandle:
    """A running live view: where to open it, and how to stop it."""

    def __init__(self, app, loop, thread, host: str, port: int, access: Access, scheme: str = "http"):
        self._app, self._loop, self._thread = app, loop, thread
        self.host, self.port, self.access = host, port, access
        self.warning: str | None = None  # set by serve() when the view is open to the network
        self.fingerprint: str | None = None  # the certificate's SHA-256 when served over HTTPS (tls.py)
        self.base_url = f"{scheme}://{url_host(reachable_host(host))}:{port}/"
        self.url = self.base_url + (f"?token={access.token}" if access.required else "")

    @property
    def client_count(self) -> int:
        return len(self._app[CLIENTS])

    def frames_sent(self) -> list[int]:
        """Frames sent to each connected client so far."""
        return [c.sent for c in list(self._app[CLIENTS])]

    def thread_ids(self) -> list[int]:
        """Native ids of the server's threads (its event loop and its encoding workers)."""
        workers = [t.native_id for t in list(getattr(self._app[POOL], "_threads", ()))]
        return [self._thread.native_id, *workers]

    def stop(self, timeout: float = 10.0) -> None:
        """Close every client, stop the server and join its thread (idempotent)."""
        if self._thread.is_alive():
            with suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server(
    hub: LiveHub, host: str, port: int, access: Access, max_clients: int = 8, ssl_context=None
) -> ServerHandle:
    """Start the server thread, wait until it listens, and return its handle."""
    check_host = not access.required and is_loopback(host)
    app = build_app(hub, access, check_host=check_host, max_clients=max_clients)
    loop = asyncio.new_event_loop()
    started, box = threading.Event(), {}

    def main() -> None:
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=2.0, access_log_class=PathOnlyAccessLogger, access_log=access_log
        )
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, host, port, ssl_context=ssl_context).start())
            box["port"] = runner.addresses[0][1]
        except Exception as exc:
            box["error"] = exc
            loop.run_until_complete(runner.cleanup())
            loop.close()
            started.set()
            return
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    thread = threading.Thread(target=main, name="echosr-web", daemon=True)
    thread.start()
    started.wait()
    if "error" in box:
        exc = box["error"]
        reason = getattr(exc, "strerror", None) or str(exc)
        raise EchoSRError(f"cannot serve the live view on {url_host(host)}:{port}: {reason}") from exc
    handle = ServerHandle(app, loop, thread, host, box["port"], access, "https" if ssl_context is not None else "http")
    log.info("live view listening on %s (%s)", handle.base_url, "token required" if access.required else "open")
    return handle
