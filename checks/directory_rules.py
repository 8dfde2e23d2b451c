"""The attribute rules for directory synchronisation (IdFix parity), as pure functions of the
objects the directory probe read (:class:`~adfs_readiness.facts.directory.DirectoryObject`).

The rules are Microsoft IdFix 2.6's MultiTenant rule set (``src/IdFix/Rules/MultiTenantRuleCollection.cs``
and ``Settings/Constants.cs`` of github.com/microsoft/idfix) and its skip rules, with the
deliberate differences docs/directory.md lists (each avoids a false result of IdFix's), and
Microsoft Entra ID's uniqueness rule for userPrincipalName, mail and proxyAddresses. The mapping
rule -> function -> test is in docs/directory.md ("IdFix parity").

Every function here is pure: checks call them per run (``checks/directory.py``) and the CLI calls
:func:`problem_rows` to write the CSV of every problem row. Results are sorted, so the same
directory gives the same findings whatever order the DC returned the objects in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from adfs_readiness.facts.directory import DirectoryObject, ScanResult

from ._public_suffix import public_suffix_list

__all__ = ["RULE_CHECKS", "CSV_COLUMNS", "Problem", "RuleReport", "skip_reason", "scope", "in_scope", "skipped_counts",
           "anchor_population",
           "upn_problems", "smtp_problems", "proxy_address_problems", "target_address_problems",
           "mail_nickname_problems", "is_routable_suffix", "rule_report", "scan_rule_report", "problem_rows", "anchor_problems",
           "SAMPLES"]

#: check id -> the attribute it judges (lDAPDisplayName).
RULE_CHECKS = {
    "directory.upn-format": "userPrincipalName", "directory.upn-routable": "userPrincipalName",
    "directory.upn-duplicates": "userPrincipalName", "directory.proxyaddresses": "proxyAddresses",
    "directory.mail": "mail", "directory.mailnickname": "mailNickname", "directory.samaccountname": "sAMAccountName",
    "directory.displayname": "displayName", "directory.givenname": "givenName",
    "directory.targetaddress": "targetAddress",
}
#: Columns of directory-problems.csv.
CSV_COLUMNS = ("check_id", "dn", "attribute", "value", "problem", "suggested_fix")
#: Problem rows a finding shows (the CSV has them all).
SAMPLES = 20

# --- skip rules (IdFix MultiTenantRuleCollection.Skip) ------------------------------------------
# Constants.WellKnownExclusions, matched against the start of cn, case-insensitively; without
# "Admini" and "Guest": the built-in Administrator and Guest are isCriticalSystemObject (skipped
# below), and the prefixes also skip every real user or group whose name starts so.
_CN_PREFIXES = ("cas_{", "discoverysearchmailbox", "federatedemail", "httpconnector", "krbtgt", "iusr_", "iwam",
                "msol", "support_", "systemmailbox", "wwioadmini", "healthmailbox", "exchange online-applicationaccount")
# msExchRecipientTypeDetails of system recipients IdFix skips: PublicFolder, SystemAttendantMailbox,
# SystemMailbox, MicrosoftExchange, ArbitrationMailbox, MailboxPlan, DiscoveryMailbox.
_SYSTEM_RECIPIENT_TYPES = {0x1000, 0x2000, 0x4000, 0x400000, 0x800000, 0x1000000, 0x20000000}
_ADFS_CONTAINER = ",cn=adfs,cn=microsoft,cn=program data,"
_USERS = ("user", "inetOrgPerson")


_CN_SKIP = re.compile("^(?:" + "|".join(re.escape(x) for x in _CN_PREFIXES) + ")|\\$$", re.IGNORECASE)
_ADFS_DN = re.compile(r",cn=adfs,cn=microsoft,cn=program data,", re.IGNORECASE)
_SAM_SKIP = re.compile(r"^(?:cas_|support_|msol_)", re.IGNORECASE)
_NICK_SKIP = re.compile(r"^(?:cas_|systemmailbox)", re.IGNORECASE)


def skip_reason(obj: DirectoryObject) -> str | None:
    """Why IdFix (and Entra Connect's default scoping) leaves ``obj`` out, or None to judge it."""
    cn, sam = obj.cn or "", obj.sam_account_name or ""
    match = _CN_SKIP.search(cn)
    if match is not None or sam.endswith("$"):
        if cn.endswith("$") or sam.endswith("$"):
            return "computer, managed service or trust account (name ends with $)"
        return "well-known system account (IdFix's exclusions: HealthMailbox*, SystemMailbox*, krbtgt*, MSOL*, ...)"
    if obj.conflict:
        return "replication conflict object (CNF)"
    if obj.critical_system_object:
        return "critical system object (isCriticalSystemObject)"
    if _ADFS_DN.search(obj.dn):
        return "AD FS certificate-sharing container (CN=ADFS,CN=Microsoft,CN=Program Data)"
    if obj.object_class in _USERS:
        if _SAM_SKIP.match(sam):
            return "service account (sAMAccountName CAS_*, SUPPORT_*, MSOL_*)"
        if obj.mail_nickname and _NICK_SKIP.match(obj.mail_nickname):
            return "Exchange system mailbox (mailNickname CAS_*, SystemMailbox*)"
        if obj.hide_from_address_lists and (obj.display_name or "").upper().startswith("MSOL"):
            return "directory synchronization account (hidden, displayName MSOL*)"
        if obj.recipient_type_details in _SYSTEM_RECIPIENT_TYPES:
            return "Exchange system recipient (msExchRecipientTypeDetails)"
    elif obj.object_class == "group" and obj.group_type is not None:
        if obj.group_type < 0 and obj.mail is None:
            return "security group without mail"
        if obj.group_type >= 0 and not obj.proxy_addresses:
            return "distribution group without proxyAddresses"
    return None


def scope(scan: ScanResult) -> tuple[list[DirectoryObject], dict[str, int]]:
    """(the objects no skip rule leaves out, in the order read; skip reason -> objects, sorted),
    computed once per scan fact (:meth:`ScanResult.derived`): every rule check needs it."""
    return scan.derived("scope", lambda: _scope(scan))  # type: ignore[no-any-return]


def _scope(scan: ScanResult) -> tuple[list[DirectoryObject], dict[str, int]]:
    objects: list[DirectoryObject] = []
    counts: Counter[str] = Counter()
    for o in scan.objects:
        reason = skip_reason(o)
        if reason is None:
            objects.append(o)
        else:
            counts[reason] += 1
    return objects, dict(sorted(counts.items()))


def anchor_population(scan: ScanResult) -> tuple[int, int]:
    """(objects in scope, how many of them have ms-DS-ConsistencyGuid): Entra Connect writes it
    back on every object it syncs when it is the sourceAnchor, so the share tells which anchor is in
    use (adfs.o365-claim-rules infers from it)."""
    objects = scope(scan)[0]
    return len(objects), sum(1 for o in objects if o.consistency_guid)


def in_scope(scan: ScanResult) -> list[DirectoryObject]:
    """The objects no skip rule leaves out, in the order read."""
    return scope(scan)[0]


def skipped_counts(scan: ScanResult) -> dict[str, int]:
    """Skip reason -> objects, sorted by reason."""
    return scope(scan)[1]


# --- value rules ----------------------------------------------------------------------------------
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"  # RFC 5322 3.2.3 atext
_DOT_ATOM = re.compile(rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")
# IdFix Constants.InvalidUpnRegExRegex without the apostrophe (Entra ID accepts o'neil@contoso.com).
_UPN_BAD = set("\\%&*+/=?{}|<>();:,[]\"äëïöüÿÄËÏÖÜŸ")
_SPACE_NAMES = {" ": "space", "\t": "tab", "\r": "carriage return", "\n": "line feed", "\xa0": "no-break space"}
_CLEAN = re.compile(r"^[A-Za-z0-9'_-]+(?:\.[A-Za-z0-9'_-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _white_space(value: str) -> list[tuple[str, str]]:
    found = sorted({_SPACE_NAMES.get(c, f"U+{ord(c):04X}") for c in value if c.isspace()})
    if not found:
        return []
    where = "leading or trailing white space" if value.strip() != value and not any(
        c.isspace() for c in value.strip()) else f"white space ({', '.join(found)})"
    return [(where, "remove the white space")]


def _domain(domain: str, limit: int | None) -> list[tuple[str, str]]:
    if not domain:
        return [("nothing after @", "use a verified DNS domain after @")]
    out = []
    if limit is not None and len(domain) > limit:
        out.append((f"{len(domain)} characters after @ (at most {limit})", "use a shorter domain"))
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(x) for x in labels) or not _TLD.match(labels[-1]):
        out.append(("the part after @ is not a DNS domain name", "correct the domain"))
    return out


def _split(value: str, problems: list[tuple[str, str]], not_one_at: tuple[str, str], invalid: Iterable[str]
           ) -> tuple[str, str, list[str]] | None:
    """(part before @, part after @, invalid characters found before @) of the stripped value;
    None (with ``not_one_at`` added to ``problems``) unless it has exactly one @. Invalid: those of
    ``invalid`` and non-ASCII letters (IdFix's RFC 2822 local part is ASCII)."""
    value = value.strip()
    if value.count("@") != 1:
        problems.append(not_one_at)
        return None
    local, domain = value.split("@")
    bad = sorted({c for c in local if c in invalid} | {c for c in local if not c.isascii() and not c.isspace()})
    if bad:
        problems.append((f"invalid characters {''.join(bad)!r} before @", "remove or replace them"))
    return local, domain, bad


def upn_problems(upn: str) -> list[tuple[str, str]]:
    """(problem, suggested fix) of a userPrincipalName, [] when valid. IdFix: at most 113
    characters, its invalid characters (white space of every kind included) except the apostrophe,
    RFC 2822 dot-atom before @ (no leading, trailing or consecutive periods); Entra ID: at most 64
    characters before @ and 48 after. Routability is :func:`is_routable_suffix`'s."""
    if len(upn) <= 113 and _CLEAN.match(upn):
        local, _, domain = upn.partition("@")
        if len(local) <= 64 and len(domain) <= 48:
            return []
    if upn.strip() == "":
        return [("blank", "set a UPN in a verified domain, e.g. first.last@contoso.com")]
    problems = _white_space(upn)
    if len(upn) > 113:
        problems.append((f"{len(upn)} characters (at most 113)", "shorten the UPN"))
    parts = _split(upn, problems, ("not of the form name@domain (one @)", "set a UPN of the form name@contoso.com"),
                   _UPN_BAD)
    if parts is None:
        return problems
    local, domain, _ = parts
    if len(local) > 64:
        problems.append((f"{len(local)} characters before @ (at most 64)", "shorten the name before @"))
    if not local:
        problems.append(("nothing before @", "set a name before @"))
    elif local.startswith(".") or local.endswith("."):
        problems.append(("a period at the start or just before @", "remove the period"))
    elif ".." in local:
        problems.append(("consecutive periods before @", "remove the extra period"))
    problems += _domain(domain, 48)
    return problems


def smtp_problems(address: str, *, invalid: str = "") -> list[tuple[str, str]]:
    """(problem, fix) of an SMTP address (mail, or the part after ``smtp:`` of a proxy or target
    address): no white space of any kind, an RFC 5322 dot-atom before @ (every atext character is
    valid: ``+ & / = % * ? { } |``, plus addressing), a DNS domain after @ (no 48-character limit:
    that one is the UPN suffix's). ``invalid``: further characters IdFix rejects in that attribute."""
    if len(address) <= 256 and _CLEAN.match(address):
        return []
    if address.strip() == "":
        return [("blank", "remove the empty value")]
    problems = _white_space(address)
    parts = _split(address, problems, ("not an e-mail address (name@domain)", "correct the address"), invalid)
    if parts is None:
        return problems
    local, domain, bad = parts
    stripped = "".join(c for c in local if not c.isspace())
    if not local or not _DOT_ATOM.match(stripped) and not bad:
        problems.append(("not a valid name before @ (RFC 5322: misplaced period or a character outside atext)",
                         "correct the part before @"))
    problems += _domain(domain, None)
    return problems


_PROXY_BAD_SMTP = "<>();,[]\""  # IdFix InvalidProxyAddressSMTPRegex (white space judged separately)
_PROXY_BAD = re.compile(r"[\s<>(),\[\]\"]")  # IdFix InvalidProxyAddressRegex
_X400_X500_BAD = re.compile(r"[\f\n\r\t\v\[\]\"']")  # IdFix InvalidX400/X500ProxyAddressRegex
_TARGET_BAD_SMTP = "\\<>();,[]\""  # IdFix InvalidTargetAddressSMTPRegEx
_TARGET_BAD = re.compile(r"[\s\\<>(),\[\]\"]")  # IdFix InvalidTargetAddressRegEx


def _typed_address_problems(value: str, limit: int, smtp_invalid: str, other_bad: re.Pattern[str],
                            x400_x500_bad: re.Pattern[str] | None = None) -> list[tuple[str, str]]:
    problems = []
    if len(value) > limit:
        problems.append((f"{len(value)} characters (at most {limit})", "shorten or remove the value"))
    kind, colon, address = value.partition(":")
    if not colon or not kind:
        return problems + [("no address type prefix (SMTP:, smtp:, X500:, ...)", "add the type prefix")]
    if ":" in address:  # IdFix FixProxyTargetAddressRule
        problems.append(('":" after the address type', "remove the extra colon"))
    if kind.lower() == "smtp":
        problems += smtp_problems(address, invalid=smtp_invalid)
    else:
        bad_re = x400_x500_bad if x400_x500_bad is not None and re.match(r"^x\.?[45]00$", kind, re.I) else other_bad
        bad = sorted(set(bad_re.findall(value)))
        if bad:
            names = ", ".join(_SPACE_NAMES.get(c, repr(c)) for c in bad)
            problems.append((f"invalid characters ({names})", "remove or replace them"))
    return problems


def proxy_address_problems(value: str) -> list[tuple[str, str]]:
    """(problem, fix) of one proxyAddresses value (IdFix: at most 256 characters, a type prefix, no
    ":" in the address, per-type invalid characters; smtp: also an address)."""
    return _typed_address_problems(value, 256, _PROXY_BAD_SMTP, _PROXY_BAD, _X400_X500_BAD)


def target_address_problems(value: str) -> list[tuple[str, str]]:
    """(problem, fix) of a targetAddress (IdFix TargetAddressComposedRule: at most 255 characters,
    a type prefix, no ":" in the address, per-type invalid characters; smtp: also an address)."""
    return _typed_address_problems(value, 255, _TARGET_BAD_SMTP, _TARGET_BAD)


# Exchange Online alias (mailNickname): letters, digits, !#$%&'*+-/=?^_`{|}~, U+00A1-U+00FF, periods
# between other characters, at most 64 (Set-Mailbox -Alias).
_ALIAS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00a1-\u00ff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00a1-\u00ff-]+)*$")


