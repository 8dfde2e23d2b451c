"""Accepted risks (suppressions): findings an admin has decided to live with, for a while.

The file is TOML (``--suppressions PATH`` or the config key ``suppressions.file``)::

    [[accepted_risk]]
    check = "token-signing.rollover"        # a check id, or "area.*" / "prefix.*"
    target = "sts.contoso.com"              # optional: a finding's target (certificate thumbprint,
                                            # node) or the federation service name of the run
    reason = "Manual rollover planned in the change window of 2027-01-12"
    expires = 2027-01-15                    # a TOML date: the last day the acceptance holds (UTC)
    accepted_by = "j.doe@contoso.com"

A finding (warn, fail or error) that an unexpired entry matches stays in every report, marked
"suppressed" with the reason, who accepted it and until when, but is left out of the score and
the verdict. On the day after ``expires`` the entry stops applying: the finding counts again,
and the run gets a finding of its own, ``engine.suppression-expired`` (warn, low severity, not a
blocker), so an expired acceptance is seen and either renewed or fixed. That finding is made by
the engine, not by a check: it judges the suppressions file, not a fact. Its area is the area of
the suppressed check.

Matching is first entry wins, in file order. The idea and the shape follow the baselines of
linters and scanners (bandit's baseline, prowler's mutelist), with an expiry and an owner as
audit practice asks for accepted risks.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from adfs_readiness.files import CONFIG_FILE_MAX_BYTES, read_text_capped
from adfs_readiness.grading import grade
from adfs_readiness.model import AcceptedRisk, Area, Finding, RunResult, Severity, Status
from adfs_readiness.settings import SettingsError
from adfs_readiness.toml_input import parse_untrusted_toml

__all__ = ["EXPIRED_CHECK_ID", "Suppression", "load_suppressions", "apply_suppressions"]

#: The id of the engine-produced finding for an accepted risk past its expiry date.
EXPIRED_CHECK_ID = "engine.suppression-expired"

_PATTERN = re.compile(r"^[a-z0-9-]+\.([a-z0-9-]+|\*)$")
_SUPPRESSIBLE = {Status.WARN, Status.FAIL, Status.ERROR}


@dataclass(frozen=True)
class Suppression:
    """One accepted risk: ``check`` (id or ``prefix.*``), optional ``target``, ``reason``,
    ``expires`` (last valid day, UTC), ``accepted_by``, and the ``source`` file and entry index."""

    check: str
    reason: str
    expires: date
    accepted_by: str
    target: str | None = None
    source: str = ""
    index: int = 0

    def matches(self, finding: Finding, run_target: str) -> bool:
        """True when this entry covers ``finding`` of a run of ``run_target``."""
        if not fnmatch.fnmatchcase(finding.check_id, self.check):
            return False
        return self.target is None or self.target in (finding.target, run_target)

    def expired(self, now: datetime) -> bool:
        """True from the day after ``expires`` (UTC dates)."""
        return now.date() > self.expires

    def accepted_risk(self) -> AcceptedRisk:
        return AcceptedRisk(reason=self.reason, accepted_by=self.accepted_by, expires=self.expires,
                            source=self.source)


def load_suppressions(path: Path) -> tuple[Suppression, ...]:
    """Read a suppressions file.

    Raises:
        SettingsError: unreadable, not TOML, or an entry with a missing or bad key (the message
            names the file, ``accepted_risk[N].key`` and what is expected).
    """
    source = str(path)
    try:
        data = parse_untrusted_toml(read_text_capped(path, CONFIG_FILE_MAX_BYTES, setting=None))
    except OSError as exc:
        raise SettingsError(source, "(file)", source, f"a readable suppressions file ({exc.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(source, "(syntax)", str(exc), "valid TOML with [[accepted_risk]] tables") from None
    unknown = set(data) - {"accepted_risk"}
    if unknown:
        name = sorted(unknown)[0]
        raise SettingsError(source, name, data[name], "only [[accepted_risk]] tables")
    entries = data.get("accepted_risk", [])
    if not isinstance(entries, list):
        raise SettingsError(source, "accepted_risk", entries, "an array of tables ([[accepted_risk]])")
    return tuple(_entry(source, i, e) for i, e in enumerate(entries))


def _entry(source: str, index: int, entry: Any) -> Suppression:
    prefix = f"accepted_risk[{index}]"
    if not isinstance(entry, dict):
        raise SettingsError(source, prefix, entry, "a table")
    allowed = {"check", "target", "reason", "expires", "accepted_by"}
    for key in entry:
        if key not in allowed:
            raise SettingsError(source, f"{prefix}.{key}", entry[key], f"one of {sorted(allowed)}")

    def text(key: str, required: bool = True) -> str | None:
        value = entry.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(source, f"{prefix}.{key}", value, "a non-empty string")
        return value.strip()

    check = text("check")
    if not _PATTERN.match(check or ""):
        raise SettingsError(source, f"{prefix}.check", check, 'a check id such as "token-signing.rollover" or "dns.*"')
    expires = entry.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    if not isinstance(expires, date):
        raise SettingsError(source, f"{prefix}.expires", expires, "a TOML date such as 2027-01-15 (no quotes)")
    return Suppression(check=check, reason=text("reason") or "", expires=expires,
                       accepted_by=text("accepted_by") or "", target=text("target", required=False),
                       source=source, index=index)


def apply_suppressions(result: RunResult, suppressions: Iterable[Suppression], now: datetime) -> RunResult:
    """``result`` with accepted risks applied and the run graded again.

    Each warn/fail/error finding matched by an unexpired entry gets ``suppression`` set; each
    expired entry adds an ``engine.suppression-expired`` warn finding (and covers nothing). The
    grade is computed from the findings that are not suppressed; ``grade.counts`` still counts
    every finding shown. ``now`` is the run's clock (aware UTC).
    """
    suppressions = tuple(suppressions)
    if not suppressions:
        return result
    active = [s for s in suppressions if not s.expired(now)]
    findings: list[Finding] = []
    for f in result.findings:
        if Status(f.status) in _SUPPRESSIBLE:
            entry = next((s for s in active if s.matches(f, result.target)), None)
            if entry is not None:
                f = dataclasses.replace(f, suppression=entry.accepted_risk())
        findings.append(f)
    findings.extend(_expired_finding(s, result, now) for s in suppressions if s.expired(now))
    graded = grade([f for f in findings if f.suppression is None])
    counts = {s.value: 0 for s in Status}
    for f in findings:
        counts[Status(f.status).value] += 1
    metadata = dict(result.metadata)
    metadata["accepted_risks"] = {
        "files": sorted({s.source for s in suppressions}),
        "suppressed_findings": sum(1 for f in findings if f.suppression is not None),
        "expired": sum(1 for s in suppressions if s.expired(now)),
    }
    return dataclasses.replace(result, findings=tuple(findings),
                               grade=dataclasses.replace(graded, counts=counts), metadata=metadata)


def _area_of(check: str, findings: Iterable[Finding]) -> Area:
    for f in findings:
        if fnmatch.fnmatchcase(f.check_id, check):
            return Area(f.area)
    prefix = check.split(".", 1)[0]
    if prefix in ("token-signing", "token-decrypting"):
        return Area.METADATA
    try:
        return Area(prefix)
    except ValueError:
        return Area.ADFS


def _expired_finding(s: Suppression, result: RunResult, now: datetime) -> Finding:
    still = [f for f in result.findings if Status(f.status) in _SUPPRESSIBLE and s.matches(f, result.target)]
    days = (now.date() - s.expires).days
    where = f" for {s.target}" if s.target else ""
    if still:
        outcome = (f"{len(still)} finding(s) it covered count again: "
                   + ", ".join(f"{f.check_id} {Status(f.status).value}" for f in still[:5]) + ".")
    else:
        outcome = "It no longer matches a finding that does not pass: remove it from the file."
    references = still[0].references if still else ()
    return Finding(
        check_id=EXPIRED_CHECK_ID,
        area=_area_of(s.check, result.findings),
        title="Accepted risk past its expiry date",
        status=Status.WARN,
        severity=Severity.LOW,
        blocker=False,
        blocker_check=False,
        summary=(f"The accepted risk for {s.check}{where} (accepted by {s.accepted_by}: \"{s.reason}\") expired "
                 f"on {s.expires.isoformat()}, {days} day(s) ago. {outcome}"),
        evidence={"check": s.check, "target": s.target, "reason": s.reason, "accepted_by": s.accepted_by,
                  "expires": s.expires.isoformat(), "days_since_expiry": days, "file": s.source,
                  "entry": f"accepted_risk[{s.index}]",
                  "covered_findings": [{"check_id": f.check_id, "target": f.target, "status": Status(f.status).value}
                                       for f in still]},
        remediation=("Fix what the accepted risk covered, or review the risk again and set a new `expires` date "
                     f"in {s.source or 'the suppressions file'} (entry accepted_risk[{s.index}]); remove entries "
                     "that no longer match anything."),
        references=references,
        target=f"{s.check}{'@' + s.target if s.target else ''}",
    )
