"""Small helpers shared by the federation-metadata check modules (private to ``adfs_readiness_checks``).

Nothing here does I/O or reads a clock: every function takes the facts and ``now`` it needs.
The references below are the Microsoft Learn / OASIS / W3C pages the metadata rules come from;
they are frozen dataclasses, so sharing them between modules shares no mutable state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from adfs_readiness.api import CannotDetermine, CheckContext, Reference, days_left
from adfs_readiness.facts import (
    METADATA_FACT,
    ProbeError,
    ProbeErrorKind,
    CertificateInfo,
    FederationMetadata,
    HttpExchange,
    KeyUse,
    MetadataDocument,
    RoleInfo,
    SignatureStatus,
)

__all__ = [
    "REF_RENEW_FEDERATION_CERTS",
    "REF_EMERGENCY_ROTATION",
    "REF_TS_TD_CERTS",
    "REF_ADFS_REQUIREMENTS",
    "REF_UPDATE_ADFSCERTIFICATE",
    "REF_SET_ADFSCERTIFICATE",
    "REF_UPDATE_MG_FEDERATION",
    "REF_ENTRA_TRUST",
    "REF_SAML_METADATA",
    "REF_XMLDSIG",
    "metadata_fact",
    "require_document",
    "certificate_evidence",
    "describe_days",
    "is_sts_role",
    "is_idp_role",
    "signing_certificates_of",
    "token_signing_certificates",
    "token_decrypting_certificates",
    "primary_certificate",
    "url_host",
    "same_uri",
    "NOT_THE_TARGETS",
    "not_the_targets",
    "not_determined_text",
    "legacy_renegotiation_note",
]

REF_RENEW_FEDERATION_CERTS = Reference(
    "Renew federation certificates for Microsoft 365 and Microsoft Entra ID",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-fed-o365-certs",
)
REF_EMERGENCY_ROTATION = Reference(
    "Emergency rotation of the AD FS certificates",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-emergency-ad-fs-certificate-rotation",
)
REF_TS_TD_CERTS = Reference(
    "Obtain and configure TS and TD certificates for AD FS",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ts-td-certs-ad-fs",
)
REF_ADFS_REQUIREMENTS = Reference(
    "AD FS requirements (certificate requirements)",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements",
)
REF_UPDATE_ADFSCERTIFICATE = Reference(
    "Update-AdfsCertificate",
    "https://learn.microsoft.com/powershell/module/adfs/update-adfscertificate?view=windowsserver2025-ps",
)
REF_SET_ADFSCERTIFICATE = Reference(
    "Set-AdfsCertificate",
    "https://learn.microsoft.com/powershell/module/adfs/set-adfscertificate?view=windowsserver2025-ps",
)
REF_UPDATE_MG_FEDERATION = Reference(
    "Update-MgDomainFederationConfiguration (Microsoft Graph PowerShell)",
    "https://learn.microsoft.com/powershell/module/microsoft.graph.identity.directorymanagement/"
    "update-mgdomainfederationconfiguration",
)
REF_ENTRA_TRUST = Reference(
    "Manage AD FS trust with Microsoft Entra ID using Microsoft Entra Connect",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-azure-ad-trust",
)
REF_SAML_METADATA = Reference(
    "Metadata for the OASIS Security Assertion Markup Language (SAML) V2.0",
    "https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf",
)
REF_XMLDSIG = Reference(
    "XML Signature Syntax and Processing Version 1.1 (W3C)",
    "https://www.w3.org/TR/xmldsig-core1/",
)

#: Probe errors that say nothing about the server: the run's own deadline passed before the server
#: had its full time limit (with the time limit, a silent server is TIMEOUT, the server's own), or
#: this tool's network policy refused the address before sending anything. A check seeing one of
#: them has not determined anything (error), whatever the endpoint; never "cannot be reached".
NOT_THE_TARGETS = (ProbeErrorKind.DEADLINE, ProbeErrorKind.POLICY)


def not_the_targets(error: ProbeError | None) -> bool:
    """True when ``error`` is one of :data:`NOT_THE_TARGETS`."""
    return error is not None and error.kind in NOT_THE_TARGETS


def not_determined_text(error: ProbeError, what: str) -> str:
    """"not determined: <why>; this says nothing about <what> (<what to do>)" for an error of
    :data:`NOT_THE_TARGETS`."""
    # A policy refusal's reason names its own remedy (network.allow_link_local for a link-local
    # target; credentials through their own settings for a URL's userinfo, which no setting lets
    # through): one piece of advice for every refusal sent admins to the wrong setting.
    advice = ("refused by this tool before anything was sent" if error.kind is ProbeErrorKind.POLICY
              else "run again with a longer --deadline (network.deadline_seconds)")
    return f"not determined: {error.reason}; this says nothing about {what} ({advice})"


#: Signature states under which ``SignatureInfo.signer_sha1`` names the certificate that signed.
_VERIFIED = (SignatureStatus.VALID, SignatureStatus.VALID_SHA1)


def metadata_fact(ctx: CheckContext) -> FederationMetadata:
    """The :class:`FederationMetadata` fact of the run (raises CannotDetermine when absent)."""
    return ctx.fact(METADATA_FACT)


def _unreadable_reason(fact: FederationMetadata) -> str:
    """Why no document is available, in words: the parse error, else the fetch failure."""
    if fact.parse_error:
        return fact.parse_error
    fetch = fact.fetch
    if fetch is not None:
        if fetch.error is not None:
            return f"fetching {fetch.url} failed: {fetch.error}"
        if fetch.status is not None and fetch.status != 200:
            return f"{fetch.url} answered HTTP {fetch.status} {fetch.reason or ''}".rstrip()
    return f"no metadata document could be read from {fact.source}"


def require_document(ctx: CheckContext) -> tuple[FederationMetadata, MetadataDocument]:
    """The metadata fact and its parsed document.

    Raises CannotDetermine (an ``error`` finding) carrying the parse error or the fetch failure
    when the document could not be read or parsed, so that every check depending on the document
    explains why it could not judge instead of guessing.
    """
    fact = metadata_fact(ctx)
    if fact.document is None:
        raise CannotDetermine(
            f"The federation metadata could not be judged: {_unreadable_reason(fact)}.",
            {"source": fact.source, "source_kind": fact.source_kind, "parse_error": fact.parse_error},
        )
    return fact, fact.document


def describe_days(days: int, expired: bool) -> str:
    """"expires in 13 days", "expires within a day" or "expired 4 days ago" for ``days`` as
    returned by :func:`adfs_readiness.api.days_left` (negative once expired)."""
    if expired:
        ago = -days
        if ago < 1:
            return "expired today"
        return f"expired {ago} day{'s' if ago != 1 else ''} ago"
    if days == 0:
        return "expires within a day"
    return f"expires in {days} day{'s' if days != 1 else ''}"


def certificate_evidence(cert: CertificateInfo, now: datetime) -> dict[str, Any]:
    """JSON-ready description of a certificate as observed: subject, SHA-1 thumbprint (what
    Get-AdfsCertificate and Entra show), validity dates (ISO 8601), whole days left against
    ``now`` (negative once expired; None when the date is unreadable), key and signature hash."""
    evidence: dict[str, Any] = {
        "subject": cert.subject,
        "sha1": cert.sha1,
        "not_before": cert.not_before.isoformat() if cert.not_before else None,
        "not_after": cert.not_after.isoformat() if cert.not_after else None,
        "days_left": days_left(cert.not_after, now) if cert.not_after else None,
        "public_key": f"{cert.public_key_type} {cert.public_key_bits}" if cert.public_key_type else None,
        "signature_algorithm": cert.signature_algorithm,
    }
    if not cert.decodable:
        evidence["decodable"] = False
    if cert.problems:
        evidence["problems"] = list(cert.problems)
    return evidence


def is_sts_role(role: RoleInfo) -> bool:
    """The WS-Federation ``RoleDescriptor xsi:type="fed:SecurityTokenServiceType"``: where AD FS
    lists its token-signing certificates (primary first) and WS-Fed endpoints."""
    return role.element == "RoleDescriptor" and role.role_type == "SecurityTokenServiceType"


def is_idp_role(role: RoleInfo) -> bool:
    """The SAML 2.0 ``IDPSSODescriptor``."""
    return role.element == "IDPSSODescriptor"


def signing_certificates_of(role: RoleInfo) -> list[CertificateInfo]:
    """Certificates of ``role`` usable for signing (use="signing" or no use attribute, as the
    SAML metadata spec section 2.4.1.1 says), distinct by SHA-1, in document order."""
    seen: dict[str, CertificateInfo] = {}
    for kd in role.key_descriptors:
        if kd.use in (KeyUse.SIGNING, KeyUse.UNSPECIFIED):
            for cert in kd.certificates:
                seen.setdefault(cert.sha1, cert)
    return list(seen.values())


def token_signing_certificates(doc: MetadataDocument) -> list[CertificateInfo]:
    """Every signing certificate the metadata publishes, distinct by SHA-1: first those of the
    STS RoleDescriptor in its order (AD FS lists the primary token-signing certificate first
    there), then any other role's signing certificates in document order."""
    seen: dict[str, CertificateInfo] = {}
    for role in doc.roles:
        if is_sts_role(role):
            for cert in signing_certificates_of(role):
                seen.setdefault(cert.sha1, cert)
    for cert in doc.certificates(KeyUse.SIGNING):
        seen.setdefault(cert.sha1, cert)
    return list(seen.values())


