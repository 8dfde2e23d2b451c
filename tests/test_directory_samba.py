"""The directory probe and every directory.* check against a real Samba AD DC, over the wire.

The DCs (tests/conftest.py: samba_dc, samba_legacy_dc) run in private network namespaces; every
LDAP/DNS call goes through SambaDcInfo.run_in_network. Statuses are varied through the DC's data
(OUs as search bases, two domains), the configuration and the injected clocks.
"""

from __future__ import annotations

import csv
import dataclasses
import socket
from datetime import datetime, timedelta, timezone

import pytest
from ldap3.core.exceptions import LDAPConnectionIsReadOnlyError

from adfs_readiness.api import CannotDetermine, CheckContext
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.facts.directory import DIRECTORY_FACT, BindResult
from adfs_readiness.model import Status
from adfs_readiness.probes.directory import gather_directory
from adfs_readiness.net.ldap import connect, parse_ldap_url
from adfs_readiness.probes.ldap_search import SearchStatus, paged_search, ranged_values
from adfs_readiness.settings import settings_from_mapping

from conftest import FIXED_NOW
from factories import internal_dns

CHECKS = {c.id: c for c in discover_checks().checks if c.id.startswith("directory.")}
B = "DC=contoso,DC=test"


#: How a check says the DC refused the bind (the summary words, not the BindResult code).
REFUSED = "no directory connection (the domain controller refused the credentials)"

def make_config(dc, base_dn=None, server="ldaps://dc1.contoso.test", **directory):
    fed = directory.pop("federation", {"service_name": "sts2.contoso.test", "domains": ["contoso.com"]})
    d = {"server": server, "bind_user": dc.admin_upn, "ca_bundle": dc.ca_pem, **directory}
    if base_dn:
        d["base_dn"] = base_dn
    d = {k: v for k, v in d.items() if v is not None}
    return settings_from_mapping({"dns": {"internal_resolvers": [f"{dc.address}:{dc.dns_port}"]},
                                "directory": d, "federation": fed})


def gather(dc, cfg, password="default", **kw):
    pw = dc.admin_password if password == "default" else password
    return dc.run_in_network(lambda: gather_directory(cfg, password=pw, dns=internal_dns(cfg), timeout=5, **kw))


def judge(check_id, facts, cfg, now=FIXED_NOW):
    """Run one check as the engine does: (status, outcome or reason)."""
    ctx = CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=now)
    try:
        outcome = CHECKS[check_id].function(ctx)
    except CannotDetermine as exc:
        return Status.ERROR, exc.reason
    return outcome.status, outcome


@pytest.fixture(scope="module")
def lab(samba_dc):
    cfg = make_config(samba_dc, f"OU=Lab,{B}", service_account="svc-adfs",
                      federation={"service_name": "sts.contoso.test", "domains": ["contoso.com"]})
    return cfg, gather(samba_dc, cfg)


@pytest.fixture(scope="module")
def clean(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="gmsa-adfs")
    return cfg, gather(samba_dc, cfg)


@pytest.fixture(scope="module")
def root(samba_dc, tmp_path_factory):
    csv_dir = tmp_path_factory.mktemp("csv")
    cfg = make_config(samba_dc, None, service_account="gmsa-adfs", csv_dir=str(csv_dir))
    return cfg, gather(samba_dc, cfg)


# --- connection ---------------------------------------------------------------------------------

def test_ldaps_simple_bind_passes_and_records_the_dc_certificate(clean):
    cfg, facts = clean
    status, o = judge("directory.connect", facts, cfg)
    assert status is Status.PASS and o.evidence["transport"] == "ldaps"
    assert facts.connection.tls_certificate.subject_cn == "DC1.contoso.test"


