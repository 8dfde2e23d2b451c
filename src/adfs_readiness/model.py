"""The result model: statuses, severities, areas, check metadata, findings and the graded run.

This module imports nothing of ours (DESIGN.md, "Layers"): probes, checks, the engine and the
renderers all speak in these types. Everything here is a frozen dataclass or a ``(str, Enum)``
so that it serialises to JSON without adapters and cannot be changed after it is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Callable, Mapping

__all__ = [
    "Status",
    "Severity",
    "Area",
    "Verdict",
    "Reference",
    "CheckMeta",
    "Outcome",
    "Finding",
    "VerdictReason",
    "PointsLost",
    "GradeCap",
    "GradeExplanation",
    "Grade",
    "RunResult",
    "Provenance",
    "STATUS_ORDER",
    "AcceptedRisk",
    "FindingChange",
    "CertificateChange",
    "RunChanges",
]


class Status(str, Enum):
    """What a check concluded. ``error`` means "could not determine" and never counts as a pass."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"
    INFO = "info"


#: Worst first; used to sort findings and to pick the worst status of a check.
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.WARN,
    Status.INFO,
    Status.PASS,
    Status.SKIP,
)


class Severity(str, Enum):
    """How much a problem found by a check matters; weights the score (see grading)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Area(str, Enum):
    """The report sections; each matches a heading of the check catalog (CHECKS.md)."""

    METADATA = "metadata"
    TLS = "tls"
    DNS = "dns"
    DIRECTORY = "directory"
    ENDPOINTS = "endpoints"
    CLOUD = "cloud"
    ADFS = "adfs"

    @property
    def title(self) -> str:  # type: ignore[override]  # the section title; str.title() is not used on areas
        return _AREA_TITLES[self]


_AREA_TITLES = {
    Area.METADATA: "Federation metadata and token certificates",
    Area.TLS: "Service-communications (SSL) certificate and TLS",
    Area.DNS: "DNS",
    Area.DIRECTORY: "Active Directory",
    Area.ENDPOINTS: "AD FS endpoints",
    Area.CLOUD: "Entra ID (cloud side)",
    Area.ADFS: "AD FS server configuration",
}


class Verdict(str, Enum):
    """The one-word answer for the admin and the exit code for schedulers (Nagios convention)."""

    READY = "READY"
    READY_WITH_WARNINGS = "READY_WITH_WARNINGS"
    NOT_READY = "NOT_READY"
    INCOMPLETE = "INCOMPLETE"

    @property
    def exit_code(self) -> int:
        """0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE (Nagios OK/WARNING/CRITICAL/UNKNOWN)."""
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Verdict.READY: 0,
    Verdict.READY_WITH_WARNINGS: 1,
    Verdict.NOT_READY: 2,
    Verdict.INCOMPLETE: 3,
}


@dataclass(frozen=True)
class Reference:
    """A document a rule comes from: ``title`` (str) and ``url`` (str, https)."""

    title: str
    url: str


@dataclass(frozen=True)
class CheckMeta:
    """Everything a check declares about itself, next to its code.

    Attributes:
        id: stable ``area.slug`` id from CHECKS.md (used by reports, JSON and suppressions).
        title: short human title.
        area: the report section.
        severity: weight of a ``fail`` in the score.
        blocker: True when a ``fail`` of this check means SSO will not work (verdict NOT_READY),
            and an ``error`` means readiness could not be determined (INCOMPLETE). A check may
            still mark an individual failing outcome as not blocking (``Outcome.blocker=False``),
            e.g. token-signing.expiry blocks only once the certificate has expired.
        requires: fact keys (see ``facts``) the check reads; if one could not be gathered the
            check is not called and an ``error`` finding carries the probe's reason.
        optional: fact keys the check uses when they were gathered (e.g. the directory's
            lockoutThreshold for adfs.extranet-lockout); missing or failed ones are simply absent
            from ``ctx.facts`` and never turn the check into an error.
        rule: the default rule in one or two sentences (shown by ``explain``).
        remediation: what the admin should do when the check does not pass.
        references: where the rule comes from.
    """

    id: str
    title: str
    area: Area
    severity: Severity
    blocker: bool
    requires: tuple[str, ...]
    rule: str
    remediation: str
    references: tuple[Reference, ...] = ()
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: one judgement, before the engine adds the check's metadata.

    Attributes:
        status: the judgement.
        summary: one sentence an admin understands without the evidence.
        evidence: JSON-serialisable facts that support the judgement (what was observed, where).
        target: what was judged when a check judges several things (a certificate thumbprint, a
            node address); None for the service as a whole.
        blocker: override of ``CheckMeta.blocker`` for this outcome (None = the check's default).
        remediation: override of the check's remediation text when this outcome needs a
            specific fix (None = the check's default).
    """

    status: Status
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None
    blocker: bool | None = None
    remediation: str | None = None


