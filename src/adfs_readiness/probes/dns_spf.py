"""SPF records: the terms that cost DNS lookups, and the include/redirect tree, read through a view.

Why not a library: checkdmarc's ``parse_spf_record`` resolves includes itself with its own
resolvers (a nameserver list and a timeout, not our injected per-view Resolver or the probe's
deadline) and keeps a module-level cache; pyspf evaluates ``check_host()`` for a given sender IP
through its own module-level DNS function. Neither can count lookups through the view's client
without sending queries of its own, so this module does only what dns.m365-mail needs: split a
record into terms (RFC 7208 section 4.6.1) and count the mechanisms and modifiers that cause DNS
queries (``include``, ``a``, ``mx``, ``ptr``, ``exists``, ``redirect``; section 4.6.4), following
``include:`` and ``redirect=`` targets recursively.

Not counted (documented limitation): the additional address lookups an ``mx`` or ``ptr``
mechanism makes per name (section 4.6.4's second limit of 10), and void lookups.
"""

from __future__ import annotations

import re

from adfs_readiness.facts.dns import DnsLookup, DnsOutcome, SpfRecordTree
from adfs_readiness.net.dns import DnsClient

__all__ = ["spf_records", "dns_querying_terms", "spf_tree", "MAX_SPF_DEPTH"]

#: include/redirect nesting followed at most (a loop is caught earlier by the visited set).
MAX_SPF_DEPTH = 10
_LOOKUP_MECHANISMS = {"include", "a", "mx", "ptr", "exists"}
_TERM = re.compile(r"^(?P<qualifier>[+\-~?]?)(?P<name>[A-Za-z][A-Za-z0-9_.\-]*)(?P<rest>.*)$")


def spf_records(txt_records: tuple[str, ...]) -> list[str]:
    """The SPF records among a domain's TXT strings: those whose version section is exactly
    ``v=spf1`` followed by a space or the end (RFC 7208 section 4.5, case-insensitive)."""
    return [t for t in txt_records if re.match(r"^v=spf1(\s|$)", t.strip(), re.IGNORECASE)]


def _terms(record: str) -> list[tuple[str, str, str]]:
    """(qualifier, lower-case name, rest) per term after ``v=spf1``; rest starts with ':' / '/' /
    '=' or is empty."""
    out = []
    for token in record.split()[1:]:
        m = _TERM.match(token)
        if m:
            out.append((m["qualifier"], m["name"].lower(), m["rest"]))
    return out


def dns_querying_terms(record: str) -> tuple[str, ...]:
    """The terms of ``record`` that cause DNS queries (RFC 7208 section 4.6.4), as written.
    ``redirect=`` counts only when the record has no ``all`` mechanism (section 6.1: it is
    ignored otherwise)."""
    terms = _terms(record)
    has_all = any(name == "all" and not rest for _, name, rest in terms)
    result = []
    for qualifier, name, rest in terms:
        if name in _LOOKUP_MECHANISMS and not rest.startswith("="):
            result.append(f"{qualifier}{name}{rest}")
        elif name == "redirect" and rest.startswith("=") and not has_all:
            result.append(f"{name}{rest}")
    return tuple(result)


def _targets(record: str) -> list[str]:
    """Domains named by include: and (effective) redirect= terms, in order."""
    out = []
    for term in dns_querying_terms(record):
        body = term.lstrip("+-~?")
        if body.lower().startswith("include:"):
            out.append(body[len("include:"):])
        elif body.lower().startswith("redirect="):
            out.append(body[len("redirect="):])
    return out


def spf_tree(client: DnsClient, domain: str, *, _depth: int = 0,
             _visited: frozenset[str] = frozenset()) -> SpfRecordTree:
    """Look up ``domain``'s TXT records through ``client`` and build its SPF tree, following
    include/redirect targets (each looked up through the same client, so the same view and
    deadline). Never raises for DNS trouble: a failed lookup is recorded in ``problems``."""
    domain = domain.lower().rstrip(".")
    lookup: DnsLookup = client.lookup(domain, "TXT")
    records = spf_records(lookup.records) if lookup.outcome is DnsOutcome.ANSWER else []
    problems: list[str] = []
    if not lookup.outcome.answered:
        problems.append(f"the TXT lookup of {domain} failed: {lookup.describe()}")
    if not records:
        return SpfRecordTree(domain, None, lookup, 0, (), (), 0, tuple(problems))
    record = records[0]
    terms = dns_querying_terms(record)
    children = []
    visited = _visited | {domain}
    for target in _targets(record):
        target = target.lower().rstrip(".")
        if "%" in target:
            problems.append(f"{target}: contains a macro, not followed")
        elif target in visited:
            problems.append(f"{target}: include loop, not followed again")
        elif _depth + 1 > MAX_SPF_DEPTH:
            problems.append(f"{target}: nested deeper than {MAX_SPF_DEPTH}, not followed")
        else:
            children.append(spf_tree(client, target, _depth=_depth + 1, _visited=visited))
    count = len(terms) + sum(child.dns_lookup_count for child in children)
    return SpfRecordTree(domain, record, lookup, len(records), terms, tuple(children), count, tuple(problems))