def test_starttls_simple_bind_passes(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", server="ldap://dc1.contoso.test", start_tls=True)
    facts = gather(samba_dc, cfg)
    status, o = judge("directory.connect", facts, cfg)
    assert status is Status.PASS and facts.connection.transport == "starttls"
    assert facts.connection.tls_certificate is not None


def test_plain_simple_bind_warns_password_in_clear(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", server="ldap://dc1.contoso.test")
    facts = gather(samba_dc, cfg)
    status, o = judge("directory.connect", facts, cfg)
    assert status is Status.WARN and "in clear" in o.summary
    assert facts.scan.objects_read == 6  # the read itself worked


def test_wrong_password_is_an_auth_failure_not_unreachable(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}")
    facts = gather(samba_dc, cfg, password="wrong")
    assert facts.connection.result == BindResult.AUTH_FAILED
    status, reason = judge("directory.connect", facts, cfg)  # this tool's credentials: not a finding about SSO
    assert status is Status.ERROR and "refused the credentials" in reason and "invalidCredentials" in reason
    for check_id in CHECKS.keys() - {"directory.connect"}:  # nothing is judged from a directory never read
        status, reason = judge(check_id, facts, cfg)
        assert status is Status.ERROR and REFUSED in reason, check_id


def test_tls_failure_and_missing_password_say_so(samba_dc):
    untrusted = make_config(samba_dc, f"OU=Clean,{B}", ca_bundle=None)  # the lab CA is not trusted
    facts = gather(samba_dc, untrusted)
    assert facts.connection.result == BindResult.TLS_FAILED and "certificate verify failed" in facts.connection.reason
    status, reason = judge("directory.connect", facts, untrusted)
    assert status is Status.ERROR and "TLS to the DC failed" in reason
    wrong_name = make_config(samba_dc, f"OU=Clean,{B}", server="ldaps://127.0.0.1")  # the certificate names DC1
    facts = gather(samba_dc, wrong_name)
    assert facts.connection.result == BindResult.TLS_FAILED
    no_pw = make_config(samba_dc, f"OU=Clean,{B}", password_env="ADFS_READINESS_TEST_UNSET")
    facts = samba_dc.run_in_network(lambda: gather_directory(no_pw, environ={}, dns=internal_dns(no_pw),
                                                             timeout=5))
    assert facts.connection.result == BindResult.NO_PASSWORD and "ADFS_READINESS_TEST_UNSET" in facts.connection.reason
    status, reason = judge("directory.connect", facts, no_pw)
    assert status is Status.ERROR and "no password was available" in reason


def test_a_scan_base_that_does_not_exist_makes_every_scan_check_error(samba_dc):
    cfg = make_config(samba_dc, f"OU=NoSuch,{B}")
    facts = gather(samba_dc, cfg)
    assert facts.scan.partial and "noSuchObject (32)" in facts.scan.partial_reason
    scan_checks = ["directory.upn-suffixes", "directory.upn-routable", "directory.upn-format",
                   "directory.upn-duplicates", "directory.proxyaddresses", "directory.mail", "directory.mailnickname",
                   "directory.samaccountname", "directory.displayname", "directory.givenname",
                   "directory.targetaddress", "directory.source-anchor"]
    for check_id in scan_checks:
        status, reason = judge(check_id, facts, cfg)
        assert status is Status.ERROR and "cut short" in reason and "noSuchObject" in reason, check_id
    # The forest-level sections do not depend on the scan base.
    assert judge("directory.seamless-sso-account", facts, cfg)[0] is Status.WARN
    assert judge("directory.functional-level", facts, cfg)[0] is Status.PASS


def test_ntlm_against_samba_says_the_method_cannot_work_and_why(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", server="ldap://dc1.contoso.test", auth="ntlm",
                      bind_user="CONTOSO\\Administrator")
    facts = gather(samba_dc, cfg)
    assert facts.connection.result == BindResult.METHOD_UNAVAILABLE
    assert "Sicily" in facts.connection.reason
    status, reason = judge("directory.connect", facts, cfg)
    assert status is Status.ERROR and "ntlm bind method cannot work" in reason


def test_unreachable_server_and_not_configured(samba_dc):
    cfg = make_config(samba_dc, None, server="ldap://127.0.0.1:1")
    facts = gather(samba_dc, cfg)
    assert facts.connection.result == BindResult.UNREACHABLE
    status, reason = judge("directory.connect", facts, cfg)  # unreachable from here proves nothing about SSO
    assert status is Status.ERROR and reason.startswith("Could not bind to Active Directory from this machine: the DC "
                                                        "could not be reached")
    empty = settings_from_mapping({})
    none = gather_directory(empty)
    for check_id in CHECKS:
        assert judge(check_id, none, empty)[0] is Status.SKIP, check_id


def test_dc_found_from_srv_records_when_no_server_is_given(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", server=None, bind_user="Administrator@contoso.test")
    facts = gather(samba_dc, cfg)
    assert facts.connection.discovered_from == "_ldap._tcp.dc._msdcs.contoso.test"
    assert facts.connection.server == "ldaps://dc1.contoso.test:636" and facts.connection.bound


def test_the_connection_is_read_only(samba_dc):
    cfg = make_config(samba_dc)

    def attempt_write():
        conn, info = connect(parse_ldap_url("ldaps://dc1.contoso.test"), cfg.directory, samba_dc.admin_password,
                             timeout=5, ca_file=samba_dc.ca_pem, connect_host=samba_dc.address)
        assert info.bound
        try:
            with pytest.raises(LDAPConnectionIsReadOnlyError):
                conn.modify(f"CN=clean1,OU=Clean,{B}", {"displayName": [("MODIFY_REPLACE", ["changed"])]})
            with pytest.raises(LDAPConnectionIsReadOnlyError):
                conn.add(f"CN=new,OU=Clean,{B}", "user")
            with pytest.raises(LDAPConnectionIsReadOnlyError):
                conn.delete(f"CN=clean1,OU=Clean,{B}")
            with pytest.raises(LDAPConnectionIsReadOnlyError):
                conn.modify_dn(f"CN=clean1,OU=Clean,{B}", "CN=renamed")
            with pytest.raises(LDAPConnectionIsReadOnlyError):
                conn.extend.standard.modify_password(f"CN=clean1,OU=Clean,{B}", None, "N3w!pass")
        finally:
            conn.unbind()

    samba_dc.run_in_network(attempt_write)
    again = gather(samba_dc, make_config(samba_dc, f"OU=Clean,{B}"))
    assert again.scan.objects_read == 6


def test_paging_ranging_and_referrals(samba_dc, root):
    _, facts = root
    assert facts.scan.referrals and all("contoso.test/" in r for r in facts.scan.referrals)
    cfg = make_config(samba_dc)

    def read():
        conn, _ = connect(parse_ldap_url("ldaps://dc1.contoso.test"), cfg.directory, samba_dc.admin_password,
                          timeout=5, ca_file=samba_dc.ca_pem, connect_host=samba_dc.address)
        status = SearchStatus()
        names = [dn for dn, _ in paged_search(conn, f"OU=Lab,{B}", "(objectClass=user)", ["cn"], status=status,
                                              page_size=5)]
        members = ranged_values(conn, f"CN=Domain Admins,CN=Users,{B}", "member", step=1)
        conn.unbind()
        return status, names, members

    status, names, members = samba_dc.run_in_network(read)
    assert status.pages >= len(names) // 5 and not status.partial and len(names) > 40
    assert sorted(m.decode().split(",")[0] for m in members) == ["CN=Administrator", "CN=adminfed", "CN=clean1"]


def test_an_interrupted_search_is_partial_and_its_checks_error(samba_dc, lab):
    cfg = make_config(samba_dc)

    def interrupted():
        conn, _ = connect(parse_ldap_url("ldaps://dc1.contoso.test"), cfg.directory, samba_dc.admin_password,
                          timeout=5, ca_file=samba_dc.ca_pem, connect_host=samba_dc.address)
        status = SearchStatus()
        seen = 0
        for _ in paged_search(conn, f"OU=Lab,{B}", "(objectClass=user)", ["cn"], status=status, page_size=5):
            seen += 1
            if seen == 5:  # the connection drops after the first page
                conn.socket.shutdown(socket.SHUT_RDWR)
        return status, seen

    status, seen = samba_dc.run_in_network(interrupted)
    assert seen == 5 and status.partial and "interrupted" in status.reason
    # Samba ignores a client sizeLimit (AD honours it), so the fact below is the real scan marked
    # the way an interrupted or size-limited scan marks it.
    cfg, facts = lab
    facts = dataclasses.replace(facts, scan=dataclasses.replace(facts.scan, partial=True, partial_reason=status.reason))
    for check_id in ("directory.upn-routable", "directory.upn-format", "directory.source-anchor",
                     "directory.upn-suffixes", "directory.displayname"):
        status, reason = judge(check_id, facts, cfg)
        assert status is Status.ERROR and "cut short" in reason, check_id


# --- forest and DC checks ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def single(samba_single_dc, tmp_path_factory):
    """The one-DC domain at functional level 2003, scanned from its root (CSV written)."""
    csv_dir = tmp_path_factory.mktemp("csv-single")
    cfg = make_config(samba_single_dc, None, server="ldap://127.0.0.1", csv_dir=str(csv_dir))
    return cfg, gather(samba_single_dc, cfg)


def test_functional_level_2003_and_a_single_dc_warn(single):
    cfg, facts = single
    status, o = judge("directory.functional-level", facts, cfg)
    assert status is Status.WARN and "below Windows Server 2008 R2" in o.summary
    assert (o.evidence["domain_functionality"], o.evidence["forest_functionality"]) == (2, 2)
    assert o.evidence["domain_level"] == "Windows Server 2003"
    status, o = judge("directory.domain-controllers", facts, cfg)
    assert status is Status.WARN and o.evidence["count"] == 1
    assert "only 1 domain controller" in o.summary.lower()
    assert [d["dns_host_name"].lower() for d in o.evidence["domain_controllers"]] == ["dc1.contoso.test"]


def test_functional_level(clean, samba_dc, samba_legacy_dc):
    cfg, facts = clean
    status, o = judge("directory.functional-level", facts, cfg)
    assert status is Status.PASS and o.evidence["domain_functionality"] == 4
    cfg2016 = make_config(samba_dc, f"OU=Clean,{B}", adfs_version="2016")
    status, o = judge("directory.functional-level", facts, cfg2016)
    assert status is Status.WARN and "objectVersion 69" in o.summary
    legacy_cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1")
    legacy = gather(samba_legacy_dc, legacy_cfg)
    status, o = judge("directory.functional-level", legacy, legacy_cfg)
    assert status is Status.FAIL and o.evidence["forest_level"] == "Windows 2000"


@pytest.mark.parametrize("offset, expected", [(0, Status.PASS), (-120, Status.WARN), (400, Status.FAIL)])
def test_clock_skew(samba_dc, offset, expected):
    cfg = make_config(samba_dc, f"OU=Clean,{B}")
    clock = lambda: datetime.now(timezone.utc) + timedelta(seconds=offset)  # noqa: E731
    facts = gather(samba_dc, cfg, clock=clock)
    status, o = judge("directory.clock-skew", facts, cfg)
    assert status is expected
    assert abs(o.evidence["skew_seconds"] + offset) <= 2


def test_domain_controllers(clean, samba_legacy_dc):
    cfg, facts = clean
    status, o = judge("directory.domain-controllers", facts, cfg)
    assert status is Status.PASS and o.evidence["count"] == 2
    legacy_cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1", service_account="gmsa-adfs")
    legacy = gather(samba_legacy_dc, legacy_cfg)
    status, o = judge("directory.domain-controllers", legacy, legacy_cfg)
    assert status is Status.WARN and o.summary == (
        "Group managed service accounts (gMSAs) are used but no domain controller runs Windows Server 2012 or "
        "later, so none can compute gMSA "
        "passwords: dc2.contoso.test (Windows Server 2008 R2 Standard 6.1 (7601)); not Windows: DC1.contoso.test "
        "(Samba).")
    assert o.evidence["windows_2012_or_later"] == []


# --- attribute rules --------------------------------------------------------------------------

@pytest.mark.parametrize("check_id, bad_cns", [
    ("directory.upn-format", {"longupn", "trail", "badchar", "upntab", "upndots", "upnlong", "upndomain", "upnsuffix"}),
    ("directory.upn-duplicates", {"dupa", "dupb", "xupn1"}),
    ("directory.proxyaddresses", {"pdup1", "pdup2", "pnoprim", "ptwo", "pbad", "plong", "px500a", "px500b", "pcolon",
                                  "pchar", "pformat", "pnonroute", "psip", "px500bad"}),
    ("directory.mail", {"mailbad", "maildup1", "maildup2", "mailcr", "xmail1", "maillong"}),
    ("directory.mailnickname", {"nickdot", "nickspace", "nickdup1", "nickdup2", "nicklong"}),
    ("directory.samaccountname", {"samlong", "sambad", "samdup", "samdup2", "inetorg"}),
    ("directory.displayname", {"dispspace", "dispblank", "displong", "xss", "nodisp", "Administration Desk"}),
    ("directory.givenname", {"givenlong"}),
    ("directory.targetaddress", {"tgtbad", "tgtcolon", "tgtdup1", "tgtdup2", "tgtlocal", "tgtx400", "tgtlong"}),
])
def test_attribute_rules_pass_on_clean_and_warn_with_every_bad_object(clean, lab, check_id, bad_cns):
    status, o = judge(check_id, clean[1], clean[0])
    assert status is Status.PASS, o.summary
    status, o = judge(check_id, lab[1], lab[0])
    assert status is Status.WARN
    assert {s["dn"].split(",")[0][3:] for s in o.evidence["first_objects"]} == bad_cns
    assert o.evidence["objects_with_problem"] == len(bad_cns)


def test_mailnickname_skips_without_the_exchange_schema(samba_legacy_dc):
    cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1")
    facts = gather(samba_legacy_dc, cfg)
    status, o = judge("directory.mailnickname", facts, cfg)
    assert status is Status.SKIP and "no Exchange schema" in o.summary


def test_upn_routable_and_suffix_inventory(clean, lab, samba_dc):
    assert judge("directory.upn-routable", *clean[::-1])[0] is Status.PASS
    status, o = judge("directory.upn-routable", lab[1], lab[0])
    # 4 of the 22 enabled users (18%): at least thresholds.upn_blocking_percent (10%) -> blocking.
    assert status is Status.FAIL and o.blocker is True
    assert {s["value"] for s in o.evidence["first_objects"]} == {
        "local1@contoso.local", "test1@contoso.test", "svc-adfs@contoso.test", "svc-dup@contoso.test"}
    all_cfg = make_config(samba_dc, f"OU=AllLocal,{B}")
    status, o = judge("directory.upn-routable", gather(samba_dc, all_cfg), all_cfg)
    assert status is Status.FAIL and o.blocker is True and o.evidence["all_users_affected"]
    status, o = judge("directory.upn-suffixes", lab[1], lab[0])
    rows = {r["suffix"]: r for r in o.evidence["suffixes"]}
    assert status is Status.WARN  # users who will not sign in through AD FS (see the next test)
    assert rows["contoso.com"] == {"suffix": "contoso.com", "users": 14, "routable": True, "listed_in_forest": True,
                                   "federated": True}
    assert rows["fabrikam.com"]["listed_in_forest"] is False and rows["fabrikam.com"]["routable"] is True
    assert rows["contoso.local"]["routable"] is False and rows["contoso.local"]["listed_in_forest"] is True
    status, o = judge("directory.upn-suffixes", clean[1], clean[0])
    assert status is Status.INFO and o.summary == "1 UPN suffix(es) in use: contoso.com (4)."


def test_users_without_a_upn_or_with_an_unfederated_routable_suffix_are_reported(lab, samba_dc):
    """They will not sign in through AD FS: a routable suffix that is not federated signs in at Entra
    ID (or becomes onmicrosoft.com), and Entra Connect gives a user without a UPN an onmicrosoft.com one."""
    cfg, facts = lab
    status, o = judge("directory.upn-suffixes", facts, cfg)
    assert status is Status.WARN
    unfederated = {r["suffix"] for r in o.evidence["suffixes"] if r["routable"] and not r["federated"]}
    assert "fabrikam.com" in unfederated and "contoso.local" not in unfederated
    assert (f"{sum(r['users'] for r in o.evidence['suffixes'] if r['suffix'] in unfederated)} users with a routable UPN "
            "suffix that is not a federated domain (") in o.summary and "they will not sign in through AD FS" in o.summary
    assert "users without a userPrincipalName (first: CN=aadsync" not in o.summary  # skipped objects are not users here
    without = o.evidence["first_users_without_upn"]
    assert f"CN=givenlong,OU=Lab,{B}" in without and len(without) == 20  # the first 20, sorted
    assert without == sorted(without, key=str.lower) and o.evidence["users_without_upn"] > 20
    assert f"{o.evidence['users_without_upn']} users without a userPrincipalName" in o.summary
    # Without federated domains, routable suffixes are not judged (only the missing UPNs).
    unfederated = make_config(samba_dc, f"OU=Lab,{B}", federation={"service_name": "sts.contoso.test"})
    status, o = judge("directory.upn-suffixes", facts, unfederated)
    assert status is Status.WARN and "not a federated domain" not in o.summary


def _csv_rows(facts, cfg):
    import io

    from adfs_readiness.directory_csv import directory_csv_text
    from adfs_readiness.facts import to_jsonable

    text = directory_csv_text(to_jsonable(facts), cfg.federation.domains)
    assert text.startswith("\ufeff")  # Excel reads non-ASCII names right
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_skipped_objects_are_counted_and_the_csv_has_every_row(root):
    cfg, facts = root
    skipped = judge("directory.displayname", facts, cfg)[1].evidence["skipped"]
    assert skipped["AD FS certificate-sharing container (CN=ADFS,CN=Microsoft,CN=Program Data)"] == 3
    assert skipped["well-known system account (IdFix's exclusions: HealthMailbox*, SystemMailbox*, krbtgt*, MSOL*, ...)"] == 3
    assert skipped["critical system object (isCriticalSystemObject)"] >= 10
    assert skipped["replication conflict object (CNF)"] == 1
    assert skipped["Exchange system recipient (msExchRecipientTypeDetails)"] == 1
    assert skipped["directory synchronization account (hidden, displayName MSOL*)"] == 1
    assert skipped["security group without mail"] >= 1 and skipped["distribution group without proxyAddresses"] == 1
    rows = _csv_rows(facts, cfg)
    assert {"check_id", "dn", "attribute", "value", "problem", "suggested_fix"} == set(rows[0])
    for check_id in ("directory.upn-format", "directory.proxyaddresses", "directory.displayname"):
        finding = judge(check_id, facts, cfg)[1]
        assert len([r for r in rows if r["check_id"] == check_id]) == finding.evidence["problem_rows"]
        assert f"every row is in {cfg.directory.csv_dir}/directory-problems.csv" in finding.summary
    dup = [r for r in rows if r["check_id"] == "directory.upn-duplicates"]
    assert sorted(r["dn"] for r in dup) == [f"CN=dupa,OU=Lab,{B}", f"CN=dupb,OU=Lab,{B}", f"CN=xupn1,OU=Lab,{B}"]
    assert not [r for r in rows if "o'neil" in r["value"] and r["check_id"] == "directory.upn-format"]
    x500 = [r for r in rows if r["value"].lower().startswith("x500:") and "duplicate" not in r["problem"]]
    assert [r["dn"] for r in x500] == [f"CN=px500bad,OU=Lab,{B}"]  # spaces and parentheses are fine; [ ] are not
    assert not [r for r in rows if "CNF:" in r["dn"] or "MSOL_" in r["dn"] or "CN=Program Data" in r["dn"]]


def test_source_anchor(clean):
    status, o = judge("directory.source-anchor", clean[1], clean[0])
    assert status is Status.PASS
    assert (o.evidence["objects"], o.evidence["with_object_guid"], o.evidence["with_consistency_guid"]) == (6, 6, 1)
    example = o.evidence["examples"][0]
    import base64
    import uuid
    assert base64.b64decode(example["immutable_id"]) == uuid.UUID(example["objectGUID"]).bytes_le


def test_kds_root_keys_invisible_to_an_ordinary_account_are_an_error_not_a_missing_key(single, samba_single_dc):
    from adfs_readiness.lab.samba_seed import READER_PASSWORD

    cfg, facts = single  # bound as Administrator: the key is there and in effect
    status, o = judge("directory.kds-root-key", facts, cfg)
    assert status is Status.PASS and len(o.evidence["keys"]) == 1 and o.evidence["bind_user_privileged"] is True
    reader_cfg = make_config(samba_single_dc, None, server="ldap://127.0.0.1", bind_user="reader@contoso.test")
    as_reader = gather(samba_single_dc, reader_cfg, password=READER_PASSWORD)
    assert as_reader.connection.bound and as_reader.gmsa_accounts == ("gmsa-adfs$",)
    assert as_reader.kds_root_keys == ()  # only Domain Admins / Enterprise Admins may read them
    status, reason = judge("directory.kds-root-key", as_reader, reader_cfg)
    assert status is Status.ERROR
    assert "no KDS root key is visible to reader@contoso.test" in reason and "not a member of Domain Admins" in reason


def test_source_anchor_fails_for_an_object_whose_objectguid_the_reader_is_denied(single, samba_single_dc):
    cfg, facts = single
    status, o = judge("directory.source-anchor", facts, cfg)
    ghost = f"CN=ghost,OU=Hidden,{B}"
    assert status is Status.FAIL
    assert o.evidence["objects"] - o.evidence["with_object_guid"] == 1
    assert o.evidence["without_object_guid"] == [ghost]
    assert ghost in o.summary and "denied" in o.summary
    anchor = [r for r in _csv_rows(facts, cfg) if r["check_id"] == "directory.source-anchor"]
    assert [(r["dn"], r["attribute"]) for r in anchor] == [(ghost, "objectGUID")]
    # The same domain read below OU=Lab (no such object) passes.
    lab_cfg = make_config(samba_single_dc, f"OU=Lab,{B}", server="ldap://127.0.0.1")
    status, o = judge("directory.source-anchor", gather(samba_single_dc, lab_cfg), lab_cfg)
    assert status is Status.PASS and o.evidence["without_object_guid"] == []


# --- accounts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("account, expected, words", [
    ("gmsa-adfs", Status.PASS, "usable gMSA"),
    ("svc-adfs", Status.WARN, "not a group managed service account"),
    ("svc-aes", Status.WARN, "is a user account"),
    ("svc-disabled", Status.FAIL, "disabled"),
    ("svc-locked", Status.FAIL, "locked out since 2026-11-30T11:55:00"),
    ("svc-expired", Status.FAIL, "the password expired on 2026-10-03"),
    ("nobody", Status.FAIL, "does not exist"),
    (None, Status.SKIP, "No AD FS service account"),
])
def test_service_account(samba_dc, account, expected, words):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account=account)
    status, o = judge("directory.service-account", gather(samba_dc, cfg), cfg)
    assert status is expected and words in o.summary, o.summary


