"""Grading: findings -> score (0-100), letter grade (A-F) and verdict, with the reasons.

The rules (DESIGN.md, "Grading"):

* Verdict: any failed blocker -> NOT_READY, whatever the score. Otherwise any blocker check that
  ended in ``error`` (could not be determined), or any ``error`` the machine running the check
  caused (``Finding.local_cause``: its resolver, route, trust store or files failed) ->
  INCOMPLETE, never READY: the run did not do its job, whichever check it hit. Otherwise any ``fail``,
  ``warn`` or ``error`` -> READY_WITH_WARNINGS. Otherwise READY. A run in which no check produced a
  judgement (everything skipped) is INCOMPLETE: nothing was shown to work.
* Score: each check contributes its severity weight; a check's findings share that weight so a
  check judging ten certificates does not outweigh one judging the service. A finding loses all
  of its share on ``fail`` or ``error`` (not demonstrated is not a pass), half on ``warn``, none on
  ``pass`` or ``info``; ``skip`` takes the finding out of the score.
* Letter: A >= 90, B >= 80, C >= 70, D >= 60, else F; NOT_READY is always F, because a tenant whose
  sign-in is broken must not read as "B"; any other ``fail`` caps the letter, because an "A"
  beside a failed check reads as a contradiction: at B for a low or medium severity check, at C
  for a high or critical one (a critical check failing without blocking, such as a token-signing
  certificate with days left, is an emergency in the making).
* Explanation: the grade carries, as data, the points each finding cost (its share of the check's
  weight times the status penalty, relative to the run's total weight: they add up to 100 minus
  the unrounded score) and every cap that applies, so the reports can say why the grade is what it
  is (``Grade.explanation``).
* Reasons: a probe failure typically leaves every check that needs its fact undetermined with the
  same reason; those are folded into one reason naming all the checks, so the cause reads once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from adfs_readiness.model import (
    Finding,
    Grade,
    GradeCap,
    GradeExplanation,
    PointsLost,
    Severity,
    Status,
    Verdict,
    VerdictReason,
)

__all__ = ["SEVERITY_WEIGHTS", "STATUS_PENALTY", "grade", "letter_for"]

#: Weight of a check in the score, by severity.
SEVERITY_WEIGHTS: dict[Severity, float] = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 6.0,
    Severity.MEDIUM: 3.0,
    Severity.LOW: 1.0,
    Severity.INFO: 0.0,
}

#: Share of a finding's weight lost, by status (skip is excluded from the score).
STATUS_PENALTY: dict[Status, float] = {
    Status.PASS: 0.0,
    Status.INFO: 0.0,
    Status.WARN: 0.5,
    Status.FAIL: 1.0,
    Status.ERROR: 1.0,
}


def letter_for(score: int) -> str:
    """A >= 90, B >= 80, C >= 70, D >= 60, else F."""
    for letter, floor in (("A", 90), ("B", 80), ("C", 70), ("D", 60)):
        if score >= floor:
            return letter
    return "F"


def grade(findings: Iterable[Finding]) -> Grade:
    """Grade a run's findings. Returns a Grade with score, letter, verdict, reasons and counts
    by status (every status key present)."""
    findings = list(findings)
    counts = Counter(f.status.value for f in findings)
    per_check: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.status is not Status.SKIP:
            per_check[f.check_id].append(f)

    total = lost = 0.0
    costs: list[tuple[Finding, float, int]] = []  # (finding, weight lost, findings sharing the weight)
    for check_findings in per_check.values():
        weight = SEVERITY_WEIGHTS[check_findings[0].severity]
        share = weight / len(check_findings)
        total += weight
        lost += sum(share * STATUS_PENALTY[f.status] for f in check_findings)
        costs.extend((f, share * STATUS_PENALTY[f.status], len(check_findings)) for f in check_findings)
    score = 100 if total == 0 else round(100 * (total - lost) / total)

    reasons: list[VerdictReason] = []
    blocker_failed = [f for f in findings if f.status is Status.FAIL and f.blocker]
    local_failure = [f for f in findings if f.status is Status.ERROR and f.local_cause]
    blocker_unknown = [f for f in findings if f.status is Status.ERROR and f.blocker_check and not f.local_cause]
    other_fail = [f for f in findings if f.status is Status.FAIL and not f.blocker]
    other_error = [f for f in findings if f.status is Status.ERROR and not f.blocker_check and not f.local_cause]
    warned = [f for f in findings if f.status is Status.WARN]
    for kind, group in (("blocker_failed", blocker_failed), ("local_failure", local_failure),
                        ("blocker_undetermined", blocker_unknown), ("failed", other_fail),
                        ("undetermined", other_error), ("warning", warned)):
        if kind == "local_failure":
            reasons.extend(_fold_local_causes(group))
        else:
            reasons.extend(_fold_same_cause(kind, group) if kind.endswith("undetermined") else
                           [VerdictReason(kind, f.check_id, f.summary, f.target) for f in group])

    judged = [f for f in findings if f.status is not Status.SKIP]
    if blocker_failed:
        verdict = Verdict.NOT_READY
    elif blocker_unknown or local_failure:
        verdict = Verdict.INCOMPLETE
    elif not judged:
        verdict = Verdict.INCOMPLETE
        reasons.append(VerdictReason("nothing_checked", None,
                                     "No check produced a judgement: every check was skipped."))
    elif other_fail or other_error or warned:
        verdict = Verdict.READY_WITH_WARNINGS
    else:
        verdict = Verdict.READY

    letter = "F" if verdict is Verdict.NOT_READY else letter_for(score)
    caps: list[GradeCap] = []
    if verdict is Verdict.NOT_READY:
        caps.append(GradeCap("F", "A failed blocker caps the grade at F: single sign-on does not work.",
                             _ids(blocker_failed), letter_for(score) != "F"))
    if other_fail:
        serious = any(f.severity in (Severity.CRITICAL, Severity.HIGH) for f in other_fail)
        cap = "C" if serious else "B"
        caps.append(GradeCap(cap, "A failed high or critical check caps the grade at C." if serious else
                             "A failed check caps the grade at B.",
                             _ids(f for f in other_fail if not serious or f.severity in (Severity.CRITICAL,
                                                                                         Severity.HIGH)),
                             cap > letter))
        letter = max(letter, cap)  # letters sort A < B < ... < F: max() is the worse one
    all_counts = {s.value: counts.get(s.value, 0) for s in Status}
    explanation = GradeExplanation(
        score_letter=letter_for(score),
        points_lost=tuple(sorted(
            (PointsLost(f.check_id, f.target, f.status, f.severity, 100 * cost / total, shared)
             for f, cost, shared in costs if cost > 0),
            key=lambda p: -p.points)),
        caps=tuple(caps),
    )
    return Grade(score=score, letter=letter, verdict=verdict, reasons=tuple(reasons), counts=all_counts,
                 explanation=explanation)


def _ids(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The distinct check ids of ``findings``, in order."""
    return tuple(dict.fromkeys(f.check_id for f in findings))


