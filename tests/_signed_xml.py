"""Test helper: build small AD FS-shaped federation metadata documents and sign them with signxml.

The signature is enveloped as the first child of EntityDescriptor, with exclusive c14n and a
Reference to ``#<ID>``, the shape AD FS publishes.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner

DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class SigningIdentity:
    """A private key and its self-signed certificate (a token-signing certificate look-alike)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.der).decode("ascii")

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def make_identity(cn: str = "ADFS Signing - sts.contoso.example", key_size: int = 2048) -> SigningIdentity:
    """A new RSA key with a self-signed SHA-256 certificate valid 2025-01-01 .. 2027-01-01."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
        .not_valid_after(dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc))
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(key, cert)


def key_descriptor(use: str | None, *certificates_b64: str) -> str:
    use_attr = f' use="{use}"' if use else ""
    certs = "".join(f"<X509Certificate>{c}</X509Certificate>" for c in certificates_b64)
    return (
        f'<KeyDescriptor{use_attr}><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#">'
        f"<X509Data>{certs}</X509Data></KeyInfo></KeyDescriptor>"
    )


def build_metadata(
    signing_b64: list[str],
    *,
    entity_id: str = "http://sts.contoso.example/adfs/services/trust",
    document_id: str | None = "_doc-1",
    valid_until: str | None = "2027-06-01T10:20:30.1234567Z",
    cache_duration: str | None = "PT1H",
    sts_key_descriptors: str | None = None,
    extra_roles: str = "",
    signature_placeholder: bool = True,
) -> bytes:
    """An unsigned EntityDescriptor with a WS-Fed STS RoleDescriptor (ID ``_sts-role``) and an
    IDPSSODescriptor, both listing ``signing_b64`` as signing certificates (one KeyDescriptor each
    unless ``sts_key_descriptors`` replaces the STS role's). A ``ds:Signature Id="placeholder"``
    first child tells signxml where to put the enveloped signature."""
    kds = "".join(key_descriptor("signing", c) for c in signing_b64)
    attrs = f' ID="{document_id}"' if document_id is not None else ""
    attrs += f' entityID="{entity_id}"'
    if valid_until is not None:
        attrs += f' validUntil="{valid_until}"'
    if cache_duration is not None:
        attrs += f' cacheDuration="{cache_duration}"'
    placeholder = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"/>' if signature_placeholder else ""
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor{attrs} xmlns="urn:oasis:names:tc:SAML:2.0:metadata">{placeholder}
  <RoleDescriptor ID="_sts-role" xsi:type="fed:SecurityTokenServiceType"
      protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
    {sts_key_descriptors if sts_key_descriptors is not None else kds}
    <fed:ClaimTypesOffered>
      <auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" Optional="true"
          xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"/>
      <auth:ClaimType Uri="http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
          xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"/>
    </fed:ClaimTypesOffered>
    <fed:PassiveRequestorEndpoint>
      <wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">
        <wsa:Address>
          https://sts.contoso.example/adfs/ls/
        </wsa:Address>
      </wsa:EndpointReference>
    </fed:PassiveRequestorEndpoint>
  </RoleDescriptor>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {kds}
    <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sts.contoso.example/adfs/ls/"/>
    <NameIDFormat> urn:oasis:names:tc:SAML:2.0:nameid-format:persistent </NameIDFormat>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sts.contoso.example/adfs/ls/"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sts.contoso.example/adfs/ls/"/>
    <Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" xmlns="urn:oasis:names:tc:SAML:2.0:assertion"/>
  </IDPSSODescriptor>{extra_roles}
</EntityDescriptor>
"""
    return xml.encode("utf-8")


class _SHA1Signer(XMLSigner):
    """signxml refuses SHA-1 by default; its documentation shows this override for legacy tests."""

    def check_deprecated_methods(self) -> None:
        pass


def sign_metadata(
    xml: bytes,
    identity: SigningIdentity,
    *,
    sha1: bool = False,
    reference_uri: str | None = None,
) -> bytes:
    """Sign ``xml`` (from :func:`build_metadata`) with an enveloped signature replacing the
    placeholder: RSA-SHA256/SHA-256 by default, RSA-SHA1/SHA-1 with ``sha1``. ``reference_uri``
    defaults to ``#`` + the root's ID, or to "" (the whole document) when the root has no ID.
    The certificate goes into KeyInfo/X509Data."""
    root = etree.fromstring(xml)
    signer_class = _SHA1Signer if sha1 else XMLSigner
    signer = signer_class(
        signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(
        root,
        key=identity.key,
        cert=[identity.cert],
        # signxml writes URI="" when neither is given and the root has no ID.
        reference_uri=reference_uri or (f"#{root.get('ID')}" if root.get("ID") else None),
    )
    first = signed[0]
    assert first.tag == f"{{{DS}}}Signature", "the signature must be the first child, as AD FS puts it"
    return etree.tostring(signed, xml_declaration=True, encoding="utf-8")
