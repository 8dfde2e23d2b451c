"""Checks of the AD FS server configuration (the ``adfs.*`` ids of CHECKS.md), judged on the export
the bundled PowerShell collector writes (:class:`~adfs_readiness.facts.adfs_export.AdfsExport`,
key ``adfs_export``; ``--adfs-export FILE``). A field the export lacks or cannot be read makes the
check that needs it ``error`` with the reason; ``adfs.export-readable`` lists every such problem.
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check, days_left
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT

from ._adfs_common import NO_EXPORT, export_of, need
from ._refs_entra import (
    REF_ENTRA_TRUST,
    REF_EXTRANET_LOCKOUT,
    REF_RENEW_FEDERATION_CERTS,
    REF_SECURING_ADFS,
    REF_SET_ADFSENDPOINT,
    REF_SET_ADFSPROPERTIES,
    REF_TS_TD_CERTS,
)

O365_IDENTIFIER = "urn:federation:MicrosoftOnline"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#: Endpoints Microsoft 365 sign-in needs enabled and published through the proxy.
REQUIRED_PROXY_ENDPOINTS = ("/adfs/ls/", "/FederationMetadata/2007-06/FederationMetadata.xml",
                            "/adfs/services/trust/mex", "/adfs/services/trust/2005/usernamemixed",
                            "/adfs/services/trust/13/usernamemixed")
WINDOWSTRANSPORT = ("/adfs/services/trust/2005/windowstransport", "/adfs/services/trust/13/windowstransport")
#: The directory fact key (the directory area); read only when the engine passes it (see extranet_lockout).
_DIRECTORY_FACT = "directory"
_ROLLOVER_FAIL_DAYS = 35
_WID_NODE_LIMIT, _WID_RP_LIMIT = 30, 100

_NO_EXPORT = NO_EXPORT
_export = export_of
_need = need


@check(id="adfs.export-readable", title="AD FS export complete and readable", area=Area.ADFS, severity=Severity.LOW,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="The export has every section (properties, certificates, endpoints, trusts, farm) with readable values.",
       remediation="Re-run the bundled collector on an AD FS server (primary node) as an AD FS administrator: "
                   "adfs-readiness collector > collect-adfs.ps1; .\\collect-adfs.ps1 -Path adfs-export.json.",
       references=(REF_SECURING_ADFS,))
def export_readable(ctx: CheckContext) -> Outcome:
    """PASS without problems; WARN listing missing sections, unreadable or unknown values; FAIL
    when the file could not be read as JSON at all."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    evidence = {"source": export.source, "collector_version": export.collector_version,
                "computer_name": export.computer_name, "problems": list(export.problems),
                "servers": [{"server": s.label, "role": s.role, "file": s.source} for s in export.servers]}
    if export.properties is None and export.certificates is None and export.endpoints is None:
        return Outcome(Status.FAIL, f"The AD FS export {export.source} could not be used: "
                                    f"{'; '.join(export.problems)}.", evidence=evidence)
    if export.problems:
        return Outcome(Status.WARN, f"The AD FS export has {len(export.problems)} problem(s): "
                                    f"{'; '.join(export.problems[:5])}.", evidence=evidence)
    if len(export.servers) > 1:
        return Outcome(Status.PASS, f"The AD FS exports of {len(export.servers)} servers "
                                    f"({', '.join(s.label for s in export.servers)}) are complete.", evidence=evidence)
    return Outcome(Status.PASS, f"The AD FS export from {export.computer_name or 'the server'} is complete.",
                   evidence=evidence)


@check(id="adfs.auto-certificate-rollover", title="Automatic certificate rollover", area=Area.ADFS,
       severity=Severity.HIGH, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule=f"AutoCertificateRollover is on; when off, a primary token-signing certificate with fewer than "
            f"{_ROLLOVER_FAIL_DAYS} days left is a fail.",
       remediation="Set-AdfsProperties -AutoCertificateRollover $true, or (with certificates from your own CA) plan "
                   "the manual renewal: add the new certificate as secondary, update Entra ID "
                   "(Update-MgDomainFederationConfiguration) and promote it before the old one expires.",
       references=(REF_TS_TD_CERTS, REF_RENEW_FEDERATION_CERTS))
