"""Helpers shared by the renderers: counting, ordering and JSON-ready conversion of a RunResult.

Nothing here judges: verdicts, grades, scores and reasons come from the graded ``RunResult``
(DESIGN.md, "Renderers ... never compute verdicts"). This module only reads ``model`` and
``facts`` so the renderers keep to the layering rules (no probes, no engine).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from adfs_readiness import __version__
from adfs_readiness.facts import to_jsonable
from adfs_readiness.model import STATUS_ORDER, Area, Finding, RunResult, Severity, Status

#: The tool's name as it appears in every report.
TOOL_NAME = "adfs-readiness"

#: The key of ``RunResult.metadata`` that carries the version of the tool that made the run;
#: when absent (a result built by hand) the installed version is shown.
TOOL_VERSION_KEY = "tool_version"

_SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)

#: Words a reader can act on, for each ``VerdictReason.kind`` the grading emits (model.py).
REASON_LABELS: Mapping[str, str] = {
    "blocker_failed": "Blocker failed",
    "local_failure": "This machine could not check",
    "blocker_undetermined": "Blocker not determined",
    "warning": "Warning",
    "failed": "Failed",
    "undetermined": "Not determined",
    "nothing_checked": "Nothing checked",
}


def tool_version(result: RunResult) -> str:
    """The version of the tool that produced ``result`` (metadata ``tool_version``, else ours)."""
    value = result.metadata.get(TOOL_VERSION_KEY)
    return str(value) if value else __version__


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC. A naive datetime is taken to be UTC already (the run clock is UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 / RFC 3339 UTC timestamp, e.g. ``2026-11-30T12:00:00+00:00``."""
    return utc(moment).isoformat()


def human_utc(moment: datetime) -> str:
    """Timestamp for people, e.g. ``2026-11-30 12:00:00 UTC``."""
    return utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def display_target(result: RunResult) -> str:
    """What was checked, in the words of the report's title: the federation service name; for a
    run that only read federation metadata (its target is then the document's entityID, or the
    file's local path when it has none), the host of the entityID
    (``http://fs.contoso.com/adfs/services/trust`` -> ``fs.contoso.com``), else the file's name,
    or the URL's host."""
    run = metadata_run(result)
    if run is None:
        return result.target
    source_kind, entity_id = run
    host = _host(entity_id) if entity_id else None
    if host:
        return host
    if source_kind == "file":
        return PurePath(result.target.replace("\\", "/")).name or result.target
    return _host(result.target) or result.target


def metadata_run(result: RunResult) -> tuple[str, str | None] | None:
    """(source kind, entityID) when ``result`` is a run of a metadata file or URL without a
    federation service name (its target is the entityID or the source), else None."""
    metadata = result.facts.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    document = metadata.get("document")
    entity_id = document.get("entity_id") if isinstance(document, Mapping) else None
    entity_id = entity_id if isinstance(entity_id, str) and entity_id else None
    if result.target not in (metadata.get("source"), entity_id):
        return None
    return str(metadata.get("source_kind") or ""), entity_id


def service_host(entity_id: str) -> str | None:
    """The host of an entityID / URL (``http://fs.contoso.com/adfs/services/trust`` ->
    ``fs.contoso.com``), None when it has none."""
    return _host(entity_id)


def _host(uri: str) -> str | None:
    try:
        host = urlsplit(uri.strip()).hostname
    except ValueError:
        return None
    return host or None


def run_now(result: RunResult) -> datetime:
    """The moment the run judged at: ``--as-of`` when given (metadata ``judged_as_of``), else
    when it started. Days left and due dates count from it."""
    as_of = result.metadata.get("judged_as_of")
    if isinstance(as_of, str):
        try:
            return utc(datetime.fromisoformat(as_of))
        except ValueError:
            pass
    return utc(result.started_at)


def duration_seconds(result: RunResult) -> float:
    """Wall time of the run in seconds (>= 0, rounded to milliseconds)."""
    seconds = (utc(result.finished_at) - utc(result.started_at)).total_seconds()
    return round(max(seconds, 0.0), 3)


def status_counts(result: RunResult, findings: Iterable[Finding] | None = None) -> dict[str, int]:
    """Counts by status value, every status present, in ``Status`` order.

    For the whole run (``findings`` None) the grading's own counts are used where it gives them,
    so every report shows the numbers the grade was computed from; for a subset (an area) the
    findings are counted.
    """
    if findings is None:
        counted = _count(result.findings)
        graded = result.grade.counts
        return {s.value: int(graded.get(s.value, counted[s.value])) for s in Status}
    return _count(findings)


def _count(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for finding in findings:
        counts[Status(finding.status).value] += 1
    return counts


def finding_sort_key(finding: Finding) -> tuple[int, int, int]:
    """Sort key putting the worst first: ``STATUS_ORDER``, then blocking, then severity."""
    return (
        STATUS_ORDER.index(Status(finding.status)),
        0 if finding.blocker else 1,
        _SEVERITY_ORDER.index(Severity(finding.severity)),
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` worst first (:func:`finding_sort_key`); equal ones keep their order."""
    return sorted(findings, key=finding_sort_key)


def findings_by_area(findings: Iterable[Finding]) -> list[tuple[Area, list[Finding]]]:
    """Areas that have findings, in ``Area`` order, each with its findings in the given order."""
    grouped: dict[Area, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(Area(finding.area), []).append(finding)
    return [(area, grouped[area]) for area in Area if area in grouped]


def jsonable(value: Any) -> Any:
    """``facts.to_jsonable`` in its total mode: never raises, so one odd evidence value never
    breaks a report."""
    return to_jsonable(value, total=True)


#: An ISO 8601 date and time as checks write it (``datetime.isoformat()``): seconds, fractions
#: and a zone optional. A date alone is left as it is (already readable).
_ISO_DATETIME = re.compile(
    r"\b(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hm>\d{2}:\d{2})(?::\d{2}(?:\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?(?![\d]|[:.]\d)")


def readable_dates(text: str) -> str:
    """``text`` with every ISO 8601 date-time shown to the minute with its zone, for people:
    ``2026-09-21T01:57:27.827015+00:00`` -> ``2026-09-21 01:57 UTC``, ``...+02:00`` ->
    ``... 01:57 UTC+02:00``, no zone -> ``2026-09-21 01:57``. The JSON report keeps the raw
    values; only the HTML and text renderers call this."""

    def shown(match: re.Match[str]) -> str:
        zone = match.group("zone")
        suffix = "" if zone is None else " UTC" if zone in ("Z", "+00:00", "-00:00") else f" UTC{zone}"
        return f"{match.group('date')} {match.group('hm')}{suffix}"

    return _ISO_DATETIME.sub(shown, text) if "-" in text and ":" in text else text