def _dup(svc_adfs: str = "", svc_dup: str = " (enabled)") -> str:
    return (f"HOST/sts.contoso.test is registered on 2 accounts (svc-adfs{svc_adfs}, svc-dup{svc_dup}): Kerberos tickets "
            "fail (duplicate SPN)")


_HTTP3 = ("HTTP/sts3.contoso.test is on svc-http (enabled), not on {whose}: browsers ask for HTTP/sts3.contoso.test "
          "and get a ticket for svc-http, which AD FS cannot decrypt (integrated authentication fails)")
_HOST3 = ("HOST/sts3.contoso.test is on svc-aes (an enabled leftover account), not on the AD FS service account "
          "gmsa-adfs$: Kerberos tickets for the federation service are encrypted for svc-aes")


@pytest.mark.parametrize("fs, account, expected, summary, commands", [
    ("sts2.contoso.test", "gmsa-adfs", Status.PASS,
     "HOST/sts2.contoso.test is registered once, on the AD FS service account gmsa-adfs$; HTTP/sts2.contoso.test too.",
     []),
    # Case and the gMSA's trailing $ do not matter when comparing with the configured account.
    ("sts2.contoso.test", "GMSA-ADFS$", Status.PASS,
     "HOST/sts2.contoso.test is registered once, on the AD FS service account gmsa-adfs$; HTTP/sts2.contoso.test too.",
     []),
    ("sts2.contoso.test", None, Status.PASS,
     "HOST/sts2.contoso.test is registered once, on gmsa-adfs$ (directory.service_account is not configured, so the "
     "holder was not compared with it); HTTP/sts2.contoso.test too.", []),
    ("sts.contoso.test", "svc-adfs", Status.FAIL, f"{_dup()}; the AD FS service account svc-adfs is among them.",
     ["setspn -D HOST/sts.contoso.test svc-dup"]),
    ("sts.contoso.test", "svc-dup", Status.FAIL,
     f"{_dup(' (enabled)', '')}; the AD FS service account svc-dup is among them; HTTP/sts.contoso.test is on svc-adfs "
     "(enabled), not on the AD FS service account svc-dup: browsers ask for HTTP/sts.contoso.test and get a ticket for "
     "svc-adfs, which AD FS cannot decrypt (integrated authentication fails).",
     ["setspn -D HOST/sts.contoso.test svc-adfs", "setspn -D HTTP/sts.contoso.test svc-adfs",
      "setspn -S HTTP/sts.contoso.test svc-dup"]),
    ("sts.contoso.test", "gmsa-adfs", Status.FAIL,
     f"{_dup(' (enabled)')}; the AD FS service account gmsa-adfs$ is NOT among them; HTTP/sts.contoso.test is on "
     "svc-adfs (enabled), not on the AD FS service account gmsa-adfs$: browsers ask for HTTP/sts.contoso.test and get a "
     "ticket for svc-adfs, which AD FS cannot decrypt (integrated authentication fails).",
     ["setspn -D HOST/sts.contoso.test svc-adfs", "setspn -D HOST/sts.contoso.test svc-dup",
      "setspn -S HOST/sts.contoso.test gmsa-adfs$", "setspn -D HTTP/sts.contoso.test svc-adfs",
      "setspn -S HTTP/sts.contoso.test gmsa-adfs$"]),
    ("sts3.contoso.test", "gmsa-adfs", Status.FAIL,
     f"{_HOST3}; " + _HTTP3.format(whose="the AD FS service account gmsa-adfs$") + ".",
     ["setspn -D HOST/sts3.contoso.test svc-aes", "setspn -S HOST/sts3.contoso.test gmsa-adfs$",
      "setspn -D HTTP/sts3.contoso.test svc-http", "setspn -S HTTP/sts3.contoso.test gmsa-adfs$"]),
    # A disabled leftover account still holding HOST/<fs> is named as disabled.
    ("sts5.contoso.test", "gmsa-adfs", Status.FAIL,
     "HOST/sts5.contoso.test is on svc-disabled (a disabled account), not on the AD FS service account gmsa-adfs$: "
     "Kerberos tickets for the federation service are encrypted for svc-disabled.",
     ["setspn -D HOST/sts5.contoso.test svc-disabled", "setspn -S HOST/sts5.contoso.test gmsa-adfs$"]),
    # HTTP/ on two accounts: browsers' tickets fail even though HOST/ is registered once, on the right account.
    ("sts4.contoso.test", "svc-http", Status.FAIL,
     "HTTP/sts4.contoso.test is registered on 2 accounts (svc-dup, svc-http): browsers' Kerberos tickets fail "
     "(duplicate SPN).", ["setspn -D HTTP/sts4.contoso.test svc-dup"]),
    ("sts3.contoso.test", "svc-aes", Status.FAIL, _HTTP3.format(whose="the AD FS service account svc-aes") + ".",
     ["setspn -D HTTP/sts3.contoso.test svc-http", "setspn -S HTTP/sts3.contoso.test svc-aes"]),
    ("sts3.contoso.test", None, Status.FAIL,
     _HTTP3.format(whose="the account holding HOST/sts3.contoso.test (svc-aes)") + ".",
     ["setspn -D HTTP/sts3.contoso.test svc-http", "setspn -S HTTP/sts3.contoso.test svc-aes"]),
    ("sts9.contoso.test", None, Status.FAIL,
     "HOST/sts9.contoso.test is not registered on any account: Kerberos to the federation service fails.",
     ["setspn -S HOST/sts9.contoso.test <AD FS service account>"]),
    # The federation service name is a CNAME (the lab DC's DNS): browsers ask for HTTP/<target>.
    ("sts-alias.contoso.test", "gmsa-adfs", Status.PASS,
     "HOST/sts-alias.contoso.test is registered once, on the AD FS service account gmsa-adfs$.", []),
    ("sts-alias2.contoso.test", "gmsa-adfs", Status.FAIL,
     "sts-alias2.contoso.test is a CNAME of farm-b.contoso.test: browsers ask for HTTP/farm-b.contoso.test, and "
     "HTTP/farm-b.contoso.test is on svc-http (enabled), not on the AD FS service account gmsa-adfs$: they get tickets "
     "AD FS cannot decrypt.",
     ["setspn -D HTTP/farm-b.contoso.test svc-http", "setspn -S HTTP/farm-b.contoso.test gmsa-adfs$"]),
    ("sts-alias3.contoso.test", "gmsa-adfs", Status.WARN,
     "HOST/sts-alias3.contoso.test is registered once, on the AD FS service account gmsa-adfs$; but "
     "sts-alias3.contoso.test is a CNAME of farm-c.contoso.test (per the directory probe's resolver (127.0.0.1:10053)): "
     "browsers ask for a ticket to HTTP/farm-c.contoso.test, which no account holds, so Kerberos fails and they fall "
     "back to NTLM (register HTTP/farm-c.contoso.test on the AD FS service account, or make sts-alias3.contoso.test an "
     "A record).", ["setspn -S HTTP/farm-c.contoso.test gmsa-adfs$"]),
])
def test_spn_from_the_global_catalog(samba_dc, fs, account, expected, summary, commands):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account=account,
                      federation={"service_name": fs, "domains": ["contoso.com"]})
    facts = gather(samba_dc, cfg)
    assert {r.source for r in facts.spn_registrations} == {"global catalog"}
    status, o = judge("directory.spn", facts, cfg)
    assert (status, o.summary) == (expected, summary)
    assert o.evidence["commands"] == commands
    if commands and status is Status.FAIL:
        # The remediation names the real accounts, in the order to run the commands.
        assert o.remediation.startswith("Run, as a domain admin: " + "; then ".join(commands) + ". ")
    elif not commands:
        assert o.remediation is None
    if fs == "sts.contoso.test":
        assert o.evidence["HOST/sts.contoso.test"]["accounts"] == ["svc-adfs", "svc-dup"]


