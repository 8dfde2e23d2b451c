"""Checks of the Microsoft 365, Active Directory and CAA records in DNS (dns.m365-verification,
dns.m365-mail, dns.msoid, dns.ad-srv, dns.caa).

Public records (Microsoft 365, CAA) are judged in the external view, the AD DC locator records in
the internal view. A lookup that could not be made is an ``error`` for what depends on it.
"""

from __future__ import annotations

import re

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts import METADATA_FACT, CertificateInfo, FederationMetadata
from adfs_readiness.facts.dns import DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT, DnsOutcome, DnsView, SpfRecordTree

from ._powershell import MAX_COMMANDS, plain_dns_name
from ._dns_common import (
    REF_M365_DNS_ANY_HOST,
    REF_M365_EXTERNAL_DNS,
    REF_RFC7208,
    REF_RFC8659,
    REF_SRV_RECORDS,
    chain_text,
    failed_lookup_outcome,
    inside_view_reason,
    lookup_evidence,
    service_name_or_skip,
    view_evidence,
    view_of,
)

REF_SMTP_DANE = Reference("How SMTP DANE works (Exchange Online's DNSSEC-signed MX hosts under mx.microsoft)",
                          "https://learn.microsoft.com/en-us/purview/how-smtp-dane-works")
_EXO_MX_SUFFIX = ".mail.protection.outlook.com"
#: Every MX host name Exchange Online gives a domain: <token>.mail.protection.outlook.com; the
#: DNSSEC-signed <domain>-<hash>.<letter>-v1.mx.microsoft every accepted domain added since August
#: 2025 gets (and any domain moved for inbound SMTP DANE, Enable-DnssecForVerifiedDomain); the
#: national clouds' mail.protection.office365.us (GCC High / DoD) and
#: mail.protection.partner.outlook.cn (21Vianet).
_EXO_MX_SUFFIXES = (_EXO_MX_SUFFIX, ".mx.microsoft", ".mail.protection.office365.us",
                    ".mail.protection.partner.outlook.cn")
_AUTODISCOVER = "autodiscover.outlook.com"
_EXO_SPF = "spf.protection.outlook.com"
_SPF_LOOKUP_LIMIT = 10  # RFC 7208 section 4.6.4
_VIANET_MSOID = "clientconfig.partner.microsoftonline-p.net.cn"

#: Issuer name fragments (organisation or CN, lower case) -> the CAA issuer domains that CA
#: publishes (each CA documents its own value; these are the commonly documented ones). A CA not
#: listed here is "unknown": dns.caa warns and never passes on a guess. Extend per run with
#: dns.certificate_caa_domains.
CAA_ISSUER_DOMAINS: dict[str, tuple[str, ...]] = {
    "digicert": ("digicert.com", "www.digicert.com"),
    "geotrust": ("digicert.com", "geotrust.com"),
    "thawte": ("digicert.com", "thawte.com"),
    "rapidssl": ("digicert.com", "rapidssl.com"),
    "let's encrypt": ("letsencrypt.org",),
    "sectigo": ("sectigo.com", "comodoca.com"),
    "comodo": ("sectigo.com", "comodoca.com"),
    "zerossl": ("sectigo.com",),
    "globalsign": ("globalsign.com",),
    "entrust": ("entrust.net",),
    "godaddy": ("godaddy.com",),
    "starfield": ("starfieldtech.com",),
    "amazon": ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"),
    "google trust services": ("pki.goog",),
    "buypass": ("buypass.com", "buypass.no"),
    "certum": ("certum.pl", "certum.eu"),
    "actalis": ("actalis.it",),
    "harica": ("harica.gr",),
    "ssl.com": ("ssl.com",),
}


def _domains_or_skip(ctx: CheckContext) -> tuple[str, ...] | Outcome:
    domains = ctx.config.federation.domains
    if not domains:
        return Outcome(Status.SKIP, "No federated domains are configured (federation.domains).")
    return domains


def _public_view(ctx: CheckContext) -> DnsView:
    """The external view, when it can stand for the internet's; CannotDetermine (error) when it is
    evidently the inside's (see ``inside_view_reason``)."""
    view = view_of(ctx, DNS_EXTERNAL_FACT)
    reason = inside_view_reason(ctx, view)
    if reason is not None:
        raise CannotDetermine(reason[:1].upper() + reason[1:] + ".", view_evidence(view))
    return view


