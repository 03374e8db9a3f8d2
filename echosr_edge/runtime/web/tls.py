"""HTTPS for the live view beyond loopback: a self-signed certificate kept in the device's state.

On the clinic's network the view's token and every frame would otherwise cross the Wi-Fi in
clear text. ``choose_tls`` decides: a loopback address may stay HTTP (only this machine can
reach it); any other address gets HTTPS with the clinic's own certificate (``--tls-cert`` and
``--tls-key``) or, by default, a self-signed one generated on first use into the device's
state directory (private key mode 0600) and kept, so its fingerprint stays the same across
restarts and a tablet that accepted it once keeps trusting it. ``--insecure-http`` opts out.

A self-signed certificate is trusted by comparing fingerprints: the run prints the
certificate's SHA-256 fingerprint beside the link, and the QR code (terminal and PNG) carries
it in the link's fragment (``#sha256=…``, never sent to the server).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from echosr_edge.errors import EchoSRError, import_optional

log = logging.getLogger(__name__)

STATE_DIR_ENV = "ECHOSR_STATE_DIR"
CERT_NAME, KEY_NAME = "live-view.crt", "live-view.key"
VALID_DAYS = 3650


@dataclass(frozen=True)
class TLSFiles:
    """A certificate and its private key (PEM), and the certificate's SHA-256 fingerprint."""

    cert: Path
    key: Path
    fingerprint: str  # "AB:CD:…" of the DER certificate
    generated: bool = False  # made by this run (first use)

    def context(self) -> ssl.SSLContext:
        """A server-side SSL context with this certificate (TLS 1.2 or newer)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(str(self.cert), str(self.key))
        except (ssl.SSLError, OSError) as exc:
            raise EchoSRError(f"cannot use the certificate {self.cert} with the key {self.key}: {exc}") from exc
        return ctx


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The device's state directory: ``$ECHOSR_STATE_DIR``, systemd's ``$STATE_DIRECTORY``,
    ``$XDG_STATE_HOME/echosr-edge``, else ``~/.local/state/echosr-edge``."""
    env = os.environ if env is None else env
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path(env.get("HOME", "~")).expanduser() / ".local" / "state"
    return base / "echosr-edge"


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the certificate's DER encoding, as colon-separated upper-case hex (what browsers show)."""
    der = ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _names(hosts: list[str]) -> list:
    from cryptography import x509

    names, seen = [], set()
    for host in [*hosts, socket.gethostname(), "localhost"]:
        host = host.strip("[]")
        if not host or host in seen or host in ("0.0.0.0", "::"):
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only its owner can read (0600 from the start, no window)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def generate_self_signed(folder: Path, hosts: list[str]) -> TLSFiles:
    """A new EC P-256 key and a self-signed certificate for ``hosts`` (IPs and names) in ``folder``."""
    import_optional("cryptography", "sign")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"echosr-edge live view ({socket.gethostname()})")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / KEY_NAME, folder / CERT_NAME
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path.write_bytes(pem)
    log.info("generated a self-signed certificate for the live view: %s", cert_path)
    return TLSFiles(cert_path, key_path, fingerprint(pem), generated=True)


def _covers(cert_pem: bytes, hosts: list[str]) -> bool:
    """Whether the certificate names every one of ``hosts`` (an address that changed needs a new one)."""
    from cryptography import x509

    try:
        names = x509.load_pem_x509_certificate(cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    have = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} | set(names.get_values_for_type(x509.DNSName))
    return all(h.strip("[]") in have for h in hosts if h.strip("[]") not in ("", "0.0.0.0", "::"))


def self_signed(folder: Path, hosts: list[str]) -> TLSFiles:
    """The certificate kept in ``folder``, generated on first use or when this machine's address is not
    among its names (DHCP gave another); a key readable by others is refused."""
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    if not (cert_path.is_file() and key_path.is_file()) or not _covers(cert_path.read_bytes(), hosts):
        return generate_self_signed(folder, hosts)
    if key_path.stat().st_mode & 0o077:
        raise EchoSRError(f"{key_path} can be read by other users: chmod 600 it (or delete it to make a new one)")
    return TLSFiles(cert_path, key_path, fingerprint(cert_path.read_bytes()))


def choose_tls(host: str, loopback: bool, cert: Path | None = None, key: Path | None = None,
               insecure_http: bool = False, folder: Path | None = None, shown_host: str | None = None) -> TLSFiles | None:
    """The TLS files to serve with, or None for plain HTTP (loopback, or ``insecure_http``)."""
    if (cert is None) != (key is None):
        raise EchoSRError("--tls-cert and --tls-key go together")
    if cert is not None:
        if insecure_http:
            raise EchoSRError("--insecure-http contradicts --tls-cert/--tls-key")
        return TLSFiles(Path(cert), Path(key), fingerprint(Path(cert).read_bytes()))
    if loopback or insecure_http:
        return None
    return self_signed(Path(folder) if folder else state_dir(), [h for h in (shown_host, host) if h])


def link_with_fingerprint(url: str, fp: str | None) -> str:
    """The link the QR code carries: the URL with the certificate's fingerprint in its fragment."""
    return f"{url}#sha256={fp.replace(':', '')}" if fp else url


def qr_code(link: str, png: Path | None = None) -> str:
    """The QR code of ``link`` as terminal text (and a PNG, mode 0600: it holds the token); needs segno."""
    segno = import_optional("segno", "web")
    import io

    code = segno.make(link, error="m")
    text = io.StringIO()
    code.terminal(out=text, compact=True, border=2)
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        buf = io.BytesIO()
        code.save(buf, kind="png", scale=8, border=4)
        _write_private(png, buf.getvalue())
    return text.getvalue()