def mail_nickname_problems(nick: str) -> list[tuple[str, str]]:
    """(problem, fix) of a mailNickname: IdFix (at most 64, no leading period) and Exchange
    Online's alias rule (its characters; periods only between other characters)."""
    if len(nick) <= 64 and _ALIAS.match(nick):
        return []
    problems = []
    if len(nick) > 64:
        problems.append((f"{len(nick)} characters (at most 64)", "shorten it"))
    if nick.startswith(".") or nick.endswith(".") or ".." in nick:
        problems.append(("a period at the start, at the end or next to another", "remove the period"))
    bad = sorted({c for c in nick if c != "." and not _ALIAS.match(c)})
    if bad:
        problems.append((f"invalid characters {''.join(bad)!r}", "remove or replace them"))
    if not nick:
        problems.append(("blank", "set an alias"))
    return problems


_SAM_BAD = set('\\"|,/[]:<>+=;?*')  # IdFix SamAccountName RegexRule


def is_routable_suffix(suffix: str, verified: Iterable[str] = ()) -> bool:
    """True when ``suffix`` can be registered on the internet (its top-level domain is in the public
    suffix list and it has a label below the public suffix: ``.local``, ``.lan``, ``.internal``,
    ``.test`` are not), or it is (a subdomain of) one of ``verified``."""
    suffix = suffix.lower().rstrip(".")
    if any(suffix == d or suffix.endswith("." + d) for d in verified):
        return True
    return public_suffix_list().privatesuffix(suffix, accept_unknown=False) is not None


