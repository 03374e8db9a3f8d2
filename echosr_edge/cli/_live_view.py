"""``run --serve``: start the live view, HTTPS beyond loopback, and show how to join it (link, fingerprint, QR)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click


def tls_options(func):
    """--tls-cert, --tls-key and --insecure-http for ``run``."""
    func = click.option("--insecure-http", is_flag=True,
                        help="With --serve beyond loopback: plain HTTP, the token and the images in clear text (not recommended).")(func)
    func = click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="The private key (PEM) of --tls-cert.")(func)
    func = click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="The clinic's certificate (PEM) for --serve (default beyond loopback: a self-signed one kept in the state dir).")(func)
    return func


def start_live_view(hub, host: str, port: int, no_auth: bool, tls_cert: Path | None, tls_key: Path | None,
                    insecure_http: bool, say: Callable[[str], None], qr_png: Path | None = None):
    """Serve ``hub``; print the link, the certificate's fingerprint and a QR code of both. Returns the server handle."""
    from echosr_edge.errors import MissingExtra
    from echosr_edge.runtime.web import is_loopback, serve
    from echosr_edge.runtime.web.auth import reachable_host
    from echosr_edge.runtime.web.tls import choose_tls, link_with_fingerprint, qr_code, state_dir

    loopback = is_loopback(host)
    tls = choose_tls(host, loopback, tls_cert, tls_key, insecure_http, shown_host=reachable_host(host))
    server = serve(hub, host, port, no_auth=no_auth, tls=tls)
    say(f"live view: {server.url}")
    if tls is not None:
        made = " (self-signed, made now)" if tls.generated else ""
        say(f"certificate SHA-256 fingerprint{made}: {tls.fingerprint}")
        say("  the browser warns about a self-signed certificate: accept it only if it shows this fingerprint")
    elif not loopback:
        say("WARNING: --insecure-http: the access token and every image cross the network in clear text; "
            "anyone on this network can read them")
    if server.warning:
        say(f"warning: {server.warning}")
    if not loopback:
        png = qr_png or state_dir() / "live-view-qr.png"
        try:
            say(qr_code(link_with_fingerprint(server.url, server.fingerprint), png).rstrip("\n"))
            say(f"scan to join (link, token and fingerprint); also saved as {png} (mode 0600: it holds the token)")
        except MissingExtra as exc:
            say(f"no QR code: {exc}")
    return server
