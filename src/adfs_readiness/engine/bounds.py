"""Output bounds: what a run puts in its reports stays proportionate whatever the input held.

A 300,000-relying-party export once made a 342 MB HTML report and a minute of rendering: one
finding per trust, every fact in full. The bounds are applied here, on the graded result, so every
renderer (HTML, JSON, text, JUnit, Markdown, metrics) gets a bounded result without each one
re-deciding a cap:

* :func:`bound_tree` cuts a JSON-ready value (a finding's evidence, the facts shown in a report):
  a list keeps its first ``max_items`` entries and ends with one string counting the rest; a
  string keeps its first ``max_text`` characters and says how many were cut. The engine bounds
  every finding's evidence, summary and target this way as it makes the finding.
* :func:`bound_for_report` returns the copy of a result the reports show: at most ``max_rows``
  findings per check (worst status first), plus one finding per cut check that counts the rest by
  status and says that the CSV report lists them all. The grade (score, verdict, counts) is the
  one computed on every finding; the CSV report and the history get the full result.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from adfs_readiness.model import STATUS_ORDER, Finding, RunResult, Status, VerdictReason

__all__ = ["MAX_TEXT", "MAX_SUMMARY", "MAX_TARGET", "bound_tree", "bound_text", "bound_for_report",
           "overflow_summary"]

#: Characters of one string value in evidence or facts shown in a report.
MAX_TEXT = 20_000
#: Characters of a finding's one-sentence summary.
MAX_SUMMARY = 4_000
#: Characters of a finding's target (a certificate thumbprint, a node, a trust's name).
MAX_TARGET = 512


def bound_text(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters, else its start and a note of the cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters not shown]"


def bound_tree(value: Any, *, max_items: int, max_text: int = MAX_TEXT) -> Any:
    """A copy of the JSON-ready ``value`` with every list cut to ``max_items`` entries (a last
    string entry counts the others), every mapping to ``max_items`` keys (a ``"…"`` key counts the
    others) and every string to ``max_text`` characters. Nesting is kept; the walk is iterative
    only in spirit: JSON-ready values from the engine are at most a few levels deep, and the
    snapshot and export readers refuse deep ones (json_input.DEFAULT_MAX_DEPTH)."""
    if isinstance(value, str):
        return bound_text(value, max_text)
    if isinstance(value, list | tuple):
        items = [bound_tree(v, max_items=max_items, max_text=max_text) for v in value[:max_items]]
        if len(value) > max_items:
            items.append(f"… {len(value) - max_items:,} more not shown ({len(value):,} in all)")
        return items
    if isinstance(value, dict):
        out = {}
        for index, (key, item) in enumerate(value.items()):
            if index == max_items:
                out["…"] = f"{len(value) - max_items:,} more keys not shown ({len(value):,} in all)"
                break
            out[bound_text(str(key), 200)] = bound_tree(item, max_items=max_items, max_text=max_text)
        return out
    return value


def overflow_summary(count: int, by_status: Counter[str]) -> str:
    """The summary of the finding that stands for ``count`` findings not shown."""
    detail = ", ".join(f"{n:,} {status}" for status, n in sorted(by_status.items(),
                                                                   key=lambda kv: STATUS_ORDER.index(Status(kv[0]))))
    return (f"{count:,} more finding(s) of this check are not shown in this report ({detail}); the CSV report "
            f"(--csv) lists every finding. limits.max_report_rows sets how many are shown.")


def bound_for_report(result: RunResult, max_rows: int) -> RunResult:
    """The copy of ``result`` the reports render (see the module docstring): findings cut to
    ``max_rows`` per check, the worst kept (fail, error, warn, ... in ``STATUS_ORDER``, then the
    run's order), each cut check closed by one finding counting the rest; facts cut with
    :func:`bound_tree` to ``max_rows`` entries per list. ``result`` itself is unchanged."""
    by_check: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_check.setdefault(finding.check_id, []).append(finding)
    reasons = _bound_reasons(result.grade.reasons, max_rows)
    grade = result.grade if len(reasons) == len(result.grade.reasons) else \
        dataclasses.replace(result.grade, reasons=reasons)
    if all(len(group) <= max_rows for group in by_check.values()) and not result.facts:
        return dataclasses.replace(result, grade=grade) if grade is not result.grade else result
    kept_ids: set[int] = set()
    overflow: dict[str, Finding] = {}
    for check_id, group in by_check.items():
        if len(group) <= max_rows:
            kept_ids.update(id(f) for f in group)
            continue
        ranked = sorted(group, key=lambda f: (STATUS_ORDER.index(Status(f.status)), f.suppression is not None))
        kept_ids.update(id(f) for f in ranked[:max_rows])
        overflow[check_id] = _overflow_finding(ranked[max_rows:])
    findings: list[Finding] = []
    for finding in result.findings:
        if id(finding) in kept_ids:
            findings.append(finding)
    # Each overflow finding goes right after the last shown finding of its check.
    for check_id, extra in overflow.items():
        last = max(i for i, f in enumerate(findings) if f.check_id == check_id)
        findings.insert(last + 1, extra)
    facts = bound_tree(dict(result.facts), max_items=max_rows) if result.facts else result.facts
    return dataclasses.replace(result, findings=tuple(findings), facts=facts, grade=grade)


def _bound_reasons(reasons: tuple[VerdictReason, ...], max_rows: int) -> tuple[VerdictReason, ...]:
    """At most ``max_rows`` verdict reasons per (kind, check); one more reason counts the rest."""
    seen: Counter[tuple[str, str | None]] = Counter()
    for reason in reasons:
        seen[(reason.kind, reason.check_id)] += 1
    if all(n <= max_rows for n in seen.values()):
        return reasons
    out: list[VerdictReason] = []
    shown: Counter[tuple[str, str | None]] = Counter()
    for reason in reasons:
        key = (reason.kind, reason.check_id)
        shown[key] += 1
        if shown[key] <= max_rows:
            out.append(reason)
        elif shown[key] == max_rows + 1:
            out.append(VerdictReason(reason.kind, reason.check_id,
                                     f"... and {seen[key] - max_rows:,} more like these of {reason.check_id} "
                                     f"(the CSV report lists every finding)."))
    return tuple(out)


def _overflow_finding(hidden: list[Finding]) -> Finding:
    open_ = [f for f in hidden if f.suppression is None]
    pool = open_ or hidden
    worst = min(pool, key=lambda f: STATUS_ORDER.index(Status(f.status)))
    counts = Counter(Status(f.status).value for f in hidden)
    first = hidden[0]
    return dataclasses.replace(
        first,
        status=worst.status,
        blocker=any(f.blocker for f in open_),
        summary=overflow_summary(len(hidden), counts),
        evidence={"findings_not_shown": len(hidden), "by_status": dict(counts),
                  "targets_not_shown_first": [f.target for f in hidden[:20] if f.target]},
        target=f"(+{len(hidden):,} more)",
        suppression=None if open_ else worst.suppression,
    )
