"""Decoding of AD values, the attribute rules, MD4 for NTLM and password sources (no server needed)."""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import datetime, timezone

import pytest

from adfs_readiness.facts.directory import BindResult
from adfs_readiness.facts.directory import filetime_from_datetime, filetime_is_never, filetime_to_datetime
from adfs_readiness.facts.directory import DirectoryObject
from adfs_readiness.net.ldap import connect, md4_provider, nt_hash, parse_ldap_url
from adfs_readiness.probes.directory_session import resolve_password
from adfs_readiness_checks.directory_rules import is_routable_suffix, rule_report, smtp_problems, upn_problems
from adfs_readiness.probes.ldap_decode import (
    guid_from_bytes,
    immutable_id,
    interval_seconds,
    parse_generalized_time,
    sid_from_bytes,
)
from adfs_readiness.probes.ldap_search import eq_filter
from adfs_readiness.settings import DirectorySettings, settings_from_mapping


def test_object_guid_is_little_endian_and_immutable_id_is_base64_of_the_raw_bytes():
    g = uuid.UUID("11111111-2222-3333-4444-555555555555")
    raw = g.bytes_le
    assert raw[:4] == bytes.fromhex("11111111")[::-1]
    assert guid_from_bytes(raw) == "11111111-2222-3333-4444-555555555555"
    assert immutable_id(raw) == base64.b64encode(raw).decode() == "ERERESIiMzNERFVVVVVVVQ=="


def test_sid_decoding():
    raw = bytes([1, 4, 0, 0, 0, 0, 0, 5]) + (21).to_bytes(4, "little") + (1).to_bytes(4, "little") \
        + (2).to_bytes(4, "little") + (512).to_bytes(4, "little")
    assert sid_from_bytes(raw) == "S-1-5-21-1-2-512"


def test_generalized_time_and_year_10000_do_not_raise():
    assert parse_generalized_time("20261130120000.0Z") == datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert parse_generalized_time("202611301200Z") == datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert parse_generalized_time("20261130140000+0200") == datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert parse_generalized_time("100000101000000Z") is None  # year 10000: no OverflowError
    assert parse_generalized_time("garbage") is None


def test_filetime_never_values_and_integer_arithmetic():
    moment = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    ft = filetime_from_datetime(moment)
    assert ft == (int(moment.timestamp()) + 11644473600) * 10**7 == 134405136000000000
    assert filetime_to_datetime(ft) == moment
    for never in (0, 9223372036854775807):
        assert filetime_is_never(never) and filetime_to_datetime(never) is None
    assert filetime_to_datetime(2650467743999999999 + 10) is None  # past 9999-12-31: None, no OverflowError
    assert interval_seconds(-9223372036854775808) is None  # maxPwdAge "never"
    assert interval_seconds(-36288000000000) == 42 * 86400


def test_upn_rules_allow_the_apostrophe_and_flag_real_problems():
    assert upn_problems("o'neil@contoso.com") == []
    assert [p for p, _ in upn_problems("bad(char)@contoso.com")] == ["invalid characters '()' before @"]
    assert [p for p, _ in upn_problems("trail@contoso.com ")] == ["leading or trailing white space"]
    assert [p for p, _ in upn_problems("l" * 65 + "@contoso.com")] == ["65 characters before @ (at most 64)"]
    assert [p for p, _ in upn_problems("   ")] == ["blank"]
    assert [p for p, _ in upn_problems("tab\tuser@contoso.com")] == ["white space (tab)"]
    assert [p for p, _ in upn_problems("dots..user@contoso.com")] == ["consecutive periods before @"]
    assert smtp_problems("a b@contoso.com")[0][0] == "white space (space)"
    assert [p for p, _ in smtp_problems("line\r\nfeed@contoso.com")] == ["white space (carriage return, line feed)"]


def test_rfc5322_atext_and_long_mail_domains_are_valid_mail():
    for address in ("first+tag@contoso.com", "a&b/c=d%e*f?g{h}i|j~k@contoso.com", "o'brien@contoso.com",
                    "x@" + "a" * 45 + ".contoso.com"):
        assert smtp_problems(address) == [], address
    assert [p for p, _ in upn_problems("x@" + "a" * 45 + ".contoso.com")] == ["57 characters after @ (at most 48)"]