def test_spn_found_once_without_the_global_catalog_in_a_multi_domain_forest_warns(samba_dc):
    """Built from the real facts: the lab forest has one domain and its DC is always a GC."""
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="gmsa-adfs")
    facts = gather(samba_dc, cfg)
    assert judge("directory.spn", facts, cfg)[0] is Status.PASS
    assert {r.source for r in facts.spn_registrations} == {"global catalog"} and facts.forest_dns_names == ("contoso.test",)
    domain_only = tuple(dataclasses.replace(r, source="domain") for r in facts.spn_registrations)
    single = dataclasses.replace(facts, spn_registrations=domain_only)
    assert judge("directory.spn", single, cfg)[0] is Status.PASS  # one domain: the domain search is the forest
    forest = dataclasses.replace(single, forest_dns_names=("contoso.test", "emea.contoso.test"))
    status, o = judge("directory.spn", forest, cfg)
    assert status is Status.WARN and "emea.contoso.test" in o.summary and "were not searched" in o.summary
    assert o.evidence["forest_domains"] == ["contoso.test", "emea.contoso.test"]


def test_spn_holders_are_sorted_whatever_order_the_directory_returns(samba_dc):
    """The GC returns holders in no stable order; a reordering must not read as a change in the run history."""
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="svc-adfs",
                      federation={"service_name": "sts.contoso.test", "domains": ["contoso.com"]})
    facts = gather(samba_dc, cfg)
    reversed_regs = tuple(dataclasses.replace(r, holders=r.holders[::-1]) for r in facts.spn_registrations)
    host = next(r for r in facts.spn_registrations if r.spn.upper().startswith("HOST/"))
    assert len(host.holders) == 2  # so reversing really changes the order
    outs = []
    for regs in (facts.spn_registrations, reversed_regs):
        status, o = judge("directory.spn", dataclasses.replace(facts, spn_registrations=regs), cfg)
        outs.append((status, o.summary, o.evidence, o.remediation))
    assert outs[0] == outs[1] and outs[0][0] is Status.FAIL
    assert outs[0][2]["HOST/sts.contoso.test"]["holders"] == [f"CN=svc-adfs,OU=Lab,{B}", f"CN=svc-dup,OU=Lab,{B}"]


