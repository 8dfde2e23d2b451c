"""The certificate-file probe (fact ``certificate_file``): a new SSL certificate read from a file
before it is deployed (``check --certificate FILE``), decoded tolerantly and verified like a
server's chain.

Formats: PEM (certificates and optionally a private key, possibly encrypted), DER (one
certificate) and PFX/PKCS#12 (RFC 7292; what ``Export-PfxCertificate`` writes). The password comes
from ``config.certificate.password`` (the CLI reads it from an environment variable or a prompt);
it is never logged or put in the fact.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from adfs_readiness.facts import CertificateInfo
from adfs_readiness.facts.tls import CertificateFile
from adfs_readiness.files import FileTooLarge, read_capped
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._input_limits import PFX_ITERATIONS_SETTING
from adfs_readiness.probes.certificates import describe_certificate, load_pem_certificates, load_x509_quietly
from adfs_readiness.probes.pfx_limits import pfx_refusal
from adfs_readiness.probes.tls_verify import load_trust_stores, public_key_sha256, verify_views, x509_of
from adfs_readiness.settings import Limits

__all__ = ["probe_certificate_file", "read_certificate_file"]

#: Certificate files are small; a bigger file is not a certificate.
_MAX_BYTES = 1024 * 1024
_PFX_SUFFIXES = (".pfx", ".p12")


def _spki(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_facts(key: Any) -> tuple[str | None, int | None]:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC", key.curve.key_size
    return (type(key).__name__, None) if key is not None else (None, None)


def _pem_private_key(data: bytes, password: bytes | None, problems: list[str]) -> Any:
    marker = data.find(b"PRIVATE KEY-----")
    if marker < 0:
        return None
    try:
        return serialization.load_pem_private_key(data[data.rfind(b"-----BEGIN", 0, marker):], password)
    except TypeError:
        problems.append(_KEY_PASSWORD_MISSING)
    except ValueError as exc:
        problems.append(f"the private key could not be read: {exc}")
    return None


_KEY_PASSWORD_MISSING = ("the private key is encrypted and no password was given (--certificate-password-env VAR "
                         "or interactively)")


def _is_pkcs12(data: bytes) -> bool:
    """``data`` parses as a PKCS#12 PFX structure (RFC 7292), read with asn1crypto without the
    password: telling "needs a password" from "not a PFX at all" (cryptography's error is the same
    for both)."""
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=False)
        return pfx["version"].native in (3, "v3") and pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except Exception:  # noqa: BLE001 - asn1crypto raises many types for non-DER input
        return False


def _load_pfx(data: bytes, password: bytes | None, max_iterations: int) -> tuple[Any, ValueError | None]:
    """(key, certificate, additional certificates) of a PKCS#12 file, or (None, the error). Without
    a password both "no password" and the empty password are tried (Windows exports either).

    The file's key-derivation work is bounded first (probes/pfx_limits.py): a huge iteration count
    is refused in microseconds instead of keeping cryptography busy for minutes."""
    refusal = pfx_refusal(data, max_iterations, PFX_ITERATIONS_SETTING)
    if refusal is not None:
        return None, _PfxRefused(f"refused before opening it: {refusal}")
    failure = None
    for attempt in ([password] if password is not None else [None, b""]):
        try:
            return pkcs12.load_key_and_certificates(data, attempt), None
        except ValueError as exc:
            failure = exc
    return None, failure


class _PfxRefused(ValueError):
    """The PFX asks for more work than the limits allow; it was not opened."""


def _read(data: bytes, path: Path, password: bytes | None, max_iterations: int) -> dict[str, Any]:
    """Format, certificates (cryptography-independent CertificateInfo), key and problems."""
    problems: list[str] = []
    if b"-----BEGIN" in data:
        certificates = load_pem_certificates(data)
        if not certificates:
            return {"file_format": "PEM", "error": "the PEM file holds no certificate"}
        return {"file_format": "PEM", "certificates": certificates,
                "key": _pem_private_key(data, password, problems), "problems": problems}
    cert, _ = load_x509_quietly(data)
    if cert is not None:
        return {"file_format": "DER", "certificates": [describe_certificate(data)], "key": None}
    loaded, failure = _load_pfx(data, password, max_iterations)
    if loaded is None:
        if isinstance(failure, _PfxRefused):
            return {"file_format": "PKCS12", "error": f"the PFX/PKCS#12 file was {failure}"}
        structure = _is_pkcs12(data)
        if structure and password is None:
            # A missing password is missing input, not a broken certificate: not determined.
            return {"file_format": "PKCS12", "password_missing": True,
                    "error": "the PFX/PKCS#12 file is protected by a password and none was given "
                             "(--certificate-password-env VAR, or run interactively to be asked)"}
        if structure:
            return {"file_format": "PKCS12", "error": f"the PFX/PKCS#12 file could not be opened with the password "
                                                      f"given: wrong password ({failure})"}
        if path.suffix.lower() in _PFX_SUFFIXES:
            return {"file_format": "PKCS12", "error": f"the file is not a PFX/PKCS#12 file: its structure cannot be "
                                                      f"read ({failure})"}
        # Neither a certificate nor a PFX: describe what can be read (a truncated DER, ...).
        return {"file_format": "DER", "certificates": [describe_certificate(data)], "key": None,
                "problems": ["the file is neither a readable certificate (PEM/DER) nor a PKCS#12 file"]}
    key, leaf, extra = loaded
    certs = ([leaf] if leaf is not None else []) + list(extra or [])
    infos = [describe_certificate(c.public_bytes(serialization.Encoding.DER)) for c in certs]
    return {"file_format": "PKCS12", "certificates": infos, "key": key, "problems": problems}


def _order(certificates: list[CertificateInfo], key: Any) -> tuple[list[CertificateInfo], bool | None]:
    """Leaf first: the certificate of the private key, else the first non-CA certificate."""
    if key is not None:
        wanted = _spki(key.public_key())
        for index, info in enumerate(certificates):
            cert = x509_of(info)
            if cert is not None and _spki(cert.public_key()) == wanted:
                return [info] + certificates[:index] + certificates[index + 1:], True
    for index, info in enumerate(certificates):
        if info.is_ca is not True:
            ordered = [info] + certificates[:index] + certificates[index + 1:]
            return ordered, (False if key is not None else None)
    return certificates, (False if key is not None else None)


def read_certificate_file(path: Path, password: str | None, limits: Limits = Limits()) -> CertificateFile:
    """Read and decode a certificate file (see the module docstring) without verifying it.

    Never raises for file trouble: an unreadable file, a file over the (fixed) 1 MiB cap, a PFX
    asking for more key-derivation work than ``limits.max_pfx_iterations`` allows, a wrong
    password or a non-certificate give ``error``; damaged certificates are described as far as
    they can be read.
    """
    try:
        data = read_capped(path, _MAX_BYTES, setting=None)
    except FileTooLarge as exc:
        return CertificateFile(path=str(path), error=f"{exc.strerror}: a certificate file is under {_MAX_BYTES} "
                                                     f"bytes")
    except OSError as exc:
        return CertificateFile(path=str(path), error=f"the file cannot be read ({exc.strerror or exc})")
    secret = password.encode("utf-8") if password is not None else None
    read = _read(data, path, secret, limits.max_pfx_iterations)
    if read.get("error"):
        return CertificateFile(path=str(path), file_format=read["file_format"], error=read["error"],
                               password_missing=bool(read.get("password_missing")))
    key = read.get("key")
    certificates, matches = _order(list(read["certificates"]), key)
    key_type, key_bits = _key_facts(key)
    return CertificateFile(
        path=str(path),
        file_format=read["file_format"],
        certificates=tuple(certificates),
        private_key_present=key is not None,
        private_key_matches=matches,
        private_key_type=key_type,
        private_key_bits=key_bits,
        leaf_public_key_sha256=public_key_sha256(certificates[0]) if certificates else None,
        problems=tuple(read.get("problems") or ()),
        password_missing=_KEY_PASSWORD_MISSING in (read.get("problems") or ()),
    )


def probe_certificate_file(ctx: ProbeContext) -> CertificateFile:
    """Gather the ``certificate_file`` fact: ``CertificateFile(path=None)`` when no file was
    given (the certificate-file checks then skip), else the file read and its chain verified in
    the external and internal views for the federation service name (or the leaf's own name when
    none is configured)."""
    config = ctx.config
    if config.certificate.file is None:
        return CertificateFile(path=None)
    fact = read_certificate_file(Path(config.certificate.file), config.certificate.password, config.limits)
    if fact.error or not fact.certificates:
        return fact
    stores = load_trust_stores(config)
    name = config.federation.service_name or (fact.certificates[0].san_dns[:1] or (None,))[0]
    return replace(fact, verifications=verify_views(fact.certificates, name, ctx.now, stores),
                   trust_stores=tuple(store.info for store in stores))
