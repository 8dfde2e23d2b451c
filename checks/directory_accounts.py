"""Account-level directory checks: directory.service-account, directory.spn, directory.kds-root-key,
directory.seamless-sso-account and directory.privileged-federated (CHECKS.md, directory table).

Windows times stay FILETIME integers and are compared with ``filetime_from_datetime(ctx.now)``;
intervals (maxPwdAge, lockoutDuration) are negative 100-ns counts with the minimum int64 meaning
"never" (MS-ADA3).

Password expiry and lockout are what the domain controller computes (msDS-UserPasswordExpiryTimeComputed,
msDS-User-Account-Control-Computed), so a fine-grained password policy (PSO) that applies to the
account counts; the domain's maxPwdAge / lockoutDuration are only the fallback when the DC does not
return them, and the evidence says which was used.
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts.dns import DNS_INTERNAL_FACT
from adfs_readiness.facts.directory import (
    DIRECTORY_FACT,
    FILETIME_NEVER,
    INTERVAL_NEVER,
    AccountInfo,
    DirectoryFacts,
    PasswordSettings,
    SpnRegistration,
    filetime_is_never,
)

from ._directory_common import (
    REF_ADFS_REQUIREMENTS,
    REF_KDS,
    REF_KDS_CREATE,
    REF_SCUBA,
    REF_SSO_ROLLOVER,
    bind_account_privileged,
    gate,
    now_filetime,
    when,
)

__all__ = ["service_account", "spn", "kds_root_key", "seamless_sso_account", "privileged_federated"]

_REQ = (DIRECTORY_FACT,)
_HOUR = 3600 * 10**7  # FILETIME units (100 ns) per hour
_DAY = 24 * _HOUR
_UF_ACCOUNTDISABLE, _UF_DONT_EXPIRE_PASSWD = 0x2, 0x10000
# Bits only msDS-User-Account-Control-Computed carries (MS-ADTS 3.1.1.4.5.17).
_UF_LOCKOUT, _UF_PASSWORD_EXPIRED = 0x10, 0x800000
_EXPIRY_NEVER = FILETIME_NEVER[1]  # msDS-UserPasswordExpiryTimeComputed 0x7FFFFFFFFFFFFFFF
_AES = 0x8 | 0x10  # AES128_CTS_HMAC_SHA1_96 | AES256_CTS_HMAC_SHA1_96 (MS-KILE 2.2.7)
_EXPIRY_ATTR, _UAC_ATTR = "msDS-UserPasswordExpiryTimeComputed", "msDS-User-Account-Control-Computed"

REF_EXPIRY_COMPUTED = Reference("MS-ADTS 3.1.1.4.5.33 msDS-UserPasswordExpiryTimeComputed (0x7FFFFFFFFFFFFFFF: never; "
                                "0: pwdLastSet is 0; else pwdLastSet + the effective maximum password age)",
                                "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/"
                                "f9e9b7e2-c7ac-4db6-ba38-71d9696981e9")
REF_UAC_COMPUTED = Reference("MS-ADTS 3.1.1.4.5.17 msDS-User-Account-Control-Computed (UF_LOCKOUT, UF_PASSWORD_EXPIRED "
                             "with the effective lockout duration)",
                             "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/"
                             "b80798ae-1f8c-4d30-9d80-a1f3281e96e2")
REF_FGPP = Reference("Configure fine grained password policies for Active Directory Domain Services",
                     "https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/get-started/adac/"
                     "fine-grained-password-policies")


def _days(interval: int) -> int:
    return abs(interval) // _DAY


def _rdn(dn: str) -> str:
    """The first RDN's value (``CN=pso-svc,CN=Password Settings Container,...`` -> ``pso-svc``)."""
    first = dn.split(",", 1)[0]
    return first.split("=", 1)[1] if "=" in first else first


def _expiry_text(value: int | None) -> str | None:
    """msDS-UserPasswordExpiryTimeComputed for evidence: 0 is "must change", not "never" as in
    accountExpires (MS-ADTS 3.1.1.4.5.33)."""
    if value == 0:
        return "at next logon (pwdLastSet is 0)"
    return "never" if value == _EXPIRY_NEVER else when(value)


def _pso_phrase(a: AccountInfo) -> str | None:
    """"fine-grained password policy <name>" when a PSO applies (None = the domain policy)."""
    return f"fine-grained password policy {_rdn(a.resultant_pso)}" if a.resultant_pso else None