def auto_certificate_rollover(ctx: CheckContext) -> Outcome:
    """PASS when on; when off: FAIL if the primary token-signing certificate has fewer than 35 days
    left, else WARN (manual renewal must be planned)."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    props = _need(export.properties, "its properties", export)
    on = _need(props.auto_certificate_rollover, "AutoCertificateRollover", export)
    if on:
        return Outcome(Status.PASS, "AutoCertificateRollover is on.", evidence={"AutoCertificateRollover": True})
    primary = next(((c, c.certificate.not_after) for c in export.certificates or ()
                    if c.certificate_type.lower() == "token-signing" and c.is_primary and c.certificate is not None
                    and c.certificate.not_after is not None), None)
    if primary is None:
        raise CannotDetermine("AutoCertificateRollover is off and the export has no primary token-signing certificate "
                              "with an expiry date.")
    entry, not_after = primary
    left = days_left(not_after, ctx.now)
    evidence = {"AutoCertificateRollover": False, "primary_token_signing": entry.thumbprint,
                "not_after": not_after.isoformat(), "days_left": left}
    if left < _ROLLOVER_FAIL_DAYS:
        return Outcome(Status.FAIL, f"AutoCertificateRollover is off and the primary token-signing certificate has "
                                    f"{left} days left: renew it by hand now.", evidence=evidence)
    return Outcome(Status.WARN, f"AutoCertificateRollover is off; the primary token-signing certificate has {left} "
                                f"days left: its renewal must be done by hand.", evidence=evidence)


@check(id="adfs.o365-relying-party", title="Microsoft Office 365 Identity Platform relying party", area=Area.ADFS,
       severity=Severity.CRITICAL, blocker=True, requires=(ADFS_EXPORT_FACT,),
       rule=f"A relying-party trust with identifier {O365_IDENTIFIER} exists, is enabled and signs with RSA-SHA256.",
       remediation="Create or repair the trust with Microsoft Entra Connect (Federation > Repair trust), or "
                   "Enable-AdfsRelyingPartyTrust -TargetIdentifier urn:federation:MicrosoftOnline; "
                   "Set-AdfsRelyingPartyTrust -TargetIdentifier urn:federation:MicrosoftOnline -SignatureAlgorithm "
                   "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256.",
       references=(REF_ENTRA_TRUST,))
def o365_relying_party(ctx: CheckContext) -> Outcome:
    """FAIL (blocking) when the trust is missing or disabled; WARN (not blocking) when it signs with
    RSA-SHA1; PASS otherwise."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    trusts = _need(export.relying_parties, "its relying-party trusts", export)
    trust = next((t for t in trusts if O365_IDENTIFIER.lower() in (i.lower() for i in t.identifiers)), None)
    if trust is None:
        return Outcome(Status.FAIL, f"No relying-party trust has the identifier {O365_IDENTIFIER}: AD FS issues no "
                                    f"token for Microsoft 365.", evidence={"relying_parties": [t.name for t in trusts]})
    evidence = {"name": trust.name, "enabled": trust.enabled, "signature_algorithm": trust.signature_algorithm}
    if trust.enabled is False:
        return Outcome(Status.FAIL, f"The relying-party trust {trust.name!r} is disabled.", evidence=evidence)
    if (trust.signature_algorithm or "").lower() != RSA_SHA256:
        return Outcome(Status.WARN, f"The relying-party trust {trust.name!r} signs with "
                                    f"{trust.signature_algorithm or 'an unknown algorithm'}, not RSA-SHA256.",
                       evidence=evidence, blocker=False)
    return Outcome(Status.PASS, f"The relying-party trust {trust.name!r} is enabled and signs with RSA-SHA256.",
                   evidence=evidence)


