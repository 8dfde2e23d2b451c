"""Hostile servers on loopback for the issue-12 network tests: an HTTP(S) server whose every answer is a
script (gzip bombs, dripped bodies, echoed secrets, escape sequences), an LDAP server that echoes
the bind request, TLS identities for made-up host names, and the check that a secret appears in
no output a run left behind.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import json
import socket
import ssl
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Request:
    """One request the hostile server read."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[socket.socket, Request, threading.Event], None]


class HostileServer:
    """A loopback TCP (optionally TLS) server: each connection's request is read (headers and a
    Content-Length body) and handed to ``handler(connection, request, stop)``, which answers as
    it likes. ``requests`` records every request; ``connections`` counts accepted connections."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self._handler, self._tls = handler, tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.stop = threading.Event()
        self.requests: list[Request] = []
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(10)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(30)
            if self._tls is not None:
                connection = self._tls.wrap_socket(connection, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            length = int(headers.get("content-length", "0") or 0)
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                body += chunk
            request = Request(method, path, headers, body)
            self.requests.append(request)
            self._handler(connection, request, self.stop)
        except (OSError, ValueError):
            pass  # the client went away or sent garbage: what the deadline tests want
        finally:
            connection.close()


def answer(connection: socket.socket, body: bytes, *, status: str = "200 OK", content_type: str = "application/json",
           extra: str = "") -> None:
    """Send a complete HTTP/1.1 answer."""
    connection.sendall(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                       f"{extra}Connection: close\r\n\r\n".encode("latin-1") + body)


_MEMBER_BYTES = 64 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def _gzip_member() -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
        block = bytes(1024 * 1024)
        for _ in range(_MEMBER_BYTES // len(block)):
            stream.write(block)
    return out.getvalue()


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A gzip stream of ``decompressed_bytes`` zero bytes (about 1/1000 of that size): one 64 MiB
    member repeated (RFC 1952 allows several members; decoders, urllib3's included, read them all)."""
    return _gzip_member() * max(1, decompressed_bytes // _MEMBER_BYTES)


def send_bomb(connection: socket.socket, decompressed_bytes: int, *, status: str = "200 OK",
              content_type: str = "application/json") -> None:
    """Answer with a gzip bomb (Content-Encoding: gzip)."""
    bomb = gzip_bomb(decompressed_bytes)
    connection.sendall(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Encoding: gzip\r\n"
                       f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n".encode() + bomb)


def drip(connection: socket.socket, first: bytes, again: bytes, stop: threading.Event, every: float = 0.1) -> None:
    """Send ``first``, then ``again`` every ``every`` seconds until the test ends."""
    connection.sendall(first)
    while not stop.is_set():
        connection.sendall(again)
        stop.wait(every)


def deflate_bomb(decompressed_bytes: int) -> bytes:
    """A raw zlib stream of zeros (Content-Encoding: deflate)."""
    compressor = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decompressed_bytes // len(block))]
    return b"".join(parts) + compressor.flush()


@dataclass
class TlsIdentity:
    """A self-signed certificate for some host names: the server context and the CA file to trust."""

    context: ssl.SSLContext
    ca_file: Path
    hosts: tuple[str, ...] = field(default=())


def tls_identity(folder: Path, *hosts: str) -> TlsIdentity:
    """A self-signed (CA:true) certificate naming ``hosts`` (DNS names or IP addresses)."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.timezone.utc)  # OpenSSL checks validity against the system clock
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return TlsIdentity(context, folder / "cert.pem", tuple(hosts))


# --- LDAP: a server that echoes the bind request ---------------------------------------------------

def _tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + value


class EchoingLdapServer:
    """An LDAP server on loopback that refuses every bind with invalidCredentials (49) and puts the
    whole bind request (user name and password included) into the diagnosticMessage, as a hostile
    or badly written directory might."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> EchoingLdapServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(10)
                    data = conn.recv(65536)
                    if len(data) < 5:
                        continue
                    at = 2 if data[1] < 0x80 else 2 + (data[1] & 0x7F)  # past the LDAPMessage header
                    message_id = data[at + 2:at + 2 + data[at + 1]]  # INTEGER messageID
                    echoed = data.decode("latin-1")
                    response = _tlv(0x61, _tlv(0x0A, b"\x31") + _tlv(0x04, b"") +
                                    _tlv(0x04, f"80090308: LdapErr: bad password in {echoed}".encode("utf-8")))
                    conn.sendall(_tlv(0x30, _tlv(0x02, message_id) + response))
                    conn.recv(65536)  # the unbind, or nothing
                except OSError:
                    continue


# --- no secret left behind ----------------------------------------------------------------------

def secret_forms(secret: str) -> list[bytes]:
    """The byte strings a leaked secret would show as in a file: as written, URL-encoded, JSON."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    return [f.encode("utf-8") for f in forms if len(f) >= 4]


def assert_no_secret(secret: str, *, texts: tuple[str, ...] = (), folders: tuple[Path, ...] = ()) -> None:
    """Fail when ``secret`` (in any of :func:`secret_forms`) is in one of ``texts``, in any file
    under ``folders`` (contents, SQLite databases included) or in any file name there (lock files)."""
    forms = secret_forms(secret)
    for text in texts:
        for form in forms:
            assert form not in text.encode("utf-8", "replace"), f"secret leaked into output: {text[:2000]}"
    for folder in folders:
        for path in folder.rglob("*"):
            for form in forms:
                assert form.decode() not in path.name, f"secret in a file name: {path}"
            if path.is_file():
                data = path.read_bytes()
                for form in forms:
                    assert form not in data, f"secret leaked into {path}"
