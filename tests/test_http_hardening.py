"""Regression tests of fetch() against hostile loopback servers: answers that drip or never end
before the body, malformed redirect Locations and URLs, and redirects from https to plain http."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adfs_readiness.cli import main
from adfs_readiness.facts import ProbeErrorKind, Redirect
from adfs_readiness.net.http import fetch

from hostile_servers import HostileServer

V4 = (Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml").read_bytes()
Handler = Callable[[socket.socket, str, threading.Event], None]


def _Server(handler: Handler, tls: ssl.SSLContext | None = None) -> HostileServer:
    """The shared loopback hostile server (tests/hostile_servers.py), its handler given the request
    path only: what these deadline and size tests need."""
    return HostileServer(lambda connection, request, stop: handler(connection, request.path, stop), tls=tls)


def _drip(connection: socket.socket, first: bytes, again: bytes, stop: threading.Event) -> None:
    connection.sendall(first)
    while not stop.is_set():
        connection.sendall(again)
        stop.wait(0.05)


_HOSTILE: dict[str, Handler] = {
    # A header line every 50 ms: each read returns at once, so no read timeout ever fires.
    "header lines dripped": lambda c, p, s: _drip(c, b"HTTP/1.1 200 OK\r\n", b"X-Drip: y\r\n", s),
    "one header byte at a time": lambda c, p, s: _drip(c, b"HTTP/1.1 200 OK\r\nX-A: ", b"a", s),
    "status line dripped": lambda c, p, s: _drip(c, b"H", b"T", s),
    "endless 100 Continue": lambda c, p, s: _drip(c, b"", b"HTTP/1.1 100 Continue\r\n\r\n", s),
    "endless chunked trailers": lambda c, p, s: _drip(
        c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<a/>x\r\n0\r\n", b"X-T: a\r\n", s),
    "body dripped": lambda c, p, s: _drip(c, b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n", b"<", s),
}


@pytest.mark.parametrize("behaviour", sorted(_HOSTILE))
def test_fetch_returns_by_its_deadline_whatever_the_server_drips(behaviour: str) -> None:
    budget = 1.0
    with _Server(_HOSTILE[behaviour]) as server:
        started = time.monotonic()
        # The per-read timeout (5 s) is longer than the whole budget: only the deadline can stop it.
        exchange, _ = fetch(f"http://127.0.0.1:{server.port}/m", timeout=5, deadline=started + budget,
                            max_bytes=1024 * 1024)
        elapsed = time.monotonic() - started
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.DEADLINE, exchange.error
    assert exchange.error.reason.startswith("the run's deadline passed while ")
    assert budget - 0.05 <= elapsed < budget + 5.0


def _redirect_to(location: bytes, status: int = 302) -> Handler:
    def handler(connection: socket.socket, path: str, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % (status, location))
    return handler


@pytest.mark.parametrize("location, why", [
    ("http://127.0.0.1:99999/", "Port out of range 0-65535"),
    ("http://[::1/", "Invalid IPv6 URL"),
    ("http://a:b:c/", "Port could not be cast to integer value as 'b:c'"),
    ("https://[::1]:70000/x", "Port out of range 0-65535"),
    ("http://127.0.0.1:-1/", "Port could not be cast to integer value as '-1'"),
])
def test_malformed_redirect_location_is_an_http_error_with_evidence(location: str, why: str) -> None:
    with _Server(_redirect_to(location.encode())) as server:
        url = f"http://127.0.0.1:{server.port}/m"
        exchange, body = fetch(url, timeout=5, deadline=time.monotonic() + 10, max_bytes=1024)
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.HTTP
    assert exchange.error.reason.startswith("malformed redirect Location ")
    assert why in exchange.error.reason
    assert exchange.error.target == url
    assert len(exchange.redirects) == 1 and exchange.redirects[0].status == 302
    assert exchange.redirects[0].url == url
    assert exchange.status == 302 and body == b""


@pytest.mark.parametrize("url", ["http://[::1/", "https://127.0.0.1:99999/x", "http://a:b:c/"])
def test_malformed_url_is_an_http_error_not_an_exception(url: str) -> None:
    exchange, body = fetch(url, timeout=5, deadline=time.monotonic() + 10, max_bytes=1024)
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.HTTP
    assert exchange.error.reason.startswith(f"malformed URL {url!r}: ")
    assert exchange.status is None and body == b""


def test_malformed_metadata_url_on_the_command_line_is_a_finding(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    main(["check", "--metadata", "http://[::1/", "--json", str(out), "-q", "--deadline", "10"])
    report = json.loads(out.read_text())
    reachable = next(f for f in report["findings"] if f["check_id"] == "metadata.reachable")
    assert reachable["status"] == "fail"
    assert "Fetching http://[::1/ failed (http): malformed URL 'http://[::1/'" in reachable["summary"]


# --- https -> http ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_identity(tmp_path_factory) -> tuple[ssl.SSLContext, Path]:
    """A server context with a self-signed certificate for 127.0.0.1, and that certificate as a
    CA bundle file for the client."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)  # OpenSSL checks validity against the system clock
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "cert.pem"


def _metadata(connection: socket.socket, path: str, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(V4) + V4)


@pytest.mark.parametrize("template, status", [
    ("http://127.0.0.1:{port}/m", 301), ("HTTP://127.0.0.1:{port}/m", 302), ("http://127.0.0.1:{port}", 307),
    ("http://localhost:{port}/m", 308),
])
def test_redirect_from_https_to_http_is_refused(tls_identity, template: str, status: int) -> None:
    context, bundle = tls_identity
    with _Server(_metadata) as plain:
        location = template.format(port=plain.port)
        with _Server(_redirect_to(location.encode(), status), tls=context) as secure:
            url = f"https://127.0.0.1:{secure.port}/FederationMetadata.xml"
            exchange, body = fetch(url, timeout=5, deadline=time.monotonic() + 10, max_bytes=1024 * 1024,
                                   ca_bundle=bundle)
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.HTTP
    assert exchange.error.reason.startswith(f"redirect from https to http refused: {url} -> ")
    assert exchange.redirects == (Redirect(status, url, exchange.redirects[0].location),)
    assert exchange.redirects[0].location.lower().startswith("http://")
    assert exchange.final_url == url and exchange.status == status and body == b""


def test_redirect_from_http_to_https_and_within_https_is_followed(tls_identity) -> None:
    context, bundle = tls_identity
    with _Server(_metadata, tls=context) as secure:
        with _Server(_redirect_to(f"https://127.0.0.1:{secure.port}/m".encode())) as plain:
            exchange, body = fetch(f"http://127.0.0.1:{plain.port}/", timeout=5, deadline=time.monotonic() + 10,
                                   max_bytes=1024 * 1024, ca_bundle=bundle)
    assert exchange.error is None and exchange.status == 200 and body == V4


def test_downgrade_redirect_fails_metadata_reachable(tls_identity, tmp_path: Path) -> None:
    context, bundle = tls_identity
    out = tmp_path / "r.json"
    with _Server(_metadata) as plain:
        with _Server(_redirect_to(f"http://127.0.0.1:{plain.port}/m".encode(), 301), tls=context) as secure:
            url = f"https://127.0.0.1:{secure.port}/FederationMetadata.xml"
            main(["check", "--metadata", url, "--ca-bundle", str(bundle), "--json", str(out), "-q",
                  "--deadline", "20"])
    report = json.loads(out.read_text())
    reachable = next(f for f in report["findings"] if f["check_id"] == "metadata.reachable")
    assert reachable["status"] == "fail"
    assert f"Fetching {url} failed (http): redirect from https to http refused" in reachable["summary"]
