"""``endpoints.sign-in-test``: a real sign-in with the dedicated test account, judged step by step the
way Microsoft's Remote Connectivity Analyzer reports its "Microsoft Single Sign-On" test: which step
failed, with the HTTP status or the SOAP fault, and how long each took. Off (skip) unless a test
account is configured (``[sign_in_test] upn``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from adfs_readiness.api import Area, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts import ProbeErrorKind
from adfs_readiness.facts.claim_rules import IMMUTABLE_ID_CLAIM, UPN_CLAIM
from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT, DomainFederation, EntraFederationFacts
from adfs_readiness.facts.sign_in import MICROSOFT_ONLINE_REALM, SIGN_IN_FACT, SamlAssertion, SignInFacts

from ._refs_entra import REF_MULTIPLE_DOMAINS, REF_SET_ADFSENDPOINT

__all__ = ["sign_in_test"]

REF_RCA = Reference("Microsoft Remote Connectivity Analyzer (Microsoft 365: Single Sign-On test)",
                    "https://testconnectivity.microsoft.com/tests/o365")
REF_WS_TRUST = Reference("WS-Trust 1.3 (OASIS)", "http://docs.oasis-open.org/ws-sx/ws-trust/v1.3/ws-trust.html")
REF_SAML11 = Reference("SAML 1.1 assertions and protocol (OASIS)",
                       "https://www.oasis-open.org/committees/download.php/3406/oasis-sstc-saml-core-1.1.pdf")
# Failures of this machine or this run (not of the federation service): "not determined".
_LOCAL = (ProbeErrorKind.TLS, ProbeErrorKind.DEADLINE, ProbeErrorKind.NAME_NOT_RESOLVED, ProbeErrorKind.LOCAL,
          ProbeErrorKind.POLICY)


@dataclass
class _Steps:
    """The RCA-style step list: each step passed, failed, could not be determined or was not reached."""

    rows: list[dict[str, Any]]

    def add(self, name: str, status: Status, detail: str, ms: float | None = None) -> Status:
        self.rows.append({"step": len(self.rows) + 1, "name": name, "status": status.value, "detail": detail,
                          "ms": round(ms, 1) if ms is not None else None})
        return status

    def first_problem(self) -> dict[str, Any] | None:
        """The first failed step, else the first one that could not be determined."""
        return next((r for r in self.rows if r["status"] == "fail"),
                    next((r for r in self.rows if r["status"] == "error"), None))


@dataclass(frozen=True)
class _IssuerExpectation:
    """What the token's issuer is compared with: ``exact`` (Entra ID's issuerUri for the account's
    domain, when Entra's settings were read) or, when they were not, the ``forms`` Microsoft's
    tooling gives a domain's issuerUri (the federation service identifier, or with
    SupportMultipleDomain - which Entra Connect always uses - ``http://<domain>/adfs/services/trust/``
    for the account's domain or a parent it inherits from)."""

    exact: str | None
    source: str
    forms: tuple[tuple[str, str], ...] = ()


def _entra_domain(ctx: CheckContext, facts: SignInFacts) -> tuple[bool, DomainFederation | None]:
    """(Entra's federation settings were read, the federation configuration of the test account's
    domain or of the parent a subdomain inherits from)."""
    entra = ctx.facts.get(ENTRA_FEDERATION_FACT)
    read = isinstance(entra, EntraFederationFacts) and entra.configured and not entra.problems
    if not read:
        return False, None
    labels = [label for label in (facts.upn or "").rsplit("@", 1)[-1].lower().rstrip(".").split(".") if label]
    for index in range(len(labels) - 1):
        federation = entra.for_domain(".".join(labels[index:]))
        if federation is not None:
            return True, federation
    return True, None


def _expected_issuer(ctx: CheckContext, facts: SignInFacts) -> _IssuerExpectation:
    """Entra ID's issuerUri for the test account's domain (or the parent domain it is federated
    through) when Entra's federation settings were read; otherwise the issuer forms Entra could hold.
    Source: "Multiple domain support for federating with Microsoft Entra ID" (the issuerid rule sets
    the token's issuer to http://<UPN suffix>/adfs/services/trust/; Entra finds the domain by it)."""
    domain = (facts.upn or "").rsplit("@", 1)[-1].lower().rstrip(".")
    labels = [label for label in domain.split(".") if label]
    parents = [".".join(labels[index:]) for index in range(len(labels) - 1)]  # a subdomain inherits its parent
    read, federation = _entra_domain(ctx, facts)
    if federation is not None and federation.issuer_uri:
        return _IssuerExpectation(federation.issuer_uri, f"Entra ID's issuerUri for {federation.domain}")
    identifier = facts.metadata_entity_id or ctx.config.federation.issuer
    forms = [(identifier, "the federation service identifier (the issuerUri without SupportMultipleDomain)")] \
        if identifier else []
    forms += [(f"http://{candidate}/adfs/services/trust/", f"the SupportMultipleDomain issuerUri of {candidate}")
              for candidate in parents]
    why = ("Entra ID's federation settings hold no issuerUri for " + domain if read else
           "Entra ID's federation settings were not read ([cloud] graph or an Entra export)")
    return _IssuerExpectation(None, why, tuple(forms))


