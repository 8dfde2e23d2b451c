"""SPF records: the terms that cost DNS lookups, and the include/redirect tree, evaluated through
a view with the limits of RFC 7208 section 4.6.4.

Why not a library: checkdmarc's ``parse_spf_record`` resolves includes itself with its own
resolvers (a nameserver list and a timeout, not our injected per-view Resolver or the probe's
deadline) and keeps a module-level cache; pyspf evaluates ``check_host()`` for a given sender IP
through its own module-level DNS function. Neither can count lookups through the view's client
without sending queries of its own, so this module does only what dns.m365-mail needs.

The evaluation is the one a receiver makes for mail that matches no mechanism (the worst case,
and the one every SPF checker reports): terms in order (RFC 7208 section 4.6.1), ``include:``
followed where it stands, ``redirect=`` at the end (section 6.1, ignored next to ``all``). The
limits of section 4.6.4 hold for the whole evaluation, not per branch:

* at most **10 DNS-querying terms** (``include``, ``a``, ``mx``, ``ptr``, ``exists``,
  ``redirect``); the 11th ends the evaluation with ``permerror``;
* at most **2 void lookups** (an answer with no records, or NXDOMAIN) among the lookups this
  evaluation makes; the 3rd ends it with ``permerror``;
* an include of a domain already on the path is a loop: ``permerror`` (a receiver would exceed
  the 10 terms).

So a hostile record that includes ten names that each include ten more costs at most 11 TXT
lookups and a tree of at most 11 nodes, never an exponential walk.

Not evaluated (documented limitation): ``a``, ``mx``, ``ptr`` and ``exists`` are counted but not
looked up (without a sender address there is nothing to match), so their void lookups and the
10 address lookups an ``mx`` or ``ptr`` may make are not counted; macros (``%{...}``) are not
expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from adfs_readiness.facts.dns import DnsLookup, DnsOutcome, SpfRecordTree
from adfs_readiness.net.dns import DnsClient

__all__ = ["spf_records", "dns_querying_terms", "spf_tree", "MAX_DNS_TERMS", "MAX_VOID_LOOKUPS"]

#: RFC 7208 section 4.6.4: DNS-querying terms allowed in one evaluation.
MAX_DNS_TERMS = 10
#: RFC 7208 section 4.6.4: void lookups allowed in one evaluation (the RECOMMENDED default).
MAX_VOID_LOOKUPS = 2
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
    """The terms of ``record`` that cause DNS queries (RFC 7208 section 4.6.4), as written, in
    evaluation order (``redirect=`` last). ``redirect=`` counts only when the record has no
    ``all`` mechanism (section 6.1: it is ignored otherwise); mechanisms after ``all`` are never
    evaluated (section 5.1) and do not count."""
    terms = _terms(record)
    has_all = any(name == "all" and not rest for _, name, rest in terms)
    mechanisms, redirect = [], []
    after_all = False
    for qualifier, name, rest in terms:
        if name == "all" and not rest:
            # RFC 7208 5.1: "all" always matches, so mechanisms after it are never evaluated and
            # cost no lookup (counting them made a record with leftovers after -all "exceed 10").
            after_all = True
        elif name in _LOOKUP_MECHANISMS and not rest.startswith("=") and not after_all:
            mechanisms.append(f"{qualifier}{name}{rest}")
        elif name == "redirect" and rest.startswith("=") and not has_all:
            redirect.append(f"{name}{rest}")
    return tuple(mechanisms + redirect[:1])


def _target(term: str) -> str | None:
    """The domain an include: or redirect= term names (None for the other terms)."""
    body = term.lstrip("+-~?")
    for prefix in ("include:", "redirect="):
        if body.lower().startswith(prefix):
            return body[len(prefix):].lower().rstrip(".")
    return None


@dataclass
class _Evaluation:
    """The state one evaluation shares across its whole tree (section 4.6.4 counts globally)."""

    terms: int = 0
    voids: int = 0
    permerror: str | None = None


def _void(lookup: DnsLookup) -> bool:
    return lookup.outcome in (DnsOutcome.NXDOMAIN, DnsOutcome.NO_ANSWER)


def spf_tree(client: DnsClient, domain: str) -> SpfRecordTree:
    """Look up ``domain``'s SPF record through ``client`` and evaluate it as the module docstring
    says, each include/redirect target looked up through the same client (so the same view and
    deadline). Returns the tree of what was evaluated; the root's ``permerror`` says why the
    evaluation ended in a permanent error (None when it did not), its ``dns_lookup_count`` the
    DNS-querying terms counted, ``void_lookups`` the void lookups met. Never raises for DNS trouble:
    a failed lookup is recorded in ``problems``."""
    state = _Evaluation()
    tree = _evaluate(client, domain.lower().rstrip("."), state, path=())
    return replace(tree, permerror=state.permerror, void_lookups=state.voids)


def _evaluate(client: DnsClient, domain: str, state: _Evaluation, path: tuple[str, ...]) -> SpfRecordTree:
    lookup = client.lookup(domain, "TXT")
    records = spf_records(lookup.records) if lookup.outcome is DnsOutcome.ANSWER else []
    problems: list[str] = []
    if not lookup.outcome.answered:
        problems.append(f"the TXT lookup of {domain} failed: {lookup.describe()}")
    if path and _void(lookup):
        # An include/redirect target whose lookup gives no records or NXDOMAIN: void (4.6.4).
        state.voids += 1
        if state.voids > MAX_VOID_LOOKUPS and state.permerror is None:
            state.permerror = (f"more than {MAX_VOID_LOOKUPS} void lookups (the lookup of {domain} is void "
                               f"number {state.voids}): RFC 7208 section 4.6.4")
    if not records:
        return SpfRecordTree(domain, None, lookup, 0, (), (), 0, tuple(problems))
    record = records[0]
    terms = dns_querying_terms(record)
    children: list[SpfRecordTree] = []
    counted_here = 0
    for term in terms:
        if state.permerror is not None:
            break
        state.terms += 1
        counted_here += 1
        if state.terms > MAX_DNS_TERMS:
            state.permerror = (f"more than {MAX_DNS_TERMS} DNS-querying terms (the {state.terms}th is {term} in "
                               f"{domain}'s record): RFC 7208 section 4.6.4")
            break
        target = _target(term)
        if target is None:
            continue  # a, mx, ptr, exists: counted, not looked up (no sender address to match)
        if "%" in target:
            problems.append(f"{target}: contains a macro, not followed")
        elif target in path or target == domain:
            problems.append(f"{target}: include loop, not followed again")
            state.permerror = state.permerror or (f"include loop: {domain} includes {target} again (a receiver "
                                                  f"exceeds the {MAX_DNS_TERMS} DNS-querying terms): RFC 7208 "
                                                  f"section 4.6.4")
        else:
            children.append(_evaluate(client, target, state, (*path, domain)))
    count = counted_here + sum(child.dns_lookup_count for child in children)
    return SpfRecordTree(domain, record, lookup, len(records), terms, tuple(children), count, tuple(problems))
