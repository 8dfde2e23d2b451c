"""DNS: the resolver of each view, built once per run, and one view's client: ask the view's
resolvers, keep every outcome apart, follow CNAMEs hop by hop.

The exchange is dnspython's ``dns.query.udp_with_fallback`` (UDP first, the same question again
over TCP when the UDP answer is truncated, RFC 7766 section 5 / RFC 1123 6.1.3.2) against each
nameserver of an injected, configured :class:`dns.resolver.Resolver` in turn. We do not call
``Resolver.resolve`` because it folds SERVFAIL and REFUSED into one NoNameservers error and
collapses the CNAME chain; an admin needs "does not exist" and "could not ask" told apart.

Retries: only ``dns.exception.Timeout`` (a lost UDP datagram is the one transient error worth
asking the same server again), at most ``attempts`` times per server; SERVFAIL, REFUSED and
connection errors move on to the next server. Every exchange's timeout is capped by the probe's
deadline, and once the resolvers have stayed silent for ``unresponsive_after`` lookups in a row
the client stops asking (later lookups are TIMEOUT "not asked"), so a dead resolver cannot hold a
run past its deadline. The pattern follows checkdmarc's ``query_dns`` (explicit resolver, named
transient errors, bounded loop) without its recursion and global cache (DESIGN.md).

Whose trouble: when no resolver of the view answered anything during the run (all silent, or
this machine has no route to them), every failed lookup carries ``local_failure`` (kind
``local``): the checker could not ask, which says nothing about the names. Once one resolver has
answered, a later timeout is the name's (its authoritative servers are slow or dead).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.facts.dns import CnameHop, DnsLookup, DnsOutcome
from adfs_readiness.net.errors import local_reason
from adfs_readiness.settings import HostPort

__all__ = ["DnsClient", "make_resolver", "MAX_CNAME_HOPS"]

#: CNAME hops followed before calling the chain a loop (BIND and Unbound stop around 8 to 16).
MAX_CNAME_HOPS = 12
#: EDNS(0) UDP payload we advertise (the DNS Flag Day 2020 value); larger answers come over TCP.
_EDNS_PAYLOAD = 1232
#: Seconds kept back from the deadline so the probe returns before the engine gives up on it.
_DEADLINE_MARGIN = 0.2


def make_resolver(servers: tuple[HostPort, ...], timeout: float) -> tuple[dns.resolver.Resolver, bool]:
    """A configured resolver for one view and whether it is the system's.

    ``servers`` empty means the system resolver: dnspython reads /etc/resolv.conf (the registry on
    Windows). ``timeout`` (seconds) is the per-exchange timeout. Raises
    ``dns.resolver.NoResolverConfiguration`` when the system has no resolver configured.
    """
    if not servers:
        resolver = dns.resolver.Resolver(configure=True)
        resolver.timeout = timeout
        return resolver, True
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port) for s in servers]
    resolver.timeout = timeout
    return resolver, False


def _servers(resolver: dns.resolver.Resolver) -> list[tuple[str, int]]:
    result = []
    for ns in resolver.nameservers:
        if isinstance(ns, dns.nameserver.Do53Nameserver):
            result.append((ns.address, ns.port))
        elif isinstance(ns, str):
            result.append((ns, resolver.nameserver_ports.get(ns, resolver.port)))
        # DoH/DoT nameservers are not Do53 and are not asked: the views are about plain DNS.
    return result


def _label(host: str, port: int) -> str:
    return str(HostPort(host, port))


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _record_text(rd: Any) -> str:
    """A record in the presentation format DnsLookup.records documents (dnspython rdata)."""
    kind = rd.rdtype
    if kind in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return str(rd.address)
    if kind == dns.rdatatype.TXT:
        return b"".join(rd.strings).decode("utf-8", "replace")
    if kind == dns.rdatatype.MX:
        return f"{rd.preference} {_text(rd.exchange)}"
    if kind == dns.rdatatype.SRV:
        return f"{rd.priority} {rd.weight} {rd.port} {_text(rd.target)}"
    if kind == dns.rdatatype.CNAME:
        return _text(rd.target)
    if kind == dns.rdatatype.CAA:
        value = rd.value.decode("utf-8", "replace").replace('"', '\\"')
        return f'{rd.flags} {rd.tag.decode("ascii", "replace").lower()} "{value}"'
    return str(rd.to_text())


@dataclass
class _Exchange:
    response: dns.message.Message | None
    server: str | None
    transport: str | None
    attempts: int
    outcome: DnsOutcome | None  # set when every server failed
    reason: str | None
    local: str | None = None  # this machine could not send (no route, ...), in words


class DnsClient:
    """Asks one view's resolvers and returns :class:`DnsLookup` facts.

    Args:
        resolver: a configured ``dns.resolver.Resolver`` (see :func:`make_resolver`); its Do53
            nameservers (address and port) and ``timeout`` (seconds per exchange) are used.
        deadline: ``time.monotonic()`` value by which every lookup must be over.
        attempts: exchanges per server when it times out (bounded retry of the transient error).
        unresponsive_after: silent lookups in a row after which the view is given up.

    Lookups are remembered per (name, type) for the lifetime of the client (one probe run), so
    a name asked twice (the domain's TXT for verification and for SPF) costs one exchange.
    """

    def __init__(self, resolver: dns.resolver.Resolver, *, deadline: float, attempts: int = 2,
                 unresponsive_after: int = 2) -> None:
        self.resolver = resolver
        self.servers = _servers(resolver)
        self.timeout = float(resolver.timeout)
        self.deadline = deadline
        self.attempts = max(1, attempts)
        self.unresponsive_after = unresponsive_after
        self._silent_in_a_row = 0
        self._answered_once = False
        self._asked: dict[tuple[str, str], DnsLookup] = {}
        self._lookups: list[DnsLookup] = []

    @property
    def lookups(self) -> list[DnsLookup]:
        """Every lookup made, in order; when no resolver answered anything during the run, the
        failed ones carry ``local_failure`` (see the module docstring)."""
        if self._answered_once:
            return list(self._lookups)
        local = self.local_failure()
        return [dataclasses.replace(lookup, local_failure=lookup.local_failure or local)
                if not lookup.outcome.answered else lookup for lookup in self._lookups]

    def local_failure(self) -> ProbeError | None:
        """A ProbeError of kind ``local`` when no resolver of the view has answered anything so far
        and at least one lookup failed; None otherwise."""
        if self._answered_once or all(lookup.outcome.answered for lookup in self._lookups):
            return None
        servers = ", ".join(self.server_labels) or "no resolver"
        return ProbeError(ProbeErrorKind.LOCAL, f"none of the DNS resolvers this machine asked ({servers}) "
                                                f"answered anything: this machine's DNS is unreachable or "
                                                f"failing", servers)

    @property
    def server_labels(self) -> tuple[str, ...]:
        return tuple(_label(h, p) for h, p in self.servers)

    @property
    def unresponsive(self) -> bool:
        """True once the resolvers stayed silent ``unresponsive_after`` lookups in a row."""
        return self._silent_in_a_row >= self.unresponsive_after

    def lookup(self, name: str, rdtype: str) -> DnsLookup:
        """Look ``name`` up for ``rdtype`` ("A", "TXT", ...) and return what happened; never raises
        for DNS or network trouble (that is the lookup's outcome)."""
        name = name.lower().rstrip(".")
        rdtype = rdtype.upper()
        key = (name, rdtype)
        if key not in self._asked:
            result = self._lookup(name, rdtype)
            self._asked[key] = result
            self._lookups.append(result)
        return self._asked[key]

    def _lookup(self, name: str, rdtype: str) -> DnsLookup:
        started = time.monotonic()
        if not self.servers:
            return DnsLookup(name, rdtype, DnsOutcome.ERROR, reason="no DNS server to ask (no Do53 nameserver)",
                             local_failure=ProbeError(ProbeErrorKind.LOCAL, "this machine has no DNS server to ask "
                                                                            "(no plain DNS nameserver configured)"))
        if self.unresponsive:
            return DnsLookup(name, rdtype, DnsOutcome.TIMEOUT,
                             reason=f"not asked: {', '.join(self.server_labels)} did not answer the previous "
                                    f"{self._silent_in_a_row} lookups")
        wanted = dns.rdatatype.from_text(rdtype)
        chain: list[CnameHop] = []
        seen = {name}
        current = name
        attempts = 0
        while True:
            ex = self._exchange(current, wanted)
            attempts += ex.attempts

            def made(outcome: DnsOutcome, *, asked: int = attempts, **fields: Any) -> DnsLookup:
                return DnsLookup(name, rdtype, outcome, cname_chain=tuple(chain), attempts=asked,
                                 elapsed_seconds=round(time.monotonic() - started, 3), **fields)

            if ex.response is None:
                if ex.outcome is DnsOutcome.TIMEOUT:
                    self._silent_in_a_row += 1
                local = (ProbeError(ProbeErrorKind.LOCAL, ex.local, ", ".join(self.server_labels))
                         if ex.local else None)
                return made(ex.outcome or DnsOutcome.ERROR, reason=ex.reason, canonical_name=current,
                            local_failure=local)
            self._silent_in_a_row = 0
            response = ex.response
            where: dict[str, Any] = {"resolver": ex.server, "transport": ex.transport}
            records, ttl, end, loop = _walk(response, current, wanted, chain, seen)
            if loop:
                return made(DnsOutcome.CNAME_LOOP, canonical_name=end, reason=f"the CNAME chain returns to {end}",
                            **where)
            if records:
                return made(DnsOutcome.ANSWER, records=records, ttl=ttl, canonical_name=end, **where)
            if response.rcode() == dns.rcode.NXDOMAIN:
                outcome = DnsOutcome.DANGLING_CNAME if chain else DnsOutcome.NXDOMAIN
                reason = f"{end} does not exist" if chain else None
                return made(outcome, canonical_name=end, reason=reason, **where)
            if end != current and not _has_data_for(response, end):
                # The resolver gave the CNAME but did not chase it (not a recursive resolver, or
                # the target is elsewhere): ask for the target ourselves, within the hop limit.
                if len(chain) >= MAX_CNAME_HOPS:
                    return made(DnsOutcome.CNAME_LOOP, canonical_name=end, reason=f"more than {MAX_CNAME_HOPS} "
                                                                                  f"CNAME hops", **where)
                current = end
                continue
            return made(DnsOutcome.NO_ANSWER, canonical_name=end, **where)

    def _exchange(self, qname: str, wanted: dns.rdatatype.RdataType) -> _Exchange:
        failures: list[tuple[DnsOutcome, str]] = []
        attempts = 0
        local: str | None = None
        for host, port in self.servers:
            label = _label(host, port)
            for _ in range(self.attempts):
                remaining = self.deadline - time.monotonic() - _DEADLINE_MARGIN
                if remaining <= 0:
                    failures.append((DnsOutcome.TIMEOUT, f"{label}: not asked, the probe's time ran out"))
                    return self._failed(failures, attempts)
                query = dns.message.make_query(qname, wanted, use_edns=0, payload=_EDNS_PAYLOAD)
                attempts += 1
                try:
                    response, used_tcp = dns.query.udp_with_fallback(
                        query, host, timeout=min(self.timeout, remaining), port=port)
                except dns.exception.Timeout:
                    failures.append((DnsOutcome.TIMEOUT, f"{label}: no answer within "
                                                         f"{min(self.timeout, remaining):.3g} s"))
                    continue  # the one transient error: ask the same server again
                except ConnectionError as exc:
                    failures.append((DnsOutcome.ERROR, f"{label}: connection failed ({exc.strerror or exc})"))
                    break
                except OSError as exc:
                    failures.append((DnsOutcome.ERROR, f"{label}: network error ({exc.strerror or exc})"))
                    local = local or local_reason(exc)
                    break
                except EOFError:
                    failures.append((DnsOutcome.ERROR, f"{label}: the TCP connection closed before the answer"))
                    break
                except dns.exception.DNSException as exc:
                    failures.append((DnsOutcome.ERROR, f"{label}: malformed answer ({type(exc).__name__}: {exc})"))
                    break
                self._answered_once = True  # any answer, even SERVFAIL, shows this machine can ask
                rcode = response.rcode()
                if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return _Exchange(response, label, "tcp" if used_tcp else "udp", attempts, None, None)
                if rcode == dns.rcode.SERVFAIL:
                    failures.append((DnsOutcome.SERVFAIL, f"{label}: SERVFAIL"))
                elif rcode == dns.rcode.REFUSED:
                    failures.append((DnsOutcome.REFUSED, f"{label}: REFUSED"))
                else:
                    failures.append((DnsOutcome.ERROR, f"{label}: RCODE {dns.rcode.to_text(rcode)}"))
                break  # an answer that is not an answer: the next server may know better
        failed = self._failed(failures, attempts)
        # Only when no server answered at all is "no route" the whole story.
        return dataclasses.replace(failed, local=local) if local and failed.outcome is not DnsOutcome.SERVFAIL \
            and failed.outcome is not DnsOutcome.REFUSED else failed

    @staticmethod
    def _failed(failures: list[tuple[DnsOutcome, str]], attempts: int) -> _Exchange:
        kinds = {kind for kind, _ in failures}
        # An RCODE received says more than silence: prefer it when the servers disagree.
        for kind in (DnsOutcome.SERVFAIL, DnsOutcome.REFUSED, DnsOutcome.TIMEOUT, DnsOutcome.ERROR):
            if kind in kinds:
                break
        reasons = "; ".join(dict.fromkeys(reason for _, reason in failures))
        return _Exchange(None, None, None, attempts, kind, reasons)


def _walk(response: dns.message.Message, start: str, wanted: dns.rdatatype.RdataType,
          chain: list[CnameHop], seen: set[str]) -> tuple[tuple[str, ...], int | None, str, bool]:
    """Follow CNAMEs in the answer section from ``start``, appending hops to ``chain``; return
    (records of the wanted type at the end, their TTL, the name where the chain ends, loop?)."""
    current = start
    for _ in range(MAX_CNAME_HOPS + 1):
        owner = dns.name.from_text(current)
        for rrset in response.answer:
            if rrset.name == owner and rrset.rdtype == wanted:
                return tuple(sorted(_record_text(rd) for rd in rrset)), rrset.ttl, current, False
        if wanted == dns.rdatatype.CNAME:
            break
        cname = next((r for r in response.answer if r.name == owner and r.rdtype == dns.rdatatype.CNAME), None)
        if cname is None:
            break
        target = _text(cname[0].target)
        chain.append(CnameHop(current, target, cname.ttl))
        if target in seen or len(chain) > MAX_CNAME_HOPS:
            return (), None, target, True
        seen.add(target)
        current = target
    return (), None, current, False


def _has_data_for(response: dns.message.Message, name: str) -> bool:
    """True when the answer speaks for ``name`` itself: records owned by it, or the SOA a resolver
    adds to a NODATA answer (RFC 2308) after chasing the chain to it."""
    owner = dns.name.from_text(name)
    return (any(r.name == owner for r in response.answer)
            or any(r.rdtype == dns.rdatatype.SOA for r in response.authority))
