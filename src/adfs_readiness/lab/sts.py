"""The STS simulator: a threaded HTTPS server on loopback that answers like one AD FS federation
service would (its federation metadata, its sign-in page), or misbehaves on purpose.

Behaviours (:class:`StsBehaviour`): serve the metadata (optionally with a UTF-8 BOM, optionally behind
redirects), answer an HTML sign-in page instead, wait longer than the client will, drip one byte at a
time, or stream an endless body. Every wait is on the simulator's stop event, so :meth:`StsSimulator.stop`
ends them at once; stop also shuts down open connections and joins the handler threads, so a test
leaves no thread or port behind.

AD FS serves ``/FederationMetadata/2007-06/FederationMetadata.xml`` as ``text/xml`` without a charset
(as seen on real farms), which is what the simulator does.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Literal, Mapping

from adfs_readiness.lab._serving import serve_in_thread
from adfs_readiness.lab.endpoints_lab import DEFAULT_ENDPOINTS, endpoint_answer
from adfs_readiness.lab.federation_metadata import METADATA_PATH
from adfs_readiness.lab.sts_wstrust import MAX_REQUEST_BYTES, SignInLab, wstrust_answer
from adfs_readiness.settings import HostPort

__all__ = ["StsBehaviour", "StsSimulator", "SilentListener", "SIGN_IN_PAGE", "weak_tls_server", "legacy_tls_server"]

_log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_STREAM_CHUNK = 64 * 1024
# How long a handler waits for a client that says nothing; stop() does not depend on it.
_IDLE_SECONDS = 10.0

#: A sign-in page of the kind a reverse proxy or a misrouted farm answers instead of metadata.
SIGN_IN_PAGE = b"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Sign In</title></head>
<body><div id="fullPage"><div id="contentWrapper"><div id="header"><img class="logoImage"
alt="Contoso" src="/adfs/portal/logo/logo.png"></div><div id="workArea"><div id="authArea"
class="groupMargin"><div id="loginArea"><div id="loginMessage" class="groupMargin">Sign in with
your organizational account</div><form method="post" id="loginForm" autocomplete="off"
action="/adfs/ls/?SAMLRequest=placeholder"><input id="userNameInput" name="UserName" type="email"
placeholder="someone@example.com"><input id="passwordInput" name="Password" type="password">
<span id="submitButton" class="submit" role="button">Sign in</span></form></div></div></div>
</div></div></body></html>
"""


@dataclass(frozen=True)
class StsBehaviour:
    """What the simulator serves.

    Attributes:
        metadata: the federation metadata bytes served at METADATA_PATH.
        bom: prefix the metadata with a UTF-8 byte-order mark (some farms behind proxies do).
        answer: "metadata" (normal), "html" (a 200 sign-in page instead of metadata), "slow"
            (wait ``slow_seconds`` before answering), "oversized" (stream ``oversized_bytes``
            generated on the fly), "drip" (headers, then one byte every ``drip_interval_seconds``).
        redirects: redirect hops in front of the metadata (first an absolute 302 to the same host,
            then relative 301s), to exercise redirect handling.
        oversized_declares_length: send a Content-Length for the oversized answer (else chunked).
        now: the lab's clock; the Date header says ``now`` plus the time since the simulator
            started, so clock-skew checks judged against the same ``now`` see no skew. None = the
            system clock.
        sign_in: the test account the WS-Trust usernamemixed endpoints issue tokens for (POST;
            see :mod:`adfs_readiness.lab.sts_wstrust`); None = they refuse every request.
    """

    metadata: bytes
    bom: bool = False
    answer: Literal["metadata", "html", "slow", "oversized", "drip"] = "metadata"
    redirects: int = 0
    slow_seconds: float = 60.0
    oversized_bytes: int = 200 * 1024 * 1024
    oversized_declares_length: bool = False
    drip_interval_seconds: float = 0.25
    now: datetime | None = None
    endpoints: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_ENDPOINTS)))
    role: Literal["farm", "proxy"] = "farm"
    fs_name: str = "sts.contoso.test"
    clock_offset_seconds: float = 0.0
    sign_in: SignInLab | None = None


def weak_tls_server(context: ssl.SSLContext) -> None:
    """Security level 0 on a server context, so that OpenSSL 3 accepts a weak certificate (RSA
    1024, SHA-1) for the lab (https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/)."""
    context.set_ciphers("DEFAULT:@SECLEVEL=0")


