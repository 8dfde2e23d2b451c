"""A small test PKI for the demo lab: a root CA, an intermediate CA, TLS server certificates and
AD FS-style self-signed token-signing / token-decrypting certificates.

Every validity period is computed from the injected ``now`` (an aware UTC datetime), never from the
system clock, so a lab built for a given ``now`` is the same whenever it runs. Serial numbers are
derived from the certificate's role, so a :class:`LabPki` made twice with the same ``now`` issues the
same certificates (the keys are cached per process, see :func:`_rsa_key`).

AD FS makes its token-signing and token-decrypting certificates itself: self-signed, RSA 2048,
SHA-256, one year, subject ``CN=ADFS Signing - <federation service name>`` /
``CN=ADFS Encryption - <name>``, renewed by AutoCertificateRollover
(https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ts-td-certs-ad-fs).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["LabCertificate", "LabPki"]

_ORGANIZATION = "Contoso Lab"


@functools.cache
def _rsa_key(bits: int, slot: str) -> rsa.RSAPrivateKey:
    """An RSA key of ``bits`` for a named ``slot`` ("root", "tls", "token-signing-0", ...).

    A pure cache, not shared state: generating an RSA key takes tens to hundreds of milliseconds and
    the tests start many labs, so each (size, slot) key is made once per process and reused. The
    slots keep the keys of different roles distinct; the set of slots is small and fixed by the lab.
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _serial(label: str) -> int:
    # Positive and below 2**159 (RFC 5280 section 4.1.2.2 allows at most 20 octets).
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:19], "big") | 1


def _name(common_name: str, *, organization: bool = True) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION))
    return x509.Name(attributes)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# DER of the AlgorithmIdentifiers (RFC 4055 / RFC 3279): sha256WithRSAEncryption and
# sha1WithRSAEncryption, each with NULL parameters; the OIDs have the same length.
_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _sha1_signed(cert: x509.Certificate, signer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """``cert`` re-signed with RSA-SHA1 (a weak certificate for the lab). cryptography refuses
    SHA-1 in CertificateBuilder.sign, so the TBS bytes get the SHA-1 algorithm identifier and are
    signed directly; the Certificate SEQUENCE is assembled per RFC 5280 section 4.1."""
    from cryptography.hazmat.primitives.asymmetric import padding  # noqa: PLC0415 - lab-only path

    tbs = cert.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA, 1)
    signature = signer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - a weak lab certificate
    bit_string = b"\x03" + _der_length(len(signature) + 1) + b"\x00" + signature
    body = tbs + _SHA1_RSA + bit_string
    return x509.load_der_x509_certificate(b"\x30" + _der_length(len(body)) + body)


