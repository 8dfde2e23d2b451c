"""Tolerant X.509 decoding into :class:`~adfs_readiness.facts.CertificateInfo`.

Certificates reach us from federation metadata (base64 in ``ds:X509Certificate``), from TLS
handshakes (DER) and from files (PEM). Real AD FS and Entra certificates are not always
conforming (Entra's 2014 signing certificate has a negative serial number), and a readiness tool
must describe what it was given rather than crash, so nothing here raises and no warning escapes:
every field that cannot be read is None/empty and ``problems`` says why.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import warnings
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from adfs_readiness.facts import CertificateInfo
from adfs_readiness.pem import pem_blocks

__all__ = [
    "describe_certificate",
    "load_pem_certificates",
    "certificate_from_base64",
    "load_x509_quietly",
]

# RFC 5280 4.1.2.2: "The serial number MUST be a positive integer ... no longer than 20 octets".
_RFC5280_SERIAL = "RFC 5280 4.1.2.2 requires a positive integer"
_MAX_SERIAL_OCTETS = 20

#: PEM labels of a certificate (RFC 7468 5.1, and the older "X509 CERTIFICATE" some tools write),
#: found with the linear scanner of adfs_readiness.pem (a regex with a lazy ``.*?`` is quadratic
#: on a file full of BEGIN lines).
_PEM_CERTIFICATE_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")

# Signature OIDs that cryptography does not name but AD FS/Entra certificates use: the OIW
# "sha1WithRSASignature" (Entra's 2014 signing certificate, makecert-era certificates).
_EXTRA_OID_NAMES = {"1.3.14.3.2.29": "sha1WithRSASignature"}


def _thumbprints(der: bytes) -> tuple[str, str]:
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()


def _warning_problem(message: str) -> str:
    if "serial number" in message and "positive" in message:
        # The serial's sign is reported from the value itself (see _serial); this text is kept
        # only when cryptography warns about something we do not recognise.
        return ""
    return f"cryptography warned while loading: {message}"


def load_x509_quietly(der: bytes) -> tuple[x509.Certificate | None, tuple[str, ...]]:
    """Load DER bytes as a cryptography certificate without letting a warning escape.

    Returns ``(certificate or None, problems)``; never raises. Warnings cryptography emits while
    loading (e.g. CryptographyDeprecationWarning for a negative serial number, which fails a run
    under ``python -W error``) are caught and turned into problem strings.
    """
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cert = x509.load_der_x509_certificate(der)
        except Exception as exc:  # noqa: BLE001 - any decoding failure is data here
            cert = None
            problems.append(f"could not decode the certificate DER ({len(der)} bytes): {exc}")
    for warning in caught:
        text = _warning_problem(str(warning.message))
        if text and text not in problems:
            problems.append(text)
    return cert, tuple(problems)


def _quiet(getter: Any) -> tuple[Any, str | None]:
    """Call ``getter()`` with warnings caught; return (value, None) or (None, error text)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getter(), None
        except Exception as exc:  # noqa: BLE001 - a field that cannot be read is a problem, not a crash
            return None, f"{type(exc).__name__}: {exc}"


