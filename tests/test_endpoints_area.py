"""endpoints.* end to end over HTTPS/HTTP on loopback: the lab's STS simulators (farm nodes,
proxies, the service name) answer each endpoint enabled / disabled / published, and each check
takes each status it can take; the MEX and OpenID parsers on the public corpus."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from adfs_readiness.api import CheckContext
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts.endpoints import EndpointsFacts, EndpointVia, LatencySample
from adfs_readiness.lab import Lab
from adfs_readiness.lab.scenarios import with_switches
from adfs_readiness.model import Status
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.mex import parse_mex, parse_openid_configuration
from adfs_readiness_checks import endpoints as endpoint_checks

REGISTRY = discover_checks(strict=True)
WT = ("/adfs/services/trust/2005/windowstransport", "/adfs/services/trust/13/windowstransport")


def run(lab: Lab, now: datetime, **config):
    cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0},
                     checks={"skip": ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*")},
                     **config)
    return run_checks(REGISTRY, builtin_probes(), cfg, now)


def found(result, check_id):
    return [(f.status, f.target, f.evidence) for f in result.findings if f.check_id == check_id]


def statuses(result, check_id):
    return sorted(f.status.value for f in result.findings if f.check_id == check_id)


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    """The demo farm: two nodes and a proxy, default endpoint states."""
    now = datetime.now(timezone.utc)
    with Lab("demo", now=now, workdir=tmp_path_factory.mktemp("farm")) as lab:
        yield lab, now, run(lab, now)


def test_healthy_farm_through_the_proxy(farm):
    lab, now, result = farm
    assert statuses(result, "endpoints.probe") == ["pass", "pass", "pass"]
    assert [t for _, t, _ in found(result, "endpoints.probe")] == list(lab.probe_urls)
    (status, target, evidence), = found(result, "endpoints.passive")
    assert status is Status.PASS and target == str(lab.proxies[0]) and evidence["status"] == 200
    (status, _, evidence), = found(result, "endpoints.mex")
    # Through the proxy the MEX document lists only the published WS-Trust endpoints.
    assert status is Status.PASS and [e["address"] for e in evidence["endpoints"]] == [
        f"https://{lab.fs_name}/adfs/services/trust/2005/usernamemixed",
        f"https://{lab.fs_name}/adfs/services/trust/13/usernamemixed"]
    assert statuses(result, "endpoints.usernamemixed") == ["pass"]
    (status, _, evidence), = found(result, "endpoints.windowstransport-exposed")
    assert status is Status.PASS and evidence["exposed"] == []
    assert [a["status"] for a in evidence["answers"]] == [404, 404]
    (status, _, evidence), = found(result, "endpoints.idp-initiated-signon")
    assert status is Status.INFO and evidence["enabled_through"] == []
    (status, _, evidence), = found(result, "endpoints.openid-configuration")
    assert status is Status.PASS and evidence["issuer"] == f"https://{lab.fs_name}/adfs"
    (status, _, evidence), = found(result, "endpoints.latency")
    assert status is Status.PASS and len(evidence["samples_ms"]) == 3 and evidence["threshold_ms"] == 1500
    assert statuses(result, "endpoints.clock-skew") == ["pass"] * 4  # the proxy and three probe listeners


def test_latency_over_the_threshold_warns(farm):
    lab, now, _ = farm
    cfg = lab.config(checks={"skip": ("dns.*", "tls.*", "metadata.*")}, network={"timeout_seconds": 3.0})
    cfg = dataclasses.replace(cfg, thresholds=dataclasses.replace(cfg.thresholds, latency_warn_ms=0))
    result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    (status, _, evidence), = found(result, "endpoints.latency")
    assert status is Status.WARN and evidence["median_ms"] >= 0 and evidence["threshold_ms"] == 0


def test_windowstransport_through_the_proxy_fails(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab("endpoints-windowstransport-exposed", now=now, workdir=tmp_path) as lab:
        result = run(lab, now)
        proxy = str(lab.proxies[0])
    (status, target, evidence), = found(result, "endpoints.windowstransport-exposed")
    assert status is Status.FAIL and target == proxy and evidence["exposed"] == list(WT)
    assert [a["status"] for a in evidence["answers"]] == [400, 400]  # WCF refusing a plain GET = served


def test_unpublished_endpoints(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab("endpoints-unpublished", now=now, workdir=tmp_path) as lab:
        result = run(lab, now)
    assert statuses(result, "endpoints.passive") == ["fail"]
    assert found(result, "endpoints.passive")[0][2]["status"] == 404
    assert statuses(result, "endpoints.mex") == ["fail"]
    (status, _, evidence), = found(result, "endpoints.usernamemixed")
    assert status is Status.FAIL and evidence["missing"] == ["/adfs/services/trust/2005/usernamemixed",
                                                              "/adfs/services/trust/13/usernamemixed"]
    assert statuses(result, "endpoints.probe") == ["fail"]
    assert found(result, "endpoints.probe")[0][2]["status"] == 503
    assert statuses(result, "endpoints.openid-configuration") == ["info"]
    assert statuses(result, "endpoints.idp-initiated-signon") == ["info"]


@pytest.mark.parametrize("switches, check_id, expected", [
    ({"endpoints": (("/adfs/services/trust/13/usernamemixed", "disabled"),)}, "endpoints.usernamemixed", "warn"),
    ({"endpoints": (("/adfs/services/trust/mex", "broken"),)}, "endpoints.mex", "warn"),
    ({"endpoints": (("/adfs/.well-known/openid-configuration", "broken"),)}, "endpoints.openid-configuration", "warn"),
    ({"endpoints": (("/adfs/.well-known/openid-configuration", "wrong-issuer"),)},
     "endpoints.openid-configuration", "fail"),
    ({"endpoints": (("/adfs/ls/IdpInitiatedSignon.aspx", "proxied"),)}, "endpoints.idp-initiated-signon", "info"),
    ({"clock_offset_seconds": 120}, "endpoints.clock-skew", "warn"),
    ({"clock_offset_seconds": -600}, "endpoints.clock-skew", "fail"),
    ({}, "endpoints.windowstransport-exposed", "info"),  # no proxy configured: the service name serves them
    ({}, "endpoints.probe", "skip"),
])
def test_single_node_variants(tmp_path, switches, check_id, expected):
    now = datetime.now(timezone.utc)
    with Lab(with_switches("healthy", **switches), now=now, workdir=tmp_path) as lab:
        result = run(lab, now)
        address = str(lab.address)
    assert statuses(result, check_id) == [expected], [f.summary for f in result.findings if f.check_id == check_id]
    if check_id == "endpoints.idp-initiated-signon":
        assert found(result, check_id)[0][2]["enabled_through"] == [address]
    if check_id == "endpoints.clock-skew":
        skew = found(result, check_id)[0][2]["skew_seconds"]
        assert abs(skew - switches["clock_offset_seconds"]) <= 2


def test_no_service_name_skips_and_no_answer_is_latency_error(now):
    from adfs_readiness.settings import ChecksSettings, Settings

    result = run_checks(REGISTRY, builtin_probes(),
                        Settings(checks=ChecksSettings(skip=("dns.*", "tls.*", "metadata.*"))), now)
    assert {f.status for f in result.findings if f.check_id.startswith("endpoints.")} == {Status.SKIP}
    facts = EndpointsFacts(configured=True, service_name="sts.contoso.test", latency=(
        LatencySample(url="https://sts.contoso.test/adfs/ls/", via=EndpointVia.SERVICE, address="127.0.0.1:1",
                      seconds=(None, None, None), errors=("refused",) * 3),))
    ctx = CheckContext(facts={"endpoints": facts}, config=Settings(), now=now)
    (outcome,) = endpoint_checks.latency.function(ctx)
    assert outcome.status is Status.ERROR and outcome.evidence["samples_ms"] == [None, None, None]


@pytest.mark.parametrize("name, count, bom", [("adal_mex_microsoft_corp.xml", 12, False),
                                              ("adal_mex_usystech_BOM.xml", 10, True),
                                              ("adal_mex_arupela_no_wia13.xml", 12, False)])
def test_mex_corpus(corpus, name, count, bom):
    doc = parse_mex((corpus / "mex" / name).read_bytes(), url="u", via=EndpointVia.SERVICE, address="a")
    assert doc.parse_error is None and len(doc.endpoints) == count and doc.has_bom is bom
    assert all(e.address == e.address.strip() for e in doc.endpoints)
    if bom:
        assert "https://sts.usystech.net/adfs/services/trust/13/certificatemixed" in [e.address for e in doc.endpoints]
        assert "http://sts.usystech.net/adfs/services/trust/2005/username" in [e.address for e in doc.endpoints]
    if "no_wia13" in name:
        assert "/adfs/services/trust/13/windowstransport" not in [e.path for e in doc.endpoints]


def test_mex_refuses_dtd_and_reports_html():
    evil = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]><wsdl:definitions xmlns:wsdl="x">&x;</wsdl:definitions>'
    doc = parse_mex(evil, url="u", via=EndpointVia.SERVICE, address="a")
    assert doc.refused_construct == "DTD" and doc.endpoints == ()
    html = parse_mex(b"<html><body>Sign in</body></html>", url="u", via=EndpointVia.SERVICE, address="a")
    assert html.parse_error.startswith("the root element is") and html.root_element == "html"


def test_openid_corpus(corpus):
    doc = parse_openid_configuration((corpus / "oidc" / "djangoadfs_adfs-openid-configuration.json").read_bytes(),
                                     url="u", via=EndpointVia.SERVICE, address="a")
    assert doc.issuer == "https://adfs.example.com/adfs" and doc.token_endpoint == "https://adfs.example.com/adfs/oauth2/token/"
    assert parse_openid_configuration(b"[1]", url="u", via=EndpointVia.SERVICE, address="a").parse_error


def test_clock_skew_uses_the_run_clock_not_the_wall_clock(farm):
    lab, now, _ = farm
    # Judged as of a day later, the same Date headers are a day behind: the check reads ctx.now only.
    result = run(lab, now + timedelta(days=1))
    assert set(statuses(result, "endpoints.clock-skew")) == {"fail"}


HTTPS_CHECKS = ("endpoints.passive", "endpoints.mex", "endpoints.usernamemixed", "endpoints.windowstransport-exposed",
                "endpoints.idp-initiated-signon", "endpoints.openid-configuration", "endpoints.latency",
                "endpoints.clock-skew")


@pytest.mark.parametrize("scenario, tls_reason, tls_failing", [
    ("tls-leaf-only", "certificate verification failed: unable to get local issuer certificate",
     "tls.certificate-trust"),
    ("wrong-tls-name", "certificate name mismatch: hostname 'sts.contoso.test' doesn't match 'www.fabrikam.test'",
     "tls.certificate-name"),
])
def test_tls_failure_of_our_client_is_error_not_a_verdict_on_the_endpoint(tmp_path, scenario, tls_reason, tls_failing):
    # Regression: a leaf-only chain (browsers fetch the intermediate) or a name mismatch made the
    # endpoint checks claim "cannot sign in" / "disabled or not published" without any answer.
    now = datetime.now(timezone.utc)
    with Lab(scenario, now=now, workdir=tmp_path) as lab:
        cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0},
                         checks={"skip": ("dns.*", "metadata.*", "token-signing.*", "token-decrypting.*")})
        result = run_checks(REGISTRY, builtin_probes(), cfg, now)
        place = str(lab.address)
    expected = (f"the TLS handshake/verification failed ({tls_reason}); see tls.certificate-trust / "
                f"tls.certificate-name / tls.reachable")
    for check_id in HTTPS_CHECKS:
        findings = [f for f in result.findings if f.check_id == check_id]
        assert [f.status for f in findings] == [Status.ERROR], (check_id, [f.summary for f in findings])
        summary = findings[0].summary
        assert expected in summary and "could not be determined" in summary.lower(), (check_id, summary)
        assert "disabled" not in summary and "cannot sign in" not in summary and "Not served" not in summary
        assert place in summary
    assert statuses(result, tls_failing) == ["fail"]
    assert statuses(result, "tls.reachable") == ["pass"]
    assert all(f.status is not Status.FAIL for f in result.findings if f.check_id.startswith("endpoints."))


def test_no_answer_is_reported_as_no_answer_not_as_disabled(now):
    from adfs_readiness.settings import Settings
    from adfs_readiness.facts import HttpExchange, ProbeError, ProbeErrorKind
    from adfs_readiness.facts.endpoints import EndpointAnswer

    def dead(path):
        url = f"https://sts.contoso.test{path}"
        return EndpointAnswer(path=path, via=EndpointVia.SERVICE, address="127.0.0.1:1", exchange=HttpExchange(
            url=url, final_url=url, connect_address="127.0.0.1:1", status=None, reason=None, headers={},
            redirects=(), elapsed_seconds=3.0, body_bytes=0, truncated=False,
            error=ProbeError(ProbeErrorKind.TIMEOUT, "timed out after 3 s")))

    paths = ("/adfs/ls/", "/adfs/services/trust/mex", *endpoint_checks.PATH_USERNAMEMIXED, *WT,
             "/adfs/ls/IdpInitiatedSignon.aspx", "/adfs/.well-known/openid-configuration")
    facts = EndpointsFacts(configured=True, service_name="sts.contoso.test", external_places=("127.0.0.1:1",),
                           answers=tuple(dead(p) for p in paths))
    ctx = CheckContext(facts={"endpoints": facts}, config=Settings(), now=now)
    (passive,) = endpoint_checks.passive.function(ctx)
    assert passive.status is Status.FAIL and "no answer (timeout: timed out after 3 s)" in passive.summary
    mex = endpoint_checks.mex.function(ctx)
    assert mex.status is Status.FAIL and "disabled" not in mex.summary and "no answer (timeout" in mex.summary
    um = endpoint_checks.usernamemixed.function(ctx)
    assert um.status is Status.FAIL and um.summary == (
        "Not served through the external path: /adfs/services/trust/2005/usernamemixed (no answer (timeout: timed out "
        "after 3 s) through 127.0.0.1:1), /adfs/services/trust/13/usernamemixed (no answer (timeout: timed out after "
        "3 s) through 127.0.0.1:1).")
    (wt,) = endpoint_checks.windowstransport_exposed.function(ctx)
    assert wt.status is Status.ERROR and "could not be determined: no answer" in wt.summary
    idp = endpoint_checks.idp_initiated_signon.function(ctx)
    assert idp.status is Status.INFO and "disabled" not in idp.summary and "no answer (timeout" in idp.summary
    with pytest.raises(endpoint_checks.CannotDetermine, match=r"no answer from 127\.0\.0\.1:1 .*timeout"):
        endpoint_checks.openid_configuration.function(ctx)


# --- class 3: MEX documents that publish plain-http endpoints --------------------------------------

@pytest.mark.parametrize("state, expected, phrases", [
    # usernamemixed over http and no https alternative: rich clients find no WS-Trust endpoint.
    ("plain-http", "fail", ("over plain http", "ADAL and MSAL accept only https", "no https usernamemixed")),
    # The usystech shape: https usernamemixed plus the message-security /2005/username on http.
    ("message-security", "pass", ("message-security endpoint(s) are published over plain http",
                                  "/adfs/services/trust/2005/username", "WS-Security protects the message")),
])
def test_mex_with_plain_http_endpoints(tmp_path, state, expected, phrases):
    now = datetime.now(timezone.utc)
    with Lab(with_switches("healthy", endpoints=(("/adfs/services/trust/mex", state),)), now=now,
             workdir=tmp_path) as lab:
        result = run(lab, now)
    (status, _, evidence), = found(result, "endpoints.mex")
    summary = next(f.summary for f in result.findings if f.check_id == "endpoints.mex")
    assert status.value == expected, summary
    assert all(p in summary for p in phrases), summary
    if state == "plain-http":
        assert {f"http://{lab.fs_name}/adfs/services/trust/2005/usernamemixed",
                f"http://{lab.fs_name}/adfs/services/trust/13/usernamemixed"} <= set(evidence["plain_http_transport"])
        assert not [a for a in evidence["plain_http_transport"] if a.startswith("https")]
    else:
        assert evidence["plain_http_message"] == [f"http://{lab.fs_name}/adfs/services/trust/2005/username"]
        assert evidence["plain_http_transport"] == []


def _judge_mex(body: bytes) -> "endpoint_checks.Outcome":
    """endpoints.mex on ``body`` as served by the service's MEX path (a 200 text/xml answer)."""
    from adfs_readiness.facts import HttpExchange
    from adfs_readiness.facts.endpoints import PATH_MEX, EndpointAnswer
    from adfs_readiness.settings import FederationSettings, Settings

    url = f"https://sts.contoso.com{PATH_MEX}"
    exchange = HttpExchange(url=url, final_url=url, connect_address="127.0.0.1:443", status=200, reason="OK",
                            headers={"content-type": "text/xml"}, redirects=(), elapsed_seconds=0.05,
                            body_bytes=len(body), truncated=False, error=None)
    answer = EndpointAnswer(path=PATH_MEX, via=EndpointVia.SERVICE, address="127.0.0.1:443", exchange=exchange)
    facts = EndpointsFacts(configured=True, service_name="sts.contoso.com", external_places=("127.0.0.1:443",),
                           answers=(answer,), mex=parse_mex(body, url=url, via=EndpointVia.SERVICE,
                                                            address="127.0.0.1:443"))
    ctx = CheckContext(facts={"endpoints": facts},
                       config=Settings(federation=FederationSettings(service_name="sts.contoso.com")),
                       now=datetime.now(timezone.utc))
    return endpoint_checks.mex.function(ctx)


