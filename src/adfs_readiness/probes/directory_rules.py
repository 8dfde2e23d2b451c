"""Attribute rules for directory synchronisation, applied while the directory streams past.

The rules are Microsoft's directory-synchronisation preparation guidance and IdFix's rule set
(https://learn.microsoft.com/en-us/microsoft-365/enterprise/prepare-for-directory-synchronization),
without IdFix's known false results:

* an apostrophe is allowed in a UPN (o'neil@contoso.com is valid);
* only SMTP values of proxyAddresses are validated as e-mail addresses; X500/X400/SIP/... values
  are only checked for length and a type prefix (x500 values contain spaces and parentheses);
* duplicates are found case-insensitively and every object involved is listed.

Why the probe applies them and not the checks: the scan streams (bounded memory at 100k+ objects),
so the per-object observations are made while reading and only counts, the first rows and the
CSV of every row leave the probe; the checks decide the status from those. Duplicate detection
keeps a 64-bit hash (Python's SipHash) of each normalised value with the first holder's DN and value, nothing else
(a 64-bit collision among a million values has odds of about 1 in 30 million).

:class:`AttributeScanner` is fed raw entries and produces the ScanResult pieces; system objects
and AD FS's own objects are skipped and counted.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import IO, Mapping

from adfs_readiness.facts.directory import ProblemSample, RuleResult, SourceAnchorSummary, UpnSuffixUsage
from adfs_readiness.files import PRIVATE_MODE, AtomicFile, ensure_dir, open_atomic
from adfs_readiness.probes.ldap_decode import guid_from_bytes, immutable_id, text

__all__ = ["SCAN_ATTRIBUTES", "AttributeScanner", "upn_problems", "smtp_problems", "is_routable_suffix",
           "CSV_COLUMNS"]

#: What the scan reads (mailNickname may be absent from the schema: then it is simply not returned).
SCAN_ATTRIBUTES = ["objectClass", "sAMAccountName", "userPrincipalName", "mail", "proxyAddresses",
                   "mailNickname", "displayName", "objectGUID", "mS-DS-ConsistencyGuid",
                   "isCriticalSystemObject"]

CSV_COLUMNS = ["check_id", "dn", "attribute", "value", "problem", "suggested_fix"]

_SAMPLES = 20
_ADFS_CONTAINER = ",cn=adfs,cn=microsoft,cn=program data,"
# Characters Microsoft lists as invalid in a UPN prefix / e-mail local part (apostrophe is valid).
_UPN_BAD = set('\\%&*+/=?{}|<>();:,[]"') | {" "}
_NICK_BAD = set('\\!#$%&*+/=?^`{}|~<>()\';:,[]"@') | {" "}
_SAM_BAD = set('"[]:;|=+*?<>/\\,@')
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Fast paths: a value matching these has none of the problems the detailed rules look for (the
# detailed rules run only on values that do not match, so the results are the same).
_CLEAN_LOCAL = r"[A-Za-z0-9'!#^~_-]+(?:\.[A-Za-z0-9'!#^~_-]+)*"
_CLEAN_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
_CLEAN_ADDRESS = re.compile(f"^{_CLEAN_LOCAL}@{_CLEAN_DOMAIN}$")
_NO_GUID = "objectGUID not returned: the account reading the directory is denied read access to it"
_NO_GUID_FIX = ("remove the deny entry for objectGUID from the object's permissions (dsacls <DN>), so Entra "
                "Connect's AD DS connector account can read it")
_SYSTEM_PREFIXES = ("healthmailbox", "systemmailbox", "cas_", "federatedemail.", "discoverysearchmailbox",
                    "migration.", "supportmailbox")


def is_routable_suffix(suffix: str, psl: object) -> bool:
    """True when ``suffix`` can be registered on the internet: its top-level domain is in the
    public suffix list and it has a label below the public suffix (``.local``, ``.lan``,
    ``.internal``, ``.test`` are not). ``psl`` is a publicsuffixlist.PublicSuffixList."""
    return psl.privatesuffix(suffix.lower().rstrip("."), accept_unknown=False) is not None  # type: ignore[attr-defined]


def _domain_problems(domain: str) -> list[str]:
    if not domain:
        return ["nothing after @"]
    if len(domain) > 48:
        return [f"{len(domain)} characters after @ (at most 48)"]
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return ["the part after @ is not a DNS domain name"]
    return []


def upn_problems(upn: str) -> list[tuple[str, str]]:
    """(problem, suggested fix) pairs for a userPrincipalName, [] when valid."""
    if len(upn) <= 113 and _CLEAN_ADDRESS.match(upn):
        local, _, domain = upn.partition("@")
        if len(local) <= 64 and len(domain) <= 48:
            return []
    problems: list[tuple[str, str]] = []
    if upn.strip() == "":
        return [("blank", "set a UPN in a verified domain, e.g. first.last@contoso.com")]
    if upn != upn.strip():
        problems.append(("leading or trailing white space", f"set it to {upn.strip()!r}"))
    value = upn.strip()
    if len(value) > 113:
        problems.append((f"{len(value)} characters (at most 113)", "shorten the UPN"))
    if value.count("@") != 1:
        problems.append(("not of the form name@domain (one @)", "set a UPN of the form name@contoso.com"))
        return problems
    local, domain = value.split("@")
    bad = sorted({c for c in local if c in _UPN_BAD or not c.isascii()})
    if bad:
        problems.append((f"invalid characters {''.join(bad)!r} before @", "remove or replace them"))
    if len(local) > 64:
        problems.append((f"{len(local)} characters before @ (at most 64)", "shorten the name before @"))
    if not local:
        problems.append(("nothing before @", "set a name before @"))
    elif local.endswith(".") or local.startswith("."):
        problems.append(("a period at the start or just before @", "remove the period"))
    for p in _domain_problems(domain):
        problems.append((p, "use a verified DNS domain after @"))
    return problems


def smtp_problems(address: str) -> list[tuple[str, str]]:
    """(problem, fix) pairs for an SMTP address (mail, or an SMTP: proxyAddresses value)."""
    if len(address) <= 256 and "'" not in address and _CLEAN_ADDRESS.match(address) \
            and len(address.partition("@")[2]) <= 48:
        return []
    if address.strip() == "":
        return [("blank", "remove the empty value")]
    problems: list[tuple[str, str]] = []
    if address != address.strip() or " " in address:
        problems.append(("contains white space", "remove the spaces"))
    value = address.strip()
    if len(value) > 256:
        problems.append((f"{len(value)} characters (at most 256)", "shorten the address"))
    if value.count("@") != 1:
        problems.append(("not an e-mail address (name@domain)", "correct the address"))
        return problems
    local, domain = value.split("@")
    bad = sorted({c for c in local if (c in _UPN_BAD and c != " ") or not c.isascii()})
    if bad:
        problems.append((f"invalid characters {''.join(bad)!r} before @", "remove or replace them"))
    if not local or local.startswith(".") or local.endswith(".") or ".." in local:
        problems.append(("misplaced period before @", "correct the address"))
    if _domain_problems(domain):
        problems.append(("the part after @ is not a DNS domain name", "correct the domain"))
    return problems


class AttributeScanner:
    """Feed it entries (:meth:`add`); read the results (:meth:`rule_results` and friends).

    Args:
        base_dn: the scan base (to recognise the AD FS container under the domain).
        forest_suffixes: lower-case uPNSuffixes of the forest plus its domain DNS names.
        psl: a publicsuffixlist.PublicSuffixList.
        csv_file: an open text file to write every problem row to (None = no CSV).
        verified_domains: the configured federated domains: verified in Microsoft 365 by
            definition, so they and their subdomains count as routable whatever their top-level
            domain (a lab's .test domain, a newly delegated TLD the public suffix list lacks).
    """

    def __init__(self, forest_suffixes: set[str], psl: object, csv_file: IO[str] | None = None,
                 verified_domains: set[str] | None = None) -> None:
        self.forest_suffixes = forest_suffixes
        self.verified_domains = {d.lower().rstrip(".") for d in verified_domains or ()}
        self.psl = psl
        self.objects = 0
        self.users = 0
        self.users_with_upn = 0
        self.skipped: Counter[str] = Counter()
        self.suffixes: Counter[str] = Counter()
        self._routable: dict[str, bool] = {}
        self.with_value: Counter[str] = Counter()
        self.with_problem: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.by_problem: dict[str, Counter[str]] = {}
        self.samples: dict[str, list[ProblemSample]] = {}
        self.attribute_of: dict[str, str] = {}
        self.guid_objects = 0
        self.with_guid = 0
        self.with_consistency = 0
        self.anchor_examples: list[dict[str, str]] = []
        self.without_guid: list[str] = []
        self._seen: dict[str, dict[int, tuple[str, str]]] = {}
        self._reported_first: set[tuple[str, int]] = set()
        self.csv_rows = 0
        self._csv = csv.writer(csv_file) if csv_file is not None else None
        if self._csv is not None:
            self._csv.writerow(CSV_COLUMNS)

    # --- feeding -----------------------------------------------------------------------------
    def add(self, dn: str, raw: Mapping[str, list[bytes]]) -> None:
        """Judge one entry (raw attribute values as returned by the read helper)."""
        attrs = {k.lower(): v for k, v in raw.items()}
        classes = {text(c).lower() for c in attrs.get("objectclass", ())}
        sam = _first(attrs, "samaccountname")
        reason = self._skip_reason(dn, sam, classes, attrs)
        if reason:
            self.skipped[reason] += 1
            return
        self.objects += 1
        is_user = "user" in classes and "computer" not in classes
        self._source_anchor(dn, attrs)
        touched: set[str] = set()
        if is_user:
            self.users += 1
            self._upn(dn, _first(attrs, "userprincipalname"), touched)
        self._mail(dn, _first(attrs, "mail"), touched)
        self._proxy(dn, [text(v) for v in attrs.get("proxyaddresses", ())], touched)
        self._nick(dn, _first(attrs, "mailnickname"), touched)
        self._sam(dn, sam, is_user, touched)
        self._display(dn, attrs, touched)
        for check_id in touched:
            self.with_problem[check_id] += 1

    def _skip_reason(self, dn: str, sam: str | None, classes: set[str], attrs: Mapping[str, list[bytes]]) -> str | None:
        if _ADFS_CONTAINER in f",{dn.lower()},":
            return "AD FS certificate-sharing container (CN=ADFS,CN=Microsoft,CN=Program Data)"
        if _first(attrs, "iscriticalsystemobject") == "TRUE":
            return "critical system object (isCriticalSystemObject)"
        name = (sam or "").lower()
        if name in ("krbtgt", "guest") or name.startswith("krbtgt_"):
            return "built-in account (krbtgt, Guest)"
        if name.startswith(_SYSTEM_PREFIXES):
            return "Exchange system mailbox (HealthMailbox*, SystemMailbox*, CAS_*, ...)"
        if name.endswith("$") or "computer" in classes:
            return "computer or managed service account (name ends with $)"
        return None

    def _problem(self, check_id: str, attribute: str, dn: str, value: str, problem: str, fix: str,
                 touched: set[str]) -> None:
        touched.add(check_id)
        self.rows[check_id] += 1
        self.by_problem.setdefault(check_id, Counter())[problem] += 1
        self.attribute_of[check_id] = attribute
        samples = self.samples.setdefault(check_id, [])
        if len(samples) < _SAMPLES:
            samples.append(ProblemSample(dn, attribute, value, problem, fix))
        if self._csv is not None:
            self._csv.writerow([check_id, dn, attribute, _csv_safe(value), problem, fix])
            self.csv_rows += 1

    def _duplicate(self, check_id: str, attribute: str, dn: str, value: str, key: str, touched: set[str]) -> None:
        digest = hash(key)  # SipHash, 64-bit: stable within the run, which is all duplicate detection needs
        seen = self._seen.setdefault(check_id, {})
        first = seen.get(digest)
        if first is None:
            seen[digest] = (dn, value)
            return
        if first[0] == dn:
            return  # the same object twice (e.g. SMTP: and smtp: of one address on one object)
        fix = "make the value unique: keep it on one object and change or remove it on the others"
        if (check_id, digest) not in self._reported_first:
            self._reported_first.add((check_id, digest))
            self._problem(check_id, attribute, first[0], first[1], "duplicate (case-insensitive)", fix, set())
            self.with_problem[check_id] += 1
        self._problem(check_id, attribute, dn, value, "duplicate (case-insensitive)", fix, touched)

    def _upn(self, dn: str, upn: str | None, touched: set[str]) -> None:
        if upn is None:
            return
        self.users_with_upn += 1
        self.with_value["directory.upn-format"] += 1
        for problem, fix in upn_problems(upn):
            self._problem("directory.upn-format", "userPrincipalName", dn, upn, problem, fix, touched)
        suffix = upn.strip().rsplit("@", 1)[-1].lower() if "@" in upn else ""
        self.suffixes[suffix] += 1
        if suffix:
            routable = self._routable.get(suffix)
            if routable is None:
                verified = any(suffix == d or suffix.endswith("." + d) for d in self.verified_domains)
                routable = self._routable[suffix] = verified or is_routable_suffix(suffix, self.psl)
            if not routable:
                self._problem("directory.upn-routable", "userPrincipalName", dn, upn,
                              f"non-routable UPN suffix {suffix}",
                              "add a routable UPN suffix verified in Microsoft 365 and change the UPN to it",
                              touched)
        self._duplicate("directory.upn-duplicates", "userPrincipalName", dn, upn, upn.strip().lower(), touched)

    def _mail(self, dn: str, mail: str | None, touched: set[str]) -> None:
        if mail is None:
            return
        self.with_value["directory.mail"] += 1
        for problem, fix in smtp_problems(mail):
            self._problem("directory.mail", "mail", dn, mail, problem, fix, touched)
        self._duplicate("directory.mail", "mail", dn, mail, mail.strip().lower(), touched)

    def _proxy(self, dn: str, values: list[str], touched: set[str]) -> None:
        if not values:
            return
        cid = "directory.proxyaddresses"
        self.with_value[cid] += 1
        primaries = [v for v in values if v.startswith("SMTP:")]
        if len(primaries) > 1:
            for v in primaries:
                self._problem(cid, "proxyAddresses", dn, v, "more than one primary SMTP: address",
                              "keep one upper-case SMTP: (primary) and make the others lower-case smtp:", touched)
        has_smtp = any(v.lower().startswith("smtp:") for v in values)
        if has_smtp and not primaries:
            self._problem(cid, "proxyAddresses", dn, "; ".join(v for v in values if v.lower().startswith("smtp:")),
                          "no primary SMTP: address", "make one address the primary (upper-case SMTP:)", touched)
        for v in values:
            if len(v) > 256:
                self._problem(cid, "proxyAddresses", dn, v, f"{len(v)} characters (at most 256)",
                              "shorten or remove the value", touched)
            if ":" not in v:
                self._problem(cid, "proxyAddresses", dn, v, "no address type prefix (SMTP:, smtp:, X500:, ...)",
                              "add the type prefix", touched)
                continue
            kind, address = v.split(":", 1)
            if kind.lower() == "smtp":
                for problem, fix in smtp_problems(address):
                    if not problem.startswith(tuple("0123456789")):  # length judged on the whole value above
                        self._problem(cid, "proxyAddresses", dn, v, problem, fix, touched)
                self._duplicate(cid, "proxyAddresses", dn, v, "smtp:" + address.strip().lower(), touched)

    def _nick(self, dn: str, nick: str | None, touched: set[str]) -> None:
        if nick is None:
            return
        cid = "directory.mailnickname"
        self.with_value[cid] += 1
        if len(nick) > 64:
            self._problem(cid, "mailNickname", dn, nick, f"{len(nick)} characters (at most 64)", "shorten it", touched)
        bad = sorted({c for c in nick if c in _NICK_BAD or not c.isascii()})
        if bad:
            self._problem(cid, "mailNickname", dn, nick, f"invalid characters {''.join(bad)!r}",
                          "remove or replace them", touched)
        if nick.startswith(".") or nick.endswith("."):
            self._problem(cid, "mailNickname", dn, nick, "starts or ends with a period", "remove the period", touched)
        self._duplicate(cid, "mailNickname", dn, nick, nick.lower(), touched)

    def _sam(self, dn: str, sam: str | None, is_user: bool, touched: set[str]) -> None:
        if sam is None:
            return
        cid = "directory.samaccountname"
        self.with_value[cid] += 1
        limit = 20 if is_user else 256
        if len(sam) > limit:
            self._problem(cid, "sAMAccountName", dn, sam, f"{len(sam)} characters (at most {limit})",
                          "shorten it", touched)
        bad = sorted({c for c in sam if c in _SAM_BAD})
        if bad:
            self._problem(cid, "sAMAccountName", dn, sam, f"invalid characters {''.join(bad)!r}",
                          "remove or replace them", touched)
        self._duplicate(cid, "sAMAccountName", dn, sam, sam.lower(), touched)

    def _display(self, dn: str, attrs: Mapping[str, list[bytes]], touched: set[str]) -> None:
        values = attrs.get("displayname")
        if not values:
            return
        cid = "directory.displayname"
        name = text(values[0])
        self.with_value[cid] += 1
        if name.strip() == "":
            self._problem(cid, "displayName", dn, name, "blank", "set a display name", touched)
            return
        if name != name.strip():
            self._problem(cid, "displayName", dn, name, "leading or trailing white space",
                          "remove the white space", touched)
        if len(name) > 256:
            self._problem(cid, "displayName", dn, name, f"{len(name)} characters (at most 256)", "shorten it", touched)

    def _source_anchor(self, dn: str, attrs: Mapping[str, list[bytes]]) -> None:
        self.guid_objects += 1
        guid = attrs.get("objectguid")
        if guid and len(guid[0]) == 16:
            self.with_guid += 1
            if len(self.anchor_examples) < 3:
                self.anchor_examples.append({"dn": dn, "objectGUID": guid_from_bytes(guid[0]),
                                             "immutable_id": immutable_id(guid[0])})
        else:
            if len(self.without_guid) < _SAMPLES:
                self.without_guid.append(dn)
            if self._csv is not None:
                self._csv.writerow(["directory.source-anchor", dn, "objectGUID", "", _NO_GUID, _NO_GUID_FIX])
                self.csv_rows += 1
        if attrs.get("ms-ds-consistencyguid"):
            self.with_consistency += 1

    # --- results -----------------------------------------------------------------------------
    def rule_results(self, schema_attributes: Mapping[str, bool]) -> dict[str, RuleResult]:
        """check id -> RuleResult. ``schema_attributes``: attribute -> present in the schema."""
        ids = {"directory.upn-format": "userPrincipalName", "directory.upn-routable": "userPrincipalName",
               "directory.upn-duplicates": "userPrincipalName", "directory.proxyaddresses": "proxyAddresses",
               "directory.mail": "mail", "directory.mailnickname": "mailNickname",
               "directory.samaccountname": "sAMAccountName", "directory.displayname": "displayName"}
        out = {}
        for cid, attribute in ids.items():
            with_value = self.with_value["directory.upn-format" if attribute == "userPrincipalName" else cid]
            out[cid] = RuleResult(
                check_id=cid, attribute=attribute, objects_with_value=with_value,
                objects_with_problem=self.with_problem[cid], problems=self.rows[cid],
                by_problem=dict(self.by_problem.get(cid, {})), samples=tuple(self.samples.get(cid, ())),
                attribute_in_schema=schema_attributes.get(attribute, True))
        return out

    def suffix_usage(self) -> tuple[UpnSuffixUsage, ...]:
        """UPN suffixes in use, most users first."""
        return tuple(UpnSuffixUsage(s, n, self._routable.get(s, False) if s else False, s in self.forest_suffixes)
                     for s, n in sorted(self.suffixes.items(), key=lambda kv: (-kv[1], kv[0])))

    def source_anchor(self) -> SourceAnchorSummary:
        return SourceAnchorSummary(self.guid_objects, self.with_guid, self.with_consistency,
                                   tuple(self.anchor_examples), tuple(self.without_guid))


def _first(attrs: Mapping[str, list[bytes]], key: str) -> str | None:
    values = attrs.get(key)
    return text(values[0]) if values else None


def _csv_safe(value: str) -> str:
    """Keep spreadsheet programs from running a value as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def open_csv(directory: Path) -> AtomicFile:
    """Create ``directory`` and start a new ``directory-problems.csv`` in it (UTF-8 with BOM so
    Excel reads non-ASCII names correctly). The file is written beside the old one and replaces
    it on ``close()`` (:class:`adfs_readiness.files.AtomicFile`: no link followed, mode 0600: it
    names the directory's objects)."""
    ensure_dir(directory)
    return open_atomic(directory / "directory-problems.csv", mode=PRIVATE_MODE, text=True,
                       encoding="utf-8-sig", newline="")