def _issuer_step(ctx: CheckContext, facts: SignInFacts, assertion: SamlAssertion, steps: _Steps) -> bool:
    """Step: the token's issuer. Returns whether it was compared with Entra's own issuerUri."""
    name = "Issuer is the issuer URI Entra ID expects"
    expectation = _expected_issuer(ctx, facts)
    issuer = assertion.issuer
    if expectation.exact is not None:
        if issuer == expectation.exact:
            steps.add(name, Status.PASS, f"{issuer} ({expectation.source})")
        else:
            steps.add(name, Status.FAIL, f"the token's issuer is {issuer!r}, Entra ID expects {expectation.exact!r} "
                                         f"({expectation.source}): Entra ID refuses it (AADSTS50107)")
        return True
    # Entra's value is unknown: judge only what is certain. A token issuer of one of the forms Entra
    # can hold passes as far as this run can tell; any other issuer cannot be judged here.
    match = next((what for form, what in expectation.forms if issuer and issuer.rstrip("/") == form.rstrip("/")), None)
    if match:
        steps.add(name, Status.PASS, f"{issuer}: {match}; {expectation.source}, so cloud.issuer-uri, not this "
                                     f"step, confirms Entra holds it")
    else:
        forms = ", ".join(repr(form) for form, _ in expectation.forms) or "none known"
        steps.add(name, Status.ERROR, f"the token's issuer {issuer!r} is none of the forms Entra ID's issuerUri takes "
                                      f"for this account ({forms}) and {expectation.source}: whether Entra ID "
                                      f"accepts it could not be determined")
    return False


def _immutable_id_problem(value: str, expected: str | None) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"ImmutableID {value!r} is not base64"
    if len(raw) != 16:
        return f"ImmutableID decodes to {len(raw)} bytes, not the 16 of a GUID (objectGUID / ms-DS-ConsistencyGuid)"
    if expected and value != expected:
        return f"ImmutableID {value!r} is not the configured {expected!r} (sign_in_test.immutable_id)"
    return None


