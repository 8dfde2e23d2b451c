"""Facts of a real sign-in with the dedicated test account (``endpoints.sign-in-test``): a WS-Trust
1.3 ``usernamemixed`` token request for the Microsoft 365 realm through the external path, as
Microsoft 365 rich clients make it, and what came back.

No secret is held here: neither the password nor the token. Only what the assertion says
(issuer, audiences, validity, claims) and how its signature verified are kept, and any text a
server sent back is stored with the password removed.

Fact key: :data:`SIGN_IN_FACT` (:class:`SignInFacts`). Imports only from :mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from adfs_readiness.facts import CertificateInfo, HttpExchange

__all__ = ["SIGN_IN_FACT", "SamlAssertion", "SignInFacts", "MICROSOFT_ONLINE_REALM"]

#: Fact key of :class:`SignInFacts`.
SIGN_IN_FACT = "sign_in"
#: The realm (AppliesTo) Microsoft 365 asks AD FS for.
MICROSOFT_ONLINE_REALM = "urn:federation:MicrosoftOnline"


@dataclass(frozen=True)
class SamlAssertion:
    """The SAML assertion AD FS returned, as read from the element its signature covers: SAML 1.1
    (what AD FS issues for a WS-Trust request that names no token type) or SAML 2.0 (what a
    request for it, or another STS, returns; Microsoft's WS-Trust clients send it to Entra ID
    with the saml2-bearer grant, so it is as usable as a SAML 1.1 one).

    Attributes:
        token_type: "SAML 1.1" or "SAML 2.0".
        assertion_id / issuer / issue_instant: the assertion's ID (SAML 1.1 ``AssertionID``,
            SAML 2.0 ``ID``), issuer (the ``Issuer`` attribute / element) and IssueInstant.
        audiences: the audience restriction's Audience values.
        not_before / not_on_or_after: the Conditions' validity window (aware UTC).
        name_identifier: the Subject's NameIdentifier / NameID (Entra matches it to the ImmutableID).
        attributes: claim name -> values. SAML 1.1: ``AttributeNamespace/AttributeName`` (e.g.
            ``http://schemas.xmlsoap.org/claims/UPN``); SAML 2.0: the ``Name`` as written (AD FS
            writes the claim type URI; other STSs "IDPEmail" for the UPN).
        signature_valid: the XML signature verified with the certificate it carries (None = no
            signature to verify); ``signature_reason`` says why not.
        signer: the certificate in the signature's KeyInfo (what the check compares with the
            token-signing certificates the federation metadata publishes).
        signature_method / digest_method: algorithm URIs.
    """

    assertion_id: str | None
    issuer: str | None
    issue_instant: datetime | None
    audiences: tuple[str, ...]
    not_before: datetime | None
    not_on_or_after: datetime | None
    name_identifier: str | None
    attributes: Mapping[str, tuple[str, ...]]
    signature_valid: bool | None
    signature_reason: str | None = None
    signer: CertificateInfo | None = None
    signature_method: str | None = None
    digest_method: str | None = None
    token_type: str = "SAML 1.1"


@dataclass(frozen=True)
class SignInFacts:
    """The sign-in test fact (key ``sign_in``).

    Attributes:
        configured: False without a test account (``[sign_in_test] upn``): the check skips.
        upn: the test account.
        endpoint: the WS-Trust URL asked (``https://<federation service name>/adfs/services/trust/13/usernamemixed``).
        via: the external place the request went to (a proxy, or the service name).
        password_problem: why the password could not be had (no secret here, only the reason).
        exchange: the HTTP exchange (status, headers, timing, transport error as data).
        soap_fault_code / soap_fault_reason: a SOAP fault's subcode (e.g. ``a:FailedAuthentication``)
            and reason text (e.g. ``ID3242: The security token could not be authenticated or authorized.``).
        response_problem: why the answer is not a usable token response (not XML, no assertion, ...).
        assertion: the assertion, when one came back.
        received_at: the run's clock when the answer arrived (the run's ``now`` plus the time since
            the probe started), which the validity window is judged against.
        parse_seconds: time spent reading the response and verifying the signature.
        published_signing: the token-signing certificates the federation metadata publishes (read
            by the probe when a token came back, as the RCA test does); None when not read, and
            ``metadata_problem`` says why.
        metadata_entity_id: the entityID of that metadata (the federation service identifier, the
            issuer AD FS writes into tokens unless an issuerid rule says otherwise); None when not read.
        proxied: whether the request went to a configured Web Application Proxy (False: to the
            federation service name as this machine reaches it, which may be the internal farm).
    """

    configured: bool
    upn: str | None = None
    endpoint: str | None = None
    via: str | None = None
    password_problem: str | None = None
    exchange: HttpExchange | None = None
    soap_fault_code: str | None = None
    soap_fault_reason: str | None = None
    response_problem: str | None = None
    assertion: SamlAssertion | None = None
    received_at: datetime | None = None
    parse_seconds: float | None = None
    published_signing: tuple[CertificateInfo, ...] | None = None
    metadata_problem: str | None = None
    metadata_entity_id: str | None = None
    proxied: bool | None = None
