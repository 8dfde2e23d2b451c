"""TLS facts: which address presented which certificate chain for the federation service name,
how that chain verifies from the external and the internal point of view, which protocol
versions each address accepts; and the facts read from a local certificate file
(``check --certificate FILE``).

Fact keys: :data:`TLS_FACT` (:class:`TlsFacts`) and :data:`CERTIFICATE_FILE_FACT`
(:class:`CertificateFile`). Imports only from :mod:`adfs_readiness.facts` (DESIGN.md, "Layers").

Both facts offer ``calendar_certificates()``: the certificates they saw, with role and place, for
the run's certificate calendar (see :mod:`adfs_readiness.calendar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from adfs_readiness.facts import CertificateInfo, ProbeError, TlsPeerChain

__all__ = [
    "TLS_FACT",
    "CERTIFICATE_FILE_FACT",
    "SERVER_AUTH_EKU",
    "ANY_EKU",
    "TrustFailure",
    "TrustStoreInfo",
    "ChainVerification",
    "ViewVerification",
    "ProtocolSupport",
    "EndpointRole",
    "TlsEndpoint",
    "TlsFacts",
    "SeenCertificate",
    "CertificateFile",
]

#: Fact key of :class:`TlsFacts`.
TLS_FACT = "tls"
#: Fact key of :class:`CertificateFile`.
CERTIFICATE_FILE_FACT = "certificate_file"

#: id-kp-serverAuth (RFC 5280 section 4.2.1.12) and anyExtendedKeyUsage.
SERVER_AUTH_EKU = "1.3.6.1.5.5.7.3.1"
ANY_EKU = "2.5.29.37.0"


class TrustFailure(str, Enum):
    """Why a chain did not verify, classified from the verifier's answer and the chain itself."""

    EXPIRED = "expired"  # a certificate of the chain is past its notAfter
    NOT_YET_VALID = "not_yet_valid"  # a certificate of the chain is before its notBefore
    NAME_MISMATCH = "name_mismatch"  # the leaf does not name the federation service
    SELF_SIGNED = "self_signed"  # the leaf is its own issuer and not a trusted root
    UNTRUSTED_ROOT = "untrusted_root"  # the chain ends at a CA the trust store does not hold
    INTERMEDIATE_MISSING = "intermediate_missing"  # only the leaf was sent; its issuer is unknown
    WRONG_EKU = "wrong_eku"  # no serverAuth extended key usage
    WEAK_SIGNATURE = "weak_signature"  # signed with an algorithm the verifier forbids (RSA-SHA1, MD5)
    WEAK_KEY = "weak_key"  # a public key the verifier forbids (too small, unsupported)
    NO_CERTIFICATE = "no_certificate"  # nothing (decodable) to verify
    OTHER = "other"  # anything else the verifier refused (see the message)


@dataclass(frozen=True)
class TrustStoreInfo:
    """A trust store as used for one view: ``view`` ("external"/"internal"), the ``sources``
    (files) loaded, how many certificates it holds, and the files or certificates that could not
    be loaded (``problems``). ``local_failure``: a CA bundle the admin configured for this view
    (``tls.ca_bundle``, ``tls.external_ca_bundle``) that this machine could not load (missing,
    unreadable, no certificate in it), as a ProbeError of kind ``local``: the chain verdicts of
    this view are then not determined (issue 11 section 1), never a failure of the target."""

    view: str
    sources: tuple[str, ...]
    certificates: int
    problems: tuple[str, ...] = ()
    local_failure: ProbeError | None = None


