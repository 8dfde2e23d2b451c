"""The JSON report: a versioned document with a committed JSON Schema (draft 2020-12).

The document is what schedulers, SIEMs and the ``assess`` command read, so its fixed parts are
strict (enumerated statuses, severities, verdicts, areas, grade letters; no unknown keys) and it
carries ``schema_version``. Evidence, facts and run metadata are free-form JSON objects: checks
and probes add to them without a schema change.

Shape (keys in this order)::

    schema_version, tool {name, version}, target, started_at, finished_at (ISO 8601 UTC),
    duration_seconds, score, grade, verdict, exit_code,
    verdict_reasons [{kind, check_id, target, summary}],
    grading {score_letter, points_lost_total, points_lost [{check_id, target, status, severity, points, shared_by}],
             caps [{letter, rule, check_ids, applied}]}   (why this grade; when the grading gave it)
    counts {pass, warn, fail, error, skip, info},
    areas [{area, title, counts}],
    findings [{check_id, area, title, status, severity, blocker, blocker_check, target, summary,
               evidence, remediation, references [{title, url}]}],
    facts {...}, run {...},
    certificates [{role, subject, sha1, sha256, not_after, days_left, where []}]  (the calendar)
    since_last_run {...}      (only when the run was compared with a previous one, see history)

A finding covered by an accepted risk carries ``suppression {reason, accepted_by, expires, source}``
(only then). The schema is ``report/schema/report.schema.json`` (package data); JSON Schema draft 2020-12 is
https://json-schema.org/draft/2020-12/schema, ISO 8601 timestamps follow RFC 3339.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from adfs_readiness.model import Finding, FindingChange, GradeExplanation, RunChanges, RunResult, VerdictReason
from adfs_readiness.report._common import (
    TOOL_NAME,
    duration_seconds,
    findings_by_area,
    iso_utc,
    jsonable,
    status_counts,
    tool_version,
)

__all__ = ["SCHEMA_VERSION", "report_dict", "render_json", "load_schema", "validate_report", "grading_dict"]

#: Version of the document shape. Bump the minor for added optional keys, the major for anything
#: a reader of the previous version would misread; update report.schema.json with it.
SCHEMA_VERSION = "1.1"

_SCHEMA_RESOURCE = ("schema", "report.schema.json")


def report_dict(result: RunResult) -> dict[str, Any]:
    """The report document of ``result`` as plain dicts/lists/str/int/float/bool/None.

    Key order is fixed (see the module docstring); findings keep the run's check order. Values
    that JSON cannot carry (NaN, unknown objects in evidence) are converted to strings rather
    than raising. ``exit_code`` is ``result.grade.verdict.exit_code``.
    """
    grade = result.grade
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version(result)},
        "target": result.target,
        "started_at": iso_utc(result.started_at),
        "finished_at": iso_utc(result.finished_at),
        "duration_seconds": duration_seconds(result),
        "score": int(grade.score),
        "grade": grade.letter,
        "verdict": grade.verdict.value,
        "exit_code": grade.verdict.exit_code,
        "verdict_reasons": [_reason_dict(reason) for reason in grade.reasons],
        **({"grading": grading_dict(grade.explanation)} if grade.explanation is not None else {}),
        "counts": status_counts(result),
        "areas": [
            {"area": area.value, "title": area.title, "counts": status_counts(result, findings)}
            for area, findings in findings_by_area(result.findings)
        ],
        "findings": [_finding_dict(finding) for finding in result.findings],
        "facts": jsonable(dict(result.facts)),
        "run": jsonable(dict(result.metadata)),
        "certificates": [jsonable(entry) for entry in result.certificates],
    }
    if result.changes is not None:
        doc["since_last_run"] = changes_dict(result.changes, int(grade.score))
    if result.provenance is not None:
        doc["provenance"] = {**jsonable(result.provenance), "line": result.provenance.line()}
    return doc


def grading_dict(explanation: GradeExplanation) -> dict[str, Any]:
    """The ``grading`` object: the letter the score alone gives, the points (out of 100, rounded to
    0.01) each finding cost, largest first, their total (the unrounded rows summed, rounded once
    to 0.1: ``GradeExplanation.total_points_lost``) and the caps that apply to the letter."""
    return {
        "score_letter": explanation.score_letter,
        "points_lost_total": explanation.total_points_lost,
        "points_lost": [{"check_id": p.check_id, "target": p.target, "status": p.status.value,
                         "severity": p.severity.value, "points": round(p.points, 2), "shared_by": p.shared_by}
                        for p in explanation.points_lost],
        "caps": [{"letter": c.letter, "rule": c.rule, "check_ids": list(c.check_ids), "applied": c.applied}
                 for c in explanation.caps],
    }


def changes_dict(changes: RunChanges, score: int) -> dict[str, Any]:
    """The ``since_last_run`` object: the previous run, the score delta and trend, the new,
    resolved and changed findings and the certificates that moved closer to expiry."""

    def finding(c: FindingChange) -> dict[str, Any]:
        return {"check_id": c.check_id, "target": c.target, "title": c.title,
                "before": c.before.value if c.before else None, "after": c.after.value if c.after else None,
                "summary": c.summary}

    return {
        "previous_run": {"id": changes.previous_run_id, "started_at": iso_utc(changes.previous_started_at),
                         "verdict": changes.previous_verdict.value, "grade": changes.previous_grade,
                         "score": changes.previous_score},
        "score_delta": score - changes.previous_score,
        "score_trend": list(changes.score_trend),
        "new": [finding(c) for c in changes.new],
        "resolved": [finding(c) for c in changes.resolved],
        "changed": [finding(c) for c in changes.changed],
        "certificates_closer_to_expiry": [
            {"purpose": c.purpose, "subject": c.subject, "sha1": c.sha1, "not_after": iso_utc(c.not_after),
             "days_left_before": c.days_left_before, "days_left_after": c.days_left_after}
            for c in changes.certificates],
    }


def render_json(result: RunResult) -> str:
    """The report of ``result`` as JSON text (UTF-8 characters kept, 2-space indent, trailing
    newline). The same result always gives the same text."""
    return json.dumps(report_dict(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12) from package data.

    Raises:
        FileNotFoundError: the package was installed without its data files.
        json.JSONDecodeError: the schema file is damaged.
    """
    resource = resources.files("adfs_readiness.report").joinpath(*_SCHEMA_RESOURCE)
    return json.loads(resource.read_text(encoding="utf-8"))