def test_spn_skips_without_a_service_name(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", federation={"domains": ["contoso.com"]})
    assert judge("directory.spn", gather(samba_dc, cfg), cfg)[0] is Status.SKIP


def test_kds_root_key(clean, samba_dc, samba_legacy_dc):
    cfg, facts = clean
    status, o = judge("directory.kds-root-key", facts, cfg)
    assert status is Status.PASS and len(o.evidence["keys"]) == 2
    assert [k["in_effect"] for k in o.evidence["keys"]] == [True, False]
    early = FIXED_NOW - timedelta(days=30) + timedelta(hours=5)  # the old key is then only 5 hours old
    status, o = judge("directory.kds-root-key", facts, cfg, now=early)
    assert status is Status.FAIL and "none is in effect yet" in o.summary
    legacy_cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1", service_account="gmsa-adfs")
    status, o = judge("directory.kds-root-key", gather(samba_legacy_dc, legacy_cfg), legacy_cfg)
    assert status is Status.FAIL and "no KDS root key" in o.summary and o.evidence["bind_user_privileged"] is True
    user_cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="svc-adfs")
    assert judge("directory.kds-root-key", gather(samba_dc, user_cfg), user_cfg)[0] is Status.SKIP


def test_seamless_sso_account(root, lab, samba_legacy_dc):
    status, o = judge("directory.seamless-sso-account", root[1], root[0])
    assert status is Status.WARN and o.evidence["password_age_days"] == 400
    legacy_cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1")
    status, o = judge("directory.seamless-sso-account", gather(samba_legacy_dc, legacy_cfg), legacy_cfg)
    assert status is Status.PASS and o.evidence["password_age_days"] == 10
    # AZUREADSSOACC is in CN=Computers: found from any scan base (the whole domain is searched).
    status, o = judge("directory.seamless-sso-account", lab[1], lab[0])
    assert status is Status.WARN and o.evidence["dn"] == f"CN=AZUREADSSOACC,CN=Computers,{B}"