@dataclass(frozen=True)
class ChainVerification:
    """One run of cryptography's X.509 server verifier (``x509.verification``).

    Attributes:
        trusted: the verifier built a path to a trusted root.
        failure: the classified reason when not trusted.
        message: the verifier's own message ("verified" on success).
        name: the DNS name verified (the federation service name, or the leaf's own name for a
            path-only verification).
        at: ISO 8601 time the verification was made for.
        path_sha1: SHA-1 thumbprints of the verified path, leaf first (empty when it failed).
        verifier: "cryptography" (the strict verifier) or "openssl" (OpenSSL's verifier, used
            when the strict one refused only because of how a certificate is encoded: trust is
            then judged as OpenSSL and Windows clients judge it).
    """

    trusted: bool
    failure: TrustFailure | None
    message: str
    name: str | None
    at: str
    path_sha1: tuple[str, ...] = ()
    verifier: str = "cryptography"


@dataclass(frozen=True)
class ViewVerification:
    """How a chain verifies from one point of view.

    Attributes:
        view: "external" (system trust store + certifi, what any client on the internet trusts)
            or "internal" (that, plus the configured enterprise CA bundle).
        service: verification for the federation service name at the run's time: what a client
            of this view experiences.
        path: verification of the chain alone: with the leaf's own name, at a time within the
            leaf's validity, so that trust is judged apart from the name and expiry problems
            (which tls.certificate-name and tls.certificate-expiry judge).
    """

    view: str
    service: ChainVerification
    path: ChainVerification


@dataclass(frozen=True)
class ProtocolSupport:
    """Whether a server accepted a handshake pinned to one TLS version.

    Attributes:
        version: "TLSv1", "TLSv1.1", "TLSv1.2" or "TLSv1.3".
        accepted: True / False, None when it could not be determined (no TCP connection).
        detail: the cipher suite negotiated, or why the handshake failed.
        security_level_lowered: OpenSSL's security level was set to 0 for this probe only (TLS
            1.0/1.1 are refused by OpenSSL 3 at the default level, which would hide what the
            server accepts).
    """

    version: str
    accepted: bool | None
    detail: str
    security_level_lowered: bool = False


class EndpointRole(str, Enum):
    """Why an address was probed."""

    SERVICE = "service"  # the federation service name (pinned to service_address, or resolved)
    NODE = "node"  # a configured AD FS farm node
    PROXY = "proxy"  # a configured Web Application Proxy
    CERTAUTH = "certauth"  # the certificate-authentication port (49443) of one of the above


@dataclass(frozen=True)
class TlsEndpoint:
    """One address probed with SNI = the federation service name.

    Attributes:
        role: see :class:`EndpointRole`; ``of_role`` is the role of the address a CERTAUTH
            endpoint belongs to.
        address: "host:port" as configured (or the service name and port).
        connected_to: "ip:port" actually connected to (the chain's ``address``), None when no
            handshake succeeded.
        chain: the chain as the server sent it (None when the handshake failed).
        error: the failure of the handshake with a default (modern) client; kind ``tls`` means
            the server answered TCP but the TLS handshake failed (a finding about the server,
            e.g. "unsafe legacy renegotiation disabled"), other kinds mean it was not reached.
        chain_from_legacy_handshake: the chain was obtained only with a legacy handshake (TLS
            1.0/1.1, OpenSSL security level 0) after the modern one failed.
        leaf_public_key_sha256: SHA-256 of the leaf's SubjectPublicKeyInfo (hex, upper case):
            equal on two servers = the same key pair.
        verifications: external and internal views (empty without a chain).
        protocols: the pinned-version handshakes (empty for CERTAUTH endpoints).
    """

    role: EndpointRole
    address: str
    server_name: str
    connected_to: str | None
    chain: TlsPeerChain | None
    error: ProbeError | None
    chain_from_legacy_handshake: bool = False
    leaf_public_key_sha256: str | None = None
    verifications: tuple[ViewVerification, ...] = ()
    protocols: tuple[ProtocolSupport, ...] = ()
    of_role: EndpointRole | None = None

    @property
    def leaf(self) -> CertificateInfo | None:
        """The server's own certificate (first sent), None without a chain."""
        return self.chain.chain[0] if self.chain is not None and self.chain.chain else None

    def view(self, name: str) -> ViewVerification | None:
        """The verification of view ``name`` ("external"/"internal"), None when absent."""
        return next((v for v in self.verifications if v.view == name), None)


