"""The bedside live view: original | enhanced with labels, streamed to a browser.

:class:`LiveHub` is what the run loop holds (no web library needed); :func:`serve` starts
the aiohttp server behind the ``web`` extra in a background thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from echosr_edge.errors import import_optional
from echosr_edge.runtime.web.auth import is_loopback, parse_address
from echosr_edge.runtime.web.hub import ENHANCE_MODES, STATUSES, LiveHub
from echosr_edge.runtime.web.snapshot import Snapshot

if TYPE_CHECKING:
    from echosr_edge.runtime.web.server import ServerHandle
    from echosr_edge.runtime.web.tls import TLSFiles

__all__ = ["ENHANCE_MODES", "STATUSES", "LiveHub", "Snapshot", "is_loopback", "parse_address", "serve"]


def serve(
    hub: LiveHub,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    no_auth: bool = False,
    require_token: bool | None = None,
    max_clients: int = 8,
    tls: "TLSFiles | None" = None,
) -> "ServerHandle":
    """Serve ``hub`` on ``host:port`` from a background thread; returns the running server's handle.

    A token is required when bound to a non-loopback address (``token`` or a fresh random one)
    unless ``no_auth``; ``require_token`` forces the choice either way. ``handle.url`` is the
    address to open first (it carries the token), ``handle.warning`` a line the caller should
    show when the view is open to the network, and ``handle.stop()`` ends it. With ``tls``
    (web/tls.py's ``choose_tls``) it serves HTTPS and ``handle.fingerprint`` is the
    certificate's; plain HTTP to that port then fails the TLS handshake. Raises
    MissingExtra when aiohttp is absent, EchoSRError when the address cannot be bound.
    """
    import_optional("aiohttp", "web")
    from echosr_edge.runtime.web.auth import Access
    from echosr_edge.runtime.web.server import start_server

    loopback = is_loopback(host)
    required = require_token if require_token is not None else not (loopback or no_auth)
    access = Access.with_token(token) if required else Access.open()
    handle = start_server(hub, host, port, access, max_clients=max_clients,
                          ssl_context=tls.context() if tls is not None else None)
    handle.fingerprint = tls.fingerprint if tls is not None else None
    if not required and not loopback:
        handle.warning = (
            f"the live view at {handle.base_url} has no access control (--no-auth): anyone who can "
            "reach this address can watch the images and change the run's controls"
        )
    return handle
