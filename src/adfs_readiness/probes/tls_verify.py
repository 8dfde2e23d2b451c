"""Chain verification with cryptography's X.509 verifier (``cryptography.x509.verification``):
trust stores for the external and internal views, server verification for the federation service
name, and the classification of a failure into :class:`~adfs_readiness.facts.tls.TrustFailure`.

The path building and RFC 5280 / CA/Browser Forum profile checks are cryptography's
(``PolicyBuilder().store(...).time(...).build_server_verifier(DNSName(...)).verify(leaf,
intermediates)``, https://cryptography.io/en/latest/x509/verification/); this module only
chooses the stores and explains the verifier's refusal in the admin's words.

Views:
  * external: the system trust store (OpenSSL's default CA file) and certifi (Mozilla's roots),
    plus ``tls.external_ca_bundle`` when configured: what a browser on the internet trusts.
  * internal: the external store plus ``tls.ca_bundle`` (an enterprise CA): what a domain-joined
    client trusts.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import verification

from adfs_readiness.facts import CertificateInfo, ProbeError, ProbeErrorKind
from adfs_readiness.facts.tls import ChainVerification, TrustFailure, TrustStoreInfo, ViewVerification
from adfs_readiness.files import read_capped
from adfs_readiness.pem import pem_blocks
from adfs_readiness.probes._input_limits import INPUT_BYTES_SETTING, bounded_problems
from adfs_readiness.probes.certificates import load_x509_quietly
from adfs_readiness.settings import Settings

__all__ = ["TrustStore", "load_trust_stores", "verify_views", "public_key_sha256", "x509_of"]



@dataclass(frozen=True)
class TrustStore:
    """A loaded store: its ``info`` (for the facts), the cryptography ``store`` (None when it
    holds no certificate) and the RFC 4514 ``subjects`` of its certificates."""

    info: TrustStoreInfo
    store: verification.Store | None
    subjects: frozenset[str]
    certificates: tuple[x509.Certificate, ...] = ()


def _system_ca_files() -> list[Path]:
    paths = ssl.get_default_verify_paths()
    found = []
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file() and Path(candidate) not in found:
            found.append(Path(candidate))
    return found


def _certifi_file() -> Path | None:
    try:
        import certifi  # noqa: PLC0415 - requests' dependency; optional here
    except ImportError:
        return None
    path = Path(certifi.where())
    return path if path.is_file() else None


def _read_pem_file(path: Path, problems: list[str], max_bytes: int) -> list[x509.Certificate]:
    try:
        data = read_capped(path, max_bytes, setting=INPUT_BYTES_SETTING)
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
        return []
    certs = []
    # adfs_readiness.pem: linear (a lazy regex is quadratic on a file of BEGIN lines).
    for index, block in enumerate(pem_blocks(data, (b"CERTIFICATE",))):
        try:
            der = base64.b64decode(b"".join(block.body.split()), validate=True)
        except ValueError:
            problems.append(f"{path}: certificate block {index + 1} is not valid base64")
            continue
        cert, cert_problems = load_x509_quietly(der)
        if cert is None:
            problems.append(f"{path}: certificate block {index + 1} skipped ({'; '.join(cert_problems)})")
        else:
            certs.append(cert)
    return certs


def _store(view: str, files: Sequence[Path], max_bytes: int, configured: Sequence[Path] = ()) -> TrustStore:
    problems: list[str] = []
    certs: list[x509.Certificate] = []
    local: ProbeError | None = None
    for path in files:
        before = len(problems)
        read = _read_pem_file(path, problems, max_bytes)
        certs.extend(read)
        if path in configured and local is None and not read:
            # A CA bundle the admin configured and this machine cannot load: the verdicts of this
            # view would be about this machine's file, not the target (issue 11 section 1).
            why = "; ".join(problems[before:]) or f"{path}: no PEM certificate in it"
            local = ProbeError(ProbeErrorKind.LOCAL, f"the CA bundle {path} could not be loaded on this machine "
                                                     f"({why})", str(path))
    subjects = frozenset(c.subject.rfc4514_string() for c in certs)
    store = verification.Store(certs) if certs else None
    info = TrustStoreInfo(view=view, sources=tuple(str(p) for p in files), certificates=len(certs),
                          problems=bounded_problems(problems), local_failure=local)
    return TrustStore(info, store, subjects, tuple(certs))


def load_trust_stores(config: Settings) -> tuple[TrustStore, TrustStore]:
    """The (external, internal) trust stores for ``config`` (see the module docstring). Files that
    cannot be read and certificates that cannot be decoded are skipped and listed in
    ``info.problems``; never raises."""
    external_files = _system_ca_files()
    certifi_file = _certifi_file()
    if certifi_file is not None and certifi_file not in external_files:
        external_files.append(certifi_file)
    if config.tls.external_ca_bundle is not None:
        external_files.append(Path(config.tls.external_ca_bundle))
    internal_files = list(external_files)
    if config.tls.ca_bundle is not None and Path(config.tls.ca_bundle) not in internal_files:
        internal_files.append(Path(config.tls.ca_bundle))
    max_bytes = config.limits.max_input_bytes
    configured = [Path(p) for p in (config.tls.external_ca_bundle, config.tls.ca_bundle) if p is not None]
    external_configured = [p for p in configured if p in external_files]
    return (_store("external", external_files, max_bytes, external_configured),
            _store("internal", internal_files, max_bytes, configured))


def x509_of(info: CertificateInfo) -> x509.Certificate | None:
    """The cryptography certificate of a decoded CertificateInfo (None when undecodable)."""
    if not info.decodable:
        return None
    cert, _ = load_x509_quietly(info.der)
    return cert


def public_key_sha256(info: CertificateInfo) -> str | None:
    """SHA-256 (upper-case hex) of the certificate's SubjectPublicKeyInfo, None when unreadable."""
    cert = x509_of(info)
    if cert is None:
        return None
    try:
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001 - an unsupported key is simply not comparable
        return None
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return digest.finalize().hex().upper()


