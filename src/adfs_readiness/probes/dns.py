"""The DNS probes: ask each view's resolvers every question the dns.* checks need.

Two probes, one per view (facts ``dns.internal`` and ``dns.external``), so the engine runs them
concurrently and a view whose resolvers never answer leaves the other view's checks intact.
Resolvers come from ``config.dns.internal_resolvers`` / ``config.dns.external_resolvers``; when a view has
none the system resolver is used and the fact says so (``DnsView.system_resolver``, ``note``).

What is asked (see :func:`view_questions`):

* both views: the federation service name (A, AAAA); ``certauth.<fs>`` when certificate
  authentication is in scope; ``enterpriseregistration.<domain>`` when device registration is;
* internal: the AD DC locator SRV records (``_ldap._tcp.dc._msdcs.<ad domain>``,
  ``_kerberos._tcp.<ad domain>``, ``_gc._tcp.<forest root>``) and their targets' addresses;
* external: per federated domain its TXT records (verification, SPF and the SPF include tree),
  MX and ``autodiscover`` when Exchange Online is in scope, ``msoid``; and the CAA records of the
  federation service name, climbing towards the root as RFC 8659 section 3 says.

Pure gathering: nothing here judges. The resolver of each view is built once per run by the
run's network (``ctx.net.resolver``) and passed in (:func:`gather_view` takes it), never kept in
a module global. A view whose resolvers this machine cannot reach at all is marked as the
machine's failure (``DnsLookup.local_failure``), not the names'.
"""

from __future__ import annotations

import dns.resolver

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.facts.dns import DnsLookup, DnsOutcome, DnsView
from adfs_readiness.probes import ProbeContext
from adfs_readiness.net import DnsClient, probe_time_limit
from adfs_readiness.probes.dns_spf import spf_tree
from adfs_readiness.settings import Settings

__all__ = ["probe_dns_internal", "probe_dns_external", "gather_view", "view_questions", "caa_candidates",
           "ad_srv_names", "dns_probe_timeout"]


def dns_probe_timeout(config: Settings) -> float:
    """A view probe's own time limit in seconds: room for the silent-resolver path (two lookups of
    two attempts per resolver, one after another) plus two answered lookups; the client also stops
    at the deadline."""
    servers = max(1, len(config.dns.internal_resolvers), len(config.dns.external_resolvers))
    return probe_time_limit(config.network.timeout_seconds, operations=4 * servers + 2)


def probe_dns_internal(ctx: ProbeContext) -> DnsView | ProbeError:
    """Gather the ``dns.internal`` fact through ``config.dns.internal_resolvers``."""
    return _probe(ctx, "internal", ctx.config.dns.internal_resolvers)


def probe_dns_external(ctx: ProbeContext) -> DnsView | ProbeError:
    """Gather the ``dns.external`` fact through ``config.dns.external_resolvers``."""
    return _probe(ctx, "external", ctx.config.dns.external_resolvers)


def _probe(ctx: ProbeContext, view: str, servers) -> DnsView | ProbeError:
    config = ctx.config
    if not view_questions(view, config):
        # Nothing to ask (an offline run on a metadata file, say): an empty view, and no resolver is
        # even configured, so nothing leaves the machine. The checks skip for want of a name.
        return DnsView(view=view, resolvers=tuple(str(s) for s in servers), system_resolver=not servers,
                       timeout_seconds=config.network.timeout_seconds, lookups=(),
                       note="Nothing to look up: no federation service name, federated domain or AD domain "
                            "is configured.")
    try:
        resolver, system = ctx.net.resolver(view, tuple(servers))
    except dns.resolver.NoResolverConfiguration as exc:
        # The machine running the check has no resolver: its trouble, not the names' (exit 3).
        return ProbeError(ProbeErrorKind.LOCAL,
                          f"no {view} resolvers are configured (dns.{view}_resolvers) and this machine has "
                          f"none either ({exc})")
    return gather_view(view, resolver, config, deadline=ctx.deadline, system_resolver=system)