def _upn_and_immutable_id(assertion: SamlAssertion) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(UPN values, ImmutableID values, where the ImmutableID was read). SAML 1.1 from AD FS: the
    UPN and ImmutableID attributes. SAML 2.0: the same claim types as attribute names (AD FS), else
    Entra's SAML 2.0 names: IDPEmail for the UPN and the persistent NameID as the ImmutableID
    (https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-saml-idp)."""
    upns = assertion.attributes.get(UPN_CLAIM, ())
    ids = assertion.attributes.get(IMMUTABLE_ID_CLAIM, ())
    if assertion.token_type != "SAML 2.0":
        return upns, ids, "the ImmutableID claim"
    upns = upns or assertion.attributes.get("IDPEmail", ())
    if ids:
        return upns, ids, "the ImmutableID claim"
    return upns, ((assertion.name_identifier,) if assertion.name_identifier else ()), "the NameID"


def _token_steps(ctx: CheckContext, facts: SignInFacts, assertion: SamlAssertion, steps: _Steps) -> bool:
    """Steps 5-9: signature, issuer, audience, validity, claims. Returns whether the issuer was
    compared with Entra ID's own issuerUri."""
    published = {c.sha1 for c in facts.published_signing} if facts.published_signing is not None else None
    signer = assertion.signer
    name = "Signature by the token-signing certificate the federation metadata publishes"
    if assertion.signature_valid is not True:
        steps.add(name, Status.FAIL, assertion.signature_reason or "the signature does not verify")
    elif published is None:
        steps.add(name, Status.ERROR, f"the signature verifies with {signer.label if signer else '?'}, but the "
                                      f"federation metadata could not be read to compare: {facts.metadata_problem}")
    elif signer is None or signer.sha1 not in published:
        steps.add(name, Status.FAIL, f"signed by {signer.label if signer else 'an unknown certificate'}, which the "
                                     f"federation metadata does not publish: Entra ID rejects the token (AADSTS50008)")
    else:
        _, federation = _entra_domain(ctx, facts)
        trusted = ({c.sha1 for c in (federation.signing_certificate, federation.next_signing_certificate) if c}
                   if federation is not None else set())
        held_for = federation.domain if federation is not None else ""
        if trusted and signer.sha1 not in trusted:
            # The metadata is what AD FS publishes; Entra validates with the certificates it holds.
            steps.add(name, Status.FAIL, f"signed by {signer.label}, which the federation metadata publishes but "
                                         f"Entra ID's settings for {held_for} do not hold "
                                         f"(signingCertificate / nextSigningCertificate): Entra ID rejects the token "
                                         f"(AADSTS50008); see cloud.signing-cert-match")
        else:
            held = f"; Entra ID holds it for {held_for}" if trusted else ""
            steps.add(name, Status.PASS, f"signed by {signer.label} ({assertion.signature_method}){held}")
    confirmed = _issuer_step(ctx, facts, assertion, steps)
    if MICROSOFT_ONLINE_REALM in assertion.audiences:
        steps.add("Audience is urn:federation:MicrosoftOnline", Status.PASS, MICROSOFT_ONLINE_REALM)
    else:
        steps.add("Audience is urn:federation:MicrosoftOnline", Status.FAIL, f"audiences: {list(assertion.audiences)}")
    skew = timedelta(seconds=ctx.config.thresholds.clock_skew_fail_seconds)
    at = facts.received_at
    window = f"{assertion.not_before} .. {assertion.not_on_or_after}"
    if assertion.not_before is None or assertion.not_on_or_after is None or at is None:
        steps.add("Validity window fits the clock", Status.FAIL, f"the assertion's Conditions lack a validity window "
                                                                  f"({window})")
    elif assertion.not_before - skew <= at < assertion.not_on_or_after + skew:
        steps.add("Validity window fits the clock", Status.PASS, f"{window}; received at {at.isoformat()}")
    else:
        steps.add("Validity window fits the clock", Status.FAIL,
                  f"{window} does not contain {at.isoformat()} (with {int(skew.total_seconds())} s of tolerance): the "
                  f"clocks of AD FS and this machine disagree")
    problems = []
    upns, ids, id_from = _upn_and_immutable_id(assertion)
    if not upns:
        problems.append("no UPN claim")
    elif (facts.upn or "").lower() not in (u.lower() for u in upns):
        problems.append(f"UPN claim {list(upns)} is not {facts.upn}")
    if not ids:
        problems.append("no ImmutableID claim")
    else:
        problem = _immutable_id_problem(ids[0], ctx.config.sign_in_test.immutable_id)
        if problem:
            problems.append(problem if id_from == "the ImmutableID claim" else f"{problem} ({id_from})")
        elif assertion.name_identifier and assertion.name_identifier != ids[0]:
            problems.append(f"the Subject NameIdentifier {assertion.name_identifier!r} is not the ImmutableID")
    steps.add("UPN and ImmutableID claims present and shaped right", Status.FAIL if problems else Status.PASS,
              "; ".join(problems) if problems else f"UPN {upns[0]}, ImmutableID {ids[0]}")
    return confirmed


@check(id="endpoints.sign-in-test", title="Real sign-in with the test account (WS-Trust)", area=Area.ENDPOINTS,
       severity=Severity.CRITICAL, blocker=True, requires=(SIGN_IN_FACT,), optional=(ENTRA_FEDERATION_FACT,),
       rule="When a test account is configured ([sign_in_test] upn): a WS-Trust 1.3 usernamemixed token request for "
            "urn:federation:MicrosoftOnline through the external path returns a SAML 1.1 or 2.0 assertion signed by a "
            "token-signing certificate the federation metadata publishes, with the issuer Entra ID expects (its "
            "issuerUri for the account's domain when read; else the federation service identifier or the "
            "SupportMultipleDomain form http://<domain>/adfs/services/trust/), audience urn:federation:MicrosoftOnline, "
            "a validity window that fits the clock, and the UPN and ImmutableID claims. A refused test account "
            "(FailedAuthentication) is not determined; an unpublished usernamemixed endpoint fails without blocking.",
       remediation="Follow the first failing step: publish /adfs/services/trust/13/usernamemixed through the proxy "
                   "(Set-AdfsEndpoint -Proxy $true); a FailedAuthentication fault means the test account's password "
                   "is wrong or expired, or the account is locked out (extranet lockout) or disabled; a foreign signer "
                   "means Entra and AD FS disagree on the token-signing certificate (cloud.signing-cert-match); a wrong "
                   "issuer means the domain's issuerUri or the SupportMultipleDomain rules; missing claims mean the "
                   "Microsoft 365 trust's issuance rules (adfs.o365-claim-rules).",
       references=(REF_RCA, REF_WS_TRUST, REF_SAML11, REF_SET_ADFSENDPOINT, REF_MULTIPLE_DOMAINS))