def legacy_tls_server(context: ssl.SSLContext) -> None:
    """A TLS 1.0-only server (security level 0: OpenSSL 3 refuses TLS 1.0 above it)."""
    weak_tls_server(context)
    with warnings.catch_warnings():
        # ssl.TLSVersion.TLSv1 is deprecated: exactly the point of this lab server.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1


class _Server(ThreadingHTTPServer):
    # Handler threads are daemons so they never keep the interpreter alive; socketserver does
    # not track daemon threads (server_close() joins only non-daemon ones), so we track them
    # ourselves and join them in join_handlers(): stop() then leaves no thread behind.
    daemon_threads = True

    def __init__(self, simulator: StsSimulator) -> None:
        self.simulator = simulator
        self._handler_threads: list[threading.Thread] = []
        self._handler_lock = threading.Lock()
        super().__init__((simulator.host, 0), _Handler)

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                  daemon=True, name=f"sts-handler-{client_address[1]}")
        with self._handler_lock:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def join_handlers(self, timeout: float = 5.0) -> None:
        """Join every handler thread (each ends promptly once stop() shut its connection)."""
        with self._handler_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        # Clients hang up on purpose (size caps, timeouts, failed verification): not an error here.
        _log.debug("STS simulator: connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"  # what http.sys, in front of AD FS, says
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        simulator = self.server.simulator
        if timestamp is None and simulator.behaviour.now is not None:
            elapsed = timedelta(seconds=time.monotonic() - simulator.started
                                + simulator.behaviour.clock_offset_seconds)
            return format_datetime(simulator.behaviour.now + elapsed, usegmt=True)
        return super().date_time_string(timestamp)

    def setup(self) -> None:
        simulator = self.server.simulator
        self.request.settimeout(_IDLE_SECONDS)
        # Wrap without handshaking (no I/O), register, then handshake here in the handler thread: a
        # client that never finishes its handshake then blocks only this thread, and stop() can
        # shut its socket down.
        self.request = simulator.tls_context.wrap_socket(self.request, server_side=True,
                                                         do_handshake_on_connect=False)
        simulator.register(self.request)
        try:
            self.request.do_handshake()
        except BaseException:
            # setup() failing means finish() is never called: clean up here.
            simulator.unregister(self.request)
            self.request.close()
            raise
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.simulator.unregister(self.request)
            self.request.close()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        _log.debug("STS simulator: " + format, *args)

    # --- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        behaviour = self.server.simulator.behaviour
        path = self.path.split("?", 1)[0]
        if path == METADATA_PATH and behaviour.redirects > 0:
            host = self.headers.get("Host", "localhost")
            self._redirect(302, f"https://{host}/adfs/metadata/hop/1")
        elif path.startswith("/adfs/metadata/hop/"):
            hop = int(path.rsplit("/", 1)[1]) if path.rsplit("/", 1)[1].isdigit() else behaviour.redirects
            if hop < behaviour.redirects:
                self._redirect(301, f"/adfs/metadata/hop/{hop + 1}")
            else:
                self._metadata()
        elif path == METADATA_PATH:
            self._metadata()
        elif path == "/adfs/probe":
            self._send(200, b"", "text/plain")
        elif path == "/adfs/ls/" and behaviour.endpoints.get(path, "proxied") == "proxied" or (
                path == "/adfs/ls/" and behaviour.endpoints.get(path) == "enabled" and behaviour.role == "farm"):
            self._send(200, SIGN_IN_PAGE, "text/html; charset=utf-8")
        elif (answer := endpoint_answer(path, behaviour.endpoints, behaviour.role, behaviour.fs_name)) is not None:
            self._send(*answer)
        else:
            self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        behaviour = self.server.simulator.behaviour
        path = self.path.split("?", 1)[0]
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            self._send(413 if length.isdigit() else 411, b"", "text/html")
            return
        body = self.rfile.read(int(length))
        state = behaviour.endpoints.get(path)
        visible = state == "proxied" or (state == "enabled" and behaviour.role == "farm")
        if path not in ("/adfs/services/trust/13/usernamemixed", "/adfs/services/trust/2005/usernamemixed") or not visible:
            self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        simulator = self.server.simulator
        now = datetime.now(timezone.utc) if behaviour.now is None else behaviour.now + timedelta(
            seconds=time.monotonic() - simulator.started + behaviour.clock_offset_seconds)
        self._send(*wstrust_answer(body, behaviour.sign_in, now))

    def _metadata(self) -> None:
        behaviour = self.server.simulator.behaviour
        stop = self.server.simulator.stopping
        if behaviour.answer == "html":
            self._send(200, SIGN_IN_PAGE, "text/html; charset=utf-8")
        elif behaviour.answer == "slow":
            if not stop.wait(behaviour.slow_seconds):
                self._send(200, behaviour.metadata, "text/xml")
        elif behaviour.answer == "oversized":
            self._stream_oversized(behaviour, stop)
        elif behaviour.answer == "drip":
            self._drip(behaviour, stop)
        else:
            body = (_BOM if behaviour.bom else b"") + behaviour.metadata
            self._send(200, body, "text/xml")

    # --- writers ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream_oversized(self, behaviour: StsBehaviour, stop: threading.Event) -> None:
        head = b'<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><!--'
        filler = b"x" * _STREAM_CHUNK
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        chunked = not behaviour.oversized_declares_length
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(behaviour.oversized_bytes))
        self.end_headers()
        sent = 0
        while sent < behaviour.oversized_bytes and not stop.is_set():
            block = (head if sent == 0 else filler)[: behaviour.oversized_bytes - sent]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            sent += len(block)
        if chunked and not stop.is_set():
            self.wfile.write(b"0\r\n\r\n")

    def _drip(self, behaviour: StsBehaviour, stop: threading.Event) -> None:
        body = behaviour.metadata
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for index in range(len(body)):
            self.wfile.write(body[index:index + 1])
            self.wfile.flush()
            if stop.wait(behaviour.drip_interval_seconds):
                return