def _lockout_words(duration: int | None) -> str:
    if duration is None:
        return "lockout duration not read"
    if duration >= 0 or duration == INTERVAL_NEVER:  # MS-ADTS 3.1.1.4.5.17: locked until unlocked
        return "lockout until an administrator unlocks it"
    return f"lockout duration {abs(duration) // (60 * 10**7)} minutes"


def _pso_evidence(p: PasswordSettings | None) -> dict | None:
    if p is None:
        return None
    return {"dn": p.dn, "precedence": p.precedence,
            "max_password_age_days": None if p.max_pwd_age is None else
            ("never" if p.max_pwd_age == INTERVAL_NEVER else _days(p.max_pwd_age)),
            "lockout": None if p.lockout_duration is None else _lockout_words(p.lockout_duration),
            "lockout_threshold": p.lockout_threshold}


def _account_evidence(a: AccountInfo) -> dict:
    return {"dn": a.dn, "sam_account_name": a.sam_account_name, "gmsa": a.is_gmsa,
            "user_account_control": a.user_account_control, "password_last_set": when(a.password_last_set),
            "lockout_time": when(a.lockout_time) if a.lockout_time else None,
            "account_expires": when(a.account_expires), "supported_encryption_types": a.supported_encryption_types,
            "service_principal_names": list(a.service_principal_names)}


def _lockout(a: AccountInfo, facts: DirectoryFacts, now: int) -> tuple[str | None, str]:
    """(the lockout failure or None, where the verdict came from). The DC's UF_LOCKOUT is its verdict
    at the moment of the read, with the lockout duration of the PSO in effect; without it, the
    domain's lockoutDuration (0 and the minimum int64: until an administrator unlocks)."""
    since = f" since {when(a.lockout_time)}" if a.lockout_time else ""
    if a.account_control_computed is not None:
        if not a.account_control_computed & _UF_LOCKOUT:
            return None, _UAC_ATTR
        policy = _pso_phrase(a)
        if policy and a.password_settings is not None:
            policy += f": {_lockout_words(a.password_settings.lockout_duration)}"
        return f"locked out{since} (per {_UAC_ATTR}{'; ' + policy if policy else ''})", _UAC_ATTR
    source = (f"domain policy ({_lockout_words(facts.lockout_duration)}); the domain controller did "
              f"not return {_UAC_ATTR}, so a fine-grained password policy is not taken into account")
    duration = facts.lockout_duration
    if a.lockout_time and (duration is None or duration >= 0 or duration == INTERVAL_NEVER
                           or a.lockout_time + abs(duration) > now):
        return f"locked out{since}", source
    return None, source


def _password(a: AccountInfo, facts: DirectoryFacts, now: int, uac: int) -> tuple[str | None, str, str | None]:
    """(the password failure or None, where the verdict came from, when the password expires): the
    DC's computed expiry time (absolute, judged against the run's clock), else its
    UF_PASSWORD_EXPIRED bit, else pwdLastSet + the domain's maxPwdAge."""
    expiry = a.password_expiry_computed
    if expiry is not None:
        policy = _pso_phrase(a)
        if policy and a.password_settings is not None and a.password_settings.max_pwd_age not in (None, INTERVAL_NEVER):
            policy += f": maximum password age {_days(a.password_settings.max_pwd_age or 0)} days"
        elif not policy and facts.max_pwd_age not in (None, 0, INTERVAL_NEVER):
            policy = f"domain policy: maximum password age {_days(facts.max_pwd_age or 0)} days"
        expires = _expiry_text(expiry)
        if expiry == 0:
            return "the password must be changed at next logon (pwdLastSet is 0)", _EXPIRY_ATTR, expires
        if expiry != _EXPIRY_NEVER and expiry <= now:
            return (f"the password expired on {when(expiry)} (per {_EXPIRY_ATTR}{'; ' + policy if policy else ''})",
                    _EXPIRY_ATTR, expires)
        return None, _EXPIRY_ATTR, expires
    if a.account_control_computed is not None:
        if a.account_control_computed & _UF_PASSWORD_EXPIRED:
            return f"the password has expired (per {_UAC_ATTR})", _UAC_ATTR, None
        return None, _UAC_ATTR, None
    source = (f"domain policy (maxPwdAge); the domain controller did not return {_EXPIRY_ATTR}, so a fine-grained "
              "password policy is not taken into account")
    if a.is_gmsa or uac & _UF_DONT_EXPIRE_PASSWD:
        return None, source, "never"
    if a.password_last_set == 0:
        return "the password must be changed at next logon (pwdLastSet is 0)", source, _expiry_text(0)
    if facts.max_pwd_age in (0, INTERVAL_NEVER):  # MS-ADA3 Max-Pwd-Age: passwords never expire
        return None, source, "never (domain policy: no maximum password age)"
    if a.password_last_set and facts.max_pwd_age is not None:
        expires_at = a.password_last_set + abs(facts.max_pwd_age)
        if expires_at <= now:
            return (f"the password expired on {when(expires_at)} (domain policy: maximum password age "
                    f"{_days(facts.max_pwd_age)} days)", source, when(expires_at))
        return None, source, when(expires_at)
    return None, source, None


