"""``explain --grading``: how the grade is made, and what each finding of a run cost.

Without a report it prints the rules as the grading applies them (weights by severity, the share
lost by status, the letter bands and the caps), read from ``grading`` itself so the text cannot
drift from the code. With a JSON report it adds that run's explanation: the letter its score
gives, the caps that applied and the points each finding cost, from the report's ``grading``
object (schema 1.1 and later) or, for an older report, by grading its findings again.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Mapping

from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.grading import SEVERITY_WEIGHTS, STATUS_PENALTY, grade, letter_for
from adfs_readiness.model import Area, Finding, Severity, Status
from adfs_readiness.text import terminal_safe
from adfs_readiness.report.json_report import grading_dict

__all__ = ["ReportFileError", "grading_rules_text", "grading_explanation_text", "load_report"]

#: A JSON report larger than this is refused (a 5,000-finding report is a few MB).
MAX_REPORT_BYTES = 64 * 1024 * 1024
_WIDTH = 96


class ReportFileError(ValueError):
    """The file given to ``explain --grading`` is not a readable adfs-readiness JSON report."""


def grading_rules_text() -> str:
    """The grading rules in words, from the values ``grading`` uses."""
    weights = ", ".join(f"{s.value} {SEVERITY_WEIGHTS[s]:g}" for s in Severity)
    lost = ", ".join(f"{s.value} {STATUS_PENALTY[s]:g}" for s in STATUS_PENALTY)
    bands = []
    for letter in "ABCD":
        floor = min(score for score in range(101) if letter_for(score) == letter)
        bands.append(f"{letter} from {floor}")
    paragraphs = [
        "Verdict: a failure that blocks means NOT_READY whatever the score. A blocker check decides per "
        "finding whether its failure blocks: most block whenever they fail, some only in the case their rule "
        "names (adfs-readiness explain ID; e.g. directory.upn-routable only when at least "
        "thresholds.upn_blocking_percent of the enabled users are affected). A blocker check that could not be "
        "determined means INCOMPLETE; any other failure (a blocker check's below its condition included), "
        "warning or undetermined check means READY_WITH_WARNINGS; otherwise READY. Accepted risks "
        "(suppressions) are left out.",
        f"Score (0-100): every check that ran weighs by its severity ({weights}); the findings of one check "
        f"(one per target) share its weight. By status a finding loses this share of its part: {lost}; skipped "
        "findings are left out. Score = 100 x weight kept / total weight.",
        f"Letter: {', '.join(bands)}, else F. Caps: a failure that blocks caps the grade at F; any other failure "
        "caps it at C when the check is high or critical, else at B.",
    ]
    return "How the grade is made\n\n" + "\n\n".join(textwrap.fill(p, _WIDTH) for p in paragraphs) + "\n"


def load_report(path: Path) -> Mapping[str, Any]:
    """The JSON report at ``path`` (a dict), read with a size cap.

    Raises:
        ReportFileError: missing, too large, not JSON, or not a report (no findings list).
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ReportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_REPORT_BYTES:
        raise ReportFileError(f"{path} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB: not a report")
    try:
        # A report file may come from anywhere: the one untrusted-JSON reader, with its bounds.
        doc = parse_untrusted_json(data, max_items=MAX_REPORT_BYTES // 100, items_setting="the report's size")
    except UntrustedJsonError as exc:
        raise ReportFileError(f"{path} is not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise ReportFileError(f"{path} is not an adfs-readiness JSON report (no findings list)")
    return doc


def grading_explanation_text(doc: Mapping[str, Any]) -> str:
    """That run's explanation: score and letter, the caps, and the points each finding cost."""
    explained = doc.get("grading")
    if not isinstance(explained, Mapping):
        explained = grading_dict(_regrade(doc))
    score, letter = doc.get("score"), doc.get("grade")
    lines = [f"This run ({doc.get('target', 'unknown target')}): score {score}, grade {letter}, "
             f"verdict {doc.get('verdict')}.",
             f"The score alone gives {explained.get('score_letter')}."]
    for cap in explained.get("caps") or []:
        ids = ", ".join(str(i) for i in cap.get("check_ids") or [])
        state = "applies" if cap.get("applied") else "applies, but the score is already as low"
        lines.append(f"Cap at {cap.get('letter')} {state}: {cap.get('rule')} ({ids})")
    points = explained.get("points_lost") or []
    if points:
        # One figure everywhere: the report's own total (its unrounded rows summed, rounded once);
        # a report older than points_lost_total only has the rows rounded to 0.01 to sum.
        given = explained.get("points_lost_total")
        total = float(given) if isinstance(given, (int, float)) and not isinstance(given, bool) else round(
            sum(float(p.get("points") or 0) for p in points), 1)
        lines += ["", f"Points lost ({total:.1f} in all), largest first:"]
        for p in points:
            target = f" ({p.get('target')})" if p.get("target") else ""
            shared = f", 1 of {p.get('shared_by')} targets" if (p.get("shared_by") or 1) > 1 else ""
            lines.append(f"  {-float(p.get('points') or 0):6.1f}  {p.get('check_id')}{target}  "
                         f"{p.get('status')}, {p.get('severity')}{shared}")
    else:
        lines.append("No finding cost any points.")
    return "\n".join(terminal_safe(line) for line in lines) + "\n"


def _regrade(doc: Mapping[str, Any]) -> Any:
    """The explanation of an older report (no ``grading`` object): its findings graded again."""
    findings = []
    for f in doc.get("findings") or []:
        if not isinstance(f, Mapping) or f.get("suppression"):
            continue
        try:
            findings.append(Finding(
                check_id=str(f["check_id"]), area=Area(f.get("area", "metadata")), title=str(f.get("title", "")),
                status=Status(f["status"]), severity=Severity(f["severity"]), blocker=bool(f.get("blocker")),
                blocker_check=bool(f.get("blocker_check")), summary=str(f.get("summary", "")), evidence={},
                remediation="", references=(), target=f.get("target")))
        except (KeyError, ValueError) as exc:
            raise ReportFileError(f"a finding of the report cannot be read ({exc})") from None
    explanation = grade(findings).explanation
    assert explanation is not None
    return explanation
