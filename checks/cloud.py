"""Checks of the Entra ID side (the ``cloud.*`` ids of CHECKS.md): what Microsoft's realm
discovery says about each domain, which tenant the domains belong to, and whether Entra's
federation settings (Graph ``internalDomainFederation``) match what AD FS publishes — above all
the token-signing certificates, whose mismatch after a rollover is the classic tenant-wide outage
(AADSTS50008).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check
from adfs_readiness.facts import METADATA_FACT, CertificateInfo
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AdfsExport
from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT, REALM_FACT, EntraFederationFacts, RealmFacts

from ._common import primary_certificate, require_document, token_signing_certificates
from ._issuer import (
    CERTAIN_MISMATCH,
    AdfsIdentifier,
    IssuerForUser,
    adfs_identifier,
    compare_issuers,
    issuer_for_user,
    multiple_domain_issuer,
    o365_trust,
    parent_domain,
    sample_upn,
)
from ._refs_entra import (
    REF_ENTRA_TRUST,
    REF_GET_MG_FEDERATION,
    REF_INTERNAL_DOMAIN_FEDERATION,
    REF_MULTIPLE_DOMAINS,
    REF_RENEW_FEDERATION_CERTS,
    REF_UPDATE_MG_FEDERATION,
)

_NO_DOMAINS = ("No federated domains are configured (federation.domains), or realm discovery is off "
               "([cloud] realm_discovery = false).")
_NO_ENTRA = ("No Entra federation settings are configured: give [cloud] entra_export (a JSON file from "
             "Get-MgDomainFederationConfiguration) or tenant_id and client_id for live Microsoft Graph.")


def _realm(ctx: CheckContext) -> RealmFacts | None:
    facts: RealmFacts = ctx.fact(REALM_FACT)
    return facts if facts.configured else None


def _entra(ctx: CheckContext) -> EntraFederationFacts:
    facts: EntraFederationFacts = ctx.fact(ENTRA_FEDERATION_FACT)
    if facts.configured and not facts.domains:
        # Problems mean the settings could not be read (no secret, Graph refused): saying they
        # "hold no domain configuration" then would misdirect the admin to Entra.
        raise CannotDetermine(f"the Entra federation settings could not be read: {'; '.join(facts.problems)}"
                              if facts.problems else "the Entra federation settings hold no domain configuration",
                              {"source": facts.source, "problems": list(facts.problems),
                               "not_federated": list(facts.not_federated)})
    return facts


def _host(url: str | None) -> str | None:
    try:
        return (urlsplit(url).hostname or "").lower() or None if url else None
    except ValueError:
        return None


def _cert(cert: CertificateInfo | None) -> dict[str, Any] | None:
    if cert is None:
        return None
    return {"sha1": cert.sha1, "subject": cert.subject, "not_after": cert.not_after.isoformat() if cert.not_after else None}


@check(id="cloud.realm-discovery", title="Realm discovery says the domain is federated with this service",
       area=Area.CLOUD, severity=Severity.CRITICAL, blocker=True, requires=(REALM_FACT,),
       rule="For each domain, Microsoft's realm discovery (getuserrealm.srf) answers Federated with AuthURL on the "
            "federation service name; Managed = info (not yet federated); federated elsewhere or unknown = fail.",
       remediation="Federate the domain with this service (New-MgDomainFederationConfiguration or Microsoft Entra "
                   "Connect), or correct its passiveSignInUri (Update-MgDomainFederationConfiguration). A domain "
                   "Microsoft does not know must first be added and verified in the tenant.",
       references=(REF_ENTRA_TRUST, REF_UPDATE_MG_FEDERATION))
def realm_discovery(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Microsoft's realm discovery answers per domain (the made-up user need not exist):
    NameSpaceType Federated with AuthURL (where browsers are sent), Managed (cloud
    authentication) or Unknown (no tenant has the domain). PASS / INFO / FAIL as the rule says;
    ERROR when no usable answer came back."""
    facts = _realm(ctx)
    if facts is None:
        return Outcome(Status.SKIP, _NO_DOMAINS)
    outcomes = []
    for realm in facts.realms:
        evidence = {"url": realm.exchange.url, "login_host": facts.login_host, "status": realm.exchange.status,
                    "namespace_type": realm.namespace_type, "auth_url": realm.auth_url,
                    "sts_auth_url": realm.sts_auth_url, "mex_url": realm.mex_url,
                    "expected_host": facts.service_name}
        kind = (realm.namespace_type or "").lower()
        if realm.parse_error or not kind:
            outcomes.append(Outcome(Status.ERROR, f"Realm discovery for {realm.domain} gave no usable answer: "
                                                  f"{realm.parse_error or 'no NameSpaceType'}.",
                                    evidence=evidence, target=realm.domain))
        elif kind == "managed":
            outcomes.append(Outcome(Status.INFO, f"{realm.domain} is Managed (cloud authentication): not yet "
                                                 f"federated.", evidence=evidence, target=realm.domain))
        elif kind == "federated" and _host(realm.auth_url) == (facts.service_name or "").lower():
            outcomes.append(Outcome(Status.PASS, f"{realm.domain} is federated with {facts.service_name}.",
                                    evidence=evidence, target=realm.domain))
        elif kind == "federated":
            outcomes.append(Outcome(Status.FAIL, f"{realm.domain} is federated with {_host(realm.auth_url)!s}, not "
                                                 f"with {facts.service_name}: its users are sent elsewhere.",
                                    evidence=evidence, target=realm.domain))
        else:
            outcomes.append(Outcome(Status.FAIL, f"Microsoft does not know {realm.domain} (NameSpaceType "
                                                 f"{realm.namespace_type}): add and verify it in the tenant.",
                                    evidence=evidence, target=realm.domain))
    return outcomes


