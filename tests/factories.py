"""Builders of facts for tests: certificates, metadata documents, HTTP exchanges, metadata facts.

Every builder has defaults that describe a healthy AD FS farm ``sts.contoso.com`` judged at
``FIXED_NOW`` (tests/conftest.py), and keyword overrides for what a test varies. Certificates are
synthetic (no DER is decoded by the checks): their thumbprints are the SHA-1/SHA-256 of a
deterministic placeholder byte string, so two certificates with different names or dates differ.

``corpus_document`` reads a real metadata file from tests/corpus with lxml (no DTD, no entities,
no network) and decodes its certificates with cryptography, so checks can be run on real AD FS
documents while the metadata probe is written elsewhere.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from conftest import FIXED_NOW
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from adfs_readiness.facts import (
    CertificateInfo,
    FederationMetadata,
    HttpExchange,
    KeyDescriptorInfo,
    KeyUse,
    MetadataDocument,
    MetadataEndpoint,
    ProbeError,
    ProbeErrorKind,
    Redirect,
    RoleInfo,
    SignatureInfo,
    SignatureStatus,
)

HOST = "sts.contoso.com"
METADATA_URL = f"https://{HOST}/FederationMetadata/2007-06/FederationMetadata.xml"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256_DIGEST = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1_DIGEST = "http://www.w3.org/2000/09/xmldsig#sha1"
UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
IMMUTABLE_ID = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
#: A few of the claim types AD FS lists by default (see the corpus files): UPN, never ImmutableID.
ADFS_CLAIMS = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    UPN,
    "http://schemas.xmlsoap.org/claims/UPN",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
)
NAMEID_FORMATS = (
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
)


def certificate(
    cn: str = f"ADFS Signing - {HOST}",
    *,
    valid_days: float = 365.0,
    lifetime_days: float = 365.0,
    now: datetime = FIXED_NOW,
    key_type: str = "RSA",
    key_bits: int = 2048,
    signature_hash: str = "sha256",
    **overrides: Any,
) -> CertificateInfo:
    """A decoded certificate expiring ``valid_days`` after ``now`` (so ``days_left`` ==
    floor(valid_days)), issued ``lifetime_days`` before that, self-signed like AD FS's own."""
    not_after = now + timedelta(days=valid_days)
    not_before = not_after - timedelta(days=lifetime_days)
    der = f"fake-der|{cn}|{not_after.isoformat()}|{key_type}{key_bits}|{signature_hash}".encode()
    algorithm = {"sha256": "sha256WithRSAEncryption", "sha1": "sha1WithRSAEncryption",
                 "md5": "md5WithRSAEncryption"}.get(signature_hash, f"{signature_hash}WithRSAEncryption")
    values: dict[str, Any] = dict(
        der_b64=base64.b64encode(der).decode(),
        sha1=hashlib.sha1(der).hexdigest().upper(),
        sha256=hashlib.sha256(der).hexdigest().upper(),
        decodable=True,
        subject=f"CN={cn}",
        issuer=f"CN={cn}",
        serial_number="1234567890",
        not_before=not_before,
        not_after=not_after,
        public_key_type=key_type,
        public_key_bits=key_bits,
        signature_algorithm=algorithm,
        signature_hash=signature_hash,
        subject_cn=cn,
        self_signed=True,
    )
    values.update(overrides)
    return CertificateInfo(**values)


def undecodable_certificate(label: str = "truncated") -> CertificateInfo:
    """A certificate whose DER could not be decoded: no dates, no key, a problem saying why."""
    der = f"broken|{label}".encode()
    return CertificateInfo(der_b64=base64.b64encode(der).decode(), sha1=hashlib.sha1(der).hexdigest().upper(),
                           sha256=hashlib.sha256(der).hexdigest().upper(), decodable=False,
                           problems=("truncated DER: unexpected end of data",))


def key_descriptor(use: KeyUse, *certs: CertificateInfo) -> KeyDescriptorInfo:
    """One ``md:KeyDescriptor`` of ``use`` carrying ``certs``."""
    return KeyDescriptorInfo(use=use, certificates=tuple(certs))


def signing_keys(certs: Iterable[CertificateInfo]) -> tuple[KeyDescriptorInfo, ...]:
    """One use="signing" KeyDescriptor per certificate, as AD FS writes them."""
    return tuple(key_descriptor(KeyUse.SIGNING, c) for c in certs)


