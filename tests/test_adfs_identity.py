"""adfs.o365-claim-rules, adfs.smart-lockout, adfs.mfa-adapter-certificate: every status, on exports
shaped as the collector writes them; the MFA adapter's registration read over the wire from the lab's
Microsoft Graph (msal client credentials, HTTPS on loopback)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adfs_exports import judge, write_farm
from adfs_readiness.api import CheckContext
from adfs_readiness.settings import Settings
from adfs_readiness.facts.directory import DirectoryConnection, DirectoryFacts, DirectoryObject, ScanResult
from adfs_readiness.facts.entra_mfa import AZURE_MFA_CLIENT_APP_ID
from adfs_readiness.lab.adfs_samples import MFA_TENANT_ID, ServerSwitches, mfa_certificate as _mfa_certificate
from adfs_readiness.lab.cloud_lab import CloudLab, key_credential
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.probes.adfs_export import read_adfs_exports
from adfs_readiness_checks import adfs_identity


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


@pytest.mark.parametrize("rules, anchor, status, blocker, words", [
    ("consistencyguid", "ms-DS-ConsistencyGuid", "pass", False, "ms-DS-ConsistencyGuid (objectGUID when it is empty), "
                                                                "the sourceAnchor Entra Connect uses"),
    ("objectguid", "objectGUID", "pass", False, "ImmutableID is issued from objectGUID, the sourceAnchor"),
    ("objectguid", "ms-DS-ConsistencyGuid", "fail", False, "AADSTS51004"),
    ("consistencyguid", "objectGUID", "warn", False, "matches only while ms-DS-ConsistencyGuid stays empty"),
    ("employeeid", "objectGUID", "fail", False, "another attribute"),
    ("consistencyguid", None, "info", False, "which sourceAnchor Entra Connect uses is unknown"),
    ("no-immutableid", "objectGUID", "fail", True, "issue no ImmutableID claim"),
    ("no-upn", None, "fail", True, "issue no UPN claim"),
    ("mail-upn", "ms-DS-ConsistencyGuid", "fail", False, "UPN is issued from Active Directory:mail"),
    ("invalid", None, "error", False, "could not be parsed: line"),
])
def test_o365_claim_rules_each_status(pki, tmp_path, now, rules, anchor, status, blocker, words):
    found = judge(write_farm(pki, tmp_path, claim_rules=rules), now, adfs={"source_anchor": anchor})
    (finding,) = found["adfs.o365-claim-rules"]
    assert finding.status.value == status and words in finding.summary, finding.summary
    assert finding.blocker is blocker
    if status == "fail" and blocker:
        assert finding.blocker_check


def test_o365_claim_rules_upn_from_mail_passes_with_alternate_login_id(pki, tmp_path, now):
    (finding,) = judge(write_farm(pki, tmp_path, claim_rules="mail-upn"), now,
                       adfs={"source_anchor": "ms-DS-ConsistencyGuid", "upn_attribute": "mail"})["adfs.o365-claim-rules"]
    assert finding.status.value == "pass"


def test_o365_claim_rules_source_anchor_inferred_from_the_directory(pki, tmp_path, now):
    """Without [adfs] source_anchor the directory's ms-DS-ConsistencyGuid population decides, and a
    mismatch is then only a warning (the inference may be wrong)."""
    export = read_adfs_exports(tuple(write_farm(pki, tmp_path, claim_rules="objectguid")))

    def directory(with_consistency_guid: int) -> DirectoryFacts:
        objects = tuple(DirectoryObject(f"CN=u{i},DC=x", "user", cn=f"u{i}", object_guid=bytes(16),
                                        consistency_guid=i < with_consistency_guid) for i in range(40))
        return DirectoryFacts(True, DirectoryConnection(None, "plain", "simple", "ok"),
                              scan=ScanResult("DC=x", objects, False, None, (), 1000))

    ctx = CheckContext(facts={"adfs_export": export, "directory": directory(38)}, config=Settings(), now=now)
    outcome = adfs_identity.o365_claim_rules.function(ctx)
    assert outcome.status.value == "warn" and "inferred: 38 of 40" in outcome.summary
    ctx = CheckContext(facts={"adfs_export": export, "directory": directory(0)}, config=Settings(), now=now)
    outcome = adfs_identity.o365_claim_rules.function(ctx)
    assert outcome.status.value == "pass" and "none of 40" in outcome.summary


def test_o365_claim_rules_without_the_trust_or_the_rules(pki, tmp_path, now):
    (finding,) = judge(write_farm(pki, tmp_path / "a", o365_trust="missing"), now)["adfs.o365-claim-rules"]
    assert finding.status.value == "skip"
    (finding,) = judge(write_farm(pki, tmp_path / "b", collector_version="1"), now)["adfs.o365-claim-rules"]
    assert finding.status.value == "error" and "collector v1" in finding.summary and finding.blocker_check


@pytest.mark.parametrize("document, status, words", [
    (dict(extranet_lockout_mode="AdfsSmartLockoutEnforce"), "pass", "enforced"),
    # Get-AdfsProperties prints the names as Set-AdfsProperties documents them (capital ADFS).
    (dict(extranet_lockout_mode="ADFSSmartLockoutEnforce"), "pass", "enforced"),
    (dict(extranet_lockout_mode="AdfsSmartLockoutLogOnly"), "warn", "only logs (AdfsSmartLockoutLogOnly)"),
    (dict(extranet_lockout=False), "warn", "Extranet lockout is off"),
    # ADPasswordCounter is Set-AdfsProperties' default, the classic soft lockout (before: an error,
    # "unknown value", on every farm that never turned ESL on).
    (dict(extranet_lockout_mode="ADPasswordCounter"), "info", "classic extranet soft lockout"),
    # AD FS 2019's mode 3: ESL logs while the soft lockout stays enforced (before: an error).
    (dict(extranet_lockout_mode="ADPasswordCounter, ADFSSmartLockoutLogOnly"), "warn", "AD FS 2019's mode 3"),
    (dict(windows_powershell_raw=True), "warn", "AD FS 2019's mode 3"),
    (dict(extranet_lockout_mode="SomethingNew"), "error", "Set-AdfsProperties documents ADPasswordCounter"),
    # Every documented value as Windows PowerShell 5.1's ConvertTo-Json writes it: the flags enum's
    # number (ADPasswordCounter = 1, ADFSSmartLockoutLogOnly = 2, ADFSSmartLockoutEnforce = 4). Only 3
    # used to be understood; 1, 2 and 4 were "unknown value" errors.
    (dict(extranet_lockout_mode=1), "info", "classic extranet soft lockout"),
    (dict(extranet_lockout_mode=2), "warn", "only logs (AdfsSmartLockoutLogOnly)"),
    (dict(extranet_lockout_mode=4), "pass", "enforced"),
    (dict(extranet_lockout_mode=3), "warn", "AD FS 2019's mode 3"),
    # Combinations Microsoft does not document are not guessed at.
    (dict(extranet_lockout_mode=5), "error", "the flags ADPasswordCounter + ADFSSmartLockoutEnforce (5)"),
    (dict(extranet_lockout_mode=7), "error", "ADPasswordCounter + ADFSSmartLockoutLogOnly + ADFSSmartLockoutEnforce"),
    (dict(extranet_lockout_mode=0), "error", "the value '0'"),
    (dict(extranet_lockout_mode="ADFSSmartLockoutEnforce, ADPasswordCounter"), "error", "(5)"),
])
def test_smart_lockout_each_status(pki, tmp_path, now, document, status, words):
    """The modes of Set-AdfsProperties -ExtranetLockoutMode (ADPasswordCounter, ADFSSmartLockoutLogOnly,
    ADFSSmartLockoutEnforce) and the mode 3 of Microsoft's Extranet Smart Lockout page."""
    (finding,) = judge(write_farm(pki, tmp_path, **document), now)["adfs.smart-lockout"]
    assert finding.status.value == status and words in finding.summary, finding.summary


