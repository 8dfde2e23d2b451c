"""Facts: the typed, frozen results that probes return and checks read.

A fact is gathered once per run and shared by every check that needs it. When a probe cannot
gather its fact it returns a :class:`ProbeError` instead (errors as data, with a reason enum), and
the engine turns the dependent checks into ``error`` findings carrying that reason.

Facts serialise to JSON (:func:`to_jsonable`) so that a run's evidence can be saved and judged again
later. This module imports nothing of ours (DESIGN.md, "Layers").

Fact keys (the names checks list in ``requires``) are the ``*_FACT`` constants below.

This package holds the facts shared by several areas (errors, certificates, HTTP exchanges, TLS
chains) and the federation-metadata facts; each further area keeps its facts in a module of its
own here (``facts.dns``, ``facts.tls``, ``facts.directory``, ...), importing only from this package.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Mapping

__all__ = [
    "METADATA_FACT",
    "ProbeErrorKind",
    "ProbeError",
    "CertificateInfo",
    "TlsPeerChain",
    "Redirect",
    "HttpExchange",
    "SignatureStatus",
    "SignatureInfo",
    "KeyUse",
    "KeyDescriptorInfo",
    "MetadataEndpoint",
    "RoleInfo",
    "MetadataDocument",
    "FederationMetadata",
    "to_jsonable",
]

#: Fact key of :class:`FederationMetadata` (the federation metadata document and how it was fetched).
METADATA_FACT = "metadata"


class ProbeErrorKind(str, Enum):
    """Why a probe could not gather a fact (or a part of one)."""

    TIMEOUT = "timeout"
    DEADLINE = "deadline"  # the whole-run deadline passed before the probe finished
    REFUSED = "refused"  # connection refused / host unreachable
    NAME_NOT_RESOLVED = "name_not_resolved"
    TLS = "tls"  # handshake failed (protocol, certificate verification, ...)
    HTTP = "http"  # the server answered, but not with something usable
    TOO_LARGE = "too_large"  # the answer exceeded the download size cap
    MALFORMED = "malformed"  # the answer could not be parsed
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    NOT_CONFIGURED = "not_configured"  # the configuration does not say what to probe
    UNSUPPORTED = "unsupported"
    INTERNAL = "internal"  # a bug in the probe: traceback in the debug log
    # The machine running the check could not do its part (its resolver, its route, its trust
    # store or CA bundle, a local file): not determined, never the target's fault (exit 3).
    LOCAL = "local"
    # Refused by the tool's own network policy before anything was sent: a link-local or cloud
    # metadata address, credentials in a URL's userinfo (net/policy.py).
    POLICY = "policy"


@dataclass(frozen=True)
class ProbeError:
    """A probe's failure as data: ``kind``, a human ``reason`` and the ``target`` it was probing."""

    kind: ProbeErrorKind
    reason: str
    target: str | None = None

    def __str__(self) -> str:
        where = f" ({self.target})" if self.target else ""
        return f"{self.kind.value}: {self.reason}{where}"


@dataclass(frozen=True)
class CertificateInfo:
    """An X.509 certificate as decoded for judging, tolerant of damaged input.

    Every field that could not be read is None (or empty) and ``problems`` says why; a
    certificate that could not be decoded at all has ``decodable=False``. Thumbprints are upper-case
    hex over the DER bytes: ``sha1`` is what AD FS (Get-AdfsCertificate) and Entra show.

    Attributes:
        der_b64: the DER bytes, base64 (as found; possibly truncated).
        sha1 / sha256: thumbprints of the DER bytes (hex, upper case); empty when there were no
            bytes (text that is not base64: a placeholder), never a thumbprint of nothing.
        subject / issuer: RFC 4514 strings.
        serial_number: decimal string (may be negative for non-conforming certificates).
        not_before / not_after: aware UTC datetimes.
        public_key_type: "RSA", "EC", "DSA", "Ed25519", "Ed448" or None.
        public_key_bits: key size in bits (RSA modulus, EC curve size).
        signature_algorithm: dotted OID name, e.g. "sha256WithRSAEncryption".
        signature_hash: "sha1", "sha256", "md5", ... or None.
        subject_cn: the first subject common name.
        san_dns: DNS names of the subjectAltName extension.
        eku: extended key usage OIDs as dotted strings.
        is_ca: basicConstraints cA flag, None when absent.
        self_signed: subject == issuer and the signature verifies with its own key.
        crl_urls / ocsp_urls / ca_issuer_urls: revocation and AIA locations.
        problems: what is wrong with the encoding (negative serial, truncated DER, ...).
        encoding_problems: the encodings that break RFC 5280 / DER while OpenSSL and Windows
            still accept the certificate (an explicitly encoded DEFAULT value such as
            basicConstraints cA FALSE, a negative serial number): strict parsers (cryptography,
            rustls/webpki, Go) refuse such a certificate. The fields above were then read with a
            lenient decoder.
        unreadable_extensions: extensions that could not be read even leniently (their fields
            are empty because unknown, not because absent); "*" when none could be read.
    """

    der_b64: str
    sha1: str
    sha256: str
    decodable: bool
    subject: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    public_key_type: str | None = None
    public_key_bits: int | None = None
    signature_algorithm: str | None = None
    signature_hash: str | None = None
    subject_cn: str | None = None
    san_dns: tuple[str, ...] = ()
    eku: tuple[str, ...] = ()
    is_ca: bool | None = None
    self_signed: bool | None = None
    crl_urls: tuple[str, ...] = ()
    ocsp_urls: tuple[str, ...] = ()
    ca_issuer_urls: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    encoding_problems: tuple[str, ...] = ()
    unreadable_extensions: tuple[str, ...] = ()

    @property
    def der(self) -> bytes:
        return base64.b64decode(self.der_b64)

    @property
    def label(self) -> str:
        """Short identification for summaries: subject CN (or subject) and SHA-1 thumbprint
        ("no thumbprint" for text that held no certificate bytes at all)."""
        name = self.subject_cn or self.subject or "undecodable certificate"
        return f"{name} (SHA-1 {self.sha1})" if self.sha1 else f"{name} (no thumbprint: not a certificate)"


