"""A real sign-in with the dedicated test account, as Microsoft 365 rich clients make it: a WS-Trust
1.3 RequestSecurityToken (Issue, Bearer) for ``urn:federation:MicrosoftOnline`` with a
UsernameToken, POSTed (SOAP 1.2) to ``/adfs/services/trust/13/usernamemixed`` through the external
path (the first configured proxy, else the federation service name), then the returned SAML
assertion read and its enveloped signature verified with signxml. AD FS answers a request that
names no token type with SAML 1.1; a SAML 2.0 assertion (another STS, or a farm configured to issue
it) is read the same way: MSAL and ADAL send either to Entra ID (saml1_1-bearer / saml2-bearer grant).

Sources: WS-Trust 1.3 (http://docs.oasis-open.org/ws-sx/ws-trust/v1.3/ws-trust.html), the
WS-Security UsernameToken profile 1.0 (PasswordText), SAML 1.1 (urn:oasis:names:tc:SAML:1.0:assertion),
SAML 2.0 core (urn:oasis:names:tc:SAML:2.0:assertion), Microsoft Remote Connectivity Analyzer's
"Microsoft Single Sign-On" test, which makes the same request.

The password is used once, in the request body, and goes nowhere else: it is not logged (the
HTTP client logs no bodies), not in the fact, and any text the server sends back is stored with the
password replaced. The token (a bearer credential for the test account) is not kept either, only
what it says.
"""

from __future__ import annotations

import getpass
from dataclasses import replace
import time
import uuid
import warnings
from datetime import datetime, timedelta
from typing import Callable

from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException

from adfs_readiness.facts import CertificateInfo, KeyUse, ProbeError, ProbeErrorKind
from adfs_readiness.facts.sign_in import MICROSOFT_ONLINE_REALM, SamlAssertion, SignInFacts
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._export_json import parse_ps_date
from adfs_readiness.probes._xml import DS, element_text, parse_xml, safe_parser, tag_parts
from adfs_readiness.probes.certificates import certificate_from_base64, load_x509_quietly
from adfs_readiness.probes.metadata import probe_federation_metadata
from adfs_readiness.probes.secrets import resolve_secret
from adfs_readiness.settings import SignInTestSettings

__all__ = ["probe_sign_in", "resolve_sign_in_password", "token_request", "read_token_response", "USERNAMEMIXED_13"]

USERNAMEMIXED_13 = "/adfs/services/trust/13/usernamemixed"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSTRUST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
SAML11 = "urn:oasis:names:tc:SAML:1.0:assertion"
SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
#: Per assertion namespace: the token type's name and the attribute holding the assertion's ID.
_ASSERTION_KINDS = {SAML11: ("SAML 1.1", "AssertionID"), SAML2: ("SAML 2.0", "ID")}
_PASSWORD_TEXT = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                  "#PasswordText")
_REDACTED = "[REDACTED]"