def test_seamless_sso_skips_without_the_account(single):
    cfg, facts = single
    status, o = judge("directory.seamless-sso-account", facts, cfg)
    assert status is Status.SKIP and "No AZUREADSSOACC" in o.summary


def test_privileged_federated(clean, samba_dc):
    cfg, facts = clean
    status, o = judge("directory.privileged-federated", facts, cfg)
    assert status is Status.FAIL
    assert sorted(m["sam_account_name"] for m in o.evidence["federated_members"]) == [
        "adminfed", "builtinadm", "clean1", "pgadmin"]  # more in tests/test_directory_accounts_wire.py
    other = make_config(samba_dc, f"OU=Clean,{B}", federation={"domains": ["fabrikam.com"]})
    assert judge("directory.privileged-federated", facts, other)[0] is Status.PASS
    none = make_config(samba_dc, f"OU=Clean,{B}", federation={})
    assert judge("directory.privileged-federated", facts, none)[0] is Status.SKIP


def test_extranet_lockout_is_compared_with_the_domains_lockout_threshold_over_the_wire(samba_dc, lab, tmp_path):
    """adfs.extranet-lockout reads the domain's lockoutThreshold from the directory fact (an
    optional fact: the engine passes it when it was gathered) and judges AD FS's threshold against it."""
    from adfs_readiness.engine.runner import plan_run, judge as engine_judge
    from adfs_readiness.engine.registry import CheckRegistry
    from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT
    from adfs_readiness.lab.adfs_samples import adfs_export_document, write_adfs_export
    from adfs_readiness.lab.pki import LabPki
    from adfs_readiness.probes.adfs_export import read_adfs_export

    cfg, facts = lab
    domain_threshold = samba_dc.run_in_network(lambda: _read_lockout_threshold(samba_dc))
    assert facts.lockout_threshold == domain_threshold == 10  # read by the probe, equal to what LDAP says
    extranet = CHECKS_ALL["adfs.extranet-lockout"]
    # The optional fact is gathered when a running directory check requires it, not for this check alone.
    assert DIRECTORY_FACT not in plan_run(CheckRegistry(checks=(extranet,)), cfg).fact_keys
    plan = plan_run(CheckRegistry(checks=(extranet, CHECKS["directory.connect"])), cfg)
    assert DIRECTORY_FACT in plan.fact_keys
    pki = LabPki(FIXED_NOW)
    signing = pki.token_certificate("signing", "sts.contoso.test", FIXED_NOW - timedelta(days=10),
                                    FIXED_NOW + timedelta(days=300))
    for adfs_threshold in (3, 50):
        path = write_adfs_export(tmp_path / f"export-{adfs_threshold}.json",
                                 adfs_export_document(pki, "sts.contoso.test", signing,
                                                      extranet_lockout_threshold=adfs_threshold))
        export = read_adfs_export(path)
        finding, _ = engine_judge(plan, {ADFS_EXPORT_FACT: export, DIRECTORY_FACT: facts}, cfg, FIXED_NOW)
        assert finding.evidence["domain_lockout_threshold"] == domain_threshold
        expected = Status.PASS if adfs_threshold < domain_threshold else Status.FAIL
        assert finding.status is expected, finding.summary
    # Without the directory fact the comparison is not made (INFO), and the check never errors.
    alone, _ = engine_judge(plan, {ADFS_EXPORT_FACT: export}, cfg, FIXED_NOW)
    assert alone.status is Status.INFO and alone.evidence["domain_lockout_threshold"] is None


