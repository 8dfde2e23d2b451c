"""Active Directory checks (the ``directory.*`` ids of CHECKS.md; the account checks are in
directory_accounts.py), judged from the ``directory`` fact.

Object-level rules (UPN, proxyAddresses, mail, mailNickname, sAMAccountName, displayName,
givenName, targetAddress: IdFix parity) are applied here to the objects the probe read
(directory_rules.py); each check gives a status with the first objects as evidence, and the CLI
writes every row to the CSV. Times
are compared as FILETIME integers against ``ctx.now`` (no OverflowError at year 10000).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections import Counter
from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryFacts

from ._directory_common import (
    REF_ADFS_REQUIREMENTS,
    REF_ADSYNC_CONFIG,
    REF_DESIGN_CONCEPTS,
    REF_GMSA,
    REF_FUNCTIONAL_LEVELS,
    REF_KERBEROS_SKEW,
    REF_LDAP_SIGNING,
    REF_NONROUTABLE,
    REF_PREP_SYNC,
    csv_path,
    gate,
    rule_outcome,
)
from ._powershell import MAX_COMMANDS, plain_dns_name, ps_quoted
from .directory_rules import SAMPLES, anchor_problems, in_scope, is_routable_suffix, scan_rule_report

_UF_ACCOUNTDISABLE = 0x2  # userAccountControl ACCOUNTDISABLE (MS-ADTS 2.2.16)

_REQ = (DIRECTORY_FACT,)
_LEVELS = {0: "Windows 2000", 1: "Windows Server 2003 interim", 2: "Windows Server 2003", 3: "Windows Server 2008",
           4: "Windows Server 2008 R2", 5: "Windows Server 2012", 6: "Windows Server 2012 R2",
           7: "Windows Server 2016", 10: "Windows Server 2025"}


@check(id="directory.connect", title="Directory connection", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=True, requires=_REQ,
       rule="A bind to a domain controller works; a simple bind over plain LDAP is a warning (the password "
            "crosses the network in clear). A bind this run cannot make (DC unreachable from here, this tool's "
            "credentials refused, a bind method missing here, the DC's CA not trusted here) says nothing about "
            "single sign-on: the directory is not determined (error, the verdict is INCOMPLETE). A DC whose "
            "LDAPS certificate has expired or is not yet valid is a finding (every LDAPS client of it fails), "
            "not a blocker of single sign-on.",
       remediation="Check directory.server, the bind account and its password source, and that this machine can "
                   "reach the DC (389/636, 3268/3269). Prefer ldaps:// (636) or start_tls = true; a simple bind "
                   "over plain LDAP sends the password in clear. Renew an expired DC certificate (the "
                   "Domain Controller / Kerberos Authentication template, or certlm.msc on the DC).",
       references=(REF_LDAP_SIGNING, REF_ADFS_REQUIREMENTS))
def connect(ctx: CheckContext) -> Outcome:
    facts: DirectoryFacts = ctx.fact(DIRECTORY_FACT)
    c = facts.connection
    evidence = {"server": c.server, "transport": c.transport, "auth": c.auth, "result": c.result,
                "bind_user": c.bind_user, "discovered_from": c.discovered_from, "servers_tried": list(c.servers_tried)}
    if not facts.configured:
        return Outcome(Status.SKIP, "No Active Directory connection is configured ([directory] in the config).",
                       evidence=evidence)
    if not c.bound:
        reason = c.reason or ""
        if c.tls_failure in ("expired", "not_yet_valid"):
            return Outcome(Status.FAIL, f"The domain controller's LDAPS certificate is outside its validity period: "
                                        f"{reason}. Every LDAPS client of this DC fails until it is renewed.",
                           evidence=evidence, blocker=False)
        what = {"auth_failed": "the Kerberos bind failed" if c.auth == "kerberos" else "the DC refused the credentials",
                "unreachable": "the DC could not be reached", "tls_failed": "TLS to the DC failed",
                "method_unavailable": f"the {c.auth} bind method cannot work",
                "no_password": "no password was available"}.get(c.result, c.result)
        raise CannotDetermine(f"Could not bind to Active Directory from this machine: {what}: {reason}", evidence)
    if c.transport == "plain" and c.auth == "simple":
        return Outcome(Status.WARN, f"Bound to {c.server} with a simple bind over plain LDAP: the password crossed "
                                    "the network in clear. Use LDAPS or StartTLS.", evidence=evidence)
    return Outcome(Status.PASS, f"Bound to {c.server} ({c.auth} bind over {c.transport}).", evidence=evidence)


@check(id="directory.functional-level", title="Domain and forest functional level", area=Area.DIRECTORY,
       severity=Severity.MEDIUM, blocker=False, requires=_REQ,
       rule="Domain and forest functional level at least Windows Server 2003 (fail below), below 2008 R2 warn; "
            "schema objectVersion >= 85 when AD FS 2016 or later is targeted.",
       remediation="Raise the domain and forest functional levels once every DC runs a supported Windows Server "
                   "(Set-ADDomainMode / Set-ADForestMode); for AD FS 2016+ run adprep /forestprep from Windows "
                   "Server 2016 or later to bring the schema to objectVersion 85+.",
       references=(REF_FUNCTIONAL_LEVELS, REF_ADFS_REQUIREMENTS))
def functional_level(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "root_dse")
    if isinstance(facts, Outcome):
        return facts
    r = facts.root_dse
    if r is None or r.domain_functionality is None or r.forest_functionality is None:
        raise CannotDetermine("the RootDSE did not give domainFunctionality / forestFunctionality")
    lowest = min(r.domain_functionality, r.forest_functionality)
    target = ctx.config.directory.adfs_version
    evidence = {"domain_functionality": r.domain_functionality, "domain_level": _LEVELS.get(r.domain_functionality),
                "forest_functionality": r.forest_functionality, "forest_level": _LEVELS.get(r.forest_functionality),
                "schema_object_version": facts.schema_object_version, "adfs_version": target}
    levels = f"domain {_LEVELS.get(r.domain_functionality)}, forest {_LEVELS.get(r.forest_functionality)}"
    if lowest < 2:
        return Outcome(Status.FAIL, f"Functional level below Windows Server 2003 ({levels}).", evidence=evidence)
    if lowest < 4:
        return Outcome(Status.WARN, f"Functional level below Windows Server 2008 R2 ({levels}).", evidence=evidence)
    if target and target != "2012r2" and "schema" in facts.section_errors:
        raise CannotDetermine(f"AD FS {target} needs schema objectVersion 85 or later, and the schema could not be "
                              f"read: {facts.section_errors['schema']}", evidence)
    if target and target != "2012r2" and (facts.schema_object_version or 0) < 85:
        return Outcome(Status.WARN, f"AD FS {target} is targeted but the schema is at objectVersion "
                                    f"{facts.schema_object_version} (Windows Server 2016 schema is 87; at least 85 "
                                    "is expected).", evidence=evidence)
    return Outcome(Status.PASS, f"Functional levels are sufficient ({levels}, schema objectVersion "
                                f"{facts.schema_object_version}).", evidence=evidence)


@check(id="directory.clock-skew", title="Domain controller clock", area=Area.DIRECTORY, severity=Severity.MEDIUM,
       blocker=False, requires=_REQ,
       rule="The DC's currentTime against the local clock: fail above 300 s (Kerberos' default tolerance), "
            "warn above 60 s.",
       remediation="Synchronise the clocks: the PDC emulator from a reliable time source (w32tm /config "
                   "/manualpeerlist:... /syncfromflags:manual /reliable:yes /update), the other machines from the "
                   "domain hierarchy (w32tm /config /syncfromflags:domhier /update).",
       references=(REF_KERBEROS_SKEW,))
def clock_skew(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "root_dse")
    if isinstance(facts, Outcome):
        return facts
    r = facts.root_dse
    if r is None or r.current_time is None or r.local_before is None or r.local_after is None:
        raise CannotDetermine("the DC did not report its currentTime")
    middle = r.local_before + (r.local_after - r.local_before) / 2
    skew = (r.current_time - middle).total_seconds()
    # currentTime has whole seconds: allow one second plus half the read's round trip.
    slack = 1 + (r.local_after - r.local_before).total_seconds() / 2
    effective = max(0.0, abs(skew) - slack)
    t = ctx.config.thresholds
    evidence = {"dc_time": r.current_time.isoformat(), "local_time": middle.isoformat(),
                "skew_seconds": round(skew, 1), "uncertainty_seconds": round(slack, 1), "dc": r.dns_host_name,
                "warn_seconds": t.clock_skew_warn_seconds, "fail_seconds": t.clock_skew_fail_seconds}
    direction = "ahead of" if skew > 0 else "behind"
    if effective > t.clock_skew_fail_seconds:
        return Outcome(Status.FAIL, f"The DC clock is {abs(skew):.0f} s {direction} this machine (over "
                                    f"{t.clock_skew_fail_seconds} s: Kerberos fails).", evidence=evidence)
    if effective > t.clock_skew_warn_seconds:
        return Outcome(Status.WARN, f"The DC clock is {abs(skew):.0f} s {direction} this machine.", evidence=evidence)
    return Outcome(Status.PASS, f"The DC clock is within {max(abs(skew), slack):.0f} s of this machine.",
                   evidence=evidence)


def _os_version(dc_version: str | None) -> tuple[int, int] | None:
    m = re.match(r"^\s*(\d+)\.(\d+)", dc_version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _gmsa_used(facts: DirectoryFacts) -> bool:
    if facts.service_account is not None:
        return facts.service_account.is_gmsa
    return bool(facts.gmsa_accounts)


@check(id="directory.domain-controllers", title="Domain controllers", area=Area.DIRECTORY, severity=Severity.LOW,
       blocker=False, requires=_REQ,
       rule="At least two domain controllers; where gMSAs are used, at least one DC runs Windows Server 2012 or "
            "later (its Key Distribution Service computes gMSA passwords; older DCs beside it are fine).",
       remediation="Add a second domain controller for resilience; where the AD FS service account is a gMSA, "
                   "add a domain controller running Windows Server 2012 or later.",
       references=(REF_ADFS_REQUIREMENTS, REF_GMSA))
def domain_controllers(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "domain_controllers", "gmsa", "service_account")
    if isinstance(facts, Outcome):
        return facts
    dcs = facts.domain_controllers
    listed = [{"dn": d.dn, "dns_host_name": d.dns_host_name, "operating_system": d.operating_system,
               "operating_system_version": d.operating_system_version} for d in dcs]
    evidence = {"count": len(dcs), "domain_controllers": listed, "gmsa_used": _gmsa_used(facts)}
    problems = []
    if len(dcs) < 2:
        problems.append(f"only {len(dcs)} domain controller (a single point of failure for sign-in)")
    if _gmsa_used(facts):
        is_windows = {d.dn: (d.operating_system or "").lower().startswith("windows") for d in dcs}
        windows = [(d, _os_version(d.operating_system_version)) for d in dcs if is_windows[d.dn]]
        new = [d for d, v in windows if v is not None and v >= (6, 2)]
        old = [f"{d.dns_host_name or d.dn} ({d.operating_system} {d.operating_system_version})"
               for d, v in windows if v is not None and v < (6, 2)]
        others = [f"{d.dns_host_name or d.dn} ({d.operating_system or 'operating system not recorded'})"
                  for d in dcs if not is_windows[d.dn]]
        evidence["windows_2012_or_later"] = [d.dns_host_name or d.dn for d in new]
        if not new and old:
            problems.append("group managed service accounts (gMSAs) are used but no domain controller runs Windows "
                            "Server 2012 or later, so none can "
                            f"compute gMSA passwords: {', '.join(old)}"
                            + (f"; not Windows: {', '.join(others)}" if others else ""))
    if problems:
        text = "; ".join(problems)
        # Only the first letter: str.capitalize() would lower-case DC names, "gMSA", "Windows Server".
        return Outcome(Status.WARN, text[:1].upper() + text[1:] + ".", evidence=evidence)
    return Outcome(Status.PASS, f"{len(dcs)} domain controllers.", evidence=evidence)


def _federated(suffix: str, domains: tuple[str, ...]) -> bool:
    return any(suffix == d or suffix.endswith("." + d) for d in domains)


REF_UPN_SUFFIX_CHANGE = Reference("How UPN changes and UPN suffix changes work in Microsoft Entra Connect (a UPN whose "
                                  "suffix is not a verified domain becomes <name>@<tenant>.onmicrosoft.com)",
                                  "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/"
                                  "howto-troubleshoot-upn-changes")
REF_DUPLICATE_RESILIENCY = Reference("Microsoft Entra Connect: identity synchronization and duplicate attribute "
                                     "resiliency (userPrincipalName and proxyAddresses unique across objects)",
                                     "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/"
                                     "how-to-connect-syncservice-duplicate-attribute-resiliency")
REF_IDFIX = Reference("IdFix 2.6 rule set (MultiTenantRuleCollection.cs; docs: Errors supported by the IdFix tool)",
                      "https://github.com/microsoft/idfix/blob/master/docs/Errors%20supported%20by%20the%20IdFix%20tool.md")
REF_SET_ADFOREST = Reference("Set-ADForest -UPNSuffixes (ActiveDirectory module)",
                             "https://learn.microsoft.com/powershell/module/activedirectory/set-adforest")
REF_ALIAS = Reference("Set-Mailbox -Alias: characters an Exchange Online alias (mailNickname) may contain",
                      "https://learn.microsoft.com/en-us/powershell/module/exchange/set-mailbox")


@check(id="directory.upn-suffixes", title="UPN suffixes in use", area=Area.DIRECTORY, severity=Severity.LOW,
       blocker=False, requires=_REQ,
       rule="Inventory: each UPN suffix in use with its user count, whether it is routable, listed in the forest's "
            "uPNSuffixes, and a configured federated domain. Warn for users who will not sign in through AD FS: "
            "those whose routable UPN suffix is not a federated domain (managed sign-in if the domain is verified, "
            "else Entra Connect gives them an onmicrosoft.com UPN) and those with no userPrincipalName at all.",
       remediation="Give every user who should sign in through AD FS a UPN in a federated domain (add the suffix in "
                   "Active Directory Domains and Trusts, then change the UPNs); federate the domain if those users "
                   "should sign in through AD FS.", references=(REF_NONROUTABLE, REF_UPN_SUFFIX_CHANGE))
def upn_suffixes(ctx: CheckContext) -> Outcome:
    """INFO: the inventory, when every in-scope user has a UPN and (with federation.domains set)
    every routable suffix in use is federated. WARN: users without a userPrincipalName, and users
    whose routable suffix is no federated domain (non-routable suffixes are directory.upn-routable's)."""
    facts = gate(ctx, "upn_suffixes", scan=True)
    if isinstance(facts, Outcome):
        return facts
    assert facts.scan is not None
    domains = ctx.config.federation.domains
    listed = set(facts.forest_upn_suffixes) | set(facts.forest_dns_names)
    users = [o for o in in_scope(facts.scan) if o.object_class in ("user", "inetOrgPerson")]
    counts: Counter[str] = Counter()
    without = []
    for o in users:
        upn = o.user_principal_name
        if upn is None or not upn.strip():
            without.append(o.dn)
        elif "@" in upn:
            counts[upn.strip().rsplit("@", 1)[1].lower()] += 1
    rows: list[dict[str, Any]] = [{"suffix": suffix, "users": n, "routable": is_routable_suffix(suffix, domains),
             "listed_in_forest": suffix in listed, "federated": _federated(suffix, domains)}
            for suffix, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    unfederated = [r for r in rows if r["routable"] and not r["federated"]] if domains else []
    evidence = {"suffixes": rows, "forest_upn_suffixes": list(facts.forest_upn_suffixes),
                "forest_dns_names": list(facts.forest_dns_names), "users": len(users),
                "users_with_upn": len(users) - len(without), "users_without_upn": len(without),
                "first_users_without_upn": sorted(without, key=str.lower)[:20], "federated_domains": list(domains)}
    summary = ", ".join(f"{r['suffix']} ({r['users']})" for r in rows[:10]) or "none"
    problems = []
    if unfederated:
        n = sum(r["users"] for r in unfederated)
        problems.append(f"{n} user{'s' if n != 1 else ''} with a routable UPN suffix that is not a federated domain "
                        f"({', '.join(r['suffix'] for r in unfederated[:5])}): they will not sign in through AD FS — "
                        "through Entra ID itself if the domain is verified in the tenant, else Entra Connect gives "
                        "them a <name>@<tenant>.onmicrosoft.com UPN")
    if without:
        problems.append(f"{len(without)} user{'s' if len(without) != 1 else ''} without a userPrincipalName (first: "
                        f"{sorted(without, key=str.lower)[0]}): Entra Connect gives them an onmicrosoft.com UPN, so they "
                        "will not sign in through AD FS")
    if problems:
        return Outcome(Status.WARN, f"{len(rows)} UPN suffix(es) in use: {summary}. " + "; ".join(problems) + ".",
                       evidence=evidence)
    return Outcome(Status.INFO, f"{len(rows)} UPN suffix(es) in use: {summary}.", evidence=evidence)


@check(id="directory.upn-routable", title="Routable UPN suffixes", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=True, requires=_REQ,
       rule="Users whose UPN suffix is not routable on the internet (.local, .lan, .internal, ...) fail: they cannot "
            "sign in through AD FS. Blocking when they are at least thresholds.upn_blocking_percent (10%) of the "
            "enabled users with a UPN (disabled accounts sign in nowhere, so they are listed but do not count "
            "towards blocking). Routable: the top-level domain is in the public suffix list (IdFix's TopLevelDomain "
            "rule, with the maintained list instead of IdFix's static one), or the suffix is a federated domain.",
       remediation="Add a routable UPN suffix verified in Microsoft 365 to the forest and change the affected users' "
                   "UPNs to it: Get-ADForest | Set-ADForest -UPNSuffixes @{Add='<verified domain>'}; then "
                   "Set-ADUser -Identity <user> -UserPrincipalName <name>@<verified domain> for each of them (the "
                   "finding lists a command per non-routable suffix). Otherwise they sync as "
                   "user@<tenant>.onmicrosoft.com and cannot sign in through AD FS.",
       references=(REF_NONROUTABLE, REF_PREP_SYNC, REF_IDFIX, REF_SET_ADFOREST))
def upn_routable(ctx: CheckContext) -> Outcome:
    """FAIL listing the users with a non-routable UPN suffix; blocking when the enabled ones among
    them are at least ``thresholds.upn_blocking_percent`` of the enabled users with a UPN (every
    enabled user in scope affected blocks at any threshold); PASS when none is affected."""
    outcome = rule_outcome(ctx, "directory.upn-routable", "UPN suffix routability", Status.FAIL)
    if outcome.status is not Status.FAIL:
        return outcome
    facts: DirectoryFacts = ctx.fact(DIRECTORY_FACT)
    assert facts.scan is not None
    report = scan_rule_report(facts.scan, "directory.upn-routable", ctx.config.federation.domains)
    affected_dns = {p.dn.lower() for p in report.problems}
    with_upn = [o for o in in_scope(facts.scan) if o.object_class in ("user", "inetOrgPerson")
                and o.user_principal_name is not None and "@" in o.user_principal_name]
    enabled = [o for o in with_upn if not (o.user_account_control or 0) & _UF_ACCOUNTDISABLE]
    enabled_affected = [o for o in enabled if o.dn.lower() in affected_dns]
    suffixes = Counter(o.user_principal_name.strip().rsplit("@", 1)[1].lower()  # type: ignore[union-attr]
                       for o in with_upn if o.dn.lower() in affected_dns)
    percent = ctx.config.thresholds.upn_blocking_percent
    share = 100 * len(enabled_affected) / len(enabled) if enabled else 0.0
    blocking = bool(enabled_affected) and (share >= percent or len(enabled_affected) == len(enabled))
    disabled = len(affected_dns) - len(enabled_affected)
    evidence = {**outcome.evidence, "enabled_users_with_upn": len(enabled),
                "enabled_users_affected": len(enabled_affected), "disabled_users_affected": disabled,
                "enabled_share_percent": round(share, 1), "blocking_percent": percent,
                "non_routable_suffixes": dict(suffixes.most_common()),
                "all_users_affected": bool(enabled) and len(enabled_affected) == len(enabled)}
    which = ", ".join(s for s, _ in suffixes.most_common(5))
    also = f" ({disabled} disabled account{'s' if disabled != 1 else ''} too)" if disabled else ""
    if not enabled_affected:
        summary = (f"{disabled} disabled account{'s have' if disabled != 1 else ' has'} a non-routable UPN suffix "
                   f"({which}); no enabled user is affected, so nobody loses sign-in today, but Entra Connect syncs "
                   f"them with an onmicrosoft.com UPN.")
    elif len(enabled_affected) == len(enabled):
        summary = (f"Every enabled user in scope ({len(enabled)}) has a non-routable UPN suffix ({which}){also}: none "
                   f"of them can sign in through AD FS.")
    elif blocking:
        summary = (f"{len(enabled_affected)} of the {len(enabled)} enabled users with a UPN ({share:.0f}%) have a "
                   f"non-routable UPN suffix ({which}){also}: they cannot sign in through AD FS, at least "
                   f"thresholds.upn_blocking_percent ({percent}%) of the users, so single sign-on does not work for "
                   f"the organisation.")
    else:
        summary = (f"{len(enabled_affected)} of the {len(enabled)} enabled users with a UPN ({share:.1f}%) have a "
                   f"non-routable UPN suffix ({which}){also}: they cannot sign in through AD FS; below "
                   f"thresholds.upn_blocking_percent ({percent}%), so this does not block single sign-on as a whole.")
    commands = _upn_suffix_commands(ctx, evidence)
    if commands:
        evidence["commands"] = commands
    return Outcome(Status.FAIL, summary, evidence=evidence, blocker=blocking)


_NON_ROUTABLE = re.compile(r"^non-routable UPN suffix (?P<suffix>\S+)$")


def _upn_suffix_commands(ctx: CheckContext, evidence: dict[str, Any]) -> list[str]:
    """The ActiveDirectory module commands an admin runs: add the routable suffix to the forest's
    UPN suffixes when it is not one yet (Set-ADForest -UPNSuffixes @{Add=...}), then move the users
    of each non-routable suffix to it (Get-ADUser | Set-ADUser -UserPrincipalName). The routable
    suffix is the first federated domain; a placeholder when none is configured."""
    suffixes = [m.group("suffix") for key in evidence.get("by_problem", {}) if (m := _NON_ROUTABLE.match(key))]
    suffixes = [x for x in suffixes if plain_dns_name(x)]
    if not suffixes:
        return []
    domains = [d for d in ctx.config.federation.domains if plain_dns_name(d)]
    target = domains[0].lower() if domains else "<verified domain>"
    facts: DirectoryFacts = ctx.fact(DIRECTORY_FACT)
    known = {n.lower() for n in (*facts.forest_upn_suffixes, *facts.forest_dns_names)}
    commands = [] if not domains or target in known else [
        f"Get-ADForest | Set-ADForest -UPNSuffixes @{{Add='{target}'}}"]
    base = ps_quoted(evidence.get("base_dn") or "")
    search = f" -SearchBase {base}" if base and base != "''" else ""
    for suffix in suffixes[:MAX_COMMANDS]:
        pattern = re.escape(suffix)  # letters, digits, "_", "-", ".": the same escapes in .NET
        commands.append(f"Get-ADUser{search} -Filter 'UserPrincipalName -like \"*@{suffix}\"' | ForEach-Object "
                        f"{{ Set-ADUser -Identity $_ -UserPrincipalName ($_.UserPrincipalName -replace "
                        f"'@{pattern}$', '@{target}') }}")
    return commands


@check(id="directory.upn-format", title="UPN format", area=Area.DIRECTORY, severity=Severity.MEDIUM, blocker=False,
       requires=_REQ,
       rule="userPrincipalName (IdFix): at most 113 characters, 64 before @ and 48 after; none of IdFix's invalid "
            "characters except the apostrophe (o'neil@contoso.com is valid); no white space of any kind (space, tab, "
            "carriage return, line feed); an RFC 2822 dot-atom before @ (no leading, trailing or consecutive "
            "periods); one @; a DNS domain after it; not blank.",
       remediation="Correct the listed UPNs: Set-ADObject -Identity '<DN>' -Replace @{userPrincipalName='<corrected "
                   "value>'} (the finding lists one per object; IdFix can apply the suggested fixes too); the CSV has "
                   "every object.",
       references=(REF_PREP_SYNC, REF_IDFIX))
def upn_format(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.upn-format", "UPN format")


@check(id="directory.upn-duplicates", title="Duplicate UPNs", area=Area.DIRECTORY, severity=Severity.HIGH,
       blocker=False, requires=_REQ,
       rule="No two objects share a userPrincipalName, and no UPN is another object's mail or smtp proxy address "
            "(case-insensitive; each object counted once). When the forest has domains this scan did not read, "
            "duplicates across them cannot be seen: a warning names them.",
       remediation="Give each listed object a unique UPN: Set-ADObject -Identity '<DN>' -Replace "
                   "@{userPrincipalName='<a unique value>'}; Entra Connect cannot sync duplicates. For a forest with "
                   "several domains, read the Global Catalog (port 3268/3269) or run once per domain.",
       references=(REF_PREP_SYNC, REF_DUPLICATE_RESILIENCY, REF_IDFIX))
def upn_duplicates(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.upn-duplicates", "duplicate UPN", duplicates=True)


@check(id="directory.proxyaddresses", title="proxyAddresses", area=Area.DIRECTORY, severity=Severity.MEDIUM,
       blocker=False, requires=_REQ,
       rule="Each value (IdFix): at most 256 characters; a type prefix and no further \":\"; for SMTP values no white "
            "space and none of < > ( ) ; , [ ] \", a valid address (every RFC 5322 atext character is fine before "
            "@: + & / = % * ? { } |) in a routable domain; for X400/X500 values no control characters, [ ] \" or "
            "'; for other types no white space, < > ( ) , [ ] \". One primary SMTP:. No value on two objects (any "
            "type), and no smtp address that is another object's UPN or mail.",
       remediation="Correct the listed values: Set-ADObject -Identity '<DN>' -Remove @{proxyAddresses='<wrong "
                   "value>'} -Add @{proxyAddresses='<corrected value>'} (the finding lists one per object); the CSV "
                   "has every object.",
       references=(REF_PREP_SYNC, REF_DUPLICATE_RESILIENCY, REF_IDFIX))
def proxy_addresses(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.proxyaddresses", "proxyAddresses", duplicates=True)


@check(id="directory.mail", title="mail", area=Area.DIRECTORY, severity=Severity.MEDIUM, blocker=False,
       requires=_REQ,
       rule="mail: at most 256 characters and unique (IdFix); a valid address (no white space of any kind, an RFC "
            "5322 dot-atom before @ — + & / = % * ? { } | are valid —, a DNS domain after it, with no 48-character "
            "limit, which is the UPN suffix's); not another object's UPN or smtp proxy address.",
       remediation="Correct the listed values: Set-ADObject -Identity '<DN>' -Replace @{mail='<corrected "
                   "value>'} (the finding lists one per object); the CSV has every object.",
       references=(REF_PREP_SYNC, REF_DUPLICATE_RESILIENCY, REF_IDFIX))
def mail(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.mail", "mail", duplicates=True)


@check(id="directory.mailnickname", title="mailNickname", area=Area.DIRECTORY, severity=Severity.LOW, blocker=False,
       requires=_REQ, rule="mailNickname: at most 64 characters, no leading period, unique (IdFix); only the characters "
                           "an Exchange Online alias allows, periods only between other characters.",
       remediation="Correct the listed values: Set-ADObject -Identity '<DN>' -Replace @{mailNickname='<corrected "
                   "value>'} (the finding lists one per object); the CSV has every object.",
       references=(REF_PREP_SYNC, REF_IDFIX, REF_ALIAS))
def mail_nickname(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.mailnickname", "mailNickname", duplicates=True)


@check(id="directory.samaccountname", title="sAMAccountName", area=Area.DIRECTORY, severity=Severity.LOW,
       blocker=False, requires=_REQ, rule="sAMAccountName (IdFix): at most 20 characters for users (256 for groups), "
                                          "none of \\ \" | , / [ ] : < > + = ; ? *, unique among the objects without "
                                          "a userPrincipalName (only those sync by it).",
       remediation="Correct the listed values: Set-ADObject -Identity '<DN>' -Replace @{sAMAccountName='<corrected "
                   "value>'} (the finding lists one per object); the CSV has every object.",
       references=(REF_PREP_SYNC, REF_IDFIX))
def sam_account_name(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.samaccountname", "sAMAccountName", duplicates=True)


@check(id="directory.displayname", title="displayName", area=Area.DIRECTORY, severity=Severity.LOW, blocker=False,
       requires=_REQ, rule="displayName present and not blank (IdFix), at most 256 characters (AD's and Entra ID's "
                           "limit), no leading or trailing white space.",
       remediation="Correct the listed values: Set-ADObject -Identity '<DN>' -Replace @{displayName='<corrected "
                   "value>'} (the finding lists one per object); the CSV has every object.",
       references=(REF_PREP_SYNC, REF_IDFIX))
def display_name(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.displayname", "displayName")


@check(id="directory.givenname", title="givenName", area=Area.DIRECTORY, severity=Severity.LOW, blocker=False,
       requires=_REQ, rule="givenName at most 63 characters (IdFix).",
       remediation="Shorten the listed given names: Set-ADObject -Identity '<DN>' -Replace @{givenName='<at most 63 "
                   "characters>'} (the finding lists one per object); the CSV has every object.",
       references=(REF_IDFIX,))
def given_name(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.givenname", "givenName")


@check(id="directory.targetaddress", title="targetAddress", area=Area.DIRECTORY, severity=Severity.LOW, blocker=False,
       requires=_REQ,
       rule="targetAddress (IdFix): at most 255 characters; a type prefix and no further \":\"; for SMTP values no "
            "white space and none of \\ < > ( ) ; , [ ] \", a valid address in a routable domain; for other types no "
            "white space, \\ < > ( ) , [ ] \"; unique.",
       remediation="Correct the listed values (for mail users and contacts it is where their mail goes): "
                   "Set-ADObject -Identity '<DN>' -Replace @{targetAddress='<corrected value>'} (the finding lists one "
                   "per object); the CSV has every object.",
       references=(REF_IDFIX,))
def target_address(ctx: CheckContext) -> Outcome:
    return rule_outcome(ctx, "directory.targetaddress", "targetAddress", duplicates=True)


@check(id="directory.source-anchor", title="Source anchor", area=Area.DIRECTORY, severity=Severity.MEDIUM,
       blocker=False, requires=_REQ,
       rule="Every object has an objectGUID (the default sourceAnchor) that the reading account can see: AD "
            "gives every object one, so an object returned without it has a deny entry for objectGUID in its "
            "permissions, which hides it from Entra Connect's AD DS connector account too; an objectGUID that is "
            "not 16 bytes is malformed data (no permission explains it); ms-DS-ConsistencyGuid population reported.",
       remediation="Remove the deny entry on objectGUID from the objects listed (dsacls \"<DN>\" shows it; "
                   "Get-ADSyncObjectsWithInheritanceDisabled finds objects that stopped inheriting permissions), "
                   "or exclude them from synchronisation. With ms-DS-ConsistencyGuid as sourceAnchor, Entra "
                   "Connect fills it from objectGUID on first sync. A malformed objectGUID: look at the object with the "
                   "DC's own tools, and at what sits between the DC and this machine.",
       references=(REF_DESIGN_CONCEPTS, REF_ADSYNC_CONFIG))
def source_anchor(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, scan=True)
    if isinstance(facts, Outcome):
        return facts
    assert facts.scan is not None
    objects = in_scope(facts.scan)
    rows = anchor_problems(objects)
    denied = [r.dn for r in rows if not r.value]
    malformed = [r for r in rows if r.value]
    good = [o for o in objects if o.object_guid is not None and len(o.object_guid) == 16]
    examples = [{"dn": o.dn, "objectGUID": str(uuid.UUID(bytes_le=o.object_guid)),
                 "immutable_id": base64.b64encode(o.object_guid).decode("ascii")}
                for o in sorted(good, key=lambda o: o.dn.lower())[:3] if o.object_guid is not None]
    evidence = {"objects": len(objects), "with_object_guid": len(good),
                "with_consistency_guid": sum(1 for o in objects if o.consistency_guid), "examples": examples,
                "without_object_guid": denied[:SAMPLES],
                "malformed_object_guid": [{"dn": r.dn, "bytes": len(r.value) // 2} for r in malformed[:SAMPLES]],
                "bind_user": facts.connection.bind_user, "csv": csv_path(ctx)}
    problems = []
    if denied:
        problems.append(f"{len(denied)} of {len(objects)} objects were returned without an objectGUID (first: "
                        f"{', '.join(denied[:3])}): the reading account is denied it, and so would be a sync account "
                        "with the same rights; these objects cannot be anchored")
    if malformed:
        problems.append(f"{len(malformed)} object(s) have a malformed objectGUID (first: {malformed[0].dn}, "
                        f"{len(malformed[0].value) // 2} bytes where a GUID has 16): malformed data from the directory, "
                        "not a permission problem; Entra Connect cannot anchor them")
    if problems:
        return Outcome(Status.FAIL, "; ".join(problems) + ".", evidence=evidence)
    return Outcome(Status.PASS, f"All {len(objects)} objects have an objectGUID; {evidence['with_consistency_guid']} "
                                "have ms-DS-ConsistencyGuid set.", evidence=evidence)


__all__ = ["connect", "functional_level", "clock_skew", "domain_controllers", "upn_suffixes", "upn_routable",
           "upn_format", "upn_duplicates", "proxy_addresses", "mail", "mail_nickname", "sam_account_name",
           "display_name", "given_name", "target_address", "source_anchor"]