def resolve_sign_in_password(cfg: SignInTestSettings, *, environ: dict[str, str] | None = None,
                             prompt: Callable[[str], str] = getpass.getpass,
                             keyring_get: Callable[[str, str], str | None] | None = None
                             ) -> tuple[str | None, str | None]:
    """The test account's password from ``cfg.password_source``: "env" (``cfg.password_env``),
    "prompt" (no echo) or "keyring" (service ``cfg.keyring_service``, user ``cfg.upn``). Returns
    (password, None) or (None, why not); the password is never logged or stored."""
    return resolve_secret(cfg.password_source, env_name=cfg.password_env, env_setting="sign_in_test.password_env",
                          prompt_text=f"Password of the sign-in test account {cfg.upn}: ",
                          keyring_service=cfg.keyring_service, keyring_user=cfg.upn or "", environ=environ,
                          prompt=prompt, keyring_get=keyring_get)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def token_request(endpoint: str, upn: str, password: str, now: datetime) -> bytes:
    """The SOAP 1.2 RequestSecurityToken a rich client sends (built with lxml, so the password and
    the UPN are escaped as XML text)."""
    envelope = etree.Element(_q(SOAP, "Envelope"), nsmap={"s": SOAP, "a": WSA, "u": WSU})
    header = etree.SubElement(envelope, _q(SOAP, "Header"))
    must = {_q(SOAP, "mustUnderstand"): "1"}
    etree.SubElement(header, _q(WSA, "Action"), must).text = f"{WSTRUST}/RST/Issue"
    etree.SubElement(header, _q(WSA, "MessageID")).text = f"urn:uuid:{uuid.uuid4()}"
    reply = etree.SubElement(header, _q(WSA, "ReplyTo"))
    etree.SubElement(reply, _q(WSA, "Address")).text = "http://www.w3.org/2005/08/addressing/anonymous"
    etree.SubElement(header, _q(WSA, "To"), must).text = endpoint
    security = etree.SubElement(header, _q(WSSE, "Security"), must, nsmap={"o": WSSE})
    timestamp = etree.SubElement(security, _q(WSU, "Timestamp"), {_q(WSU, "Id"): "_0"})
    etree.SubElement(timestamp, _q(WSU, "Created")).text = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    etree.SubElement(timestamp, _q(WSU, "Expires")).text = (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    token = etree.SubElement(security, _q(WSSE, "UsernameToken"), {_q(WSU, "Id"): f"uuid-{uuid.uuid4()}"})
    etree.SubElement(token, _q(WSSE, "Username")).text = upn
    etree.SubElement(token, _q(WSSE, "Password"), {"Type": _PASSWORD_TEXT}).text = password
    body = etree.SubElement(envelope, _q(SOAP, "Body"))
    rst = etree.SubElement(body, _q(WSTRUST, "RequestSecurityToken"), nsmap={"trust": WSTRUST})
    applies = etree.SubElement(rst, _q(WSP, "AppliesTo"), nsmap={"wsp": WSP})
    etree.SubElement(etree.SubElement(applies, _q(WSA, "EndpointReference")), _q(WSA, "Address")).text = \
        MICROSOFT_ONLINE_REALM
    etree.SubElement(rst, _q(WSTRUST, "KeyType")).text = f"{WSTRUST}/Bearer"
    etree.SubElement(rst, _q(WSTRUST, "RequestType")).text = f"{WSTRUST}/Issue"
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=False)


def _scrub(text: str | None, secret: str) -> str | None:
    return text.replace(secret, _REDACTED) if text and secret else text


def _verify(assertion: etree._Element, id_attribute: str
            ) -> tuple[etree._Element, bool | None, str | None, object, str | None, str | None]:
    """(the element to read claims from, signature valid, why not, signer, method, digest). Claims
    are read from what the signature covers when it verifies (signature-wrapping defence).
    ``id_attribute`` is the assertion's ID attribute ("AssertionID" in SAML 1.1, "ID" in SAML 2.0)."""
    signature = assertion.find(_q(DS, "Signature"))
    if signature is None:
        return assertion, None, "the assertion carries no ds:Signature", None, None, None
    method = signature.find(f"{_q(DS, 'SignedInfo')}/{_q(DS, 'SignatureMethod')}")
    digest = signature.find(f".//{_q(DS, 'Reference')}/{_q(DS, 'DigestMethod')}")
    method_uri = method.get("Algorithm") if method is not None else None
    digest_uri = digest.get("Algorithm") if digest is not None else None
    embedded = signature.find(f"{_q(DS, 'KeyInfo')}/{_q(DS, 'X509Data')}/{_q(DS, 'X509Certificate')}")
    if embedded is None:
        return assertion, False, "the signature carries no X509Certificate to verify with", None, method_uri, digest_uri
    signer = certificate_from_base64(element_text(embedded))
    x509_cert, problems = load_x509_quietly(signer.der)
    if x509_cert is None:
        return assertion, False, f"the signing certificate is unreadable: {'; '.join(problems)}", signer, method_uri, \
            digest_uri
    config = SignatureConfiguration(location="./", signature_methods=frozenset(SignatureMethod),
                                    digest_algorithms=frozenset(DigestAlgorithm),
                                    verification_time=x509_cert.not_valid_before_utc, ignore_ambiguous_key_info=True)
    data = etree.tostring(assertion)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = XMLVerifier().verify(data, x509_cert=x509_cert, id_attribute=id_attribute, expect_config=config,
                                          parser=safe_parser())
        except InvalidDigest:
            return assertion, False, "the assertion was changed after it was signed (digest mismatch)", signer, \
                method_uri, digest_uri
        except InvalidSignature as exc:
            return assertion, False, f"the SignatureValue does not verify with the certificate it carries ({exc})", \
                signer, method_uri, digest_uri
        except (SignXMLException, ValueError, TypeError) as exc:
            return assertion, False, f"{type(exc).__name__}: {exc}", signer, method_uri, digest_uri
    signed = result.signed_xml if not isinstance(result, list) else None
    if signed is None or signed.tag != assertion.tag or signed.get(id_attribute) != assertion.get(id_attribute):
        return assertion, False, "the signature does not cover the assertion", signer, method_uri, digest_uri
    return signed, True, None, signer, method_uri, digest_uri


