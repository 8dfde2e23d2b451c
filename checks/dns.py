"""Checks of the federation service name in DNS (dns.fs-name-routable, dns.fs-external, dns.fs-internal,
dns.fs-a-record, dns.split-brain, dns.certauth, dns.enterpriseregistration).

Each judges the per-view facts ``dns.internal`` / ``dns.external``
(:class:`~adfs_readiness.facts.dns.DnsView`). A lookup the resolvers could not answer (SERVFAIL,
REFUSED, timeout) is an ``error`` for that view, never a failure: "could not ask" is not "does
not exist". Checks that judge both views give one outcome per view, so a dead external resolver
leaves the internal view's judgement intact.
"""

from __future__ import annotations

import ipaddress

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts import METADATA_FACT
from adfs_readiness.facts.dns import DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT, DnsLookup, DnsOutcome, DnsView

from ._common import REF_ADFS_REQUIREMENTS, url_host
from ._special_names import special_use_reason
from ._dns_common import (
    REF_ALTERNATE_TLS_BINDING,
    REF_IWA_TROUBLESHOOTING,
    REF_M365_DNS_ANY_HOST,
    REF_M365_EXTERNAL_DNS,
    REF_NAME_RESOLUTION_FS,
    REF_NAME_RESOLUTION_PROXY,
    REF_RFC1918,
    REF_RFC4193,
    addresses_of,
    chain_text,
    failed_lookup_outcome,
    lookup_evidence,
    not_internet_routable,
    same_resolvers,
    service_name_or_skip,
    view_evidence,
    view_of,
    views_text,
)

_DRS_TARGET = "enterpriseregistration.windows.net"

