"""endpoints.sign-in-test judged on every real shape of a token and its context (review of issue 15 §4):
the issuer Entra ID expects whether or not Entra's settings were read (SupportMultipleDomain, which
Entra Connect always uses, subdomains, a customised identifier), SAML 2.0 assertions next to SAML 1.1,
the SOAP faults AD FS answers, and the path the request took. Over the wire against the lab STS where
the lab can make the shape; the judging rules over the whole class with facts built from a real
signed answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from adfs_readiness.api import CheckContext
from adfs_readiness.settings import FederationSettings, Settings, SignInTestSettings
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts import HttpExchange
from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT, DomainFederation, EntraFederationFacts
from adfs_readiness.facts.sign_in import SIGN_IN_FACT, SignInFacts
from adfs_readiness.lab import Lab
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.scenarios import with_switches
from adfs_readiness.lab.sts_wstrust import SignInLab, wstrust_answer
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.sign_in import read_token_response, token_request
from adfs_readiness_checks import sign_in as sign_in_checks

REGISTRY = discover_checks(strict=True)
ONLY = ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*", "cloud.*", "adfs.*", "directory.*")
IMMUTABLE_ID = "aXBzn/BqeV+v2briuGPB7g=="
IDENTIFIER = "http://sts.contoso.test/adfs/services/trust"


def _run(lab, now):
    cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0}, checks={"skip": ONLY})
    result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    (finding,) = [f for f in result.findings if f.check_id == "endpoints.sign-in-test"]
    return finding, result


def _token(now, *, upn="u@contoso.test", issuer=IDENTIFIER, token_type="saml11"):
    """A real signed WS-Trust answer of the lab STS, read back: the assertion and its signer."""
    pki = LabPki(now)
    signing = pki.token_certificate("signing", "sts.contoso.test", now - timedelta(days=1), now + timedelta(days=300))
    lab = SignInLab(upn=upn, password="pw", immutable_id=IMMUTABLE_ID, issuer=issuer, signing=signing, now=now,
                    token_type=token_type)
    body = token_request("https://sts.contoso.test/adfs/services/trust/13/usernamemixed", upn, "pw", now)
    assertion, _, _, problem = read_token_response(wstrust_answer(body, lab, now)[1])
    assert problem is None and assertion.signature_valid is True
    return assertion


def _judge(now, assertion=None, *, upn="u@contoso.test", entity_id=IDENTIFIER, entra=None, proxied=True,
           fault=None, status=200):
    exchange = HttpExchange(url="https://sts.contoso.test/adfs/services/trust/13/usernamemixed",
                            final_url="https://sts.contoso.test/adfs/services/trust/13/usernamemixed",
                            connect_address="127.0.0.1:443", status=status, reason="OK", headers={}, redirects=(),
                            elapsed_seconds=0.2, body_bytes=1000, truncated=False, error=None)
    facts = SignInFacts(configured=True, upn=upn, endpoint=exchange.url, via="wap1.contoso.test:443", exchange=exchange,
                        assertion=assertion, received_at=now + timedelta(seconds=1), proxied=proxied,
                        published_signing=(assertion.signer,) if assertion else None, metadata_entity_id=entity_id,
                        soap_fault_code=fault[0] if fault else None, soap_fault_reason=fault[1] if fault else None)
    config = Settings(sign_in_test=SignInTestSettings(upn=upn), federation=FederationSettings(service_name="sts.contoso.test"))
    fact_map = {SIGN_IN_FACT: facts}
    if entra is not None:
        fact_map[ENTRA_FEDERATION_FACT] = entra
    return sign_in_checks.sign_in_test.function(CheckContext(facts=fact_map, config=config, now=now))


def _entra(*domains):
    return EntraFederationFacts(configured=True, source_kind="graph", domains=tuple(
        DomainFederation(domain=domain, issuer_uri=issuer) for domain, issuer in domains))


def _step(outcome, number):
    return outcome.evidence["steps"][number - 1]


# --- the issuer Entra ID expects ---------------------------------------------------------------------

@pytest.mark.parametrize("upn, issuer, entity_id, words", [
    # Without SupportMultipleDomain: the token's issuer is the federation service identifier.
    ("u@contoso.test", IDENTIFIER, IDENTIFIER, "the federation service identifier"),
    # Entra Connect federates every domain with SupportMultipleDomain: its issuerid rule makes the
    # token's issuer http://<UPN suffix>/adfs/services/trust/.
    ("u@contoso.test", "http://contoso.test/adfs/services/trust/", IDENTIFIER, "SupportMultipleDomain issuerUri of "
                                                                               "contoso.test"),
    # A user of a subdomain signs in with the parent's issuerUri (the subdomain rule of the same page).
    ("u@corp.contoso.test", "http://contoso.test/adfs/services/trust/", IDENTIFIER, "SupportMultipleDomain issuerUri "
                                                                                    "of contoso.test"),
    # A farm whose identifier was customised: the metadata's entityID, not AD FS's default form.
    ("u@contoso.test", "https://sts.contoso.test/adfs/services/trust", "https://sts.contoso.test/adfs/services/trust",
     "the federation service identifier"),
])
def test_issuer_forms_entra_can_hold_pass_when_entra_was_not_read(now, upn, issuer, entity_id, words):
    """Before: without Entra's settings the token's issuer had to equal http://<fs>/adfs/services/trust,
    so every Entra Connect farm (SupportMultipleDomain) failed this blocking step: a false NOT_READY."""
    outcome = _judge(now, _token(now, upn=upn, issuer=issuer), upn=upn, entity_id=entity_id)
    assert outcome.status.value == "pass", outcome.summary
    assert _step(outcome, 5)["status"] == "pass" and words in _step(outcome, 5)["detail"]
    assert "Entra ID's federation settings were not read" in _step(outcome, 5)["detail"]
    assert "a token of the shape Entra ID accepts (Entra's own issuerUri was not read)" in outcome.summary


def test_an_issuer_of_no_known_form_is_not_determined_without_entra(now):
    outcome = _judge(now, _token(now, issuer="urn:custom:issuer"))
    assert outcome.status.value == "error" and outcome.blocker is None
    assert outcome.summary.startswith("Step 5 (Issuer is the issuer URI Entra ID expects) could not be determined: "
                                      "the token's issuer 'urn:custom:issuer' is none of the forms")
    assert "'http://contoso.test/adfs/services/trust/'" in outcome.summary


@pytest.mark.parametrize("issuer, entra, status", [
    ("http://contoso.test/adfs/services/trust/", _entra(("contoso.test", "http://contoso.test/adfs/services/trust/")),
     "pass"),
    # Entra holds the domain form but the farm lost its issuerid rule: AADSTS50107 for every user.
    (IDENTIFIER, _entra(("contoso.test", "http://contoso.test/adfs/services/trust/")), "fail"),
    (IDENTIFIER, _entra(("contoso.test", IDENTIFIER)), "pass"),
    # Entra read, exactly: a trailing slash Entra does not hold is a mismatch.
    ("http://contoso.test/adfs/services/trust", _entra(("contoso.test", "http://contoso.test/adfs/services/trust/")),
     "fail"),
])
def test_issuer_is_compared_exactly_with_entras_issueruri_when_read(now, issuer, entra, status):
    outcome = _judge(now, _token(now, issuer=issuer), entra=entra)
    assert outcome.status.value == status, outcome.summary
    assert "Entra ID's issuerUri for contoso.test" in _step(outcome, 5)["detail"]
    if status == "fail":
        assert "AADSTS50107" in outcome.summary and outcome.blocker is None  # the check's default: blocking
    else:
        assert ": a token Entra ID accepts (8 steps passed" in outcome.summary


def test_entra_read_without_the_accounts_domain_falls_back_to_the_forms(now):
    outcome = _judge(now, _token(now, issuer="http://contoso.test/adfs/services/trust/"),
                     entra=_entra(("fabrikam.test", "http://fabrikam.test/adfs/services/trust/")))
    assert outcome.status.value == "pass"
    assert "Entra ID's federation settings hold no issuerUri for contoso.test" in _step(outcome, 5)["detail"]


def test_supportmultipledomain_token_through_the_lab_proxy_passes_without_entra(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab(with_switches("sign-in", sign_in="multi-domain"), now=now, workdir=tmp_path) as lab:
        finding, result = _run(lab, now)
    assert finding.status.value == "pass", finding.summary
    assert "http://contoso.test/adfs/services/trust/: the SupportMultipleDomain issuerUri of contoso.test" in \
        finding.evidence["steps"][4]["detail"]
    assert result.grade.verdict.value in ("READY", "READY_WITH_WARNINGS")


# --- SAML 2.0 next to SAML 1.1 ----------------------------------------------------------------------

def test_a_saml2_token_through_the_lab_proxy_is_judged_like_a_saml11_one(tmp_path):
    """Before: a SAML 2.0 assertion was 'the token holds 0 SAML 1.1 assertions' (a blocking failure),
    although MSAL and ADAL send SAML 2.0 tokens to Entra ID (saml2-bearer)."""
    now = datetime.now(timezone.utc)
    with Lab(with_switches("sign-in", sign_in="saml2"), now=now, workdir=tmp_path) as lab:
        finding, _ = _run(lab, now)
    assert finding.status.value == "pass", finding.summary
    steps = finding.evidence["steps"]
    assert steps[2]["detail"].startswith("SAML 2.0 assertion _") and [s["status"] for s in steps] == ["pass"] * 8


@pytest.mark.parametrize("attributes, name_id, status, words", [
    # AD FS's SAML 2.0: the claim types as attribute names.
    (None, IMMUTABLE_ID, "pass", f"ImmutableID {IMMUTABLE_ID}"),
    # Entra's SAML 2.0 IdP shape: IDPEmail for the UPN, the persistent NameID as the ImmutableID.
    ({"IDPEmail": ("u@contoso.test",)}, IMMUTABLE_ID, "pass", f"UPN u@contoso.test, ImmutableID {IMMUTABLE_ID}"),
    ({"IDPEmail": ("u@contoso.test",)}, None, "fail", "no ImmutableID claim"),
    ({"IDPEmail": ("u@contoso.test",)}, "not-a-guid", "fail", "is not base64 (the NameID)"),
    ({}, IMMUTABLE_ID, "fail", "no UPN claim"),
])
def test_saml2_claims_in_every_shape(now, attributes, name_id, status, words):
    assertion = _token(now, token_type="saml2")
    assertion = replace(assertion, attributes=assertion.attributes if attributes is None else attributes,
                        name_identifier=name_id)
    outcome = _judge(now, assertion)
    assert outcome.status.value == status, outcome.summary
    assert words in _step(outcome, 8)["detail"]


# --- SOAP faults and the path taken -----------------------------------------------------------------

@pytest.mark.parametrize("fault, status, blocking", [
    (("a:FailedAuthentication", "ID3242: The security token could not be authenticated or authorized."), "error",
     None),
    (("a:FailedAuthentication", "MSIS7068: Access denied."), "error", None),
    (("FailedAuthentication", "ID3242"), "error", None),
    # Anything else AD FS refuses with is the farm's answer: a blocking failure.
    (("a:RequestFailed", "MSIS3127: The specified request failed."), "fail", None),
    (("a:InvalidRequest", "MSIS7007: The requested relying party trust 'urn:federation:MicrosoftOnline' is "
                          "unspecified or unsupported."), "fail", None),
])
def test_soap_faults(now, fault, status, blocking):
    outcome = _judge(now, fault=fault, status=500)
    assert outcome.status.value == status and outcome.blocker is blocking, outcome.summary
    assert outcome.summary.startswith("Step 3 (Request a token (WS-Trust 1.3 usernamemixed))")
    if status == "error":
        assert "refused the test account's credentials" in outcome.summary


@pytest.mark.parametrize("http_status", [404, 503])
def test_an_unserved_endpoint_is_a_failure_that_does_not_block(now, http_status):
    outcome = _judge(now, status=http_status)
    assert outcome.status.value == "fail" and outcome.blocker is False
    assert f"HTTP {http_status}: the endpoint is not enabled or not published" in outcome.summary


def test_without_a_proxy_the_summary_says_which_path_was_tested(now):
    outcome = _judge(now, _token(now), proxied=False)
    assert outcome.status.value == "pass"
    assert ("the federation service name as this machine reaches it; no federation.proxies are configured, so this "
            "may be the internal farm rather than the proxy") in outcome.summary
    assert "(a Web Application Proxy)" in _judge(now, _token(now), proxied=True).summary


def test_sign_in_without_a_proxy_in_the_lab_names_the_path(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab(with_switches("healthy", sign_in="ok"), now=now, workdir=tmp_path) as lab:
        finding, _ = _run(lab, now)
    assert finding.status.value == "pass" and finding.evidence["path"].endswith(
        "no federation.proxies are configured, so this may be the internal farm rather than the proxy)")


def test_signer_the_metadata_publishes_but_entra_does_not_hold_fails(now):
    """After a token-signing rollover Entra was not told about (Update-MgDomainFederationConfiguration
    not run): the metadata publishes the new signer, Entra validates with the old one and rejects the
    token. Before, the step compared with the metadata only and the test passed 'a token Entra ID
    accepts' while cloud.signing-cert-match failed."""
    assertion = _token(now)
    other = _token(now + timedelta(seconds=1)).signer  # another lab key and certificate
    stale = EntraFederationFacts(configured=True, source_kind="graph", domains=(DomainFederation(
        domain="contoso.test", issuer_uri=IDENTIFIER, signing_certificate=other),))
    outcome = _judge(now, assertion, entra=stale)
    assert outcome.status.value == "fail" and outcome.summary.startswith("Step 4 (Signature")
    assert "Entra ID's settings for contoso.test do not hold" in outcome.summary and "AADSTS50008" in outcome.summary
    current = EntraFederationFacts(configured=True, source_kind="graph", domains=(DomainFederation(
        domain="contoso.test", issuer_uri=IDENTIFIER, signing_certificate=other,
        next_signing_certificate=assertion.signer),))
    outcome = _judge(now, assertion, entra=current)
    assert outcome.status.value == "pass" and "Entra ID holds it for contoso.test" in _step(outcome, 4)["detail"]


