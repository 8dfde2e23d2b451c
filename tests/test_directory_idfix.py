"""IdFix parity, rule by rule, against the Samba lab DC over the wire.

Each row of RULES is one rule of Microsoft IdFix 2.6's MultiTenant rule set or skip rules
(src/IdFix/Rules/MultiTenantRuleCollection.cs, Settings/Constants.cs), or one of the deliberate
differences docs/directory.md lists, with the lab object (``OU=Lab``, lab/samba_seed.py) that
breaks it and the problem the finding must name. The table in docs/directory.md ("IdFix parity")
maps every rule to these ids.
"""

from __future__ import annotations

import pytest

from adfs_readiness.model import Status

from test_directory_samba import B, gather, judge, make_config


@pytest.fixture(scope="module")
def lab(samba_dc):
    cfg = make_config(samba_dc, f"OU=Lab,{B}", service_account="svc-adfs",
                      federation={"service_name": "sts.contoso.test", "domains": ["contoso.com"]})
    facts = gather(samba_dc, cfg)
    rows = {}
    for check_id in ("directory.upn-format", "directory.upn-routable", "directory.upn-duplicates",
                     "directory.proxyaddresses", "directory.mail", "directory.mailnickname", "directory.samaccountname",
                     "directory.displayname", "directory.givenname", "directory.targetaddress"):
        from adfs_readiness_checks.directory_rules import in_scope, rule_report

        rows[check_id] = rule_report(check_id, in_scope(facts.scan), cfg.federation.domains).problems
    return cfg, facts, rows


# (rule id of docs/directory.md, check id, cn of the lab object, words of the problem)
RULES = [
    ("displayName.length", "directory.displayname", "displong", "257 characters (at most 256)"),
    ("displayName.blank", "directory.displayname", "dispblank", "blank"),
    ("displayName.absent", "directory.displayname", "nodisp", "absent"),
    ("givenName.length", "directory.givenname", "givenlong", "64 characters (at most 63)"),
    ("mail.length", "directory.mail", "maillong", "257 characters (at most 256)"),
    ("mail.duplicate", "directory.mail", "maildup2", "duplicate mail (case-insensitive), also on CN=maildup1"),
    ("mailNickname.length", "directory.mailnickname", "nicklong", "65 characters (at most 64)"),
    ("mailNickname.period", "directory.mailnickname", "nickdot", "a period at the start"),
    ("mailNickname.duplicate", "directory.mailnickname", "nickdup1", "duplicate mailNickname (case-insensitive)"),
    ("proxyAddresses.length", "directory.proxyaddresses", "plong", "267 characters (at most 256)"),
    ("proxyAddresses.colon", "directory.proxyaddresses", "pcolon", '":" after the address type'),
    ("proxyAddresses.duplicate", "directory.proxyaddresses", "pdup2", "duplicate proxy address (case-insensitive)"),
    ("proxyAddresses.duplicate-x500", "directory.proxyaddresses", "px500b", "duplicate proxy address"),
    ("proxyAddresses.smtp-characters", "directory.proxyaddresses", "pchar", "invalid characters ';' before @"),
    ("proxyAddresses.smtp-white-space", "directory.proxyaddresses", "pbad", "white space (space)"),
    ("proxyAddresses.smtp-format", "directory.proxyaddresses", "pformat", "not an e-mail address"),
    ("proxyAddresses.smtp-routable", "directory.proxyaddresses", "pnonroute", "non-routable domain contoso.local"),
    ("proxyAddresses.other-characters", "directory.proxyaddresses", "psip", "invalid characters (space)"),
    ("proxyAddresses.x500-characters", "directory.proxyaddresses", "px500bad", "invalid characters ('[', ']')"),
    ("sAMAccountName.length", "directory.samaccountname", "samlong", "22 characters (at most 20)"),
    ("sAMAccountName.characters", "directory.samaccountname", "sambad", "invalid characters '[]'"),
    ("sAMAccountName.duplicate", "directory.samaccountname", "samdup", "duplicate sAMAccountName (objects without a "
                                                                     "userPrincipalName)"),
    ("targetAddress.length", "directory.targetaddress", "tgtlong", "256 characters (at most 255)"),
    ("targetAddress.colon", "directory.targetaddress", "tgtcolon", '":" after the address type'),
    ("targetAddress.duplicate", "directory.targetaddress", "tgtdup1", "duplicate targetAddress (case-insensitive)"),
    ("targetAddress.smtp-white-space", "directory.targetaddress", "tgtbad", "white space (space)"),
    ("targetAddress.smtp-routable", "directory.targetaddress", "tgtlocal", "non-routable domain contoso.local"),
    ("targetAddress.other-characters", "directory.targetaddress", "tgtx400", "invalid characters (space)"),
    ("userPrincipalName.length", "directory.upn-format", "upnlong", "114 characters (at most 113)"),
    ("userPrincipalName.local-length", "directory.upn-format", "longupn", "65 characters before @ (at most 64)"),
    ("userPrincipalName.suffix-length", "directory.upn-format", "upnsuffix", "49 characters after @ (at most 48)"),
    ("userPrincipalName.characters", "directory.upn-format", "badchar", "invalid characters '()' before @"),
    ("userPrincipalName.white-space", "directory.upn-format", "upntab", "white space (tab)"),
    ("userPrincipalName.trailing-space", "directory.upn-format", "trail", "leading or trailing white space"),
    ("userPrincipalName.periods", "directory.upn-format", "upndots", "consecutive periods before @"),
    ("userPrincipalName.domain", "directory.upn-format", "upndomain", "the part after @ is not a DNS domain name"),
    ("userPrincipalName.routable", "directory.upn-routable", "local1", "non-routable UPN suffix contoso.local"),
    ("userPrincipalName.duplicate", "directory.upn-duplicates", "dupb", "duplicate userPrincipalName (case-insensitive)"),
    # Beyond IdFix (Entra ID's uniqueness; RFC 5322; Exchange Online's alias rule; primary SMTP).
    ("entra.address-unique", "directory.upn-duplicates", "xupn1", "the same address is the mail of another object"),
    ("entra.address-unique", "directory.mail", "xmail1", "the same address is the userPrincipalName of another object"),
    ("mail.white-space", "directory.mail", "mailcr", "white space (carriage return, line feed)"),
    ("mailNickname.characters", "directory.mailnickname", "nickspace", "invalid characters ' '"),
    ("proxyAddresses.primary", "directory.proxyaddresses", "ptwo", "more than one primary SMTP: address"),
    ("proxyAddresses.no-primary", "directory.proxyaddresses", "pnoprim", "no primary SMTP: address"),
    ("sAMAccountName.inetOrgPerson", "directory.samaccountname", "inetorg", "22 characters (at most 20)"),
    ("skip.admini-prefix", "directory.displayname", "Administration Desk", "leading or trailing white space"),
]