_CORP = "https://corp.sts.microsoft.com/adfs/services/trust/"


@pytest.mark.parametrize("name, to_http, status, kept, lost", [
    # ADAL's own fixture (a real farm's MEX): /13 usernamemixed and windowstransport on http, the
    # /2005 ones (and /13 windowstransport) on https, which ADAL and MSAL then use.
    ("adal_mex_address.insecure.xml", (), "warn", ("usernamemixed", "windowstransport"), ()),
    # Microsoft's corp MEX with one usernamemixed moved to http: the other one stands in.
    ("adal_mex_microsoft_corp.xml", ("2005/usernamemixed",), "warn", ("usernamemixed",), ()),
    # Both usernamemixed on http while windowstransport stays https: the username/password flow has
    # nothing left (an https windowstransport does not stand in for it).
    ("adal_mex_microsoft_corp.xml", ("2005/usernamemixed", "13/usernamemixed"), "fail", (), ("usernamemixed",)),
    # And the reverse: windowstransport only on http.
    ("adal_mex_microsoft_corp.xml", ("2005/windowstransport", "13/windowstransport"), "fail", (),
     ("windowstransport",)),
])
def test_mex_plain_http_transport_endpoints_are_judged_per_kind_on_real_documents(corpus, name, to_http, status,
                                                                                   kept, lost):
    # Class 3: what rich clients then do, for each kind of WS-Trust endpoint: an https one of the
    # same kind is used instead (warn), or that flow has nothing left (fail, naming the flow).
    body = (corpus / "mex" / name).read_bytes()
    for path in to_http:
        body = body.replace(f"{_CORP}{path}".encode(), f"{_CORP}{path}".replace("https:", "http:").encode())
    outcome = _judge_mex(body)
    assert outcome.status.value == status, outcome.summary
    assert "over plain http" in outcome.summary and "ADAL and MSAL accept only https" in outcome.summary
    for kind in kept:
        assert f"the https {kind} endpoint(s) listed too are used instead" in outcome.summary, outcome.summary
    for kind in lost:
        assert f"no https {kind} endpoint is left" in outcome.summary, outcome.summary
    other = ({"usernamemixed", "windowstransport"} - set(kept) - set(lost))
    assert not any(f"https {kind}" in outcome.summary for kind in other), outcome.summary
    assert all(a.startswith("http://") for a in outcome.evidence["plain_http_transport"])


