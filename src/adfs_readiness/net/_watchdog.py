"""The deadline watchdog of the HTTP client (:mod:`adfs_readiness.net.http`), and the connection
classes through which every socket of a request is opened.

A per-read socket timeout cannot stop a server that drips a header line every second, sends
``100 Continue`` forever or never ends its chunked trailers: each read returns in time, and those
reads happen inside http.client and urllib3. The watchdog is a timer that, at the request's
deadline, shuts down every socket the request opened, so whatever read is blocked then ends.

The same connection classes apply the network policy to the address actually connected to (a
host name may resolve to a link-local or metadata address): the socket is closed before a byte
is sent (:class:`adfs_readiness.net.policy.RefusedTarget`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import urllib3.connection
import urllib3.connectionpool

from adfs_readiness.net.policy import NetPolicy

__all__ = ["Watchdog", "watched_pool_classes"]


class Watchdog:
    """Shuts down every socket of one fetch when the deadline passes, so that a read blocked
    anywhere (status line, headers, 1xx answers, TLS handshake, body, chunked trailers) ends.

    It holds a duplicate of each socket (``socket.dup``): shutdown acts on the connection, not the
    descriptor, and the duplicates are closed only by :meth:`close`, so no descriptor is ever
    shut down after the operating system reused its number."""

    def __init__(self, deadline: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.fired = False
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            try:
                duplicate = sock.dup()
            except OSError:
                return
            self._sockets.append(duplicate)
            if self.fired:
                self._shutdown(duplicate)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _checked(sock: socket.socket, policy: NetPolicy) -> socket.socket:
    try:
        peer = sock.getpeername()[0]
    except OSError:
        return sock  # not connected after all: the first send reports it
    try:
        policy.check_address(peer)
    except OSError:
        sock.close()
        raise
    return sock


def watched_pool_classes(watchdog: Watchdog, policy: NetPolicy) -> dict[str, type]:
    """urllib3 pool classes whose connections check each new socket's peer address against
    ``policy`` and hand the socket to ``watchdog``."""

    class _Connection(urllib3.connection.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = _checked(super()._new_conn(), policy)
            watchdog.watch(sock)
            return sock

    class _TlsConnection(urllib3.connection.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = _checked(super()._new_conn(), policy)
            watchdog.watch(sock)
            return sock

    class _Pool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = _Connection

    class _TlsPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = _TlsConnection

    return {"http": _Pool, "https": _TlsPool}