def token_decrypting_certificates(doc: MetadataDocument) -> list[CertificateInfo]:
    """Certificates published with an explicit use="encryption" (AD FS's token-decrypting
    certificates), distinct by SHA-1, in document order. Keys without a use attribute are left
    out: they are the signing keys, already judged by the token-signing checks."""
    seen: dict[str, CertificateInfo] = {}
    for _, kd in doc.key_descriptors(KeyUse.ENCRYPTION):
        if kd.use is KeyUse.ENCRYPTION:
            for cert in kd.certificates:
                seen.setdefault(cert.sha1, cert)
    return list(seen.values())


def primary_certificate(doc: MetadataDocument, certs: list[CertificateInfo]) -> tuple[CertificateInfo, str]:
    """Which of ``certs`` (non-empty, from :func:`token_signing_certificates`) is the primary
    token-signing certificate, and how that was decided.

    AD FS signs its metadata with the primary token-signing certificate, so the certificate that
    verified the signature wins ("signed the metadata"); otherwise the first listed in the STS
    RoleDescriptor ("listed first"). Source: Certificate Requirements for Federation Servers
    (only the primary token-signing certificate signs), AD FS metadata shape.
    """
    signature = doc.signature
    if signature.status in _VERIFIED and signature.signer_sha1:
        for cert in certs:
            if cert.sha1.upper() == signature.signer_sha1.upper():
                return cert, "signed the metadata"
    return certs[0], "listed first"