def sign_in_test(ctx: CheckContext) -> Outcome:
    """SKIP without a test account. Otherwise the RCA steps in the evidence, and: ERROR when the
    password could not be had, this machine could not talk to the service (TLS trust, name
    resolution, the run's deadline), the federation service refused the test account's own
    credentials (FailedAuthentication: the account, not the farm, may be what is wrong), or what a
    step compares with was not read; FAIL (blocking) at the first failing step, except a
    usernamemixed endpoint that is not served (FAIL, not blocking: browser sign-in does not use it,
    endpoints.usernamemixed judges it); PASS when every step passed."""
    facts: SignInFacts = ctx.fact(SIGN_IN_FACT)
    if not facts.configured:
        return Outcome(Status.SKIP, "No sign-in test account is configured ([sign_in_test] upn).")
    steps = _Steps([])
    path = (f"{facts.via} (a Web Application Proxy)" if facts.proxied else
            f"{facts.via} (the federation service name as this machine reaches it; no federation.proxies are "
            f"configured, so this may be the internal farm rather than the proxy)" if facts.proxied is False
            else str(facts.via))
    evidence: dict[str, Any] = {"upn": facts.upn, "endpoint": facts.endpoint, "via": facts.via, "path": path,
                                "steps": steps.rows}
    confirmed_issuer = True
    not_blocking = False
    request = "Request a token (WS-Trust 1.3 usernamemixed)"
    if facts.password_problem:
        steps.add("Read the test account's password", Status.ERROR, facts.password_problem)
    else:
        steps.add("Read the test account's password", Status.PASS, "read (never shown)")
        exchange = facts.exchange
        ms = exchange.elapsed_seconds * 1000 if exchange else None
        if exchange is None:
            steps.add("Request a token", Status.ERROR, "no request was made")
        elif exchange.error is not None:
            kind = Status.ERROR if exchange.error.kind in _LOCAL else Status.FAIL
            steps.add(f"Connect to {facts.via} and request a token", kind, str(exchange.error), ms)
        else:
            steps.add(f"Connect to {facts.via}", Status.PASS, f"HTTP {exchange.status} {exchange.reason or ''}".strip(), ms)
            fault = f"SOAP fault {facts.soap_fault_code}: {facts.soap_fault_reason} (HTTP {exchange.status})"
            if exchange.status in (404, 503):
                not_blocking = True
                steps.add(request, Status.FAIL,
                          f"HTTP {exchange.status}: the endpoint is not enabled or not published through the proxy; "
                          f"rich clients that use WS-Trust cannot sign in (browser sign-in does not use it)")
            elif "failedauthentication" in (facts.soap_fault_code or "").lower():
                # AD FS answers this fault for a wrong or expired password and a locked-out or
                # disabled account alike: the test account's trouble, which says nothing about the
                # farm's sign-in for everyone else.
                steps.add(request, Status.ERROR,
                          f"{fault}: the federation service refused the test account's credentials (wrong or "
                          f"expired password, account locked out - extranet lockout included - or disabled, or AD "
                          f"FS could not validate them against Active Directory); check the account, then run again")
            elif facts.soap_fault_code or facts.soap_fault_reason:
                steps.add(request, Status.FAIL, fault)
            elif facts.response_problem or facts.assertion is None:
                steps.add(request, Status.FAIL,
                          f"HTTP {exchange.status}: {facts.response_problem or 'no token in the answer'}")
            else:
                steps.add(request, Status.PASS,
                          f"{facts.assertion.token_type} assertion {facts.assertion.assertion_id} returned",
                          facts.parse_seconds and facts.parse_seconds * 1000)
                confirmed_issuer = _token_steps(ctx, facts, facts.assertion, steps)
    first = steps.first_problem()
    total_ms = round((facts.exchange.elapsed_seconds if facts.exchange else 0) * 1000, 1)
    evidence["total_ms"] = total_ms
    if first is None:
        accepted = ("a token Entra ID accepts" if confirmed_issuer else
                    "a token of the shape Entra ID accepts (Entra's own issuerUri was not read)")
        return Outcome(Status.PASS, f"{facts.upn} signed in through {path}: {accepted} ({len(steps.rows)} steps "
                                    f"passed, {total_ms} ms).", evidence=evidence)
    failed = Status(first["status"])
    verb = "failed" if failed is Status.FAIL else "could not be determined"
    return Outcome(failed, f"Step {first['step']} ({first['name']}) {verb}: {first['detail']}.", evidence=evidence,
                   blocker=False if failed is Status.FAIL and not_blocking else None)
