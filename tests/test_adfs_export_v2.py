"""Reading collector v2 exports: several servers' files (repeated --adfs-export, a folder), the
shapes Windows PowerShell 5.1 and PowerShell 7 write, ConvertTo-Json depth truncation, netsh output
in any display language, the claim rule language grammar, and hostile files (findings, never
tracebacks)."""

from __future__ import annotations

import json

import pytest

from adfs_exports import FS, judge, statuses, wap_switches, write_farm
from adfs_readiness.cli import main
from adfs_readiness.facts.adfs_servers import ROLE_ADFS, ROLE_WAP
from adfs_readiness.lab.adfs_samples import ServerSwitches, o365_issuance_rules
from adfs_readiness.lab.adfs_server_samples import netsh_sslcert_text
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.probes.adfs_export import read_adfs_exports
from adfs_readiness.probes.adfs_server_export import parse_netsh_sslcert
from adfs_readiness.probes.claim_rules import parse_claim_rules


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


def test_windows_powershell_and_powershell_7_shapes_read_the_same(tmp_path, now):
    # Two PKIs with one clock issue the same certificates (deterministic serials, cached keys).
    ps51 = write_farm(LabPki(now), tmp_path / "51", wap=wap_switches(), shape="ps51", wap_shape="ps51")
    ps7 = write_farm(LabPki(now), tmp_path / "7", wap=wap_switches(), shape="ps7", wap_shape="ps7")
    raw51 = ps51[0].read_bytes()
    assert raw51.startswith(b"\xef\xbb\xbf") and b'":  ' in raw51 and b"\\u003c" in raw51 and b"\r\n" in raw51
    assert not ps7[0].read_bytes().startswith(b"\xef\xbb\xbf")
    first, second = read_adfs_exports(tuple(ps51)), read_adfs_exports(tuple(ps7))
    assert first.problems == () and second.problems == ()
    assert [s.role for s in first.servers] == [ROLE_ADFS, ROLE_WAP]
    strip = lambda e: [s.__class__(**{**s.__dict__, "source": ""}) for s in e.servers]  # noqa: E731
    assert strip(first) == strip(second)
    assert first.relying_parties == second.relying_parties


def test_a_folder_and_repeated_files_give_every_server(pki, tmp_path, now):
    write_farm(pki, tmp_path / "farm", wap=wap_switches())
    (tmp_path / "farm" / "notes.txt").write_text("not an export", encoding="utf-8")
    export = read_adfs_exports((tmp_path / "farm",))
    assert sorted(s.label for s in export.servers) == ["adfs1.corp.contoso.test", "wap1.dmz.contoso.test"]
    assert export.source.endswith("adfs1.json")  # the farm configuration comes from the AD FS server
    out = tmp_path / "r.json"
    code = main(["check", "--adfs-export", str(tmp_path / "farm" / "wap1.json"), "--adfs-export",
                 str(tmp_path / "farm" / "adfs1.json"), "--as-of", now.isoformat(), "--only", "adfs.service",
                 "--json", str(out), "-q", "--no-history"])
    report = json.loads(out.read_text())
    assert code == 0 and [f["status"] for f in report["findings"] if f["check_id"] == "adfs.service"] == ["pass", "pass"]
    assert main(["check", "--adfs-export", str(tmp_path / "nowhere"), "-q"]) == 3


def test_empty_folder_and_only_proxies(pki, tmp_path, now):
    (tmp_path / "empty").mkdir()
    export = read_adfs_exports((tmp_path / "empty",))
    assert export.problems == (f"the folder {tmp_path / 'empty'} holds no *.json export",)
    paths = write_farm(pki, tmp_path / "w", wap=wap_switches())
    found = judge(paths[1:], now)
    assert "only Web Application Proxy exports" in found["adfs.export-readable"][0].summary
    assert statuses(found, "adfs.service") == ["pass"]
    assert statuses(found, "adfs.o365-relying-party") == ["error"]