def ad_srv_names(config: Settings) -> list[str]:
    """The DC locator SRV names for the configured AD domain (empty when none is known):
    ``_ldap._tcp.dc._msdcs.<domain>``, ``_kerberos._tcp.<domain>``, ``_gc._tcp.<forest root>``."""
    domain = config.directory.ad_dns_domain
    if not domain:
        return []
    forest = config.directory.forest_root or domain
    return [f"_ldap._tcp.dc._msdcs.{domain}", f"_kerberos._tcp.{domain}", f"_gc._tcp.{forest}"]


def caa_candidates(fqdn: str) -> list[str]:
    """The names whose CAA RRset is relevant for ``fqdn``, in climbing order (RFC 8659 section 3):
    the name itself, then each parent, stopping before the root."""
    labels = fqdn.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def view_questions(view: str, config: Settings) -> list[tuple[str, str]]:
    """The (name, type) pairs asked first in ``view`` for ``config`` (targets of SRV records,
    SPF includes and the CAA climb beyond its first name are asked as the answers arrive)."""
    fs = config.federation.service_name
    scope = config.scope
    questions: list[tuple[str, str]] = []
    if fs:
        questions += [(fs, "A"), (fs, "AAAA")]
        if scope.certificate_authentication:
            questions += [(f"certauth.{fs}", "A"), (f"certauth.{fs}", "AAAA")]
    if scope.device_registration:
        questions += [(f"enterpriseregistration.{d}", "A") for d in config.federation.domains]
    if view == "internal":
        questions += [(name, "SRV") for name in ad_srv_names(config)]
    else:
        for d in config.federation.domains:
            questions.append((d, "TXT"))
            if scope.exchange_online:
                questions += [(d, "MX"), (f"autodiscover.{d}", "A")]
            questions.append((f"msoid.{d}", "A"))
        if fs:
            questions.append((fs, "CAA"))
    return questions


def gather_view(view: str, resolver: dns.resolver.Resolver, config: Settings, *, deadline: float,
                system_resolver: bool = False) -> DnsView:
    """Ask ``resolver`` (a configured dnspython Resolver: nameservers, ports, per-exchange
    timeout) every question of ``view`` before ``deadline`` (a ``time.monotonic()`` value) and
    return the :class:`DnsView` fact. Never raises for DNS trouble: it is in the lookups."""
    client = DnsClient(resolver, deadline=deadline)
    spf = []
    for name, rdtype in view_questions(view, config):
        if rdtype == "SRV":
            _srv_and_targets(client, name)
        elif rdtype == "CAA":
            _climb_caa(client, name)
        elif rdtype == "TXT" and view == "external" and config.scope.exchange_online:
            spf.append(spf_tree(client, name))
        else:
            client.lookup(name, rdtype)
    servers = ", ".join(client.server_labels) or "(none)"
    if system_resolver:
        note = (f"No {view} resolvers are configured (dns.{view}_resolvers): these are the answers of this "
                f"machine's system resolver ({servers}), which may not be the {view} view.")
    else:
        note = f"Asked the configured {view} resolvers: {servers}."
    if client.unresponsive:
        note += " The resolvers stopped answering; later lookups were not attempted."
    return DnsView(view=view, resolvers=client.server_labels, system_resolver=system_resolver,
                   timeout_seconds=client.timeout, lookups=tuple(client.lookups), spf=tuple(spf),
                   unresponsive=client.unresponsive, note=note)


def _srv_and_targets(client: DnsClient, name: str) -> None:
    srv = client.lookup(name, "SRV")
    if srv.outcome is not DnsOutcome.ANSWER:
        return
    for record in srv.records:
        target = record.split()[-1]
        if target in ("", "."):
            continue  # "service decidedly not available" (RFC 2782)
        a = client.lookup(target, "A")
        if a.outcome is not DnsOutcome.ANSWER and a.outcome.answered:
            client.lookup(target, "AAAA")


def _climb_caa(client: DnsClient, fqdn: str) -> list[DnsLookup]:
    climbed = []
    for name in caa_candidates(fqdn):
        lookup = client.lookup(name, "CAA")
        climbed.append(lookup)
        if lookup.outcome is DnsOutcome.ANSWER or not lookup.outcome.answered:
            break  # the relevant RRset is found, or the climb cannot go on reliably
    return climbed
