"""Account-level directory checks: directory.service-account, directory.spn, directory.kds-root-key,
directory.seamless-sso-account and directory.privileged-federated (CHECKS.md, directory table).

Windows times stay FILETIME integers and are compared with ``filetime_from_datetime(ctx.now)``;
intervals (maxPwdAge, lockoutDuration) are negative 100-ns counts with the minimum int64 meaning
"never" (MS-ADA3).
"""

from __future__ import annotations

from adfs_readiness.api import Area, CheckContext, Outcome, Severity, Status, check
from adfs_readiness.facts.directory import DIRECTORY_FACT, INTERVAL_NEVER, AccountInfo, filetime_is_never

from ._directory_common import (
    REF_ADFS_REQUIREMENTS,
    REF_KDS,
    REF_SCUBA,
    REF_SSO_ROLLOVER,
    gate,
    now_filetime,
    when,
)

__all__ = ["service_account", "spn", "kds_root_key", "seamless_sso_account", "privileged_federated"]

_REQ = (DIRECTORY_FACT,)
_HOUR = 3600 * 10**7  # FILETIME units (100 ns) per hour
_DAY = 24 * _HOUR
_UF_ACCOUNTDISABLE, _UF_DONT_EXPIRE_PASSWD = 0x2, 0x10000
_AES = 0x8 | 0x10  # AES128_CTS_HMAC_SHA1_96 | AES256_CTS_HMAC_SHA1_96 (MS-KILE 2.2.7)


def _account_evidence(a: AccountInfo) -> dict:
    return {"dn": a.dn, "sam_account_name": a.sam_account_name, "gmsa": a.is_gmsa,
            "user_account_control": a.user_account_control, "password_last_set": when(a.password_last_set),
            "lockout_time": when(a.lockout_time) if a.lockout_time else None,
            "account_expires": when(a.account_expires), "supported_encryption_types": a.supported_encryption_types,
            "service_principal_names": list(a.service_principal_names)}


@check(id="directory.service-account", title="AD FS service account", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="The configured AD FS service account exists, is enabled, not locked out, its password and the account "
            "have not expired; a gMSA is preferred; msDS-SupportedEncryptionTypes includes AES.",
       remediation="Enable or unlock the account, reset its password (or better, move AD FS to a gMSA: "
                   "New-ADServiceAccount ... then Set-AdfsProperties / Install-AdfsFarm -GroupServiceAccountIdentifier), "
                   "and set msDS-SupportedEncryptionTypes to include AES (0x18).",
       references=(REF_ADFS_REQUIREMENTS,))
def service_account(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "service_account")
    if isinstance(facts, Outcome):
        return facts
    name = ctx.config.directory.service_account
    if not name:
        return Outcome(Status.SKIP, "No AD FS service account configured (directory.service_account).")
    a = facts.service_account
    if a is None:
        return Outcome(Status.FAIL, f"The AD FS service account {name!r} does not exist in the domain.",
                       evidence={"service_account": name})
    now = now_filetime(ctx.now)
    uac = a.user_account_control or 0
    failures = []
    if uac & _UF_ACCOUNTDISABLE:
        failures.append("disabled")
    if a.lockout_time:
        duration = facts.lockout_duration
        if duration in (None, INTERVAL_NEVER) or a.lockout_time + abs(duration) > now:
            failures.append(f"locked out since {when(a.lockout_time)}")
    if not filetime_is_never(a.account_expires) and a.account_expires is not None and a.account_expires <= now:
        failures.append(f"the account expired on {when(a.account_expires)}")
    if not a.is_gmsa and not uac & _UF_DONT_EXPIRE_PASSWD:
        if a.password_last_set == 0:
            failures.append("the password must be changed at next logon")
        elif a.password_last_set and facts.max_pwd_age not in (None, 0, INTERVAL_NEVER):
            expires = a.password_last_set + abs(facts.max_pwd_age or 0)
            if expires <= now:
                failures.append(f"the password expired on {when(expires)} (maxPwdAge "
                                f"{abs(facts.max_pwd_age or 0) // _DAY} days)")
    evidence = _account_evidence(a)
    if failures:
        return Outcome(Status.FAIL, f"The AD FS service account {a.sam_account_name}: " + "; ".join(failures) + ".",
                       evidence=evidence)
    warnings = []
    if not a.is_gmsa:
        warnings.append("is a user account, not a group managed service account (gMSA)")
    if not (a.supported_encryption_types or 0) & _AES:
        warnings.append("has no AES in msDS-SupportedEncryptionTypes")
    if warnings:
        return Outcome(Status.WARN, f"The AD FS service account {a.sam_account_name} " + " and ".join(warnings) + ".",
                       evidence=evidence)
    return Outcome(Status.PASS, f"The AD FS service account {a.sam_account_name} is a usable gMSA with AES.",
                   evidence=evidence)