@check(id="directory.service-account", title="AD FS service account", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="The configured AD FS service account exists, is enabled, not locked out, its password and the account "
            "have not expired and it need not change its password at next logon, as the domain controller computes "
            "them (msDS-User-Account-Control-Computed, msDS-UserPasswordExpiryTimeComputed: a fine-grained password "
            "policy counts); a gMSA is preferred; msDS-SupportedEncryptionTypes includes AES.",
       remediation="Enable or unlock the account, reset its password (or better, move AD FS to a gMSA: "
                   "New-ADServiceAccount ... then Set-AdfsProperties / Install-AdfsFarm -GroupServiceAccountIdentifier), "
                   "check the fine-grained password policy that applies to it (Get-ADUserResultantPasswordPolicy), "
                   "and set msDS-SupportedEncryptionTypes to include AES (0x18).",
       references=(REF_ADFS_REQUIREMENTS, REF_EXPIRY_COMPUTED, REF_UAC_COMPUTED, REF_FGPP))
def service_account(ctx: CheckContext) -> Outcome:
    """FAIL when the account is missing, disabled (userAccountControl 0x2), locked out, expired
    (accountExpires in the past), or its password expired or must be changed at next logon.
    Lockout: the DC's UF_LOCKOUT bit of msDS-User-Account-Control-Computed, computed at the read
    with the effective lockout duration (a PSO's msDS-LockoutDuration wins over the domain's
    lockoutDuration; MS-ADTS 3.1.1.4.5.17). Password: msDS-UserPasswordExpiryTimeComputed, an
    absolute FILETIME judged against ``ctx.now`` (0x7FFFFFFFFFFFFFFF never; 0 = pwdLastSet is 0,
    must change; MS-ADTS 3.1.1.4.5.33). Without those attributes (a DC before Windows Server 2008,
    or a reader denied them) the domain's lockoutDuration and maxPwdAge are used and the evidence
    says so (``lockout_source``, ``password_expiry_source``). WARN for a user account instead of a
    gMSA, or no AES in msDS-SupportedEncryptionTypes; PASS otherwise; SKIP without
    ``directory.service_account``; error when the account could not be read."""
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
    locked, lockout_source = _lockout(a, facts, now)
    if locked:
        failures.append(locked)
    if not filetime_is_never(a.account_expires) and a.account_expires is not None and a.account_expires <= now:
        failures.append(f"the account expired on {when(a.account_expires)}")
    expired, password_source, expires = _password(a, facts, now, uac)
    if expired:
        failures.append(expired)
    evidence = _account_evidence(a)
    evidence.update({"password_expires": expires,
                     "domain_max_password_age_days": None if facts.max_pwd_age is None else
                     "never" if facts.max_pwd_age in (0, INTERVAL_NEVER) else _days(facts.max_pwd_age),
                     "domain_lockout": _lockout_words(facts.lockout_duration),
                     "account_control_computed": a.account_control_computed,
                     "password_expiry_source": password_source, "lockout_source": lockout_source,
                     "resultant_pso": a.resultant_pso, "password_settings": _pso_evidence(a.password_settings)})
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


REF_TSHOOT_IWA = Reference("AD FS troubleshooting: Integrated Windows Authentication (SPN misconfiguration)",
                           "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/troubleshooting/ad-fs-tshoot-iwa")
REF_SETSPN = Reference("setspn (-Q query, -S add after a duplicate check, -D delete)",
                       "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/setspn")


