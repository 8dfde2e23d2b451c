"""Plain TCP connections for the probes that speak a protocol themselves (the TLS handshakes of
:mod:`adfs_readiness.probes.tls`): resolved, checked against the network policy before connecting,
and opened with a timeout.

Like :func:`socket.create_connection`, every address the name resolves to is tried in turn; an
address the policy refuses is skipped before any packet goes to it, and when every address is
refused the connection fails with :class:`~adfs_readiness.net.policy.RefusedTarget`.
"""

from __future__ import annotations

import socket

from adfs_readiness.net.policy import NetPolicy, RefusedTarget
from adfs_readiness.settings import HostPort

__all__ = ["open_tcp"]


def open_tcp(address: HostPort, timeout: float, policy: NetPolicy | None = None) -> socket.socket:
    """A connected TCP socket to ``address`` (host name or IP, and port) whose timeout is
    ``timeout`` seconds (the connect, and later each operation on it).

    Raises:
        RefusedTarget: every address of ``address`` is refused by ``policy``.
        OSError: as :func:`socket.create_connection` (``socket.gaierror`` when the name does not
            resolve, ``TimeoutError``, ``ConnectionRefusedError``, ...); map it with
            :func:`adfs_readiness.net.errors.connect_error`.
    """
    policy = policy if policy is not None else NetPolicy()
    infos = socket.getaddrinfo(address.host, address.port, 0, socket.SOCK_STREAM)
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        try:
            policy.check_address(str(sockaddr[0]))
        except RefusedTarget as exc:
            last = exc
            continue
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last if last is not None else OSError(f"{address.host} resolved to no address")