def test_mex_with_one_plain_http_transport_endpoint_and_an_https_alternative_warns(corpus):
    from adfs_readiness_checks.endpoints import _transport_secured

    doc = parse_mex((corpus / "mex" / "adal_mex_microsoft_corp.xml").read_bytes().replace(
        b"https://corp.sts.microsoft.com/adfs/services/trust/2005/usernamemixed",
        b"http://corp.sts.microsoft.com/adfs/services/trust/2005/usernamemixed"), url="u", via=EndpointVia.SERVICE,
        address="a")
    plain = [e for e in doc.endpoints if e.address.startswith("http://")]
    assert [e.path for e in plain] == ["/adfs/services/trust/2005/usernamemixed"] * len(plain) and plain
    assert all(_transport_secured(e.path) for e in plain)
    assert not _transport_secured("/adfs/services/trust/2005/username")
    assert not _transport_secured("/adfs/services/trust/13/issuedtokensymmetricbasic256")


def test_a_mex_address_that_is_not_a_url_is_kept_without_a_path_not_a_crash() -> None:
    # Found by the mex fuzz target: urlsplit raises ValueError("Invalid IPv6 URL") for this address.
    from adfs_readiness.probes.mex import parse_mex

    doc = (b'<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
           b'xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"><wsdl:service><wsdl:port name="p" '
           b'binding="t:b"><soap12:address location="https://[::1/adfs/services/trust/13/usernamemixed"/>'
           b'</wsdl:port></wsdl:service></wsdl:definitions>')
    parsed = parse_mex(doc, url="https://sts.contoso.test/adfs/services/trust/mex", via=EndpointVia.SERVICE,
                       address="127.0.0.1:443")
    assert parsed.parse_error is None
    assert [(e.address, e.path) for e in parsed.endpoints] == [("https://[::1/adfs/services/trust/13/usernamemixed",
                                                                None)]