def _same_account(a: str | None, b: str | None) -> bool:
    """sAMAccountNames are compared case-insensitively; a gMSA's ends with ``$``, which
    configurations often leave out (``gmsa-adfs`` = ``gmsa-adfs$``)."""
    return bool(a) and bool(b) and a.lower().rstrip("$") == b.lower().rstrip("$")  # type: ignore[union-attr]


def _holders(reg: SpnRegistration | None) -> list[str]:
    """The holders' sAMAccountNames (the DN when it was not read), sorted: the Global Catalog
    returns them in no stable order, and a reordering must not look like a change between runs."""
    if reg is None:
        return []
    return sorted((h.sam_account_name or h.dn for h in reg.holders), key=str.lower)


def _state(reg: SpnRegistration | None, name: str) -> str:
    """" (enabled)" / " (disabled)" for a holder: an enabled leftover account is the one that gets
    the tickets meant for AD FS; a disabled one still makes the SPN a duplicate."""
    for h in reg.holders if reg is not None else ():
        if (h.sam_account_name or h.dn) == name and h.enabled is not None:
            return " (enabled)" if h.enabled else " (disabled)"
    return ""


def _canonical_target(ctx: CheckContext, facts: DirectoryFacts, fs: str) -> tuple[str | None, str | None]:
    """(the name the federation service name's CNAME chain ends at, where that came from): the
    internal DNS view's lookup when the run has it, else the directory probe's own resolution;
    None when the name is no alias (or was not resolved)."""
    view = ctx.facts.get(DNS_INTERNAL_FACT)
    lookup = view.find(fs, "A") if view is not None and hasattr(view, "find") else None
    if lookup is not None and lookup.cname_chain:
        return lookup.canonical_name.lower().rstrip("."), "the internal DNS view"
    aliases = facts.service_name_aliases
    if aliases is not None and aliases.chain and aliases.canonical_name and aliases.canonical_name != fs.lower():
        return aliases.canonical_name, f"the directory probe's resolver ({aliases.resolver or 'system'})"
    return None, None


@check(id="directory.spn", title="Federation service SPN", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ, optional=(DNS_INTERNAL_FACT,),
       rule="HOST/<federation service name> is registered exactly once forest-wide, on the configured AD FS service "
            "account (directory.service_account); HTTP/<fs>, if present, also only on that account; every other "
            "holder named, enabled or disabled (an enabled leftover account gets the tickets). When the federation "
            "service name is a CNAME, browsers ask for HTTP/<the name it points to>: that SPN must be on the service "
            "account too, or on no account (a warning: Kerberos then fails over to NTLM).",
       remediation="setspn -Q HOST/<fs> lists the holders; remove it from every other account (setspn -D HOST/<fs> "
                   "<account>) and register it on the AD FS service account (setspn -S HOST/<fs> <account>). A "
                   "duplicate or misplaced SPN breaks Windows integrated authentication (Kerberos) for everyone.",
       references=(REF_TSHOOT_IWA, REF_SETSPN, REF_ADFS_REQUIREMENTS))
