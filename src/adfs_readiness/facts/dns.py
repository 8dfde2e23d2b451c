"""DNS facts: what the resolvers of each view answered, query by query, CNAME hop by hop.

Two facts, one per view, so that a view whose resolvers never answer does not take the other
view's checks down with it:

* ``dns.internal`` (:data:`DNS_INTERNAL_FACT`): asked through ``config.dns.internal_resolvers`` (the
  view of a domain-joined client inside the network),
* ``dns.external`` (:data:`DNS_EXTERNAL_FACT`): asked through ``config.dns.external_resolvers`` (the
  view of the internet: Microsoft 365, certificate authorities, users at home).

Each is a :class:`DnsView` holding every :class:`DnsLookup` made. The outcome of a lookup keeps
apart what an admin must not confuse: the name does not exist (NXDOMAIN), it exists without a
record of that type (NoAnswer / NODATA), the resolver failed (SERVFAIL) or refused (REFUSED), and
nobody answered (timeout). "Does not exist" is an answer; "could not ask" is not.

This module imports only from :mod:`adfs_readiness.facts` (DESIGN.md, "Layers").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from adfs_readiness.facts import ProbeError

__all__ = [
    "DNS_INTERNAL_FACT",
    "DNS_EXTERNAL_FACT",
    "DnsOutcome",
    "CnameHop",
    "DnsLookup",
    "SpfRecordTree",
    "DnsView",
]

#: Fact key of the internal view (:class:`DnsView` with ``view == "internal"``).
DNS_INTERNAL_FACT = "dns.internal"
#: Fact key of the external view (:class:`DnsView` with ``view == "external"``).
DNS_EXTERNAL_FACT = "dns.external"


class DnsOutcome(str, Enum):
    """How one lookup ended.

    ANSWER: records of the type asked (possibly at the end of a CNAME chain).
    NXDOMAIN: the name (or the end of its CNAME chain) does not exist.
    NO_ANSWER: the name exists but has no record of that type (NOERROR with an empty answer).
    DANGLING_CNAME: the name is a CNAME whose target (or a later hop) does not exist.
    CNAME_LOOP: the CNAME chain comes back to a name already seen (or exceeds the hop limit).
    SERVFAIL / REFUSED: every resolver answered with that RCODE: the name could not be looked up.
    TIMEOUT: no resolver answered in time (or the probe's time ran out before asking).
    ERROR: another failure (unreachable resolver, malformed answer, unexpected RCODE).
    """

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    DANGLING_CNAME = "dangling_cname"
    CNAME_LOOP = "cname_loop"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"

    @property
    def answered(self) -> bool:
        """True when DNS gave an authoritative-looking answer (records, or that there are none);
        False when the name could not be looked up (SERVFAIL, REFUSED, TIMEOUT, ERROR)."""
        return self not in (DnsOutcome.SERVFAIL, DnsOutcome.REFUSED, DnsOutcome.TIMEOUT, DnsOutcome.ERROR)


@dataclass(frozen=True)
class CnameHop:
    """One CNAME of a chain: ``name`` is an alias of ``target`` (both lower case, no final dot);
    ``ttl`` in seconds."""

    name: str
    target: str
    ttl: int


@dataclass(frozen=True)
class DnsLookup:
    """One question asked of a view and what came back.

    Attributes:
        name: the name asked (lower case, no final dot).
        rdtype: "A", "AAAA", "TXT", "MX", "SRV", "CAA", "CNAME", ...
        outcome: see :class:`DnsOutcome`.
        records: the answer's records of type ``rdtype``, in presentation format (TXT strings
            joined and unquoted; MX "preference exchange"; SRV "priority weight port target";
            CAA 'flags tag "value"'), names lower case without the final dot.
        ttl: TTL in seconds of the answer RRset (None without records).
        cname_chain: the CNAME hops from ``name`` to the canonical name, in order.
        canonical_name: where the chain ends (``name`` when there is no CNAME).
        resolver: "ip:port" of the resolver that gave the final answer (None when none did).
        transport: "udp", or "tcp" when a truncated UDP answer was asked again over TCP.
        attempts: how many exchanges were made (retries and follow-ups of CNAME targets included).
        elapsed_seconds: wall time spent on this lookup.
        reason: for the failure outcomes, why, in words (resolver, RCODE or exception).
        local_failure: set (a ProbeError of kind ``local``) when the lookup failed because this
            machine could not ask: no route to its resolvers, or none of them answered anything
            during the run. Such a failure says nothing about the name.
    """

    name: str
    rdtype: str
    outcome: DnsOutcome
    records: tuple[str, ...] = ()
    ttl: int | None = None
    cname_chain: tuple[CnameHop, ...] = ()
    canonical_name: str | None = None
    resolver: str | None = None
    transport: str | None = None
    attempts: int = 0
    elapsed_seconds: float = 0.0
    reason: str | None = None
    local_failure: ProbeError | None = None

    def describe(self) -> str:
        """One line: "sts.contoso.com A: 203.0.113.10" or "... A: NXDOMAIN (the name does not
        exist)", with the CNAME chain spelled out hop by hop when there is one."""
        chain = "".join(f" -> CNAME {h.target}" for h in self.cname_chain)
        head = f"{self.name} {self.rdtype}{chain}"
        if self.outcome is DnsOutcome.ANSWER:
            return f"{head}: {', '.join(self.records)}"
        words = {
            DnsOutcome.NXDOMAIN: "NXDOMAIN (the name does not exist)",
            DnsOutcome.NO_ANSWER: f"no {self.rdtype} record (the name exists)",
            DnsOutcome.DANGLING_CNAME: "dangling CNAME (the target does not exist)",
            DnsOutcome.CNAME_LOOP: "CNAME loop",
            DnsOutcome.SERVFAIL: "SERVFAIL",
            DnsOutcome.REFUSED: "REFUSED",
            DnsOutcome.TIMEOUT: "no answer (timeout)",
            DnsOutcome.ERROR: "lookup failed",
        }[self.outcome]
        why = f": {self.reason}" if self.reason and not self.outcome.answered else ""
        local = f" (not determined on this machine: {self.local_failure.reason})" if self.local_failure else ""
        return f"{head}: {words}{why}{local}"