def _cached(cache: dict[str, bool], suffix: str, verified: Iterable[str]) -> bool:
    """:func:`is_routable_suffix` through a per-report cache (a directory has few suffixes)."""
    known = cache.get(suffix)
    if known is None:
        known = cache[suffix] = is_routable_suffix(suffix, verified)
    return known




# --- reports ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem of one object: a CSV row."""

    check_id: str
    dn: str
    attribute: str
    value: str
    problem: str
    fix: str


@dataclass(frozen=True)
class RuleReport:
    """The rules of one check over the in-scope objects: ``objects_with_value`` (that have the
    attribute, or every object for a rule on absence), every problem sorted by DN, and helpers."""

    check_id: str
    attribute: str
    objects_with_value: int
    problems: tuple[Problem, ...]

    @property
    def objects_with_problem(self) -> int:
        return len({p.dn.lower() for p in self.problems})

    def by_problem(self) -> dict[str, int]:
        counts = Counter(re.sub(r"^\d+ characters", "N characters", p.problem) if p.problem[:1].isdigit() else p.problem
                         for p in self.problems)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.dn.lower(), p.attribute, p.value, p.problem)))


def scan_rule_report(scan: ScanResult, check_id: str, verified: Sequence[str] = ()) -> RuleReport:
    """:func:`rule_report` of ``check_id`` over the scan's objects in scope, computed once per scan
    (:meth:`ScanResult.derived`): a check, its follow-up (upn-routable's blocking share) and the
    CSV ask for the same report, and the duplicate checks share one address index."""
    return scan.derived(f"rule report {check_id} {'|'.join(verified)}",  # type: ignore[no-any-return]
                        lambda: rule_report(check_id, in_scope(scan), verified, derive=scan.derived))