@pytest.mark.parametrize("mfa, status, words", [
    ("none", "skip", "not configured"),
    ("ok", "pass", "400 days left"),
    ("expiring", "warn", "expires in 20 days"),
    ("expired", "fail", "expired 5 days ago"),
    ("missing", "fail", "not in LocalMachine\\My"),
])
def test_mfa_adapter_certificate_each_status_without_graph(pki, tmp_path, now, mfa, status, words):
    (finding,) = judge(write_farm(pki, tmp_path, adfs=ServerSwitches(azure_mfa=mfa)), now)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == status and words in finding.summary, finding.summary


def test_mfa_adapter_certificate_v1_export_is_not_determined(pki, tmp_path, now):
    (finding,) = judge(write_farm(pki, tmp_path, collector_version="1"), now)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == "error" and "authentication providers" in finding.summary


@pytest.fixture
def graph(tmp_path, monkeypatch):
    """The lab's Graph on loopback, with live-Graph configuration pointing at it (its certificates
    are made for the real clock: TLS is verified against it)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    pki = LabPki(now)
    with CloudLab(pki, tmp_path / "cloud") as cloud:
        monkeypatch.setenv(cloud.secret_env, cloud.client_secret)
        ca = tmp_path / "ca.pem"
        ca.write_bytes(pki.ca_bundle_pem())
        yield pki, cloud, now, {"tls": {"ca_bundle": ca}, "network": {"timeout_seconds": 3.0},
                                **cloud.config_changes(graph=True)}


def test_mfa_adapter_certificate_registered_in_entra_with_stale_credentials(graph, tmp_path):
    pki, cloud, now, config = graph
    current = _mfa_certificate(pki, "ok")
    old = pki.self_signed(MFA_TENANT_ID, now.replace(year=now.year - 3), now.replace(year=now.year - 1),
                          organizational_unit="Microsoft AD FS Azure MFA", key_slot="azure-mfa-old")
    cloud.service_principals[AZURE_MFA_CLIENT_APP_ID] = [key_credential(old), key_credential(current, with_key=False)]
    paths = write_farm(pki, tmp_path / "farm", adfs=ServerSwitches(azure_mfa="ok"))
    (finding,) = judge(paths, now, **config)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == "pass", finding.summary
    assert "registered in Entra ID; 1 expired credential(s) still on the service principal" in finding.summary
    assert finding.evidence["stale_credentials"][0]["thumbprint"] == old.sha1
    assert finding.evidence["registered_in_entra"] is True


def test_mfa_adapter_certificate_not_registered_fails(graph, tmp_path):
    pki, cloud, now, config = graph
    other = pki.self_signed(MFA_TENANT_ID, now, now.replace(year=now.year + 2),
                            organizational_unit="Microsoft AD FS Azure MFA", key_slot="azure-mfa-other")
    cloud.service_principals[AZURE_MFA_CLIENT_APP_ID] = [key_credential(other)]
    paths = write_farm(pki, tmp_path / "farm", adfs=ServerSwitches(azure_mfa="ok"))
    (finding,) = judge(paths, now, **config)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == "fail" and "not a key credential" in finding.summary


def test_mfa_adapter_certificate_graph_refused_is_not_determined(graph, tmp_path):
    pki, cloud, now, config = graph
    cloud.graph_forbidden = True
    paths = write_farm(pki, tmp_path / "farm", adfs=ServerSwitches(azure_mfa="ok"))
    (finding,) = judge(paths, now, **config)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == "error" and "HTTP 403 Authorization_RequestDenied" in finding.summary
    assert "Application.Read.All" in finding.summary
    # An expired certificate fails whatever Graph says.
    paths = write_farm(pki, tmp_path / "farm2", adfs=ServerSwitches(azure_mfa="expired"))
    (finding,) = judge(paths, now, **config)["adfs.mfa-adapter-certificate"]
    assert finding.status.value == "fail"


@pytest.mark.parametrize("document, command", [
    # Already logging: the fix is to enforce (never the log-only command the farm already runs).
    (dict(extranet_lockout_mode=2), "Set-AdfsProperties -ExtranetLockoutMode AdfsSmartLockoutEnforce"),
    (dict(extranet_lockout_mode="ADPasswordCounter, ADFSSmartLockoutLogOnly"),
     "Set-AdfsProperties -ExtranetLockoutMode AdfsSmartLockoutEnforce"),
    # Classic soft lockout: start with log-only, as Microsoft's page says.
    (dict(extranet_lockout_mode=1),
     "Set-AdfsProperties -EnableExtranetLockout $true -ExtranetLockoutMode AdfsSmartLockoutLogOnly"),
])
def test_smart_lockout_action_plan_command_is_the_next_step_from_the_current_mode(pki, tmp_path, now, document,
                                                                                   command):
    from adfs_readiness.report._commands import fix_script

    (finding,) = judge(write_farm(pki, tmp_path, **document), now)["adfs.smart-lockout"]
    script = fix_script(finding.remediation, finding.evidence)
    assert script is not None and script.lines[0] == command, script
    # The words above the command say the same step (never "set log-only" to a farm that logs).
    assert ("AdfsSmartLockoutLogOnly" in finding.remediation) == ("LogOnly" in command), finding.remediation