@check(id="directory.spn", title="Federation service SPN", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="HOST/<federation service name> is registered exactly once forest-wide, on the service account; "
            "HTTP/<fs>, if present, on the same account.",
       remediation="setspn -Q HOST/<fs> lists the holders; remove the duplicates (setspn -D HOST/<fs> <account>) and "
                   "register it on the AD FS service account (setspn -S HOST/<fs> <account>). A duplicate SPN breaks "
                   "Windows integrated authentication (Kerberos) for everyone.",
       references=(REF_ADFS_REQUIREMENTS,))
def spn(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "spn")
    if isinstance(facts, Outcome):
        return facts
    fs = ctx.config.service_name
    if not fs:
        return Outcome(Status.SKIP, "No federation service name configured (federation.service_name).")
    regs = {r.spn.split("/", 1)[0].upper(): r for r in facts.spn_registrations}
    host, http = regs.get("HOST"), regs.get("HTTP")
    if host is None:
        return Outcome(Status.SKIP, "The SPN holders were not read.")
    evidence = {r.spn: {"holders": list(r.holders), "accounts": list(r.holder_accounts), "source": r.source}
                for r in facts.spn_registrations}
    expected = facts.service_account.dn if facts.service_account else None
    evidence["service_account"] = expected
    if not host.holders:
        return Outcome(Status.FAIL, f"HOST/{fs} is not registered on any account: Kerberos to the federation "
                                    "service fails.", evidence=evidence)
    if len(host.holders) > 1:
        return Outcome(Status.FAIL, f"HOST/{fs} is registered on {len(host.holders)} accounts "
                                    f"({', '.join(host.holder_accounts)}): Kerberos tickets fail (duplicate SPN).",
                       evidence=evidence)
    if expected and host.holders[0].lower() != expected.lower():
        return Outcome(Status.FAIL, f"HOST/{fs} is registered on {host.holder_accounts[0]}, not on the AD FS service "
                                    "account.", evidence=evidence)
    if http is not None and http.holders and [h.lower() for h in http.holders] != [host.holders[0].lower()]:
        return Outcome(Status.WARN, f"HTTP/{fs} is registered on {', '.join(http.holder_accounts)}, not on the "
                                    f"account holding HOST/{fs} ({host.holder_accounts[0]}).", evidence=evidence)
    return Outcome(Status.PASS, f"HOST/{fs} is registered once, on {host.holder_accounts[0]}.", evidence=evidence)


@check(id="directory.kds-root-key", title="KDS root key", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="When a gMSA is used, a KDS root key exists that is in effect (msKds-UseStartTime, 10 hours after "
            "creation by default, has passed).",
       remediation="Create one with Add-KdsRootKey (it takes effect 10 hours later so that every DC has it; do not "
                   "use -EffectiveImmediately in production) and wait before creating or using the gMSA.",
       references=(REF_KDS,))