def rule_report(check_id: str, objects: Sequence[DirectoryObject], verified: Sequence[str] = (),
                derive: Callable[[str, Callable[[], Any]], Any] | None = None) -> RuleReport:
    """The :class:`RuleReport` of ``check_id`` (a key of :data:`RULE_CHECKS`) over the in-scope
    ``objects``; ``verified``: domains known to be verified (the federated domains); ``derive``:
    the scan's :meth:`ScanResult.derived` when ``objects`` is its scope (shares work between
    checks), else None."""
    from ._directory_duplicates import duplicate_problems

    attribute = RULE_CHECKS[check_id]
    problems: list[Problem] = []
    count = 0
    routable: dict[str, bool] = {}  # suffix -> routable, for the rules that ask

    def add(obj: DirectoryObject, value: str, found: list[tuple[str, str]]) -> None:
        problems.extend(Problem(check_id, obj.dn, attribute, value, p, f) for p, f in found)

    users = [o for o in objects if o.object_class in _USERS]
    if check_id == "directory.upn-format":
        for o in users:
            if o.user_principal_name is not None:
                count += 1
                add(o, o.user_principal_name, upn_problems(o.user_principal_name))
    elif check_id == "directory.upn-routable":
        for o in users:
            upn = o.user_principal_name
            if upn is None or "@" not in upn:
                continue
            count += 1
            suffix = upn.strip().rsplit("@", 1)[1].lower()
            if suffix and not _cached(routable, suffix, verified):
                add(o, upn, [(f"non-routable UPN suffix {suffix}",
                              "add a routable UPN suffix verified in Microsoft 365 and change the UPN to it")])
    elif check_id == "directory.proxyaddresses":
        for o in objects:
            if not o.proxy_addresses:
                continue
            count += 1
            for v in o.proxy_addresses:
                found = proxy_address_problems(v)
                kind, _, address = v.partition(":")
                suffix = address.rsplit("@", 1)[-1].strip().lower() if "@" in address else ""
                if kind.lower() == "smtp" and suffix and not any(p.startswith("the part after @") for p, _ in found) \
                        and not _cached(routable, suffix, verified):
                    found.append((f"non-routable domain {suffix}", "remove the address or use a verified domain"))
                add(o, v, found)
            primaries = [v for v in o.proxy_addresses if v.startswith("SMTP:")]
            if len(primaries) > 1:
                for v in primaries:
                    add(o, v, [("more than one primary SMTP: address",
                                "keep one upper-case SMTP: (primary) and make the others lower-case smtp:")])
            smtp = [v for v in o.proxy_addresses if v.lower().startswith("smtp:")]
            if smtp and not primaries:
                add(o, "; ".join(smtp), [("no primary SMTP: address", "make one address the primary (upper-case SMTP:)")])
    elif check_id == "directory.mail":
        for o in objects:
            if o.mail is not None:
                count += 1
                found = smtp_problems(o.mail)
                if len(o.mail) > 256:
                    found.insert(0, (f"{len(o.mail)} characters (at most 256)", "shorten the address"))
                add(o, o.mail, found)
    elif check_id == "directory.targetaddress":
        for o in objects:
            if o.target_address is not None:
                count += 1
                found = target_address_problems(o.target_address)
                kind, _, address = o.target_address.partition(":")
                suffix = address.rsplit("@", 1)[-1].strip().lower() if "@" in address else ""
                if kind.lower() == "smtp" and suffix and not any(p.startswith("the part after @") for p, _ in found) \
                        and not _cached(routable, suffix, verified):
                    found.append((f"non-routable domain {suffix}", "use a verified domain"))
                add(o, o.target_address, found)
    elif check_id == "directory.mailnickname":
        for o in objects:
            if o.mail_nickname is not None:
                count += 1
                add(o, o.mail_nickname, mail_nickname_problems(o.mail_nickname))
    elif check_id == "directory.samaccountname":
        for o in objects:
            sam = o.sam_account_name
            if sam is None:
                continue
            count += 1
            limit = 20 if o.object_class in _USERS else 256
            if len(sam) > limit:
                add(o, sam, [(f"{len(sam)} characters (at most {limit})", "shorten it")])
            bad = sorted({c for c in sam if c in _SAM_BAD})
            if bad:
                add(o, sam, [(f"invalid characters {''.join(bad)!r}", "remove or replace them")])
    elif check_id == "directory.displayname":
        for o in objects:
            count += 1
            name = o.display_name
            if name is None or name.strip() == "":
                add(o, name or "", [("absent" if name is None else "blank",
                                     f"set a display name (IdFix proposes the cn: {o.cn!r})")])
                continue
            if name != name.strip():
                add(o, name, [("leading or trailing white space", "remove the white space")])
            if len(name) > 256:
                add(o, name, [(f"{len(name)} characters (at most 256)", "shorten it")])
    elif check_id == "directory.givenname":
        for o in objects:
            if o.given_name is not None:
                count += 1
                if len(o.given_name) > 63:
                    add(o, o.given_name, [(f"{len(o.given_name)} characters (at most 63)", "shorten it")])
    problems += duplicate_problems(check_id, objects, derive)
    if check_id == "directory.upn-duplicates":
        count = sum(1 for o in users if o.user_principal_name is not None)
    return RuleReport(check_id, attribute, count, _sorted(problems))