@dataclass(frozen=True)
class TlsPeerChain:
    """What a TLS server presented: ``chain`` as sent (leaf first), on ``address`` ("ip:port"),
    for the SNI name ``server_name``; ``protocol`` e.g. "TLSv1.3"; ``cipher`` the suite name.
    ``legacy_renegotiation`` is True when the handshake only worked with OpenSSL's
    SSL_OP_LEGACY_SERVER_CONNECT: the server does not support RFC 5746 secure renegotiation
    (OpenSSL 3 clients refuse it by default; the chain was collected by that retry)."""

    server_name: str
    address: str
    protocol: str | None
    cipher: str | None
    chain: tuple[CertificateInfo, ...]
    legacy_renegotiation: bool = False


@dataclass(frozen=True)
class Redirect:
    """One HTTP redirect seen while fetching: ``status`` (int), from ``url`` to ``location``."""

    status: int
    url: str
    location: str


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP(S) fetch with redirects followed by hand and recorded.

    A transport failure is data here (``error``), not an exception: a check such as
    metadata.reachable judges it. ``body_bytes`` counts what was read; ``truncated`` is True when
    the body exceeded the download cap and reading stopped there.

    Attributes:
        url: the URL asked for. final_url: the URL of the last answer.
        connect_address: "ip:port" the connection went to when the name was pinned (like curl's
            --resolve); None when the name was resolved normally.
        status / reason: of the last answer (None when no answer).
        headers: a few response headers (content-type, content-length, date, server, location).
        elapsed_seconds: wall time of the whole exchange.
        tls: the peer chain of the last HTTPS connection, when captured.
        legacy_renegotiation: True when the answer came only from a retry that allowed legacy
            renegotiation (OpenSSL's SSL_OP_LEGACY_SERVER_CONNECT): the server does not support
            RFC 5746 secure renegotiation, which OpenSSL 3 clients refuse by default while
            browsers and Windows connect.
    """

    url: str
    final_url: str
    connect_address: str | None
    status: int | None
    reason: str | None
    headers: Mapping[str, str]
    redirects: tuple[Redirect, ...]
    elapsed_seconds: float
    body_bytes: int
    truncated: bool
    error: ProbeError | None = None
    tls: TlsPeerChain | None = None
    legacy_renegotiation: bool = False


class SignatureStatus(str, Enum):
    """The state of the enveloped XML signature of a metadata document."""

    VALID = "valid"
    VALID_SHA1 = "valid_sha1"  # verifies, but with RSA-SHA1 or a SHA-1 digest
    UNSIGNED = "unsigned"
    INVALID = "invalid"  # present, but does not verify (document changed after signing, ...)
    UNKNOWN_SIGNER = "unknown_signer"  # verifies only with a certificate the metadata does not list
    # Cannot be checked: the listed signing certificate is unreadable (a placeholder, not base64),
    # so neither "valid" nor "changed after signing" can be said.
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class SignatureInfo:
    """The verification result of a metadata document's signature.

    Attributes:
        status: see :class:`SignatureStatus`.
        reason: why, in words (the verifier's message for INVALID).
        signature_method / digest_methods: algorithm URIs from SignedInfo.
        signer_sha1: thumbprint of the listed signing certificate that verified the signature.
        embedded_certificate_sha1: thumbprint of the certificate in the signature's KeyInfo.
        reference_uri: the Reference URI (e.g. "#_abc"); must point at the root element.
    """

    status: SignatureStatus
    reason: str
    signature_method: str | None = None
    digest_methods: tuple[str, ...] = ()
    signer_sha1: str | None = None
    embedded_certificate_sha1: str | None = None
    reference_uri: str | None = None


class KeyUse(str, Enum):
    """``use`` attribute of a KeyDescriptor; UNSPECIFIED means the key serves both uses."""

    SIGNING = "signing"
    ENCRYPTION = "encryption"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class KeyDescriptorInfo:
    """One ``md:KeyDescriptor``: its use, the certificates it carries, and what was wrong with it."""

    use: KeyUse
    certificates: tuple[CertificateInfo, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetadataEndpoint:
    """An endpoint published by a role: ``kind`` is the element's local name
    (SingleSignOnService, SingleLogoutService, PassiveRequestorEndpoint,
    SecurityTokenServiceEndpoint, ...), with its SAML ``binding`` and ``location`` URL."""

    kind: str
    binding: str | None
    location: str | None


@dataclass(frozen=True)
class RoleInfo:
    """One role descriptor of the EntityDescriptor.

    Attributes:
        element: local name (IDPSSODescriptor, SPSSODescriptor, RoleDescriptor, ...).
        role_type: for RoleDescriptor the xsi:type local name (SecurityTokenServiceType,
            ApplicationServiceType, or whatever unknown type is there); else the element name.
        protocols: protocolSupportEnumeration split into URIs.
        key_descriptors / endpoints: in document order.
        claim_types_offered: ClaimType URIs (WS-Fed) and SAML Attribute names offered.
        nameid_formats: SAML NameIDFormat values.
    """

    element: str
    role_type: str
    protocols: tuple[str, ...]
    key_descriptors: tuple[KeyDescriptorInfo, ...]
    endpoints: tuple[MetadataEndpoint, ...]
    claim_types_offered: tuple[str, ...] = ()
    nameid_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetadataDocument:
    """A parsed SAML 2.0 metadata ``EntityDescriptor``.

    Attributes:
        entity_id: the entityID attribute.
        document_id: the ID attribute (what the signature's Reference points at).
        valid_until: aware UTC datetime, None when absent or unparseable (see ``valid_until_raw``).
        cache_duration: the xs:duration string as published.
        roles: every role descriptor, unknown types included.
        signature: the verification result.
    """

    entity_id: str | None
    document_id: str | None
    valid_until: datetime | None
    valid_until_raw: str | None
    cache_duration: str | None
    roles: tuple[RoleInfo, ...]
    signature: SignatureInfo

    def key_descriptors(self, use: KeyUse | None = None) -> list[tuple[RoleInfo, KeyDescriptorInfo]]:
        """Every (role, KeyDescriptor) pair; with ``use`` only those usable for it (UNSPECIFIED
        keys count for both uses, as the SAML metadata spec says)."""
        pairs = []
        for role in self.roles:
            for kd in role.key_descriptors:
                if use is None or kd.use in (use, KeyUse.UNSPECIFIED):
                    pairs.append((role, kd))
        return pairs

    def certificates(self, use: KeyUse) -> list[CertificateInfo]:
        """Distinct decodable-or-not certificates for ``use``, by SHA-1, in document order."""
        seen: dict[str, CertificateInfo] = {}
        for _, kd in self.key_descriptors(use):
            for cert in kd.certificates:
                seen.setdefault(cert.sha1, cert)
        return list(seen.values())


@dataclass(frozen=True)
class FederationMetadata:
    """The federation metadata fact (key ``metadata``).

    Attributes:
        source: the URL fetched or the file path read.
        source_kind: "url" or "file".
        fetch: the HTTP exchange (None for a file).
        size_bytes / sha256: of the bytes parsed (None when nothing was read).
        has_bom: the bytes start with a UTF-8 byte-order mark.
        content_type: Content-Type header (None for a file).
        looks_like_html: the answer is an HTML page (typically a sign-in page) rather than XML.
        refused_construct: "DTD", "entity declaration" or "external reference" when the parser
            refused the document for safety.
        parse_error: why the bytes are not a usable metadata document (None when they are).
        document: the parsed document (None when it could not be parsed).
    """

    source: str
    source_kind: str
    fetch: HttpExchange | None
    size_bytes: int | None
    sha256: str | None
    has_bom: bool
    content_type: str | None
    looks_like_html: bool
    refused_construct: str | None
    parse_error: str | None
    document: MetadataDocument | None


def to_jsonable(value: Any, *, total: bool = False) -> Any:
    """Convert facts, model objects, enums, datetimes and bytes to JSON-ready values.

    Dataclasses become dicts (field order kept), enums their value, datetimes ISO 8601 strings,
    bytes base64, tuples lists, sets sorted lists (the same facts give the same bytes). Raises
    TypeError for anything else unknown. With ``total`` it never raises (what reports use, so one
    odd evidence value never breaks a report): unknown objects become ``str(value)`` and non-finite
    floats (NaN, infinity, which JSON cannot carry) strings.
    """
    if isinstance(value, Enum):
        # Checked before str: a (str, Enum) is also a str and would otherwise pass through unchanged.
        return to_jsonable(value.value, total=total)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return str(value) if total and not math.isfinite(value) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), total=total) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, total=total) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_jsonable(v, total=total) for v in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, total=total) for v in value]
    if total:
        return str(value)
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")

