"""Checks of the token-signing and token-decrypting certificates published in the federation metadata.

Ids: ``token-signing.expiry``, ``token-signing.key``, ``token-signing.rollover`` and
``token-decrypting.expiry`` (CHECKS.md, metadata table). They read the certificates of the
:class:`~adfs_readiness.facts.FederationMetadata` fact; the primary token-signing certificate is
the one that verified the metadata signature, else the first listed in the STS RoleDescriptor
(see ``_common.primary_certificate``). Days are whole days from ``ctx.now``
(:func:`adfs_readiness.api.days_left`); thresholds come from ``ctx.config.thresholds``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check, days_left
from adfs_readiness.facts import METADATA_FACT, CertificateInfo
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT

from ._common import (
    REF_ADFS_REQUIREMENTS,
    REF_EMERGENCY_ROTATION,
    REF_RENEW_FEDERATION_CERTS,
    REF_SET_ADFSCERTIFICATE,
    REF_TS_TD_CERTS,
    REF_UPDATE_ADFSCERTIFICATE,
    REF_UPDATE_MG_FEDERATION,
    certificate_evidence,
    describe_days,
    primary_certificate,
    require_document,
    token_decrypting_certificates,
    token_signing_certificates,
)

_WEAK_HASHES = ("md5", "sha1")

_SIGNING_REMEDIATION = (
    "On the primary AD FS server run Get-AdfsCertificate -CertificateType Token-Signing and "
    "Get-AdfsProperties | Format-List AutoCertificateRollover, CertificateGenerationThreshold, "
    "CertificatePromotionThreshold. With AutoCertificateRollover on, start a rollover with "
    "Update-AdfsCertificate -CertificateType Token-Signing; add -Urgent only when the current certificate has "
    "expired or is compromised, because it makes the new certificate primary at once and every relying party "
    "that has not received it yet fails. With certificates from your own PKI (AutoCertificateRollover off), "
    "enroll a new certificate, grant the AD FS service account read access to its private key, run "
    "Add-AdfsCertificate -CertificateType Token-Signing -Thumbprint <new>, and once partners have it "
    "Set-AdfsCertificate -IsPrimary -CertificateType Token-Signing -Thumbprint <new>. Then make sure Entra ID "
    "has the new certificate: it reads the published federation metadata automatically when "
    "https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml is reachable from the internet; otherwise "
    "push it with Update-MgDomainFederationConfiguration -SigningCertificate / -NextSigningCertificate "
    "(Microsoft Graph PowerShell) or the Microsoft Entra Connect trust repair."
)


def _expiry_outcome(
    ctx: CheckContext,
    primary: CertificateInfo,
    others: list[CertificateInfo],
    *,
    what: str,
    fail_days: int,
    warn_days: int,
    block_when_expired: bool,
    extra: dict[str, Any],
) -> Outcome:
    """Judge ``primary`` against ``fail_days`` / ``warn_days``: FAIL when expired (blocking when
    ``block_when_expired``) or fewer than ``fail_days`` whole days left, WARN below ``warn_days``,
    else PASS. Raises CannotDetermine when the expiry date could not be decoded."""
    if primary.not_after is None:
        raise CannotDetermine(
            f"The {what} {primary.label} could not be decoded "
            f"({'; '.join(primary.problems) or 'no validity dates'}), so its expiry is unknown.",
            {"certificate": certificate_evidence(primary, ctx.now), **extra},
        )
    left = days_left(primary.not_after, ctx.now)
    expired = primary.not_after <= ctx.now
    evidence = {
        "certificate": certificate_evidence(primary, ctx.now),
        "other_certificates": [certificate_evidence(c, ctx.now) for c in others],
        "fail_days": fail_days,
        "warn_days": warn_days,
        **extra,
    }
    when = f"{describe_days(left, expired)} (not after {primary.not_after.isoformat()})"
    successor = _valid_successor(primary, others, ctx.now)
    if successor is not None:
        evidence["successor"] = certificate_evidence(successor, ctx.now)
    if expired:
        return Outcome(Status.FAIL, f"The {what} {primary.label} {when}.", evidence=evidence,
                       target=primary.sha1, blocker=block_when_expired, remediation=_expired_remediation(what))
    if primary.not_before is not None and primary.not_before > ctx.now:
        # A primary that is not valid yet is as unusable as an expired one: relying parties check
        # notBefore too (RFC 5280 4.1.2.5), so tokens signed with it are rejected until then.
        return Outcome(Status.FAIL, f"The {what} {primary.label} is not valid before "
                                    f"{primary.not_before.isoformat()}: relying parties reject it until then.",
                       evidence=evidence, target=primary.sha1, blocker=block_when_expired,
                       remediation=_expired_remediation(what))
    auto = _auto_rollover(ctx)
    if auto is not None:
        evidence["adfs_export"] = auto
    if left < fail_days:
        if successor is not None:
            # Published but not promoted this close to expiry: AD FS promotes a successor
            # CertificatePromotionThreshold (5) days after generating it at 20 days left.
            return Outcome(Status.FAIL, f"The {what} {primary.label} {when}: fewer than {fail_days} days left, "
                                        f"and its successor {successor.label} is published but not yet primary.",
                           evidence=evidence, target=primary.sha1, blocker=False,
                           remediation=_promote_remediation(what))
        return Outcome(Status.FAIL, f"The {what} {primary.label} {when}: fewer than {fail_days} days left.",
                       evidence=evidence, target=primary.sha1, blocker=False)
    if left < warn_days:
        if successor is not None:
            # A rollover under way is the healthy state of an AutoCertificateRollover farm at this point;
            # warning on it would alert every such farm for weeks each year.
            return Outcome(Status.INFO, f"The {what} {primary.label} {when}; its successor {successor.label} "
                                        f"is already published, so the rollover is under way.",
                           evidence=evidence, target=primary.sha1, remediation=_rollover_remediation(what))
        generation = (auto or {}).get("CertificateGenerationThreshold") or 20
        if auto and auto.get("AutoCertificateRollover") and left >= generation:
            # With AutoCertificateRollover on, no successor before CertificateGenerationThreshold is the
            # normal state: AD FS generates one then. Warning on it would alert healthy farms for weeks.
            return Outcome(Status.INFO, f"The {what} {primary.label} {when}; no successor is published yet, which "
                                        f"is expected: the AD FS export shows AutoCertificateRollover on, so AD FS "
                                        f"generates one when {generation} days are left.",
                           evidence=evidence, target=primary.sha1, remediation=_rollover_remediation(what))
        return Outcome(Status.WARN, f"The {what} {primary.label} {when}: fewer than {warn_days} days left "
                                    f"and no successor is published.",
                       evidence=evidence, target=primary.sha1)
    return Outcome(Status.PASS, f"The {what} {primary.label} {when}.", evidence=evidence, target=primary.sha1)


def _valid_successor(primary: CertificateInfo, others: list[CertificateInfo], now: datetime) -> CertificateInfo | None:
    """The published certificate that will take over from ``primary``: one that outlives it and
    has not expired (the latest-expiring of them), else None."""
    if primary.not_after is None:
        return None
    later = [c for c in others if c.not_after is not None and c.not_after > primary.not_after and c.not_after > now]
    return max(later, key=lambda c: c.not_after) if later else None


def _auto_rollover(ctx: CheckContext) -> dict[str, Any] | None:
    """AutoCertificateRollover and its thresholds from the AD FS server export, when one was read
    (an optional fact); None without an export."""
    export = ctx.facts.get(ADFS_EXPORT_FACT)
    props = getattr(export, "properties", None) if getattr(export, "configured", False) else None
    if props is None or props.auto_certificate_rollover is None:
        return None
    return {"AutoCertificateRollover": props.auto_certificate_rollover,
            "CertificateGenerationThreshold": props.certificate_generation_threshold,
            "CertificatePromotionThreshold": props.certificate_promotion_threshold}


def _expired_remediation(what: str) -> str:
    if "signing" not in what:
        return ("Replace it now: Update-AdfsCertificate -CertificateType Token-Decrypting -Urgent (AutoCertificateRollover "
                "on), or Add-AdfsCertificate and Set-AdfsCertificate -IsPrimary -CertificateType Token-Decrypting with "
                "your own certificate; then update every claims-provider trust partner that encrypts tokens to AD FS.")
    return ("Sign-in is down now: every relying party, Entra ID included, rejects tokens signed with an expired "
            "certificate. With AutoCertificateRollover on, run Update-AdfsCertificate -CertificateType Token-Signing "
            "-Urgent (it makes the new certificate primary at once); with your own PKI, Add-AdfsCertificate "
            "-CertificateType Token-Signing -Thumbprint <new> and Set-AdfsCertificate -IsPrimary -CertificateType "
            "Token-Signing -Thumbprint <new>. Then push the new certificate to Entra ID at once — do not wait for "
            "metadata polling: Update-MgDomainFederationConfiguration -SigningCertificate <base64> for each federated "
            "domain (Microsoft Graph PowerShell), or the Entra Connect federation trust repair — and send it to "
            "every other relying party.")


def _rollover_remediation(what: str) -> str:
    kind = "Token-Signing" if "signing" in what else "Token-Decrypting"
    return (f"Nothing to do in AD FS if AutoCertificateRollover is on: it promotes the successor "
            f"CertificatePromotionThreshold (5) days after generating it. Make sure every relying party has the "
            f"successor before then; for Entra ID, the successor must be its nextSigningCertificate (metadata "
            f"polling of https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml, or "
            f"Update-MgDomainFederationConfiguration -NextSigningCertificate). Check with Get-AdfsCertificate "
            f"-CertificateType {kind}.")


def _promote_remediation(what: str) -> str:
    kind = "Token-Signing" if "signing" in what else "Token-Decrypting"
    return (f"The successor should already be primary. Check Get-AdfsProperties | Format-List "
            f"AutoCertificateRollover, CertificatePromotionThreshold and the AD FS Admin event log. Once every "
            f"relying party (Entra ID: nextSigningCertificate) has the successor, make it primary with "
            f"Set-AdfsCertificate -IsPrimary -CertificateType {kind} -Thumbprint <successor>.")


def _signing_certificates(ctx: CheckContext) -> tuple[str, list[CertificateInfo], CertificateInfo, str]:
    """(source, every signing certificate, the primary, how the primary was chosen); raises
    CannotDetermine when no document was read or it lists no signing certificate."""
    fact, doc = require_document(ctx)
    certs = token_signing_certificates(doc)
    if not certs:
        raise CannotDetermine(f"The metadata from {fact.source} publishes no signing certificate, so there is no "
                              f"token-signing certificate to judge.", {"source": fact.source})
    primary, how = primary_certificate(doc, certs)
    return fact.source, certs, primary, how


@check(
    id="token-signing.expiry",
    title="Primary token-signing certificate expiry",
    area=Area.METADATA,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(METADATA_FACT,),
    optional=(ADFS_EXPORT_FACT,),
    rule="The primary token-signing certificate has not expired (fail, blocking SSO) and has at least "
         "token_signing_fail_days (14) days left (fail) and token_signing_warn_days (90) days left (warn). A "
         "published successor makes 'close to expiry' a rollover under way (info); so does an AD FS export showing "
         "AutoCertificateRollover on while more than CertificateGenerationThreshold (20) days are left.",
    remediation=_SIGNING_REMEDIATION,
    references=(REF_RENEW_FEDERATION_CERTS, REF_TS_TD_CERTS, REF_UPDATE_ADFSCERTIFICATE, REF_SET_ADFSCERTIFICATE,
                REF_UPDATE_MG_FEDERATION, REF_EMERGENCY_ROTATION),
)
def token_signing_expiry(ctx: CheckContext) -> Outcome:
    """FAIL (blocker) when the primary token-signing certificate has expired; FAIL (not blocking)
    below the fail threshold; WARN below the warn threshold; PASS otherwise. The other signing
    certificates are listed in the evidence."""
    source, certs, primary, how = _signing_certificates(ctx)
    thresholds = ctx.config.thresholds
    return _expiry_outcome(
        ctx, primary, [c for c in certs if c is not primary],
        what="primary token-signing certificate",
        fail_days=thresholds.token_signing_fail_days,
        warn_days=thresholds.token_signing_warn_days,
        block_when_expired=True,
        extra={"primary_selected_by": how, "source": source},
    )


@check(
    id="token-signing.key",
    title="Token-signing certificate key strength",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="Every token-signing certificate has an RSA key of at least min_rsa_bits (2048) bits (fail below) "
         "and a certificate signature that is not MD5 or SHA-1 (warn).",
    remediation="Replace the weak certificate: with AutoCertificateRollover on, Update-AdfsCertificate "
                "-CertificateType Token-Signing generates a new self-signed certificate (RSA 2048-bit, SHA-256 "
                "on Windows Server 2012 R2 and later); with your own PKI, enroll an RSA "
                "2048-bit (or larger) SHA-256 certificate and add it with Add-AdfsCertificate -CertificateType "
                "Token-Signing -Thumbprint <new>. Let Entra ID pick it up (metadata polling or "
                "Update-MgDomainFederationConfiguration) before making it primary.",
    references=(REF_ADFS_REQUIREMENTS, REF_TS_TD_CERTS, REF_UPDATE_ADFSCERTIFICATE),
)
def token_signing_key(ctx: CheckContext) -> list[Outcome]:
    """One Outcome per signing certificate (target = its SHA-1): FAIL for an RSA key below
    ``min_rsa_bits``, WARN for a non-RSA key or an MD5/SHA-1 certificate signature, ERROR when the
    certificate could not be decoded, PASS otherwise."""
    source, certs, primary, _ = _signing_certificates(ctx)
    minimum = ctx.config.thresholds.min_rsa_bits
    return [_key_outcome(cert, "primary" if cert is primary else "other", minimum, ctx.now, source)
            for cert in certs]


def _key_outcome(cert: CertificateInfo, role: str, minimum: int, now: datetime, source: str) -> Outcome:
    evidence = {**certificate_evidence(cert, now), "key_type": cert.public_key_type,
                "key_bits": cert.public_key_bits, "signature_hash": cert.signature_hash,
                "min_rsa_bits": minimum, "role": role, "source": source}
    if not cert.decodable or cert.public_key_type is None or cert.public_key_bits is None:
        return Outcome(Status.ERROR, f"The token-signing certificate {cert.label} could not be decoded "
                                     f"({'; '.join(cert.problems) or 'no public key'}); its key was not judged.",
                       evidence=evidence, target=cert.sha1)
    key = f"{cert.public_key_type} {cert.public_key_bits}-bit"
    # Key types are read as letters (an RSA, an EC, a DSA).
    a_key = f"{'an' if key[0] in 'AEFHILMNORSX' else 'a'} {key}"
    if cert.public_key_type == "RSA" and cert.public_key_bits < minimum:
        return Outcome(Status.FAIL, f"The token-signing certificate {cert.label} has {a_key} key, below the "
                                    f"{minimum}-bit minimum.", evidence=evidence, target=cert.sha1)
    warnings = []
    if cert.public_key_type != "RSA":
        warnings.append(f"{a_key} key, while AD FS signs tokens with RSA (rsa-sha256)")
    if (cert.signature_hash or "").lower() in _WEAK_HASHES:
        warnings.append(f"a certificate signature made with {cert.signature_hash.upper()} "
                        f"({cert.signature_algorithm}), which is deprecated")
    if warnings:
        return Outcome(Status.WARN, f"The token-signing certificate {cert.label} has {' and '.join(warnings)}.",
                       evidence=evidence, target=cert.sha1)
    return Outcome(Status.PASS, f"The token-signing certificate {cert.label} has {a_key} key and a "
                                f"{(cert.signature_hash or 'unknown').upper()} certificate signature.",
                   evidence=evidence, target=cert.sha1)


@check(
    id="token-signing.rollover",
    title="Token-signing certificate rollover",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="Two or more signing certificates mean a rollover is in progress (reported); a primary with fewer "
         "than rollover_warn_days (20, AD FS CertificateGenerationThreshold) days left and no successor "
         "published is a warning.",
    remediation="Generate the next token-signing certificate now: Update-AdfsCertificate -CertificateType "
                "Token-Signing on the primary AD FS server (with certificates from your own CA, add it with "
                "Add-AdfsCertificate -CertificateType Token-Signing -Thumbprint <thumbprint>), and make sure Entra ID "
                "receives it as nextSigningCertificate before it becomes primary (metadata polling, or "
                "Update-MgDomainFederationConfiguration -NextSigningCertificate). Then find out why it was missing: AD "
                "FS with AutoCertificateRollover generates the successor CertificateGenerationThreshold (20) days "
                "before expiry and promotes it CertificatePromotionThreshold (5) days later, so none this close to "
                "expiry means the automatic rollover is off or failing (Get-AdfsProperties | Format-List "
                "AutoCertificateRollover, CertificateGenerationThreshold, CertificatePromotionThreshold; the AD FS "
                "Admin event log).",
    references=(REF_TS_TD_CERTS, REF_RENEW_FEDERATION_CERTS, REF_UPDATE_ADFSCERTIFICATE, REF_UPDATE_MG_FEDERATION),
)
def token_signing_rollover(ctx: CheckContext) -> Outcome:
    """INFO when more than one signing certificate is published (primary, successor and previous
    certificates reported); WARN when the primary has fewer than ``rollover_warn_days`` whole days
    left and nothing newer is published; PASS for one certificate with time to spare."""
    source, certs, primary, how = _signing_certificates(ctx)
    if primary.not_after is None:
        raise CannotDetermine(f"The primary token-signing certificate {primary.label} could not be decoded, so "
                              f"the rollover state is unknown.", {"source": source})
    threshold = ctx.config.thresholds.rollover_warn_days
    others = [c for c in certs if c is not primary]
    # A successor outlives the primary and is still valid; anything else listed is a previous
    # certificate (or an expired one) that is merely still published.
    successors = [c for c in others
                  if c.not_after is not None and c.not_after > primary.not_after and c.not_after > ctx.now]
    previous = [c for c in others if c not in successors]
    left = days_left(primary.not_after, ctx.now)
    expired = primary.not_after <= ctx.now
    evidence = {"primary": certificate_evidence(primary, ctx.now), "primary_selected_by": how,
                "successors": [certificate_evidence(c, ctx.now) for c in successors],
                "previous": [certificate_evidence(c, ctx.now) for c in previous],
                "rollover_warn_days": threshold, "source": source}
    primary_text = f"primary {primary.label} {describe_days(left, expired)} ({primary.not_after.date().isoformat()})"
    if not successors and left < threshold:
        return Outcome(Status.WARN, f"The {primary_text} and no successor is published: AutoCertificateRollover "
                                    f"would have published one {threshold} days before expiry, so it is off or "
                                    f"failing.", evidence=evidence, target=primary.sha1)
    if successors:
        parts = [_successor_text(c, ctx.now) for c in successors]
        parts += [f"previous {c.label} {_until(c, ctx.now)}" for c in previous]
        return Outcome(Status.INFO, f"Token-signing rollover in progress: the {primary_text} ({how}); "
                                    f"{'; '.join(parts)}.", evidence=evidence, target=primary.sha1,
                       remediation=_rollover_remediation("token-signing certificate"))
    if previous:
        listed = "; ".join(f"{c.label} {_until(c, ctx.now)}" for c in previous)
        return Outcome(Status.PASS, f"No rollover is due: the {primary_text}; no successor is published, and "
                                    f"{len(previous)} previous certificate(s) are still listed ({listed}).",
                       evidence=evidence, target=primary.sha1)
    return Outcome(Status.PASS, f"One token-signing certificate is published: the {primary_text}; no rollover is "
                                f"due yet.", evidence=evidence, target=primary.sha1)


def _until(cert: CertificateInfo, now: datetime) -> str:
    if cert.not_after is None:
        return "(expiry unreadable)"
    return f"{describe_days(days_left(cert.not_after, now), cert.not_after <= now)} " \
           f"({cert.not_after.date().isoformat()})"


def _successor_text(cert: CertificateInfo, now: datetime) -> str:
    start = ""
    if cert.not_before is not None:
        start = (f" valid from {cert.not_before.date().isoformat()}" if cert.not_before <= now
                 else f" not valid before {cert.not_before.date().isoformat()}")
    return f"successor {cert.label}{start}, {_until(cert, now)}"


@check(
    id="token-decrypting.expiry",
    title="Token-decrypting certificate expiry",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    optional=(ADFS_EXPORT_FACT,),
    rule="The token-decrypting certificate (use=\"encryption\") has at least token_decrypting_fail_days (14) "
         "days left (fail below, or when expired) and token_decrypting_warn_days (90) days left (warn).",
    remediation="Claims providers that send encrypted tokens to AD FS encrypt them with this certificate. With "
                "AutoCertificateRollover on, run Update-AdfsCertificate -CertificateType Token-Decrypting; with "
                "your own PKI, add a new certificate with Add-AdfsCertificate -CertificateType Token-Decrypting "
                "-Thumbprint <new> and make it primary with Set-AdfsCertificate -IsPrimary -CertificateType "
                "Token-Decrypting -Thumbprint <new>. Then update every claims-provider trust partner.",
    references=(REF_TS_TD_CERTS, REF_ADFS_REQUIREMENTS, REF_UPDATE_ADFSCERTIFICATE, REF_SET_ADFSCERTIFICATE),
)
def token_decrypting_expiry(ctx: CheckContext) -> Outcome:
    """Like token-signing.expiry for the first-listed use="encryption" certificate, never
    blocking; SKIP when the metadata publishes no encryption certificate."""
    fact, doc = require_document(ctx)
    certs = token_decrypting_certificates(doc)
    if not certs:
        return Outcome(Status.SKIP, "The metadata publishes no token-decrypting (use=\"encryption\") certificate, "
                                    "so there is nothing to judge; AD FS publishes one unless token encryption was "
                                    "removed, and Microsoft 365 sign-in does not depend on it.",
                       evidence={"source": fact.source})
    thresholds = ctx.config.thresholds
    return _expiry_outcome(
        ctx, certs[0], certs[1:],
        what="token-decrypting certificate",
        fail_days=thresholds.token_decrypting_fail_days,
        warn_days=thresholds.token_decrypting_warn_days,
        block_when_expired=False,
        extra={"source": fact.source},
    )