def _read_lockout_threshold(dc) -> int:
    from ldap3 import BASE, Connection, Server

    conn = Connection(Server(dc.address, port=389), user=dc.admin_upn, password=dc.admin_password, auto_bind=True)
    try:
        conn.search(B, "(objectClass=*)", BASE, attributes=["lockoutThreshold"])
        return int(conn.entries[0]["lockoutThreshold"].value)
    finally:
        conn.unbind()


CHECKS_ALL = {c.id: c for c in discover_checks().checks}


def test_rule_summaries_count_in_words_and_point_to_the_csv_only_when_rows_are_left_out(lab, root):
    cfg, facts = lab
    assert judge("directory.upn-format", facts, cfg)[1].summary == (
        "8 objects have UPN format problems in userPrincipalName (9 problem rows).")
    assert judge("directory.upn-routable", facts, cfg)[1].summary.startswith(
        "4 of the 22 enabled users with a UPN (18%) have a non-routable UPN suffix (contoso.test, contoso.local)")

    def with_objects(objects):
        return dataclasses.replace(facts, scan=dataclasses.replace(facts.scan, objects=tuple(objects)))

    trail = next(o for o in facts.scan.objects if o.dn.startswith("CN=trail,"))
    assert judge("directory.upn-format", with_objects([trail]), cfg)[1].summary == (
        "1 object has UPN format problems in userPrincipalName (1 problem row).")
    # 25 objects with the same bad proxy address, each its own object: 25 distinct objects, 20 listed.
    pbad = next(o for o in facts.scan.objects if o.dn.startswith("CN=pbad,"))
    many = [dataclasses.replace(pbad, dn=f"CN=pbad{i:02},OU=Lab,{B}", proxy_addresses=(f"SMTP:bad {i}@contoso.com",))
            for i in range(25)]
    finding = judge("directory.proxyaddresses", with_objects(many), cfg)[1]
    assert finding.summary.endswith("(25 problem rows); the first 20 are listed (use --csv-dir for all of them).")
    assert finding.evidence["objects_with_problem"] == 25 and len(finding.evidence["first_objects"]) == 20
    root_cfg, root_facts = root  # run with --csv-dir: the summary names the file
    assert (f"every row is in {root_cfg.directory.csv_dir}/directory-problems.csv"
            in judge("directory.upn-format", root_facts, root_cfg)[1].summary)