def _view_lookup(view: DnsView, name: str, rdtype: str):
    lookup = view.find(name, rdtype)
    if lookup is None:
        raise CannotDetermine(f"{name} {rdtype} was not looked up in the {view.view} view.", view_evidence(view))
    return lookup


@check(
    id="dns.m365-verification",
    title="Microsoft 365 domain verification TXT record",
    area=Area.DNS,
    severity=Severity.LOW,
    blocker=False,
    requires=(DNS_EXTERNAL_FACT,),
    optional=(DNS_INTERNAL_FACT,),
    rule="Each federated domain publishes the Microsoft 365 verification TXT record MS=ms... (equal to "
         "dns.m365_verification.<domain> when configured).",
    remediation="In the Microsoft 365 admin center, Settings > Domains > <domain>, copy the TXT value "
                "(MS=ms...) and publish it at the domain's apex in the internet zone.",
    references=(REF_M365_EXTERNAL_DNS, REF_M365_DNS_ANY_HOST),
)
def m365_verification(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per domain: PASS when an MS=ms TXT record is there (the configured one when set); FAIL when
    the configured value is absent or the domain does not exist; WARN when none is published and
    none is configured; ERROR when the lookup could not be made; SKIP without domains."""
    domains = _domains_or_skip(ctx)
    if isinstance(domains, Outcome):
        return domains
    view = _public_view(ctx)
    outcomes = []
    for domain in domains:
        lookup = _view_lookup(view, domain, "TXT")
        expected = ctx.config.dns.m365_verification.get(domain)
        evidence = {**view_evidence(view), "domain": domain, "expected": expected, "lookup": lookup_evidence(lookup)}
        if not lookup.outcome.answered:
            outcomes.append(failed_lookup_outcome(lookup, view, f"the verification record of {domain}", domain))
            continue
        if lookup.outcome in (DnsOutcome.NXDOMAIN, DnsOutcome.DANGLING_CNAME, DnsOutcome.CNAME_LOOP):
            outcomes.append(Outcome(Status.FAIL, f"{domain}: {lookup.describe()}; Microsoft 365 cannot verify it.",
                                    evidence=evidence, target=domain))
            continue
        values = [r for r in lookup.records if r.strip().upper().startswith("MS=MS")]
        evidence["verification_values"] = values
        if expected:
            if expected in values:
                outcomes.append(Outcome(Status.PASS, f"{domain} publishes the expected verification record {expected}.",
                                        evidence=evidence, target=domain))
            else:
                found = ", ".join(values) or "none"
                outcomes.append(Outcome(Status.FAIL, f"{domain} does not publish the expected verification record "
                                                     f"{expected} (found: {found}).", evidence=evidence, target=domain))
        elif values:
            outcomes.append(Outcome(Status.PASS, f"{domain} publishes the verification record {', '.join(values)}.",
                                    evidence=evidence, target=domain))
        else:
            outcomes.append(Outcome(Status.WARN, f"{domain} publishes no MS=ms... verification TXT record; Microsoft 365 "
                                                 f"needs it to verify the domain (set dns.m365_verification to check "
                                                 f"the exact value).", evidence=evidence, target=domain))
    return outcomes


def _spf_nodes(tree: SpfRecordTree):
    yield tree
    for child in tree.children:
        yield from _spf_nodes(child)


def _spf_evidence(tree: SpfRecordTree) -> dict:
    return {"domain": tree.domain, "record": tree.record, "dns_terms": list(tree.dns_terms),
            "dns_lookup_count": tree.dns_lookup_count, "problems": list(tree.problems),
            "permerror": tree.permerror, "void_lookups": tree.void_lookups,
            "children": [_spf_evidence(c) for c in tree.children]}


def _mail_findings(view: DnsView, domain: str) -> tuple[list[str], list[str], list[str], dict]:
    """(failures, warnings, could-not-determine reasons, evidence) for one domain's mail records."""
    fails: list[str] = []
    warns: list[str] = []
    errors: list[str] = []
    mx = _view_lookup(view, domain, "MX")
    auto = _view_lookup(view, f"autodiscover.{domain}", "A")
    tree = view.spf_for(domain)
    evidence: dict = {"mx": lookup_evidence(mx), "autodiscover": lookup_evidence(auto),
                      "spf": _spf_evidence(tree) if tree else None}
    if not mx.outcome.answered:
        errors.append(f"MX: {mx.describe()}")
    elif mx.outcome is DnsOutcome.ANSWER:
        hosts = [r.split()[-1] for r in mx.records]
        if not any(h.endswith(_EXO_MX_SUFFIXES) for h in hosts):
            warns.append(f"MX points to {', '.join(hosts)}, not Exchange Online (<token>{_EXO_MX_SUFFIX} or "
                         f"<domain>-<hash>.<x>-v1.mx.microsoft) (mail reaches Exchange Online "
                         f"only if that system forwards it)")
        elif len(hosts) > 1:
            warns.append(f"several MX records ({', '.join(hosts)}); Microsoft recommends a single one to Exchange Online")
    else:
        fails.append(f"no MX record ({mx.describe()}): mail for {domain} cannot be delivered")
    if not auto.outcome.answered:
        errors.append(f"autodiscover: {auto.describe()}")
    elif auto.cname_chain and auto.cname_chain[0].target == _AUTODISCOVER and auto.outcome is DnsOutcome.ANSWER:
        pass
    elif auto.outcome is DnsOutcome.ANSWER:
        what = chain_text(auto) or f"autodiscover.{domain} is a host record"
        warns.append(f"{what}, not a CNAME to {_AUTODISCOVER} (right only while mailboxes are on-premises, hybrid)")
    else:
        warns.append(f"autodiscover: {auto.describe()}: Outlook cannot find Exchange Online by itself")
    if tree is None:
        errors.append("SPF: the SPF record was not looked up")
    elif not tree.lookup.outcome.answered:
        errors.append(f"SPF: {tree.lookup.describe()}")
    elif tree.record is None:
        warns.append("no SPF record (v=spf1): receivers cannot tell Exchange Online's mail from spoofed mail")
    else:
        if tree.spf_record_count > 1:
            fails.append(f"{tree.spf_record_count} SPF records: RFC 7208 section 4.5 makes that a permanent error, "
                         f"SPF fails for all mail")
        if tree.permerror is not None:
            fails.append(f"SPF evaluation ends in permerror: {tree.permerror}; receivers fail SPF for all mail")
        elif tree.dns_lookup_count > _SPF_LOOKUP_LIMIT:
            fails.append(f"the SPF record needs {tree.dns_lookup_count} DNS lookups, more than the "
                         f"{_SPF_LOOKUP_LIMIT} RFC 7208 section 4.6.4 allows: SPF fails (permerror)")
        if not any(node.domain == _EXO_SPF for node in _spf_nodes(tree)):
            warns.append(f"the SPF record does not include {_EXO_SPF}: mail sent by Exchange Online fails SPF")
        for node in _spf_nodes(tree):
            for problem in node.problems:
                warns.append(f"SPF {node.domain}: {problem}")
            if node is not tree and node.record is None and node.lookup.outcome.answered:
                warns.append(f"SPF include {node.domain} has no SPF record (permerror for receivers)")
    return fails, warns, errors, evidence


@check(
    id="dns.m365-mail",
    title="Exchange Online mail records (MX, autodiscover, SPF)",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_EXTERNAL_FACT,),
    optional=(DNS_INTERNAL_FACT,),
    rule="When Exchange Online is in scope, each federated domain has an MX record to Exchange Online "
         "(<token>.mail.protection.outlook.com, or the DNSSEC-signed <domain>-<hash>.<x>-v1.mx.microsoft of domains "
         "added since August 2025), autodiscover.<domain> as a CNAME to autodiscover.outlook.com, and "
         "exactly one SPF record that includes spf.protection.outlook.com and needs at most 10 DNS lookups "
         "(RFC 7208 section 4.6.4).",
    remediation="Publish the records the Microsoft 365 admin center lists for the domain: MX <token>.mail.protection."
                "outlook.com, CNAME autodiscover -> autodiscover.outlook.com, and one TXT record "
                "v=spf1 include:spf.protection.outlook.com ... -all. Merge several SPF records into one and replace "
                "nested includes by ip4:/ip6: ranges when the lookup count exceeds 10.",
    references=(REF_M365_EXTERNAL_DNS, REF_SMTP_DANE, REF_RFC7208),
)
def m365_mail(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per domain: FAIL for no MX, several SPF records or more than 10 SPF lookups; WARN for an MX
    elsewhere, a missing or other autodiscover, no SPF or no Exchange Online include; ERROR when a
    record could not be looked up and nothing failed; PASS otherwise. SKIP when Exchange Online is
    out of scope or no domain is configured. (SPF's mx/ptr address lookups are not counted.)"""
    if not ctx.config.scope.exchange_online:
        return Outcome(Status.SKIP, "Exchange Online is not in scope (scope.exchange_online).")
    domains = _domains_or_skip(ctx)
    if isinstance(domains, Outcome):
        return domains
    view = _public_view(ctx)
    outcomes = []
    for domain in domains:
        fails, warns, errors, evidence = _mail_findings(view, domain)
        evidence = {**view_evidence(view), "domain": domain, **evidence, "failures": fails, "warnings": warns,
                    "could_not_determine": errors}
        if fails:
            status, items = Status.FAIL, fails + warns
        elif errors:
            status, items = Status.ERROR, errors + warns
        elif warns:
            status, items = Status.WARN, warns
        else:
            count = view.spf_for(domain).dns_lookup_count  # type: ignore[union-attr]
            outcomes.append(Outcome(Status.PASS, f"{domain}: MX to Exchange Online, autodiscover CNAME to "
                                                 f"{_AUTODISCOVER}, one SPF record including {_EXO_SPF} "
                                                 f"({count} DNS lookups of {_SPF_LOOKUP_LIMIT}).",
                                    evidence=evidence, target=domain))
            continue
        outcomes.append(Outcome(status, f"{domain}: " + "; ".join(items) + ".", evidence=evidence, target=domain))
    return outcomes


@check(
    id="dns.msoid",
    title="No msoid CNAME (unless the tenant is operated by 21Vianet)",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_EXTERNAL_FACT,),
    optional=(DNS_INTERNAL_FACT,),
    rule="No federated domain has an msoid CNAME: it is only for Office 365 operated by 21Vianet; elsewhere users "
         "get a \"custom domain isn't in our system\" error and cannot activate Microsoft 365 Apps.",
    remediation="Delete the msoid record from the domain's internet zone: on a Windows DNS server, "
                "Remove-DnsServerResourceRecord -ZoneName <domain> -Name 'msoid' -RRType CName -Force (at a DNS "
                "hosting provider, in its portal). It is a leftover of old Office 365 setup instructions; keep it only "
                "when the tenant is operated by 21Vianet, where it must point to "
                "clientconfig.partner.microsoftonline-p.net.cn.",
    references=(REF_M365_EXTERNAL_DNS,),
)
def msoid(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per domain: PASS without msoid; FAIL for an msoid CNAME (dangling or not); INFO for the
    21Vianet target; WARN for a host record named msoid; ERROR when the lookup could not be made."""
    domains = _domains_or_skip(ctx)
    if isinstance(domains, Outcome):
        return domains
    view = _public_view(ctx)
    outcomes = []
    for domain in domains:
        name = f"msoid.{domain}"
        lookup = _view_lookup(view, name, "A")
        evidence = {**view_evidence(view), "name": name, "lookup": lookup_evidence(lookup)}
        if not lookup.outcome.answered:
            outcomes.append(failed_lookup_outcome(lookup, view, f"whether {name} exists", domain))
        elif lookup.cname_chain:
            if lookup.cname_chain[0].target == _VIANET_MSOID:
                outcomes.append(Outcome(Status.INFO, f"{name} is the 21Vianet CNAME to {_VIANET_MSOID}: right only "
                                                     f"if the tenant is operated by 21Vianet.",
                                        evidence=evidence, target=domain))
            else:
                outcomes.append(Outcome(Status.FAIL, f"{chain_text(lookup)}: outside 21Vianet this makes Microsoft 365 "
                                                     f"Apps activation fail for users of {domain}.",
                                        evidence={**evidence, **_msoid_commands(domain, "CName")}, target=domain))
        elif lookup.outcome is DnsOutcome.ANSWER:
            outcomes.append(Outcome(Status.WARN, f"{name} has host records ({', '.join(lookup.records)}): perhaps a "
                                                 f"wildcard record; no msoid name should exist.",
                                    evidence={**evidence, **_msoid_commands(domain, "A")}, target=domain))
        else:
            outcomes.append(Outcome(Status.PASS, f"{domain} has no msoid record ({lookup.describe()}).",
                                    evidence=evidence, target=domain))
    return outcomes


def _msoid_commands(domain: str, record_type: str) -> dict[str, list[str]]:
    """The DnsServer cmdlet that deletes msoid.<domain> from a Windows DNS zone named after the
    domain (https://learn.microsoft.com/powershell/module/dnsserver/remove-dnsserverresourcerecord)."""
    if not plain_dns_name(domain):
        return {}
    return {"commands": [f"Remove-DnsServerResourceRecord -ZoneName '{domain}' -Name 'msoid' -RRType {record_type} "
                         f"-Force"]}


def _srv_commands(missing: bool, unresolved: list[str]) -> dict[str, list[str]]:
    """Netlogon's own ways to fix DC locator records (nltest, Windows Commands reference): have every
    DC register its records again (the DC locator records Netlogon.dns lists), and deregister those of
    a domain controller that is gone (the AD forest recovery guide uses nltest /dsderegdns after
    metadata cleanup)."""
    commands = (["Invoke-Command -ComputerName (Get-ADDomainController -Filter *).HostName -ScriptBlock "
                 "{ nltest /dsregdns }"] if missing else [])
    commands += [f"nltest /dsderegdns:{host}" for host in unresolved if plain_dns_name(host)][:MAX_COMMANDS]
    return {"commands": commands} if commands else {}


def _stale_srv_remediation(unresolved: list[str]) -> str:
    """The fix when some SRV targets do not resolve: deregistering is right only for a domain
    controller that is gone (after its metadata cleanup, as the AD forest recovery guide does); a
    live one whose A record is missing registers it again instead. Said in that order so the action
    plan's line and its nltest /dsderegdns command agree."""
    hosts = ", ".join(unresolved)
    return (f"If {hosts} is a domain controller that is gone, remove its DC locator records after its metadata "
            f"cleanup: nltest /dsderegdns:<its DNS host name>. If it is still a domain controller, have it register "
            f"its DNS records again (ipconfig /registerdns, then restart the Netlogon service on it) and check that the "
            f"AD-integrated zone allows secure dynamic updates.")


@check(
    id="dns.ad-srv",
    title="Active Directory DC locator SRV records",
    area=Area.DNS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(DNS_INTERNAL_FACT,),
    rule="Inside, _ldap._tcp.dc._msdcs.<AD domain>, _kerberos._tcp.<AD domain> and _gc._tcp.<forest root> exist "
         "and every target they name resolves (AD FS finds domain controllers, and clients find the KDC, this way).",
    remediation="Have every domain controller register its SRV records again: Invoke-Command -ComputerName "
                "(Get-ADDomainController -Filter *).HostName -ScriptBlock { nltest /dsregdns } (or restart the Netlogon "
                "service on each; it registers what %SystemRoot%\\System32\\Config\\Netlogon.dns lists), check that "
                "the AD-integrated zone allows secure dynamic updates, and remove the records of a decommissioned domain "
                "controller after its metadata cleanup with nltest /dsderegdns:<its DNS host name>.",
    references=(REF_SRV_RECORDS,),
)
def ad_srv(ctx: CheckContext) -> Outcome | list[Outcome]:
    """Per SRV name: PASS when it exists and all targets resolve; WARN when some targets do not
    resolve; FAIL when it is missing or no target resolves; ERROR when a lookup could not be made;
    SKIP when no AD domain is configured."""
    domain = ctx.config.directory.ad_dns_domain
    if not domain:
        return Outcome(Status.SKIP, "No Active Directory domain is configured (directory.ad_domain, or "
                                    "directory.base_dn).")
    forest = ctx.config.directory.forest_root or domain
    view = view_of(ctx, DNS_INTERNAL_FACT)
    outcomes = []
    for name in (f"_ldap._tcp.dc._msdcs.{domain}", f"_kerberos._tcp.{domain}", f"_gc._tcp.{forest}"):
        srv = _view_lookup(view, name, "SRV")
        evidence = {**view_evidence(view), "name": name, "srv": lookup_evidence(srv)}
        if not srv.outcome.answered:
            outcomes.append(failed_lookup_outcome(srv, view, f"the SRV record {name}", name))
            continue
        if srv.outcome is not DnsOutcome.ANSWER:
            outcomes.append(Outcome(Status.FAIL, f"{name}: {srv.describe()}: clients cannot locate domain controllers "
                                                 f"through it.", evidence={**evidence, **_srv_commands(True, [])},
                                    target=name))
            continue
        targets = [r.split()[-1] for r in srv.records if r.split()[-1] not in ("", ".")]
        resolved, unresolved, unknown = [], [], []
        target_evidence = []
        for host in targets:
            a, aaaa = view.find(host, "A"), view.find(host, "AAAA")
            target_evidence.append({"target": host, "a": lookup_evidence(a), "aaaa": lookup_evidence(aaaa)})
            if any(lk is not None and lk.outcome is DnsOutcome.ANSWER for lk in (a, aaaa)):
                resolved.append(host)
            elif a is None or not a.outcome.answered or (aaaa is not None and not aaaa.outcome.answered):
                unknown.append(host)
            else:
                unresolved.append(host)
        evidence["targets"] = target_evidence
        if unresolved and not resolved:
            # No target resolves: have the DCs register again; deregistering every one of them would
            # leave the domain without locator records.
            outcomes.append(Outcome(Status.FAIL, f"{name} names {', '.join(unresolved)}, none of which resolves.",
                                    evidence={**evidence, **_srv_commands(True, [])}, target=name))
        elif unresolved:
            outcomes.append(Outcome(Status.WARN, f"{name} names {', '.join(unresolved)}, which do(es) not resolve "
                                                 f"(a decommissioned domain controller?); {', '.join(resolved)} "
                                                 f"resolve(s).", evidence={**evidence, **_srv_commands(False, unresolved)},
                                    target=name, remediation=_stale_srv_remediation(unresolved)))
        elif unknown:
            outcomes.append(Outcome(Status.ERROR, f"{name} exists, but whether {', '.join(unknown)} resolve(s) could "
                                                  f"not be determined (the lookup failed).",
                                    evidence=evidence, target=name))
        else:
            outcomes.append(Outcome(Status.PASS, f"{name} names {', '.join(resolved)}, all resolvable.",
                                    evidence=evidence, target=name))
    return outcomes


_CAA = re.compile(r'^(?P<flags>\d+)\s+(?P<tag>[a-z0-9]+)\s+"(?P<value>.*)"$', re.IGNORECASE)


def _caa_issuer(value: str) -> str:
    """The issuer-domain-name of an issue/issuewild value (RFC 8659 section 4.2), lower case;
    "" for a value that permits no CA (";")."""
    return value.split(";", 1)[0].strip().lower()


def _certificate(fact: FederationMetadata) -> CertificateInfo | None:
    fetch = fact.fetch
    if fetch is None or fetch.tls is None or not fetch.tls.chain:
        return None
    return fetch.tls.chain[0]


def _issuer_domains(cert: CertificateInfo, configured: tuple[str, ...]) -> list[str]:
    issuer = (cert.issuer or "").lower()
    found: dict[str, None] = dict.fromkeys(configured)
    for fragment, domains in CAA_ISSUER_DOMAINS.items():
        if fragment in issuer:
            found.update(dict.fromkeys(domains))
    return list(found)


def _covered_by_wildcard_only(cert: CertificateInfo, fs: str) -> bool:
    names = [n.lower().rstrip(".") for n in cert.san_dns]
    if fs in names:
        return False
    parent = fs.split(".", 1)[1] if "." in fs else ""
    return f"*.{parent}" in names


@check(
    id="dns.caa",
    title="CAA records permit the SSL certificate's issuer",
    area=Area.DNS,
    severity=Severity.LOW,
    blocker=False,
    requires=(DNS_EXTERNAL_FACT, METADATA_FACT),
    optional=(DNS_INTERNAL_FACT,),
    rule="Where CAA records exist for the federation service name (the first non-empty CAA set climbing from the "
         "name towards the root, RFC 8659 section 3), they permit the CA that issued the current SSL certificate, "
         "so that it can be renewed there.",
    remediation="Add a CAA record permitting your CA at the name or domain that carries the CAA set, e.g. "
                "contoso.com. CAA 0 issue \"digicert.com\" (issuewild for a wildcard certificate), or renew the "
                "certificate at a permitted CA. If the CA is not recognised, set dns.certificate_caa_domains to the "
                "CAA domain your CA documents.",
    references=(REF_RFC8659,),
)
def caa(ctx: CheckContext) -> Outcome:
    """PASS when no CAA set exists or it permits the issuer; FAIL when it does not (or has an
    unknown critical property); WARN when the issuer's CAA domain is unknown; ERROR when a CAA
    lookup failed or no certificate was captured while CAA records exist."""
    fs = service_name_or_skip(ctx)
    if isinstance(fs, Outcome):
        return fs
    view = _public_view(ctx)
    labels = fs.split(".")
    climbed = []
    relevant = None
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        lookup = view.find(name, "CAA")
        if lookup is None:
            break
        climbed.append(lookup)
        if not lookup.outcome.answered:
            return failed_lookup_outcome(lookup, view, f"the CAA records of {name}",
                                         extra={"climb": [lookup_evidence(lk) for lk in climbed]})
        if lookup.outcome is DnsOutcome.ANSWER:
            relevant = lookup
            break
    evidence = {**view_evidence(view), "climb": [lookup_evidence(lk) for lk in climbed]}
    if relevant is None:
        if not climbed:
            raise CannotDetermine(f"The CAA records of {fs} were not looked up.", evidence)
        return Outcome(Status.PASS, f"No CAA records from {fs} up to {climbed[-1].name}: any CA may issue its "
                                    f"certificate.", evidence=evidence)
    properties = [m.groupdict() for m in (_CAA.match(r) for r in relevant.records) if m]
    evidence["caa_owner"] = relevant.name
    evidence["caa_records"] = list(relevant.records)
    critical = [p for p in properties if int(p["flags"]) & 128 and p["tag"].lower() not in ("issue", "issuewild", "iodef")]
    if critical:
        return Outcome(Status.FAIL, f"The CAA set at {relevant.name} has a critical property this tool and CAs may not "
                                    f"understand ({', '.join(p['tag'] for p in critical)}): a CA must then refuse to "
                                    f"issue (RFC 8659 section 4.5).", evidence=evidence)
    cert = _certificate(ctx.fact(METADATA_FACT))
    if cert is None:
        return Outcome(Status.ERROR, f"CAA records exist at {relevant.name} ({'; '.join(relevant.records)}), but no SSL "
                                     f"certificate was captured to compare (the metadata was read from a file or "
                                     f"its fetch failed).", evidence=evidence)
    wildcard = _covered_by_wildcard_only(cert, fs)
    tag = "issue"
    if wildcard and any(p["tag"].lower() == "issuewild" for p in properties):
        tag = "issuewild"
    permitted_values = [_caa_issuer(p["value"]) for p in properties if p["tag"].lower() == tag]
    issuer_domains = _issuer_domains(cert, ctx.config.dns.certificate_caa_domains)
    evidence.update({"certificate_issuer": cert.issuer, "certificate_sha1": cert.sha1, "wildcard": wildcard,
                     "property": tag, "permitted": [v for v in permitted_values if v],
                     "issuer_caa_domains": issuer_domains})
    if not permitted_values:
        return Outcome(Status.PASS, f"The CAA set at {relevant.name} has no {tag} property: it does not restrict "
                                    f"which CA issues {'wildcard ' if wildcard else ''}certificates.", evidence=evidence)
    permitted = [v for v in permitted_values if v]
    if not issuer_domains:
        return Outcome(Status.WARN, f"The CAA set at {relevant.name} permits {', '.join(permitted) or 'no CA'}; the "
                                    f"certificate's issuer ({cert.issuer}) is not a CA this tool can map to a CAA "
                                    f"domain, so whether it may renew the certificate is unknown (set "
                                    f"dns.certificate_caa_domains).", evidence=evidence)
    allowed = sorted(set(issuer_domains) & set(permitted))
    if allowed:
        return Outcome(Status.PASS, f"The CAA set at {relevant.name} permits {', '.join(allowed)}, the CA that issued "
                                    f"the SSL certificate ({cert.issuer}).", evidence=evidence)
    permits = ", ".join(permitted) or 'no CA (";")'
    return Outcome(Status.FAIL, f"The CAA set at {relevant.name} permits only {permits}, "
                                f"but the SSL certificate was issued by {cert.issuer} "
                                f"({', '.join(issuer_domains)}): that CA must refuse to renew it.", evidence=evidence)