def problem_rows(scan: ScanResult, verified: Sequence[str] = ()) -> Iterator[Problem]:
    """Every problem row of every rule check (the CSV), check by check, each sorted by DN."""
    for check_id in RULE_CHECKS:
        yield from scan_rule_report(scan, check_id, verified).problems
    yield from anchor_problems(in_scope(scan))


_NO_GUID = "objectGUID not returned: the account reading the directory is denied read access to it"
_NO_GUID_FIX = ("remove the deny entry for objectGUID from the object's permissions (dsacls <DN>), so Entra "
                "Connect's AD DS connector account can read it")


def anchor_problems(objects: Iterable[DirectoryObject]) -> list[Problem]:
    """directory.source-anchor rows: objects returned without an objectGUID (AD gives every object
    one, so the reader was denied it) and objects whose objectGUID is not 16 bytes (malformed
    data, which no permission explains), sorted by DN."""
    out = []
    for o in objects:
        if o.object_guid is None:
            out.append(Problem("directory.source-anchor", o.dn, "objectGUID", "", _NO_GUID, _NO_GUID_FIX))
        elif len(o.object_guid) != 16:
            out.append(Problem("directory.source-anchor", o.dn, "objectGUID", o.object_guid.hex(),
                               f"malformed objectGUID: {len(o.object_guid)} bytes (a GUID has 16)",
                               "the directory returned malformed data for this object: check it with the DC's own "
                               "tools (ldp.exe, Get-ADObject) and, if the DC is sound, what sits between it and this "
                               "machine"))
    return list(_sorted(out))