def test_the_forests_other_domains_are_named_where_duplicates_cannot_be_seen(samba_legacy_dc):
    """The forest has a child domain (emea.contoso.test, its crossRef) this DC does not hold: a scan
    of this domain cannot see duplicates across the two, and the duplicate checks say which domain
    was not read and what to do — also when no duplicate was found."""
    cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1")
    facts = gather(samba_legacy_dc, cfg)
    assert facts.forest_dns_names == ("contoso.test", "emea.contoso.test")
    assert facts.forest_domain_ncs == ("DC=contoso,DC=test", "DC=emea,DC=contoso,DC=test")
    status, o = judge("directory.upn-duplicates", facts, cfg)
    assert status is Status.WARN and o.evidence["domains_not_read"] == ["emea.contoso.test"]
    assert o.summary.endswith("The forest's other domains (emea.contoso.test) were not read, so duplicates across "
                              "domains — which Entra Connect rejects just the same — cannot be seen: point "
                              "directory.server at a Global Catalog (port 3268/3269) or run once per domain.")
    for check_id in ("directory.mail", "directory.proxyaddresses", "directory.samaccountname"):
        assert judge(check_id, facts, cfg)[1].evidence["domains_not_read"] == ["emea.contoso.test"], check_id
    # The DC's search references for the configuration and DNS partitions are no domains.
    assert any("CN=Configuration" in r for r in facts.scan.referrals)
    one_domain = make_config(samba_legacy_dc, f"OU=Lab,{B}", server="ldap://127.0.0.1")
    status, o = judge("directory.upn-duplicates", dataclasses.replace(facts, forest_dns_names=("contoso.test",),
                                                                      forest_domain_ncs=("DC=contoso,DC=test",)),
                      one_domain)
    assert status is Status.PASS and "domains_not_read" not in o.evidence


def test_never_is_shown_as_never_on_the_domain_policy_path(samba_legacy_dc):
    """svc-never: the DC's computed attributes are denied to every reader, so the domain policy
    decides, and its maximum password age is "never" (the minimum int64); accountExpires 0 is
    "never" too. Neither may show as a date, a number or null."""
    cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1", service_account="svc-never")
    facts = gather(samba_legacy_dc, cfg)
    assert facts.max_pwd_age == -9223372036854775808 and facts.service_account.password_expiry_computed is None
    status, o = judge("directory.service-account", facts, cfg)
    assert status is Status.WARN and "is a user account" in o.summary  # not expired: never
    assert o.evidence["password_expires"] == "never (domain policy: no maximum password age)"
    assert o.evidence["domain_max_password_age_days"] == "never"
    assert o.evidence["account_expires"] == "never"
    assert o.evidence["password_expiry_source"].startswith("domain policy (maxPwdAge)")


def test_upn_routable_blocks_by_the_share_of_enabled_users_who_cannot_sign_in(lab):
    """A non-routable UPN suffix keeps a user from signing in through AD FS. When such users are a
    large share of the organisation (thresholds.upn_blocking_percent, 10%), single sign-on does not
    work: NOT_READY, not READY WITH WARNINGS (before, only "every user affected" blocked, so 21 of
    22 users locked out read as a warning). Disabled accounts sign in nowhere: listed, but they
    never make the check block."""
    cfg, facts = lab
    affected = {"local1@contoso.local", "test1@contoso.test", "svc-adfs@contoso.test", "svc-dup@contoso.test"}

    def variant(disable=(), threshold=None):
        objects = tuple(dataclasses.replace(o, user_account_control=(o.user_account_control or 0x200) | 0x2)
                        if o.user_principal_name in disable else o for o in facts.scan.objects)
        changed = dataclasses.replace(facts, scan=dataclasses.replace(facts.scan, objects=objects))
        config = cfg if threshold is None else dataclasses.replace(
            cfg, thresholds=dataclasses.replace(cfg.thresholds, upn_blocking_percent=threshold))
        status, outcome = judge("directory.upn-routable", changed, config)
        assert status is Status.FAIL
        return outcome

    at_threshold = variant()
    assert at_threshold.blocker is True
    assert at_threshold.summary == (
        "4 of the 22 enabled users with a UPN (18%) have a non-routable UPN suffix (contoso.test, contoso.local): "
        "they cannot sign in through AD FS, at least thresholds.upn_blocking_percent (10%) of the users, so single "
        "sign-on does not work for the organisation.")
    assert at_threshold.evidence["enabled_users_affected"] == 4 and at_threshold.evidence["blocking_percent"] == 10
    below = variant(threshold=50)
    assert below.blocker is False and "below thresholds.upn_blocking_percent (50%), so this does not block" in \
        below.summary
    # Three of the four are disabled: 1 of 19 enabled users (5.3%) is below 10%; the disabled are named.
    mostly_disabled = variant(disable=affected - {"local1@contoso.local"})
    assert mostly_disabled.blocker is False
    assert mostly_disabled.summary.startswith("1 of the 19 enabled users with a UPN (5.3%) have a non-routable UPN "
                                              "suffix (contoso.test, contoso.local) (3 disabled accounts too)")
    everyone_disabled = variant(disable=affected)
    assert everyone_disabled.blocker is False and everyone_disabled.summary.startswith(
        "4 disabled accounts have a non-routable UPN suffix (contoso.test, contoso.local); no enabled user is "
        "affected")
    # Every enabled user affected blocks whatever the threshold.
    others = {o.user_principal_name for o in facts.scan.objects if o.user_principal_name} - affected
    only_affected = variant(disable=others, threshold=100)
    assert only_affected.blocker is True and only_affected.summary.startswith(
        "Every enabled user in scope (4) has a non-routable UPN suffix")