def test_routable_suffixes_come_from_the_public_suffix_list():
    assert is_routable_suffix("contoso.com") and is_routable_suffix("x.co.uk")
    assert not any(is_routable_suffix(s) for s in ("contoso.local", "corp.lan", "ad.internal", "co.uk"))


def _obj(i, **attrs):
    return DirectoryObject(dn=f"CN=u{i},DC=x", object_class="user", cn=f"u{i}", sam_account_name=f"u{i}",
                           object_guid=bytes([i]) * 16, display_name=f"u{i}", **attrs)


def test_x500_with_parentheses_is_fine_and_duplicates_count_every_object_once_in_any_order():
    x500 = "X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=a"
    objects = [_obj(i, proxy_addresses=(addr, x500 + str(i)))
               for i, addr in enumerate(["SMTP:A@contoso.com", "SMTP:a@CONTOSO.com", "SMTP:a@contoso.com"])]
    reports = [rule_report("directory.proxyaddresses", order) for order in (objects, objects[::-1])]
    assert reports[0] == reports[1]  # the same findings whatever order the DC returned the objects in
    report = reports[0]
    assert report.objects_with_problem == 3 and len(report.problems) == 3
    assert [p.dn for p in report.problems] == ["CN=u0,DC=x", "CN=u1,DC=x", "CN=u2,DC=x"]
    assert all(p.problem.startswith("duplicate proxy address (case-insensitive), also on") for p in report.problems)


def test_md4_for_ntlm_works_without_openssl_md4():
    provider, why = md4_provider()
    assert provider in ("openssl", "pycryptodome") and why is None
    assert nt_hash("password").hex() == "8846f7eaee8fb117ad06bdd830b7586c"  # MS-NLMP NTOWFv1 of "password"


def test_password_sources_never_echo_and_say_what_is_missing():
    cfg = DirectorySettings(bind_user="CORP\\svc", password_env="PW")
    assert resolve_password(cfg, environ={"PW": "s3cret"}) == ("s3cret", None)
    assert resolve_password(cfg, environ={}) == (None, "the environment variable PW is not set (directory.password_env)")
    prompt = DirectorySettings(bind_user="CORP\\svc", password_source="prompt")
    assert resolve_password(prompt, prompt=lambda text: "typed") == ("typed", None)
    ring = DirectorySettings(bind_user="svc", password_source="keyring", keyring_service="svc-name")
    assert resolve_password(ring, keyring_get=lambda s, u: f"{s}/{u}") == ("svc-name/svc", None)
    assert resolve_password(ring, keyring_get=lambda s, u: None)[0] is None


def test_filter_values_are_escaped_and_urls_parsed():
    assert eq_filter("sAMAccountName", "a*)(x=1") == r"(sAMAccountName=a\2a\29\28x=1)"
    t = parse_ldap_url("ldaps://dc1.contoso.test")
    assert (t.host, t.port, t.use_ssl) == ("dc1.contoso.test", 636, True)
    assert parse_ldap_url("ldap://10.0.0.4").port == 389


def test_configured_federated_domains_count_as_routable():
    """Regression: the demo's federated (verified) domain contoso.test was reported non-routable
    because .test is not a public suffix; a configured federated domain and its subdomains are
    verified in Microsoft 365 by definition. Other .test / .local suffixes stay non-routable."""
    objects = [_obj(i, user_principal_name=upn)
               for i, upn in enumerate(["a@contoso.test", "b@eu.contoso.test", "c@fabrikam.test", "d@corp.local"])]
    report = rule_report("directory.upn-routable", objects, ("contoso.test",))
    assert [p.dn for p in report.problems] == ["CN=u2,DC=x", "CN=u3,DC=x"]


def test_without_a_gssapi_package_the_method_is_unavailable_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gssapi", None)  # as if neither were installed
    monkeypatch.setitem(sys.modules, "winkerberos", None)
    cfg = settings_from_mapping({"directory": {"server": "ldap://dc1.contoso.test", "auth": "kerberos"}})
    conn, info = connect(parse_ldap_url("ldap://dc1.contoso.test"), cfg.directory, None, timeout=1)
    assert conn is None and info.result == BindResult.METHOD_UNAVAILABLE and info.auth == "kerberos"
    assert "pip install 'adfs-readiness[kerberos]'" in info.reason and "libkrb5-dev" in info.reason


