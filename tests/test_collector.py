"""The bundled collector is tested, not just shipped: parsed with a real PowerShell grammar
(tree-sitter-powershell) it has no syntax error, and every command, .NET call and invocation in it
is on a read-only allow-list (tests/collector_lint.py). The lint is shown to fail on copies with a
changing command injected, so a passing run means something."""

from __future__ import annotations

from importlib import resources

import pytest

from adfs_readiness.cli import main
from collector_lint import commands, parse, violations

SCRIPT = resources.files("adfs_readiness.collector").joinpath("collect-adfs.ps1").read_bytes()


def test_collector_parses_without_syntax_errors():
    tree = parse(SCRIPT)
    assert not tree.root_node.has_error
    assert len(commands(tree)) > 40  # the grammar really saw the script's commands


def test_collector_is_read_only():
    assert violations(SCRIPT) == []


def test_collector_reads_what_the_checks_need():
    names = {name.lower() for name, _, _ in commands(parse(SCRIPT))}
    for cmdlet in ("get-adfsproperties", "get-adfscertificate", "get-adfsendpoint", "get-adfsrelyingpartytrust",
                   "get-adfsclaimsprovidertrust", "get-adfsfarminformation", "get-adfssslcertificate",
                   "get-adfsauthenticationprovider", "get-adfsglobalauthenticationpolicy", "get-adfssyncproperties",
                   "get-webapplicationproxyconfiguration", "get-webapplicationproxysslcertificate", "get-hotfix",
                   "get-ciminstance", "get-acl", "netsh", "convertto-json"):
        assert cmdlet in names, cmdlet
    text = SCRIPT.decode("utf-8")
    for key in ("IssuanceTransformRules", "SCHANNEL\\Protocols", "SchUseStrongCrypto", "AdfsTrustedDevices",
                "OU=Microsoft AD FS Azure MFA", "CN=ADFS ProxyTrust", "ConvertTo-Json -Depth 8"):
        assert key in text, key


INJECTIONS = [
    ("Set-AdfsProperties -AutoCertificateRollover $false", "not on the read-only allow-list"),
    ("$x = @(1) | ForEach-Object { Remove-Item -LiteralPath C:\\temp\\x }", "not on the read-only allow-list"),
    ("Add-AdfsRelyingPartyTrust -Name x -Identifier y", "not on the read-only allow-list"),
    ("Update-AdfsCertificate -CertificateType Token-Signing", "not on the read-only allow-list"),
    ("New-AdfsAzureMfaTenantCertificate -TenantId x", "not on the read-only allow-list"),
    ("New-Object System.Net.WebClient", "New-Object system.net.webclient"),
    ("[System.IO.File]::Delete('C:\\temp\\x')", "static call on [System.IO.File]"),
    ("$cert.PrivateKey.Delete()", "method delete()"),
    ("& 'Set-AdfsProperties' -LogLevel None", "'&' runs something other than $Block"),
    ("Invoke-Expression 'Set-AdfsProperties'", "not on the read-only allow-list"),
    ("$x | Out-File -FilePath C:\\Windows\\x.txt", "Out-File to a path other than"),
    ("Invoke-WebRequest -Uri https://x -Method Post", "without -Method Get"),
    ("netsh http delete sslcert hostnameport=sts.contoso.com:443", "netsh http delete sslcert"),
    ("function Set-Thing { Get-Date }\nSet-Thing", "a function of the script whose name is not read-only"),
    (". .\\other.ps1", "dot-sourcing"),
    ("Import-Module PSReadLine", "Import-Module PSReadLine"),
    ("if ($true) { Get-Date", "syntax error"),
    # Redirection writes a file as Out-File does (before: not seen by the lint at all).
    ("Get-Date > C:\\Windows\\x.txt", "redirection to"),
    ("Get-Date >> C:\\x.txt", "redirection to"),
    ("Get-Date 2>C:\\x.txt", "redirection to"),
    ("Get-Date *> C:\\x.txt", "redirection to"),
]


@pytest.mark.parametrize("injection, reason", INJECTIONS)
def test_the_lint_rejects_an_injected_change(injection, reason):
    """A copy of the collector with a changing command injected (at the end, or inside a nested
    script block) is rejected, with the reason."""
    injected = SCRIPT + b"\r\n" + injection.encode() + b"\r\n"
    found = violations(injected)
    assert any(reason in v for v in found), found


def test_the_lint_allows_discarding_and_merging_streams_and_writing_the_admins_file():
    for harmless in ("Get-Date 2>$null", "Get-Date *> $null", "Get-Date 2>&1", "Get-Date > $Path"):
        assert violations(SCRIPT + b"\r\n" + harmless.encode() + b"\r\n") == [], harmless


def test_the_lint_rejects_a_change_hidden_in_a_guarded_block():
    nested = SCRIPT.replace(b'$server.SyncRole = Get-Guarded "Get-AdfsSyncProperties" { "$((Get-AdfsSyncProperties).Role)" }',
                            b'$server.SyncRole = Get-Guarded "x" { Set-AdfsSyncProperties -Role PrimaryComputer }')
    assert nested != SCRIPT
    assert any("Set-AdfsSyncProperties" in v for v in violations(nested))


def test_cli_prints_the_collector(capsys):
    assert main(["collector"]) == 0
    assert capsys.readouterr().out.encode() == SCRIPT.decode("utf-8").encode()