def _own_name(leaf: CertificateInfo, fallback: str | None) -> str | None:
    """A DNS name the leaf itself is for (wildcards made concrete), to verify the path alone."""
    for name in leaf.san_dns:
        return "path-check." + name[2:] if name.startswith("*.") else name
    if leaf.subject_cn and "." in leaf.subject_cn and " " not in leaf.subject_cn:
        return leaf.subject_cn
    return fallback


def _within_validity(leaf: CertificateInfo, now: datetime) -> datetime:
    if leaf.not_before is not None and now < leaf.not_before:
        return leaf.not_before + timedelta(seconds=1)
    if leaf.not_after is not None and now > leaf.not_after:
        return leaf.not_after - timedelta(seconds=1)
    return now


def _classify(message: str, chain: Sequence[CertificateInfo], at: datetime, store: TrustStore,
              known_roots: frozenset[str]) -> TrustFailure:
    text = message.lower()
    leaf = chain[0]
    if "not valid at validation time" in text or "expired" in text:
        for cert in chain:
            if cert.not_before is not None and at < cert.not_before:
                return TrustFailure.NOT_YET_VALID
        return TrustFailure.EXPIRED
    # A self-signed leaf that no store holds fails for that reason first, whatever else the
    # verifier tripped over (it checks the SAN and cA before it looks for an issuer).
    if leaf.self_signed and leaf.subject not in store.subjects:
        return TrustFailure.SELF_SIGNED
    if "subjectaltname" in text or "no matching" in text:
        return TrustFailure.NAME_MISMATCH
    if "eku" in text:
        return TrustFailure.WRONG_EKU
    if leaf.self_signed:
        return TrustFailure.SELF_SIGNED
    # The verifier names a forbidden algorithm inside "candidates exhausted": not a trust anchor problem.
    if "forbidden signature algorithm" in text:
        return TrustFailure.WEAK_SIGNATURE
    if "forbidden public key" in text or "public key" in text and "forbidden" in text:
        return TrustFailure.WEAK_KEY
    if "candidates exhausted" in text:
        # Only the leaf was sent and its issuer is not a root we know of: the server left out the
        # intermediate(s). An issuer that is a known (but here untrusted) root is a trust problem.
        if len(chain) == 1 and leaf.issuer not in store.subjects and leaf.issuer not in known_roots:
            return TrustFailure.INTERMEDIATE_MISSING
        return TrustFailure.UNTRUSTED_ROOT
    return TrustFailure.OTHER