def _assertion_facts(assertion: etree._Element) -> SamlAssertion:
    namespace = tag_parts(assertion)[0] or SAML11
    token_type, id_attribute = _ASSERTION_KINDS[namespace]
    signed, valid, reason, signer, method, digest = _verify(assertion, id_attribute)
    conditions = signed.find(_q(namespace, "Conditions"))
    audiences = tuple(element_text(a).strip() for a in signed.iterfind(f".//{_q(namespace, 'Audience')}"))
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in signed.iterfind(f"{_q(namespace, 'AttributeStatement')}/{_q(namespace, 'Attribute')}"):
        if namespace == SAML11:
            name = f"{attribute.get('AttributeNamespace', '').rstrip('/')}/{attribute.get('AttributeName', '')}"
        else:
            name = attribute.get("Name", "")
        values = tuple(element_text(v).strip() for v in attribute.iterfind(_q(namespace, "AttributeValue")))
        attributes[name] = attributes.get(name, ()) + values
    if namespace == SAML11:
        issuer = signed.get("Issuer")
        name_id = signed.find(f"{_q(SAML11, 'AttributeStatement')}/{_q(SAML11, 'Subject')}/"
                              f"{_q(SAML11, 'NameIdentifier')}")
    else:
        issuer_element = signed.find(_q(SAML2, "Issuer"))
        issuer = element_text(issuer_element).strip() if issuer_element is not None else None
        name_id = signed.find(f"{_q(SAML2, 'Subject')}/{_q(SAML2, 'NameID')}")
    return SamlAssertion(
        assertion_id=signed.get(id_attribute), issuer=issuer, token_type=token_type,
        issue_instant=parse_ps_date(signed.get("IssueInstant")), audiences=audiences,
        not_before=parse_ps_date(conditions.get("NotBefore")) if conditions is not None else None,
        not_on_or_after=parse_ps_date(conditions.get("NotOnOrAfter")) if conditions is not None else None,
        name_identifier=element_text(name_id).strip() if name_id is not None else None, attributes=attributes,
        signature_valid=valid, signature_reason=reason, signer=signer,  # type: ignore[arg-type]
        signature_method=method, digest_method=digest)


def read_token_response(body: bytes) -> tuple[SamlAssertion | None, str | None, str | None, str | None]:
    """Read a WS-Trust response: (assertion, fault subcode, fault reason, why it is not usable).
    Parsed with the hardened parser (no DTD, no entities, no network); never raises."""
    try:
        root = parse_xml(body)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return None, None, None, f"the answer is not XML ({exc})"
    if root.tag != _q(SOAP, "Envelope"):
        return None, None, None, f"the answer is not a SOAP 1.2 envelope (root element {root.tag!r})"
    fault = root.find(f"{_q(SOAP, 'Body')}/{_q(SOAP, 'Fault')}")
    if fault is not None:
        subcode = fault.findtext(f"{_q(SOAP, 'Code')}/{_q(SOAP, 'Subcode')}/{_q(SOAP, 'Value')}") or \
            fault.findtext(f"{_q(SOAP, 'Code')}/{_q(SOAP, 'Value')}")
        reason = fault.findtext(f"{_q(SOAP, 'Reason')}/{_q(SOAP, 'Text')}")
        return None, (subcode or "").strip() or None, (reason or "").strip() or None, None
    tokens = root.findall(f".//{_q(WSTRUST, 'RequestedSecurityToken')}")
    if len(tokens) != 1:
        return None, None, None, f"the answer holds {len(tokens)} RequestedSecurityToken elements instead of one"
    assertions = [*tokens[0].findall(_q(SAML11, "Assertion")), *tokens[0].findall(_q(SAML2, "Assertion"))]
    if len(assertions) != 1:
        encrypted = len(tokens[0]) and "EncryptedData" in str(tokens[0][0].tag)
        return None, None, None, ("the token is encrypted (the relying party trust has an encryption certificate)"
                                  if encrypted else f"the token holds {len(assertions)} SAML assertions instead of one")
    return _assertion_facts(assertions[0]), None, None, None


