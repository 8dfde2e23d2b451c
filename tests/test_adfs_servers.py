"""adfs.ssl-bindings, adfs.certificate-store, adfs.service, adfs.proxy-trust, adfs.computer-name: every
status each can take, judged on exports shaped as the collector writes them under Windows PowerShell
5.1 (the AD FS server) and PowerShell 7 (the proxy), through the real probe and engine."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adfs_exports import FS, judge, statuses, wap_switches, write_farm
from adfs_readiness.facts.adfs_servers import KeyAccessEntry
from adfs_readiness.lab.adfs_samples import ServerSwitches
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.settings import Scope
from adfs_readiness_checks.adfs_servers import key_access


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


def test_healthy_farm_with_proxy_passes_every_server_check(pki, tmp_path, now):
    found = judge(write_farm(pki, tmp_path, wap=wap_switches()), now, scope=Scope(certificate_authentication=True))
    for check_id in ("adfs.ssl-bindings", "adfs.certificate-store", "adfs.service"):
        assert statuses(found, check_id) == ["pass", "pass"], found[check_id]
    assert statuses(found, "adfs.proxy-trust") == ["pass"]
    assert statuses(found, "adfs.computer-name") == ["pass"]  # AD FS servers only
    assert [f.target for f in found["adfs.service"]] == ["adfs1.corp.contoso.test", "wap1.dmz.contoso.test"]
    assert found["adfs.proxy-trust"][0].evidence["adfs_servers_checked"] == ["adfs1.corp.contoso.test"]


def test_no_export_skips_and_a_v1_export_is_not_determined(pki, tmp_path, now):
    found = judge((), now, adfs={"export": ()})
    for check_id in ("adfs.ssl-bindings", "adfs.certificate-store", "adfs.service", "adfs.proxy-trust",
                     "adfs.computer-name"):
        assert statuses(found, check_id) == ["skip"]
    found = judge(write_farm(pki, tmp_path, collector_version="1"), now)
    for check_id in ("adfs.ssl-bindings", "adfs.certificate-store", "adfs.service", "adfs.computer-name"):
        assert statuses(found, check_id) == ["error"]
        assert "collector v2" in found[check_id][0].summary
    assert statuses(found, "adfs.proxy-trust") == ["skip"]
    assert statuses(found, "adfs.export-readable") == ["warn"]


@pytest.mark.parametrize("binding, scope, status, words", [
    ("missing", False, "fail", "no http.sys binding for sts.contoso.test:443"),
    ("other-certificate", False, "fail", "binds certificate"),
    ("no-ctl", False, "warn", "AdfsTrustedDevices"),
    ("ok", True, "pass", "sts.contoso.test:443 and sts.contoso.test:49443"),
    # No SNI binding for the name, but the IP fallback binding (0.0.0.0:443, the one admins add for
    # clients without SNI) serves the configured certificate: http.sys answers the name from it, so
    # sign-in works (before: "no http.sys binding", a false failure). With another certificate there,
    # clients get that one: a failure that names it.
    ("ip-fallback", False, "warn", "no http.sys binding for sts.contoso.test:443 (the federation service name on "
                                   "443): it is served by the IP fallback binding 0.0.0.0:443 with the configured "
                                   "certificate"),
    ("ip-fallback-other", False, "fail", "and the IP fallback binding 0.0.0.0:443 serves certificate"),
])
def test_ssl_bindings_each_status(pki, tmp_path, now, binding, scope, status, words):
    found = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(ssl_binding=binding)), now,
                  scope=Scope(certificate_authentication=scope))
    (finding,) = found["adfs.ssl-bindings"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_ssl_bindings_certauth_in_scope_but_not_bound_fails(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, adfs=ServerSwitches(certauth_binding=False))
    assert statuses(judge(paths, now), "adfs.ssl-bindings") == ["pass"]
    (finding,) = judge(paths, now, scope=Scope(certificate_authentication=True))["adfs.ssl-bindings"]
    assert finding.status.value == "fail" and "sts.contoso.test:49443 (certificate authentication" in finding.summary


def test_ssl_bindings_without_netsh_output_is_not_determined(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    del document["Server"]["SslBindings"]["Netsh"]
    path.write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge([path], now)["adfs.ssl-bindings"]
    assert finding.status.value == "error" and "netsh" in finding.summary


@pytest.mark.parametrize("access, status, words", [
    ("not-in-store", "fail", "not in LocalMachine\\My"),
    ("no-key", "fail", "without its private key"),
    ("denied", "fail", "a Deny rule for CONTOSO\\gmsa-adfs$"),
    ("missing", "fail", "no access rule grants it read access"),
    ("group-only", "warn", "CONTOSO\\ADFS Key Readers"),
])
def test_certificate_store_each_status(pki, tmp_path, now, access, status, words):
    found = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(key_access=access)), now)
    (finding,) = found["adfs.certificate-store"]
    assert finding.status.value == status and words in finding.summary, finding.summary
    assert finding.evidence["role"] == "service-communications" and not finding.blocker


def test_certificate_store_primary_token_signing_key_unreadable_blocks(pki, tmp_path, now):
    """With AutoCertificateRollover off the token certificates live in the store: an unreadable primary
    token-signing key stops every sign-in (blocking fail, verdict NOT_READY); AD FS-generated ones
    (rollover on) are not looked for."""
    (path,) = write_farm(pki, tmp_path, auto_certificate_rollover=False)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    signing = next(c for c in document["Server"]["Certificates"] if c["Role"] == "token-signing")
    signing["KeyAccess"] = [a for a in signing["KeyAccess"] if "gmsa" not in a["IdentityReference"]]
    path.write_text(json.dumps(document), encoding="utf-8")
    found = judge([path], now)
    (finding,) = found["adfs.certificate-store"]
    assert finding.status.value == "fail" and finding.blocker and finding.evidence["role"] == "token-signing"
    healthy = judge(write_farm(pki, tmp_path / "auto"), now)["adfs.certificate-store"][0]
    assert healthy.status.value == "pass" and healthy.evidence["checked"] == [
        f"service-communications {healthy.evidence['checked'][0].split()[1]}"]


def test_certificate_store_key_acl_not_read_is_not_determined(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    entry = document["Server"]["Certificates"][0]
    entry["KeyAccess"], entry["KeyAccessError"] = None, "Get-Acl: Access is denied"
    path.write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge([path], now)["adfs.certificate-store"]
    assert finding.status.value == "error" and "Access is denied" in finding.summary


def test_key_access_rules_read_from_raw_numbers_and_names():
    rules = (KeyAccessEntry("NT AUTHORITY\\SYSTEM", "2032127", "Allow"),
             KeyAccessEntry("CONTOSO\\gmsa-adfs$", "1179785", "Allow"))
    assert key_access(rules, "CONTOSO\\gmsa-adfs$", "NT SERVICE\\adfssrv")[0] == "readable"
    assert key_access(rules[:1], "CONTOSO\\gmsa-adfs$", "NT SERVICE\\adfssrv")[0] == "not-granted"
    assert key_access(rules[:1], "LocalSystem", None)[0] == "readable"
    service_sid = (KeyAccessEntry("NT SERVICE\\adfssrv", "Read, Synchronize", "Allow"),)
    assert key_access(service_sid, "CONTOSO\\svc-adfs", "NT SERVICE\\adfssrv")[0] == "readable"
    write_only = (KeyAccessEntry("CONTOSO\\svc-adfs", "Write", "Allow"),)
    assert key_access(write_only, "CONTOSO\\svc-adfs", None)[0] == "not-granted"
    other_domain = (KeyAccessEntry("FABRIKAM\\svc-adfs", "Read", "Allow"),)
    assert key_access(other_domain, "CONTOSO\\svc-adfs", None)[0] == "unknown"
    everyone = (KeyAccessEntry("Everyone", "Read", "Allow"), KeyAccessEntry("CONTOSO\\svc-adfs", "FullControl", "Deny"))
    assert key_access(everyone, "CONTOSO\\svc-adfs", None)[0] == "denied"


@pytest.mark.parametrize("switches, status, words", [
    (dict(service_state="Stopped"), "fail", "adfssrv is Stopped"),
    (dict(service_state=None), "fail", "not installed"),
    (dict(service_start_mode="Manual"), "warn", "starts Manual"),
    (dict(raw_enums=True, service_state="Stopped"), "fail", "adfssrv is Stopped"),
])
def test_service_each_status(pki, tmp_path, now, switches, status, words):
    (finding,) = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(**switches)), now)["adfs.service"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_service_of_the_proxy(pki, tmp_path, now):
    found = judge(write_farm(pki, tmp_path, wap=wap_switches(service_state="Stopped")), now)
    assert statuses(found, "adfs.service") == ["pass", "fail"]
    assert "appproxysvc is Stopped" in found["adfs.service"][1].summary


@pytest.mark.parametrize("wap, trust_proxy, status, words", [
    (dict(proxy_trust_days_left=-2), True, "fail", "had expired"),
    (dict(proxy_trust_days_left=1.5), True, "warn", "renewal is failing"),
    (dict(farm_reachable=False), True, "fail",
     "could not reach the farm (The remote server returned an error: (401) Unauthorized"),
    (dict(), False, "fail", "do not list it in AdfsTrustedDevices"),
])
def test_proxy_trust_each_status(pki, tmp_path, now, wap, trust_proxy, status, words):
    found = judge(write_farm(pki, tmp_path, wap=wap_switches(**wap), trust_proxy=trust_proxy), now)
    (finding,) = found["adfs.proxy-trust"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_proxy_trust_judged_when_collected_and_an_old_export_warns(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, wap=wap_switches())
    (finding,) = judge(paths, now + timedelta(days=9))["adfs.proxy-trust"]
    assert finding.status.value == "pass" and finding.evidence["days_left_when_collected"] == 10
    (finding,) = judge(paths, now + timedelta(days=20))["adfs.proxy-trust"]
    assert finding.status.value == "warn" and "20 days old" in finding.summary


def test_proxy_trust_renewed_after_the_adfs_export_is_not_a_broken_trust(pki, tmp_path, now):
    """WAP renews its proxy-trust certificate every few days. An AD FS export collected before the
    proxy's current certificate was issued cannot list it in AdfsTrustedDevices: before, that was
    "do not list it" (a false failure); now a warning saying why, and a failure only when the AD FS
    export is newer than the certificate."""
    paths = write_farm(pki, tmp_path, wap=wap_switches(), trust_proxy=False)
    document = json.loads(paths[0].read_bytes().decode("utf-8-sig"))
    issued = now - timedelta(days=4)  # proxy_trust_days_left=10 of a two-week certificate
    document["CollectedAt"] = (issued - timedelta(days=1)).isoformat()
    paths[0].write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge(paths, now)["adfs.proxy-trust"]
    assert finding.status.value == "warn", finding.summary
    assert "was taken before this proxy-trust certificate was issued" in finding.summary
    assert "do not list it" not in finding.summary
    document["CollectedAt"] = (issued + timedelta(hours=1)).isoformat()
    paths[0].write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge(paths, now)["adfs.proxy-trust"]
    assert finding.status.value == "fail" and "do not list it in AdfsTrustedDevices" in finding.summary


def test_proxy_trust_missing_certificate_fails(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, wap=wap_switches())
    document = json.loads(paths[1].read_text(encoding="utf-8"))
    document["Server"]["Certificates"] = [c for c in document["Server"]["Certificates"] if c["Role"] != "proxy-trust"]
    paths[1].write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge(paths, now)["adfs.proxy-trust"]
    assert finding.status.value == "fail" and "no proxy-trust certificate" in finding.summary


def test_computer_name_each_status(pki, tmp_path, now):
    clash = ServerSwitches(computer_name="STS", dns_host_name=FS)
    (finding,) = judge(write_farm(pki, tmp_path / "a", adfs=clash), now)["adfs.computer-name"]
    assert finding.status.value == "fail" and finding.evidence["dns_host_name"] == FS
    nameless = ServerSwitches(dns_host_name="")
    (path,) = write_farm(pki, tmp_path / "b", adfs=nameless)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    document["Server"].pop("Domain")
    path.write_text(json.dumps(document), encoding="utf-8")
    (finding,) = judge([path], now)["adfs.computer-name"]
    assert finding.status.value == "error"


@pytest.mark.parametrize("entries, verdict, words", [
    # Windows evaluates Deny entries first: a Deny for a group every account belongs to wins over an
    # Allow for the account itself (before: "readable", a false pass).
    ((("Everyone", "Read", "Deny"), ("CONTOSO\\gmsa-adfs$", "Read", "Allow")), "denied", "a Deny rule for Everyone"),
    ((("NT AUTHORITY\\Authenticated Users", "FullControl", "Deny"), ("NT SERVICE\\adfssrv", "Read", "Allow")),
     "denied", "Authenticated Users"),
    # A Deny for a group whose members the export does not list may or may not apply.
    ((("CONTOSO\\Tier0-Deny", "Read", "Deny"), ("CONTOSO\\gmsa-adfs$", "Read", "Allow")), "unknown",
     "a Deny rule for CONTOSO\\Tier0-Deny applies if the account is a member"),
    # Deny entries that cannot concern a gMSA, and rights that do not read the data, change nothing.
    ((("BUILTIN\\Administrators", "FullControl", "Deny"), ("CONTOSO\\gmsa-adfs$", "Read", "Allow")), "readable", ""),
    ((("Everyone", "Delete", "Deny"), ("CONTOSO\\gmsa-adfs$", "Read", "Allow")), "readable", ""),
    ((("CONTOSO\\gmsa-adfs$", "Read, Synchronize", "Allow"),), "readable", "allowed to CONTOSO\\gmsa-adfs$"),
])
def test_key_access_deny_rules(entries, verdict, words):
    from adfs_readiness.facts.adfs_servers import KeyAccessEntry

    rules = tuple(KeyAccessEntry(identity, rights, access) for identity, rights, access in entries)
    result, why = key_access(rules, "CONTOSO\\gmsa-adfs$", "NT SERVICE\\adfssrv")
    assert result == verdict and words in why, why