def test_depth_truncated_sections_are_findings(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    document["Server"]["OperatingSystem"] = "@{Caption=Microsoft Windows Server 2019 Datacenter; Version=10.0.17763}"
    document["Server"]["Certificates"][0]["KeyAccess"] = ["System.Security.AccessControl.FileSystemAccessRule"]
    path.write_text(json.dumps(document), encoding="utf-8")
    export = read_adfs_exports((path,))
    assert any("OperatingSystem was cut off by ConvertTo-Json's -Depth limit" in p for p in export.problems)
    assert any("KeyAccess[0] was cut off" in p for p in export.problems)
    found = judge([path], now)
    assert statuses(found, "adfs.os-support") == ["error"]
    assert statuses(found, "adfs.export-readable") == ["warn"]


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00", b"[1, 2]", b"{" * 100000, b'{"Server": 5, "Role": 7}'])
def test_hostile_files_are_findings(tmp_path, now, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    found = judge([path], now)
    assert found["adfs.export-readable"][0].status.value in ("fail", "warn")
    for check_id in ("adfs.service", "adfs.ssl-bindings", "adfs.os-support"):
        assert statuses(found, check_id) == ["error"], found[check_id][0].summary


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)
    export = read_adfs_exports((path,))
    assert "over the size cap of 67,108,864 bytes" in export.problems[0]


def test_netsh_output_in_any_language():
    english = netsh_sslcert_text([(f"{FS}:443", "ab" * 20, "AdfsTrustedDevices"), ("0.0.0.0:443", "cd" * 20, None),
                                  ("[::]:49443", "ef" * 20, None)])
    bindings = parse_netsh_sslcert(english)
    assert [(b.host, b.port, b.kind, b.certificate_hash[:2], b.ctl_store) for b in bindings] == [
        (FS, 443, "hostname", "AB", "AdfsTrustedDevices"), ("0.0.0.0", 443, "ip", "CD", None), ("::", 49443, "ip", "EF", None)]
    german = english.replace("Hostname:port", "Hostname:Port").replace("Certificate Hash", "Zertifikathash").replace(
        "Application ID", "Anwendungs-ID").replace("Ctl Store Name", "CTL-Speichername").replace(
        "SSL Certificate bindings:", "SSL-Zertifikatbindungen:")
    assert [(b.address, b.certificate_hash, b.application_id, b.ctl_store) for b in parse_netsh_sslcert(german)] == \
        [(b.address, b.certificate_hash, b.application_id, b.ctl_store) for b in bindings]
    ccs = "\r\n    Central Certificate Store    : 443\r\n    Certificate Hash             : (null)\r\n"
    (binding,) = parse_netsh_sslcert(ccs)
    assert binding.kind == "ccs" and binding.port == 443 and binding.certificate_hash is None
    assert parse_netsh_sslcert("garbage\r\n: : :\r\nx : y\r\n") == []


def test_claim_rule_grammar_reads_entra_connects_rules():
    rules = parse_claim_rules(o365_issuance_rules("consistencyguid"))
    assert rules.parse_error is None and rules.rule_count == 7
    assert rules.rule_names[0] == "Issue UPN"
    kinds = {(s.kind, s.attribute) for s in rules.sources_of("http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID")}
    assert kinds == {("attribute", "mS-DS-ConsistencyGuid"), ("attribute", "objectGUID")}
    # The nameidentifier rule copies the ImmutableID: its sources follow it.
    assert {s.attribute for s in rules.sources_of("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier")} == \
        {"mS-DS-ConsistencyGuid", "objectGUID"}


@pytest.mark.parametrize("text, issued", [
    ('=> issue(Type = "http://x/role", Value = "employee");', {"http://x/role": [("literal", None)]}),
    ('C:[TYPE == "a"] => ISSUE(CLAIM = C);', {"a": [("incoming", None)]}),
    ('c:[type == "a"] => add(type = "b", value = c.value);\nc:[type == "b"] => issue(type = "c", value = c.value + "x");',
     {"c": [("incoming", None), ("literal", None)]}),
    ('exists([issuer == "MSFT"]) => issue(type = "origin", value = "Microsoft");', {"origin": [("literal", None)]}),
    ('count([type == "g"]) > 1 => issue(type = "many", value = "yes")', {"many": [("literal", None)]}),
    ('c:[Type == "w"] => issue(store = "Custom SQL store", types = ("m"), query = "SELECT mail FROM u WHERE n = {0}", '
     'param = c.Value);', {"m": [("attribute", None)]}),
    ('c:[Type == "w", Value =~ "^(?i)x\\\\y$"] => issue(store = "Active Directory", types = ("u", "v"), '
     'query = ";mail,displayName;{0}", param = c.Value);', {"u": [("attribute", "mail")], "v": [("attribute", "displayName")]}),
    ("", {}),
])
def test_claim_rule_grammar_forms(text, issued):
    rules = parse_claim_rules(text)
    assert rules.parse_error is None, rules.parse_error
    assert {c.claim_type: [(s.kind, s.attribute) for s in c.sources] for c in rules.issued} == issued


@pytest.mark.parametrize("text, where", [
    ('c:[Type == "x" => issue(claim = c);', "line 1, column 16"),
    ('c:[Type = "x"] => issue(claim = c);', "line 1"),
    ('c:[Type == "x"] => delete(claim = c);', "line 1"),
    ('c:[Type == "x"] => issue(claim = c)\nc:[Type == "y"] => issue(claim = c);', "line 2"),
    ('"unterminated', "line 1"),
])
def test_claim_rule_grammar_refuses_what_is_not_the_language(text, where):
    rules = parse_claim_rules(text)
    assert rules.parse_error is not None and where in rules.parse_error and rules.issued == ()


def test_claim_rules_substring_tricks_do_not_fool_the_parser():
    """A rule that only mentions the ImmutableID type in a string of a condition issues nothing of it:
    a substring search would say it does."""
    text = ('c:[Type == "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"] => '
            'add(Type = "urn:tmp", Value = "objectGUID");')
    rules = parse_claim_rules(text)
    assert rules.parse_error is None and rules.issued == ()


def test_v1_exports_still_read(pki, tmp_path, now):
    paths = write_farm(pki, tmp_path, collector_version="1", adfs=ServerSwitches())
    export = read_adfs_exports(tuple(paths))
    assert export.properties is not None and export.relying_parties and export.servers[0].described is False
    assert any("no Server section" in p for p in export.problems)
    assert statuses(judge(paths, now), "adfs.o365-relying-party") == ["pass"]


def test_what_the_collector_could_not_read_is_a_finding(pki, tmp_path, now):
    (path,) = write_farm(pki, tmp_path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    document["CollectorProblems"] = ["Get-HotFix: Access is denied."]
    document["Server"]["Updates"] = None
    path.write_text(json.dumps(document), encoding="utf-8")
    found = judge([path], now)
    assert "the collector could not read Get-HotFix: Access is denied." in found["adfs.export-readable"][0].summary
    assert statuses(found, "adfs.update-age") == ["error"]
