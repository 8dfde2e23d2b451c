"""The lab STS's WS-Trust 1.3 ``usernamemixed`` endpoint: it answers a RequestSecurityToken for
``urn:federation:MicrosoftOnline`` the way AD FS does for Microsoft 365 rich clients, with a real
SAML 1.1 assertion signed (enveloped XML-DSig, RSA-SHA256, exclusive c14n, the signing certificate
in KeyInfo) by the token-signing key, or with the SOAP fault AD FS sends for a refused password.

Shapes follow AD FS's answers: the assertion (SAML 1.1, ``AssertionID`` "_<guid>", Issuer = the
federation service identifier) carries an AudienceRestrictionCondition for the realm, an
AttributeStatement whose Subject NameIdentifier is the ImmutableID and whose attributes are UPN
(``http://schemas.xmlsoap.org/claims``) and ImmutableID
(``http://schemas.microsoft.com/LiveID/Federation/2008/05``), and an AuthenticationStatement
(password). With ``token_type="saml2"`` it answers a SAML 2.0 assertion instead (``ID``, an Issuer element,
AudienceRestriction, the ImmutableID as a persistent NameID and the claims as attributes named by
their claim types), as an STS that issues SAML 2.0 over WS-Trust does; ``issuer`` can be the
SupportMultipleDomain form (http://<domain>/adfs/services/trust/) an issuerid rule puts there.
A wrong password gets HTTP 500 with a SOAP 1.2 fault, subcode
``a:FailedAuthentication``, reason "ID3242: The security token could not be authenticated or
authorized." (WIF's message for a refused UsernameToken, which AD FS passes on).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from lxml import etree
from signxml import CanonicalizationMethod, SignatureConstructionMethod, XMLSigner

from adfs_readiness.lab.pki import LabCertificate
from adfs_readiness.probes._xml import safe_parser

__all__ = ["SignInLab", "wstrust_answer", "MAX_REQUEST_BYTES", "SOAP", "WSTRUST", "SAML11", "SAML2"]

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSTRUST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
SAML11 = "urn:oasis:names:tc:SAML:1.0:assertion"
SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
#: A token request larger than this is refused (a real one is about 2 KB).
MAX_REQUEST_BYTES = 64 * 1024


@dataclass(frozen=True)
class SignInLab:
    """The lab's test account and how the STS answers its token requests.

    Attributes:
        upn / password: the account; ``password`` is what the STS accepts.
        immutable_id: the ImmutableID (base64 of the source anchor) the token carries.
        issuer: the federation service identifier (the assertion's Issuer).
        signing: the key and certificate that sign the assertion.
        now: the lab's clock (None = the system clock); the token is valid from now for an hour.
        drop_claim: "ImmutableID" or "UPN" to leave that claim out (a broken issuance rule).
        token_type: "saml11" (what AD FS issues for Microsoft 365 rich clients) or "saml2".
    """

    upn: str
    password: str = field(repr=False)
    immutable_id: str
    issuer: str
    signing: LabCertificate
    now: datetime | None = None
    drop_claim: Literal["ImmutableID", "UPN"] | None = None
    token_type: Literal["saml11", "saml2"] = "saml11"


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _fault(subcode: str, reason: str) -> tuple[int, bytes, str]:
    envelope = etree.Element(_q(SOAP, "Envelope"), nsmap={"s": SOAP, "a": WSA})
    header = etree.SubElement(envelope, _q(SOAP, "Header"))
    action = etree.SubElement(header, _q(WSA, "Action"), {_q(SOAP, "mustUnderstand"): "1"})
    action.text = "http://www.w3.org/2005/08/addressing/soap/fault"
    fault = etree.SubElement(etree.SubElement(envelope, _q(SOAP, "Body")), _q(SOAP, "Fault"))
    code = etree.SubElement(fault, _q(SOAP, "Code"))
    etree.SubElement(code, _q(SOAP, "Value")).text = "s:Sender"
    sub = etree.SubElement(etree.SubElement(code, _q(SOAP, "Subcode")), _q(SOAP, "Value"), nsmap={"a": WSTRUST})
    sub.text = subcode
    text = etree.SubElement(etree.SubElement(fault, _q(SOAP, "Reason")), _q(SOAP, "Text"),
                            {"{http://www.w3.org/XML/1998/namespace}lang": "en-US"})
    text.text = reason
    return 500, etree.tostring(envelope, encoding="utf-8"), "application/soap+xml; charset=utf-8"


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _assertion(lab: SignInLab, realm: str, now: datetime) -> etree._Element:
    assertion_id = f"_{uuid.uuid4()}"
    assertion = etree.Element(_q(SAML11, "Assertion"), {
        "MajorVersion": "1", "MinorVersion": "1", "AssertionID": assertion_id, "Issuer": lab.issuer,
        "IssueInstant": _z(now)}, nsmap={"saml": SAML11})
    conditions = etree.SubElement(assertion, _q(SAML11, "Conditions"),
                                  {"NotBefore": _z(now), "NotOnOrAfter": _z(now + timedelta(hours=1))})
    audience = etree.SubElement(etree.SubElement(conditions, _q(SAML11, "AudienceRestrictionCondition")),
                                _q(SAML11, "Audience"))
    audience.text = realm
    statement = etree.SubElement(assertion, _q(SAML11, "AttributeStatement"))
    subject = etree.SubElement(statement, _q(SAML11, "Subject"))
    name_id = etree.SubElement(subject, _q(SAML11, "NameIdentifier"),
                               {"Format": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"})
    name_id.text = lab.immutable_id
    confirmation = etree.SubElement(subject, _q(SAML11, "SubjectConfirmation"))
    etree.SubElement(confirmation, _q(SAML11, "ConfirmationMethod")).text = "urn:oasis:names:tc:SAML:1.0:cm:bearer"
    for name, namespace, value in (("UPN", "http://schemas.xmlsoap.org/claims", lab.upn),
                                   ("ImmutableID", "http://schemas.microsoft.com/LiveID/Federation/2008/05",
                                    lab.immutable_id)):
        if name == lab.drop_claim:
            continue
        attribute = etree.SubElement(statement, _q(SAML11, "Attribute"),
                                     {"AttributeName": name, "AttributeNamespace": namespace})
        etree.SubElement(attribute, _q(SAML11, "AttributeValue")).text = value
    authentication = etree.SubElement(assertion, _q(SAML11, "AuthenticationStatement"), {
        "AuthenticationMethod": "urn:oasis:names:tc:SAML:1.0:am:password", "AuthenticationInstant": _z(now)})
    subject = etree.SubElement(authentication, _q(SAML11, "Subject"))
    etree.SubElement(subject, _q(SAML11, "NameIdentifier"),
                     {"Format": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"}).text = lab.immutable_id
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
                       digest_algorithm="sha256",
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    return signer.sign(assertion, key=lab.signing.key, cert=[lab.signing.cert], reference_uri=f"#{assertion_id}",
                       id_attribute="AssertionID")


def _assertion_saml2(lab: SignInLab, realm: str, now: datetime) -> etree._Element:
    assertion_id = f"_{uuid.uuid4()}"
    assertion = etree.Element(_q(SAML2, "Assertion"), {"ID": assertion_id, "IssueInstant": _z(now), "Version": "2.0"},
                              nsmap={None: SAML2})
    etree.SubElement(assertion, _q(SAML2, "Issuer")).text = lab.issuer
    # Where the schema puts the signature: right after the Issuer (signxml fills the placeholder).
    etree.SubElement(assertion, _q(DS, "Signature"), {"Id": "placeholder"}, nsmap={"ds": DS})
    subject = etree.SubElement(assertion, _q(SAML2, "Subject"))
    etree.SubElement(subject, _q(SAML2, "NameID"),
                     {"Format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}).text = lab.immutable_id
    etree.SubElement(subject, _q(SAML2, "SubjectConfirmation"), {"Method": "urn:oasis:names:tc:SAML:2.0:cm:bearer"})
    conditions = etree.SubElement(assertion, _q(SAML2, "Conditions"),
                                  {"NotBefore": _z(now), "NotOnOrAfter": _z(now + timedelta(hours=1))})
    etree.SubElement(etree.SubElement(conditions, _q(SAML2, "AudienceRestriction")), _q(SAML2, "Audience")).text = realm
    statement = etree.SubElement(assertion, _q(SAML2, "AttributeStatement"))
    for name, claim_type, value in (("UPN", "http://schemas.xmlsoap.org/claims/UPN", lab.upn),
                                    ("ImmutableID", "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID",
                                     lab.immutable_id)):
        if name == lab.drop_claim:
            continue
        attribute = etree.SubElement(statement, _q(SAML2, "Attribute"), {"Name": claim_type})
        etree.SubElement(attribute, _q(SAML2, "AttributeValue")).text = value
    authn = etree.SubElement(assertion, _q(SAML2, "AuthnStatement"), {"AuthnInstant": _z(now)})
    etree.SubElement(etree.SubElement(authn, _q(SAML2, "AuthnContext")), _q(SAML2, "AuthnContextClassRef")).text = \
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
                       digest_algorithm="sha256",
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    return signer.sign(assertion, key=lab.signing.key, cert=[lab.signing.cert], reference_uri=f"#{assertion_id}",
                       id_attribute="ID")


def wstrust_answer(body: bytes, lab: SignInLab | None, now: datetime) -> tuple[int, bytes, str]:
    """The (status, body, content type) the STS answers a WS-Trust 1.3 token request ``body``
    with: the signed token for the right account and password, a SOAP fault otherwise."""
    if lab is None:
        return _fault("a:InvalidRequest", "MSIS7065: There are no registered protocol handlers on path "
                      "/adfs/services/trust/13/usernamemixed to process the incoming request.")
    try:
        request = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError:
        return _fault("a:InvalidRequest", "The request is not a SOAP message.")
    username = request.findtext(f".//{_q(WSSE, 'UsernameToken')}/{_q(WSSE, 'Username')}")
    password = request.findtext(f".//{_q(WSSE, 'UsernameToken')}/{_q(WSSE, 'Password')}")
    realm = request.findtext(f".//{_q(WSP, 'AppliesTo')}/{_q(WSA, 'EndpointReference')}/{_q(WSA, 'Address')}")
    if (username or "").lower() != lab.upn.lower() or password != lab.password:
        return _fault("a:FailedAuthentication", "ID3242: The security token could not be authenticated or authorized.")
    if realm != "urn:federation:MicrosoftOnline":
        return _fault("a:InvalidRequest", f"MSIS7007: The requested relying party trust '{realm}' is unspecified or "
                                          f"unsupported.")
    envelope = etree.Element(_q(SOAP, "Envelope"), nsmap={"s": SOAP, "a": WSA})
    header = etree.SubElement(envelope, _q(SOAP, "Header"))
    etree.SubElement(header, _q(WSA, "Action"), {_q(SOAP, "mustUnderstand"): "1"}).text = \
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal"
    collection = etree.SubElement(etree.SubElement(envelope, _q(SOAP, "Body")),
                                  _q(WSTRUST, "RequestSecurityTokenResponseCollection"), nsmap={"trust": WSTRUST})
    response = etree.SubElement(collection, _q(WSTRUST, "RequestSecurityTokenResponse"))
    lifetime = etree.SubElement(response, _q(WSTRUST, "Lifetime"))
    utility = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    etree.SubElement(lifetime, _q(utility, "Created"), nsmap={"wsu": utility}).text = _z(now)
    etree.SubElement(lifetime, _q(utility, "Expires"), nsmap={"wsu": utility}).text = _z(now + timedelta(hours=1))
    applies = etree.SubElement(response, _q(WSP, "AppliesTo"), nsmap={"wsp": WSP})
    etree.SubElement(etree.SubElement(applies, _q(WSA, "EndpointReference")), _q(WSA, "Address")).text = realm
    token = etree.SubElement(response, _q(WSTRUST, "RequestedSecurityToken"))
    saml2 = lab.token_type == "saml2"
    token.append(_assertion_saml2(lab, realm, now) if saml2 else _assertion(lab, realm, now))
    etree.SubElement(response, _q(WSTRUST, "TokenType")).text = SAML2 if saml2 else SAML11
    etree.SubElement(response, _q(WSTRUST, "RequestType")).text = f"{WSTRUST}/Issue"
    etree.SubElement(response, _q(WSTRUST, "KeyType")).text = f"{WSTRUST}/Bearer"
    return 200, etree.tostring(envelope, encoding="utf-8"), "application/soap+xml; charset=utf-8"
