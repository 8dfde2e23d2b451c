"""The HTML report: one self-contained page an AD FS admin can open, mail, archive, print and read
on a phone.

The page is rendered with jinja2 from package data (``report/templates/``) with autoescape on and
``StrictUndefined``, so every value from a directory, a server or a certificate is escaped and a
missing template variable is an error, not a blank. It has no external assets: CSS is inline,
the charts are inline SVG and CSS, there is no web font, no CDN. A small inline script (filters,
search, expand/collapse all, copy buttons) is the only script, allowed by a Content-Security-Policy
hash; without it everything is still there and readable. Only ``http``/``https`` reference URLs
become links.

Reading order: the verdict (header and a sticky bar), **Fix first** (the action plan,
``action_plan.py``), why this verdict and grade (points each finding cost, caps), the certificate
timeline, what changed since the last run, the findings per area (cards for what needs reading,
passed checks as one table per area, skipped checks one line per reason), the facts gathered
(collapsed, one section per fact), and a legend. Everything is bounded (``_html_findings``,
``_html_evidence``): 5,000 findings still make a page of a few hundred kilobytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from collections import Counter
from importlib import resources
from typing import Any, Mapping

import jinja2
from markupsafe import Markup


from adfs_readiness.grading import SEVERITY_WEIGHTS
from adfs_readiness.model import STATUS_ORDER, Area, RunResult, Severity, Status, Verdict, VerdictReason
from adfs_readiness.report._common import (
    REASON_LABELS,
    TOOL_NAME,
    display_target,
    duration_seconds,
    human_utc,
    iso_utc,
    jsonable,
    metadata_run,
    readable_dates,
    status_counts,
    tool_version,
)
from adfs_readiness.report._html_evidence import FACT_DEPTH, FACT_ROWS, node
from adfs_readiness.report._html_findings import STATUS_TEXT, areas_view
from adfs_readiness.report._html_timeline import timeline_view
from adfs_readiness.report.action_plan import Action, action_plan

__all__ = ["render_html", "MAX_PLAN_ITEMS"]

_TEMPLATE = "report.html.j2"
_CSS = "report.css"
_SCRIPT = "report.js"
_GAUGE_RADIUS = 38
#: Actions listed under "Fix first"; the CSV (--action-plan) has them all.
MAX_PLAN_ITEMS = 30
#: Findings named in "Why this grade" one by one; the rest are summed.
_MAX_POINT_ROWS = 10
_SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)

_VERDICT_TEXT: Mapping[Verdict, tuple[str, str]] = {
    Verdict.READY: ("READY", "Single sign-on through AD FS should work: no check failed, warned "
                             "or was left undetermined."),
    Verdict.READY_WITH_WARNINGS: ("READY WITH WARNINGS", "Single sign-on should work, but there "
                                  "are problems to fix before they turn into outages."),
    Verdict.NOT_READY: ("NOT READY", "Single sign-on will not work until the blocking problems "
                                     "are fixed."),
    Verdict.INCOMPLETE: ("INCOMPLETE", "Readiness could not be determined: at least one check "
                                       "that can block single sign-on could not complete."),
}


def render_html(result: RunResult) -> str:
    """The report of ``result`` as one self-contained HTML5 document (str).

    Raises:
        jinja2.TemplateError: the packaged template is damaged or refers to an unknown value.
    """
    return _template().render(**_view(result))


@functools.cache
def _template() -> jinja2.Template:
    # Compiled once per process: compiling the templates costs several times the rendering, and
    # a fleet renders hundreds of reports. A compiled template is immutable, so this is no
    # shared mutable state.
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adfs_readiness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(_TEMPLATE)


#: The facts section's headings: what each fact holds, in the admin's words (the JSON key after it).
FACT_TITLES = {
    "metadata": "Federation metadata",
    "tls": "SSL certificates and TLS",
    "dns.internal": "DNS as the internal network sees it",
    "dns.external": "DNS as the internet sees it",
    "directory": "Active Directory",
    "endpoints": "AD FS endpoints",
    "cloud_realm": "Entra ID realm discovery",
    "entra_federation": "Entra ID federation settings",
    "entra_mfa_client": "Entra ID: the MFA client's certificates (Azure MFA adapter)",
    "adfs_export": "AD FS server and proxy exports",
    "sign_in": "Test sign-in",
    "certificate_file": "Certificate file",
}


def fact_title(key: str) -> str:
    """The heading of fact ``key``: its title, or (a plug-in's fact) the key in words."""
    if key in FACT_TITLES:
        return FACT_TITLES[key]
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def _empty_fact(value: Any) -> bool:
    """A fact that holds nothing to read: a source that was not configured (``configured``
    false), or nothing but empty values (no certificate file was given: every field null)."""
    if isinstance(value, Mapping) and value.get("configured") is False:
        return True
    return not _has_content(value)


def _has_content(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_content(v) for v in value)
    return value not in (None, "", False)


def _view(result: RunResult) -> dict[str, Any]:
    grade = result.grade
    verdict = Verdict(grade.verdict)
    counts = status_counts(result)
    script = _resource(_SCRIPT)
    score = max(0, min(100, int(grade.score)))
    circumference = 2 * math.pi * _GAUGE_RADIUS
    plan = action_plan(result)
    # The Fix-first item that prints each finding's command (the plan shows the first items).
    plan_numbers = {index: action.priority for action in plan[:MAX_PLAN_ITEMS] if action.script
                    for index in action.indexes}
    areas, anchors = areas_view(result, plan_numbers)
    facts = [{"key": str(k), "title": fact_title(str(k)), "node": node(value, max_rows=FACT_ROWS, max_depth=FACT_DEPTH)}
             for k, value in ((k, jsonable(v)) for k, v in result.facts.items()) if not _empty_fact(value)]
    return {
        "tool_name": TOOL_NAME,
        "tool_version": tool_version(result),
        "target": display_target(result),
        "checked": _checked_view(result),
        "started_human": human_utc(result.started_at),
        "started_iso": iso_utc(result.started_at),
        "judged_as_of": readable_dates(str(result.metadata.get("judged_as_of") or "")),
        # Facts replayed from a recording rather than gathered live (the demo lab without Samba).
        "recorded_facts": [str(v) for v in dict(result.metadata.get("recorded_facts") or {}).values()],
        "provenance": result.provenance.line() if result.provenance is not None else "",
        "duration": f"{duration_seconds(result):.1f} s",
        "verdict": {
            "value": verdict.value,
            "css": verdict.value.lower().replace("_", "-"),
            "label": _VERDICT_TEXT[verdict][0],
            "meaning": _VERDICT_TEXT[verdict][1],
            "exit_code": verdict.exit_code,
        },
        "grade_letter": grade.letter,
        "score": score,
        "gauge": {"radius": _GAUGE_RADIUS, "dash": f"{circumference * score / 100:.2f}",
                  "circumference": f"{circumference:.2f}"},
        "counts": [{"status": s.value, "n": counts[s.value], "label": STATUS_TEXT[s][0].lower()}
                   for s in STATUS_ORDER],
        "plan": [_action_view(a, anchors) for a in plan[:MAX_PLAN_ITEMS]],
        "plan_more": max(0, len(plan) - MAX_PLAN_ITEMS),
        "why": _why_view(result, plan, anchors),
        "timeline": timeline_view(result),
        "since": _since_view(result),
        "areas": areas,
        "filters": _filters_view(result),
        "total_findings": len(result.findings),
        "legend": [{"status": s.value, "pill": s.value.upper(), "label": STATUS_TEXT[s][0],
                    "meaning": STATUS_TEXT[s][1]} for s in STATUS_ORDER],
        "facts": facts,
        "max_rows": FACT_ROWS,
        "weights": {s.value: f"{w:g}" for s, w in SEVERITY_WEIGHTS.items()},
        "run": node(jsonable(dict(result.metadata))) if result.metadata else None,
        "css": Markup(_resource(_CSS)),
        "script": Markup(script),
        "csp": _content_security_policy(script),
    }


def _checked_view(result: RunResult) -> str | None:
    """A line saying what the title stands for when it is not the configured service name."""
    run = metadata_run(result)
    if run is None:
        return None
    source_kind, entity_id = run
    kind = "a saved federation metadata file" if source_kind == "file" else "federation metadata"
    return f"{kind} (entityID {entity_id})" if entity_id else kind


def _action_view(action: Action, anchors: Mapping[int, str]) -> dict[str, Any]:
    f = action.finding
    status = Status(f.status)
    targets = action.targets
    return {
        "priority": action.priority, "tier": action.tier, "status": status.value, "pill": status.value.upper(),
        "status_label": STATUS_TEXT[status][0], "check_id": f.check_id, "title": f.title,
        "anchor": anchors.get(action.indexes[0], ""), "summary": readable_dates(f.summary), "what": readable_dates(action.what),
        "script": action.script.text if action.script else None,
        "script_lines": list(action.script.lines) if action.script else [],
        "changing": bool(action.script and action.script.changing),
        "targets": list(targets[:3]), "more_targets": max(0, len(targets) - 3),
        "affected": action.affected_text, "due": action.due_text, "now": action.due is not None and not action.days_left,
    }


def _why_view(result: RunResult, plan: tuple[Action, ...], anchors: Mapping[int, str]) -> dict[str, Any]:
    """The verdict in one sentence, the reasons grouped by kind in plan order, and the grade's
    explanation (points lost, caps) as the grading gave it."""
    counted = [f for f in result.findings if f.suppression is None]
    n: Counter[str] = Counter()
    for f in counted:
        status = Status(f.status)
        if status is Status.FAIL:
            n["blocker" if f.blocker else "failed"] += 1
        elif status is Status.ERROR:
            n["blocker_undetermined" if f.blocker_check else "undetermined"] += 1
        elif status is Status.WARN:
            n["warned"] += 1
    rank: dict[tuple[str, str | None], int] = {}
    for action in plan:
        for f in action.findings:
            rank.setdefault((f.check_id, f.target), action.priority)
            rank.setdefault((f.check_id, None), action.priority)
    position: dict[tuple[str | None, str | None], int] = {}
    for index, f in enumerate(result.findings):
        position.setdefault((f.check_id, f.target), index)
        position.setdefault((f.check_id, None), index)
    groups: dict[str, list[dict[str, Any]]] = {}

    def consequence(r: VerdictReason) -> int:
        return rank.get((r.check_id or "", r.target), rank.get((r.check_id or "", None), 10**9))

    for reason in sorted(result.grade.reasons, key=consequence):
        found = position.get((reason.check_id, reason.target), position.get((reason.check_id, None), -1))
        groups.setdefault(reason.kind, []).append({
            "check_id": reason.check_id, "target": reason.target, "summary": readable_dates(reason.summary),
            "anchor": anchors.get(found, ""),
        })
    order = ("blocker_failed", "blocker_undetermined", "failed", "undetermined", "warning", "nothing_checked")
    return {
        "sentence": _because(Verdict(result.grade.verdict), n),
        "groups": [{"kind": kind, "label": REASON_LABELS.get(kind, kind), "entries": groups[kind],
                    "with_summary": kind in ("blocker_undetermined", "undetermined", "nothing_checked")}
                   for kind in order if kind in groups],
        "grade": _grade_view(result, anchors),
    }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _because(verdict: Verdict, n: Counter[str]) -> str:
    if verdict is Verdict.NOT_READY:
        return (f"{_plural(n['blocker'], 'failed check blocks', 'failed checks block')} single sign-on: "
                "it does not work until they are fixed, whatever the score.")
    if verdict is Verdict.INCOMPLETE:
        if n["blocker_undetermined"]:
            checks = _plural(n["blocker_undetermined"], "check that can block single sign-on was",
                             "checks that can block single sign-on were")
            return f"{checks} not determined: readiness is unknown until they can run."
        return "No check produced a judgement: every check was skipped, so nothing was shown to work."
    if verdict is Verdict.READY:
        return "Nothing failed, warned or was left undetermined."
    parts = [p for p in (
        _plural(n["failed"], "check failed", "checks failed") + " without blocking" if n["failed"] else "",
        _plural(n["undetermined"], "check was", "checks were") + " not determined" if n["undetermined"] else "",
        _plural(n["warned"], "check warned", "checks warned") if n["warned"] else "") if p]
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else "some checks warned"
    return f"No blocker failed and every blocker check was determined, but {listed}."


def _grade_view(result: RunResult, anchors: Mapping[int, str]) -> dict[str, Any] | None:
    explanation = result.grade.explanation
    if explanation is None:
        return None
    position: dict[tuple[str, str | None], int] = {}
    for index, f in enumerate(result.findings):
        position.setdefault((f.check_id, f.target), index)
    rows = [{"check_id": p.check_id, "target": p.target, "status": p.status.value, "severity": p.severity.value,
             "points": f"{p.points:.1f}", "shared_by": p.shared_by,
             "anchor": anchors.get(position.get((p.check_id, p.target), -1), "")}
            for p in explanation.points_lost[:_MAX_POINT_ROWS]]
    rest = explanation.points_lost[_MAX_POINT_ROWS:]
    return {
        "score": max(0, min(100, int(result.grade.score))), "letter": result.grade.letter,
        "score_letter": explanation.score_letter,
        "lost": f"{explanation.total_points_lost:.1f}",
        "rows": rows, "rest_count": len(rest), "rest_points": f"{sum(p.points for p in rest):.1f}",
        "caps": [{"letter": c.letter, "rule": c.rule, "check_ids": list(c.check_ids), "applied": c.applied}
                 for c in explanation.caps],
    }


def _filters_view(result: RunResult) -> dict[str, list[dict[str, Any]]]:
    statuses = Counter(Status(f.status) for f in result.findings)
    areas = Counter(Area(f.area) for f in result.findings)
    severities = Counter(Severity(f.severity) for f in result.findings)
    return {
        "status": [{"value": s.value, "label": STATUS_TEXT[s][0], "n": statuses[s]} for s in STATUS_ORDER
                   if statuses[s]],
        "area": [{"value": a.value, "label": a.title, "n": areas[a]} for a in Area if areas[a]],
        "severity": [{"value": s.value, "label": s.value, "n": severities[s]} for s in _SEVERITY_ORDER
                     if severities[s]],
    }


def _since_view(result: RunResult) -> dict[str, Any] | None:
    """The "Since last run" section (``_since_last_run.html.j2``), None when there is no previous run."""
    changes = result.changes
    if changes is None:
        return None
    delta = int(result.grade.score) - changes.previous_score

    def row(kind: str, c: Any) -> dict[str, Any]:
        return {"kind": kind, "check_id": c.check_id, "target": c.target, "title": c.title, "summary": readable_dates(c.summary),
                "before": c.before.value if c.before else "absent", "after": c.after.value if c.after else "absent"}

    return {
        "previous_id": changes.previous_run_id,
        "previous_human": human_utc(changes.previous_started_at),
        "previous_verdict": changes.previous_verdict.value,
        "previous_grade": changes.previous_grade,
        "previous_score": changes.previous_score,
        "delta": f"{'+' if delta >= 0 else ''}{delta}",
        "trend": list(changes.score_trend),
        "rows": [row("new", c) for c in changes.new] + [row("resolved", c) for c in changes.resolved]
        + [row("changed", c) for c in changes.changed],
        "certificates": [{"purpose": c.purpose, "subject": c.subject, "sha1": c.sha1,
                          "not_after": human_utc(c.not_after), "before": c.days_left_before,
                          "after": c.days_left_after} for c in changes.certificates],
    }


def _resource(name: str) -> str:
    return resources.files("adfs_readiness.report").joinpath("templates", name).read_text("utf-8")


def _content_security_policy(script: str) -> str:
    """Nothing may load from anywhere; only our own script may run (CSP Level 3 hash source,
    https://www.w3.org/TR/CSP3/#grammardef-hash-source). A defence in depth behind autoescaping:
    an injected script would not run even if it slipped through."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