def spn(ctx: CheckContext) -> Outcome:
    """Browsers ask the KDC for a ticket to ``HTTP/<fs>``; without an explicit HTTP/ SPN the KDC
    maps it to ``HOST/<fs>`` (the HOST alias), so HOST/<fs> on the AD FS service account covers
    them. The ticket is encrypted for whichever account holds the SPN: on another account, or on
    two accounts, AD FS cannot decrypt it and integrated authentication fails (Microsoft Learn, AD
    FS IWA troubleshooting). FAIL for: no HOST/<fs>; HOST/<fs> on several accounts (every holder
    named, sorted, and whether the service account is among them); HOST/<fs> on another account
    than ``directory.service_account``; HTTP/<fs> on several accounts or on another account than
    the service account (or, without a configured account, than HOST/<fs>'s holder) — an explicit
    HTTP/ SPN wins over the HOST alias, so browsers get tickets AD FS cannot read. PASS otherwise;
    SKIP without a service name or when the holders were not read."""
    facts = gate(ctx, "spn", "service_account")
    if isinstance(facts, Outcome):
        return facts
    fs = ctx.config.federation.service_name
    if not fs:
        return Outcome(Status.SKIP, "No federation service name configured (federation.service_name).")
    regs = {r.spn.lower(): r for r in facts.spn_registrations}
    host, http = regs.get(f"host/{fs.lower()}"), regs.get(f"http/{fs.lower()}")
    if host is None:
        return Outcome(Status.SKIP, "The SPN holders were not read.")
    configured = ctx.config.directory.service_account
    found = facts.service_account
    account = found.sam_account_name if found is not None and found.sam_account_name else configured
    evidence: dict = {r.spn: {"holders": sorted((h.dn for h in r.holders), key=str.lower), "accounts": _holders(r),
                              "enabled": {h.sam_account_name or h.dn: h.enabled for h in r.holders}, "source": r.source}
                      for r in facts.spn_registrations}
    evidence["service_account"] = account
    evidence["service_account_dn"] = found.dn if found is not None else None
    problems: list[str] = []
    commands: list[str] = []
    host_names = _holders(host)
    keep = account or "<AD FS service account>"
    if not host_names:
        problems.append(f"HOST/{fs} is not registered on any account: Kerberos to the federation service fails")
        commands.append(f"setspn -S HOST/{fs} {keep}")
    elif len(host_names) > 1:
        among = any(_same_account(n, configured) for n in host_names)
        where = ("" if not configured else
                 f"; the AD FS service account {account} is among them" if among else
                 f"; the AD FS service account {account} is NOT among them")
        listed = ", ".join(n + ("" if _same_account(n, configured) else _state(host, n)) for n in host_names)
        problems.append(f"HOST/{fs} is registered on {len(host_names)} accounts ({listed}): Kerberos "
                        f"tickets fail (duplicate SPN){where}")
        commands += [f"setspn -D HOST/{fs} {n}" for n in host_names if not _same_account(n, configured)]
        if not among:
            commands.append(f"setspn -S HOST/{fs} {keep}")
    elif configured and not _same_account(host_names[0], configured):
        leftover = ("an enabled leftover account" if _state(host, host_names[0]) == " (enabled)" else
                    "a disabled account" if _state(host, host_names[0]) == " (disabled)" else "another account")
        problems.append(f"HOST/{fs} is on {host_names[0]} ({leftover}), not on the AD FS service account {account}: "
                        f"Kerberos tickets for the federation service are encrypted for {host_names[0]}")
        commands += [f"setspn -D HOST/{fs} {host_names[0]}", f"setspn -S HOST/{fs} {account}"]
    http_names = _holders(http) if http is not None else []
    # Whom HTTP/<fs> must belong to: the service account, or (not configured) HOST/<fs>'s single holder.
    owner = account if configured else host_names[0] if len(host_names) == 1 else None
    if len(http_names) > 1:
        problems.append(f"HTTP/{fs} is registered on {len(http_names)} accounts ({', '.join(http_names)}): browsers' "
                        f"Kerberos tickets fail (duplicate SPN)")
        commands += [f"setspn -D HTTP/{fs} {n}" for n in http_names if not _same_account(n, owner)]
    elif http_names and owner and not _same_account(http_names[0], owner):
        whose = f"the AD FS service account {owner}" if configured else f"the account holding HOST/{fs} ({owner})"
        problems.append(f"HTTP/{fs} is on {http_names[0]}{_state(http, http_names[0])}, not on {whose}: browsers ask "
                        f"for HTTP/{fs} and get a ticket for {http_names[0]}, which AD FS cannot decrypt (integrated "
                        "authentication fails)")
        commands += [f"setspn -D HTTP/{fs} {http_names[0]}", f"setspn -S HTTP/{fs} {owner}"]
    target, target_source = _canonical_target(ctx, facts, fs)
    warnings_: list[str] = []
    if target is not None:
        evidence["cname_target"] = {"name": target, "from": target_source}
        t_http, t_host = regs.get(f"http/{target}"), regs.get(f"host/{target}")
        if t_http is None and t_host is None:
            warnings_.append(f"{fs} is a CNAME of {target} (per {target_source}), whose SPN holders were not read")
        else:
            held = _holders(t_http) or _holders(t_host)
            which = f"HTTP/{target}" if _holders(t_http) else f"HOST/{target}"
            if len(held) > 1:
                problems.append(f"{fs} is a CNAME of {target}: browsers ask for HTTP/{target}, and {which} is registered "
                                f"on {len(held)} accounts ({', '.join(held)}): duplicate SPN")
            elif held and owner and not _same_account(held[0], owner):
                problems.append(f"{fs} is a CNAME of {target}: browsers ask for HTTP/{target}, and {which} is on "
                                f"{held[0]}{_state(t_http or t_host, held[0])}, not on the AD FS service account "
                                f"{owner}: they get tickets AD FS cannot decrypt")
                commands += [f"setspn -D {which} {held[0]}", f"setspn -S HTTP/{target} {owner}"]
            elif not held:
                warnings_.append(f"{fs} is a CNAME of {target} (per {target_source}): browsers ask for a ticket to "
                                 f"HTTP/{target}, which no account holds, so Kerberos fails and they fall back to NTLM "
                                 f"(register HTTP/{target} on the AD FS service account, or make {fs} an A record)")
                commands.append(f"setspn -S HTTP/{target} {owner or keep}")
    evidence["commands"] = commands
    if problems:
        return Outcome(Status.FAIL, "; ".join(problems) + ".", evidence=evidence,
                       remediation=("Run, as a domain admin: " + "; then ".join(commands) + ". setspn -S refuses to "
                                    "add an SPN another account holds, so remove first. HOST/<fs> alone also covers "
                                    "browsers (the KDC maps HTTP/ to HOST/ when no HTTP/ SPN exists)."))
    domain_only = any(r.source != "global catalog" for r in facts.spn_registrations)
    if domain_only and len(facts.forest_dns_names) > 1:
        evidence["forest_domains"] = list(facts.forest_dns_names)
        return Outcome(Status.WARN, f"HOST/{fs} is registered once in this domain, but the Global Catalog could not be "
                                    f"read, so the forest's other domains ({', '.join(facts.forest_dns_names)}) were "
                                    "not searched for a duplicate.", evidence=evidence,
                       remediation="Make the Global Catalog reachable from this machine (port 3268, or 3269 for "
                                   "LDAPS) and run again, or run setspn -Q HOST/<fs> against the forest (setspn -F).")
    where = (f"the AD FS service account {host_names[0]}" if configured else
             f"{host_names[0]} (directory.service_account is not configured, so the holder was not compared with it)")
    extra = f"; HTTP/{fs} too" if http_names else ""
    if warnings_:
        return Outcome(Status.WARN, f"HOST/{fs} is registered once, on {where}{extra}; but " + "; ".join(warnings_) + ".",
                       evidence=evidence)
    return Outcome(Status.PASS, f"HOST/{fs} is registered once, on {where}{extra}.", evidence=evidence)


