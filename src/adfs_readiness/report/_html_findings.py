"""The findings part of the HTML report, per area: cards for what needs reading, one table row per
passed check, one line per skip reason. Bounded, so that 5,000 findings still make a small page.

* A card is one check with one status and one fix; the findings of several targets share it
  ("on 480 targets"). It shows the first :data:`FULL_ENTRIES` targets with their key facts and
  raw evidence (behind a toggle), the next :data:`LISTED_ENTRIES` as a line each, and counts the
  rest, which the JSON and CSV reports (``--csv``) hold in full.
* Passed checks are one row each in the area's table, with their targets as a compact list.
* Skipped checks are grouped by reason, one line per reason.

Every finding gets an anchor the rest of the report can link to (the action plan, the reasons):
its card, its passed row or its skip line, whichever shows it.
"""

from __future__ import annotations

from typing import Any, Mapping

from adfs_readiness.model import STATUS_ORDER, Area, Finding, RunResult, Severity, Status
from adfs_readiness.report.action_plan import named_fix
from adfs_readiness.report._common import finding_sort_key, readable_dates, status_counts
from adfs_readiness.report._html_evidence import key_facts, key_table, node

__all__ = ["FULL_ENTRIES", "LISTED_ENTRIES", "STATUS_TEXT", "areas_view", "is_web_url"]

#: Targets of one card shown with their key facts and evidence; then listed; then counted.
FULL_ENTRIES = 5
LISTED_ENTRIES = 20
#: Targets named in a passed check's row; per-target summaries in its details.
_ROW_TARGETS = 6
_ROW_DETAILS = 20
#: Targets named on a passed check's printed line.
_PRINT_TARGETS = 3

STATUS_TEXT: dict[Status, tuple[str, str]] = {
    Status.FAIL: ("Fail", "The check found a problem. A failed blocker means single sign-on "
                          "will not work."),
    Status.ERROR: ("Not determined", "The check could not reach a judgement (a probe timed out, "
                                     "was refused, ...). It never counts as a pass."),
    Status.WARN: ("Warning", "Works today, but should be fixed (weak algorithm, expiry "
                             "approaching, ...)."),
    Status.INFO: ("Info", "Reported for your information; not judged."),
    Status.PASS: ("Pass", "The check found what it requires."),
    Status.SKIP: ("Skipped", "Not applicable to this deployment, or disabled."),
}


def areas_view(result: RunResult, plan_numbers: Mapping[int, int] | None = None
               ) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """(areas, anchors): the template data of each area that has findings, in ``Area`` order, and
    the anchor (element id) that shows each finding, by its index in ``result.findings``.

    ``plan_numbers``: the Fix-first item (its priority) that lists each finding, by index; a card
    whose command the plan prints names that item instead of printing the command again on paper."""
    anchors: dict[int, str] = {}
    by_area: dict[Area, list[tuple[int, Finding]]] = {}
    for index, f in enumerate(result.findings):
        by_area.setdefault(Area(f.area), []).append((index, f))
    areas = []
    for area in Area:
        members = by_area.get(area)
        if not members:
            continue
        members.sort(key=lambda item: (finding_sort_key(item[1]), item[0]))
        counts = status_counts(result, [f for _, f in members])
        areas.append({
            "id": f"area-{area.value}",
            "area": area.value,
            "title": area.title,
            "counts": [{"status": s.value, "n": counts[s.value], "label": STATUS_TEXT[s][0].lower()}
                       for s in STATUS_ORDER if counts[s.value]],
            "cards": _cards(result, area,
                            [m for m in members if Status(m[1].status) not in (Status.PASS, Status.SKIP)],
                            anchors, plan_numbers or {}),
            "passed": _passed_rows(area, [m for m in members if Status(m[1].status) is Status.PASS], anchors),
            "skipped": _skip_lines(area, [m for m in members if Status(m[1].status) is Status.SKIP], anchors),
        })
    return areas, anchors


