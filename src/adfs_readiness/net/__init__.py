"""The network: the only code that opens sockets (DESIGN.md, "Layers": probes -> net).

A probe reaches the network through its context:

* ``ctx.net.http.get(url, budget=ctx.budget, ...)`` / ``ctx.net.http.post(url, body,
  content_type=..., budget=ctx.budget)``: the one HTTP client (:mod:`adfs_readiness.net.http`);
* ``ctx.net.trust.https_context()``: the run's verifying TLS context (:mod:`adfs_readiness.net.trust`);
* ``ctx.net.resolver(view, servers)``: the view's DNS resolver, built once per run, asked through
  :class:`~adfs_readiness.net.dns.DnsClient`;
* ``ctx.net.connect(address, timeout)``: a policy-checked TCP socket (TLS handshakes by hand);
* ``ctx.budget``: the probe's :class:`~adfs_readiness.net.budget.TimeBudget`;
* :mod:`adfs_readiness.net.ldap`: the LDAP connection factory (read-only binds to a DC).

Failures are data (:class:`~adfs_readiness.facts.ProbeError`), classified once
(:mod:`adfs_readiness.net.errors`): kind ``local`` when this machine could not do its part,
``policy`` when the tool refused the target (:mod:`adfs_readiness.net.policy`).
"""

from __future__ import annotations

from adfs_readiness.net.budget import TimeBudget, probe_time_limit
from adfs_readiness.net.dns import DnsClient, make_resolver
from adfs_readiness.net.http import HttpAnswer, HttpClient, fetch
from adfs_readiness.net.network import Network
from adfs_readiness.net.policy import NetPolicy, RefusedTarget, without_userinfo
from adfs_readiness.net.trust import TrustStores

__all__ = ["DnsClient", "HttpAnswer", "HttpClient", "NetPolicy", "Network", "RefusedTarget", "TimeBudget",
           "TrustStores", "fetch", "make_resolver", "probe_time_limit", "without_userinfo"]