def validate_report(doc: dict[str, Any]) -> None:
    """Validate a report document against :func:`load_schema`.

    ``jsonschema`` is a test/optional dependency, imported here only.

    Raises:
        jsonschema.ValidationError: the document does not match (the best-matching error).
        ImportError: jsonschema is not installed.
    """
    import jsonschema  # noqa: PLC0415 - optional dependency, see docstring

    validator = jsonschema.Draft202012Validator(
        load_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        raise error


def _reason_dict(reason: VerdictReason) -> dict[str, Any]:
    return {
        "kind": reason.kind,
        "check_id": reason.check_id,
        "target": reason.target,
        "summary": reason.summary,
    }


def _finding_dict(finding: Finding) -> dict[str, Any]:
    doc = {
        "check_id": finding.check_id,
        "area": jsonable(finding.area),
        "title": finding.title,
        "status": jsonable(finding.status),
        "severity": jsonable(finding.severity),
        "blocker": bool(finding.blocker),
        "blocker_check": bool(finding.blocker_check),
        "target": finding.target,
        "summary": finding.summary,
        "evidence": jsonable(dict(finding.evidence)),
        "remediation": finding.remediation,
        "references": [{"title": ref.title, "url": ref.url} for ref in finding.references],
    }
    if finding.suppression is not None:
        s = finding.suppression
        doc["suppression"] = {"reason": s.reason, "accepted_by": s.accepted_by, "expires": s.expires.isoformat(),
                              "source": s.source}
    return doc