def _cards(result: RunResult, area: Area, members: list[tuple[int, Finding]], anchors: dict[int, str],
           plan_numbers: Mapping[int, int]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[tuple[int, Finding]]] = {}
    for index, f in members:
        key = (f.check_id, Status(f.status), f.remediation, f.blocker, f.suppression is not None)
        groups.setdefault(key, []).append((index, f))
    cards = []
    for group in groups.values():
        first_index, first = group[0]
        anchor = f"finding-{first_index}"
        entries = []
        for n, (index, f) in enumerate(group):
            entry_anchor = anchor if n == 0 else f"finding-{index}"
            anchors[index] = entry_anchor if n < FULL_ENTRIES + LISTED_ENTRIES else anchor
            if n < FULL_ENTRIES:
                entries.append({"anchor": entry_anchor, "target": f.target, "summary": readable_dates(f.summary),
                                "facts": key_facts(f.evidence), "table": key_table(f.evidence),
                                "evidence": node(dict(f.evidence)) if f.evidence else None,
                                "suppression": _suppression(f)})
        listed = [{"anchor": f"finding-{index}", "target": f.target, "summary": readable_dates(f.summary)}
                  for index, f in group[FULL_ENTRIES:FULL_ENTRIES + LISTED_ENTRIES]]
        status = Status(first.status)
        # A command is offered for a problem to fix; an "info" finding's text is a note, and an
        # undetermined one's fix is to remove what stopped the check.
        remediation, script = named_fix(result, first)
        script = script if status in (Status.FAIL, Status.WARN) else None
        cards.append({
            "anchor": anchor, "area": area.value, "check_id": first.check_id, "title": first.title,
            "status": status.value, "pill": status.value.upper(), "status_label": STATUS_TEXT[status][0],
            "severity": Severity(first.severity).value, "blocker": first.blocker, "blocker_check": first.blocker_check,
            "suppressed": first.suppression is not None, "total": len(group), "entries": entries, "listed": listed,
            "more": max(0, len(group) - FULL_ENTRIES - LISTED_ENTRIES),
            "targets": len({f.target for _, f in group}),
            "remediation": remediation, "script": script, "plan_number": plan_numbers.get(first_index),
            "references": [{"title": r.title, "url": r.url, "linkable": is_web_url(r.url)} for r in first.references],
        })
    return cards


def _passed_rows(area: Area, members: list[tuple[int, Finding]], anchors: dict[int, str]) -> list[dict[str, Any]]:
    by_check: dict[str, list[tuple[int, Finding]]] = {}
    for index, f in members:
        by_check.setdefault(f.check_id, []).append((index, f))
    rows = []
    for check_id, group in by_check.items():
        first_index, first = group[0]
        anchor = f"finding-{first_index}"
        for index, _ in group:
            anchors[index] = anchor
        targets = list(dict.fromkeys(f.target for _, f in group if f.target))
        summaries = {f.summary for _, f in group}
        rows.append({
            "anchor": anchor, "area": area.value, "check_id": check_id, "title": first.title,
            "severity": Severity(first.severity).value, "count": len(group),
            "targets": targets[:_ROW_TARGETS], "more_targets": max(0, len(targets) - _ROW_TARGETS),
            "print_targets": targets[:_PRINT_TARGETS], "print_more": max(0, len(targets) - _PRINT_TARGETS),
            "summary": readable_dates(first.summary) if len(summaries) == 1 else None,
            "details": [{"target": f.target, "summary": readable_dates(f.summary)} for _, f in group[:_ROW_DETAILS]],
            "more_details": max(0, len(group) - _ROW_DETAILS),
            "evidence": node(dict(first.evidence)) if first.evidence else None,
            "references": [{"title": r.title, "url": r.url, "linkable": is_web_url(r.url)} for r in first.references],
        })
    return rows


def _skip_lines(area: Area, members: list[tuple[int, Finding]], anchors: dict[int, str]) -> list[dict[str, Any]]:
    by_reason: dict[str, list[tuple[int, Finding]]] = {}
    for index, f in members:
        by_reason.setdefault(f.summary, []).append((index, f))
    lines = []
    for n, (reason, group) in enumerate(by_reason.items()):
        anchor = f"skip-{area.value}-{n}"
        for index, _ in group:
            anchors[index] = anchor
        lines.append({"anchor": anchor, "area": area.value, "reason": reason,
                      "check_ids": list(dict.fromkeys(f.check_id for _, f in group)), "count": len(group)})
    return lines


def _suppression(f: Finding) -> dict[str, str] | None:
    s = f.suppression
    if s is None:
        return None
    return {"reason": s.reason, "accepted_by": s.accepted_by, "expires": s.expires.isoformat()}


def is_web_url(url: str) -> bool:
    """Only absolute http(s) URLs become links: never ``javascript:``, ``data:`` or relative."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - only here

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
