"""directory.service-account and directory.privileged-federated against the Samba AD DC, over the wire.

The seed (adfs_readiness.lab.samba_seed, ``CN=Users`` / ``CN=Managed Service Accounts``) holds an
account for every sub-case; the DC computes msDS-UserPasswordExpiryTimeComputed and
msDS-User-Account-Control-Computed itself (Samba 4.17 implements both and applies fine-grained
password policies), so these tests also pin what the DC returns. Times are relative to FIXED_NOW.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from adfs_readiness.facts.directory import PasswordSettings, PrivilegedMember, filetime_from_datetime
from adfs_readiness.model import Status

from conftest import FIXED_NOW
from test_directory_samba import B, gather, judge, make_config

USERS = f"CN=Users,{B}"
PSO_SHORT = f"CN=pso-svc-short,CN=Password Settings Container,CN=System,{B}"
PSO_LOCK = f"CN=pso-svc-lock,CN=Password Settings Container,CN=System,{B}"
DAY = 864_000_000_000  # 100-ns units
COMPUTED, UAC_COMPUTED = "msDS-UserPasswordExpiryTimeComputed", "msDS-User-Account-Control-Computed"
FALLBACK_PASSWORD = ("domain policy (maxPwdAge); the domain controller did not return msDS-UserPasswordExpiryTimeComputed, "
                     "so a fine-grained password policy is not taken into account")
FALLBACK_LOCKOUT = ("domain policy (lockout duration 30 minutes); the domain controller did not return "
                    "msDS-User-Account-Control-Computed, so a fine-grained password policy is not taken into account")
SHORT_SETTINGS = {"dn": PSO_SHORT, "precedence": 10, "max_password_age_days": 5,
                  "lockout": "lockout duration 30 minutes", "lockout_threshold": 5}
LOCK_SETTINGS = {"dn": PSO_LOCK, "precedence": 20, "max_password_age_days": 42,
                 "lockout": "lockout until an administrator unlocks it", "lockout_threshold": 5}


#: How a check says the DC refused the bind (the summary words, not the BindResult code).
REFUSED = "no directory connection (the domain controller refused the credentials)"

def _account_facts(dc, account, **kw):
    cfg = make_config(dc, f"OU=Clean,{B}", service_account=account)
    return cfg, gather(dc, cfg, **kw)


# --- what Samba computes --------------------------------------------------------------------------

def test_samba_returns_the_constructed_attributes_and_applies_the_pso(samba_dc):
    """The probe reads the constructed attributes by name in a base read; Samba computes them with
    the PSO in effect (pwdLastSet 10 days ago + the PSO's 5 days), returns msDS-ResultantPSO, and the
    administrator may read the PSO's settings."""
    _, facts = _account_facts(samba_dc, "svc-pso")
    a = facts.service_account
    assert a.dn == f"CN=svc-pso,{USERS}"
    assert a.password_last_set == filetime_from_datetime(FIXED_NOW - timedelta(days=10))
    assert a.password_expiry_computed == filetime_from_datetime(FIXED_NOW - timedelta(days=5))
    assert a.account_control_computed == 0x800000  # UF_PASSWORD_EXPIRED, not UF_LOCKOUT
    assert a.resultant_pso == PSO_SHORT
    assert a.password_settings == PasswordSettings(PSO_SHORT, 10, -5 * DAY, -18_000_000_000, 5)
    # The domain policy alone would give 42 days: not expired at FIXED_NOW.
    assert facts.max_pwd_age == -42 * DAY
    assert a.password_last_set + 42 * DAY > filetime_from_datetime(FIXED_NOW)


def test_an_account_whose_computed_attributes_are_denied_reads_without_them(samba_dc):
    _, facts = _account_facts(samba_dc, "svc-noread")
    a = facts.service_account
    assert (a.password_expiry_computed, a.account_control_computed, a.resultant_pso, a.password_settings) == \
        (None, None, None, None)
    assert a.password_last_set == filetime_from_datetime(FIXED_NOW - timedelta(days=100))
    assert "service_account" not in facts.section_errors


# --- directory.service-account: every status ------------------------------------------------------

@pytest.mark.parametrize("account, expected, summary, evidence", [
    ("gmsa-adfs", Status.PASS, "The AD FS service account gmsa-adfs$ is a usable gMSA with AES.",
     {"password_expires": "never", "account_control_computed": 0, "password_expiry_source": COMPUTED,
      "lockout_source": UAC_COMPUTED, "resultant_pso": None, "supported_encryption_types": 24}),
    ("gmsa-rc4", Status.WARN, "The AD FS service account gmsa-rc4$ has no AES in msDS-SupportedEncryptionTypes.",
     {"gmsa": True, "supported_encryption_types": 4, "password_expires": "never", "password_expiry_source": COMPUTED}),
    # Locked out two days ago under the domain's 30-minute lockout: the DC says the lockout is over.
    ("svc-lapsed", Status.WARN,
     "The AD FS service account svc-lapsed is a user account, not a group managed service account (gMSA).",
     {"lockout_time": "2026-11-28T12:00:00+00:00", "account_control_computed": 0, "lockout_source": UAC_COMPUTED}),
    ("svc-acctexp", Status.FAIL, "The AD FS service account svc-acctexp: the account expired on 2026-11-27T12:00:00+00:00.",
     {"account_expires": "2026-11-27T12:00:00+00:00", "password_expires": "never", "account_control_computed": 0}),
    ("svc-mustchg", Status.FAIL,
     "The AD FS service account svc-mustchg: the password must be changed at next logon (pwdLastSet is 0).",
     {"password_last_set": "never", "password_expires": "at next logon (pwdLastSet is 0)",
      "account_control_computed": 0x800000, "password_expiry_source": COMPUTED, "user_account_control": 512}),
    ("svc-pso", Status.FAIL,
     "The AD FS service account svc-pso: the password expired on 2026-11-25T12:00:00+00:00 (per "
     "msDS-UserPasswordExpiryTimeComputed; fine-grained password policy pso-svc-short: maximum password age 5 days).",
     {"password_expires": "2026-11-25T12:00:00+00:00", "password_expiry_source": COMPUTED, "resultant_pso": PSO_SHORT,
      "password_settings": SHORT_SETTINGS}),
    ("svc-psolock", Status.FAIL,
     "The AD FS service account svc-psolock: locked out since 2026-11-28T12:00:00+00:00 (per "
     "msDS-User-Account-Control-Computed; fine-grained password policy pso-svc-lock: lockout until an administrator "
     "unlocks it).",
     {"account_control_computed": 0x10, "lockout_source": UAC_COMPUTED, "resultant_pso": PSO_LOCK,
      "password_settings": LOCK_SETTINGS}),
    ("svc-locked", Status.FAIL,
     "The AD FS service account svc-locked: locked out since 2026-11-30T11:55:00+00:00 (per "
     "msDS-User-Account-Control-Computed; fine-grained password policy pso-svc-lock: lockout until an administrator "
     "unlocks it).",
     {"account_control_computed": 0x10, "resultant_pso": PSO_LOCK}),
    ("svc-expired", Status.FAIL,
     "The AD FS service account svc-expired: the password expired on 2026-10-03T12:00:00+00:00 (per "
     "msDS-UserPasswordExpiryTimeComputed; domain policy: maximum password age 42 days).",
     {"password_expires": "2026-10-03T12:00:00+00:00", "password_expiry_source": COMPUTED, "resultant_pso": None,
      "password_settings": None}),
    # The reader is denied the computed attributes: the domain policy decides, and the evidence says so.
    ("svc-noread", Status.FAIL,
     "The AD FS service account svc-noread: the password expired on 2026-10-03T12:00:00+00:00 (domain policy: "
     "maximum password age 42 days).",
     {"password_expires": "2026-10-03T12:00:00+00:00", "account_control_computed": None,
      "password_expiry_source": FALLBACK_PASSWORD, "lockout_source": FALLBACK_LOCKOUT}),
    ("svc-disabled", Status.FAIL,
     "The AD FS service account svc-disabled: disabled; the password must be changed at next logon (pwdLastSet is 0).",
     {"user_account_control": 514, "account_control_computed": 0x800000}),
    ("nobody", Status.FAIL, "The AD FS service account 'nobody' does not exist in the domain.", {}),
    (None, Status.SKIP, "No AD FS service account configured (directory.service_account).", {}),
])
def test_service_account(samba_dc, account, expected, summary, evidence):
    cfg, facts = _account_facts(samba_dc, account)
    status, o = judge("directory.service-account", facts, cfg)
    assert (status, o.summary) == (expected, summary)
    assert {k: o.evidence[k] for k in evidence} == evidence


@pytest.mark.parametrize("account, with_dc, without_dc", [
    ("svc-pso", Status.FAIL, "The AD FS service account svc-pso is a user account, not a group managed service "
                             "account (gMSA)."),
    ("svc-psolock", Status.FAIL, "The AD FS service account svc-psolock is a user account, not a group managed service "
                                 "account (gMSA)."),
])
def test_the_pso_decides_where_the_domain_policy_alone_would_pass(samba_dc, account, with_dc, without_dc):
    """The same accounts as read, with the DC's computed attributes taken away: the domain's maxPwdAge
    (42 days) and lockoutDuration (30 minutes) alone find nothing wrong, which is what the check did
    before it asked the DC."""
    cfg, facts = _account_facts(samba_dc, account)
    assert judge("directory.service-account", facts, cfg)[0] is with_dc
    bare = dataclasses.replace(facts.service_account, password_expiry_computed=None, account_control_computed=None,
                               resultant_pso=None, password_settings=None)
    status, o = judge("directory.service-account", dataclasses.replace(facts, service_account=bare), cfg)
    assert (status, o.summary) == (Status.WARN, without_dc)
    assert o.evidence["password_expiry_source"] == FALLBACK_PASSWORD
    assert o.evidence["lockout_source"] == FALLBACK_LOCKOUT


def test_service_account_errors_without_a_directory_connection(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}", service_account="gmsa-adfs")
    status, reason = judge("directory.service-account", gather(samba_dc, cfg, password="wrong"), cfg)
    assert status is Status.ERROR and reason.startswith(REFUSED)


# --- directory.privileged-federated ---------------------------------------------------------------

EXPECTED_MEMBERS = (
    PrivilegedMember("Domain Admins", f"CN=adminfed,OU=Lab,{B}", "adminfed", "adminfed@contoso.com",
                     ("Administrators > Domain Admins", "Domain Admins")),
    PrivilegedMember("Domain Admins", f"CN=Administrator,{USERS}", "Administrator", None,
                     ("Administrators", "Administrators > Domain Admins", "Administrators > Enterprise Admins",
                      "Domain Admins", "Enterprise Admins")),
    PrivilegedMember("Administrators", f"CN=builtinadm,{USERS}", "builtinadm", "builtinadm@contoso.com",
                     ("Administrators",)),
    PrivilegedMember("Domain Admins", f"CN=clean1,OU=Clean,{B}", "clean1", "clean1@contoso.com",
                     ("Administrators > Domain Admins", "Domain Admins")),
    PrivilegedMember("Domain Admins", f"CN=pgadmin,{USERS}", "pgadmin", "pgadmin@contoso.com",
                     ("Administrators > Domain Admins (primary group)", "Domain Admins (primary group)")),
)


@pytest.fixture(scope="module")
def clean(samba_dc):
    cfg = make_config(samba_dc, f"OU=Clean,{B}")
    return cfg, gather(samba_dc, cfg)


def test_privileged_members_include_primary_group_and_builtin_administrators(samba_dc, clean):
    """pgadmin is in no group's member (its primaryGroupID is 512); builtinadm is only in
    BUILTIN\\Administrators; Domain Admins and Enterprise Admins are nested in Administrators."""
    _, facts = clean
    assert "privileged" not in facts.section_errors
    assert facts.privileged_members == EXPECTED_MEMBERS
    # The same members when every group's member is read one value per range request.
    _, ranged = _account_facts(samba_dc, None, range_step=1)
    assert ranged.privileged_members == EXPECTED_MEMBERS


def test_privileged_federated_fails_with_every_account_and_how_it_is_privileged(clean):
    cfg, facts = clean
    status, o = judge("directory.privileged-federated", facts, cfg)
    assert (status, o.summary) == (Status.FAIL, "4 privileged account(s) with a UPN in a federated domain: adminfed, "
                                                "builtinadm, clean1, pgadmin.")
    assert o.evidence["members_examined"] == 5
    assert [(m["sam_account_name"], m["groups"]) for m in o.evidence["federated_members"]] == [
        ("adminfed", ["Administrators > Domain Admins", "Domain Admins"]),
        ("builtinadm", ["Administrators"]),
        ("clean1", ["Administrators > Domain Admins", "Domain Admins"]),
        ("pgadmin", ["Administrators > Domain Admins (primary group)", "Domain Admins (primary group)"]),
    ]
    assert o.evidence["federated_members"][3] == {
        "group": "Domain Admins", "groups": ["Administrators > Domain Admins (primary group)",
                                            "Domain Admins (primary group)"],
        "dn": f"CN=pgadmin,{USERS}", "sam_account_name": "pgadmin", "user_principal_name": "pgadmin@contoso.com"}


def test_privileged_federated_passes_skips_and_errors(samba_dc, clean, samba_legacy_dc):
    _, facts = clean
    other = make_config(samba_dc, f"OU=Clean,{B}", federation={"domains": ["fabrikam.com"]})
    status, o = judge("directory.privileged-federated", facts, other)
    assert (status, o.summary) == (Status.PASS, "None of the 5 members of Domain Admins, Enterprise Admins and "
                                                "Administrators (nested and primary-group members included) has a UPN "
                                                "in a federated domain.")
    assert o.evidence["federated_members"] == []
    none = make_config(samba_dc, f"OU=Clean,{B}", federation={})
    status, o = judge("directory.privileged-federated", facts, none)
    assert (status, o.summary) == (Status.SKIP, "No federated domains configured (federation.domains).")
    status, reason = judge("directory.privileged-federated", gather(samba_dc, other, password="wrong"), other)
    assert status is Status.ERROR and reason.startswith(REFUSED)
    # The legacy domain's only administrator has no UPN: a pass with contoso.com federated.
    legacy_cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1")
    legacy = gather(samba_legacy_dc, legacy_cfg)
    status, o = judge("directory.privileged-federated", legacy, legacy_cfg)
    assert status is Status.PASS and o.evidence["members_examined"] == 1
    assert [(m.sam_account_name, m.groups) for m in legacy.privileged_members] == [
        ("Administrator", ("Administrators", "Administrators > Domain Admins", "Administrators > Enterprise Admins",
                           "Domain Admins", "Enterprise Admins"))]


def test_privileged_members_in_another_domain_are_not_judged_as_clean(clean):
    """The lab forest has one domain, so the member in a child domain is added to the real facts: a
    DC answers a read of it with a referral, which the probe does not follow (other_domain)."""
    import dataclasses

    from adfs_readiness.facts.directory import PrivilegedMember

    cfg, facts = clean
    emea = PrivilegedMember("Enterprise Admins", f"CN=ops,CN=Users,DC=emea,{B}", None, None, ("Enterprise Admins",),
                            other_domain=True)
    with_foreign = dataclasses.replace(facts, privileged_members=facts.privileged_members + (emea,))
    status, o = judge("directory.privileged-federated", with_foreign, cfg)
    assert status is Status.FAIL and o.summary.endswith("; 1 member(s) in other domains were not examined.")
    assert o.evidence["members_in_other_domains"] == [emea.dn] and o.evidence["members_examined"] == 5
    fabrikam = cfg.with_changes(federation={"domains": ("fabrikam.com",)})
    status, o = judge("directory.privileged-federated", with_foreign, fabrikam)
    assert status is Status.WARN and "1 member(s) in other domains of the forest were not examined" in o.summary
    assert emea.dn in o.summary