@dataclass(frozen=True)
class LabCertificate:
    """A certificate the lab issued, with its private key.

    Attributes:
        cert: the certificate (cryptography ``x509.Certificate``).
        key: its RSA private key.
        chain: the certificates a server sends, leaf first (leaf + intermediate for a TLS certificate
            issued by the intermediate; just the leaf otherwise).
    """

    cert: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...]

    @property
    def der(self) -> bytes:
        """The certificate's DER bytes."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def sha1(self) -> str:
        """The SHA-1 thumbprint (upper-case hex), as AD FS and Entra show it."""
        return self.cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - a thumbprint, not a signature

    def cert_pem(self) -> bytes:
        """The leaf certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        """The chain (leaf first) as concatenated PEM, the shape ``ssl.load_cert_chain`` expects."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (lab use only)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write_pem(self, chain_path: Path, key_path: Path) -> None:
        """Write the chain PEM to ``chain_path`` and the key PEM to ``key_path`` (mode 0600)."""
        chain_path.write_bytes(self.chain_pem())
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem())


class LabPki:
    """A root CA and an intermediate CA valid around ``now``, issuing lab certificates.

    Args:
        now: the lab's clock, an aware UTC datetime; every validity is relative to it.
        key_size: RSA modulus size in bits of the CA keys (2048 keeps the tests fast).

    The CA certificates are made on first use. Keys come from a per-process cache (see
    :func:`_rsa_key`), so all certificates of one role share a key across instances.
    """

    def __init__(self, now: datetime, key_size: int = 2048) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime (UTC)")
        self.now = now
        self.key_size = key_size
        self._root: LabCertificate | None = None
        self._intermediate: LabCertificate | None = None
        self._token_counts: dict[str, int] = {}

    # --- the CAs -----------------------------------------------------------------------------

    @property
    def root(self) -> LabCertificate:
        """The self-signed root CA (valid from ``now`` - 1 year to ``now`` + 10 years)."""
        if self._root is None:
            key = _rsa_key(self.key_size, "root-ca")
            name = _name("Contoso Lab Root CA")
            builder = self._ca_builder(name, name, key.public_key(), "root-ca", years=10, path_length=1)
            cert = builder.sign(key, hashes.SHA256())
            self._root = LabCertificate(cert, key, (cert,))
        return self._root

    @property
    def intermediate(self) -> LabCertificate:
        """The issuing CA, signed by the root (valid from ``now`` - 1 year to ``now`` + 5 years)."""
        if self._intermediate is None:
            root = self.root
            key = _rsa_key(self.key_size, "intermediate-ca")
            builder = self._ca_builder(_name("Contoso Lab Issuing CA 1"), root.cert.subject,
                                       key.public_key(), "intermediate-ca", years=5, path_length=0)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
            cert = builder.sign(root.key, hashes.SHA256())
            self._intermediate = LabCertificate(cert, key, (cert,))
        return self._intermediate

    def ca_bundle_pem(self) -> bytes:
        """The root CA certificate as PEM: what a client trusts to verify lab TLS certificates."""
        return self.root.cert_pem()

    def _ca_builder(self, subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey,
                    label: str, *, years: int, path_length: int) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(_serial(f"{label}|{self.now.isoformat()}"))
            .not_valid_before(self.now - timedelta(days=365))
            .not_valid_after(self.now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    # --- TLS server certificates ---------------------------------------------------------------

    def issue_tls(
        self,
        names: list[str],
        *,
        days_valid: float = 395,
        not_before_offset_days: float = -30,
        key_size: int = 2048,
        hash: hashes.HashAlgorithm | None = None,  # noqa: A002 - the name the lab's callers use
        issuer: Literal["intermediate", "root", "self"] = "intermediate",
        server_auth: bool = True,
        key_slot: str | None = None,
    ) -> LabCertificate:
        """Issue a TLS server certificate for ``names`` (DNS names or IP addresses, first = CN).

        Args:
            names: subjectAltName entries; the first is also the subject CN. At least one.
            days_valid: length of the validity period in days.
            not_before_offset_days: notBefore relative to ``now`` in days (negative = in the past);
                the defaults give a certificate issued 30 days ago with 365 days left.
            key_size: RSA modulus size in bits of the leaf key.
            hash: the signature hash (default SHA-256; SHA-1 makes a weak certificate: cryptography
                no longer signs with SHA-1, so the certificate is re-signed, see :func:`_sha1_signed`).
            issuer: "intermediate" (chain = leaf + intermediate), "root" (chain = leaf) or
                "self" (a self-signed leaf).
            server_auth: the EKU is serverAuth (False: clientAuth only, a wrong-EKU certificate).
            key_slot: a key slot name of its own (default: one key per issuer kind), for a
                certificate with a different key pair.

        Returns a :class:`LabCertificate`. Raises ValueError for an empty ``names``.
        """
        if not names:
            raise ValueError("a TLS certificate needs at least one name")
        key = _rsa_key(key_size, key_slot or f"tls-{issuer}")
        not_before = self.now + timedelta(days=not_before_offset_days)
        not_after = not_before + timedelta(days=days_valid)
        label = (f"tls|{issuer}|{','.join(names)}|{not_before.isoformat()}|{not_after.isoformat()}|{key_size}"
                 f"|{server_auth}|{key_slot}|{type(hash).__name__}")
        subject = _name(names[0])
        if issuer == "self":
            signer_key, issuer_name, chain_tail = key, subject, ()
        else:
            ca = self.intermediate if issuer == "intermediate" else self.root
            signer_key, issuer_name, chain_tail = ca.key, ca.cert.subject, (
                (ca.cert,) if issuer == "intermediate" else ())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(_serial(label))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server_auth
                                                  else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer != "self":
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier("http://pki.contoso.test/crl/issuing.crl")],
                relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
        if isinstance(hash, hashes.SHA1):
            cert = _sha1_signed(builder.sign(signer_key, hashes.SHA256()), signer_key)
        else:
            cert = builder.sign(signer_key, hash or hashes.SHA256())
        return LabCertificate(cert, key, (cert, *chain_tail))

    # --- AD FS token certificates -------------------------------------------------------------

    def token_certificate(
        self,
        kind: Literal["signing", "encryption"],
        fs_name: str,
        not_before: datetime,
        not_after: datetime,
        *,
        key_size: int = 2048,
        hash: hashes.HashAlgorithm | None = None,  # noqa: A002 - the name the lab's callers use
    ) -> LabCertificate:
        """A self-signed token-signing or token-decrypting certificate shaped like AD FS makes them:
        subject and issuer ``CN=ADFS Signing - <fs_name>`` (or ``ADFS Encryption``), no extensions.

        Args:
            kind: "signing" (token-signing) or "encryption" (token-decrypting).
            fs_name: the federation service name.
            not_before / not_after: aware datetimes of the validity period.
            key_size: RSA modulus size in bits (1024 makes a weak key for token-signing.key).
            hash: the signature hash (default SHA-256).

        Each call within a LabPki gets its own key slot (the n-th signing certificate uses slot n),
        so a rollover's two certificates have different keys.
        """
        if kind not in ("signing", "encryption"):
            raise ValueError(f"kind must be 'signing' or 'encryption', not {kind!r}")
        index = self._token_counts.get(kind, 0)
        self._token_counts[kind] = index + 1
        return self._self_signed(x509.Name([x509.NameAttribute(
            NameOID.COMMON_NAME, f"ADFS {'Signing' if kind == 'signing' else 'Encryption'} - {fs_name}")]),
            not_before, not_after, key=_rsa_key(key_size, f"token-{kind}-{index}"),
            serial_label=f"token|{kind}|{fs_name}|{not_before.isoformat()}|{not_after.isoformat()}|{key_size}|{index}",
            hash=hash)

    @staticmethod
    def _self_signed(name: x509.Name, not_before: datetime, not_after: datetime, *, key: rsa.RSAPrivateKey,
                     serial_label: str, hash: hashes.HashAlgorithm | None = None) -> LabCertificate:  # noqa: A002
        """A self-signed certificate without extensions (how Windows components make their own)."""
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(_serial(serial_label))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .sign(key, hash or hashes.SHA256())
        )
        return LabCertificate(cert, key, (cert,))

    def self_signed(self, common_name: str, not_before: datetime, not_after: datetime, *,
                    organizational_unit: str | None = None, key_slot: str = "self-signed") -> LabCertificate:
        """A self-signed certificate without extensions, subject ``CN=<common_name>`` (and
        ``OU=<organizational_unit>``): the shape of the certificates Windows components make for
        themselves, e.g. the Azure MFA adapter's (``CN=<tenant id>, OU=Microsoft AD FS Azure MFA``,
        New-AdfsAzureMfaTenantCertificate) and the Web Application Proxy's proxy-trust certificate
        (``CN=ADFS ProxyTrust - <computer name>``). ``key_slot`` names its key (see :func:`_rsa_key`)."""
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organizational_unit:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, organizational_unit))
        return self._self_signed(x509.Name(attributes), not_before, not_after, key=_rsa_key(2048, key_slot),
                                 serial_label=f"self|{common_name}|{organizational_unit}|{not_before.isoformat()}|"
                                              f"{not_after.isoformat()}|{key_slot}")
