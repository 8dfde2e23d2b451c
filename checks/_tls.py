"""Helpers shared by the TLS checks (live servers, ``tls.*``) and the certificate-file checks
(``certificate-file.*``): RFC 6125 name matching, the references, and judgements that both apply
to a certificate (expiry, key strength, trust classification in words).

Pure: no I/O, no clock other than the ``now`` passed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adfs_readiness.api import Outcome, Reference, Status, days_left
from adfs_readiness.facts import CertificateInfo
from adfs_readiness.facts.tls import ANY_EKU, SERVER_AUTH_EKU, ChainVerification, TrustFailure, ViewVerification

from ._common import REF_ADFS_REQUIREMENTS, certificate_evidence, describe_days

__all__ = [
    "REF_ADFS_REQUIREMENTS",
    "REF_SET_ADFS_SSL",
    "REF_SET_WAP_SSL",
    "REF_ALTERNATE_TLS_BINDING",
    "REF_ENTRA_TLS12",
    "REF_RFC6125",
    "REF_RFC5280",
    "REF_X690",
    "STRICT_CLIENTS",
    "encoding_outcome",
    "name_matches",
    "covers",
    "has_server_auth",
    "failure_text",
    "verification_evidence",
    "expiry_outcome",
    "key_problems",
    "certificate_evidence",
]

REF_SET_ADFS_SSL = Reference(
    "Set-AdfsSslCertificate", "https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfssslcertificate")
REF_SET_WAP_SSL = Reference(
    "Set-WebApplicationProxySslCertificate",
    "https://learn.microsoft.com/en-us/powershell/module/webapplicationproxy/set-webapplicationproxysslcertificate")
REF_ALTERNATE_TLS_BINDING = Reference(
    "Set-AdfsAlternateTlsClientBinding (certauth.<federation service name> on 443, else port 49443)",
    "https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfsalternatetlsclientbinding")
REF_ENTRA_TLS12 = Reference(
    "Enable support for TLS 1.2 in your environment for Microsoft Entra TLS 1.1 and 1.0 deprecation",
    "https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/ad-dmn-services/enable-support-tls-environment")
REF_RFC6125 = Reference("RFC 6125: Representation and Verification of Domain-Based Application Service Identity",
                        "https://www.rfc-editor.org/rfc/rfc6125#section-6.4")
REF_RFC5280 = Reference("RFC 5280: Internet X.509 PKI Certificate and CRL Profile",
                        "https://www.rfc-editor.org/rfc/rfc5280")
REF_X690 = Reference("ITU-T X.690 (DER), 11.5: a component equal to its DEFAULT value is not encoded",
                     "https://www.itu.int/rec/T-REC-X.690")

#: Who refuses a certificate with encoding_problems, and who does not (measured: cryptography 50
#: refuses an explicit cA FALSE; OpenSSL 3's verifier accepts it).
STRICT_CLIENTS = ("strict DER parsers refuse it — Python's cryptography and the tools built on it, DMTF libspdm, "
                  "and other verifiers that enforce X.690 DER; OpenSSL, Windows (CryptoAPI/SChannel) and browsers "
                  "accept it")

_FAILURE_TEXT = {
    TrustFailure.EXPIRED: "a certificate of the chain has expired",
    TrustFailure.NOT_YET_VALID: "a certificate of the chain is not valid yet",
    TrustFailure.NAME_MISMATCH: "the certificate does not name the federation service",
    TrustFailure.SELF_SIGNED: "the certificate is self-signed",
    TrustFailure.UNTRUSTED_ROOT: "the chain ends at a root CA that is not trusted",
    TrustFailure.INTERMEDIATE_MISSING: "the server sent only its own certificate: the intermediate CA "
                                       "certificate(s) are missing (browsers may fetch them, most other clients "
                                       "do not)",
    TrustFailure.WRONG_EKU: "the certificate lacks the Server Authentication extended key usage",
    TrustFailure.WEAK_SIGNATURE: "a certificate of the chain is signed with an algorithm clients refuse (SHA-1 or MD5)",
    TrustFailure.WEAK_KEY: "a certificate of the chain has a public key clients refuse",
    TrustFailure.NO_CERTIFICATE: "no decodable certificate was presented",
    TrustFailure.OTHER: "the verifier refused the chain",
}


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 section 6.4.3 as browsers apply it: a wildcard only as the whole left-most label
    (``*.contoso.com``), matching exactly one label, never with fewer than two labels after it;
    partial wildcards (``f*.contoso.com``) do not match. Case-insensitive, trailing dot ignored."""
    pattern, host = pattern.strip().rstrip(".").lower(), host.strip().rstrip(".").lower()
    if "*" not in pattern:
        return pattern == host
    labels, host_labels = pattern.split("."), host.split(".")
    if labels[0] != "*" or any("*" in label for label in labels[1:]) or len(labels) < 3:
        return False
    return len(host_labels) == len(labels) and host_labels[0] != "" and host_labels[1:] == labels[1:]


def covers(cert: CertificateInfo, host: str) -> tuple[bool, str | None, str | None]:
    """Whether ``cert`` names ``host``: (matched, "SAN" or "CN", the matching entry). DNS names of
    the subjectAltName are used when there are any; the subject CN only when there are none
    (RFC 6125 section 6.4.4)."""
    if cert.san_dns:
        entry = next((n for n in cert.san_dns if name_matches(n, host)), None)
        return entry is not None, "SAN" if entry else None, entry
    if cert.subject_cn and name_matches(cert.subject_cn, host):
        return True, "CN", cert.subject_cn
    return False, None, None


