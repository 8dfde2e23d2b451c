"""Verification of the enveloped XML signature of a federation metadata document.

AD FS signs its FederationMetadata.xml with the primary token-signing certificate (enveloped
XML-DSig, https://www.w3.org/TR/xmldsig-core1/). This module tells apart a valid signature, a
valid one that uses SHA-1, an unsigned document, an invalid signature, and one that verifies only
with a certificate the metadata does not list. signxml does the cryptography over the exact bytes;
the trust decision (which certificates may sign) is pinned to the listed signing certificates.
"""

from __future__ import annotations

import warnings

from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature, SignXMLException

from adfs_readiness.facts import CertificateInfo, KeyUse, MetadataDocument, SignatureInfo, SignatureStatus
from adfs_readiness.probes._xml import DS, MD, element_text, safe_parser
from adfs_readiness.probes.certificates import certificate_from_base64, load_x509_quietly

__all__ = ["verify_metadata_signature"]

_SHA1_DIGEST = "http://www.w3.org/2000/09/xmldsig#sha1"


def _sha1_parts(signature_method: str | None, digest_methods: tuple[str, ...]) -> list[str]:
    """What in the signature uses SHA-1 (rsa-sha1, dsa-sha1, ecdsa-sha1, sha1-rsa-MGF1, a sha1 digest)."""
    parts = []
    method = (signature_method or "").lower()
    if method.endswith("sha1") or method.endswith("sha1-rsa-mgf1"):
        parts.append(f"signature method {signature_method}")
    if _SHA1_DIGEST in digest_methods:
        parts.append(f"digest method {_SHA1_DIGEST}")
    return parts


class _ContentChanged(Exception):
    """The SignatureValue verified but the digest of the signed content did not match: no other
    key can change that, so no other certificate is tried (each try canonicalises the document)."""