def encryption_keys(certs: Iterable[CertificateInfo]) -> tuple[KeyDescriptorInfo, ...]:
    """One use="encryption" KeyDescriptor per certificate (AD FS's token-decrypting certificates)."""
    return tuple(key_descriptor(KeyUse.ENCRYPTION, c) for c in certs)


def sts_role(signing: Iterable[CertificateInfo], *, host: str = HOST, passive: str | None = "default",
             claims: Iterable[str] = ADFS_CLAIMS) -> RoleInfo:
    """The WS-Fed ``RoleDescriptor xsi:type="fed:SecurityTokenServiceType"`` of AD FS."""
    endpoints = [MetadataEndpoint("SecurityTokenServiceEndpoint", None,
                                  f"https://{host}/adfs/services/trust/2005/certificatemixed")]
    if passive is not None:
        location = f"https://{host}/adfs/ls/" if passive == "default" else passive
        endpoints.append(MetadataEndpoint("PassiveRequestorEndpoint", None, location))
    return RoleInfo("RoleDescriptor", "SecurityTokenServiceType", ("http://docs.oasis-open.org/wsfed/federation/200706",),
                    signing_keys(signing), tuple(endpoints), claim_types_offered=tuple(claims))


def app_service_role(encryption: Iterable[CertificateInfo], *, host: str = HOST) -> RoleInfo:
    """The ``fed:ApplicationServiceType`` role AD FS publishes with its token-decrypting cert."""
    return RoleInfo("RoleDescriptor", "ApplicationServiceType", ("http://docs.oasis-open.org/wsfed/federation/200706",),
                    encryption_keys(encryption),
                    (MetadataEndpoint("PassiveRequestorEndpoint", None, f"https://{host}/adfs/ls/"),),
                    claim_types_offered=ADFS_CLAIMS)


def idp_role(signing: Iterable[CertificateInfo], encryption: Iterable[CertificateInfo] = (), *,
             host: str = HOST, sso: Iterable[tuple[str, str]] | None = None,
             nameid_formats: Iterable[str] = NAMEID_FORMATS) -> RoleInfo:
    """The SAML ``IDPSSODescriptor``; ``sso`` is (binding, location) pairs, default Redirect and POST
    on ``https://<host>/adfs/ls/``."""
    if sso is None:
        sso = ((REDIRECT, f"https://{host}/adfs/ls/"), (POST, f"https://{host}/adfs/ls/"))
    endpoints = [MetadataEndpoint("SingleLogoutService", REDIRECT, f"https://{host}/adfs/ls/")]
    endpoints += [MetadataEndpoint("SingleSignOnService", b, loc) for b, loc in sso]
    return RoleInfo("IDPSSODescriptor", "IDPSSODescriptor", ("urn:oasis:names:tc:SAML:2.0:protocol",),
                    encryption_keys(encryption) + signing_keys(signing), tuple(endpoints),
                    nameid_formats=tuple(nameid_formats))


def signature(status: SignatureStatus = SignatureStatus.VALID, signer: CertificateInfo | None = None,
              **overrides: Any) -> SignatureInfo:
    """A verification result; VALID/VALID_SHA1 name ``signer`` as the verifying certificate."""
    sha1_algs = status is SignatureStatus.VALID_SHA1
    values: dict[str, Any] = dict(
        status=status,
        reason={SignatureStatus.VALID: "signature verified",
                SignatureStatus.VALID_SHA1: "signature verified (RSA-SHA1)",
                SignatureStatus.UNSIGNED: "no ds:Signature element",
                SignatureStatus.INVALID: "digest mismatch: the signed content was changed",
                SignatureStatus.UNKNOWN_SIGNER: "verifies only with the embedded KeyInfo certificate"}[status],
        signature_method=None if status is SignatureStatus.UNSIGNED else (RSA_SHA1 if sha1_algs else RSA_SHA256),
        digest_methods=() if status is SignatureStatus.UNSIGNED else ((SHA1_DIGEST,) if sha1_algs else (SHA256_DIGEST,)),
        signer_sha1=signer.sha1 if signer is not None and status in (SignatureStatus.VALID,
                                                                       SignatureStatus.VALID_SHA1) else None,
        embedded_certificate_sha1=signer.sha1 if signer is not None else None,
        reference_uri="#_8a1c0b2e-1f2d-4c1e-9a57-3b6d2f1e0c4a",
    )
    values.update(overrides)
    return SignatureInfo(**values)