def _verify(chain: Sequence[CertificateInfo], certs: Sequence[x509.Certificate], name: str | None,
            at: datetime, store: TrustStore, known_roots: frozenset[str], *,
            name_required: bool = True) -> ChainVerification:
    """Verify with cryptography's strict verifier; when it refuses for a reason that is not about
    trust (the certificate's encoding or a profile extension, which OpenSSL and Windows accept
    (:func:`_profile_refusal`), or — for a path-only
    verification, ``name_required`` False — a leaf without a subjectAltName), judge the chain as
    OpenSSL-based clients do (:func:`_verify_like_openssl`)."""
    when = at.isoformat()
    if store.store is None:
        return ChainVerification(False, TrustFailure.UNTRUSTED_ROOT,
                                 "the trust store holds no certificate", name, when)
    if name is None:
        if name_required:
            return ChainVerification(False, TrustFailure.OTHER, "no DNS name to verify the certificate for", None,
                                     when)
        # The chain alone (a certificate whose names are not DNS names): OpenSSL judges the path.
        return _verify_like_openssl(chain, certs, "", at, store, known_roots,
                                    "the certificate names no DNS name, so the strict verifier cannot be used", False)
    try:
        verifier = verification.PolicyBuilder().store(store.store).time(at).build_server_verifier(
            x509.DNSName(name))
        path = verifier.verify(certs[0], list(certs[1:]))
    except verification.VerificationError as exc:
        message = str(exc)
        strict_only = (_encoding_refusal(message, chain) or _profile_refusal(message)
                       or (not name_required and "no subjectaltname" in message.lower()))
        if strict_only:
            return _verify_like_openssl(chain, certs, name, at, store, known_roots, message, name_required)
        return ChainVerification(False, _classify(message, chain, at, store, known_roots), message, name, when)
    except (ValueError, TypeError) as exc:
        if _encoding_refusal(str(exc), chain):
            return _verify_like_openssl(chain, certs, name, at, store, known_roots, str(exc), name_required)
        return ChainVerification(False, TrustFailure.OTHER, f"the verifier refused the input: {exc}", name, when)
    thumbprints = tuple(c.fingerprint(hashes.SHA1()).hex().upper() for c in path)  # noqa: S303 - thumbprint
    return ChainVerification(True, None, "verified", name, when, thumbprints)


def _encoding_refusal(message: str, chain: Sequence[CertificateInfo]) -> bool:
    """True when the strict verifier refused because of how a certificate is encoded (an ASN.1
    parse error, e.g. an explicitly encoded DEFAULT value) rather than what it says."""
    text = message.lower()
    return (any(c.encoding_problems for c in chain)
            or "parseerror" in text or "error parsing asn1" in text or "encodeddefault" in text)


def _profile_refusal(message: str) -> bool:
    """True when the strict verifier refused a certificate for an extension its CA/Browser Forum
    profile requires or forbids ("invalid extension: 2.5.29.35: Certificate is missing required
    extension": a leaf without authorityKeyIdentifier, a CA certificate without keyUsage, as
    ``openssl x509 -req`` and some enterprise CAs write them). RFC 5280 4.2.1.1 and 4.2.1.3 ask
    conforming CAs to write both, but OpenSSL's verifier and Windows' CryptoAPI do not need them
    to build and trust the path, so trust is judged as those clients judge it (the strict
    refusal kept in the message), not reported as an untrusted root or an unexplained refusal."""
    return "invalid extension" in message.lower()


def _verify_like_openssl(chain: Sequence[CertificateInfo], certs: Sequence[x509.Certificate], name: str,
                         at: datetime, store: TrustStore, known_roots: frozenset[str], strict_message: str,
                         name_required: bool) -> ChainVerification:
    """The chain verified by OpenSSL's own verifier (``X509_verify_cert`` through pyOpenSSL's
    X509StoreContext), the verifier curl, Python, most Linux clients and (in its tolerance of
    non-DER encodings) Windows' CryptoAPI apply; the name is matched against the leniently
    decoded subjectAltName (RFC 6125) because OpenSSL's store context does not check host names.
    The strict verifier's refusal is kept in the message."""
    from OpenSSL import crypto  # noqa: PLC0415 - pyOpenSSL is already the TLS probe's dependency

    when = at.isoformat()
    openssl_store = crypto.X509Store()
    for cert in store.certificates:
        openssl_store.add_cert(crypto.X509.from_cryptography(cert))
    openssl_store.set_time(at.replace(tzinfo=None))
    try:
        context = crypto.X509StoreContext(openssl_store, crypto.X509.from_cryptography(certs[0]),
                                          [crypto.X509.from_cryptography(c) for c in certs[1:]])
        path = context.get_verified_chain()
    except crypto.X509StoreContextError as exc:
        message = f"{exc} (OpenSSL; the strict verifier also refused: {strict_message})"
        return ChainVerification(False, _classify_openssl(exc, chain, at, store, known_roots), message, name, when)
    except Exception as exc:  # noqa: BLE001 - a certificate even OpenSSL cannot take is a failure, not a crash
        return ChainVerification(False, TrustFailure.OTHER, f"OpenSSL refused the input: {exc}", name, when)
    if name_required and not any(_name_matches(n, name) for n in chain[0].san_dns):
        return ChainVerification(False, TrustFailure.NAME_MISMATCH,
                                 f"the subjectAltName does not name {name} (OpenSSL)", name, when)
    # Thumbprints over OpenSSL's own DER: to_cryptography() would warn on a negative serial.
    thumbprints = tuple(hashlib.sha1(crypto.dump_certificate(crypto.FILETYPE_ASN1, c)).hexdigest().upper()  # noqa: S324
                        for c in path)
    return ChainVerification(True, None, f"verified by OpenSSL; strict verifiers refuse it: {strict_message}",
                             name, when, thumbprints, verifier="openssl")