def has_server_auth(cert: CertificateInfo) -> bool:
    """No EKU extension (any use), serverAuth or anyExtendedKeyUsage (RFC 5280 4.2.1.12)."""
    return not cert.eku or SERVER_AUTH_EKU in cert.eku or ANY_EKU in cert.eku


def failure_text(failure: TrustFailure | None) -> str:
    """The classified failure in words."""
    return _FAILURE_TEXT.get(failure, "verified") if failure is not None else "verified"


def _verification_dict(v: ChainVerification) -> dict[str, Any]:
    return {"trusted": v.trusted, "failure": v.failure.value if v.failure else None, "message": v.message,
            "name": v.name, "at": v.at, "path_sha1": list(v.path_sha1), "verifier": v.verifier}


def verification_evidence(views: tuple[ViewVerification, ...]) -> dict[str, Any]:
    """JSON-ready per-view verification results (service name and path-only)."""
    return {v.view: {"service_name": _verification_dict(v.service), "chain_only": _verification_dict(v.path)}
            for v in views}


def expiry_outcome(cert: CertificateInfo, now: datetime, fail_days: int, warn_days: int, *, what: str,
                   target: str, evidence: dict[str, Any], block_when_expired: bool,
                   block_within_fail_days: bool = False) -> Outcome:
    """FAIL when expired or not yet valid (blocking when ``block_when_expired``), FAIL below
    ``fail_days`` (blocking only when ``block_within_fail_days``), WARN below ``warn_days``, PASS
    otherwise; ERROR when the dates cannot be read."""
    evidence = {"certificate": certificate_evidence(cert, now), "fail_days": fail_days, "warn_days": warn_days,
                **evidence}
    if cert.not_after is None or cert.not_before is None:
        return Outcome(Status.ERROR, f"The validity dates of the {what} {cert.label} could not be read "
                                     f"({'; '.join(cert.problems) or 'undecodable'}).", evidence, target)
    if cert.not_before > now:
        return Outcome(Status.FAIL, f"The {what} {cert.label} is not valid before "
                                    f"{cert.not_before.isoformat()}: clients refuse it until then.",
                       evidence, target, blocker=block_when_expired)
    left = days_left(cert.not_after, now)
    expired = cert.not_after <= now
    when = f"{describe_days(left, expired)} (not after {cert.not_after.isoformat()})"
    if expired:
        return Outcome(Status.FAIL, f"The {what} {cert.label} {when}: clients refuse the connection.",
                       evidence, target, blocker=block_when_expired)
    if left < fail_days:
        return Outcome(Status.FAIL, f"The {what} {cert.label} {when}: fewer than {fail_days} days left.",
                       evidence, target, blocker=block_within_fail_days)
    if left < warn_days:
        return Outcome(Status.WARN, f"The {what} {cert.label} {when}: fewer than {warn_days} days left.",
                       evidence, target)
    return Outcome(Status.PASS, f"The {what} {cert.label} {when}.", evidence, target)


def key_problems(cert: CertificateInfo, min_rsa_bits: int) -> tuple[list[str], list[str]]:
    """(failures, warnings) about the key and signature of ``cert``: RSA below ``min_rsa_bits``
    or EC below 256 bits fail; an MD5/SHA-1 signature warns (SSL Labs caps such certificates;
    browsers distrust SHA-1 certificates)."""
    failures, warnings = [], []
    kind, bits = cert.public_key_type, cert.public_key_bits
    if kind == "RSA" and bits is not None and bits < min_rsa_bits:
        failures.append(f"an RSA {bits}-bit key (below {min_rsa_bits})")
    elif kind == "EC" and bits is not None and bits < 256:
        failures.append(f"an EC {bits}-bit key (below 256)")
    elif kind == "DSA":
        failures.append(f"a DSA {bits}-bit key (not usable for TLS server authentication today)")
    if (cert.signature_hash or "").lower() in ("md5", "sha1"):
        warnings.append(f"a signature made with {cert.signature_hash.upper()} ({cert.signature_algorithm})")
    return failures, warnings


def encoding_outcome(certificates: list[CertificateInfo], *, what: str, target: str | None,
                     evidence: dict[str, Any]) -> Outcome:
    """WARN naming each certificate whose encoding strict DER parsers refuse (its
    ``encoding_problems``), PASS when none has any."""
    odd = [(c, c.encoding_problems) for c in certificates if c.encoding_problems]
    evidence = {**evidence, "certificates": [{"subject": c.subject, "sha1": c.sha1,
                                              "encoding_problems": list(c.encoding_problems)} for c in certificates]}
    if not odd:
        return Outcome(Status.PASS, f"Every certificate of the {what} is DER-encoded as RFC 5280 requires.",
                       evidence, target)
    listed = "; ".join(f"{c.label}: {', '.join(p)}" for c, p in odd)
    return Outcome(Status.WARN, f"The {what} holds certificates that are not valid DER ({listed}). Trust was judged "
                                f"as OpenSSL and Windows judge it; {STRICT_CLIENTS}.", evidence, target)
