"""Sample graded runs for the renderer tests (JSON, HTML, text all render the same data).

``sample_result()`` is a NOT_READY run against fs.contoso.com with every status present:

- token-signing.expiry   fail   blocker (the primary token-signing certificate expired)
- metadata.reachable     error  blocker check, undetermined (timeout through the proxy)
- metadata.signature     warn   RSA-SHA1 signature
- endpoints.idp-initiated-signon  info
- metadata.well-formed, metadata.entity-id, tls.certificate-name  pass
- tls.san-certauth       skip   (certificate authentication not in scope)

The values are what the real checks would report for such a farm; they are test data only, the
renderers never judge them.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from conftest import FIXED_NOW

from adfs_readiness.model import (
    Area,
    Finding,
    Grade,
    Reference,
    RunResult,
    Severity,
    Status,
    Verdict,
    VerdictReason,
)

FS = "fs.contoso.com"
METADATA_URL = f"https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml"

#: A (shortened) token-signing certificate as base64 DER: long enough to be truncated in HTML.
SIGNING_CERT_B64 = (
    "MIIC4DCCAcigAwIBAgIQQ0n8Y1c3O5dJm2yk1nN0fDANBgkqhkiG9w0BAQsFADAsMSowKAYDVQQDEyFBREZTIFNp"
    "Z25pbmcgLSBmcy5jb250b3NvLmNvbTAeFw0yNTExMjAwODE0MDJaFw0yNjExMjAwODE0MDJaMCwxKjAoBgNVBAMT"
    "IUFERlMgU2lnbmluZyAtIGZzLmNvbnRvc28uY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx2Vr"
)
SIGNING_SHA1 = "3F2A9C0D5E7B41A6C8D9E0F1A2B3C4D5E6F70819"

RENEW_CERTS = Reference(
    "Renew federation certificates for Microsoft 365 and Microsoft Entra ID",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-fed-o365-certs",
)
XMLDSIG = Reference(
    "XML Signature Syntax and Processing Version 1.1 (W3C)",
    "https://www.w3.org/TR/xmldsig-core1/",
)
AD_FS_TROUBLESHOOT = Reference(
    "AD FS troubleshooting - Microsoft Entra ID",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/troubleshooting/"
    "ad-fs-tshoot-azure",
)


def finding(check_id: str, status: Status, summary: str, **overrides: Any) -> Finding:
    """A Finding with plausible defaults; ``overrides`` replace any field."""
    area_name = check_id.split(".", 1)[0]
    area = Area.METADATA if area_name == "token-signing" else Area(area_name)
    fields: dict[str, Any] = {
        "check_id": check_id,
        "area": area,
        "title": check_id,
        "status": status,
        "severity": Severity.MEDIUM,
        "blocker": False,
        "blocker_check": False,
        "summary": summary,
        "evidence": {},
        "remediation": "No action needed.",
        "references": (),
        "target": None,
    }
    fields.update(overrides)
    return Finding(**fields)


def sample_findings() -> tuple[Finding, ...]:
    """The findings of :func:`sample_result`, in check order."""
    return (
        finding(
            "metadata.reachable",
            Status.ERROR,
            "Could not determine: timeout: no answer within 10.0 s "
            f"({METADATA_URL} via 203.0.113.10:443).",
            title="Federation metadata is reachable from outside",
            severity=Severity.CRITICAL,
            blocker_check=True,
            target="203.0.113.10:443",
            evidence={
                "probe_error": {
                    "kind": "timeout",
                    "reason": "no answer within 10.0 s",
                    "target": METADATA_URL,
                },
                "timeout_seconds": 10.0,
            },
            remediation=(
                "Make sure the Web Application Proxy publishes /FederationMetadata/2007-06/"
                "FederationMetadata.xml and that port 443 is open from the internet; Entra ID's "
                "automatic certificate update reads it."
            ),
            references=(RENEW_CERTS,),
        ),
        finding(
            "metadata.well-formed",
            Status.PASS,
            "The metadata is a well-formed SAML 2.0 EntityDescriptor (6,231 bytes).",
            title="Federation metadata is well formed",
            severity=Severity.CRITICAL,
            blocker_check=True,
            evidence={"size_bytes": 6231, "has_bom": True, "root": "EntityDescriptor"},
        ),
        finding(
            "metadata.signature",
            Status.WARN,
            "The metadata signature verifies, but with RSA-SHA1.",
            title="Federation metadata signature",
            severity=Severity.LOW,
            evidence={
                "status": "valid_sha1",
                "signature_method": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                "digest_methods": ["http://www.w3.org/2000/09/xmldsig#sha1"],
                "signer_sha1": SIGNING_SHA1,
            },
            remediation=(
                "Set the signature algorithm of the federation service to SHA-256 "
                "(Set-AdfsProperties) so the metadata is signed with RSA-SHA256."
            ),
            references=(XMLDSIG,),
        ),
        finding(
            "metadata.entity-id",
            Status.PASS,
            f"entityID is http://{FS}/adfs/services/trust as expected.",
            title="Metadata entityID matches the issuer",
            severity=Severity.HIGH,
            evidence={"entity_id": f"http://{FS}/adfs/services/trust"},
        ),
        finding(
            "token-signing.expiry",
            Status.FAIL,
            "The primary token-signing certificate expired on 2026-11-20 (10 days ago); "
            "Entra ID rejects every token it signs.",
            title="Token-signing certificate expiry",
            severity=Severity.CRITICAL,
            blocker=True,
            blocker_check=True,
            target=f"CN=ADFS Signing - {FS} (SHA-1 {SIGNING_SHA1})",
            evidence={
                "certificate": {
                    "subject": f"CN=ADFS Signing - {FS}",
                    "sha1": SIGNING_SHA1,
                    "not_before": "2025-11-20T08:14:02+00:00",
                    "not_after": "2026-11-20T08:14:02+00:00",
                    "der_b64": SIGNING_CERT_B64,
                },
                "days_left": -10,
                "thresholds_days": {"fail": 14, "warn": 90},
                "successor_published": False,
            },
            remediation=(
                "Renew the token-signing certificate now (Update-AdfsCertificate -CertificateType "
                "Token-Signing -Urgent) and update the federation settings of every federated "
                "domain in Entra ID with the new certificate."
            ),
            references=(RENEW_CERTS, AD_FS_TROUBLESHOOT),
        ),
        finding(
            "tls.certificate-name",
            Status.PASS,
            f"The SSL certificate covers {FS} (SAN *.contoso.com).",
            area=Area.TLS,
            title="SSL certificate covers the federation service name",
            severity=Severity.CRITICAL,
            blocker_check=True,
            evidence={"san_dns": ["*.contoso.com", "contoso.com"]},
        ),
        finding(
            "tls.san-certauth",
            Status.SKIP,
            "Certificate authentication is not in scope.",
            area=Area.TLS,
            title="certauth name in the SSL certificate",
            severity=Severity.LOW,
        ),
        finding(
            "endpoints.idp-initiated-signon",
            Status.INFO,
            "The IdP-initiated sign-on page is disabled.",
            title="IdP-initiated sign-on page",
            severity=Severity.INFO,
            evidence={"url": f"https://{FS}/adfs/ls/IdpInitiatedSignon.aspx", "status": 400},
        ),
    )


def sample_grade() -> Grade:
    """The grade of :func:`sample_findings` (as grading would give it: a failed blocker)."""
    return Grade(
        score=38,
        letter="F",
        verdict=Verdict.NOT_READY,
        reasons=(
            VerdictReason(
                "blocker_failed",
                "token-signing.expiry",
                "The primary token-signing certificate expired on 2026-11-20.",
                target=f"CN=ADFS Signing - {FS} (SHA-1 {SIGNING_SHA1})",
            ),
            VerdictReason(
                "blocker_undetermined",
                "metadata.reachable",
                "Whether the metadata is reachable from outside could not be determined.",
                target="203.0.113.10:443",
            ),
            VerdictReason("warning", "metadata.signature", "The metadata is signed with RSA-SHA1."),
        ),
        counts={"pass": 3, "warn": 1, "fail": 1, "error": 1, "skip": 1, "info": 1},
    )


def sample_result(**overrides: Any) -> RunResult:
    """A realistic NOT_READY run (module docstring); ``overrides`` replace RunResult fields."""
    result = RunResult(
        target=FS,
        started_at=FIXED_NOW,
        finished_at=FIXED_NOW + timedelta(seconds=12, milliseconds=345),
        findings=sample_findings(),
        grade=sample_grade(),
        facts={
            "metadata": {
                "source": METADATA_URL,
                "source_kind": "url",
                "size_bytes": 6231,
                "sha256": "9C1F0E7A2B3D4C5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D",
                "document": {
                    "entity_id": f"http://{FS}/adfs/services/trust",
                    "valid_until": None,
                    "cache_duration": None,
                },
            }
        },
        metadata={
            "tool_version": "0.1.0",
            "config_file": "/etc/adfs-readiness/contoso.toml",
            "options": {"timeout_seconds": 10, "deadline_seconds": 120},
        },
    )
    return dataclasses.replace(result, **overrides)


HOSTILE = '<script>alert(1)</script>"onmouseover=alert(2) x="'


def hostile_result() -> RunResult:
    """A run whose directory/server-supplied strings try HTML and rich-markup injection."""
    bad = finding(
        "directory.displayname",
        Status.FAIL,
        f"displayName {HOSTILE} [bold]not bold[/bold] [/] :smile:",
        area=Area.DIRECTORY,
        title=f"Display names {HOSTILE}",
        target=f"CN={HOSTILE} [/],OU=Users,DC=contoso,DC=local",
        evidence={
            "value": HOSTILE,
            f"key {HOSTILE}": ["[red]x[/red]", HOSTILE],
            "nested": {"attr": HOSTILE},
        },
        remediation=f"Fix {HOSTILE}",
        references=(
            Reference(f"evil {HOSTILE}", "javascript:alert(1)"),
            Reference("data url", "data:text/html,<script>alert(1)</script>"),
            Reference("quoted", 'https://example.invalid/"onmouseover="alert(3)'),
        ),
    )
    return sample_result(
        target=f"{HOSTILE}.contoso.com",
        findings=sample_findings() + (bad,),
        grade=dataclasses.replace(
            sample_grade(),
            reasons=sample_grade().reasons
            + (VerdictReason(
                "failed",
                "directory.displayname",
                f"reason {HOSTILE} [bold]x[/bold] [/] :smile:",
                target="[red]CN=x[/red]",
            ),),
            counts={"pass": 3, "warn": 1, "fail": 2, "error": 1, "skip": 1, "info": 1},
        ),
        metadata={"tool_version": "0.1.0", "note": HOSTILE},
    )


def large_result(count: int = 5000) -> RunResult:
    """A graded run of ``count`` findings shaped like a big farm's (for the bounds of the HTML
    report and its benchmark): TLS and endpoint checks on hundreds of nodes, DNS SRV names,
    directory checks naming thousands of objects, about 70% passing, the rest warnings,
    failures, undetermined, info and skips; and a calendar of 60 certificates. Deterministic."""
    from adfs_readiness.calendar import CalendarEntry
    from adfs_readiness.grading import grade

    per_node = ("tls.reachable", "tls.certificate-name", "tls.protocols", "tls.certificate-trust",
                "endpoints.probe", "endpoints.clock-skew")
    cycle = (Status.PASS,) * 14 + (Status.WARN,) * 3 + (Status.FAIL, Status.ERROR, Status.INFO, Status.SKIP)
    findings: list[Finding] = []
    n = 0
    while len(findings) < count:
        node = f"node{n // len(per_node):04d}.farm.contoso.com:443"
        check = per_node[n % len(per_node)]
        status = cycle[(n * 5) % len(cycle)]
        area = Area.TLS if check.startswith("tls.") else Area.ENDPOINTS
        evidence: dict[str, Any] = {
            "certificate": {"subject": f"CN={FS}", "sha1": SIGNING_SHA1, "not_after": "2027-06-01T00:00:00+00:00",
                            "days_left": 183, "der_b64": SIGNING_CERT_B64},
            "offered": ["TLSv1.2", "TLSv1.3"] + (["TLSv1"] if status is Status.FAIL else []),
            "elapsed_seconds": 0.012 * (n % 50),
        }
        summary = {Status.PASS: f"{node} answers with the expected certificate over TLS 1.2+.",
                   Status.WARN: f"{node} answers slowly ({n % 50 * 12} ms).",
                   Status.FAIL: f"{node} still offers TLS 1.0.",
                   Status.ERROR: f"Could not determine: timeout connecting to {node}.",
                   Status.INFO: f"{node} runs Windows Server 2019.",
                   Status.SKIP: "Certificate authentication is not in scope."}[status]
        findings.append(finding(check, status, summary, area=area, title=check, target=node, evidence=evidence,
                                severity=(Severity.HIGH, Severity.MEDIUM, Severity.LOW)[n % 3],
                                remediation="Set-AdfsSslCertificate -Thumbprint <thumbprint> on every node.",
                                references=(AD_FS_TROUBLESHOOT,)))
        n += 1
        if n % 500 == 0 and len(findings) < count:
            objects = [{"dn": f"CN=user{i:05d},OU=Staff,DC=contoso,DC=com", "value": f"user{i}@contoso.local",
                        "problem": "non-routable UPN suffix", "fix": "move to contoso.com"} for i in range(400)]
            findings.append(finding("directory.upn-routable", Status.FAIL, "3,000 objects have non-routable UPNs.",
                                    area=Area.DIRECTORY, severity=Severity.HIGH, blocker_check=True,
                                    target=f"OU=Site{n // 500},DC=contoso,DC=com",
                                    evidence={"objects_with_problem": 3000, "first_objects": objects}))
    findings = findings[:count]
    now = FIXED_NOW
    calendar = tuple(CalendarEntry(role=("SSL", "token-signing", "token-decrypting")[i % 3],
                                   subject=f"CN=cert{i}.contoso.com", sha1=f"{i:040X}", sha256=f"{i:064X}",
                                   not_after=now + timedelta(days=10 + 12 * i), days_left=10 + 12 * i,
                                   where=tuple(f"node{j:04d}.farm.contoso.com:443" for j in range(3)))
                     for i in range(60))
    return sample_result(findings=tuple(findings), grade=grade(findings), certificates=calendar)