@dataclass(frozen=True)
class AcceptedRisk:
    """An accepted risk (suppression) that applies to a finding: the finding stays in every
    report, marked, and does not count against the grade or the verdict.

    Attributes:
        reason: why the risk is accepted. accepted_by: who accepted it.
        expires: the last day (UTC) the acceptance holds; after it the finding counts again.
        source: the suppressions file it comes from.
    """

    reason: str
    accepted_by: str
    expires: date
    source: str | None = None


@dataclass(frozen=True)
class Finding:
    """One graded line of the report: a check's outcome together with the check's metadata.

    ``blocker`` is True only when this finding blocks SSO now (a blocker check's ``fail``);
    ``blocker_check`` says whether the check can block at all. ``suppression`` is set when an
    accepted risk covers the finding (it is then left out of the grade). ``local_cause`` is set on
    an ``error`` finding that the machine running the check caused (its resolver, route, trust
    store or files failed; the words say which): such a run is INCOMPLETE, whatever the check.
    """

    check_id: str
    area: Area
    title: str
    status: Status
    severity: Severity
    blocker: bool
    blocker_check: bool
    summary: str
    evidence: Mapping[str, Any]
    remediation: str
    references: tuple[Reference, ...]
    target: str | None = None
    suppression: AcceptedRisk | None = None
    local_cause: str | None = None


@dataclass(frozen=True)
class VerdictReason:
    """Why the verdict is what it is: ``kind`` is one of ``blocker_failed``, ``local_failure``
    (this machine could not do its part), ``blocker_undetermined``, ``warning``, ``failed``,
    ``undetermined``, ``nothing_checked``."""

    kind: str
    check_id: str | None
    summary: str
    target: str | None = None


@dataclass(frozen=True)
class PointsLost:
    """Score points one finding cost: ``points`` (float, out of the score's 100) is the finding's
    share of its check's severity weight times the status penalty, relative to the total weight
    of the run (see ``grading``). ``shared_by`` is how many findings share the check's weight."""

    check_id: str
    target: str | None
    status: Status
    severity: Severity
    points: float
    shared_by: int = 1


@dataclass(frozen=True)
class GradeCap:
    """A rule that limits the letter whatever the score: the worst letter it allows (``letter``),
    the rule in words, the checks that trigger it, and whether it made the letter worse than the
    score alone would give (``applied``)."""

    letter: str
    rule: str
    check_ids: tuple[str, ...]
    applied: bool


@dataclass(frozen=True)
class GradeExplanation:
    """Why the grade is what it is, as data: the letter the score alone gives, the points each
    finding cost (largest first; findings that cost nothing are left out) and the caps that
    apply."""

    score_letter: str
    points_lost: tuple[PointsLost, ...] = ()
    caps: tuple[GradeCap, ...] = ()

    @property
    def total_points_lost(self) -> float:
        """The points every finding cost together, out of 100, rounded once to 0.1: the sum of
        the unrounded rows (summing rounded rows drifts, 19 rows by up to 0.1). The one figure
        the HTML, the JSON (``points_lost_total``) and ``explain --grading`` all show."""
        return round(sum(p.points for p in self.points_lost), 1)


@dataclass(frozen=True)
class Grade:
    """The graded run: score 0-100 (int), letter A-F, verdict and the reasons behind them;
    ``explanation`` (None on a grade built by hand) says what each finding cost and which caps
    apply."""

    score: int
    letter: str
    verdict: Verdict
    reasons: tuple[VerdictReason, ...]
    counts: Mapping[str, int]
    explanation: GradeExplanation | None = None


