"""A Nagios / Icinga plugin line: the status, a short text, and performance data.

Format (Monitoring Plugins development guidelines,
https://www.monitoring-plugins.org/doc/guidelines.html, "Plugin Output" and "Performance data")::

    ADFS-READINESS WARNING - sts.contoso.com READY_WITH_WARNINGS, grade B, score 85/100, ... | score=85;90:;60:;0;100 ...

* the status word follows the exit code, which is the verdict's (0 OK, 1 WARNING, 2 CRITICAL,
  3 UNKNOWN), so the line and the exit code always agree;
* perfdata ``'label'=value[UOM];[warn];[crit];[min];[max]``: ``score`` (0-100; warning below 90,
  critical below 60 in range syntax ``90:`` / ``60:``), the counts of failing, warning and
  undetermined findings, and one ``days_<purpose>_<thumbprint prefix>`` per certificate with the
  check's limits (e.g. token-signing ``90:`` / ``14:``). Days carry no unit: the guidelines allow
  only s, %, B and c.
"""

from __future__ import annotations

from typing import Mapping

from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.model import RunResult, Status
from adfs_readiness.report._outputs import DayThresholds, day_thresholds
from adfs_readiness.text import terminal_safe

__all__ = ["render_nagios", "NAGIOS_STATES"]

#: Exit code -> the plugin status word.
NAGIOS_STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
_SCORE_WARN, _SCORE_CRIT = 90, 60


def render_nagios(result: RunResult, thresholds: Mapping[str, DayThresholds] | None = None) -> str:
    """One plugin line (ending in a newline) for ``result``. ``thresholds`` maps a certificate
    purpose to its day limits (default: CHECKS.md's)."""
    grade = result.grade
    code = grade.verdict.exit_code
    counts = {s.value: 0 for s in Status}
    for f in result.findings:
        if f.suppression is None:
            counts[Status(f.status).value] += 1
    certs = run_certificates(result)
    text = (f"ADFS-READINESS {NAGIOS_STATES[code]} - {_clean(result.target)} {grade.verdict.value}, "
            f"grade {grade.letter}, score {grade.score}/100, {counts['fail']} fail, {counts['warn']} warn, "
            f"{counts['error']} not determined")
    if certs:
        soonest = certs[0]
        text += f"; soonest certificate: {soonest.purpose} {soonest.sha1[:8]} in {soonest.days_left} days"
    blockers = [r.check_id for r in grade.reasons if r.kind in ("blocker_failed", "blocker_undetermined") and r.check_id]
    if blockers:
        text += f"; blockers: {', '.join(dict.fromkeys(blockers))}"
    perf = [f"score={grade.score};{_SCORE_WARN}:;{_SCORE_CRIT}:;0;100",
            f"fail={counts['fail']};;;0;", f"warn={counts['warn']};;;0;", f"error={counts['error']};;;0;"]
    seen: set[str] = set()
    for cert in certs:
        label = f"days_{cert.purpose}_{cert.sha1[:8]}"
        if label in seen:
            continue
        seen.add(label)
        limits = day_thresholds(cert.purpose, thresholds)
        perf.append(f"{_label(label)}={cert.days_left};{limits.warn}:;{limits.crit}:;;")
    return f"{text} | {' '.join(perf)}\n"


def _clean(text: str) -> str:
    # The plugin output's first line must not carry '|' (it starts the perfdata) or line breaks;
    # nor, as it is also read on terminals, control characters.
    return terminal_safe(text.replace("|", "/").replace("\n", " ").replace("\r", " "))


def _label(label: str) -> str:
    label = _clean(label).replace("=", "_")
    if any(c in label for c in " '"):
        return "'" + label.replace("'", "''") + "'"
    return label