@check(id="directory.kds-root-key", title="KDS root key", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="When a gMSA is used, a KDS root key exists that is in effect (msKds-UseStartTime, 10 hours after "
            "creation by default, has passed). Only Domain Admins and Enterprise Admins can read KDS root keys: "
            "none visible to another account proves nothing, while gMSAs (which cannot be created without a key) "
            "exist.",
       remediation="Create one with Add-KdsRootKey (it takes effect 10 hours later so that every DC has it; do not "
                   "use -EffectiveImmediately in production) and wait before creating or using the gMSA. To read "
                   "the keys, bind as a member of Domain Admins (Get-KdsRootKey shows them too).",
       references=(REF_KDS, REF_KDS_CREATE))
def kds_root_key(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "kds", "gmsa", "service_account")
    if isinstance(facts, Outcome):
        return facts
    gmsa = facts.service_account.is_gmsa if facts.service_account is not None else bool(facts.gmsa_accounts)
    if not gmsa:
        return Outcome(Status.SKIP, "No gMSA is in use (the service account is not one and none exists).")
    now = now_filetime(ctx.now)
    keys = [{"dn": k.dn, "created": when(k.created), "in_effect_from": when(k.use_start),
             "age_hours": (now - k.created) // _HOUR if k.created else None,
             "in_effect": k.use_start is not None and k.use_start <= now} for k in facts.kds_root_keys]
    privileged = bind_account_privileged(facts)
    evidence = {"keys": keys, "gmsa_accounts": list(facts.gmsa_accounts), "bind_user": facts.connection.bind_user,
                "bind_user_privileged": privileged}
    usable = [k for k in keys if k["in_effect"]]
    if usable:
        return Outcome(Status.PASS, f"{len(usable)} KDS root key(s) in effect (the oldest created "
                                    f"{usable[0]['created']}).", evidence=evidence)
    if keys:
        return Outcome(Status.FAIL, f"{len(keys)} KDS root key(s) exist but none is in effect yet (younger than 10 "
                                    "hours): gMSA passwords cannot be retrieved until then.", evidence=evidence)
    if not privileged:
        who = facts.connection.bind_user or "the account this run bound as"
        raise CannotDetermine(f"no KDS root key is visible to {who}, which is not a member of Domain Admins or "
                              "Enterprise Admins (only they can read the keys); gMSAs exist, and they cannot be "
                              "created without a key. Bind as a domain admin, or run Get-KdsRootKey.", evidence)
    return Outcome(Status.FAIL, "gMSAs are used but the forest has no KDS root key (read as the domain admin "
                                f"{facts.connection.bind_user}): no gMSA password can be computed.", evidence=evidence)


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