@check(id="cloud.tenant", title="Every domain belongs to the same tenant", area=Area.CLOUD, severity=Severity.MEDIUM,
       blocker=False, requires=(REALM_FACT,),
       rule="OpenID Connect discovery (/<domain>/v2.0/.well-known/openid-configuration) gives the same tenant id "
            "for every configured domain.",
       remediation="A domain of another tenant cannot be federated from this one: remove it there (or federate it "
                   "from that tenant). A domain no tenant knows must be added and verified first.",
       references=(REF_ENTRA_TRUST,))
def tenant(ctx: CheckContext) -> Outcome:
    """The issuer of each domain's discovery document is ``https://<login host>/<tenant id>/v2.0``;
    an unknown domain gets HTTP 400 with AADSTS90002. PASS when all domains share one tenant, FAIL
    when they differ, WARN when some domain is unknown, ERROR when none could be read."""
    facts = _realm(ctx)
    if facts is None:
        return Outcome(Status.SKIP, _NO_DOMAINS)
    by_domain = {t.domain: t.tenant_id for t in facts.tenants}
    evidence = {"tenants": by_domain, "errors": {t.domain: t.error_code or t.parse_error for t in facts.tenants
                                                 if not t.tenant_id}}
    ids = {i for i in by_domain.values() if i}
    unknown = [d for d, i in by_domain.items() if not i]
    if not ids:
        raise CannotDetermine("No domain's tenant id could be read.", evidence)
    if len(ids) > 1:
        return Outcome(Status.FAIL, f"The domains belong to {len(ids)} different tenants: {by_domain}.", evidence=evidence)
    if unknown:
        return Outcome(Status.WARN, f"Tenant {next(iter(ids))}; no tenant found for {', '.join(unknown)}.",
                       evidence=evidence)
    return Outcome(Status.PASS, f"Every domain belongs to tenant {next(iter(ids))}.", evidence=evidence)


@check(id="cloud.signing-cert-match", title="Entra trusts AD FS's token-signing certificate", area=Area.CLOUD,
       severity=Severity.CRITICAL, blocker=True, requires=(METADATA_FACT, ENTRA_FEDERATION_FACT),
       rule="For each domain, Entra's signingCertificate or nextSigningCertificate is AD FS's primary token-signing "
            "certificate; a published successor should be Entra's other certificate.",
       remediation="Push AD FS's current token-signing certificates to Entra ID: Update-MgDomainFederationConfiguration "
                   "-DomainId <domain> -InternalDomainFederationId <id> -SigningCertificate <primary, base64> "
                   "-NextSigningCertificate <successor, base64> (or the Entra Connect federation trust repair). "
                   "Then make sure the metadata URL is reachable from the internet, so that Entra picks up the next "
                   "rollover by itself.",
       references=(REF_RENEW_FEDERATION_CERTS, REF_INTERNAL_DOMAIN_FEDERATION, REF_UPDATE_MG_FEDERATION))
