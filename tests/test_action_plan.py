"""The action plan (Fix first, --action-plan CSV): order by consequence, grouping, due dates,
commands read from the fix, CSV shape and cell guarding; and the grade's explanation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from conftest import FIXED_NOW
from report_samples import finding, sample_findings, sample_result

from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.grading import grade
from adfs_readiness.model import AcceptedRisk, Area, Severity, Status
from adfs_readiness.report._commands import FILLED_PLACEHOLDERS, commands_of, empty_arguments, fix_script
from adfs_readiness.report.action_plan import ACTION_PLAN_COLUMNS, action_plan, render_action_plan_csv, short_fix


def run(*findings):
    return sample_result(findings=findings, grade=grade(findings))


def ids(plan):
    return [a.finding.check_id for a in plan]


def test_blockers_first_then_what_fails_now_for_the_most_then_dated_warnings_then_the_rest():
    plan = action_plan(run(
        finding("directory.upn-routable", Status.FAIL, "1 user.", area=Area.DIRECTORY, severity=Severity.HIGH,
                evidence={"objects_with_problem": 1, "all_users_affected": False}),
        finding("directory.proxyaddresses", Status.WARN, "6 objects.", area=Area.DIRECTORY,
                evidence={"objects_with_problem": 6}),
        finding("tls.certificate-expiry", Status.WARN, "Expires in 40 days.", area=Area.TLS,
                evidence={"certificate": {"days_left": 40}, "fail_days": 14}),
        finding("directory.spn", Status.FAIL, "Duplicate SPN: integrated sign-in fails for everyone.",
                area=Area.DIRECTORY, severity=Severity.HIGH),
        finding("metadata.reachable", Status.ERROR, "Could not determine: timeout.", blocker_check=True,
                severity=Severity.CRITICAL),
        finding("token-signing.expiry", Status.FAIL, "Expired.", blocker=True, blocker_check=True,
                severity=Severity.CRITICAL),
        finding("dns.msoid", Status.FAIL, "msoid CNAME.", area=Area.DNS, severity=Severity.MEDIUM),
        finding("directory.mail", Status.WARN, "2 objects.", area=Area.DIRECTORY, evidence={"objects_with_problem": 2}),
    ))
    assert ids(plan) == ["token-signing.expiry", "metadata.reachable",  # blocker, then undetermined blocker
                         "directory.spn", "dns.msoid",  # fail now, service-wide: by severity
                         "directory.upn-routable",  # fail now, one user
                         "tls.certificate-expiry",  # fails in 26 days
                         "directory.proxyaddresses", "directory.mail"]  # no date: by reach
    assert [a.priority for a in plan] == list(range(1, 9))
    assert [a.tier for a in plan[:3]] == ["blocker", "undetermined blocker", "fix"]
    expiry = plan[5]
    assert expiry.days_left == 26 and expiry.due == FIXED_NOW.date() + timedelta(days=26)
    assert expiry.due_text == f"by {expiry.due.isoformat()} (in 26 days)"
    assert (plan[0].due, plan[0].due_text) == (FIXED_NOW.date(), "now")
    assert (plan[6].due, plan[6].due_text, plan[6].affected_text) == (None, "no deadline", "6 objects")
    assert plan[2].affected_text == "service-wide" and plan[4].affected_text == "1 object"


def test_passes_infos_skips_and_accepted_risks_ask_for_no_work():
    accepted = AcceptedRisk("Known.", "ciso", FIXED_NOW.date() + timedelta(days=9))
    plan = action_plan(run(
        finding("metadata.well-formed", Status.PASS, "ok"),
        finding("endpoints.idp-initiated-signon", Status.INFO, "disabled"),
        finding("tls.san-certauth", Status.SKIP, "not in scope", area=Area.TLS),
        finding("metadata.signature", Status.WARN, "SHA-1", suppression=accepted),
    ))
    assert plan == ()


def test_findings_of_one_check_and_fix_are_one_action_with_their_targets():
    nodes = [finding("tls.protocols", Status.FAIL, f"{n} offers TLS 1.0.", area=Area.TLS, target=n)
             for n in ("node1:443", "node2:443", "node1:443")]
    other_fix = finding("tls.protocols", Status.FAIL, "proxy offers SSL 3.", area=Area.TLS, target="proxy:443",
                        remediation="Disable SSL 3.0 on the proxy.")
    plan = action_plan(run(*nodes, other_fix))
    assert [(a.targets, len(a.findings), a.indexes) for a in plan] == [
        (("node1:443", "node2:443"), 3, (0, 1, 2)), (("proxy:443",), 1, (3,))]


def test_the_command_comes_from_the_evidence_when_the_check_gives_it_else_from_the_fix():
    spn = finding("directory.spn", Status.FAIL, "dup", area=Area.DIRECTORY,
                  remediation="Run, as a domain admin: setspn -D HOST/sts a; then setspn -S HOST/sts gmsa$.",
                  evidence={"commands": ["setspn -D HOST/sts.contoso.com svc-old", "setspn -S HOST/sts.contoso.com gmsa$"]})
    endpoint = finding("endpoints.mex", Status.WARN, "MEX not published.", area=Area.ENDPOINTS,
                       remediation="Enable it and publish it through the proxy: Enable-AdfsEndpoint -TargetAddressPath "
                                   "/adfs/services/trust/mex; Set-AdfsEndpoint -TargetAddressPath "
                                   "/adfs/services/trust/mex -Proxy $true.")
    prose = finding("dns.msoid", Status.FAIL, "msoid", area=Area.DNS, remediation="Delete the msoid CNAME record.")
    by_id = {a.finding.check_id: a for a in action_plan(run(spn, endpoint, prose))}
    assert by_id["directory.spn"].script.lines == ("setspn -D HOST/sts.contoso.com svc-old",
                                                   "setspn -S HOST/sts.contoso.com gmsa$")
    assert by_id["endpoints.mex"].script.lines == (
        "Enable-AdfsEndpoint -TargetAddressPath /adfs/services/trust/mex",
        "Set-AdfsEndpoint -TargetAddressPath /adfs/services/trust/mex -Proxy $true")
    assert by_id["endpoints.mex"].what == "Enable it and publish it through the proxy"
    assert by_id["dns.msoid"].script is None and by_id["dns.msoid"].what == "Delete the msoid CNAME record"


@pytest.mark.parametrize(("remediation", "expected"), [
    ("Set-AdfsProperties -AutoCertificateRollover $true, or (with certificates from your own CA) plan ...",
     ["Set-AdfsProperties -AutoCertificateRollover $true"]),
    ("Set-AdfsProperties -EnableExtranetLockout $true -ExtranetObservationWindow (New-TimeSpan -Minutes 30); on "
     "AD FS 2016+ prefer Extranet Smart Lockout (-ExtranetLockoutMode AdfsSmartLockoutEnforce).",
     ["Set-AdfsProperties -EnableExtranetLockout $true -ExtranetObservationWindow (New-TimeSpan -Minutes 30)"]),
    ("Set-AdfsProperties -ExtendedProtectionTokenCheck Require (Allow when some clients cannot do it).",
     ["Set-AdfsProperties -ExtendedProtectionTokenCheck Require"]),
    ('then on every AD FS server: auditpol.exe /set /subcategory:"Application Generated" /failure:enable '
     "/success:enable, and make sure", ['auditpol.exe /set /subcategory:"Application Generated" /failure:enable '
                                        "/success:enable"]),
    ("Check Get-AdfsProperties | Format-List HostName, HttpsPort and Get-AdfsEndpoint -AddressPath /adfs/ls/ "
     "(Enabled and Proxy True).", ["Get-AdfsProperties | Format-List HostName, HttpsPort",
                                   "Get-AdfsEndpoint -AddressPath /adfs/ls/"]),
    ("setspn -Q HOST/<fs> lists the holders", ["setspn -Q HOST/<fs>"]),
    ("the PDC emulator (w32tm /config /manualpeerlist:... /syncfromflags:manual /reliable:yes /update), the "
     "others", ["w32tm /config /manualpeerlist:... /syncfromflags:manual /reliable:yes /update"]),
    ("set federation.expected_issuer in the adfs-readiness configuration", []),
    ("Microsoft recommends doing so at least every 30 days.", []),
])
def test_commands_are_read_out_of_the_fix_exactly(remediation, expected):
    assert [line for script in commands_of(remediation) for line in script.lines] == expected


def test_every_built_in_check_fix_gives_well_formed_commands():
    """Each command read from a built-in remediation starts at a command, ends without sentence
    punctuation and has balanced quotes, brackets and placeholders."""
    for check in discover_checks().checks:
        for script in commands_of(check.meta.remediation):
            for line in script.lines:
                assert not line.endswith((".", ",", ";", ":")), (check.id, line)
                unredirected = line.replace(" > ", " ")  # "adfs-readiness collector > collect-adfs.ps1"
                for opening, closing in ("()", "<>", "[]", "{}"):
                    assert unredirected.count(opening) == unredirected.count(closing), (check.id, line)
                assert line.count('"') % 2 == 0 and line.count("'") % 2 == 0, (check.id, line)
                # As written, but for the placeholder a parameter named without its value gets.
                written = line
                for fill in FILLED_PLACEHOLDERS:
                    if written not in check.meta.remediation:
                        written = written.replace(f" {fill}", "", 1)
                assert written in check.meta.remediation, (check.id, line)
                assert empty_arguments(line) == [], (check.id, line)


def test_a_fix_that_only_reads_is_offered_as_a_check_and_one_that_changes_as_run():
    reads = fix_script("Check Get-AdfsCertificate -CertificateType Token-Signing on every farm node.")
    changes = fix_script("Check Get-AdfsProperties first, then run Update-AdfsCertificate -CertificateType Token-Signing.")
    assert (reads.lines, reads.changing) == (("Get-AdfsCertificate -CertificateType Token-Signing",), False)
    assert (changes.lines, changes.changing) == (("Update-AdfsCertificate -CertificateType Token-Signing",), True)


@pytest.mark.parametrize(("command", "changing"), [
    # directory.upn-routable's exact command reads the users and writes their UPNs in one pipeline:
    # offered as a read-only CHECK before, it must be RUN.
    ("Get-ADUser -SearchBase 'OU=Lab,DC=contoso,DC=test' -Filter 'UserPrincipalName -like \"*@contoso.local\"' | "
     "ForEach-Object { Set-ADUser -Identity $_ -UserPrincipalName ($_.UserPrincipalName -replace "
     "'@contoso\\.local$', '@contoso.test') }", True),
    ("Get-ADUser -Filter * | Remove-ADUser", True),
    ("Invoke-Command -ComputerName (Get-ADDomainController -Filter *).HostName -ScriptBlock { nltest /dsregdns }", True),
    ("Get-ADUser -Filter * | Select-Object UserPrincipalName", False),
    ("Get-AdfsProperties | Format-List HostName, HttpsPort", False),
    ("setspn -Q HOST/sts.contoso.com", False),
])
def test_a_command_that_writes_anywhere_in_its_pipeline_is_run_not_check(command, changing):
    (script,) = commands_of("", {"commands": [command]})
    assert script.changing is changing


def test_short_fix_is_the_first_clause_never_cut_mid_word():
    assert short_fix("Give each listed object a unique UPN; Entra Connect cannot sync duplicates.") == (
        "Give each listed object a unique UPN; Entra Connect cannot sync duplicates")
    long = ("Delete the msoid CNAME record from the domain's internet zone (it is a leftover of old Office 365 setup "
            "instructions), unless the tenant is operated by 21Vianet, where it must point elsewhere.")
    assert short_fix(long) == "Delete the msoid CNAME record from the domain's internet zone…"
    assert short_fix("Roll over the key from the Entra Connect server: Import-Module AzureADSSO.psd1; "
                     "Update-AzureADSSOForest -OnPremCredentials $creds.") == "Roll over the key from the Entra Connect server"


def test_csv_one_row_per_action_in_order_with_the_command_and_due_date():
    text = render_action_plan_csv(sample_result(findings=sample_findings(), grade=grade(sample_findings())))
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == ACTION_PLAN_COLUMNS
    assert [(r["priority"], r["check_id"], r["status"], r["blocks_sso"]) for r in rows] == [
        ("1", "token-signing.expiry", "fail", "yes"), ("2", "metadata.reachable", "error", "no"),
        ("3", "metadata.signature", "warn", "no")]
    assert rows[0]["command"] == "Update-AdfsCertificate -CertificateType Token-Signing -Urgent"
    assert rows[0]["due_date"] == FIXED_NOW.date().isoformat() and rows[2]["due_date"] == ""
    assert rows[0]["what_to_do"].startswith("Renew the token-signing certificate now")
    assert rows[1]["what_to_do"].startswith("Not determined: Could not determine: timeout")
    assert rows[1]["target"] == "203.0.113.10:443"


def test_csv_cells_that_a_spreadsheet_would_run_are_guarded_and_scripts_keep_their_lines():
    evil = finding("directory.displayname", Status.WARN, "=HYPERLINK(\"http://evil\")", area=Area.DIRECTORY,
                   target="@SUM(A1)", remediation="-2+3 then fix",
                   evidence={"commands": ["Set-ADUser -Identity x -DisplayName y", "Get-ADUser x"]})
    rows = list(csv.DictReader(io.StringIO(render_action_plan_csv(run(evil)))))
    assert rows[0]["summary"].startswith("'=") and rows[0]["target"] == "'@SUM(A1)"
    assert rows[0]["what_to_do"] == "'-2+3 then fix"
    assert rows[0]["command"] == "Set-ADUser -Identity x -DisplayName y\nGet-ADUser x"


def test_the_grade_explains_the_points_each_finding_cost_and_the_caps():
    findings = (finding("metadata.a", Status.PASS, "ok", severity=Severity.CRITICAL),
                finding("metadata.b", Status.WARN, "w", severity=Severity.MEDIUM),
                finding("tls.c", Status.FAIL, "f1", severity=Severity.HIGH, area=Area.TLS, target="n1"),
                finding("tls.c", Status.PASS, "p", severity=Severity.HIGH, area=Area.TLS, target="n2"),
                finding("tls.d", Status.SKIP, "s", severity=Severity.HIGH, area=Area.TLS))
    g = grade(findings)
    e = g.explanation
    total = 10 + 3 + 6
    assert [(p.check_id, p.target, round(p.points, 4), p.shared_by) for p in e.points_lost] == [
        ("tls.c", "n1", round(100 * 3 / total, 4), 2), ("metadata.b", None, round(100 * 1.5 / total, 4), 1)]
    assert round(100 - sum(p.points for p in e.points_lost)) == g.score == 76
    assert e.score_letter == "C"
    assert [(c.letter, c.check_ids, c.applied) for c in e.caps] == [("C", ("tls.c",), False)]
    blocked = grade(findings + (finding("token-signing.expiry", Status.FAIL, "x", blocker=True, blocker_check=True,
                                        severity=Severity.LOW),))
    assert [(c.letter, c.applied) for c in blocked.explanation.caps][0] == ("F", True)