REF_PRIVILEGED_GROUPS = Reference("Appendix B: Privileged Accounts and Groups in Active Directory (Enterprise Admins, "
                                  "Domain Admins, built-in Administrators)",
                                  "https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/plan/"
                                  "security-best-practices/appendix-b--privileged-accounts-and-groups-in-active-directory")
REF_MEMBER = Reference("MS-ADA2 2.43 member: a group's member does not list the accounts whose primaryGroupID is the "
                       "group", "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-ada2/"
                                "763d0861-f4f6-4251-847e-7e8dedcfe73f")


@check(id="directory.privileged-federated", title="Federated privileged accounts", area=Area.DIRECTORY,
       severity=Severity.HIGH, blocker=False, requires=_REQ,
       rule="No member of Domain Admins, Enterprise Admins or BUILTIN\\Administrators (direct, through nested groups "
            "or through primaryGroupID) has a UPN in a federated domain (privileged cloud roles belong to "
            "cloud-only accounts).",
       remediation="Give these administrators separate on-premises admin accounts whose UPN is not in a federated "
                   "domain (or keep them out of sync), and use cloud-only accounts for Entra roles. An account whose "
                   "primaryGroupID is 512 (Domain Admins) is an administrator although no group lists it: set its "
                   "primary group back to Domain Users (513) unless that is intended.",
       references=(REF_SCUBA, REF_PRIVILEGED_GROUPS, REF_MEMBER))
def privileged_federated(ctx: CheckContext) -> Outcome:
    """FAIL when an account of Domain Admins, Enterprise Admins or BUILTIN\\Administrators (as
    the probe read them: nested groups followed, primary-group members included) has a UPN whose
    suffix is a federated domain or a subdomain of one; each such account is listed once with the
    ways it belongs (``groups``, e.g. "Administrators > Domain Admins", "Domain Admins (primary
    group)"). PASS when none has; SKIP without federated domains; error when the groups could not
    be read."""
    facts = gate(ctx, "privileged")
    if isinstance(facts, Outcome):
        return facts
    domains = ctx.config.federation.domains
    if not domains:
        return Outcome(Status.SKIP, "No federated domains configured (federation.domains).")
    hits: list[dict[str, Any]] = []
    for m in facts.privileged_members:
        suffix = (m.user_principal_name or "").rsplit("@", 1)[-1].lower() if m.user_principal_name else ""
        if suffix and any(suffix == d or suffix.endswith("." + d) for d in domains):
            hits.append({"group": m.group, "groups": list(m.groups) or [m.group], "dn": m.dn,
                         "sam_account_name": m.sam_account_name, "user_principal_name": m.user_principal_name})
    unread = [m.dn for m in facts.privileged_members if m.other_domain]
    evidence = {"members_examined": len(facts.privileged_members) - len(unread), "federated_domains": list(domains),
                "federated_members": hits, "members_in_other_domains": unread}
    if hits:
        names = ", ".join(sorted({h["sam_account_name"] or h["dn"] for h in hits}, key=str.lower))
        more = f"; {len(unread)} member(s) in other domains were not examined" if unread else ""
        return Outcome(Status.FAIL, f"{len(hits)} privileged account(s) with a UPN in a federated domain: {names}"
                                    f"{more}.", evidence=evidence)
    if unread:
        return Outcome(Status.WARN, f"None of the members read has a UPN in a federated domain, but {len(unread)} "
                                    f"member(s) in other domains of the forest were not examined ({unread[0]}"
                                    f"{', ...' if len(unread) > 1 else ''}): run the check against a DC of each "
                                    "domain, or look them up in the Global Catalog.", evidence=evidence)
    return Outcome(Status.PASS, f"None of the {len(facts.privileged_members)} members of Domain Admins, Enterprise "
                                "Admins and Administrators (nested and primary-group members included) has a UPN in a "
                                "federated domain.", evidence=evidence)