def kds_root_key(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "kds")
    if isinstance(facts, Outcome):
        return facts
    gmsa = facts.service_account.is_gmsa if facts.service_account is not None else bool(facts.gmsa_accounts)
    if not gmsa:
        return Outcome(Status.SKIP, "No gMSA is in use (the service account is not one and none exists).")
    now = now_filetime(ctx.now)
    keys = [{"dn": k.dn, "created": when(k.created), "in_effect_from": when(k.use_start),
             "age_hours": (now - k.created) // _HOUR if k.created else None,
             "in_effect": k.use_start is not None and k.use_start <= now} for k in facts.kds_root_keys]
    evidence = {"keys": keys, "gmsa_accounts": list(facts.gmsa_accounts)}
    usable = [k for k in keys if k["in_effect"]]
    if usable:
        return Outcome(Status.PASS, f"{len(usable)} KDS root key(s) in effect (the oldest created "
                                    f"{usable[0]['created']}).", evidence=evidence)
    if keys:
        return Outcome(Status.FAIL, f"{len(keys)} KDS root key(s) exist but none is in effect yet (younger than 10 "
                                    "hours): gMSA passwords cannot be retrieved until then.", evidence=evidence)
    return Outcome(Status.FAIL, "gMSAs are used but the forest has no KDS root key: no gMSA password can be "
                                "computed.", evidence=evidence)


@check(id="directory.seamless-sso-account", title="Seamless SSO computer account", area=Area.DIRECTORY,
       severity=Severity.MEDIUM, blocker=False, requires=_REQ,
       rule="If AZUREADSSOACC exists, its password (the Kerberos decryption key shared with Entra ID) is younger "
            "than one year.",
       remediation="Roll over the key from the Entra Connect server: Import-Module AzureADSSO.psd1; "
                   "New-AzureADSSOAuthenticationContext; Update-AzureADSSOForest -OnPremCredentials $creds. "
                   "Microsoft recommends doing so at least every 30 days.",
       references=(REF_SSO_ROLLOVER,))
def seamless_sso_account(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "seamless_sso")
    if isinstance(facts, Outcome):
        return facts
    a = facts.seamless_sso_account
    if a is None:
        return Outcome(Status.SKIP, "No AZUREADSSOACC computer account (Seamless SSO is not configured).")
    now = now_filetime(ctx.now)
    evidence = _account_evidence(a)
    if not a.password_last_set:
        return Outcome(Status.WARN, "AZUREADSSOACC has never had its password set.", evidence=evidence)
    days = (now - a.password_last_set) // _DAY
    evidence["password_age_days"] = days
    if days > 365:
        return Outcome(Status.WARN, f"The AZUREADSSOACC password (Kerberos decryption key) is {days} days old.",
                       evidence=evidence)
    return Outcome(Status.PASS, f"The AZUREADSSOACC password is {days} days old.", evidence=evidence)


@check(id="directory.privileged-federated", title="Federated privileged accounts", area=Area.DIRECTORY,
       severity=Severity.HIGH, blocker=False, requires=_REQ,
       rule="No member of Domain Admins or Enterprise Admins has a UPN in a federated domain (privileged cloud "
            "roles belong to cloud-only accounts).",
       remediation="Give these administrators separate on-premises admin accounts whose UPN is not in a federated "
                   "domain (or keep them out of sync), and use cloud-only accounts for Entra roles.",
       references=(REF_SCUBA,))
def privileged_federated(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "privileged")
    if isinstance(facts, Outcome):
        return facts
    domains = ctx.config.federated_domains
    if not domains:
        return Outcome(Status.SKIP, "No federated domains configured (federation.domains).")
    hits = []
    for m in facts.privileged_members:
        suffix = (m.user_principal_name or "").rsplit("@", 1)[-1].lower() if m.user_principal_name else ""
        if suffix and any(suffix == d or suffix.endswith("." + d) for d in domains):
            hits.append({"group": m.group, "dn": m.dn, "sam_account_name": m.sam_account_name,
                         "user_principal_name": m.user_principal_name})
    evidence = {"members_examined": len(facts.privileged_members), "federated_domains": list(domains),
                "federated_members": hits}
    if hits:
        names = ", ".join(sorted({h["sam_account_name"] or h["dn"] for h in hits}))
        return Outcome(Status.FAIL, f"{len(hits)} privileged membership(s) with a UPN in a federated domain: {names}.",
                       evidence=evidence)
    return Outcome(Status.PASS, f"None of the {len(facts.privileged_members)} Domain/Enterprise Admins members has a "
                                "UPN in a federated domain.", evidence=evidence)