def url_host(url: str | None) -> str | None:
    """Lower-case host name of ``url`` (None when there is none or the URL is malformed)."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def same_uri(found: str | None, expected: str | None) -> bool:
    """Whether two identifiers (entityID, issuer URI) are the same: URLs compare their scheme
    and host case-insensitively, as DNS and RFC 3986 section 6.2.2.1 do (a trailing dot on the
    host ignored, the default port implied), and everything after the host exactly; anything
    else (a URN) compares exactly."""
    if found is None or expected is None:
        return found == expected
    if found == expected:
        return True
    try:
        a, b = urlsplit(found.strip()), urlsplit(expected.strip())
        ports = (a.port, b.port)
    except ValueError:
        return False
    if not (a.scheme and a.netloc and b.scheme and b.netloc):
        return False
    default = {"http": 80, "https": 443}

    def key(parts, port):
        host = (parts.hostname or "").rstrip(".").lower()
        return (parts.scheme.lower(), host, port or default.get(parts.scheme.lower()), parts.path or "/",
                parts.query, parts.fragment)

    return key(a, ports[0]) == key(b, ports[1]) and bool(a.username) == bool(b.username)


def legacy_renegotiation_note(exchange: HttpExchange | None) -> str:
    """A sentence for a finding whose answer came only from the HTTP client's retry allowing
    legacy renegotiation (``HttpExchange.legacy_renegotiation``), else "". Browsers and Windows
    (SChannel) connect to a server without RFC 5746 secure renegotiation; OpenSSL 3 clients refuse
    it by default (https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/); tls.reachable judges
    the server for it."""
    if exchange is None or not exchange.legacy_renegotiation:
        return ""
    return (" The server does not support RFC 5746 secure renegotiation: this answer came from a retry that "
            "allows legacy renegotiation, as browsers and Windows clients connect; clients built on OpenSSL 3 "
            "refuse the server (see tls.reachable).")