class StsSimulator:
    """A threaded HTTPS server for one federation service on ``host`` (loopback), port chosen by
    the OS.

    Args:
        behaviour: what to serve (see :class:`StsBehaviour`).
        chain_file / key_file: PEM files of the TLS certificate chain (leaf first) and its key.
        host: the loopback address to listen on.
        configure_tls: called with the server's ``ssl.SSLContext`` before the certificate is
            loaded (protocol versions, security level; see :func:`legacy_tls_server`).

    Use :meth:`start` (returns the HostPort listened on) and :meth:`stop` (idempotent, quick).
    """

    def __init__(self, behaviour: StsBehaviour, chain_file: Path, key_file: Path, host: str = "127.0.0.1",
                 configure_tls: Callable[[ssl.SSLContext], None] | None = None) -> None:
        self.behaviour = behaviour
        self.host = host
        self.stopping = threading.Event()
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if configure_tls is not None:
            configure_tls(self.tls_context)
        self.tls_context.load_cert_chain(str(chain_file), str(key_file))
        self.tls_context.sni_callback = self._record_server_name
        self._lock = threading.Lock()
        self._connections: set[ssl.SSLSocket] = set()
        self._server_names: list[str | None] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()

    @property
    def address(self) -> HostPort:
        """Where the simulator listens (raises RuntimeError before :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("the STS simulator is not started")
        return HostPort(self.host, self._server.server_address[1])

    def start(self) -> HostPort:
        """Bind, start serving in a daemon thread and return the address."""
        self.started = time.monotonic()
        self._server = _Server(self)
        self._thread = serve_in_thread(self._server, f"sts-simulator-{self.address.port}")
        return self.address

    @property
    def server_names_seen(self) -> tuple[str | None, ...]:
        """The SNI names clients sent, in order (None for a hello without SNI)."""
        with self._lock:
            return tuple(self._server_names)

    def _record_server_name(self, connection: ssl.SSLObject, server_name: str | None,
                            context: ssl.SSLContext) -> None:
        with self._lock:
            self._server_names.append(server_name)

    def register(self, connection: ssl.SSLSocket) -> None:
        """Track an open connection so that stop() can shut it down (called by handlers)."""
        with self._lock:
            if self.stopping.is_set():
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            self._connections.add(connection)

    def unregister(self, connection: ssl.SSLSocket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def stop(self) -> None:
        """End every wait, stop accepting, shut open connections and join all threads."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        with self._lock:
            for connection in list(self._connections):
                # The plain socket's shutdown: unblocks a handler thread stuck in a read.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)
        self._server.server_close()
        self._server.join_handlers()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None


class SilentListener:
    """A TCP port that accepts connections (the kernel completes the TCP handshake for the backlog)
    but never reads or answers: a client waiting for a TLS ServerHello times out. Models a firewall
    or load balancer that accepts and drops, or a service that hangs."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._socket: socket.socket | None = None

    def start(self) -> HostPort:
        """Listen and return the address."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((self.host, 0))
        self._socket.listen(16)
        return self.address

    @property
    def address(self) -> HostPort:
        if self._socket is None:
            raise RuntimeError("the listener is not started")
        return HostPort(self.host, self._socket.getsockname()[1])

    def stop(self) -> None:
        """Close the port (pending connections are reset)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