@pytest.mark.parametrize("dn, inside", [
    ("CN=a,CN=Users,DC=contoso,DC=test", True),
    ("cn=A,cn=users,dc=CONTOSO,dc=test", True),
    ("CN=S-1-5-21-1-2-3-1104,CN=ForeignSecurityPrincipals,DC=contoso,DC=test", True),
    ("CN=Doe\\, John,OU=Sales,DC=contoso,DC=test", True),
    ("CN=a=b,CN=Users,DC=contoso,DC=test", True),  # "=" in a value needs no escape (RFC 4514)
    ("CN=a,CN=Users,DC=emea,DC=contoso,DC=test", False),  # a child domain ends with the parent's RDNs
    ("CN=a,CN=Users,DC=fabrikam,DC=test", False),
    ("DC=contoso,DC=test", False),
    ("garbage", False),
])
def test_a_member_dn_is_in_the_domain_partition_only_without_a_dc_rdn_before_it(dn, inside):
    from adfs_readiness.probes.directory_accounts import in_partition as _in_partition

    assert _in_partition(dn, "DC=contoso,DC=test") is inside


def _descriptor(sddl: str) -> bytes:
    from winacl.dtyp.security_descriptor import SECURITY_DESCRIPTOR

    return SECURITY_DESCRIPTOR.from_sddl(sddl, domain_sid="S-1-5-21-1-2-3").to_bytes()


def test_a_security_descriptor_decodes_to_its_owner_and_access_entries():
    from adfs_readiness.probes.ldap_acl import decode_security_descriptor

    raw = _descriptor("O:DAG:DAD:PAI(A;;0x20094;;;AU)(OA;CI;0x10;8d3bca50-1d7e-11d0-a081-00aa006c33ed;;"
                      "S-1-5-21-1-2-3-1111)(D;ID;0x10;;;S-1-1-0)(A;IO;0x10;;;S-1-3-0)")
    sd = decode_security_descriptor("CN=x", raw)
    assert sd.error is None and sd.owner == "S-1-5-21-1-2-3-512" and sd.protected and sd.dacl_present
    assert [(e.allow, e.trustee, e.mask, e.object_type, e.inherited, e.inherit_only, e.index) for e in sd.entries] == [
        (True, "S-1-5-11", 0x20094, None, False, False, 0),
        (True, "S-1-5-21-1-2-3-1111", 0x10, "8d3bca50-1d7e-11d0-a081-00aa006c33ed", False, False, 1),
        (False, "S-1-1-0", 0x10, None, True, False, 2),
        (True, "S-1-3-0", 0x10, None, False, True, 3)]


@pytest.mark.parametrize("cut", [1, 3, 8, 30])
def test_a_truncated_security_descriptor_is_malformed_data_never_made_up_entries(cut):
    """winacl reads zeros past the end of a cut value; the layout check refuses it first."""
    from adfs_readiness.probes.ldap_acl import decode_security_descriptor

    raw = _descriptor("O:DAG:DAD:(A;;0x20094;;;AU)(A;;0xf01ff;;;DA)")
    sd = decode_security_descriptor("CN=x", raw[:-cut])
    assert sd.error.startswith("malformed security descriptor") and sd.entries == ()
    assert decode_security_descriptor("CN=x", b"\x01\x00\x04\x80").error == (
        "malformed security descriptor (4 bytes): 4 bytes (a security descriptor header has 20)")


def test_a_null_dacl_grants_everyone_and_a_missing_dacl_is_not_judged():
    import struct

    from adfs_readiness.probes.ldap_acl import decode_security_descriptor
    from adfs_readiness_checks.directory_dkm import readers

    null_dacl = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 0)  # SE_DACL_PRESENT, no DACL offset
    sd = decode_security_descriptor("CN=x", null_dacl)
    assert sd.error is None and sd.dacl_present is False
    assert readers(sd) == [{"sid": "S-1-1-0", "right": "full control (NULL DACL)", "ace": "no DACL at all"}]
    no_dacl = struct.pack("<BBHIIII", 1, 0, 0x8000, 0, 0, 0, 0)
    assert "without its DACL" in decode_security_descriptor("CN=x", no_dacl).error