REF_NON_ROUTABLE = Reference(
    "Prepare a non-routable domain for directory synchronization (Microsoft Entra Connect)",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/prepare-a-non-routable-domain-for-directory-synchronization")
REF_RFC6761 = Reference("RFC 6761: Special-Use Domain Names", "https://www.rfc-editor.org/rfc/rfc6761")
REF_RFC6762 = Reference("RFC 6762: Multicast DNS (.local)", "https://www.rfc-editor.org/rfc/rfc6762")
REF_PUBLIC_SUFFIX_LIST = Reference("Public Suffix List (ICANN section: the top-level domains of the root zone)",
                                   "https://publicsuffix.org/list/")


def _service_names(ctx: CheckContext) -> tuple[list[str], str]:
    """The federation service name(s) to judge and where they come from: the configured name,
    else the hosts the metadata names (its entityID and its sign-in endpoints)."""
    if ctx.config.federation.service_name:
        return [ctx.config.federation.service_name], "the configured federation service name"
    fact = ctx.facts.get(METADATA_FACT)
    document = getattr(fact, "document", None)
    if document is None:
        return [], ""
    urls = [document.entity_id] + [ep.location for role in document.roles for ep in role.endpoints]
    hosts = list(dict.fromkeys(h for h in (url_host(u) for u in urls if u and "://" in u) if h))
    return hosts, f"the hosts the metadata {fact.source} names (entityID and endpoints)"


@check(
    id="dns.fs-name-routable",
    title="Federation service name can be reached from the internet",
    area=Area.DNS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(),
    optional=(METADATA_FACT,),
    rule="The federation service name (configured, or else every host the metadata names) is not a special-use or "
         "private-use name: not .local (RFC 6762), .test/.localhost/.invalid/.example (RFC 6761), .internal, "
         "home.arpa, .onion, .alt, a never-delegated private top-level name (.lan, .corp, .home, ...), any other "
         "top-level name the public suffix list does not hold (.lab, .zz: not delegated in the public DNS), nor a "
         "single-label name. Such a name cannot be resolved from the internet and no public CA issues a certificate "
         "for it, so Microsoft 365 federation through it cannot work.",
    remediation="Choose a federation service name under a public domain you own and have verified in Microsoft 365 "
                "(for example sts.contoso.com), publish it in public DNS, get a publicly trusted certificate for it "
                "and change AD FS to it (Set-AdfsProperties -HostName, new SSL certificate, Update-MgDomain"
                "FederationConfiguration / Entra Connect trust repair). Internal AD DNS names such as contoso.local "
                "can stay as they are: only the federation service name and the users' UPN suffixes must be routable.",
    references=(REF_NON_ROUTABLE, REF_RFC6761, REF_RFC6762, REF_PUBLIC_SUFFIX_LIST, REF_ADFS_REQUIREMENTS),
)
def fs_name_routable(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per name: FAIL (blocking) for a special-use / private-use / single-label name or one under a
    top-level domain the public suffix list does not hold, naming why; PASS otherwise; SKIP when no
    name is known (no service name, no metadata)."""
    names, source = _service_names(ctx)
    if not names:
        return Outcome(Status.SKIP, "No federation service name is configured and no metadata names one.")
    simulated = ctx.config.dns.simulated_public_domains
    outcomes = []
    for name in names:
        reason = special_use_reason(name)
        evidence = {"name": name, "source": source, "reason": reason}
        lab = next((d for d in simulated if name == d or name.endswith("." + d)), None)
        if reason and lab:
            outcomes.append(Outcome(Status.PASS, f"{name} is {reason}, served as public by a lab "
                                                 f"(dns.simulated_public_domains = {lab}).",
                                    {**evidence, "simulated_public_domain": lab}, name))
            continue
        if reason:
            outcomes.append(Outcome(Status.FAIL, f"The federation service name {name} is {reason}: clients and "
                                                 f"Microsoft Entra ID on the internet cannot resolve it and no public "
                                                 f"CA issues a certificate for it, so it cannot be federated with "
                                                 f"Microsoft 365.", evidence, name))
        else:
            outcomes.append(Outcome(Status.PASS, f"{name} is not a special-use or private-use name (whether it is "
                                                 f"published is judged by dns.fs-external).", evidence, name))
    return outcomes


def _resolution(view: DnsView, name: str, target: str | None = None) -> tuple[Outcome | None, list[str], dict]:
    """Judge whether ``name`` resolves to addresses in ``view``.

    Returns (outcome when it does not simply resolve, the addresses, evidence). The outcome is
    ERROR when the A lookup could not be made, FAIL when the name does not exist / has no address
    / is a dangling CNAME / a CNAME loop, WARN when it has only IPv6 addresses; None when it has
    IPv4 addresses (the caller decides what a pass says).
    """
    a, aaaa = view.find(name, "A"), view.find(name, "AAAA")
    evidence = {**view_evidence(view), "name": name, "a": lookup_evidence(a), "aaaa": lookup_evidence(aaaa)}
    if a is None:
        raise CannotDetermine(f"{name} was not looked up in the {view.view} view.", evidence)
    addresses = addresses_of(a, aaaa)
    evidence["addresses"] = addresses
    chain = chain_text(a)
    via = f" ({chain})" if chain else ""
    if a.outcome is DnsOutcome.ANSWER:
        return None, addresses, evidence
    if not a.outcome.answered:
        return failed_lookup_outcome(a, view, f"whether {name} resolves", target, {"name": name}), addresses, evidence
    if aaaa is not None and aaaa.outcome is DnsOutcome.ANSWER:
        return Outcome(Status.WARN, f"{name}{via} has only IPv6 addresses in the {view.view} view "
                                    f"({', '.join(addresses)}): clients without IPv6 cannot reach it.",
                       evidence=evidence, target=target), addresses, evidence
    words = {
        DnsOutcome.NXDOMAIN: f"{name} does not exist (NXDOMAIN) in the {view.view} view",
        DnsOutcome.NO_ANSWER: f"{name}{via} exists in the {view.view} view but has no A or AAAA record",
        DnsOutcome.DANGLING_CNAME: f"{chain or name}, which does not exist (dangling CNAME) in the {view.view} view",
        DnsOutcome.CNAME_LOOP: f"{name} is a CNAME loop in the {view.view} view ({chain})",
    }
    return Outcome(Status.FAIL, words[a.outcome] + ".", evidence=evidence, target=target), addresses, evidence


def _fs_resolves(ctx: CheckContext, key: str, who: str) -> Outcome:
    fs = service_name_or_skip(ctx)
    if isinstance(fs, Outcome):
        return fs
    view = view_of(ctx, key)
    outcome, addresses, evidence = _resolution(view, fs)
    if outcome is not None and outcome.status is Status.FAIL:
        return Outcome(Status.FAIL, f"{outcome.summary} {who} cannot reach the federation service.",
                       evidence=outcome.evidence)
    if (key == DNS_EXTERNAL_FACT and (outcome is None or outcome.status is Status.WARN) and addresses
            and not set(addresses) - set(not_internet_routable(addresses))):
        return _external_unreachable(ctx, view, fs, addresses, evidence)
    if outcome is not None:
        return outcome
    a = view.find(fs, "A")
    chain = chain_text(a) if a else ""
    system = " (system resolver: see the evidence)" if view.system_resolver else ""
    return Outcome(Status.PASS, f"{fs} resolves in the {view.view} view to {', '.join(addresses)}"
                                f"{' via CNAME: ' + chain if chain else ''}{system}.", evidence=evidence)


def _external_unreachable(ctx: CheckContext, view: DnsView, fs: str, addresses: list[str],
                          evidence: dict) -> Outcome:
    """The external view answered the federation service name with addresses no internet client
    can reach (RFC 1918, RFC 4193, loopback, ...) and nothing else. Asked through resolvers that
    are the internet's view, the name is published unreachable: FAIL. Asked through this
    machine's system resolver, or the same resolvers as the internal view, the answer is the
    inside's: what the internet sees was not looked up, so it is not determined (ERROR)."""
    listed = ", ".join(addresses)
    internal = ctx.facts.get(DNS_INTERNAL_FACT)
    evidence = {**evidence, "not_internet_routable": addresses}
    if view.system_resolver or same_resolvers(internal if isinstance(internal, DnsView) else None, view):
        why = ("the same resolvers as the internal view" if not view.system_resolver else
               "no external resolvers are configured (dns.external_resolvers)")
        return Outcome(Status.ERROR, f"Could not determine whether {fs} resolves on the internet: the external view "
                                     f"was asked through {views_text(view)} because {why}, and it answered only "
                                     f"with internal addresses ({listed}), so it is the inside's view, not the "
                                     f"internet's. Set dns.external_resolvers to public resolvers (for example "
                                     f"1.1.1.1 and 9.9.9.9) and run again.", evidence=evidence)
    return Outcome(Status.FAIL, f"{fs} resolves on the internet (through {views_text(view)}) only to "
                                f"address(es) no internet client can reach: {listed} (private, RFC 1918 / RFC 4193, "
                                f"loopback or link-local). Users on the internet and Entra ID's sign-in redirects "
                                f"cannot reach the federation service.", evidence=evidence,
                   remediation="Publish the Web Application Proxies' public address (or their public load balancer "
                               "/ NAT address) for the federation service name in the internet-facing DNS zone; "
                               "internal addresses belong in the internal zone only (split-brain DNS).")


@check(
    id="dns.fs-external",
    title="Federation service name resolves on the internet",
    area=Area.DNS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(DNS_EXTERNAL_FACT,),
    optional=(DNS_INTERNAL_FACT,),
    rule="The federation service name resolves to an address through the external resolvers: users outside "
         "the network and Microsoft 365 clients are sent to https://<fs>/adfs/ls/ by Entra ID. An answer made only "
         "of addresses no internet client can reach (RFC 1918, RFC 4193, loopback, link-local) fails; when the "
         "external view is this machine's system resolver (dns.external_resolvers not set) or the internal view's "
         "resolvers, such an answer is the inside's view and the internet's is not determined.",
    remediation="Publish a host (A) record for the federation service name in the internet-facing DNS zone, "
                "pointing at the Web Application Proxy servers or their public load balancer / NAT address. "
                "If the name is a CNAME, make sure its target exists.",
    references=(REF_NAME_RESOLUTION_PROXY, REF_M365_EXTERNAL_DNS, REF_ADFS_REQUIREMENTS),
)
def fs_external(ctx: CheckContext) -> Outcome:
    """PASS with IPv4 addresses; WARN with IPv6 only; FAIL for NXDOMAIN, no address, a dangling
    CNAME or a CNAME loop, and for internal addresses only; ERROR when the lookup could not be made
    (SERVFAIL, REFUSED, timeout), or when only internal addresses came from a view that is not the
    internet's (the system resolver, or the internal view's resolvers)."""
    return _fs_resolves(ctx, DNS_EXTERNAL_FACT, "Users on the internet and Entra ID's sign-in redirects")


@check(
    id="dns.fs-internal",
    title="Federation service name resolves inside the network",
    area=Area.DNS,
    severity=Severity.HIGH,
    blocker=False,
    requires=(DNS_INTERNAL_FACT,),
    rule="The federation service name resolves to an address through the internal resolvers (domain-joined "
         "clients sign in there, with Windows Integrated Authentication).",
    remediation="Create a host (A) record for the federation service name in the internal DNS zone, pointing "
                "at the AD FS farm's internal load balancer (or the single federation server).",
    references=(REF_NAME_RESOLUTION_FS, REF_ADFS_REQUIREMENTS),
)
def fs_internal(ctx: CheckContext) -> Outcome:
    """As dns.fs-external, for the internal view."""
    return _fs_resolves(ctx, DNS_INTERNAL_FACT, "Clients inside the network")


@check(
    id="dns.fs-a-record",
    title="Federation service name is an A record, not a CNAME",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT),
    rule="The federation service name is a host (A/AAAA) record. With a CNAME, Windows asks Kerberos for a "
         "ticket for the CNAME's target (HTTP/<target>), not HTTP/<fs>, so Windows Integrated Authentication "
         "falls back to NTLM or fails; a CNAME inside the network is a failure, on the internet a warning.",
    remediation="Replace the CNAME with host (A/AAAA) records for the federation service name pointing at the "
                "load balancer's addresses. If a CNAME must stay (a global load balancer), register the SPN "
                "HTTP/<CNAME target> on the AD FS service account (setspn -S) so Kerberos still finds it.",
    references=(REF_NAME_RESOLUTION_FS, REF_IWA_TROUBLESHOOTING),
)
def fs_a_record(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per view: PASS for A/AAAA records; a CNAME is FAIL inside (WIA) and WARN outside; ERROR when
    the lookup could not be made; SKIP when there is no record to judge (see dns.fs-*)."""
    fs = service_name_or_skip(ctx)
    if isinstance(fs, Outcome):
        return fs
    outcomes = []
    for key in (DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT):
        view = view_of(ctx, key)
        a = view.find(fs, "A")
        target = f"{view.view} view"
        if a is None:
            raise CannotDetermine(f"{fs} was not looked up in the {view.view} view.", view_evidence(view))
        evidence = {**view_evidence(view), "name": fs, "a": lookup_evidence(a)}
        if not a.outcome.answered:
            outcomes.append(failed_lookup_outcome(a, view, f"whether {fs} is a CNAME", target))
        elif a.cname_chain:
            chain = chain_text(a)
            if view.view == "internal":
                outcomes.append(Outcome(
                    Status.FAIL, f"{chain} in the {view.view} view: Windows then asks for a Kerberos ticket for "
                                 f"HTTP/{a.cname_chain[-1].target}, not HTTP/{fs}, and Windows Integrated "
                                 f"Authentication falls back to NTLM or fails.", evidence=evidence, target=target))
            else:
                outcomes.append(Outcome(
                    Status.WARN, f"{chain} in the {view.view} view. Outside the network this only matters for "
                                 f"clients doing Windows Integrated Authentication through it; prefer an A record.",
                    evidence=evidence, target=target))
        elif a.outcome is DnsOutcome.ANSWER:
            outcomes.append(Outcome(Status.PASS, f"{fs} is a host (A) record in the {view.view} view "
                                                 f"({', '.join(a.records)}).", evidence=evidence, target=target))
        else:
            outcomes.append(Outcome(Status.SKIP, f"{fs} has no record in the {view.view} view to judge "
                                                 f"({a.describe()}); see dns.fs-{view.view}.",
                                    evidence=evidence, target=target))
    return outcomes


def _expected(configured: tuple[str, ...], hosts) -> list[str]:
    if configured:
        return list(configured)
    result = []
    for hp in hosts:
        try:
            result.append(str(ipaddress.ip_address(hp.host)))
        except ValueError:
            continue  # a host name: no address to compare without resolving it
    return result


@check(
    id="dns.split-brain",
    title="Internal and external answers point at the right servers (split-brain DNS)",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT),
    rule="Inside, the federation service name resolves to the AD FS farm / internal load balancer; on the "
         "internet, to the proxies (expected addresses from the configuration). A private address (RFC 1918, "
         "RFC 4193) published in the external view is a failure: no internet client can reach it. Two views asked "
         "through the same resolvers (both left to this machine's system resolver) cannot be compared (skip).",
    remediation="Keep two zones for the name (split-brain DNS): the internal zone points at the AD FS farm's "
                "internal load balancer, the internet zone at the Web Application Proxies' public address. Never "
                "publish internal addresses in the internet zone. Set dns.expected_internal_addresses and "
                "dns.expected_external_addresses (or federation.farm_nodes / proxies as IP addresses) so this "
                "check can compare.",
    references=(REF_NAME_RESOLUTION_PROXY, REF_NAME_RESOLUTION_FS, REF_RFC1918, REF_RFC4193),
)
def split_brain(ctx: CheckContext) -> Outcome:
    """FAIL for a non-routable address in the external view; WARN for an address outside the
    expected set of a view, or identical views when nothing is configured; PASS otherwise; SKIP when
    a view has no address, or both views were asked through the same resolvers; ERROR when a view's
    lookup could not be made."""
    fs = service_name_or_skip(ctx)
    if isinstance(fs, Outcome):
        return fs
    internal, external = view_of(ctx, DNS_INTERNAL_FACT), view_of(ctx, DNS_EXTERNAL_FACT)
    if same_resolvers(internal, external):
        # One resolver asked twice: its answers are the same by construction, and nobody can tell
        # whether they are the inside's or the internet's, so "private address published on the
        # internet" and "same answer inside and outside" would both be made up.
        return Outcome(Status.SKIP, f"The internal and external views were both asked through "
                                    f"{views_text(internal)}, so they cannot be compared: set dns.internal_resolvers "
                                    f"(a domain controller / internal DNS server) and dns.external_resolvers (public "
                                    f"resolvers) to judge split-brain DNS.",
                       evidence={"name": fs, "internal": view_evidence(internal), "external": view_evidence(external)})
    views = {}
    for view in (internal, external):
        outcome, addresses, evidence = _resolution(view, fs)
        if outcome is not None and outcome.status is Status.ERROR:
            return outcome
        views[view.view] = (addresses, evidence)
    inside, outside = views["internal"][0], views["external"][0]
    cfg = ctx.config
    expect_in = _expected(cfg.dns.expected_internal_addresses, cfg.federation.farm_nodes)
    expect_out = _expected(cfg.dns.expected_external_addresses, cfg.federation.proxies)
    evidence = {"name": fs, "internal_addresses": inside, "external_addresses": outside,
                "expected_internal": expect_in, "expected_external": expect_out,
                "internal": views["internal"][1], "external": views["external"][1]}
    if not inside or not outside:
        missing = "internal" if not inside else "external"
        return Outcome(Status.SKIP, f"{fs} has no address in the {missing} view, so the views cannot be compared "
                                    f"(see dns.fs-{missing}).", evidence=evidence)
    private = not_internet_routable(outside)
    if private:
        return Outcome(Status.FAIL, f"The external view publishes {fs} with address(es) no internet client can "
                                    f"reach: {', '.join(private)} (private / RFC 1918 / RFC 4193). Internal "
                                    f"addresses leak into the internet zone.", evidence=evidence)
    problems = []
    if expect_in and not set(inside) <= set(expect_in):
        problems.append(f"inside it resolves to {', '.join(inside)}, expected {', '.join(expect_in)} "
                        f"(the farm / internal load balancer)")
    if expect_out and not set(outside) <= set(expect_out):
        problems.append(f"on the internet it resolves to {', '.join(outside)}, expected {', '.join(expect_out)} "
                        f"(the proxies)")
    if problems:
        return Outcome(Status.WARN, f"{fs}: " + "; ".join(problems) + ".", evidence=evidence)
    if not expect_in and not expect_out and set(inside) == set(outside):
        return Outcome(Status.WARN, f"{fs} resolves to the same address(es) inside and outside ({', '.join(inside)}): "
                                    f"internal clients go through the proxies, which do not offer Windows "
                                    f"Integrated Authentication. No expected addresses are configured to say "
                                    f"otherwise.", evidence=evidence)
    how = ("as configured" if expect_in or expect_out else
           "(no expected addresses configured: the views differ, as split-brain DNS should)")
    return Outcome(Status.PASS, f"{fs} resolves inside to {', '.join(inside)} and on the internet to "
                                f"{', '.join(outside)} {how}.", evidence=evidence)


@check(
    id="dns.certauth",
    title="certauth.<federation service name> resolves (certificate authentication)",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT),
    rule="When certificate authentication is in scope, certauth.<fs> resolves in both views, to the same "
         "servers as the federation service name (AD FS serves user certificate authentication on it, port 443).",
    remediation="Publish certauth.<fs> in both the internal and the internet zone with the same addresses as the "
                "federation service name (or as a CNAME to it), and make sure the SSL certificate lists it "
                "(Set-AdfsAlternateTlsClientBinding).",
    references=(REF_ALTERNATE_TLS_BINDING, REF_ADFS_REQUIREMENTS),
)
def certauth(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per view: SKIP when certificate authentication is out of scope; PASS when it resolves to the
    federation service name's addresses; WARN when to other addresses; FAIL when it does not
    resolve; ERROR when the lookup could not be made."""
    if not ctx.config.scope.certificate_authentication:
        return [Outcome(Status.SKIP, "Certificate authentication is not in scope (scope.certificate_authentication).")]
    fs = service_name_or_skip(ctx)
    if isinstance(fs, Outcome):
        return fs
    name = f"certauth.{fs}"
    outcomes = []
    for key in (DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT):
        view = view_of(ctx, key)
        target = f"{view.view} view"
        outcome, addresses, evidence = _resolution(view, name, target)
        if outcome is not None:
            if outcome.status is Status.FAIL:
                outcome = Outcome(Status.FAIL, f"{outcome.summary} Users choosing certificate (smart card) sign-in "
                                               f"{'inside' if view.view == 'internal' else 'on the internet'} cannot "
                                               f"reach the certificate authentication endpoint.",
                                  evidence=outcome.evidence, target=target)
            outcomes.append(outcome)
            continue
        fs_addresses = addresses_of(view.find(fs, "A"), view.find(fs, "AAAA"))
        evidence["federation_service_addresses"] = fs_addresses
        if fs_addresses and set(addresses) != set(fs_addresses):
            outcomes.append(Outcome(Status.WARN, f"{name} resolves in the {view.view} view to {', '.join(addresses)}, "
                                                 f"but {fs} to {', '.join(fs_addresses)}: the certificate "
                                                 f"authentication endpoint is served by the same servers.",
                                    evidence=evidence, target=target))
        else:
            outcomes.append(Outcome(Status.PASS, f"{name} resolves in the {view.view} view to {', '.join(addresses)}.",
                                    evidence=evidence, target=target))
    return outcomes


@check(
    id="dns.enterpriseregistration",
    title="enterpriseregistration.<domain> points at the device registration service",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_INTERNAL_FACT, DNS_EXTERNAL_FACT),
    rule="When device registration is in scope, enterpriseregistration.<domain> is a CNAME to "
         "enterpriseregistration.windows.net for every federated domain (missing on the internet: failure; "
         "missing in an internal split-brain zone: warning).",
    remediation="Create the CNAME enterpriseregistration.<domain> -> enterpriseregistration.windows.net in the "
                "internet zone of every federated domain, and in the internal zone too when the domain is also "
                "served internally (split-brain DNS).",
    references=(REF_M365_DNS_ANY_HOST, REF_M365_EXTERNAL_DNS),
)
def enterpriseregistration(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per view and domain: PASS for the CNAME to enterpriseregistration.windows.net; WARN for
    another target or a host record (on-premises DRS); FAIL when missing (WARN inside); ERROR when
    the lookup could not be made; SKIP when device registration is out of scope or no domain is
    configured."""
    if not ctx.config.scope.device_registration:
        return [Outcome(Status.SKIP, "Device registration is not in scope (scope.device_registration).")]
    if not ctx.config.federation.domains:
        return [Outcome(Status.SKIP, "No federated domains are configured (federation.domains).")]
    outcomes = []
    for key in (DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT):
        view = view_of(ctx, key)
        for domain in ctx.config.federation.domains:
            outcomes.append(_drs_outcome(view, domain))
    return outcomes


def _drs_outcome(view: DnsView, domain: str) -> Outcome:
    name = f"enterpriseregistration.{domain}"
    target = f"{view.view} view: {domain}"
    lookup: DnsLookup | None = view.find(name, "A")
    if lookup is None:
        raise CannotDetermine(f"{name} was not looked up in the {view.view} view.", view_evidence(view))
    evidence = {**view_evidence(view), "name": name, "lookup": lookup_evidence(lookup)}
    if not lookup.outcome.answered:
        return failed_lookup_outcome(lookup, view, f"the device registration record {name}", target)
    chain = lookup.cname_chain
    if chain and chain[0].target == _DRS_TARGET and lookup.outcome is DnsOutcome.ANSWER:
        return Outcome(Status.PASS, f"{name} is a CNAME to {_DRS_TARGET} in the {view.view} view.",
                       evidence=evidence, target=target)
    if lookup.outcome is DnsOutcome.ANSWER:
        what = chain_text(lookup) if chain else f"{name} is a host record ({', '.join(lookup.records)})"
        return Outcome(Status.WARN, f"{what} in the {view.view} view, not a CNAME to {_DRS_TARGET}: devices are "
                                    f"sent to another registration service (right only for an on-premises AD FS "
                                    f"device registration service).", evidence=evidence, target=target)
    missing = {
        DnsOutcome.NXDOMAIN: f"{name} does not exist in the {view.view} view",
        DnsOutcome.NO_ANSWER: f"{name} has no address record in the {view.view} view",
        DnsOutcome.DANGLING_CNAME: f"{chain_text(lookup)}, which does not exist, in the {view.view} view",
        DnsOutcome.CNAME_LOOP: f"{name} is a CNAME loop in the {view.view} view",
    }[lookup.outcome]
    status = Status.FAIL if view.view == "external" else Status.WARN
    return Outcome(status, f"{missing}: devices cannot discover the device registration service for {domain}.",
                   evidence=evidence, target=target)