@pytest.mark.parametrize("rule, check_id, cn, words", RULES, ids=[f"{r[0]}:{r[2]}" for r in RULES])
def test_each_idfix_rule_finds_its_object_over_the_wire(lab, rule, check_id, cn, words):
    _, _, rows = lab
    found = [p for p in rows[check_id] if p.dn.startswith(f"CN={cn},")]
    assert any(words in p.problem for p in found), (rule, [p.problem for p in found])


# Objects IdFix's skip rules leave out (plus ours): none may appear in any rule's rows.
SKIPPED = [
    ("skip.cn-dollar", "LEGACY-TRUST$", "computer, managed service or trust account (name ends with $)"),
    ("skip.well-known-prefix", "HealthMailbox0a1b2c", "well-known system account"),
    ("skip.sam-prefix", "CAS_0123", "service account (sAMAccountName CAS_*, SUPPORT_*, MSOL_*)"),
    ("skip.well-known-prefix", "MSOL_0a1b2c3d4e5f", "well-known system account"),
    ("skip.conflict", "conflicted\\0ACNF:4f6c1a52-9d3e-4b8a-8c51-2e7d0f9a6b13", "replication conflict object (CNF)"),
    ("skip.sam-prefix", "Sync Account", "service account (sAMAccountName CAS_*, SUPPORT_*, MSOL_*)"),
    ("skip.nickname-prefix", "Mailbox Store", "Exchange system mailbox (mailNickname CAS_*, SystemMailbox*)"),
    ("skip.hidden-msol", "aadsync", "directory synchronization account (hidden, displayName MSOL*)"),
    ("skip.recipient-type", "sysmbx", "Exchange system recipient (msExchRecipientTypeDetails)"),
    ("skip.security-group", "Lab Security Group", "security group without mail"),
    ("skip.distribution-group", "Lab Distribution", "distribution group without proxyAddresses"),
]


