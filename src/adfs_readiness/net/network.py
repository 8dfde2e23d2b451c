"""The network of one run: what its probes share, built once (the engine makes one per run and
hands it to every probe as ``ctx.net``).

* ``http``: the run's :class:`~adfs_readiness.net.http.HttpClient` (policy, trust stores);
* ``trust``: the run's :class:`~adfs_readiness.net.trust.TrustStores` (TLS contexts built once);
* :meth:`Network.resolver`: one dnspython resolver per view, built on first use;
* :meth:`Network.connect`: a policy-checked TCP connection for protocols spoken by hand (TLS
  handshakes);
* ``policy``: what is refused (link-local and cloud metadata targets, URL credentials);
* ``secrets``: secrets a probe obtained during the run (a keyring or prompted password):
  ``ctx.net.secrets.add(password)``; the run's redactor scrubs them from every output.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import dns.resolver

from adfs_readiness.net.http import HttpClient
from adfs_readiness.net.dns import make_resolver
from adfs_readiness.net.policy import NetPolicy
from adfs_readiness.net.sockets import open_tcp
from adfs_readiness.net.trust import TrustStores
from adfs_readiness.redaction import Redactor
from adfs_readiness.settings import HostPort

if TYPE_CHECKING:
    from adfs_readiness.settings import Settings

__all__ = ["Network"]


class Network:
    """What one run's probes use to reach the network (thread-safe: probes run concurrently).

    Args:
        policy: refused targets and the download cap.
        trust: the trust stores (system, certifi, ``tls.ca_bundle``).
        timeout_seconds: the per-exchange timeout of the view resolvers.
    """

    def __init__(self, policy: NetPolicy | None = None, trust: TrustStores | None = None,
                 timeout_seconds: float = 10.0) -> None:
        self.policy = policy if policy is not None else NetPolicy()
        self.trust = trust if trust is not None else TrustStores()
        self.http = HttpClient(self.trust, self.policy)
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._resolvers: dict[tuple[str, tuple[HostPort, ...]], tuple[dns.resolver.Resolver, bool]] = {}
        self.secrets = Redactor(teach_logs=True)

    @classmethod
    def for_config(cls, config: Settings) -> Network:
        """The network of a run of ``config``: ``network.allow_link_local``,
        ``network.max_download_bytes``, ``tls.ca_bundle`` and ``network.timeout_seconds``."""
        policy = NetPolicy(allow_link_local=config.network.allow_link_local,
                           max_download_bytes=config.network.max_download_bytes)
        return cls(policy, TrustStores(config.tls.ca_bundle), config.network.timeout_seconds)

    def resolver(self, view: str, servers: tuple[HostPort, ...]) -> tuple[dns.resolver.Resolver, bool]:
        """The resolver of ``view`` ("internal", "external", ...) asking ``servers`` (empty = this
        machine's system resolver), built once per run; and whether it is the system's.

        Raises:
            dns.resolver.NoResolverConfiguration: no servers given and this machine has none
                configured (a local failure: report it as ``ProbeErrorKind.LOCAL``).
        """
        key = (view, tuple(servers))
        with self._lock:
            if key not in self._resolvers:
                self._resolvers[key] = make_resolver(tuple(servers), self.timeout_seconds)
            return self._resolvers[key]

    def connect(self, address: HostPort, timeout: float) -> socket.socket:
        """A connected TCP socket to ``address`` within ``timeout`` seconds, refused targets
        skipped before connecting (see :func:`adfs_readiness.net.sockets.open_tcp`)."""
        return open_tcp(address, timeout, self.policy)
