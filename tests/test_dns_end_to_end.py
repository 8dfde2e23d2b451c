"""The DNS area end to end: the STS lab and the lab DNS views together through the engine, a run
whose external resolver never answers, and the demo report's DNS section."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab import Lab
from adfs_readiness.lab.dns_lab import DnsLab
from adfs_readiness.lab.dns_server import DnsFault
from adfs_readiness.model import Status
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.report import report_dict
from adfs_readiness.report.json_report import validate_report
from adfs_readiness.settings import FederationSettings, NetworkSettings, Settings

REGISTRY = discover_checks(strict=True)
EXTERNAL_VIEW_CHECKS = {"dns.fs-external", "dns.m365-verification", "dns.m365-mail", "dns.msoid", "dns.caa"}


def statuses(result, prefix="dns."):
    out: dict[str, dict] = {}
    for f in result.findings:
        if f.check_id.startswith(prefix):
            out.setdefault(f.check_id, {})[f.target] = f.status
    return out


def test_demo_zones_give_the_expected_dns_findings(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path) as lab, DnsLab() as dns_lab:
        cfg = lab.config(network={"timeout_seconds": 2.0, "deadline_seconds": 20.0}).with_changes(**dns_lab.config_fragment())
        result = run_checks(REGISTRY, builtin_probes(), cfg, now)
        toml = dns_lab.config_toml()
    validate_report(report_dict(result))
    found = statuses(result)
    assert found["dns.msoid"] == {"contoso.test": Status.FAIL}
    assert found["dns.ad-srv"]["_kerberos._tcp.corp.contoso.test"] is Status.WARN
    others = {cid: s for cid, s in found.items() if cid not in ("dns.msoid", "dns.ad-srv")}
    assert all(st is Status.PASS for per in others.values() for st in per.values()), others
    assert len(found) == 12  # every dns.* id ran
    assert result.facts["dns.external"]["system_resolver"] is False
    assert 'external_resolvers = ["127.0.0.1:' in toml and 'ad_domain = "corp.contoso.test"' in toml


def test_external_resolver_that_never_answers_ends_in_time_with_errors_and_the_rest_intact(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path) as lab, DnsLab(external_mode=DnsFault.SILENT) as dns_lab:
        cfg = lab.config(network={"timeout_seconds": 0.5, "deadline_seconds": 6.0}).with_changes(**dns_lab.config_fragment())
        started = time.monotonic()
        result = run_checks(REGISTRY, builtin_probes(), cfg, now)
        elapsed = time.monotonic() - started
        external_address = str(dns_lab.external.address)
    assert elapsed < 6.0 + 5  # the 6 s deadline (slack for a loaded machine)
    validate_report(report_dict(result))
    found = statuses(result)
    for check_id in EXTERNAL_VIEW_CHECKS:
        assert set(found[check_id].values()) == {Status.ERROR}, (check_id, found[check_id])
    (external,) = [f for f in result.findings if f.check_id == "dns.fs-external"]
    assert "no answer (timeout)" in external.summary and external_address in external.summary
    assert result.facts["dns.external"]["unresponsive"] is True
    # The internal view and the rest of the report are untouched.
    assert found["dns.fs-internal"] == {None: Status.PASS}
    assert found["dns.fs-a-record"] == {"internal view": Status.PASS, "external view": Status.ERROR}
    assert found["dns.ad-srv"]["_ldap._tcp.dc._msdcs.corp.contoso.test"] is Status.PASS
    assert {f.status for f in result.findings if f.check_id.startswith("metadata.")} == {Status.PASS}
    assert result.grade.verdict.value == "INCOMPLETE"  # dns.fs-external is a blocker that could not be judged


def test_system_resolver_is_said_in_the_facts_when_no_resolver_is_configured():
    # Only the empty-view path: nothing to look up, so nothing is asked of the system resolver.
    # (A partner's metadata URL, not a file: a metadata file would make the run about the file alone.)
    config = Settings(federation=FederationSettings(metadata="https://partner.example/m.xml"),
                      network=NetworkSettings(deadline_seconds=5.0))
    result = run_checks(REGISTRY, builtin_probes(), config,
                        datetime(2026, 11, 30, tzinfo=timezone.utc), only=["dns.fs-external", "dns.ad-srv"])
    view = result.facts["dns.external"]
    assert view["system_resolver"] is True and view["lookups"] == []
    assert {f.status for f in result.findings} == {Status.SKIP}


def test_demo_report_shows_the_dns_area(tmp_path, capsys):
    js, html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["demo", "--no-directory", "--json", str(js), "--html", str(html), "-q"])
    doc = json.loads(js.read_text())
    assert code == doc["exit_code"] == 1
    dns_findings = [f for f in doc["findings"] if f["check_id"].startswith("dns.")]
    assert {f["check_id"] for f in dns_findings} >= {"dns.fs-external", "dns.split-brain", "dns.msoid", "dns.caa"}
    page = html.read_text()
    assert "dns.msoid" in page and "msoid.contoso.test is a CNAME to clientconfig.microsoftonline-p.net" in page
