"""adfs.os-support, adfs.farm-behavior-level, adfs.update-age, adfs.schannel: every status each can
take, per server, on exports shaped as the collector writes them (Windows PowerShell 5.1 and 7),
judged at the injected clock (FIXED_NOW = 2026-11-30)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from adfs_exports import judge, statuses, wap_switches, write_farm
from adfs_readiness.lab.adfs_samples import ServerSwitches
from adfs_readiness.lab.pki import LabPki
from adfs_readiness_checks._windows_lifecycle import RELEASES, release_of


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


def test_lifecycle_table_is_data_with_a_source_per_release():
    assert [r.build for r in RELEASES] == sorted(r.build for r in RELEASES)
    for release in RELEASES:
        assert release.source.url.startswith("https://learn.microsoft.com/en-us/lifecycle/products/windows-server-")
        # Microsoft's fixed-lifecycle end dates are Patch Tuesdays (the second Tuesday of the month).
        assert release.extended_end.weekday() == 1 and 8 <= release.extended_end.day <= 14
    assert release_of(17763, None).name == "Windows Server 2019"
    assert release_of(None, "Microsoft Windows Server 2012 R2 Standard").name == "Windows Server 2012 R2"
    assert release_of(None, "Microsoft Windows Server 2016 Datacenter (Deutsch)").name == "Windows Server 2016"
    assert release_of(19045, "Microsoft Windows 10 Enterprise") is None
    # AD FS 2.0 also ran on Windows Server 2008 SP2 (builds 6002 and, after 2019, 6003): out of support,
    # not an unknown release (before: "not a Windows Server release this check knows").
    assert release_of(6003, None).name == release_of(None, "Microsoft Windows Server 2008 Standard").name == \
        "Windows Server 2008"
    assert release_of(6002, None).extended_end == date(2020, 1, 14)


@pytest.mark.parametrize("os, status, words", [
    ("2019", "pass", "supported until 2029-01-09"),
    ("2016", "warn", "ends on 2027-01-12, in 43 days"),
    ("2012r2", "fail", "ended on 2023-10-10"),
    ("2008r2", "fail", "Windows Server 2008 R2's extended support ended on 2020-01-14"),
])
def test_os_support_each_status(pki, tmp_path, now, os, status, words):
    (finding,) = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(os=os)), now)["adfs.os-support"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_os_support_unknown_release_and_proxy(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, wap=wap_switches(os="2012r2"))
    document = json.loads(paths[0].read_bytes().decode("utf-8-sig"))
    document["Server"]["OperatingSystem"].update(BuildNumber="25398", Caption="Microsoft Windows Server Datacenter")
    paths[0].write_text(json.dumps(document), encoding="utf-8")
    found = judge(paths, now)
    assert statuses(found, "adfs.os-support") == ["error", "fail"]
    assert "not a Windows Server release this check knows" in found["adfs.os-support"][0].summary


@pytest.mark.parametrize("level, node_levels, os, status, words", [
    (4, None, "2019", "pass", "the highest every node supports"),
    (3, (4, 4), "2019", "warn", "raise it"),
    (3, (3, 4), "2016", "warn", "Mixed farm: nodes of different versions (adfs1.corp.contoso.test Windows Server "
                                "2016, adfs2.corp.contoso.test level 4)"),
    (4, (3, 4), "2016", "fail", "supports only 3"),
])
def test_farm_behavior_level_each_status(pki, tmp_path, now, level, node_levels, os, status, words):
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(os=os), farm_behavior_level=level, node_levels=node_levels)
    (finding,) = judge(paths, now)["adfs.farm-behavior-level"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_farm_behavior_level_from_the_servers_os_when_nodes_say_nothing(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path, adfs=ServerSwitches(os="2012r2"), farm_behavior_level=1)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    for node in document["FarmInformation"]["FarmNodes"]:
        node.pop("BehaviorLevel")
    path.write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge([path], now)["adfs.farm-behavior-level"]
    assert finding.status.value == "pass" and finding.evidence["node_levels"] == {"adfs1.corp.contoso.test": 1}
    (finding,) = judge(write_farm(pki, tmp_path / "x", drop_sections=("FarmInformation",)), now)[
        "adfs.farm-behavior-level"]
    assert finding.status.value == "error"


def test_farm_behavior_level_of_a_collector_v1_export_is_not_determined(pki, tmp_path, now):
    """Collector v1 wrote FarmNodes with FQDN only and no Server section: nothing says what the nodes
    support, so the level is not judged (never a pass or a failure on data v1 did not collect)."""
    (path,) = write_farm(pki, tmp_path, collector_version="1")
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    document["FarmInformation"]["FarmNodes"] = [{"FQDN": n["FQDN"]} for n in document["FarmInformation"]["FarmNodes"]]
    path.write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge([path], now)["adfs.farm-behavior-level"]
    assert finding.status.value == "error" and "does not say the nodes' behavior levels" in finding.summary


@pytest.mark.parametrize("days, status", [(20, "pass"), (90, "warn"), (200, "fail"), (None, "error")])
def test_update_age_each_status(pki, tmp_path, now, days, status):
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(newest_update_days=days))
    if days is None:
        document = json.loads(paths[0].read_bytes().decode("utf-8-sig"))
        for update in document["Server"]["Updates"]:
            update["InstalledOn"] = None
        paths[0].write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge(paths, now)["adfs.update-age"]
    assert finding.status.value == status, finding.summary
    if days is not None:
        assert finding.evidence["days_ago"] == days and finding.evidence["newest"] == "KB5036896"


def test_update_age_reads_windows_powershell_dates(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(newest_update_days=61), windows_powershell_raw=True)
    assert b'"InstalledOn":  "\\/Date(' in paths[0].read_bytes()
    (finding,) = judge(paths, now)["adfs.update-age"]
    assert finding.status.value == "warn" and finding.evidence["days_ago"] == 61


@pytest.mark.parametrize("switches, status, words", [
    (dict(), "pass", "TLS 1.2 on"),
    (dict(tls10="enabled"), "warn", "TLS 1.0 enabled on the server side"),
    (dict(tls10="default", tls11="default"), "warn", "TLS 1.0 and TLS 1.1 enabled"),
    (dict(tls10="default", tls11="default", os="2025"), "pass", "TLS 1.0/1.1 not offered"),
    (dict(strong_crypto=False), "warn", "SchUseStrongCrypto not 1 in 2 of 2"),
    (dict(strong_crypto=None), "warn", "SchUseStrongCrypto"),
    (dict(tls12="disabled"), "fail", "TLS 1.2 is disabled on the server side, so http.sys does not offer it; TLS 1.2 "
                                     "is disabled on the client side"),
    (dict(tls12="default"), "pass", "TLS 1.2 on"),
])
def test_schannel_each_status(pki, tmp_path, now, switches, status, words):
    (finding,) = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(**switches)), now)["adfs.schannel"]
    assert finding.status.value == status and words in finding.summary, finding.summary


@pytest.mark.parametrize("switches, status, words", [
    # "Disabled by default" (DisabledByDefault=1) is not offered by http.sys, which uses the system
    # defaults. Before: TLS 1.2 Enabled=1 + DisabledByDefault=1 passed (a false pass), and TLS 1.0
    # with DisabledByDefault=1 warned as "enabled" (a false warning).
    (dict(tls12="disabled-by-default"), "fail", "TLS 1.2 is disabled by default on the server side, so http.sys "
                                                "does not offer it"),
    (dict(tls12="dbd-only"), "fail", "TLS 1.2 is disabled by default on the server side"),
    (dict(tls10="disabled-by-default", tls11="dbd-only"), "pass", "TLS 1.0/1.1 not offered"),
    (dict(tls10="enabled-only"), "warn", "TLS 1.0 enabled on the server side"),
    # The client side only disabled by default: applications that ask for TLS 1.2 get it, those that
    # use the system defaults (WinHTTP, .NET with SystemDefaultTlsVersions) do not.
    (dict(tls12_client="disabled-by-default"), "warn", "TLS 1.2 is only disabled by default on the client side"),
    (dict(tls12_client="disabled"), "fail", "TLS 1.2 is disabled on the client side"),
    # Windows Server 2008 R2: TLS 1.2 is not enabled unless the registry enables it (before: judged
    # "on" by default, a false pass).
    (dict(os="2008r2", tls10="disabled", tls11="disabled", tls12="default"), "fail",
     "TLS 1.2 is disabled by default on the server side"),
    (dict(os="2008r2", tls10="disabled", tls11="disabled", tls12="enabled"), "pass", "TLS 1.2 on"),
    (dict(os="2008r2", tls10="disabled", tls11="disabled", tls12="enabled-only"), "fail",
     "TLS 1.2 is disabled by default on the server side"),
])
def test_schannel_three_registry_states_and_os_defaults(pki, tmp_path, now, switches, status, words):
    """Microsoft's TLS registry settings: Enabled=0 disables; DisabledByDefault non-zero leaves the
    version to applications that ask for it explicitly; an unset value keeps the OS default
    (https://learn.microsoft.com/windows-server/security/tls/tls-registry-settings; defaults per
    release: https://learn.microsoft.com/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp-)."""
    (finding,) = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(**switches)), now)["adfs.schannel"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_schannel_missing_settings_and_service_without_role_are_not_determined(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    del document["Server"]["Schannel"]
    document["Role"] = "Something"
    document["Server"]["Services"] = []
    path.write_text(json.dumps(document), encoding="utf-8")
    found = judge([path], now)
    assert statuses(found, "adfs.schannel") == ["error"]
    assert statuses(found, "adfs.service") == ["error"]
    assert "unknown Role 'Something'" in found["adfs.export-readable"][0].summary


def test_the_lifecycle_dates_are_compared_with_the_run_clock(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(os="2019"))
    end = date(2029, 1, 9)
    later = now + timedelta(days=(end - now.date()).days - 100)
    (finding,) = judge(paths, later)["adfs.os-support"]
    assert finding.status.value == "warn" and finding.evidence["days_left"] == 100


def test_update_age_ignores_install_dates_after_the_export(pki, tmp_path, now):
    """An InstalledOn after the export was taken is misread (a locale-dependent string); before, such
    a date made a server 200 days behind look updated today (a false pass)."""
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(newest_update_days=200))
    document = json.loads(paths[0].read_bytes().decode("utf-8-sig"))
    document["Server"]["Updates"].insert(0, {"HotFixID": "KB9999999", "Description": "Update",
                                             "InstalledOn": (now + timedelta(days=40)).isoformat()})
    paths[0].write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge(paths, now)["adfs.update-age"]
    assert finding.status.value == "fail" and "installed 200 days ago" in finding.summary, finding.summary
    assert finding.evidence["dates_after_collection_ignored"] == ["KB9999999"]