def _name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 6.4.3 as browsers apply it (a wildcard only as the whole left-most label)."""
    pattern, host = pattern.strip().rstrip(".").lower(), host.strip().rstrip(".").lower()
    if "*" not in pattern:
        return pattern == host
    labels, host_labels = pattern.split("."), host.split(".")
    if labels[0] != "*" or any("*" in label for label in labels[1:]) or len(labels) < 3:
        return False
    return len(host_labels) == len(labels) and host_labels[0] != "" and host_labels[1:] == labels[1:]


#: OpenSSL X509_V_ERR codes (x509_vfy.h) and what they mean for the admin.
_OPENSSL_FAILURES = {
    9: TrustFailure.NOT_YET_VALID, 10: TrustFailure.EXPIRED, 18: TrustFailure.SELF_SIGNED,
    19: TrustFailure.UNTRUSTED_ROOT, 20: TrustFailure.INTERMEDIATE_MISSING, 21: TrustFailure.INTERMEDIATE_MISSING,
    2: TrustFailure.INTERMEDIATE_MISSING, 7: TrustFailure.OTHER, 26: TrustFailure.WRONG_EKU,
    66: TrustFailure.WEAK_KEY, 68: TrustFailure.WEAK_SIGNATURE,
}


def _classify_openssl(exc: Exception, chain: Sequence[CertificateInfo], at: datetime, store: TrustStore,
                      known_roots: frozenset[str]) -> TrustFailure:
    errors = getattr(exc, "errors", None) or []
    code = errors[0] if errors else None
    failure = _OPENSSL_FAILURES.get(code) if isinstance(code, int) else None
    if failure is TrustFailure.INTERMEDIATE_MISSING and (len(chain) > 1 or chain[0].issuer in known_roots
                                                         or chain[0].issuer in store.subjects):
        return TrustFailure.UNTRUSTED_ROOT
    return failure or _classify(str(exc), chain, at, store, known_roots)


def verify_views(chain: Sequence[CertificateInfo], service_name: str | None, now: datetime,
                 stores: Sequence[TrustStore]) -> tuple[ViewVerification, ...]:
    """Verify ``chain`` (as sent, leaf first) in every view of ``stores``.

    For each view: ``service`` = server verification for ``service_name`` at ``now``; ``path`` =
    verification of the chain alone (the leaf's own name, a time inside the leaf's validity).
    A chain whose leaf cannot be decoded gives NO_CERTIFICATE in every view; undecodable
    intermediates are left out (the verifier then reports what is missing). Never raises.
    """
    known_roots = frozenset().union(*(s.subjects for s in stores)) if stores else frozenset()
    leaf_cert = x509_of(chain[0]) if chain else None
    views = []
    for store in stores:
        if leaf_cert is None:
            missing = ChainVerification(False, TrustFailure.NO_CERTIFICATE,
                                        "no decodable server certificate", service_name, now.isoformat())
            views.append(ViewVerification(store.info.view, missing, missing))
            continue
        certs = [leaf_cert] + [c for c in (x509_of(i) for i in chain[1:]) if c is not None]
        service = _verify(chain, certs, service_name, now, store, known_roots)
        path = _verify(chain, certs, _own_name(chain[0], service_name), _within_validity(chain[0], now),
                       store, known_roots, name_required=False)
        views.append(ViewVerification(store.info.view, service, path))
    return tuple(views)