def signing_cert_match(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Entra ID accepts tokens signed by either certificate it holds for a domain. FAIL (blocking:
    every federated sign-in fails with AADSTS50008) when AD FS's primary is neither; WARN when the
    primary matches but a successor AD FS publishes is not held (the next promotion breaks sign-in
    unless Entra picks it up from the metadata); PASS otherwise; SKIP without Entra settings."""
    entra = _entra(ctx)
    if not entra.configured:
        return Outcome(Status.SKIP, _NO_ENTRA)
    _, doc = require_document(ctx)
    certs = token_signing_certificates(doc)
    if not certs:
        raise CannotDetermine("The federation metadata lists no token-signing certificate.")
    primary, how = primary_certificate(doc, certs)
    if not primary.decodable:
        raise CannotDetermine(f"The primary token-signing certificate in the metadata is unreadable "
                              f"({'; '.join(primary.problems)}), so it cannot be compared with Entra's.")
    successors = [c for c in certs if c.sha1 != primary.sha1 and c.decodable]
    outcomes = []
    for fed in entra.domains:
        held = {c.sha1 for c in (fed.signing_certificate, fed.next_signing_certificate) if c is not None and c.sha1}
        evidence = {"adfs_primary": _cert(primary), "primary_decided_by": how,
                    "adfs_successors": [_cert(c) for c in successors],
                    "entra_signing_certificate": _cert(fed.signing_certificate),
                    "entra_next_signing_certificate": _cert(fed.next_signing_certificate),
                    "source": entra.source, "problems": list(fed.certificate_problems)}
        if primary.sha1 not in held:
            outcomes.append(Outcome(Status.FAIL, f"Entra ID does not trust AD FS's primary token-signing certificate "
                                                 f"{primary.label} for {fed.domain}: it holds "
                                                 f"{', '.join(sorted(held)) or 'no certificate'}. Every federated "
                                                 f"sign-in fails (AADSTS50008).", evidence=evidence, target=fed.domain))
        elif successors and not any(s.sha1 in held for s in successors):
            outcomes.append(Outcome(Status.WARN, f"Entra ID trusts the primary for {fed.domain}, but not the successor "
                                                 f"{successors[0].label} AD FS already publishes: the promotion will "
                                                 f"break sign-in unless Entra picks it up.",
                                    evidence=evidence, target=fed.domain))
        else:
            outcomes.append(Outcome(Status.PASS, f"Entra ID trusts AD FS's primary token-signing certificate for "
                                                 f"{fed.domain}" + (" and its successor." if successors else "."),
                                    evidence=evidence, target=fed.domain))
    return outcomes


@check(id="cloud.issuer-uri", title="Issuer URI per domain", area=Area.CLOUD, severity=Severity.CRITICAL,
       blocker=True, requires=(ENTRA_FEDERATION_FACT,), optional=(METADATA_FACT, ADFS_EXPORT_FACT),
       rule="Each domain's issuerUri is the issuer AD FS gives its users' tokens: with an AD FS export, what the "
            "Microsoft 365 trust's issuerid rule makes of a UPN of the domain (or, without such a rule, AD FS's "
            "identifier); otherwise one of the forms Microsoft documents: AD FS's identifier (the metadata's "
            "entityID, else the export's Identifier, else federation.expected_issuer; never an assumed default) or, "
            "with SupportMultipleDomain, http://<domain>/adfs/services/trust/. A subdomain inherits its parent's; no "
            "two other domains share one.",
       remediation="Entra ID matches the issuerid claim AD FS issues (or, without one, the token's Issuer: AD FS's "
                   "identifier) against the user's domain issuerUri (AADSTS50107 when they differ). With several "
                   "top-level domains, every domain needs its own http://<domain>/adfs/services/trust/ issuerUri and "
                   "the Microsoft Office 365 Identity Platform relying party needs the multiple-domain issuerid claim "
                   "rule (Microsoft Entra Connect sets both); a subdomain needs the rule that strips the subdomain. "
                   "Read AD FS's identifier with (Get-AdfsProperties).Identifier and Entra's value with "
                   "Get-MgDomainFederationConfiguration -DomainId <domain>.",
       references=(REF_MULTIPLE_DOMAINS, REF_INTERNAL_DOMAIN_FEDERATION))
def issuer_uri(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per domain (Microsoft Learn, "Multiple Domain Support for Federating with Microsoft Entra ID";
    see ``_issuer``). With the Microsoft 365 trust's issuance rules from an AD FS export: PASS when
    the issuer AD FS issues for a UPN of the domain is exactly the issuerUri Entra holds for it (a
    subdomain: its parent's), FAIL when it differs (AADSTS50107), WARN when it differs only by letter
    case or a trailing slash (Entra's tolerance of that is not documented). Without the rules: PASS
    for AD FS's identifier (entityID, export, or configured; never assumed) or the documented
    SupportMultipleDomain form; WARN for near misses, for a subdomain of a SupportMultipleDomain
    parent (it needs the subdomain rule) and when both styles are mixed (only a rule listing the
    domains serves both); ERROR when the value could only be AD FS's identifier and that was not
    read; FAIL for anything else, for a subdomain that does not carry its parent's value, and for
    two unrelated domains sharing one issuerUri."""
    entra = _entra(ctx)
    if not entra.configured:
        return Outcome(Status.SKIP, _NO_ENTRA)
    identifier = adfs_identifier(ctx)
    export = ctx.facts.get(ADFS_EXPORT_FACT)
    trust = o365_trust(export if isinstance(export, AdfsExport) else None)
    rules = trust.issuance_rules if trust is not None and trust.issuance_rules is not None \
        and not trust.issuance_rules.parse_error else None
    by_domain = {f.domain: (f.issuer_uri or "") for f in entra.domains}
    names = set(by_domain)
    styles = {domain: _issuer_style(domain, uri, by_domain, names, identifier) for domain, uri in by_domain.items()}
    mixed = rules is None and {"identifier", "multiple"} <= set(styles.values())
    outcomes = []
    for domain, uri in sorted(by_domain.items()):
        parent = parent_domain(domain, names)
        sharing = sorted(d for d, u in by_domain.items() if d != domain and u and u == uri
                         and parent_domain(d, names) != domain and parent != d
                         and not (parent_domain(d, names) and parent_domain(d, names) == parent))
        evidence: dict[str, Any] = {"issuer_uri": uri, "adfs_identifier": identifier.value,
                                    "adfs_identifier_source": identifier.source, "style": styles[domain],
                                    "parent": parent, "shared_with": sharing,
                                    "multiple_domain_form": multiple_domain_issuer(domain)}
        if sharing:
            outcomes.append(Outcome(Status.FAIL, f"{domain} shares its issuerUri {uri!r} with {', '.join(sharing)}.",
                                    evidence=evidence, target=domain))
            continue
        if parent and uri != by_domain[parent]:
            outcomes.append(Outcome(Status.FAIL, f"{domain}'s issuerUri is {uri!r}, expected its parent {parent}'s "
                                                 f"({by_domain[parent]!r}): a subdomain inherits its parent's settings; "
                                                 f"sign-in fails with AADSTS50107.", evidence=evidence, target=domain))
            continue
        needed = by_domain[parent] if parent else uri
        issued = issuer_for_user(rules, sample_upn(domain), identifier) if rules is not None else None
        if issued is not None and issued.value is not None:
            outcomes.append(_judge_issued(domain, needed, issued, evidence, trust.name if trust else ""))
            continue
        if issued is not None:
            evidence["issuerid_not_computed"] = issued.how
        outcomes.append(_judge_documented(domain, uri, parent, styles, identifier, mixed, evidence,
                                          by_domain.get(parent or "", "")))
    return outcomes


def _issuer_style(domain: str, uri: str, by_domain: dict[str, str], names: set[str],
                  identifier: AdfsIdentifier) -> str:
    parent = parent_domain(domain, names)
    if parent:
        return "inherits" if uri == by_domain[parent] else "wrong"
    if identifier.value is not None and uri == identifier.value:
        return "identifier"
    if uri == multiple_domain_issuer(domain):
        return "multiple"
    return "other"


def _judge_issued(domain: str, needed: str, issued: IssuerForUser, evidence: dict[str, Any], trust: str) -> Outcome:
    """Entra's issuerUri for the domain's users against what AD FS's rules issue for them."""
    assert issued.value is not None
    evidence.update(adfs_issues=issued.value, how=issued.how, issuerid_rule=issued.rule)
    difference = compare_issuers(issued.value, needed)
    if difference is None:
        return Outcome(Status.PASS, f"{domain}'s issuerUri {needed!r} is what AD FS issues for its users ({issued.how}).",
                       evidence=evidence, target=domain)
    if difference in CERTAIN_MISMATCH:
        return Outcome(Status.FAIL, f"Entra ID holds {needed!r} for {domain}, but AD FS issues {issued.value!r} for its "
                                    f"users ({issued.how}; trust {trust!r}): sign-in fails with AADSTS50107.",
                       evidence=evidence, target=domain)
    return Outcome(Status.WARN, f"Entra ID holds {needed!r} for {domain} and AD FS issues {issued.value!r} ({issued.how}): "
                                f"they differ only by {difference}, which Entra ID may refuse (AADSTS50107): make "
                                f"them the same.", evidence=evidence, target=domain)


def _judge_documented(domain: str, uri: str, parent: str | None, styles: dict[str, str], identifier: AdfsIdentifier,
                      mixed: bool, evidence: dict[str, Any], parent_uri: str) -> Outcome:
    """Entra's issuerUri against the forms Microsoft documents (the claim rules are not known)."""
    style = styles[domain]
    if style == "inherits":
        if styles.get(parent or "") == "multiple":
            return Outcome(Status.WARN, f"{domain} inherits its parent's issuerUri {parent_uri!r}: its users sign in "
                                        f"only when the issuerid rule strips the subdomain (Microsoft's subdomain "
                                        f"rule); the plain SupportMultipleDomain rule issues "
                                        f"{multiple_domain_issuer(domain)!r} and sign-in fails (AADSTS50107). Give an "
                                        f"AD FS export to have the rule checked.", evidence=evidence, target=domain)
        return Outcome(Status.PASS, f"{domain} inherits its parent {parent}'s issuerUri {uri!r}.", evidence=evidence,
                       target=domain)
    if style in ("identifier", "multiple"):
        what = (f"AD FS's identifier ({identifier.source})" if style == "identifier"
                else "the SupportMultipleDomain form Microsoft documents")
        if mixed:
            other = "SupportMultipleDomain" if style == "identifier" else "identifier"
            others = sorted(d for d, s in styles.items() if s == ("multiple" if style == "identifier" else "identifier"))
            return Outcome(Status.WARN, f"{domain}'s issuerUri {uri!r} is {what}, while {', '.join(others)} use the "
                                        f"{other} style: both work together only when the Microsoft 365 trust's "
                                        f"issuerid rule issues http://<domain>/adfs/services/trust/ just for users of "
                                        f"the SupportMultipleDomain domains (Entra Connect's rule lists them); the plain "
                                        f"rule on Microsoft's page gives every user one, and the identifier-style "
                                        f"domains then fail (AADSTS50107). Give an AD FS export to have the rule "
                                        f"checked.", evidence=evidence, target=domain)
        return Outcome(Status.PASS, f"{domain}'s issuerUri {uri!r} is {what}.", evidence=evidence, target=domain)
    near = [(form, how, difference) for form, how in ((identifier.value, "AD FS's identifier"),
                                                      (multiple_domain_issuer(domain), "the SupportMultipleDomain form"))
            if form is not None and (difference := compare_issuers(uri, form)) not in (None, "different")]
    if near:
        form, how, difference = near[0]
        return Outcome(Status.WARN, f"{domain}'s issuerUri {uri!r} differs from {how} {form!r} only by {difference}: "
                                    f"Entra ID compares the issuer as a string, so sign-in may fail (AADSTS50107) "
                                    f"unless AD FS issues exactly this value.", evidence=evidence, target=domain)
    if not identifier.known:
        return Outcome(Status.ERROR, f"{domain}'s issuerUri {uri!r} is not the SupportMultipleDomain form "
                                     f"{multiple_domain_issuer(domain)!r}; whether it is AD FS's identifier could not be "
                                     f"determined: {identifier.source}.", evidence=evidence, target=domain)
    return Outcome(Status.FAIL, f"{domain}'s issuerUri is {uri!r}, expected AD FS's identifier {identifier.value!r} "
                                f"({identifier.source}) or {multiple_domain_issuer(domain)!r}; sign-in fails with "
                                f"AADSTS50107.", evidence=evidence, target=domain)


_EXPECTED_PATHS = (("passive_sign_in_uri", "/adfs/ls/", True),
                   ("active_sign_in_uri", "/adfs/services/trust/", False),
                   ("metadata_exchange_uri", "/adfs/services/trust/mex", False),
                   ("sign_out_uri", "/adfs/ls/", False))


@check(id="cloud.sign-in-uris", title="Sign-in, MEX and sign-out URIs point at the federation service",
       area=Area.CLOUD, severity=Severity.HIGH, blocker=False, requires=(ENTRA_FEDERATION_FACT,),
       rule="passiveSignInUri https://<fs>/adfs/ls/, activeSignInUri https://<fs>/adfs/services/trust/…"
            "/usernamemixed, metadataExchangeUri https://<fs>/adfs/services/trust/mex, signOutUri https://<fs>/adfs/ls/. "
            "A wrong or empty passiveSignInUri blocks single sign-on: Entra ID sends every browser sign-in of the "
            "domain there; the other URIs serve rich clients and sign-out (a failure that does not block).",
       remediation="Correct the URIs with Update-MgDomainFederationConfiguration (or re-run the Entra Connect "
                   "federation configuration) so every URI uses https and the federation service name.",
       references=(REF_INTERNAL_DOMAIN_FEDERATION, REF_GET_MG_FEDERATION))
def sign_in_uris(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per domain: FAIL when a URI is on another host, not https, or on the wrong path (blocking
    when it is the passiveSignInUri, where Entra ID redirects every browser sign-in); WARN when an
    optional URI (active, MEX, sign-out) is missing; PASS otherwise. Hosts compare as DNS compares
    them (case-insensitive, a trailing dot ignored); without a configured federation service name
    the URIs must all name one host."""
    entra = _entra(ctx)
    if not entra.configured:
        return Outcome(Status.SKIP, _NO_ENTRA)
    configured = (ctx.config.federation.service_name or "").lower().rstrip(".")
    outcomes = []
    for fed in entra.domains:
        wrong, missing, seen = [], [], {}
        passive_wrong = False
        # Without a configured name, the passive URI's host is the service the domain is federated with.
        fs = configured or (_host(fed.passive_sign_in_uri) or "").rstrip(".")
        for attr, path, required in _EXPECTED_PATHS:
            value = getattr(fed, attr)
            seen[attr] = value
            if not value:
                (wrong if required else missing).append(f"{attr} is empty")
                passive_wrong = passive_wrong or required
                continue
            try:
                parts = urlsplit(value.strip())
                host = (parts.hostname or "").rstrip(".")
            except ValueError:
                parts, host = None, ""
            if parts is None or parts.scheme.lower() != "https" or host != fs or \
                    not parts.path.lower().startswith(path):
                wrong.append(f"{attr} = {value}")
                passive_wrong = passive_wrong or required
        evidence = {"uris": seen, "federation_service": fs or None, "wrong": wrong, "missing": missing,
                    "federation_service_source": "federation.service_name" if configured else "passiveSignInUri"}
        if wrong:
            why = (" Entra ID sends every browser sign-in of the domain to the passiveSignInUri, so federated users "
                   "of the domain cannot sign in." if passive_wrong else "")
            outcomes.append(Outcome(Status.FAIL, f"{fed.domain}: {'; '.join(wrong)} (expected https://{fs or '<fs>'}/…)."
                                                 f"{why}", evidence=evidence, target=fed.domain, blocker=passive_wrong))
        elif missing:
            outcomes.append(Outcome(Status.WARN, f"{fed.domain}: {'; '.join(missing)}.", evidence=evidence,
                                    target=fed.domain))
        else:
            outcomes.append(Outcome(Status.PASS, f"{fed.domain}'s URIs point at {fs}.", evidence=evidence,
                                    target=fed.domain))
    return outcomes


@check(id="cloud.mfa-behavior", title="Federated MFA and prompt-login behaviour", area=Area.CLOUD,
       severity=Severity.INFO, blocker=False, requires=(ENTRA_FEDERATION_FACT,),
       rule="Reports federatedIdpMfaBehavior and promptLoginBehavior per domain.",
       remediation="federatedIdpMfaBehavior decides whether Entra accepts MFA done by AD FS "
                   "(acceptIfMfaDoneByFederatedIdp), requires it there (enforceMfaByFederatedIdp) or always does its "
                   "own (rejectMfaByFederatedIdp); choose deliberately before moving MFA to Entra ID.",
       references=(REF_INTERNAL_DOMAIN_FEDERATION,))
def mfa_behavior(ctx: CheckContext) -> list[Outcome] | Outcome:
    """INFO per domain with both values as Entra holds them (absent = Entra's default)."""
    entra = _entra(ctx)
    if not entra.configured:
        return Outcome(Status.SKIP, _NO_ENTRA)
    return [Outcome(Status.INFO, f"{f.domain}: federatedIdpMfaBehavior {f.federated_idp_mfa_behavior or '(not set)'}, "
                                 f"promptLoginBehavior {f.prompt_login_behavior or '(not set)'}.",
                    evidence={"federatedIdpMfaBehavior": f.federated_idp_mfa_behavior,
                              "promptLoginBehavior": f.prompt_login_behavior,
                              "preferredAuthenticationProtocol": f.preferred_authentication_protocol,
                              "unknown_fields": list(f.unknown_fields), "missing_fields": list(f.missing_fields)},
                    target=f.domain)
            for f in entra.domains]
