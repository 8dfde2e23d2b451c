"""Every fix in the action plan comes with the exact command an admin runs (the copy button):
dns.msoid, dns.ad-srv, directory.upn-routable and the IdFix attribute checks used to name none.
Commands built from directory and DNS values carry them only as quoted data: a value that would
break out of its quotes or split the command is never put in one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from conftest import FIXED_NOW

from adfs_readiness.api import CheckContext
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts.directory import DirectoryConnection, DirectoryFacts, DirectoryObject, ScanResult
from adfs_readiness.lab import Lab
from adfs_readiness.lab.dns_lab import DnsLab
from adfs_readiness.model import Status
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.report._commands import fix_script
from adfs_readiness.report.action_plan import action_plan, short_fix
from adfs_readiness.settings import DirectorySettings, FederationSettings, Settings
from adfs_readiness_checks import directory

REGISTRY = discover_checks(strict=True)
BASE = "OU=Staff,DC=corp,DC=contoso,DC=com"
NAMED = ("dns.msoid", "dns.ad-srv", "directory.upn-routable", "directory.upn-format", "directory.upn-duplicates",
         "directory.proxyaddresses", "directory.mail", "directory.mailnickname", "directory.samaccountname",
         "directory.displayname", "directory.givenname", "directory.targetaddress", "token-signing.rollover")


@pytest.mark.parametrize("check_id", NAMED)
def test_the_fix_text_names_a_command_and_opens_with_what_to_do(check_id):
    meta = REGISTRY.get(check_id).meta
    script = fix_script(meta.remediation)
    assert script is not None and script.changing, (check_id, meta.remediation)
    assert not short_fix(meta.remediation).lower().startswith(("ad fs with", "it is", "because")), check_id


def test_token_signing_rollover_opens_with_the_command_to_run():
    remediation = REGISTRY.get("token-signing.rollover").meta.remediation
    assert short_fix(remediation) == "Generate the next token-signing certificate now"
    assert fix_script(remediation).lines == ("Update-AdfsCertificate -CertificateType Token-Signing",)


def _facts(*objects: DirectoryObject, suffixes: tuple[str, ...] = ()) -> DirectoryFacts:
    return DirectoryFacts(True, DirectoryConnection("ldaps://dc1.corp.contoso.com", "ldaps", "simple", "ok"),
                          scan=ScanResult(BASE, objects, False, None, (), 1000), forest_upn_suffixes=suffixes,
                          forest_dns_names=("corp.contoso.com",))


def _run(check, facts, domains=("contoso.com",)):
    config = Settings(federation=FederationSettings(domains=domains), directory=DirectorySettings(base_dn=BASE))
    return check.function(CheckContext(facts={"directory": facts}, config=config, now=FIXED_NOW))


def _user(name: str, **values) -> DirectoryObject:
    fields = {"cn": name, "sam_account_name": name.lower()[:20], "display_name": name, "object_guid": bytes(16),
              **values}
    return DirectoryObject(f"CN={name},{BASE}", "user", **fields)


def test_upn_routable_moves_each_non_routable_suffix_to_the_federated_domain():
    facts = _facts(_user("Ann", user_principal_name="ann@corp.local"), _user("Bob", user_principal_name="bob@lab.lan"),
                   _user("Cy", user_principal_name="cy@contoso.com"))
    outcome = _run(directory.upn_routable, facts)
    assert outcome.status is Status.FAIL
    assert outcome.evidence["commands"] == [
        "Get-ADForest | Set-ADForest -UPNSuffixes @{Add='contoso.com'}",
        f"Get-ADUser -SearchBase '{BASE}' -Filter 'UserPrincipalName -like \"*@corp.local\"' | ForEach-Object "
        "{ Set-ADUser -Identity $_ -UserPrincipalName ($_.UserPrincipalName -replace '@corp\\.local$', "
        "'@contoso.com') }",
        f"Get-ADUser -SearchBase '{BASE}' -Filter 'UserPrincipalName -like \"*@lab.lan\"' | ForEach-Object "
        "{ Set-ADUser -Identity $_ -UserPrincipalName ($_.UserPrincipalName -replace '@lab\\.lan$', "
        "'@contoso.com') }"]
    # Already a forest UPN suffix: nothing to add; no federated domain: a placeholder to fill in.
    listed = _run(directory.upn_routable, replace(facts, forest_upn_suffixes=("contoso.com",)))
    assert not listed.evidence["commands"][0].startswith("Get-ADForest")
    unknown = _run(directory.upn_routable, facts, domains=())
    assert all("'@<verified domain>'" in c for c in unknown.evidence["commands"])


def test_attribute_checks_give_one_set_adobject_per_object():
    facts = _facts(
        _user("Dee", user_principal_name="dee@contoso.com", mail="dee smith@contoso.com", display_name=" Dee "),
        _user("Eve", user_principal_name="eve@contoso.com", proxy_addresses=("smtp:eve@contoso.com",
                                                                            "smtp:e@contoso.com")),
        _user("Fay", user_principal_name="fay@contoso.com", proxy_addresses=("SMTP:fay@contoso.com",
                                                                            "SMTP:f@contoso.com")))
    mail = _run(directory.mail, facts)
    assert mail.evidence["commands"] == [f"Set-ADObject -Identity 'CN=Dee,{BASE}' -Replace @{{mail='<corrected value>'}}"]
    shown = _run(directory.display_name, facts)
    assert shown.evidence["commands"] == [f"Set-ADObject -Identity 'CN=Dee,{BASE}' -Replace @{{displayName='Dee'}}"]
    proxies = _run(directory.proxy_addresses, facts)
    # The primary an object lacks is made from its first address; a second primary becomes secondary.
    assert proxies.evidence["commands"] == [
        f"Set-ADObject -Identity 'CN=Eve,{BASE}' -Remove @{{proxyAddresses='smtp:eve@contoso.com'}} "
        "-Add @{proxyAddresses='SMTP:eve@contoso.com'}",
        f"Set-ADObject -Identity 'CN=Fay,{BASE}' -Remove @{{proxyAddresses='SMTP:fay@contoso.com'}} "
        "-Add @{proxyAddresses='smtp:fay@contoso.com'}"]


def test_hostile_directory_values_stay_data_in_the_commands():
    """A DN with quotes (PowerShell also takes typographic single quotes as quotes) is doubled into a
    single-quoted literal; a value with a line break is left out; a non-routable suffix that is not a
    plain DNS name gets no command."""
    quoted = DirectoryObject(f"CN=O'Brien\u2019; Remove-ADUser x,{BASE}", "user", cn="O'Brien", display_name=" x ",
                             object_guid=bytes(16))
    broken = DirectoryObject(f"CN=Line\nBreak,{BASE}", "user", cn="Line", display_name=" y ", object_guid=bytes(16))
    shown = _run(directory.display_name, _facts(quoted, broken))
    assert shown.evidence["commands"] == [
        f"Set-ADObject -Identity 'CN=O''Brien\u2019\u2019; Remove-ADUser x,{BASE}' -Replace @{{displayName='x'}}"]
    odd = _run(directory.upn_routable, _facts(_user("Gus", user_principal_name="gus@x';calc.local")))
    assert odd.status is Status.FAIL  # no suffix command: only the per-object one, the value not in it
    assert odd.evidence["commands"] == [
        f"Set-ADObject -Identity 'CN=Gus,{BASE}' -Replace @{{userPrincipalName='<corrected value>'}}"]


def test_dns_fixes_carry_the_exact_commands(tmp_path):
    """The lab's DNS views: msoid.contoso.test is a CNAME (delete it) and _kerberos._tcp.corp.contoso.test
    names a domain controller that no longer resolves (deregister it)."""
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path) as lab, DnsLab() as dns_lab:
        config = lab.config(network={"timeout_seconds": 2.0, "deadline_seconds": 20.0}).with_changes(
            **dns_lab.config_fragment())
        result = run_checks(REGISTRY, builtin_probes(), config, now, only=["dns.msoid", "dns.ad-srv"])
    plan = {a.finding.check_id: a for a in action_plan(result)}
    assert plan["dns.msoid"].script.lines == (
        "Remove-DnsServerResourceRecord -ZoneName 'contoso.test' -Name 'msoid' -RRType CName -Force",)
    srv = plan["dns.ad-srv"]
    assert srv.finding.status is Status.WARN
    (stale,) = [t["target"] for t in srv.finding.evidence["targets"]
                if t["a"]["outcome"] != "answer" and (t["aaaa"] or {}).get("outcome") != "answer"]
    assert srv.script.lines == (f"nltest /dsderegdns:{stale}",) and srv.script.changing
    # The plan's line says when to run it (before: "Have every domain controller register its SRV
    # records again" above a command that deregisters one).
    assert srv.what == (f"If {stale} is a domain controller that is gone, remove its DC locator records after "
                        "its metadata cleanup")