def _fold_local_causes(group: list[Finding]) -> list[VerdictReason]:
    """One reason per distinct local cause (this machine's resolver, route, trust store, files),
    naming every check it left undetermined: the cause is what the admin must fix."""
    by_cause: dict[str, list[str]] = {}
    for f in group:
        ids = by_cause.setdefault(f.local_cause or "", [])
        if f.check_id not in ids:
            ids.append(f.check_id)
    reasons = []
    for cause, ids in by_cause.items():
        summary = (f"The machine running the check could not do its part: {cause}. Not determined here, not a "
                   f"finding about the target: fix this machine and run the check again.")
        if len(ids) > 1:
            summary += f" (also: {', '.join(ids[1:])})"
        reasons.append(VerdictReason("local_failure", ids[0], summary))
    return reasons


def _fold_same_cause(kind: str, group: list[Finding]) -> list[VerdictReason]:
    """One reason per distinct summary: the first check's id, and the others named in the text."""
    by_summary: dict[str, list[Finding]] = {}
    for f in group:
        by_summary.setdefault(f.summary, []).append(f)
    folded = []
    for summary, same in by_summary.items():
        first = same[0]
        if len(same) > 1:
            others = ", ".join(f.check_id for f in same[1:])
            summary = f"{summary} (also: {others})"
        folded.append(VerdictReason(kind, first.check_id, summary, first.target if len(same) == 1 else None))
    return folded
