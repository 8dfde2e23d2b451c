"""The HTML report: one self-contained page an AD FS admin can open, mail, archive and print.

The page is rendered with jinja2 from package data (``report/templates/``) with autoescape on and
``StrictUndefined``, so every value from a directory, a server or a certificate is escaped and a
missing template variable is an error, not a blank. It has no external assets: CSS is inline,
the score gauge is inline SVG, there is no web font, no CDN, and no script is needed (findings
collapse with ``<details>``; a tiny inline script only opens them all before printing, allowed by
a Content-Security-Policy hash). Only ``http``/``https`` reference URLs become links.

Sections, in order: header (target, run time in UTC, tool version, verdict badge with grade,
score and counts), "Why this verdict", "What blocks single sign-on", one section per area with
findings worst first (``model.STATUS_ORDER``), and a footer with the status legend and the
gathered facts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from adfs_readiness.model import (
    STATUS_ORDER,
    Area,
    Finding,
    RunResult,
    Severity,
    Status,
    Verdict,
    VerdictReason,
)
from adfs_readiness.report._common import (
    REASON_LABELS,
    TOOL_NAME,
    duration_seconds,
    finding_sort_key,
    human_utc,
    iso_utc,
    jsonable,
    status_counts,
    tool_version,
)

__all__ = ["render_html"]

_TEMPLATE = "report.html.j2"
_CSS = "report.css"
_PRINT_SCRIPT = "print.js"

#: Strings longer than this (characters) are shown shortened, with the full value in <details>.
_LONG_TEXT = 160
_SHORT_TEXT = 96
#: Evidence nested deeper than this is shown as one JSON-like line rather than more nesting.
_MAX_DEPTH = 8
_GAUGE_RADIUS = 38

_VERDICT_TEXT: Mapping[Verdict, tuple[str, str]] = {
    Verdict.READY: ("READY", "Single sign-on through AD FS should work: no check failed, warned "
                             "or was left undetermined."),
    Verdict.READY_WITH_WARNINGS: ("READY WITH WARNINGS", "Single sign-on should work, but there "
                                  "are warnings to act on before they turn into failures."),
    Verdict.NOT_READY: ("NOT READY", "Single sign-on will not work until the blocking problems "
                                     "below are fixed."),
    Verdict.INCOMPLETE: ("INCOMPLETE", "Readiness could not be determined: at least one check "
                                       "that can block single sign-on could not complete."),
}

_STATUS_TEXT: Mapping[Status, tuple[str, str]] = {
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


@dataclass(frozen=True)
class _Node:
    """One evidence value prepared for the template.

    ``kind`` is "map" (``items``: (key, node) pairs), "list" (``items``: nodes), "table"
    (``columns`` and ``rows`` of nodes), "text" (``text``, and ``short`` when it is shortened;
    ``lead`` / ``core`` / ``trail`` when it starts or ends with white space, which a browser would
    not show: the white space is drawn as visible marks, the value itself is unchanged), "bool",
    "none", "number".
    """

    kind: str
    text: str = ""
    short: str = ""
    lead: str = ""
    core: str = ""
    trail: str = ""
    items: tuple[Any, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = field(default=())


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


def _view(result: RunResult) -> dict[str, Any]:
    grade = result.grade
    verdict = Verdict(grade.verdict)
    # Anchors by position, so that two equal findings still get distinct ids.
    cards = [_finding_view(f, f"finding-{i}") for i, f in enumerate(result.findings)]
    counts = status_counts(result)
    script = _resource(_PRINT_SCRIPT)
    score = max(0, min(100, int(grade.score)))
    circumference = 2 * math.pi * _GAUGE_RADIUS
    return {
        "tool_name": TOOL_NAME,
        "tool_version": tool_version(result),
        "target": result.target,
        "started_human": human_utc(result.started_at),
        "started_iso": iso_utc(result.started_at),
        "judged_as_of": str(result.metadata.get("judged_as_of") or ""),
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
        "gauge": {
            "radius": _GAUGE_RADIUS,
            "dash": f"{circumference * score / 100:.2f}",
            "circumference": f"{circumference:.2f}",
        },
        "counts": [_count_view(status, counts[status.value]) for status in STATUS_ORDER],
        "reasons": [_reason_view(reason, cards) for reason in grade.reasons],
        "blockers": [card for card in cards if card["blocker"]],
        "undetermined_blockers": [
            card for card in cards if card["blocker_check"] and card["status"] == "error"
        ],
        "areas": [_area_view(area, cards, result) for area in Area if _in_area(area, cards)],
        "legend": [
            {"status": s.value, "pill": s.value.upper(), "label": _STATUS_TEXT[s][0],
             "meaning": _STATUS_TEXT[s][1]}
            for s in STATUS_ORDER
        ],
        "facts": _node(_capped(jsonable(dict(result.facts)))) if result.facts else None,
        "run": _node(jsonable(dict(result.metadata))) if result.metadata else None,
        "certificates": _calendar_view(result),
        "css": Markup(_resource(_CSS)),
        "script": Markup(script),
        "csp": _content_security_policy(script),
        "since": _since_view(result),
    }


def _since_view(result: RunResult) -> dict[str, Any] | None:
    """The "Since last run" section (``_since_last_run.html.j2``), None when there is no previous run."""
    changes = result.changes
    if changes is None:
        return None
    delta = int(result.grade.score) - changes.previous_score

    def row(kind: str, c: Any) -> dict[str, Any]:
        return {"kind": kind, "check_id": c.check_id, "target": c.target, "title": c.title, "summary": c.summary,
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


def _calendar_view(result: RunResult) -> list[dict[str, Any]]:
    """The certificate calendar as timeline rows: band "fail" when expired or under 14 days left,
    "warn" under 90 (CHECKS.md's default TLS/token thresholds), "pass" otherwise, "error" when the
    date is unreadable; bar width = days left relative to the longest shown (at least a year)."""
    entries = [jsonable(e) for e in result.certificates]
    longest = max([365] + [e["days_left"] for e in entries if isinstance(e.get("days_left"), int)])
    rows = []
    for e in entries:
        days = e.get("days_left")
        if not isinstance(days, int):
            band, text = "error", "expiry unreadable"
        elif days < 0:
            band, text = "fail", f"expired {-days} day{'s' if days != -1 else ''} ago"
        else:
            band = "fail" if days < 14 else "warn" if days < 90 else "pass"
            text = f"{days} day{'s' if days != 1 else ''} left"
        rows.append({"role": e.get("role"), "subject": e.get("subject") or "(undecodable)", "sha1": e.get("sha1"),
                     "sha256": e.get("sha256"), "where": e.get("where") or [], "band": band, "days_text": text,
                     "not_after_iso": e.get("not_after"),
                     "not_after_text": (e.get("not_after") or "unknown")[:10],
                     "width": max(0, min(100, round(100 * max(days, 0) / longest))) if isinstance(days, int) else 0})
    return rows


def _resource(name: str) -> str:
    return resources.files("adfs_readiness.report").joinpath("templates", name).read_text("utf-8")


def _content_security_policy(script: str) -> str:
    """Nothing may load from anywhere; only our own print helper may run (CSP Level 3 hash
    source, https://www.w3.org/TR/CSP3/#grammardef-hash-source). A defence in depth behind
    autoescaping: an injected script would not run even if it slipped through."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _count_view(status: Status, n: int) -> dict[str, Any]:
    return {"status": status.value, "n": n, "label": _STATUS_TEXT[status][0].lower()}


def _in_area(area: Area, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [card for card in cards if card["finding"].area == area]


def _area_view(area: Area, cards: list[dict[str, Any]], result: RunResult) -> dict[str, Any]:
    mine = sorted(_in_area(area, cards), key=lambda card: finding_sort_key(card["finding"]))
    counts = status_counts(result, [card["finding"] for card in mine])
    return {
        "id": f"area-{area.value}",
        "title": area.title,
        "counts": [_count_view(s, counts[s.value]) for s in STATUS_ORDER if counts[s.value]],
        "findings": mine,
    }


def _reason_view(reason: VerdictReason, cards: list[dict[str, Any]]) -> dict[str, Any]:
    anchor = next(
        (
            card["anchor"]
            for card in cards
            if card["check_id"] == reason.check_id and reason.target in (None, card["target"])
        ),
        None,
    )
    return {
        "kind": reason.kind,
        "label": REASON_LABELS.get(reason.kind, reason.kind.replace("_", " ").capitalize()),
        "check_id": reason.check_id,
        "target": reason.target,
        "summary": reason.summary,
        "anchor": anchor,
    }


def _finding_view(finding: Finding, anchor: str) -> dict[str, Any]:
    status = Status(finding.status)
    return {
        "finding": finding,
        "anchor": anchor,
        "check_id": finding.check_id,
        "title": finding.title,
        "status": status.value,
        "pill": status.value.upper(),
        "status_label": _STATUS_TEXT[status][0],
        "severity": Severity(finding.severity).value,
        "blocker": finding.blocker,
        "blocker_check": finding.blocker_check,
        "target": finding.target,
        "summary": finding.summary,
        "evidence": _node(jsonable(dict(finding.evidence))) if finding.evidence else None,
        # A fix is only relevant when the check did not pass (CheckMeta.remediation says so).
        "remediation": finding.remediation if status not in (Status.PASS, Status.SKIP) else "",
        "references": [
            {"title": ref.title, "url": ref.url, "linkable": _is_web_url(ref.url)}
            for ref in finding.references
        ],
        "open": status not in (Status.PASS, Status.SKIP),
        "suppression": None if finding.suppression is None else {
            "reason": finding.suppression.reason, "accepted_by": finding.suppression.accepted_by,
            "expires": finding.suppression.expires.isoformat()},
    }


def _is_web_url(url: str) -> bool:
    """Only absolute http(s) URLs become links: never ``javascript:``, ``data:`` or relative."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


#: Items of one list the facts section shows: a directory scan keeps every object it read (100,000
#: users make a 200 MB page otherwise); the JSON report and the evidence snapshot keep them all.
_FACT_LIST_LIMIT = 100


def _capped(value: Any) -> Any:
    """``value`` with every list longer than :data:`_FACT_LIST_LIMIT` cut to that many items and a
    last item saying how many more the JSON report has."""
    if isinstance(value, dict):
        return {k: _capped(v) for k, v in value.items()}
    if isinstance(value, list):
        head = [_capped(v) for v in value[:_FACT_LIST_LIMIT]]
        if len(value) > _FACT_LIST_LIMIT:
            head.append(f"… and {len(value) - _FACT_LIST_LIMIT:,} more (the JSON report has them all)")
        return head
    return value


def _node(value: Any, depth: int = 0) -> _Node:
    """Prepare a JSON-ready value for display (see :class:`_Node`)."""
    if value is None:
        return _Node("none", text="none")
    if isinstance(value, bool):
        return _Node("bool", text="yes" if value else "no")
    if isinstance(value, (int, float)):
        return _Node("number", text=str(value))
    if isinstance(value, str):
        return _text_node(value)
    if depth >= _MAX_DEPTH:
        return _text_node(repr(value))
    if isinstance(value, dict):
        return _Node("map", items=tuple((str(k), _node(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and v and _all_scalar(v) for v in value):
            columns: dict[str, None] = {}
            for row in value:
                columns.update(dict.fromkeys(row))
            return _Node(
                "table",
                columns=tuple(columns),
                rows=tuple(tuple(_node(row.get(c), depth + 1) for c in columns) for row in value),
            )
        return _Node("list", items=tuple(_node(v, depth + 1) for v in value))
    return _text_node(str(value))


def _all_scalar(mapping: dict[str, Any]) -> bool:
    return all(not isinstance(v, (dict, list)) for v in mapping.values())


# Visible marks for white space at the ends of a value (a UPN "name@contoso.com " and its fix
# "name@contoso.com" would otherwise look the same in a browser).
# Glyphs every font has (U+2420 SYMBOL FOR SPACE is missing from common fonts); the .ws style
# highlights them and the title says what they stand for.
_WS_MARKS = {" ": "·", "\t": "→", "\u00a0": "·", "\r": "↵", "\n": "↵"}


def _text_node(text: str) -> _Node:
    if len(text) > _LONG_TEXT:
        return _Node("text", text=text, short=text[:_SHORT_TEXT] + "…")
    core = text.strip()
    if core != text:
        start = text.index(core) if core else len(text)
        lead, trail = text[:start], text[start + len(core):]
        mark = lambda ws: "".join(_WS_MARKS.get(c, "·") for c in ws)  # noqa: E731
        return _Node("text", text=text, lead=mark(lead), core=core, trail=mark(trail))
    return _Node("text", text=text)
