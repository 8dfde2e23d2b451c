"""adfs.* from the AD FS server export: sample exports shaped like the collector's ConvertTo-Json
output (and raw Windows PowerShell 5.1 output), through the CLI's --adfs-export and the engine;
every status of every check; missing and unknown fields are findings, never crashes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adfs_readiness.api import CheckContext
from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab.adfs_samples import adfs_export_document, write_adfs_export
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.model import Status
from adfs_readiness.probes.adfs_export import parse_ps_date, read_adfs_export
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.settings import AdfsSettings, ChecksSettings, Settings
from adfs_readiness_checks import adfs as adfs_checks

REGISTRY = discover_checks(strict=True)
#: The ids of checks/adfs.py (the server-side ids of collector v2 have their own test modules).
LEGACY_IDS = {c.id for c in REGISTRY.checks if c.function.__module__.endswith(".adfs")}
FS = "sts.contoso.test"


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


def token_signing(pki, days_left=200):
    return pki.token_certificate("signing", FS, pki.now - timedelta(days=365 - days_left), pki.now + timedelta(days=days_left))


def judge(pki, tmp_path, now, **switches):
    document = adfs_export_document(pki, FS, token_signing(pki, switches.pop("ts_days", 200)), **switches)
    path = write_adfs_export(tmp_path / "adfs-export.json", document)
    config = Settings(adfs=AdfsSettings(export=(path,)),
                      checks=ChecksSettings(skip=("dns.*", "tls.*", "metadata.*", "token-signing.*",
                                                  "token-decrypting.*", "endpoints.*", "cloud.*")))
    result = run_checks(REGISTRY, builtin_probes(), config, now)
    found = {f.check_id: (f.status.value, f.evidence, f.summary) for f in result.findings if f.check_id.startswith("adfs.")}
    return found, result


def test_healthy_export_passes_everywhere(pki, tmp_path, now):
    found, result = judge(pki, tmp_path, now)
    found = {k: v for k, v in found.items() if k in LEGACY_IDS}
    assert {k: v[0] for k, v in found.items()} == {
        "adfs.export-readable": "pass", "adfs.auto-certificate-rollover": "pass", "adfs.o365-relying-party": "pass",
        "adfs.extranet-lockout": "info", "adfs.endpoint-exposure": "pass", "adfs.audit": "pass",
        "adfs.extended-protection": "pass", "adfs.trust-certificates": "pass", "adfs.farm-limits": "pass"}
    assert found["adfs.extranet-lockout"][1]["ExtranetLockoutThreshold"] == 5
    assert found["adfs.farm-limits"][1]["database"] == "WID" and found["adfs.farm-limits"][1]["nodes"] == [
        "adfs1.corp.contoso.test", "adfs2.corp.contoso.test"]


@pytest.mark.parametrize("switches, check_id, status", [
    ({"auto_certificate_rollover": False, "ts_days": 100}, "adfs.auto-certificate-rollover", "warn"),
    ({"auto_certificate_rollover": False, "ts_days": 20}, "adfs.auto-certificate-rollover", "fail"),
    ({"o365_trust": "missing"}, "adfs.o365-relying-party", "fail"),
    ({"o365_trust": "disabled"}, "adfs.o365-relying-party", "fail"),
    ({"o365_trust": "sha1"}, "adfs.o365-relying-party", "warn"),
    ({"extranet_lockout": False}, "adfs.extranet-lockout", "warn"),
    ({"windowstransport_proxy": True}, "adfs.endpoint-exposure", "fail"),
    ({"log_level": ("Errors", "Warnings", "FailureAudits")}, "adfs.audit", "warn"),
    ({"extended_protection": "None"}, "adfs.extended-protection", "warn"),
    ({"extended_protection": "Sometimes"}, "adfs.extended-protection", "error"),
    ({"trust_certificate_days_left": 10}, "adfs.trust-certificates", "warn"),
    ({"trust_certificate_days_left": -3}, "adfs.trust-certificates", "fail"),
    ({"nodes": 31}, "adfs.farm-limits", "warn"),
    ({"relying_parties": 101}, "adfs.farm-limits", "warn"),
    ({"database": "SQL", "nodes": 40}, "adfs.farm-limits", "pass"),
    ({"drop_sections": ("FarmInformation",)}, "adfs.farm-limits", "error"),
    ({"drop_sections": ("FarmInformation",)}, "adfs.export-readable", "warn"),
])
def test_each_status(pki, tmp_path, now, switches, check_id, status):
    found, result = judge(pki, tmp_path, now, **switches)
    assert found[check_id][0] == status, found[check_id]
    if check_id == "adfs.o365-relying-party" and status == "fail":
        assert result.grade.verdict.value == "NOT_READY"
    if check_id == "adfs.auto-certificate-rollover":
        assert found[check_id][1]["days_left"] == switches["ts_days"]


def test_missing_endpoint_published_warns(pki, tmp_path, now):
    document = adfs_export_document(pki, FS, token_signing(pki))
    for endpoint in document["Endpoints"]:
        if endpoint["AddressPath"] == "/adfs/services/trust/mex":
            endpoint["Proxy"] = False
    path = write_adfs_export(tmp_path / "e.json", document)
    config = Settings(adfs=AdfsSettings(export=(path,)), checks=ChecksSettings(skip=("dns.*", "tls.*")))
    result = run_checks(REGISTRY, builtin_probes(), config, now)
    (finding,) = [f for f in result.findings if f.check_id == "adfs.endpoint-exposure"]
    assert finding.status is Status.WARN and finding.evidence["required_not_published"] == ["/adfs/services/trust/mex"]


def test_windows_powershell_raw_export_numbers_and_dates(pki, tmp_path, now):
    document = adfs_export_document(pki, FS, token_signing(pki), windows_powershell_raw=True)
    path = write_adfs_export(tmp_path / "raw.json", document)
    assert b'"\\/Date(' in path.read_bytes()
    export = read_adfs_export(path)
    assert export.collected_at == now
    assert export.properties.extended_protection_token_check == "1"
    assert any("ExtendedProtectionTokenCheck is the number 1" in p for p in export.problems)
    found, _ = judge(pki, tmp_path, now, windows_powershell_raw=True)
    assert found["adfs.extended-protection"][0] == "error" and found["adfs.export-readable"][0] == "warn"


def test_unreadable_and_not_given(tmp_path, now):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    config = Settings(adfs=AdfsSettings(export=(bad,)), checks=ChecksSettings(skip=("dns.*", "tls.*")))
    result = run_checks(REGISTRY, builtin_probes(), config, now)
    found = {f.check_id: f.status.value for f in result.findings if f.check_id.startswith("adfs.")}
    assert found["adfs.export-readable"] == "fail" and found["adfs.o365-relying-party"] == "error"
    result = run_checks(REGISTRY, builtin_probes(), Settings(checks=ChecksSettings(skip=("dns.*", "tls.*"))), now)
    assert {f.status for f in result.findings if f.check_id.startswith("adfs.")} == {Status.SKIP}


def test_parse_ps_date():
    assert parse_ps_date("/Date(0)/").isoformat() == "1970-01-01T00:00:00+00:00"
    assert parse_ps_date("2026-11-30T12:00:00Z").hour == 12
    assert parse_ps_date({"value": "/Date(1000)/"}).second == 1
    assert parse_ps_date("yesterday") is None and parse_ps_date(5) is None


@pytest.mark.parametrize("adfs, domain, status", [(5, None, Status.INFO), (5, 10, Status.PASS), (10, 10, Status.FAIL),
                                                  (5, 0, Status.PASS)])
def test_extranet_lockout_against_the_domain_threshold(pki, tmp_path, now, adfs, domain, status):
    """The comparison with the directory's lockoutThreshold: the directory fact (another area) is
    passed as the engine will once the check lists it in ``requires``."""
    path = write_adfs_export(tmp_path / "x.json", adfs_export_document(pki, FS, token_signing(pki),
                                                                       extranet_lockout_threshold=adfs))

    class Directory:
        configured = domain is not None
        lockout_threshold = domain

    ctx = CheckContext(facts={"adfs_export": read_adfs_export(path), "directory": Directory()}, config=Settings(),
                       now=now)
    outcome = adfs_checks.extranet_lockout.function(ctx)
    assert outcome.status is status and outcome.evidence["domain_lockout_threshold"] == domain


def test_cli_collector_and_adfs_export(pki, tmp_path, capsys):
    assert main(["collector"]) == 0
    script = capsys.readouterr().out
    for cmdlet in ("Get-AdfsProperties", "Get-AdfsCertificate", "Get-AdfsEndpoint", "Get-AdfsRelyingPartyTrust",
                   "Get-AdfsClaimsProviderTrust", "Get-AdfsFarmInformation", "ConvertTo-Json -Depth"):
        assert cmdlet in script
    assert not any(verb in script for verb in ("Set-Adfs", "Enable-Adfs", "Disable-Adfs", "Remove-Adfs", "New-Adfs"))
    path = write_adfs_export(tmp_path / "a.json", adfs_export_document(pki, FS, token_signing(pki), o365_trust="missing"))
    out = tmp_path / "r.json"
    code = main(["check", "--adfs-export", str(path), "--as-of", pki.now.isoformat(), "--only", "adfs.o365-relying-party",
                 "--json", str(out), "-q", "--no-history"])
    report = json.loads(out.read_text())
    assert code == 2 and [f["status"] for f in report["findings"] if f["check_id"] == "adfs.o365-relying-party"] == ["fail"]
    assert main(["check", "--adfs-export", str(tmp_path / "missing.json"), "-q"]) == 3