# --- audience and validity window (steps 6 and 7) ---------------------------------------------------

@pytest.mark.parametrize("change, step, status, words", [
    # A token for another relying party: Entra ID rejects it (AADSTS50000-class), whatever it carries.
    (dict(audiences=("urn:other:relying-party",)), 6, "fail", "audiences: ['urn:other:relying-party']"),
    (dict(audiences=()), 6, "fail", "audiences: []"),
    # The window is judged against when the answer arrived, with the clock-skew tolerance (300 s).
    (dict(not_on_or_after_shift=-timedelta(minutes=10)), 7, "fail", "the clocks of AD FS and this machine disagree"),
    (dict(not_before_shift=timedelta(minutes=10)), 7, "fail", "with 300 s of tolerance"),
    (dict(not_before_shift=timedelta(minutes=4)), 7, "pass", "received at"),  # within the tolerance
    (dict(not_on_or_after=None), 7, "fail", "the assertion's Conditions lack a validity window"),
])
def test_audience_and_validity_window_steps(now, change, step, status, words):
    """Steps 6 and 7 had no test that made them fail: each is shown failing (and the tolerance
    passing) on a real signed lab token with only that field changed."""
    assertion = _token(now)
    received = now + timedelta(seconds=1)
    fields = {}
    if "audiences" in change:
        fields["audiences"] = change["audiences"]
    if "not_on_or_after_shift" in change:
        fields["not_on_or_after"] = received + change["not_on_or_after_shift"]
    if "not_before_shift" in change:
        fields["not_before"] = received + change["not_before_shift"]
    if "not_on_or_after" in change:
        fields["not_on_or_after"] = None
    outcome = _judge(now, replace(assertion, **fields))
    assert outcome.status.value == status, outcome.summary
    detail = _step(outcome, step)
    assert detail["status"] == status and words in detail["detail"], detail
    if status == "fail":
        # None: the check's default, a blocker (a token Entra ID rejects breaks sign-in for everyone).
        assert outcome.summary.startswith(f"Step {step} (") and outcome.blocker is None, outcome.summary
