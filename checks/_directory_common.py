"""Helpers shared by the directory checks (private to ``adfs_readiness_checks``): the gate every
directory check passes through, evidence builders and the references the rules come from."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from adfs_readiness.api import CannotDetermine, CheckContext, Outcome, Reference, Status
from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryFacts, filetime_to_datetime

from ._powershell import MAX_COMMANDS, ps_quoted
from .directory_rules import RULE_CHECKS, SAMPLES, Problem, RuleReport, scan_rule_report, scope

__all__ = ["attribute_commands",
           "REF_PREP_SYNC", "REF_NONROUTABLE", "REF_ADFS_REQUIREMENTS", "REF_DESIGN_CONCEPTS", "REF_ADSYNC_CONFIG",
           "REF_KDS", "REF_KDS_CREATE", "REF_GMSA",
           "REF_SSO_ROLLOVER", "REF_SCUBA", "REF_FUNCTIONAL_LEVELS", "REF_KERBEROS_SKEW",
           "REF_LDAP_SIGNING", "bind_account_privileged", "gate", "rule_outcome", "when", "unread_domains", "csv_path"]

REF_PREP_SYNC = Reference("Prepare for directory synchronization to Microsoft 365",
                          "https://learn.microsoft.com/en-us/microsoft-365/enterprise/prepare-for-directory-synchronization")
REF_NONROUTABLE = Reference("Prepare a nonroutable domain for directory synchronization",
                            "https://learn.microsoft.com/en-us/microsoft-365/enterprise/"
                            "prepare-a-non-routable-domain-for-directory-synchronization")
REF_ADFS_REQUIREMENTS = Reference("AD FS requirements",
                                  "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements")
REF_DESIGN_CONCEPTS = Reference("Microsoft Entra Connect: design concepts (sourceAnchor, ms-DS-ConsistencyGuid)",
                                "https://learn.microsoft.com/en-us/azure/active-directory/hybrid/plan-connect-design-concepts")
REF_ADSYNC_CONFIG = Reference("Microsoft Entra Connect: ADSyncConfig PowerShell reference (AD DS connector account "
                              "permissions, Get-ADSyncObjectsWithInheritanceDisabled)",
                              "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/reference-connect-adsyncconfig")
REF_KDS = Reference("Add-KdsRootKey (EffectiveTime; keys are used 10 hours after creation)",
                    "https://learn.microsoft.com/en-us/previous-versions/windows/powershell-scripting/jj852117(v=wps.620)")
REF_KDS_CREATE = Reference("Create the Key Distribution Services KDS root key (10 hours; Domain Admins or Enterprise "
                           "Admins)", "https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/manage/"
                           "group-managed-service-accounts/group-managed-service-accounts/"
                           "create-the-key-distribution-services-kds-root-key")
REF_GMSA = Reference("Get started with group managed service accounts (requirements: a domain controller running "
                     "Windows Server 2012 or later)", "https://learn.microsoft.com/en-us/windows-server/security/"
                     "group-managed-service-accounts/getting-started-with-group-managed-service-accounts")
REF_SSO_ROLLOVER = Reference("Seamless SSO: roll over the Kerberos decryption key of AZUREADSSOACC at least every "
                             "30 days (Entra documentation, quoted in MicrosoftDocs/entra-docs#701)",
                             "https://github.com/MicrosoftDocs/entra-docs/issues/701")
REF_SCUBA = Reference("CISA SCuBA MS.AAD.7.3: privileged users SHALL be cloud-only accounts (as tested by Maester)",
                      "https://www.powershellgallery.com/packages/Maester/2.0.0/Content/"
                      "maester-tests%5Ccisa%5Centra%5CTest-MtCisaCloudGlobalAdmin.Tests.ps1")
REF_FUNCTIONAL_LEVELS = Reference("MS-ADTS 6.1.4.2 msDS-Behavior-Version: functional level values",
                                  "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/"
                                  "8f0d9838-d9f2-44b8-b018-b41b62c0580c")
REF_KERBEROS_SKEW = Reference("MS-GPSB 2.2.2 Kerberos Policy (MaxClockSkew, default 5 minutes)",
                              "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpsb/"
                              "0fce5b92-bcc1-4b96-9c2b-56397c3f144f")
REF_LDAP_SIGNING = Reference("RFC 4513: LDAP authentication methods and security mechanisms (simple bind needs TLS)",
                             "https://www.rfc-editor.org/rfc/rfc4513")


#: BindResult codes in words, for summaries (the code itself is evidence, not text for people).
_BIND_WORDS = {
    "auth_failed": "the domain controller refused the credentials",
    "unreachable": "no domain controller could be reached",
    "tls_failed": "the LDAPS/StartTLS handshake failed",
    "method_unavailable": "the bind method cannot work here",
    "no_password": "no bind password",
    "not_configured": "not configured",
}


def gate(ctx: CheckContext, *sections: str, scan: bool = False) -> DirectoryFacts | Outcome:
    """The fact, or the Outcome to return instead: SKIP when no directory is configured;
    CannotDetermine (-> error) when the bind failed, any of ``sections`` (names from
    facts.directory.DIRECTORY_SECTIONS) could not be read, or the scan was cut short (a truncated
    list must never pass). A check names every section whose data it judges."""
    facts: DirectoryFacts = ctx.fact(DIRECTORY_FACT)
    if not facts.configured:
        return Outcome(Status.SKIP, "No Active Directory connection is configured ([directory] in the config).")
    if not facts.connection.bound:
        # The result code stays in the evidence; the summary says it in words.
        words = _BIND_WORDS.get(facts.connection.result, "no connection")
        raise CannotDetermine(f"no directory connection ({words}): {facts.connection.reason}",
                              {"server": facts.connection.server, "result": facts.connection.result})
    for name in (*sections, "scan" if scan else None):
        if name and name in facts.section_errors:
            raise CannotDetermine(f"the directory's {name} could not be read: {facts.section_errors[name]}")
    if scan:
        if facts.scan is None:
            raise CannotDetermine("the directory scan did not run")
        if facts.scan.partial:
            raise CannotDetermine(f"the directory scan was cut short, so its results are incomplete: "
                                  f"{facts.scan.partial_reason}",
                                  {"base_dn": facts.scan.base_dn, "objects_read": facts.scan.objects_read})
    return facts


def bind_account_privileged(facts: DirectoryFacts) -> bool | None:
    """Whether the account the probe bound as is among the privileged members read (Domain Admins,
    Enterprise Admins, ...): True / False, or None when that cannot be told (no bind user, e.g.
    Kerberos; or the members were not read). ``bind_user`` may be a UPN, ``DOMAIN\\name``, a
    plain sAMAccountName or a DN; ``name@<AD DNS domain>`` also matches the sAMAccountName (the
    implicit UPN every account has)."""
    user = (facts.connection.bind_user or "").strip()
    if not user or "privileged" in facts.section_errors:
        return None
    lower = user.lower()
    sam = lower.rsplit("\\", 1)[-1] if "\\" in lower else lower.split("@", 1)[0] if "@" in lower else lower
    for member in facts.privileged_members:
        if lower in ((member.user_principal_name or "").lower(), member.dn.lower()):
            return True
        if "=" not in lower and sam == (member.sam_account_name or "").lower():
            return True
    return False


def when(filetime: int | None) -> str | None:
    """ISO 8601 of a FILETIME for evidence, to the second (FILETIME counts 100 ns; an admin compares
    whole seconds), "never"/None/"after 9999" handled."""
    if filetime is None:
        return None
    moment = filetime_to_datetime(filetime)
    if moment is not None:
        return moment.replace(microsecond=0).isoformat()
    return "never" if filetime in (0, 9223372036854775807) else f"FILETIME {filetime}"


def unread_domains(facts: DirectoryFacts) -> list[str]:
    """The forest's other domains, which a scan of one domain partition does not read (DNS names,
    sorted; the referrals the DC returned for child domains name some of them too). Duplicates
    across domains are invisible to such a scan."""
    scan = facts.scan
    if scan is None:
        return []
    read = (facts.root_dse.default_naming_context or "").lower() if facts.root_dse else ""
    names = {nc.lower(): name for name, nc in zip(facts.forest_dns_names, facts.forest_domain_ncs)}
    out = {name for nc, name in names.items() if nc and nc != read}
    for url in scan.referrals:  # ldap://emea.contoso.test/DC=emea,DC=contoso,DC=test
        dn = unquote(urlsplit(url).path.lstrip("/")).lower()
        if dn in names and dn != read:
            out.add(names[dn])
    return sorted(out)


def _scan_evidence(facts: DirectoryFacts, report: RuleReport, csv: str | None, skipped: dict[str, int]
                   ) -> dict[str, Any]:
    scan = facts.scan
    assert scan is not None
    return {
        "base_dn": scan.base_dn, "objects_read": scan.objects_read,
        "objects_with_value": report.objects_with_value, "objects_with_problem": report.objects_with_problem,
        "problem_rows": len(report.problems), "by_problem": report.by_problem(),
        "first_objects": [{"dn": p.dn, "value": p.value, "problem": p.problem, "fix": p.fix}
                          for p in report.problems[:SAMPLES]],
        "skipped": skipped, "csv": csv,
    }


def attribute_commands(check_id: str, problems: tuple[Problem, ...]) -> list[str]:
    """Set-ADObject commands (ActiveDirectory module; ``-Replace``/``-Remove``/``-Add`` take
    lDAPDisplayNames, so one cmdlet serves users, contacts and groups) that fix the first objects'
    problems, one per object and value: the corrected value where the rule determines it (white
    space trimmed from a displayName, the primary SMTP: address an object lacks or has twice), else
    a placeholder the admin fills in. Values that cannot be quoted safely are left out
    (_powershell)."""
    attribute = RULE_CHECKS[check_id]
    commands: list[str] = []
    primaries_seen: set[str] = set()
    for problem in problems:
        if len(commands) >= MAX_COMMANDS:
            break
        identity = ps_quoted(problem.dn)
        if identity is None:
            continue
        command = _attribute_command(attribute, problem, identity, primaries_seen)
        if command is not None and command not in commands:
            commands.append(command)
    return commands


def _attribute_command(attribute: str, problem: Problem, identity: str, primaries_seen: set[str]) -> str | None:
    placeholder = "'<a unique value>'" if "unique" in problem.fix else "'<corrected value>'"
    if attribute == "proxyAddresses":
        if problem.problem == "no primary SMTP: address":
            first = problem.value.split("; ", 1)[0]
            old, new = ps_quoted(first), ps_quoted("SMTP:" + first.partition(":")[2])
        elif problem.problem == "more than one primary SMTP: address":
            if problem.dn.lower() not in primaries_seen:
                primaries_seen.add(problem.dn.lower())  # the first stays primary
                return None
            old, new = ps_quoted(problem.value), ps_quoted("smtp:" + problem.value.partition(":")[2])
        else:
            old, new = ps_quoted(problem.value), placeholder
        if old is None or new is None:
            return None
        return f"Set-ADObject -Identity {identity} -Remove @{{proxyAddresses={old}}} -Add @{{proxyAddresses={new}}}"
    value = placeholder
    if attribute == "displayName" and problem.problem == "leading or trailing white space":
        value = ps_quoted(problem.value.strip()) or placeholder
    elif attribute == "displayName" and problem.problem in ("absent", "blank"):
        value = "'<display name>'"
    return f"Set-ADObject -Identity {identity} -Replace @{{{attribute}={value}}}"


def csv_path(ctx: CheckContext) -> str | None:
    """Where the CLI writes every problem row (``--csv-dir`` / ``directory.csv_dir``), or None."""
    folder = ctx.config.directory.csv_dir
    return str(folder / "directory-problems.csv") if folder else None


def rule_outcome(ctx: CheckContext, check_id: str, what: str, problem_status: Status = Status.WARN,
                 duplicates: bool = False) -> Outcome:
    """PASS when no in-scope object breaks the attribute rules of ``check_id`` (see
    directory_rules), else ``problem_status`` with the number of distinct objects, the first rows
    (sorted by DN) and the CSV path. With ``duplicates``, the forest's domains this scan did not
    read are named: duplicates across them cannot be seen."""
    facts = gate(ctx, scan=True)
    if isinstance(facts, Outcome):
        return facts
    assert facts.scan is not None
    attribute = RULE_CHECKS[check_id]
    if not facts.scan.attributes_in_schema.get(attribute, True):
        return Outcome(Status.SKIP, f"The directory's schema has no {attribute} attribute (no Exchange "
                                    "schema extension), so there is nothing to check.", evidence={"attribute": attribute})
    _, skipped = scope(facts.scan)  # the report reads the same scope (scan_rule_report)
    report = scan_rule_report(facts.scan, check_id, ctx.config.federation.domains)
    csv = csv_path(ctx)
    evidence = _scan_evidence(facts, report, csv, skipped)
    commands = attribute_commands(check_id, report.problems)
    if commands:
        evidence["commands"] = commands
    unread = unread_domains(facts) if duplicates else []
    note = ""
    if unread:
        evidence["domains_not_read"] = unread
        note = (f" The forest's other domains ({', '.join(unread)}) were not read, so duplicates across domains — "
                "which Entra Connect rejects just the same — cannot be seen: point directory.server at a Global "
                "Catalog (port 3268/3269) or run once per domain.")
    if report.objects_with_problem == 0:
        return Outcome(Status.WARN if unread else Status.PASS,
                       f"All {report.objects_with_value} objects with a {attribute} follow the rules for {what}."
                       + note, evidence=evidence)
    if csv:
        more = f"; every row is in {csv}"
    elif len(report.problems) > SAMPLES:  # the report shows the first rows only
        more = f"; the first {SAMPLES} are listed (use --csv-dir for all of them)"
    else:
        more = ""
    n, rows = report.objects_with_problem, len(report.problems)
    counted = f"{n} object has" if n == 1 else f"{n} objects have"
    return Outcome(problem_status, f"{counted} {what} problems in {attribute} "
                                   f"({rows} problem row{'' if rows == 1 else 's'}){more}." + note, evidence=evidence)


def now_filetime(now: datetime) -> int:
    from adfs_readiness.facts.directory import filetime_from_datetime

    return filetime_from_datetime(now)