def _try_verify(data: bytes, root_id: str | None, uri: str, cert: CertificateInfo) -> str | None:
    """Verify the enveloped signature with ``cert``'s key; None on success, else the reason.
    Raises _ContentChanged (with the reason) when the key fits but the content was changed.

    verification_time is the certificate's own notBefore: expiry is judged by the
    token-signing.expiry check, this only judges the signature itself."""
    x509_cert, problems = load_x509_quietly(cert.der)
    if x509_cert is None:
        return "; ".join(problems)
    config = SignatureConfiguration(
        location="./",
        signature_methods=frozenset(SignatureMethod),
        digest_algorithms=frozenset(DigestAlgorithm),
        verification_time=x509_cert.not_valid_before_utc,
        ignore_ambiguous_key_info=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = XMLVerifier().verify(data, x509_cert=x509_cert, expect_config=config, parser=safe_parser())
        except InvalidDigest as exc:
            raise _ContentChanged(
                f"the signed content does not match its digest: the document was changed after signing ({exc})"
            ) from None
        except InvalidCertificate as exc:
            return f"the certificate was not accepted: {exc}"
        except InvalidSignature as exc:
            detail = str(exc).rstrip(": ") or "Signature verification failed"
            return (
                f"the SignatureValue does not verify with this certificate's key ({detail}): SignedInfo was "
                "changed after signing, or another key signed it"
            )
        except (SignXMLException, ValueError, TypeError) as exc:
            return f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - any verifier failure means "does not verify"
            return f"verification failed: {type(exc).__name__}: {exc}"
    signed = result.signed_xml
    # Signature-wrapping defence: what the signature covers must be the root itself.
    if signed is None or signed.tag != f"{{{MD}}}EntityDescriptor" or (uri and signed.get("ID") != root_id):
        return "the signed element is not the root EntityDescriptor"
    return None


def verify_metadata_signature(data: bytes, root: etree._Element, document: MetadataDocument) -> SignatureInfo:
    """Verify the enveloped signature of ``root`` (parsed from ``data``, the exact bytes) against the
    signing certificates ``document`` lists. Never raises for bad input: the result says why."""
    signatures = root.findall(f"{{{DS}}}Signature")
    if not signatures:
        return SignatureInfo(SignatureStatus.UNSIGNED, "the EntityDescriptor has no enveloped ds:Signature")
    signature = signatures[0]
    method_element = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    signature_method = method_element.get("Algorithm") if method_element is not None else None
    references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    digests = (d.get("Algorithm") for r in references for d in r.iterfind(f"{{{DS}}}DigestMethod"))
    digest_methods = tuple(dict.fromkeys(a for a in digests if a))
    embedded_element = signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    embedded = certificate_from_base64(element_text(embedded_element)) if embedded_element is not None else None
    reference_uri = references[0].get("URI") if references else None

    def info(status: SignatureStatus, reason: str, signer: str | None = None) -> SignatureInfo:
        return SignatureInfo(
            status=status, reason=reason, signature_method=signature_method, digest_methods=digest_methods,
            signer_sha1=signer, embedded_certificate_sha1=embedded.sha1 if embedded else None,
            reference_uri=reference_uri,
        )

    if len(signatures) > 1:
        return info(SignatureStatus.INVALID, f"the EntityDescriptor has {len(signatures)} ds:Signature elements")
    if len(references) != 1:
        return info(SignatureStatus.INVALID, f"the signature has {len(references)} References instead of one")
    root_id = root.get("ID")
    if reference_uri is None or (reference_uri != "" and (not root_id or reference_uri != f"#{root_id}")):
        return info(
            SignatureStatus.INVALID,
            f"the signature's Reference URI {reference_uri!r} does not point at the root EntityDescriptor "
            f"(ID {root_id!r}): the signature does not cover the document",
        )

    legacy = _sha1_parts(signature_method, digest_methods)
    every_listed = document.certificates(KeyUse.SIGNING)
    unreadable = [c for c in every_listed if not c.decodable]
    listed = [c for c in every_listed if c.decodable]
    candidates = [(cert, f"with {cert.label}") for cert in listed]
    # The embedded certificate is worth trying only when it is not one of the listed ones.
    if embedded is not None and embedded.decodable and embedded.sha1 not in {c.sha1 for c in listed}:
        candidates.append((embedded, f"with the embedded {embedded.label}"))
    first_failure: str | None = None
    for cert, label in candidates:
        try:
            failure = _try_verify(data, root_id, reference_uri, cert)
        except _ContentChanged as changed:
            return info(SignatureStatus.INVALID, f"the signature does not verify: {label}: {changed}")
        if failure is None and cert is embedded and unreadable:
            return info(
                SignatureStatus.UNVERIFIABLE,
                f"the signed content is intact (it verifies with the certificate embedded in the signature, "
                f"{embedded.label}), but {len(unreadable)} listed signing certificate(s) could not be read, so "
                "whether the signer is listed cannot be checked",
            )
        if failure is None and cert is embedded:
            return info(
                SignatureStatus.UNKNOWN_SIGNER,
                f"verifies only with the certificate embedded in the signature, {embedded.label}, which the "
                "metadata does not list as a signing certificate",
            )
        if failure is None:
            algorithm = "SHA-1: " + ", ".join(legacy) if legacy else signature_method
            return info(
                SignatureStatus.VALID_SHA1 if legacy else SignatureStatus.VALID,
                f"verifies with the listed signing certificate {cert.label} ({algorithm})",
                signer=cert.sha1,
            )
        first_failure = first_failure or f"{label}: {failure}"
    if unreadable:
        # The key that signed may be the one we cannot read: no verdict on the content either way.
        return info(SignatureStatus.UNVERIFIABLE,
                    f"{len(unreadable)} listed signing certificate(s) could not be read "
                    f"({'; '.join(p for c in unreadable for p in c.problems)}), and no readable certificate "
                    f"verifies the signature{f' ({first_failure})' if first_failure else ''}")
    if first_failure is None:
        return info(SignatureStatus.INVALID, "no decodable certificate to verify with (none listed, none embedded)")
    return info(SignatureStatus.INVALID, f"the signature does not verify: {first_failure}")