@dataclass(frozen=True)
class SpfRecordTree:
    """An SPF record and the records it pulls in, as looked up through the external view.

    Attributes:
        domain: the domain whose TXT record this is.
        record: the ``v=spf1`` text (None when the domain has none, or the lookup failed).
        lookup: the TXT lookup of ``domain``.
        spf_record_count: how many ``v=spf1`` records the domain publishes (RFC 7208 4.5: more
            than one is a permanent error).
        dns_terms: the mechanisms and modifiers of this record that cause DNS queries (include, a,
            mx, ptr, exists, redirect) as written, e.g. "include:spf.protection.outlook.com".
        children: the trees of this record's include: and redirect= targets, in order (a target
            already visited higher up, or beyond the depth limit, is not followed again).
        dns_lookup_count: DNS-querying terms of this record and all followed children, as far as
            the evaluation went (RFC 7208 4.6.4 counts them against the limit of 10; the
            evaluation stops at the 11th).
        problems: what stopped the evaluation of this record (a loop, a macro, a failed lookup).
        permerror: on the root, why the whole evaluation ended in SPF's permanent error (more
            than 10 DNS-querying terms, more than 2 void lookups, an include loop); None when it
            did not. Receivers then fail SPF for every message.
        void_lookups: on the root, the void lookups (no records, NXDOMAIN) the evaluation met.
    """

    domain: str
    record: str | None
    lookup: DnsLookup
    spf_record_count: int
    dns_terms: tuple[str, ...]
    children: tuple["SpfRecordTree", ...]
    dns_lookup_count: int
    problems: tuple[str, ...] = ()
    permerror: str | None = None
    void_lookups: int = 0


@dataclass(frozen=True)
class DnsView:
    """What one view's resolvers answered (fact keys ``dns.internal`` and ``dns.external``).

    Attributes:
        view: "internal" or "external".
        resolvers: "ip:port" of each resolver asked, in order.
        system_resolver: True when none was configured and the system's resolvers were used (the
            report says so: the answers are those of the machine running the tool).
        timeout_seconds: per-exchange timeout.
        lookups: every lookup made, in order.
        spf: for the external view, the SPF tree of each federated domain (empty otherwise).
        unresponsive: True when the resolvers stopped answering and later lookups were not
            attempted (each of those is a TIMEOUT lookup saying so).
        note: a sentence on where the answers come from, for the report.
    """

    view: str
    resolvers: tuple[str, ...]
    system_resolver: bool
    timeout_seconds: float
    lookups: tuple[DnsLookup, ...]
    spf: tuple[SpfRecordTree, ...] = ()
    unresponsive: bool = False
    note: str = ""

    def find(self, name: str, rdtype: str) -> DnsLookup | None:
        """The lookup of ``name`` (case and final dot ignored) for ``rdtype``, or None when it
        was not asked."""
        key = (name.lower().rstrip("."), rdtype.upper())
        for lookup in self.lookups:
            if (lookup.name, lookup.rdtype) == key:
                return lookup
        return None

    def spf_for(self, domain: str) -> SpfRecordTree | None:
        """The SPF tree of ``domain``, or None when it was not looked up."""
        domain = domain.lower().rstrip(".")
        return next((t for t in self.spf if t.domain == domain), None)