def document(
    *,
    host: str = HOST,
    signing: Iterable[CertificateInfo] | None = None,
    encryption: Iterable[CertificateInfo] | None = None,
    roles: Iterable[RoleInfo] | None = None,
    sig: SignatureInfo | None = None,
    **overrides: Any,
) -> MetadataDocument:
    """AD FS-shaped metadata: ApplicationServiceType (encryption), STS RoleDescriptor (signing,
    WS-Fed endpoints, claims) and IDPSSODescriptor (SAML endpoints), entityID
    ``http://<host>/adfs/services/trust``, signed (VALID) by the first signing certificate."""
    signing = list(signing) if signing is not None else [certificate()]
    encryption = list(encryption) if encryption is not None else [certificate(f"ADFS Encryption - {host}")]
    if roles is None:
        roles = [app_service_role(encryption, host=host), sts_role(signing, host=host),
                 idp_role(signing, encryption, host=host)]
    values: dict[str, Any] = dict(
        entity_id=f"http://{host}/adfs/services/trust",
        document_id="_8a1c0b2e-1f2d-4c1e-9a57-3b6d2f1e0c4a",
        valid_until=None,
        valid_until_raw=None,
        cache_duration=None,
        roles=tuple(roles),
        signature=sig if sig is not None else signature(SignatureStatus.VALID, signing[0] if signing else None),
    )
    values.update(overrides)
    return MetadataDocument(**values)


def http_exchange(url: str = METADATA_URL, *, status: int | None = 200,
                  content_type: str | None = "application/samlmetadata+xml", body_bytes: int = 48_213,
                  error: ProbeError | None = None, **overrides: Any) -> HttpExchange:
    """A fetch of ``url`` answered ``status`` with ``content_type``; pass ``error`` for a transport failure."""
    headers = {"content-type": content_type} if content_type else {}
    values: dict[str, Any] = dict(
        url=url, final_url=url, connect_address=None, status=None if error else status,
        reason=None if error else {200: "OK", 302: "Found", 404: "Not Found", 503: "Service Unavailable"}.get(
            status or 0, "Other"),
        headers={} if error else headers, redirects=(), elapsed_seconds=0.183,
        body_bytes=0 if error else body_bytes, truncated=False, error=error,
    )
    values.update(overrides)
    return HttpExchange(**values)


def transport_error(kind: ProbeErrorKind, reason: str, url: str = METADATA_URL) -> HttpExchange:
    """A fetch of ``url`` that got no answer: ``kind`` (timeout, refused, ...) and ``reason``."""
    return http_exchange(url, error=ProbeError(kind, reason, url))


def redirect(url: str, location: str, status: int = 302) -> Redirect:
    """One recorded redirect from ``url`` to ``location``."""
    return Redirect(status, url, location)


def metadata_fact(doc: MetadataDocument | None = None, *, fetch: HttpExchange | None | str = "default",
                  **overrides: Any) -> FederationMetadata:
    """The ``metadata`` fact for ``doc`` (default: :func:`document`) fetched over HTTPS from the
    standard URL; pass ``source_kind="file"`` (and ``fetch=None``) for a file."""
    if doc is None and "document" not in overrides:
        doc = document()
    exchange = http_exchange() if fetch == "default" else fetch
    values: dict[str, Any] = dict(
        source=exchange.url if isinstance(exchange, HttpExchange) else "FederationMetadata.xml",
        source_kind="url" if isinstance(exchange, HttpExchange) else "file",
        fetch=exchange, size_bytes=48_213, sha256="AB" * 32, has_bom=False,
        content_type=exchange.headers.get("content-type") if isinstance(exchange, HttpExchange) else None,
        looks_like_html=False, refused_construct=None, parse_error=None, document=doc,
    )
    values.update(overrides)
    return FederationMetadata(**values)