@dataclass(frozen=True)
class Provenance:
    """Where a result's evidence came from when this run did not gather it (``assess`` of an
    evidence snapshot): what the report must say at the top.

    Attributes:
        source: the snapshot file judged.
        collected_at: the snapshot's clock (aware UTC): when the facts were gathered, as the
            collecting machine said.
        collected_on: the host name of the machine that collected (None when the snapshot does
            not say: made by an older release).
        collected_by: the tool version that collected.
        judged_at: the clock the findings were judged at (aware UTC).
        clock: which clock that is: "assessing" (the time of assessing, the default),
            "collected" (the snapshot's own clock, ``--as-of collected``) or "as-of" (a date given).
    """

    source: str
    collected_at: datetime
    collected_on: str | None
    collected_by: str
    judged_at: datetime
    clock: str

    def line(self) -> str:
        """The provenance in one sentence, for every renderer."""
        judged = {"assessing": "at the time of assessing", "collected": "at the snapshot's own clock",
                  "as-of": "as of a date given with --as-of"}.get(self.clock, self.clock)
        return (f"Assessed from the evidence snapshot {self.source}, collected "
                f"{self.collected_at.strftime('%Y-%m-%d %H:%M:%S UTC')} on {self.collected_on or 'an unknown host'} by "
                f"adfs-readiness {self.collected_by or '(unknown version)'}; certificate dates judged "
                f"{self.judged_at.strftime('%Y-%m-%d %H:%M:%S UTC')} ({judged}).")


@dataclass(frozen=True)
class RunResult:
    """A finished run as the renderers see it.

    Attributes:
        target: the federation service name (or the metadata source when none is configured).
        started_at / finished_at: aware UTC datetimes of the run (from the injected clock).
        findings: every finding, in check order.
        grade: the graded result.
        facts: JSON-ready summary of the gathered facts (secrets never included).
        metadata: tool version, config file, options (JSON-ready).
        certificates: the certificate calendar (``adfs_readiness.calendar.CalendarEntry``
            objects, soonest expiry first): every certificate seen in the run.
        changes: what changed since the last recorded run of the same target.
        provenance: set when the facts were not gathered by this run (an assessed snapshot).
    """

    target: str
    started_at: datetime
    finished_at: datetime
    findings: tuple[Finding, ...]
    grade: Grade
    facts: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    certificates: tuple[Any, ...] = ()
    changes: RunChanges | None = None
    provenance: Provenance | None = None


@dataclass(frozen=True)
class FindingChange:
    """A finding that differs from the previous run of the same target, keyed by (check id,
    target). ``before`` / ``after`` are the statuses (None = no such finding in that run);
    ``summary`` is the latest summary known."""

    check_id: str
    target: str | None
    title: str
    before: Status | None
    after: Status | None
    summary: str


@dataclass(frozen=True)
class CertificateChange:
    """A certificate seen in both runs whose days left went down: ``purpose`` (token-signing,
    token-decrypting, tls, ...), ``subject``, ``sha1``, ``not_after`` (aware UTC) and the whole
    days left at the previous and the current run."""

    purpose: str
    subject: str
    sha1: str
    not_after: datetime
    days_left_before: int
    days_left_after: int


@dataclass(frozen=True)
class RunChanges:
    """What changed since the previous recorded run of the same target ("since last run").

    Attributes:
        previous_run_id: the history id of the run compared with.
        previous_started_at: when it ran (aware UTC).
        previous_score / previous_grade / previous_verdict: its grade.
        new: findings that do not pass now and passed (or were absent) before.
        resolved: findings that did not pass before and pass (or are gone) now.
        changed: findings that did not pass in either run, with a different status.
        certificates: certificates that moved closer to expiry, soonest first.
        score_trend: scores of the recent runs, oldest first, the current run last.
        not_checked: findings that did not pass before, of a check that did not run now (skipped,
            out of scope): neither resolved nor new (``history diff`` lists them).
    """

    previous_run_id: int
    previous_started_at: datetime
    previous_score: int
    previous_grade: str
    previous_verdict: Verdict
    new: tuple[FindingChange, ...] = ()
    resolved: tuple[FindingChange, ...] = ()
    changed: tuple[FindingChange, ...] = ()
    certificates: tuple[CertificateChange, ...] = ()
    score_trend: tuple[int, ...] = ()
    not_checked: tuple[FindingChange, ...] = ()

    @property
    def any(self) -> bool:
        """True when at least one finding is new, resolved or changed status."""
        return bool(self.new or self.resolved or self.changed)


#: The signature of a check function: it receives a ``CheckContext`` and returns one Outcome or
#: an iterable of them.
CheckFunction = Callable[..., Any]