def _serial(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    serial, error = _quiet(lambda: cert.serial_number)
    if error:
        problems.append(f"serial number could not be read: {error}")
        return
    fields["serial_number"] = str(serial)
    if serial < 0:
        problems.append(f"serial number is negative ({_RFC5280_SERIAL})")
        fields.setdefault("encoding_problems", []).append(f"negative serial number ({_RFC5280_SERIAL})")
    elif serial == 0:
        problems.append(f"serial number is zero ({_RFC5280_SERIAL})")
    # Two's-complement length, as encoded in the DER INTEGER.
    octets = (serial.bit_length() + 8) // 8 if serial >= 0 else ((-serial - 1).bit_length() + 8) // 8
    if octets > _MAX_SERIAL_OCTETS:
        problems.append(f"serial number is {octets} octets long (RFC 5280 4.1.2.2 allows at most 20)")


def _names(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    for field in ("subject", "issuer"):
        text, error = _quiet(lambda field=field: getattr(cert, field).rfc4514_string())
        if error:
            problems.append(f"{field} name could not be decoded: {error}")
        fields[field] = text
    cn, error = _quiet(lambda: cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    if not error and cn:
        value = cn[0].value
        fields["subject_cn"] = value if isinstance(value, str) else value.decode("utf-8", "replace")


def _validity(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    for field, attr in (("not_before", "not_valid_before_utc"), ("not_after", "not_valid_after_utc")):
        value, error = _quiet(lambda attr=attr: getattr(cert, attr))
        if error:
            problems.append(f"{field.replace('_', ' ')} date could not be read: {error}")
        fields[field] = value


def _public_key(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    key, error = _quiet(cert.public_key)
    if error:
        problems.append(f"public key could not be loaded: {error}")
        return
    if isinstance(key, rsa.RSAPublicKey):
        fields["public_key_type"], fields["public_key_bits"] = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        fields["public_key_type"], fields["public_key_bits"] = "EC", key.curve.key_size
    elif isinstance(key, dsa.DSAPublicKey):
        fields["public_key_type"], fields["public_key_bits"] = "DSA", key.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        fields["public_key_type"], fields["public_key_bits"] = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        fields["public_key_type"], fields["public_key_bits"] = "Ed448", 448


def _signature_algorithm(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    oid, error = _quiet(lambda: cert.signature_algorithm_oid)
    if error:
        problems.append(f"signature algorithm could not be read: {error}")
        return
    name = getattr(oid, "_name", None)
    if not name or name == "Unknown OID":
        name = _EXTRA_OID_NAMES.get(oid.dotted_string, oid.dotted_string)
    fields["signature_algorithm"] = name
    algorithm, error = _quiet(lambda: cert.signature_hash_algorithm)
    if error:
        problems.append(f"signature hash algorithm is not supported: {error}")
    elif algorithm is not None:
        fields["signature_hash"] = algorithm.name.lower()


def _uris(general_names: Any) -> list[str]:
    return [name.value for name in general_names or () if isinstance(name, x509.UniformResourceIdentifier)]


def _extensions(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    # cryptography parses all extensions at once: one malformed extension makes the whole set
    # unreadable, so the extension fields stay empty while the rest of the certificate is kept.
    extensions, error = _quiet(lambda: cert.extensions)
    if error:
        problems.append(f"extensions could not be parsed: {error}")
        fields.setdefault("encoding_problems", []).append(f"extensions are not valid DER ({_der_error(error)})")
        _lenient_extensions(cert, fields, problems)
        return
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            fields["san_dns"] = tuple(value.get_values_for_type(x509.DNSName))
        elif isinstance(value, x509.ExtendedKeyUsage):
            fields["eku"] = tuple(oid.dotted_string for oid in value)
        elif isinstance(value, x509.BasicConstraints):
            fields["is_ca"] = value.ca
        elif isinstance(value, x509.CRLDistributionPoints):
            fields["crl_urls"] = tuple(url for point in value for url in _uris(point.full_name))
        elif isinstance(value, x509.AuthorityInformationAccess):
            fields["ocsp_urls"] = tuple(
                url
                for d in value
                if d.access_method == AuthorityInformationAccessOID.OCSP
                for url in _uris([d.access_location])
            )
            fields["ca_issuer_urls"] = tuple(
                url
                for d in value
                if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
                for url in _uris([d.access_location])
            )


def _lenient_extensions(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    """Read the extensions one by one with asn1crypto, which tolerates what cryptography's strict
    DER parser refuses (e.g. an explicitly encoded default such as cA FALSE in basicConstraints,
    which some older CAs produce): an admin still needs the SAN names of such a certificate.
    Each extension that still fails is named in ``problems``; the rest are kept."""
    from asn1crypto import x509 as asn1_x509  # lazy: only damaged certificates need it

    tbs, error = _quiet(lambda: asn1_x509.TbsCertificate.load(cert.tbs_certificate_bytes))
    if error:
        problems.append(f"extensions could not be read leniently either: {error}")
        fields["unreadable_extensions"] = ("*",)
        return
    unreadable: list[str] = []
    for extension in tbs["extensions"] or ():
        name = extension["extn_id"].native

        def read(ext: Any = extension) -> Any:
            return ext["extn_value"].parsed.native

        value, error = _quiet(read)
        if error:
            problems.append(f"extension {name} could not be read: {error}")
            unreadable.append(str(name))
            continue
        if name == "subject_alt_name":
            fields["san_dns"] = tuple(v for v in value if isinstance(v, str) and not v.startswith(("http", "urn:")))
        elif name == "extended_key_usage":
            fields["eku"] = tuple(_purpose_oid(p) for p in value)
        elif name == "basic_constraints":
            fields["is_ca"] = bool(value.get("ca"))
        elif name == "crl_distribution_points":
            fields["crl_urls"] = tuple(u for point in value for u in (point.get("distribution_point") or [])
                                       if isinstance(u, str))
        elif name == "authority_information_access":
            fields["ocsp_urls"] = tuple(d["access_location"] for d in value if d["access_method"] == "ocsp")
            fields["ca_issuer_urls"] = tuple(d["access_location"] for d in value if d["access_method"] == "ca_issuers")
    fields["unreadable_extensions"] = tuple(unreadable)
    problems.append("the extensions above were read with a lenient parser; strict clients may reject this certificate")


def _der_error(error: str) -> str:
    """cryptography's parse error in words: "EncodedDefault" is a DEFAULT value encoded
    explicitly (X.690 11.5 forbids it in DER), e.g. basicConstraints cA FALSE."""
    if "EncodedDefault" in error:
        return "a DEFAULT value is encoded explicitly, which DER forbids (X.690 11.5), e.g. basicConstraints cA FALSE"
    return error


def _purpose_oid(purpose: str) -> str:
    """asn1crypto names well-known key purposes ("server_auth"); the facts hold dotted OIDs."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.KeyPurposeId.unmap(purpose) if purpose in asn1_x509.KeyPurposeId._map.values() else purpose


def _verify_own_signature(cert: x509.Certificate) -> bool:
    """Raise InvalidSignature/ValueError/TypeError when the certificate does not verify with its
    own key. verify_directly_issued_by refuses SHA-1 signatures in recent cryptography releases,
    yet Windows enterprise root CAs are commonly SHA-1, so RSA/EC/DSA fall back to a direct
    verification of the TBS bytes."""
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except InvalidSignature:
        return False
    except (ValueError, TypeError):
        key = cert.public_key()
        hash_algorithm = cert.signature_hash_algorithm
        if hash_algorithm is None:
            raise
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hash_algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hash_algorithm))
            elif isinstance(key, dsa.DSAPublicKey):
                key.verify(cert.signature, cert.tbs_certificate_bytes, hash_algorithm)
            else:
                raise
        except InvalidSignature:
            return False
        return True


def _self_signed(cert: x509.Certificate, fields: dict[str, Any], problems: list[str]) -> None:
    same_name, error = _quiet(lambda: cert.subject == cert.issuer)
    if error:
        return  # the unreadable name is already a problem
    if not same_name:
        fields["self_signed"] = False
        return
    verified, error = _quiet(lambda: _verify_own_signature(cert))
    if error:
        problems.append(f"self-signature could not be checked: {error}")
    else:
        fields["self_signed"] = verified


def describe_certificate(der: bytes) -> CertificateInfo:
    """Describe DER bytes as a :class:`CertificateInfo`; never raises, never lets a warning escape.

    Args:
        der: the certificate's DER encoding (possibly truncated or not a certificate at all).

    Returns:
        A CertificateInfo. Thumbprints (upper-case hex SHA-1/SHA-256) are always computed over the
        bytes given. Undecodable bytes give ``decodable=False`` and a problem naming the failure;
        a field that fails on its own (non-UTF-8 name, malformed extension, unsupported key) is
        None/empty with a problem, the other fields are kept. A serial number that is not positive
        is recorded as a problem (RFC 5280 section 4.1.2.2,
        https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2).
    """
    sha1, sha256 = _thumbprints(der)
    der_b64 = base64.b64encode(der).decode("ascii")
    cert, load_problems = load_x509_quietly(der)
    if cert is None:
        return CertificateInfo(der_b64=der_b64, sha1=sha1, sha256=sha256, decodable=False, problems=load_problems)
    fields: dict[str, Any] = {}
    problems: list[str] = list(load_problems)
    for reader in (_serial, _names, _validity, _public_key, _signature_algorithm, _extensions, _self_signed):
        try:
            reader(cert, fields, problems)
        except Exception as exc:  # noqa: BLE001 - last line of defence: never crash on a certificate
            problems.append(f"{reader.__name__.strip('_')} could not be read: {type(exc).__name__}: {exc}")
    if "encoding_problems" in fields:
        fields["encoding_problems"] = tuple(fields["encoding_problems"])
    return CertificateInfo(
        der_b64=der_b64, sha1=sha1, sha256=sha256, decodable=True, problems=tuple(problems), **fields
    )


def certificate_from_base64(text: str) -> CertificateInfo:
    """Describe a base64-encoded certificate as found in an XML ``ds:X509Certificate`` element.

    White space (line breaks, indentation) is ignored. Empty text, or text that is not base64 (a
    placeholder such as "MIIC...REPLACE_ME" left in a template), gives ``decodable=False`` with
    the problem and *no thumbprint* (``sha1`` and ``sha256`` empty): there are no certificate
    bytes to take a thumbprint of, and an invented one (the SHA-1 of empty or salvaged bytes)
    would be matched against real certificates. Never raises.
    """
    cleaned = "".join((text or "").split())
    if not cleaned:
        return CertificateInfo(der_b64="", sha1="", sha256="", decodable=False,
                               problems=("the certificate element is empty",))
    try:
        der = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        shown = cleaned if len(cleaned) <= 40 else f"{cleaned[:20]}...{cleaned[-12:]}"
        return CertificateInfo(der_b64="", sha1="", sha256="", decodable=False,
                               problems=(f"the certificate text is not base64 ({exc}): {shown!r}",))
    if not der:
        return CertificateInfo(der_b64="", sha1="", sha256="", decodable=False,
                               problems=("the certificate element holds no bytes",))
    return describe_certificate(der)


def load_pem_certificates(data: bytes) -> list[CertificateInfo]:
    """Describe every ``-----BEGIN CERTIFICATE-----`` block of a PEM bundle, in order.

    Text between blocks (comments, "subject=" lines, garbage) is ignored; a damaged block gives
    an entry with ``decodable=False`` rather than stopping the others (cryptography's
    ``load_pem_x509_certificates`` fails the whole bundle instead). Never raises; returns an
    empty list when there is no certificate block.
    """
    certificates = []
    for block in pem_blocks(data or b"", _PEM_CERTIFICATE_LABELS):
        body = block.body.decode("ascii", "replace")
        # RFC 1421 encapsulated headers ("Proc-Type: ...") precede a blank line; skip them.
        if ":" in body.split("\n\n", 1)[0] and "\n\n" in body:
            body = body.split("\n\n", 1)[1]
        certificates.append(certificate_from_base64(body))
    return certificates