def judge_lockout(adfs_threshold: int, domain_threshold: int | None) -> tuple[Status, str]:
    """Compare AD FS's ExtranetLockoutThreshold with the domain's lockoutThreshold (0 = AD never
    locks out). Returns (status, sentence). AD FS must lock the extranet out first, so its
    threshold must be lower than AD's (Microsoft Learn, AD FS Extranet Lockout)."""
    if domain_threshold is None:
        return Status.INFO, (f"Extranet lockout is on with threshold {adfs_threshold}; the domain's lockoutThreshold "
                             f"was not read (no [directory] configured), so the two were not compared.")
    if domain_threshold == 0:
        return Status.PASS, (f"Extranet lockout threshold {adfs_threshold}; the domain never locks accounts out "
                             f"(lockoutThreshold 0).")
    if adfs_threshold < domain_threshold:
        return Status.PASS, (f"Extranet lockout threshold {adfs_threshold} is below the domain's lockoutThreshold "
                             f"{domain_threshold}.")
    return Status.FAIL, (f"Extranet lockout threshold {adfs_threshold} is not below the domain's lockoutThreshold "
                         f"{domain_threshold}: attackers on the internet can lock AD accounts out.")


@check(id="adfs.extranet-lockout", title="Extranet lockout below the AD lockout threshold", area=Area.ADFS,
       severity=Severity.MEDIUM, blocker=False, requires=(ADFS_EXPORT_FACT,), optional=(_DIRECTORY_FACT,),
       rule="Extranet (smart) lockout is enabled, with a threshold below the domain's lockoutThreshold (read over "
            "LDAP when the directory is configured).",
       remediation="Set-AdfsProperties -EnableExtranetLockout $true -ExtranetLockoutThreshold <below the AD "
                   "threshold> -ExtranetObservationWindow (New-TimeSpan -Minutes 30); on AD FS 2016+ prefer Extranet "
                   "Smart Lockout (-ExtranetLockoutMode AdfsSmartLockoutEnforce).",
       references=(REF_EXTRANET_LOCKOUT, REF_SET_ADFSPROPERTIES))
def extranet_lockout(ctx: CheckContext) -> Outcome:
    """WARN when extranet lockout is off; otherwise :func:`judge_lockout`. The domain threshold
    comes from the directory fact (``lockout_threshold``) when the engine passes it, else INFO."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    props = _need(export.properties, "its properties", export)
    enabled = _need(props.enable_extranet_lockout, "EnableExtranetLockout", export)
    evidence: dict[str, Any] = {"EnableExtranetLockout": enabled, "ExtranetLockoutThreshold": props.extranet_lockout_threshold,
                                "ExtranetLockoutMode": props.extranet_lockout_mode,
                                "ExtranetObservationWindow": props.extranet_observation_window}
    if not enabled:
        return Outcome(Status.WARN, "Extranet lockout is off: password attacks through the proxy reach AD and can "
                                    "lock accounts out.", evidence=evidence)
    threshold = _need(props.extranet_lockout_threshold, "ExtranetLockoutThreshold", export)
    directory = ctx.facts.get(_DIRECTORY_FACT)
    domain_threshold = getattr(directory, "lockout_threshold", None) if getattr(directory, "configured", False) else None
    evidence["domain_lockout_threshold"] = domain_threshold
    status, summary = judge_lockout(threshold, domain_threshold)
    return Outcome(status, summary, evidence=evidence)


@check(id="adfs.endpoint-exposure", title="Endpoints enabled and published as needed", area=Area.ADFS,
       severity=Severity.HIGH, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="The endpoints Microsoft 365 needs are enabled and proxy-enabled; windowstransport is not proxy-enabled.",
       remediation="Set-AdfsEndpoint -TargetAddressPath <path> -Proxy $true for the required endpoints (Enable-AdfsEndpoint "
                   "first when disabled); Set-AdfsEndpoint -TargetAddressPath <windowstransport path> -Proxy $false.",
       references=(REF_SECURING_ADFS, REF_SET_ADFSENDPOINT))
def endpoint_exposure(ctx: CheckContext) -> Outcome:
    """FAIL when a windowstransport endpoint is enabled and proxy-enabled; WARN when a required
    endpoint is missing, disabled or not proxy-enabled; PASS otherwise."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    endpoints = {e.address_path.lower(): e for e in _need(export.endpoints, "its endpoints", export)}
    exposed = [p for p in WINDOWSTRANSPORT if (e := endpoints.get(p.lower())) and e.enabled and e.proxy]
    unpublished = [p for p in REQUIRED_PROXY_ENDPOINTS
                   if not ((e := endpoints.get(p.lower())) and e.enabled and e.proxy)]
    evidence = {"windowstransport_proxy_enabled": exposed, "required_not_published": unpublished,
                "endpoints": {e.address_path: {"enabled": e.enabled, "proxy": e.proxy} for e in endpoints.values()
                              if e.address_path.lower() in {p.lower() for p in REQUIRED_PROXY_ENDPOINTS + WINDOWSTRANSPORT}}}
    if exposed:
        return Outcome(Status.FAIL, f"Published through the proxy: {', '.join(exposed)} (Windows authentication from "
                                    f"the internet, without extranet lockout).", evidence=evidence)
    if unpublished:
        return Outcome(Status.WARN, f"Not enabled and published through the proxy: {', '.join(unpublished)}.",
                       evidence=evidence)
    return Outcome(Status.PASS, "The required endpoints are published; windowstransport is not.", evidence=evidence)