@pytest.mark.parametrize("rule, cn, reason", SKIPPED, ids=[f"{r[0]}:{r[1]}" for r in SKIPPED])
def test_each_skip_rule_leaves_its_object_out(lab, rule, cn, reason):
    from adfs_readiness_checks.directory_rules import skip_reason

    _, facts, rows = lab
    obj = next(o for o in facts.scan.objects if o.dn.startswith(f"CN={cn},"))
    assert (skip_reason(obj) or "").startswith(reason)
    assert not [p for ps in rows.values() for p in ps if p.dn == obj.dn], rule


def test_sam_account_name_duplicates_count_only_objects_without_a_upn(lab):
    """IdFix's SamAccountNameDuplicateRule: samupn1 and samupn2 share a sAMAccountName but both have
    a userPrincipalName, so neither is a duplicate; samdup and samdup2 have none and both are."""
    _, _, rows = lab
    dup = {p.dn.split(",")[0][3:] for p in rows["directory.samaccountname"] if "duplicate" in p.problem}
    assert dup == {"samdup", "samdup2"}


def test_no_false_positive_of_ours_on_the_clean_objects(samba_dc):
    """OU=Clean: an apostrophe in a UPN, x500 values with spaces and parentheses, plus addressing and
    every RFC 5322 atext character (+ & / = % * ? { } | ~) in mail and proxy addresses, a mail domain
    longer than 48 characters, a 63-character givenName, a .com TLD IdFix's static list also knows:
    every rule passes."""
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="gmsa-adfs")
    facts = gather(samba_dc, cfg)
    for check_id in ("directory.upn-format", "directory.upn-routable", "directory.upn-duplicates",
                     "directory.proxyaddresses", "directory.mail", "directory.mailnickname", "directory.samaccountname",
                     "directory.displayname", "directory.givenname", "directory.targetaddress"):
        status, o = judge(check_id, facts, cfg)
        assert status is Status.PASS, (check_id, o.summary if not isinstance(o, str) else o)
    clean4 = next(o for o in facts.scan.objects if o.dn.startswith("CN=clean4,"))
    assert clean4.mail == "first+tag&x/y=z%a*b?c{d}e|f~g@contoso.com"
    assert any(len(v.rsplit("@", 1)[1]) > 48 for v in clean4.proxy_addresses)


def test_duplicates_count_distinct_objects_the_same_whatever_the_order_read(lab):
    import dataclasses

    cfg, facts, _ = lab
    reversed_facts = dataclasses.replace(facts, scan=dataclasses.replace(facts.scan, objects=facts.scan.objects[::-1]))
    for check_id in ("directory.upn-duplicates", "directory.proxyaddresses", "directory.mail",
                     "directory.mailnickname", "directory.targetaddress", "directory.samaccountname"):
        a, b = judge(check_id, facts, cfg)[1], judge(check_id, reversed_facts, cfg)[1]
        assert (a.status, a.summary, a.evidence) == (b.status, b.summary, b.evidence), check_id
    o = judge("directory.proxyaddresses", facts, cfg)[1]
    # pdup1 holds SMTP:Shared@ once; it is one object however many rows name it.
    assert o.evidence["objects_with_problem"] == len({f["dn"] for f in o.evidence["first_objects"]}) or \
        o.evidence["objects_with_problem"] >= 20


def test_the_shared_per_scan_reports_equal_the_rule_computed_alone(lab):
    """The checks read each rule's report once per scan, and the three duplicate checks share one
    address index (scan_rule_report; benchmarks/ad_scan.py). Every row equals what the rule gives
    when computed alone, for every rule check, whichever check asked first."""
    from adfs_readiness_checks.directory_rules import RULE_CHECKS, in_scope, rule_report, scan_rule_report

    cfg, facts, rows = lab
    alone = {c: rule_report(c, in_scope(facts.scan), cfg.federation.domains) for c in RULE_CHECKS}
    for check_id in reversed(list(RULE_CHECKS)):  # the duplicate checks build the index in another order
        shared = scan_rule_report(facts.scan, check_id, cfg.federation.domains)
        assert shared == alone[check_id], check_id
        assert scan_rule_report(facts.scan, check_id, cfg.federation.domains) is shared  # computed once
    # The index is really exercised: the lab has cross-attribute duplicates.
    assert any("of another object" in p.problem for c in ("directory.upn-duplicates", "directory.mail",
                                                          "directory.proxyaddresses") for p in rows[c])
