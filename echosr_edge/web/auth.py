"""Who may watch: the loopback rule, the access token, and the session cookie it is traded for.

Rule: bound to a loopback address (127.0.0.0/8, ::1, ``localhost``) the view may run open,
since only this machine can reach it. Bound to anything else — a LAN address, ``0.0.0.0``,
``::`` — it needs the token generated at start, unless the user turned access control off.
The first visit carries the token in the URL; the server answers with an HttpOnly cookie and
a redirect to the bare URL, so the token leaves the address bar and the browser's history.

Pure functions and a frozen record: no web library here.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass

COOKIE = "echosr_view"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server reachable from this machine only."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(text: str, default_host: str = "127.0.0.1", default_port: int = 8765) -> tuple[str, int]:
    """``[HOST:]PORT``, ``HOST:`` or ``[v6]:PORT`` → (host, port); raises ValueError when malformed."""
    text = text.strip()
    if not text:
        return default_host, default_port
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"cannot read {text!r} as [HOST]:PORT")
        port_text = rest[1:]
    elif text.count(":") > 1:
        raise ValueError(f"write an IPv6 address in brackets, as [{text}]:PORT")
    elif ":" in text:
        host, _, port_text = text.partition(":")
    elif text.isdigit():
        host, port_text = default_host, text
    else:
        host, port_text = text, ""
    host = host or default_host
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"the port in {text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is outside 0-65535")
    return host, port


@dataclass(frozen=True)
class Access:
    """The secrets of one server run: the URL token and the cookie it is exchanged for."""

    required: bool
    token: str | None = None
    cookie_value: str | None = None

    @classmethod
    def open(cls) -> "Access":
        return cls(required=False)

    @classmethod
    def with_token(cls, token: str | None = None) -> "Access":
        """Token-protected access; a fresh random token unless one is given."""
        return cls(True, token or secrets.token_urlsafe(24), secrets.token_urlsafe(32))

    def token_ok(self, candidate: str | None) -> bool:
        return bool(self.required and candidate and hmac.compare_digest(candidate.encode(), self.token.encode()))

    def cookie_ok(self, candidate: str | None) -> bool:
        return bool(self.required and candidate and hmac.compare_digest(candidate.encode(), self.cookie_value.encode()))

    def decide(self, query_token: str | None, bearer: str | None, cookie: str | None) -> int:
        """200 when allowed, 401 when no credential came, 403 when a wrong one did."""
        if not self.required:
            return 200
        if self.cookie_ok(cookie) or self.token_ok(query_token) or self.token_ok(bearer):
            return 200
        return 403 if (query_token or bearer or cookie) else 401


def reachable_host(bind_host: str) -> str:
    """The address to print for a server bound to ``bind_host`` (a LAN address for 0.0.0.0/::)."""
    if bind_host not in ("", "0.0.0.0", "::"):
        return bind_host
    # Connecting a UDP socket sends nothing; it only asks the kernel which interface it would use.
    family, probe = (socket.AF_INET6, "fd00::1") if bind_host == "::" else (socket.AF_INET, "10.255.255.255")
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((probe, 1))
            return s.getsockname()[0]
    except OSError:
        return socket.gethostname()


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