@check(id="adfs.audit", title="Success and failure audits logged", area=Area.ADFS, severity=Severity.LOW,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="LogLevel includes SuccessAudits and FailureAudits. (The Windows side — the audit policy for "
            "Application Generated events and the 'Generate security audits' right of the AD FS service account — "
            "is not in the export; the finding reminds to verify it.)",
       remediation="Set-AdfsProperties -LogLevel ((Get-AdfsProperties).LogLevel + 'SuccessAudits','FailureAudits'); "
                   "then on every AD FS server: auditpol.exe /set /subcategory:\"Application Generated\" "
                   "/failure:enable /success:enable, and make sure the AD FS service account holds the "
                   "'Generate security audits' user right (Local Security Policy, User Rights Assignment).",
       references=(REF_SET_ADFSPROPERTIES, REF_SECURING_ADFS))
def audit(ctx: CheckContext) -> Outcome:
    """PASS when both audit levels are logged, WARN naming the missing ones."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    levels = _need(_need(export.properties, "its properties", export).log_level, "LogLevel", export)
    missing = [a for a in ("SuccessAudits", "FailureAudits") if a.lower() not in (x.lower() for x in levels)]
    evidence = {"LogLevel": list(levels), "missing": missing}
    if missing:
        return Outcome(Status.WARN, f"LogLevel lacks {', '.join(missing)}: sign-ins are not audited.", evidence=evidence)
    return Outcome(Status.PASS, "AD FS's LogLevel includes SuccessAudits and FailureAudits; the Windows audit "
                                "policy (auditpol: Application Generated) is not in the export, so verify it on "
                                "each server.", evidence=evidence)


@check(id="adfs.extended-protection", title="Extended Protection for authentication", area=Area.ADFS,
       severity=Severity.MEDIUM, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="ExtendedProtectionTokenCheck is Allow or Require.",
       remediation="Set-AdfsProperties -ExtendedProtectionTokenCheck Require (Allow when some clients cannot do it).",
       references=(REF_SECURING_ADFS, REF_SET_ADFSPROPERTIES))
def extended_protection(ctx: CheckContext) -> Outcome:
    """PASS for Allow/Require, WARN for None, ERROR for a value that is not one of the three names
    (e.g. a bare enum number from ConvertTo-Json)."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    value = _need(_need(export.properties, "its properties", export).extended_protection_token_check,
                  "ExtendedProtectionTokenCheck", export)
    evidence = {"ExtendedProtectionTokenCheck": value}
    if value.lower() in ("allow", "require"):
        return Outcome(Status.PASS, f"ExtendedProtectionTokenCheck is {value}.", evidence=evidence)
    if value.lower() == "none":
        return Outcome(Status.WARN, "ExtendedProtectionTokenCheck is None: Windows authentication tokens are not bound "
                                    "to the TLS channel.", evidence=evidence)
    raise CannotDetermine(f"ExtendedProtectionTokenCheck has the unknown value {value!r}.", evidence)