@dataclass(frozen=True)
class SeenCertificate:
    """A certificate seen in a run, for the certificate calendar: its ``role`` (e.g. "SSL",
    "token-signing", "LDAPS"), the ``certificate`` and ``where`` it was seen."""

    role: str
    certificate: CertificateInfo
    where: str


@dataclass(frozen=True)
class TlsFacts:
    """The TLS fact (key ``tls``).

    Attributes:
        service_name: the federation service name every address was asked for (SNI); None when
            none is configured (an offline run: nothing was probed).
        endpoints: service first, then nodes, proxies, then certificate-authentication ports.
        trust_stores: the external and internal stores used.
        certauth_port: the port probed for certificate authentication (None when out of scope).
    """

    service_name: str | None
    endpoints: tuple[TlsEndpoint, ...]
    trust_stores: tuple[TrustStoreInfo, ...]
    certauth_port: int | None = None

    def by_role(self, *roles: EndpointRole) -> list[TlsEndpoint]:
        """Endpoints of the given roles, in probe order."""
        return [e for e in self.endpoints if e.role in roles]

    def calendar_certificates(self) -> list[SeenCertificate]:
        """Every certificate the servers sent: the leaf as "SSL", the others as "SSL chain"."""
        seen = []
        for endpoint in self.endpoints:
            if endpoint.chain is None:
                continue
            for index, cert in enumerate(endpoint.chain.chain):
                seen.append(SeenCertificate("SSL" if index == 0 else "SSL chain", cert,
                                            f"{endpoint.role.value} {endpoint.address}"))
        return seen


@dataclass(frozen=True)
class CertificateFile:
    """A certificate file given with ``check --certificate FILE`` (key ``certificate_file``).

    Attributes:
        path: the file (None when no file was given: the certificate-file checks skip).
        file_format: "PEM", "DER" or "PKCS12" (None when unreadable).
        certificates: the leaf first (the certificate whose key is in the file, else the first
            non-CA certificate), then the others in file order.
        private_key_present: the file holds a private key.
        private_key_matches: the private key belongs to the leaf (None without a key).
        private_key_type / private_key_bits: of the private key, when present.
        leaf_public_key_sha256: SHA-256 of the leaf's SubjectPublicKeyInfo.
        verifications: external and internal views, with the file's other certificates as the
            intermediates a server would send.
        error: why the file could not be read at all (wrong password, not a certificate, ...).
        problems: what else was wrong (undecodable blocks, ...).
        password_missing: the file is protected by a password (a PKCS#12 structure that does not
            open without one, or an encrypted PEM private key) and none was given: what it holds
            was not determined (the admin's input is missing, not the certificate broken).
        trust_stores: the external and internal stores the chain was verified with (a CA bundle
            this machine could not load is recorded there as a local failure).
    """

    path: str | None
    file_format: str | None = None
    certificates: tuple[CertificateInfo, ...] = ()
    private_key_present: bool = False
    private_key_matches: bool | None = None
    private_key_type: str | None = None
    private_key_bits: int | None = None
    leaf_public_key_sha256: str | None = None
    verifications: tuple[ViewVerification, ...] = ()
    error: str | None = None
    problems: tuple[str, ...] = ()
    password_missing: bool = False
    trust_stores: tuple[TrustStoreInfo, ...] = ()

    @property
    def leaf(self) -> CertificateInfo | None:
        return self.certificates[0] if self.certificates else None

    def view(self, name: str) -> ViewVerification | None:
        return next((v for v in self.verifications if v.view == name), None)

    def calendar_certificates(self) -> list[SeenCertificate]:
        """The file's leaf as "SSL (file)", the others as "SSL chain (file)"."""
        return [SeenCertificate("SSL (file)" if i == 0 else "SSL chain (file)", c, f"file {self.path}")
                for i, c in enumerate(self.certificates)]
