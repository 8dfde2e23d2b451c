"""The run's own deadline, or this tool's network policy, is never the target's failure.

A server gets its full time limit (network.timeout_seconds) before silence is its fault (TIMEOUT,
"cannot be reached"). When the run's deadline passes first, the server was not given that time,
and when this tool's policy refuses an address (link-local / cloud metadata) nothing was sent:
both leave the endpoint not determined (error -> INCOMPLETE), never a failed blocker
(NOT_READY). Real servers on loopback for the deadline (the lab's slow and silent servers), built
facts for every endpoint check and the policy case.
"""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from test_demo_lab import lab_now, run_lab

from adfs_readiness.api import CheckContext
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.net.policy import refused_address_reason
from adfs_readiness.facts import HttpExchange, ProbeError, ProbeErrorKind
from adfs_readiness.facts.endpoints import EndpointAnswer, EndpointsFacts, EndpointVia
from adfs_readiness.lab import Lab
from adfs_readiness.model import Status, Verdict
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.settings import Settings
from adfs_readiness_checks import endpoints as endpoint_checks

REGISTRY = discover_checks(strict=True)


def test_metadata_fetch_cut_by_the_run_deadline_is_not_determined(tmp_path):
    # The server answers after 120 s; the run has 1.5 s while each request may take 30 s.
    now = lab_now()
    with Lab("slow-answer", now=now, workdir=tmp_path) as lab:
        result = run_lab(lab, now, timeout_seconds=30.0, deadline_seconds=1.5)
    (reach,) = [f for f in result.findings if f.check_id == "metadata.reachable"]
    assert reach.status is Status.ERROR, reach.summary
    assert reach.summary.startswith("Could not be determined: Fetching https://sts.contoso.test/FederationMetadata/"
                                    "2007-06/FederationMetadata.xml: not determined: the run's deadline passed")
    assert "this says nothing about the metadata URL (run again with a longer --deadline" in reach.summary
    assert result.grade.verdict is Verdict.INCOMPLETE
    assert not [f for f in result.findings if f.status is Status.FAIL and f.blocker]


def test_tls_handshake_cut_by_the_run_deadline_is_not_determined(tmp_path):
    # A listener that accepts TCP and never speaks TLS; the handshake may take 30 s, the run 2 s.
    with Lab("no-answer", now=FIXED_NOW, workdir=tmp_path) as lab:
        cfg = lab.config(network={"timeout_seconds": 30.0, "deadline_seconds": 2.0})
        result = run_checks(REGISTRY, builtin_probes(), cfg, FIXED_NOW, only=("tls.reachable",))
    # Before: FAIL (blocking) "cannot be reached (timeout: no TLS handshake within 0.99 s)": the
    # handshake's wait was cut to half the time left, not the server's 30 s.
    (reach,) = [f for f in result.findings if f.check_id == "tls.reachable"]
    assert reach.status is Status.ERROR and reach.blocker is False, reach.summary
    assert reach.evidence["error_kind"] == "deadline"
    assert "not determined: the run's deadline left" in reach.summary
    assert "less than network.timeout_seconds (30 s)" in reach.summary
    assert "this says nothing about the server (run again with a longer --deadline" in reach.summary
    assert result.grade.verdict is Verdict.INCOMPLETE


def _answer(path: str, error: ProbeError) -> EndpointAnswer:
    url = f"https://sts.contoso.test{path}"
    return EndpointAnswer(path=path, via=EndpointVia.PROXY, address="203.0.113.10:443", exchange=HttpExchange(
        url=url, final_url=url, connect_address="203.0.113.10:443", status=None, reason=None, headers={},
        redirects=(), elapsed_seconds=1.0, body_bytes=0, truncated=False, error=error))


@pytest.mark.parametrize("error", [
    ProbeError(ProbeErrorKind.DEADLINE, "the run's deadline passed while waiting for the server", "203.0.113.10:443"),
    # The policy's own reason, which names its remedy (network.allow_link_local).
    ProbeError(ProbeErrorKind.POLICY, str(refused_address_reason("169.254.169.254")), "169.254.169.254:443"),
])
def test_endpoint_checks_do_not_judge_an_answer_that_never_had_its_chance(error):
    paths = ("/adfs/ls/", "/adfs/services/trust/mex", *endpoint_checks.PATH_USERNAMEMIXED)
    probe = EndpointAnswer(path="/adfs/probe", via=EndpointVia.NODE, address="10.0.0.4:80", exchange=HttpExchange(
        url="http://10.0.0.4/adfs/probe", final_url="http://10.0.0.4/adfs/probe", connect_address=None, status=None,
        reason=None, headers={}, redirects=(), elapsed_seconds=1.0, body_bytes=0, truncated=False, error=error))
    facts = EndpointsFacts(configured=True, service_name="sts.contoso.test", external_places=("203.0.113.10:443",),
                           proxies_configured=True, answers=tuple(_answer(p, error) for p in paths), probes=(probe,))
    ctx = CheckContext(facts={"endpoints": facts}, config=Settings(), now=FIXED_NOW)
    (passive,) = endpoint_checks.passive.function(ctx)
    assert passive.status is Status.ERROR and error.reason in passive.summary
    assert passive.summary.startswith("/adfs/ls/ through 203.0.113.10:443: not determined: ")
    advice = "network.allow_link_local" if error.kind is ProbeErrorKind.POLICY else "longer --deadline"
    assert advice in passive.summary
    mex = endpoint_checks.mex.function(ctx)
    assert mex.status is Status.ERROR and "not determined" in mex.summary
    with pytest.raises(endpoint_checks.CannotDetermine, match="says nothing about the endpoint"):
        endpoint_checks.usernamemixed.function(ctx)
    (health,) = endpoint_checks.probe.function(ctx)
    assert health.status is Status.ERROR and "not determined" in health.summary