@check(id="adfs.trust-certificates", title="Trust certificates not expired", area=Area.ADFS, severity=Severity.MEDIUM,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="Relying-party and claims-provider trust certificates are not expired and have at least "
            "thresholds.trust_certificate_warn_days (30) left.",
       remediation="Update the trust's certificates from the partner's metadata (Update-AdfsRelyingPartyTrust / "
                   "Update-AdfsClaimsProviderTrust) or set the new certificate by hand.",
       references=(REF_TS_TD_CERTS,))
def trust_certificates(ctx: CheckContext) -> list[Outcome] | Outcome:
    """FAIL per expired certificate, WARN per certificate within the threshold, one PASS when all
    are fine (or when no trust carries a certificate)."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    trusts = list(_need(export.relying_parties, "its relying-party trusts", export))
    trusts += list(export.claims_providers or ())
    warn_days = ctx.config.thresholds.trust_certificate_warn_days
    outcomes, checked = [], 0
    for trust in trusts:
        for prop, cert in trust.certificates:
            if cert.not_after is None:
                continue
            checked += 1
            left = days_left(cert.not_after, ctx.now)
            evidence = {"trust": trust.name, "kind": trust.kind, "property": prop, "sha1": cert.sha1,
                        "subject": cert.subject, "not_after": cert.not_after.isoformat(), "days_left": left}
            if left < 0:
                outcomes.append(Outcome(Status.FAIL, f"{trust.name}: {prop} {cert.label} expired {-left} days ago.",
                                        evidence=evidence, target=f"{trust.name}/{cert.sha1}"))
            elif left < warn_days:
                outcomes.append(Outcome(Status.WARN, f"{trust.name}: {prop} {cert.label} expires in {left} days.",
                                        evidence=evidence, target=f"{trust.name}/{cert.sha1}"))
    if not outcomes:
        outcomes.append(Outcome(Status.PASS, f"{checked} trust certificate(s), none expired or within {warn_days} days.",
                                evidence={"checked": checked, "trusts": len(trusts)}))
    return outcomes


@check(id="adfs.farm-limits", title="Windows Internal Database farm limits", area=Area.ADFS, severity=Severity.LOW,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule=f"A WID farm has at most {_WID_NODE_LIMIT} nodes and {_WID_RP_LIMIT} relying-party trusts.",
       remediation="Beyond these numbers Microsoft supports only a SQL Server configuration database: migrate the farm "
                   "to SQL Server.",
       references=(REF_SECURING_ADFS,))
def farm_limits(ctx: CheckContext) -> Outcome:
    """WARN when a WID farm exceeds the limits; PASS within them or on SQL Server; INFO when the
    database type is unknown."""
    export = _export(ctx)
    if export is None:
        return _NO_EXPORT
    farm = _need(export.farm, "its farm information", export)
    relying_parties = len(export.relying_parties or ())
    evidence = {"database": farm.database, "nodes": list(farm.nodes), "relying_parties": relying_parties,
                "behavior_level": farm.behavior_level}
    if farm.database is None:
        return Outcome(Status.INFO, f"{len(farm.nodes)} node(s), {relying_parties} relying parties; the configuration "
                                    f"database type is unknown.", evidence=evidence)
    if farm.database == "WID" and (len(farm.nodes) > _WID_NODE_LIMIT or relying_parties > _WID_RP_LIMIT):
        return Outcome(Status.WARN, f"WID farm with {len(farm.nodes)} nodes and {relying_parties} relying parties: "
                                    f"beyond what WID supports.", evidence=evidence)
    return Outcome(Status.PASS, f"{farm.database} farm with {len(farm.nodes)} node(s) and {relying_parties} relying "
                                f"parties.", evidence=evidence)