def test_the_html_report_shows_the_first_objects_of_a_large_scan_and_says_how_many_more():
    """The directory fact keeps every object read; the HTML facts section shows the first rows of a
    list and says how many more the JSON report has (100,000 users would otherwise make a 200 MB page)."""
    import dataclasses

    from adfs_readiness.facts import to_jsonable
    from adfs_readiness.facts.directory import DirectoryConnection, DirectoryFacts, ScanResult
    from adfs_readiness.report.html import render_html
    from report_samples import sample_result

    objects = tuple(_obj(i) for i in range(250))
    facts = DirectoryFacts(True, DirectoryConnection("ldap://x", "plain", "simple", "ok"),
                           scan=ScanResult("DC=x", objects, False, None, (), 1000))
    page = render_html(dataclasses.replace(sample_result(), facts={"directory": to_jsonable(facts)}))
    from adfs_readiness.report._html_evidence import FACT_ROWS

    assert f"… and {250 - FACT_ROWS} more (the JSON report has them all)" in page
    assert f"CN=u{FACT_ROWS - 1},DC=x" in page and f"CN=u{FACT_ROWS},DC=x" not in page
    # What the CLI writes: the facts already cut for the reports to limits.max_report_rows (100).
    # The page counts against the whole scan and says what the JSON report keeps (it used to say
    # "91 more (the JSON report has them all)": the cut list's length, and untrue).
    from adfs_readiness.engine.bounds import bound_for_report
    from adfs_readiness.report.json_report import render_json

    bounded = bound_for_report(dataclasses.replace(sample_result(), facts={"directory": to_jsonable(facts)}), 100)
    page = render_html(bounded)
    assert (f"… and {250 - FACT_ROWS} more (250 in all; the JSON report lists the first 100, an evidence snapshot "
            "from <code>adfs-readiness collect</code> every one)") in page
    kept = json.loads(render_json(bounded))["facts"]["directory"]["scan"]["objects"]
    assert len(kept) == 101 and kept[-1] == "… 150 more not shown (250 in all)"


class _Session:
    """A stand-in DirectorySession for the probe's section logic (no LDAP involved): the RootDSE,
    a domain object whose objectSid is ``domain_sid`` bytes, and empty answers elsewhere."""

    size_limit = 0
    effective_page_size = 1000
    max_page_size = None

    def __init__(self, domain_sid: bytes) -> None:
        self.domain_sid = domain_sid

    def read(self, dn, attributes, controls=None):
        if dn == "":
            return {"defaultNamingContext": [b"DC=contoso,DC=test"], "configurationNamingContext":
                    [b"CN=Configuration,DC=contoso,DC=test"], "rootDomainNamingContext": [b"DC=contoso,DC=test"]}
        if dn == "DC=contoso,DC=test":
            return {"objectSid": [self.domain_sid], "maxPwdAge": [b"-9223372036854775808"]}
        return {}

    def search(self, base, ldap_filter, attributes, scope=None):
        return []

    def stream(self, base, ldap_filter, attributes, **kwargs):
        return iter(())

    def security_descriptor(self, dn):
        return False, None

    def global_catalog(self):
        return None

    def progress(self, count):
        pass


def test_a_malformed_domain_sid_is_reported_as_malformed_data_never_as_missing_rights():
    from datetime import datetime, timezone

    from adfs_readiness.api import CannotDetermine, CheckContext
    from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryConnection
    from adfs_readiness.probes.directory import _read_all
    from adfs_readiness_checks.directory_accounts import privileged_federated

    cfg = settings_from_mapping({"directory": {"server": "ldap://dc1"}, "federation": {"domains": ["contoso.com"]}})
    clock = lambda: datetime(2026, 11, 30, tzinfo=timezone.utc)  # noqa: E731
    connection = DirectoryConnection("ldap://dc1", "plain", "simple", "ok")
    facts = _read_all(_Session(b"\x01\x05\x00\x00\x00"), connection, cfg, clock, None)
    assert facts.domain_sid is None
    assert facts.domain_sid_problem == ("the domain's objectSid is malformed (5 bytes): a SID has at least 8 bytes")
    ctx = CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=clock())
    with pytest.raises(CannotDetermine) as err:
        privileged_federated.function(ctx)
    assert "malformed" in err.value.reason and "denied" not in err.value.reason
    well_formed = _read_all(_Session(sid_bytes := bytes.fromhex("010400000000000515000000010000000200000003000000")),
                            connection, cfg, clock, None)
    assert well_formed.domain_sid == "S-1-5-21-1-2-3" and sid_bytes and "privileged" not in well_formed.section_errors