def probe_sign_in(ctx: ProbeContext) -> SignInFacts | ProbeError:
    """Gather the ``sign_in`` fact: ``configured=False`` without a test account; otherwise one
    token request through the external path, with its outcome as data (a missing password, a
    transport failure, a SOAP fault or the assertion)."""
    config = ctx.config
    cfg = config.sign_in_test
    if not cfg.configured:
        return SignInFacts(configured=False)
    if not config.federation.service_name:
        return ProbeError(ProbeErrorKind.NOT_CONFIGURED, "the sign-in test needs the federation service name")
    started = time.monotonic()
    endpoint = f"https://{config.federation.service_name}{USERNAMEMIXED_13}"
    place = config.federation.proxies[0] if config.federation.proxies else config.federation.service_address
    via = str(place) if place is not None else f"{config.federation.service_name}:443"
    password, why = resolve_sign_in_password(cfg)
    if password is None:
        return SignInFacts(configured=True, upn=cfg.upn, endpoint=endpoint, via=via, password_problem=why,
                           proxied=bool(config.federation.proxies))
    ctx.net.secrets.add(password)  # a prompted or keyring password: the run's redactor scrubs it everywhere
    body = token_request(endpoint, cfg.upn or "", password, ctx.now)
    # A POST through the run's HTTP client: never redirected, capped, bounded by the probe's budget.
    posted = ctx.net.http.post(endpoint, body, content_type="application/soap+xml; charset=utf-8",
                               budget=ctx.budget, accept="application/soap+xml, text/xml", connect_address=place)
    exchange, answer = posted.exchange, posted.body
    del body
    received_at = ctx.now + timedelta(seconds=time.monotonic() - started)
    facts = SignInFacts(configured=True, upn=cfg.upn, endpoint=endpoint, via=via, exchange=exchange,
                        received_at=received_at, proxied=bool(config.federation.proxies))
    if exchange.error is not None or exchange.status in (404, 503) or not answer:
        return facts
    parse_started = time.monotonic()
    assertion, code, reason, problem = read_token_response(answer)
    parse_seconds = round(time.monotonic() - parse_started, 6)
    published, entity_id, metadata_problem = (_published_signing(ctx) if assertion is not None
                                              else (None, None, None))
    return replace(facts, assertion=_scrub_assertion(assertion, password), published_signing=published,
                   metadata_problem=metadata_problem, metadata_entity_id=entity_id,
                   exchange=replace(exchange, reason=_scrub(exchange.reason, password),
                                    headers={k: _scrub(v, password) or "" for k, v in exchange.headers.items()}),
                   soap_fault_code=_scrub(code, password), soap_fault_reason=_scrub(reason, password),
                   response_problem=_scrub(problem, password), parse_seconds=parse_seconds)


def _published_signing(ctx: ProbeContext) -> tuple[tuple[CertificateInfo, ...] | None, str | None, str | None]:
    """The token-signing certificates the federation metadata publishes and its entityID (read
    through the metadata probe's own code), or (None, None, why not)."""
    metadata = probe_federation_metadata(ctx)
    if isinstance(metadata, ProbeError):
        return None, None, str(metadata)
    if metadata.document is None:
        return None, None, metadata.parse_error or "the federation metadata could not be read"
    return tuple(metadata.document.certificates(KeyUse.SIGNING)), metadata.document.entity_id, None


def _scrub_assertion(assertion: SamlAssertion | None, secret: str) -> SamlAssertion | None:
    """The assertion with the password removed from every text a server wrote (a server echoing
    the request must not put the password into reports)."""
    if assertion is None:
        return None
    return replace(assertion, issuer=_scrub(assertion.issuer, secret),
                   audiences=tuple(_scrub(a, secret) or "" for a in assertion.audiences),
                   name_identifier=_scrub(assertion.name_identifier, secret),
                   attributes={_scrub(k, secret) or "": tuple(_scrub(v, secret) or "" for v in values)
                               for k, values in assertion.attributes.items()},
                   signature_reason=_scrub(assertion.signature_reason, secret))
