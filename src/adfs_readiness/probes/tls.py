"""TLS probe: the certificate chain a server presents, as sent, for a given SNI name.

Python 3.11's ``ssl`` module returns only the leaf certificate of an unverified connection (the
peer chain needs ``SSLSocket.get_unverified_chain()``, new in 3.13), so the handshake is done
with pyOpenSSL, which exposes OpenSSL's ``SSL_get_peer_cert_chain``. No verification happens
here: a broken chain (wrong name, expired, missing intermediate) is exactly what the tls checks
judge, so it must be captured rather than refused.

The handshake runs on a socket with a timeout; OpenSSL then sees a non-blocking descriptor and
pyOpenSSL raises WantReadError/WantWriteError, on which we wait with ``select`` until the time
left runs out.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import time
from dataclasses import replace

from OpenSSL import SSL, crypto

from adfs_readiness.facts import ProbeError, ProbeErrorKind, TlsPeerChain
from adfs_readiness.net.errors import NO_SECURE_RENEGOTIATION, connect_error
from adfs_readiness.net.policy import NetPolicy
from adfs_readiness.net.sockets import open_tcp
from adfs_readiness.probes.certificates import describe_certificate
from adfs_readiness.settings import HostPort

__all__ = ["capture_peer_chain", "capture_once", "TLS_VERSIONS", "NO_SECURE_RENEGOTIATION"]

def _openssl_reason(exc: SSL.Error) -> str:
    """The OpenSSL reason strings of an SSL.Error, e.g. "unsafe legacy renegotiation disabled"."""
    if isinstance(exc, SSL.SysCallError):
        code, message = (exc.args + (None, None))[:2]
        if code == -1 or message == "Unexpected EOF":
            return "the server closed the connection during the TLS handshake"
        return f"connection error during the TLS handshake ({message})"
    if isinstance(exc, SSL.ZeroReturnError):
        return "the server closed the TLS connection during the handshake"
    reasons = []
    for entry in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(entry, tuple) and entry:
            reasons.append(str(entry[-1]))
    if reasons:
        return "; ".join(dict.fromkeys(reasons))
    return str(exc) or type(exc).__name__


def _handshake(conn: SSL.Connection, sock: socket.socket, deadline: float) -> None:
    """Drive the handshake until done; raises TimeoutError when ``deadline`` (monotonic) passes."""
    while True:
        try:
            conn.do_handshake()
            return
        except SSL.WantReadError:
            wait_read = True
        except SSL.WantWriteError:
            wait_read = False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        readable, writable, _ = select.select([sock] if wait_read else [], [] if wait_read else [sock], [], left)
        if not readable and not writable:
            raise TimeoutError


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


#: OpenSSL protocol version constants by the names ``get_protocol_version_name`` uses.
TLS_VERSIONS = {
    "TLSv1": SSL.TLS1_VERSION,
    "TLSv1.1": SSL.TLS1_1_VERSION,
    "TLSv1.2": SSL.TLS1_2_VERSION,
    "TLSv1.3": SSL.TLS1_3_VERSION,
}


def capture_peer_chain(address: HostPort, server_name: str, timeout: float, *, pin_version: str | None = None,
                       lower_security_level: bool = False, policy: NetPolicy | None = None) -> TlsPeerChain | ProbeError:
    """:func:`capture_once`, retried once with SSL_OP_LEGACY_SERVER_CONNECT when the server does
    not support RFC 5746 secure renegotiation (OpenSSL's "unsafe legacy renegotiation disabled",
    typical of older load balancers): the retry's chain is marked ``legacy_renegotiation`` so the
    certificate can still be judged while the server is classified for what it is. Browsers and
    Windows (SChannel) connect to such servers; OpenSSL 3 clients do not
    (https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/, "Secure Renegotiation")."""
    first = capture_once(address, server_name, timeout, pin_version=pin_version,
                         lower_security_level=lower_security_level, policy=policy)
    if isinstance(first, ProbeError) and first.kind is ProbeErrorKind.TLS and NO_SECURE_RENEGOTIATION in first.reason:
        retry = capture_once(address, server_name, timeout, pin_version=pin_version,
                             lower_security_level=lower_security_level, policy=policy, legacy_server_connect=True)
        if isinstance(retry, TlsPeerChain):
            return replace(retry, legacy_renegotiation=True)
    return first


def capture_once(address: HostPort, server_name: str, timeout: float, *, pin_version: str | None = None,
                 lower_security_level: bool = False, policy: NetPolicy | None = None,
                 legacy_server_connect: bool = False) -> TlsPeerChain | ProbeError:
    """Handshake with ``address`` using SNI ``server_name`` and return the chain the server sent.

    Args:
        address: where to connect (host name or IP, and port).
        server_name: the SNI name (not sent when it is an IP address, as RFC 6066 section 3 says:
            https://www.rfc-editor.org/rfc/rfc6066#section-3).
        timeout: seconds for the TCP connect, and again for the whole TLS handshake.
        pin_version: offer only this protocol version (a key of :data:`TLS_VERSIONS`, e.g.
            "TLSv1.1"); None = whatever OpenSSL allows by default.
        lower_security_level: use the cipher string ``DEFAULT:@SECLEVEL=0`` for this connection
            only: OpenSSL 3 refuses TLS 1.0/1.1 (and SHA-1 handshake signatures) at its default
            level, which would hide what a legacy server accepts
            (https://docs.openssl.org/3.0/man3/SSL_CTX_set_security_level/).
        policy: the run's network policy (refused targets); the default policy when None.
        legacy_server_connect: set SSL_OP_LEGACY_SERVER_CONNECT (connect to a server without RFC
            5746 secure renegotiation, as browsers and SChannel do).

    Returns a :class:`TlsPeerChain` (leaf first, each certificate decoded tolerantly, protocol
    e.g. "TLSv1.3" and cipher suite name), or a :class:`ProbeError` of kind ``refused``,
    ``timeout``, ``name_not_resolved`` or ``tls`` (with OpenSSL's reason text, e.g. "unsafe
    legacy renegotiation disabled", which is itself a finding about the server). Never raises for
    network trouble. No certificate verification is done.
    """
    target = f"{address} (SNI {server_name})"
    try:
        sock = open_tcp(address, timeout, policy)  # the TCP connection comes from the network layer
    except OSError as exc:
        return connect_error(exc, target, timeout)
    try:
        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        # Unverified on purpose: the chain as sent is the evidence, good or bad.
        context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
        if pin_version is not None:
            context.set_min_proto_version(TLS_VERSIONS[pin_version])
            context.set_max_proto_version(TLS_VERSIONS[pin_version])
        if lower_security_level:
            context.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
        if legacy_server_connect:
            context.set_options(SSL.OP_LEGACY_SERVER_CONNECT)
        conn = SSL.Connection(context, sock)
        if server_name and not _is_ip(server_name):
            conn.set_tlsext_host_name(server_name.encode("idna"))
        conn.set_connect_state()
        try:
            _handshake(conn, sock, time.monotonic() + timeout)
        except TimeoutError:
            return ProbeError(ProbeErrorKind.TIMEOUT, f"no TLS handshake within {timeout:g} s "
                              "(the server accepted the connection but did not answer the TLS hello)", target)
        except SSL.Error as exc:
            return ProbeError(ProbeErrorKind.TLS, f"TLS handshake failed: {_openssl_reason(exc)}", target)
        except OSError as exc:
            return ProbeError(ProbeErrorKind.TLS, f"TLS handshake failed: {exc.strerror or exc}", target)
        peer = conn.get_peer_cert_chain() or []
        if not peer:
            leaf = conn.get_peer_certificate()
            peer = [leaf] if leaf is not None else []
        chain = tuple(describe_certificate(crypto.dump_certificate(crypto.FILETYPE_ASN1, c)) for c in peer)
        return TlsPeerChain(
            server_name=server_name,
            address=str(address),
            protocol=conn.get_protocol_version_name(),
            cipher=conn.get_cipher_name(),
            chain=chain,
        )
    finally:
        sock.close()
