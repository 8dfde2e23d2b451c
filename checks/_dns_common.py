"""Helpers and references shared by the DNS check modules (private to ``adfs_readiness_checks``).

Pure functions of the :class:`~adfs_readiness.facts.dns.DnsView` facts: no I/O, no clock.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from adfs_readiness.api import CheckContext, Outcome, Reference, Status
from adfs_readiness.facts import to_jsonable
from adfs_readiness.facts.dns import DnsLookup, DnsOutcome, DnsView

__all__ = [
    "REF_NAME_RESOLUTION_FS",
    "REF_NAME_RESOLUTION_PROXY",
    "REF_IWA_TROUBLESHOOTING",
    "REF_ALTERNATE_TLS_BINDING",
    "REF_M365_EXTERNAL_DNS",
    "REF_M365_DNS_ANY_HOST",
    "REF_SRV_RECORDS",
    "REF_RFC1918",
    "REF_RFC4193",
    "REF_RFC7208",
    "REF_RFC8659",
    "view_of",
    "view_evidence",
    "lookup_evidence",
    "failed_lookup_outcome",
    "service_name_or_skip",
    "addresses_of",
    "not_internet_routable",
    "chain_text",
]

REF_NAME_RESOLUTION_FS = Reference(
    "Name resolution requirements for federation servers",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/design/name-resolution-requirements-for-federation-servers",
)
REF_NAME_RESOLUTION_PROXY = Reference(
    "Name resolution requirements for federation server proxies",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/design/"
    "name-resolution-requirements-for-federation-server-proxies",
)
REF_IWA_TROUBLESHOOTING = Reference(
    "AD FS troubleshooting - Integrated Windows Authentication (SPN misconfiguration)",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/troubleshooting/ad-fs-tshoot-iwa",
)
REF_ALTERNATE_TLS_BINDING = Reference(
    "Set-AdfsAlternateTlsClientBinding (certauth.<federation service name>)",
    "https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfsalternatetlsclientbinding",
)
REF_M365_EXTERNAL_DNS = Reference(
    "External Domain Name System records for Office 365",
    "https://learn.microsoft.com/en-us/microsoft-365/enterprise/external-domain-name-system-records",
)
REF_M365_DNS_ANY_HOST = Reference(
    "Add DNS records to connect your domain (Microsoft 365)",
    "https://learn.microsoft.com/en-us/microsoft-365/admin/get-help-with-domains/create-dns-records-at-any-dns-hosting-provider",
)
REF_SRV_RECORDS = Reference(
    "How to verify that SRV DNS records have been created for a domain controller",
    "https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/verify-srv-dns-records-have-been-created",
)
REF_RFC1918 = Reference("RFC 1918: Address Allocation for Private Internets", "https://www.rfc-editor.org/rfc/rfc1918")
REF_RFC4193 = Reference("RFC 4193: Unique Local IPv6 Unicast Addresses", "https://www.rfc-editor.org/rfc/rfc4193")
REF_RFC7208 = Reference("RFC 7208: Sender Policy Framework (SPF), sections 4.5 and 4.6.4",
                        "https://www.rfc-editor.org/rfc/rfc7208")
REF_RFC8659 = Reference("RFC 8659: DNS Certification Authority Authorization (CAA) Resource Record",
                        "https://www.rfc-editor.org/rfc/rfc8659")

#: Ranges no internet client can reach: RFC 1918, RFC 4193 (unique local), RFC 6598 shared address
#: space, loopback and link-local. Spelled out rather than ``is_private``, which also covers the
#: documentation ranges (TEST-NET) and would call a published test address private.
_NOT_ROUTABLE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "fc00::/7",  # RFC 4193
    "100.64.0.0/10",  # RFC 6598
    "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10",
))


def view_of(ctx: CheckContext, key: str) -> DnsView:
    """The :class:`DnsView` fact ``key`` (``dns.internal`` / ``dns.external``)."""
    return ctx.fact(key)


def view_evidence(view: DnsView) -> dict[str, Any]:
    """Where the answers came from: the view, its resolvers, whether it was the system resolver."""
    return {"view": view.view, "resolvers": list(view.resolvers), "system_resolver": view.system_resolver,
            "resolver_note": view.note}


def lookup_evidence(lookup: DnsLookup | None) -> dict[str, Any] | None:
    """A lookup as JSON-ready evidence, with a one-line ``text`` rendering first."""
    if lookup is None:
        return None
    data = to_jsonable(lookup)
    return {"text": lookup.describe(), **data}


def failed_lookup_outcome(lookup: DnsLookup, view: DnsView, what: str, target: str | None = None,
                          extra: dict[str, Any] | None = None) -> Outcome:
    """An ``error`` outcome for a lookup that could not be made (SERVFAIL, REFUSED, timeout,
    error): "could not ask" is not "does not exist", so nothing is concluded."""
    system = " (system resolver)" if view.system_resolver else ""
    return Outcome(
        Status.ERROR,
        f"Could not determine {what} in the {view.view} view: {lookup.describe()} "
        f"(asked {', '.join(view.resolvers) or 'no resolver'}{system}).",
        evidence={**view_evidence(view), "lookup": lookup_evidence(lookup), **(extra or {})},
        target=target,
    )


def service_name_or_skip(ctx: CheckContext) -> str | Outcome:
    """The configured federation service name, or a SKIP outcome when none is configured (an
    offline run on a metadata file has nothing to look up)."""
    name = ctx.config.federation.service_name
    if not name:
        return Outcome(Status.SKIP, "No federation service name is configured (federation.service_name): "
                                    "nothing to look up.")
    return name


def addresses_of(*lookups: DnsLookup | None) -> list[str]:
    """The A and AAAA addresses answered by ``lookups`` (in order, without repeats)."""
    seen: dict[str, None] = {}
    for lookup in lookups:
        if lookup is not None and lookup.outcome is DnsOutcome.ANSWER and lookup.rdtype in ("A", "AAAA"):
            for record in lookup.records:
                seen.setdefault(str(ipaddress.ip_address(record)), None)
    return list(seen)


def not_internet_routable(addresses: Iterable[str]) -> list[str]:
    """The addresses among ``addresses`` that no internet client can reach (see _NOT_ROUTABLE)."""
    bad = []
    for text in addresses:
        ip = ipaddress.ip_address(text)
        if any(ip.version == net.version and ip in net for net in _NOT_ROUTABLE):
            bad.append(text)
    return bad


def chain_text(lookup: DnsLookup) -> str:
    """"a is a CNAME to b, which is a CNAME to c" for a lookup with a chain ("" without)."""
    hops = lookup.cname_chain
    if not hops:
        return ""
    text = f"{hops[0].name} is a CNAME to {hops[0].target}"
    for hop in hops[1:]:
        text += f", which is a CNAME to {hop.target}"
    return text
