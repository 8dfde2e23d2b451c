"""Federation metadata documents shaped like the ones AD FS publishes, for the demo lab.

The shape follows real AD FS 2016+ metadata (tests/corpus/metadata/msidentitymodel_adfs-v4-metadata.xml
and rcsj_dev_adfs_FederationMetadata_2023.xml): an ``EntityDescriptor`` with ``ID="_<uuid>"`` and
``entityID="http://<fs>/adfs/services/trust"``, the enveloped ``ds:Signature`` as its first child
(RSA-SHA256, exclusive C14N, SHA-256 digest, the signing certificate in KeyInfo), then the WS-Federation
``RoleDescriptor`` elements (ApplicationServiceType, SecurityTokenServiceType), the
``SPSSODescriptor`` and the ``IDPSSODescriptor``.

References: SAML 2.0 metadata (https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf),
WS-Federation 1.2 metadata (https://docs.oasis-open.org/wsfed/federation/v1.2/os/ws-federation-1.2-spec-os.html),
XML-DSig enveloped signatures (https://www.w3.org/TR/xmldsig-core1/), and the claims Entra ID needs from
AD FS (UPN and ImmutableID,
https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-fed-saml-idp).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, SignatureConstructionMethod

__all__ = ["build_federation_metadata", "METADATA_PATH", "UPN_CLAIM", "IMMUTABLE_ID_CLAIM"]

#: The path AD FS publishes its federation metadata at.
METADATA_PATH = "/FederationMetadata/2007-06/FederationMetadata.xml"

UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
IMMUTABLE_ID_CLAIM = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_FED = "http://docs.oasis-open.org/wsfed/federation/200706"
_AUTH = "http://docs.oasis-open.org/wsfed/authorization/200706"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_WSA = "http://www.w3.org/2005/08/addressing"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_MEX = "http://schemas.xmlsoap.org/ws/2004/09/mex"

_WS_PROTOCOLS = ("http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust "
                 "http://docs.oasis-open.org/wsfed/federation/200706")
_SAML_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:"

#: (claim type URI, display name, description) as AD FS lists them (a subset, plus ImmutableID).
_CLAIMS = (
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "E-Mail Address",
     "The e-mail address of the user"),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Given Name", "The given name of the user"),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "Name", "The unique name of the user"),
    (UPN_CLAIM, "UPN", "The user principal name (UPN) of the user"),
    ("http://schemas.xmlsoap.org/claims/CommonName", "Common Name", "The common name of the user"),
    ("http://schemas.xmlsoap.org/claims/Group", "Group", "A group that the user is a member of"),
    ("http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "Role", "A role that the user has"),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Surname", "The surname of the user"),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "Name ID",
     "The SAML name identifier of the user"),
    ("http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod", "Authentication method",
     "The method used to authenticate the user"),
    ("http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname", "Windows account name",
     "The domain account name of the user in the form of domain\\user"),
    (IMMUTABLE_ID_CLAIM, "ImmutableID", "The immutable identifier (source anchor) of the user in Entra ID"),
)

_NAMEID_FORMATS = (
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
)


class _LegacySha1Signer(XMLSigner):
    """An XMLSigner that also signs with RSA-SHA1, which signxml refuses by default. Only the lab
    uses it, to publish the SHA-1 signed metadata that older AD FS farms still serve."""

    def check_deprecated_methods(self) -> None:
        return None


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _sub(parent: etree._Element, namespace: str, name: str, attrib: dict[str, str] | None = None,
         nsmap: dict[str | None, str] | None = None, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(namespace, name), attrib or {}, nsmap=nsmap)
    if text is not None:
        element.text = text
    return element


def _key_descriptor(parent: etree._Element, use: str, cert: x509.Certificate) -> None:
    kd = _sub(parent, _MD, "KeyDescriptor", {"use": use})
    key_info = _sub(kd, _DS, "KeyInfo", nsmap={None: _DS})
    data = _sub(key_info, _DS, "X509Data")
    der = cert.public_bytes(serialization.Encoding.DER)
    _sub(data, _DS, "X509Certificate", text=base64.b64encode(der).decode("ascii"))


def _endpoint_reference(parent: etree._Element, address: str) -> etree._Element:
    reference = _sub(parent, _WSA, "EndpointReference", nsmap={None: _WSA})
    _sub(reference, _WSA, "Address", text=address)
    return reference


def _claim_types(parent: etree._Element, element: str) -> None:
    container = _sub(parent, _FED, element)
    for uri, display, description in _CLAIMS:
        claim = _sub(container, _AUTH, "ClaimType", {"Uri": uri, "Optional": "true"}, nsmap={"auth": _AUTH})
        _sub(claim, _AUTH, "DisplayName", text=display)
        _sub(claim, _AUTH, "Description", text=description)


def _role_descriptor(root: etree._Element, role_type: str, fs_name: str) -> etree._Element:
    return _sub(root, _MD, "RoleDescriptor", {
        _q(_XSI, "type"): f"fed:{role_type}",
        "protocolSupportEnumeration": _WS_PROTOCOLS,
        "ServiceDisplayName": f"{fs_name} AD FS",
    }, nsmap={"xsi": _XSI, "fed": _FED})


def _saml_role(root: etree._Element, element: str, fs_name: str, signing: Iterable[x509.Certificate],
               encryption: Iterable[x509.Certificate]) -> etree._Element:
    attrib = {"protocolSupportEnumeration": _SAML_PROTOCOL}
    if element == "SPSSODescriptor":
        attrib = {"WantAssertionsSigned": "true", **attrib}
    role = _sub(root, _MD, element, attrib)
    for cert in encryption:
        _key_descriptor(role, "encryption", cert)
    for cert in signing:
        _key_descriptor(role, "signing", cert)
    ls = f"https://{fs_name}/adfs/ls/"
    if element == "IDPSSODescriptor":
        _sub(role, _MD, "ArtifactResolutionService", {
            "Binding": _BINDING + "SOAP",
            "Location": f"https://{fs_name}/adfs/services/trust/artifactresolution", "index": "0"})
    for binding in ("HTTP-Redirect", "HTTP-POST"):
        _sub(role, _MD, "SingleLogoutService", {"Binding": _BINDING + binding, "Location": ls})
    for name_format in _NAMEID_FORMATS:
        _sub(role, _MD, "NameIDFormat", text=name_format)
    if element == "SPSSODescriptor":
        for index, binding in enumerate(("HTTP-POST", "HTTP-Artifact", "HTTP-Redirect")):
            attrs = {"Binding": _BINDING + binding, "Location": ls, "index": str(index)}
            if index == 0:
                attrs["isDefault"] = "true"
            _sub(role, _MD, "AssertionConsumerService", attrs)
    else:
        for binding in ("HTTP-Redirect", "HTTP-POST"):
            _sub(role, _MD, "SingleSignOnService", {"Binding": _BINDING + binding, "Location": ls})
        for uri, display, _ in _CLAIMS:
            _sub(role, _SAML, "Attribute", {
                "Name": uri, "NameFormat": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
                "FriendlyName": display}, nsmap={None: _SAML})
    return role


def _build_tree(fs_name: str, document_id: str, signing: list[x509.Certificate],
                encryption: list[x509.Certificate]) -> etree._Element:
    root = etree.Element(_q(_MD, "EntityDescriptor"), {
        "ID": document_id, "entityID": f"http://{fs_name}/adfs/services/trust"}, nsmap={None: _MD})
    base = f"https://{fs_name}/adfs"

    app = _role_descriptor(root, "ApplicationServiceType", fs_name)
    for cert in encryption:
        _key_descriptor(app, "encryption", cert)
    _claim_types(app, "ClaimTypesRequested")
    scopes = _sub(app, _FED, "TargetScopes")
    for path in ("services/trust/2005/issuedtokenmixedasymmetricbasic256",
                 "services/trust/2005/issuedtokenmixedsymmetricbasic256",
                 "services/trust/13/issuedtokenmixedasymmetricbasic256",
                 "services/trust/13/issuedtokenmixedsymmetricbasic256", "ls/", "services/trust"):
        _endpoint_reference(scopes, f"{base}/{path}")
    _endpoint_reference(_sub(app, _FED, "ApplicationServiceEndpoint"),
                        f"{base}/services/trust/2005/issuedtokenmixedsymmetricbasic256")
    _endpoint_reference(_sub(app, _FED, "PassiveRequestorEndpoint"), f"{base}/ls/")

    sts = _role_descriptor(root, "SecurityTokenServiceType", fs_name)
    for cert in signing:
        _key_descriptor(sts, "signing", cert)
    token_types = _sub(sts, _FED, "TokenTypesOffered")
    for token_type in ("urn:oasis:names:tc:SAML:2.0:assertion", "urn:oasis:names:tc:SAML:1.0:assertion"):
        _sub(token_types, _FED, "TokenType", {"Uri": token_type})
    _claim_types(sts, "ClaimTypesOffered")
    reference = _endpoint_reference(_sub(sts, _FED, "SecurityTokenServiceEndpoint"),
                                    f"{base}/services/trust/2005/issuedtokenmixedsymmetricbasic256")
    outer = _sub(reference, _WSA, "Metadata")
    inner = _sub(outer, _MEX, "Metadata", nsmap={None: _MEX, "wsx": _MEX})
    section = _sub(inner, _MEX, "MetadataSection", {"Dialect": _MEX})
    mex_reference = _sub(section, _MEX, "MetadataReference")
    _sub(mex_reference, _WSA, "Address", nsmap={None: _WSA}, text=f"{base}/services/trust/mex")
    _endpoint_reference(_sub(sts, _FED, "PassiveRequestorEndpoint"), f"{base}/ls/")

    _saml_role(root, "SPSSODescriptor", fs_name, signing, encryption)
    _saml_role(root, "IDPSSODescriptor", fs_name, signing, encryption)
    return root


def build_federation_metadata(
    fs_name: str,
    signing_certs: list[x509.Certificate],
    encryption_certs: list[x509.Certificate],
    *,
    signing_key: rsa.RSAPrivateKey | None,
    signing_cert: x509.Certificate | None,
    sign: bool = True,
    signature_algorithm: Literal["rsa-sha256", "rsa-sha1"] = "rsa-sha256",
    tamper: bool = False,
    document_id: str | None = None,
) -> bytes:
    """Build the federation metadata document of the federation service ``fs_name``.

    Args:
        fs_name: the federation service name, e.g. "sts.contoso.test".
        signing_certs: token-signing certificates, primary first; each gets a
            ``KeyDescriptor use="signing"`` in the STS RoleDescriptor, SPSSODescriptor and
            IDPSSODescriptor (two during an AD FS certificate rollover).
        encryption_certs: token-decrypting certificates (``use="encryption"``).
        signing_key / signing_cert: the key and certificate that sign the document (the primary
            token-signing certificate, as AD FS does); may be None when ``sign`` is False.
        sign: False publishes an unsigned document.
        signature_algorithm: "rsa-sha256" (AD FS default) or "rsa-sha1" (with a SHA-1 digest).
        tamper: change an attribute value after signing, so the signature no longer verifies.
        document_id: the EntityDescriptor ID (default: "_" + a UUID derived from the inputs, so the
            same inputs give the same document).

    Returns the UTF-8 document bytes, without an XML declaration (AD FS writes none).
    Raises ValueError when ``sign`` is True but no key or certificate is given, or for an unknown
    ``signature_algorithm``.
    """
    if signature_algorithm not in ("rsa-sha256", "rsa-sha1"):
        raise ValueError(f"unknown signature algorithm {signature_algorithm!r}")
    if document_id is None:
        thumbprints = ",".join(c.fingerprint(hashes.SHA256()).hex() for c in (*signing_certs, *encryption_certs))
        document_id = f"_{uuid.uuid5(uuid.NAMESPACE_URL, f'{fs_name}|{thumbprints}')}"
    root = _build_tree(fs_name, document_id, signing_certs, encryption_certs)
    if sign:
        if signing_key is None or signing_cert is None:
            raise ValueError("signing needs signing_key and signing_cert")
        # The placeholder puts the Signature first, where AD FS puts it (signxml appends otherwise).
        root.insert(0, etree.Element(_q(_DS, "Signature"), {"Id": "placeholder"}, nsmap={"ds": _DS}))
        sha1 = signature_algorithm == "rsa-sha1"
        signer_class = _LegacySha1Signer if sha1 else XMLSigner
        signer = signer_class(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=signature_algorithm,
            digest_algorithm="sha1" if sha1 else "sha256",
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        cert_pem = signing_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        root = signer.sign(root, key=signing_key, cert=[cert_pem])
    if tamper:
        # A change an attacker (or a careless proxy rewriting) would make: the display name.
        for role in root.iter(_q(_MD, "RoleDescriptor")):
            role.set("ServiceDisplayName", role.get("ServiceDisplayName", "") + " (changed after signing)")
            break
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)