def replace(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported for tests."""
    return dataclasses.replace(obj, **changes)


# --- real corpus files --------------------------------------------------------------------------

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def decode_certificate(b64: str) -> CertificateInfo:
    """Decode base64 DER with cryptography into a CertificateInfo (test helper, not the probe)."""
    der = base64.b64decode("".join(b64.split()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
    problems = tuple(str(w.message) for w in caught)
    key_type = "RSA" if isinstance(key, rsa.RSAPublicKey) else ("EC" if isinstance(key, ec.EllipticCurvePublicKey)
                                                               else type(key).__name__)
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    hash_alg = cert.signature_hash_algorithm
    return CertificateInfo(
        der_b64=base64.b64encode(der).decode(), sha1=hashlib.sha1(der).hexdigest().upper(),
        sha256=hashlib.sha256(der).hexdigest().upper(), decodable=True,
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        public_key_type=key_type, public_key_bits=getattr(key, "key_size", None),
        signature_algorithm=cert.signature_algorithm_oid.dotted_string, signature_hash=hash_alg.name if hash_alg else None,
        subject_cn=str(cn[0].value) if cn else None, problems=problems,
    )


def corpus_document(path: Path, signature_status: SignatureStatus = SignatureStatus.VALID) -> MetadataDocument:
    """A MetadataDocument read from a real corpus file (roles, keys, endpoints, claims, NameID
    formats). The signature is not verified here: ``signature_status`` is what SOURCES.md records
    for the file, and the signer is the certificate embedded in the signature's KeyInfo."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    root = etree.fromstring(path.read_bytes(), parser)
    roles = []
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).namespace != _MD:
            continue
        name = etree.QName(el).localname
        if not name.endswith("Descriptor"):
            continue
        xsi_type = el.get(_XSI_TYPE)
        kds = tuple(
            KeyDescriptorInfo(KeyUse(kd.get("use") or "unspecified"),
                              tuple(decode_certificate(x.text) for x in kd.iter(f"{{{_DS}}}X509Certificate")))
            for kd in el.findall(f"{{{_MD}}}KeyDescriptor"))
        endpoints = []
        for child in el:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if child.get("Location"):
                endpoints.append(MetadataEndpoint(local, child.get("Binding"), child.get("Location")))
            elif local.endswith("Endpoint"):
                address = next((a.text.strip() for a in child.iter("{*}Address") if a.text), None)
                endpoints.append(MetadataEndpoint(local, None, address))
        claims = tuple(c.get("Uri") for c in el.iter("{*}ClaimType") if c.get("Uri"))
        claims += tuple(a.get("Name") for a in el.iter(f"{{{_SAML}}}Attribute") if a.get("Name"))
        roles.append(RoleInfo(name, xsi_type.split(":")[-1] if xsi_type else name,
                              tuple((el.get("protocolSupportEnumeration") or "").split()), kds, tuple(endpoints),
                              claim_types_offered=claims,
                              nameid_formats=tuple(n.text.strip() for n in el.findall(f"{{{_MD}}}NameIDFormat"))))
    sig_el = root.find(f"{{{_DS}}}Signature")
    embedded = None
    if sig_el is not None:
        x = sig_el.find(f".//{{{_DS}}}X509Certificate")
        embedded = decode_certificate(x.text).sha1 if x is not None else None
        method = sig_el.find(f".//{{{_DS}}}SignatureMethod").get("Algorithm")
        digests = tuple(d.get("Algorithm") for d in sig_el.iter(f"{{{_DS}}}DigestMethod"))
        verified = signature_status in (SignatureStatus.VALID, SignatureStatus.VALID_SHA1)
        sig = SignatureInfo(signature_status, "as recorded in tests/corpus/SOURCES.md", method, digests,
                            embedded if verified else None, embedded,
                            sig_el.find(f".//{{{_DS}}}Reference").get("URI"))
    else:
        sig = SignatureInfo(SignatureStatus.UNSIGNED, "no ds:Signature element")
    raw_until = root.get("validUntil")
    until = datetime.fromisoformat(raw_until.replace("Z", "+00:00")) if raw_until else None
    return MetadataDocument(root.get("entityID"), root.get("ID"), until, raw_until,
                            root.get("cacheDuration"), tuple(roles), sig)


def internal_dns(config: Any, timeout: float = 5.0, seconds: float = 120.0) -> Any:
    """The DNS client of the internal view a run of ``config`` would use (the run's network, as
    ``probe_directory`` builds it), asking for at most ``seconds``: for calling
    ``gather_directory`` outside the engine."""
    import time

    from adfs_readiness.net import Network
    from adfs_readiness.probes.directory import internal_dns as directory_dns

    return directory_dns(Network(timeout_seconds=timeout).resolver, config, deadline=time.monotonic() + seconds)
