"""Writing a run's reports: which formats exist, how each is rendered, and the one place report
files are written (atomically: a crash or a full disk leaves the previous report intact).

The CLI, the fleet and tests ask for reports with a :class:`ReportRequest` (a path per format) and
get back what was written; printing is the CLI's business.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

from adfs_readiness.model import RunResult
from adfs_readiness.report._outputs import DayThresholds
from adfs_readiness.settings import Settings

__all__ = ["ReportRequest", "REPORT_FORMATS", "render_report", "write_reports", "write_report", "shown",
           "UNBOUNDED_FORMATS", "day_thresholds_of", "FLEET_REPORT_FILES"]

#: Format -> label shown after a run ("HTML report: report.html").
REPORT_FORMATS: dict[str, str] = {"json": "JSON", "html": "HTML", "action_plan": "Action plan", "junit": "JUnit",
                                  "metrics": "Metrics", "csv": "CSV", "markdown": "Markdown"}

#: The file each fleet tenant gets per format, in ``<out-dir>/<tenant>/``.
FLEET_REPORT_FILES: dict[str, str] = {"html": "report.html", "json": "report.json", "junit": "junit.xml",
                                      "metrics": "metrics.prom", "csv": "findings.csv", "markdown": "summary.md",
                                      "action_plan": "action-plan.csv"}


@dataclass(frozen=True)
class ReportRequest:
    """Where to write each report of one run (None = not wanted)."""

    json: Path | None = None
    html: Path | None = None
    action_plan: Path | None = None
    junit: Path | None = None
    metrics: Path | None = None
    csv: Path | None = None
    markdown: Path | None = None

    def wanted(self) -> list[tuple[str, Path]]:
        """(format, path) of each report asked for, in :data:`REPORT_FORMATS` order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]


def _renderer(fmt: str) -> Callable[[RunResult], str]:
    # Imported on use: rendering pulls in jinja2 and the templates, which `history` never needs.
    from adfs_readiness.report import render_html, render_json
    from adfs_readiness.report.action_plan import render_action_plan_csv
    from adfs_readiness.report.csv_report import render_csv
    from adfs_readiness.report.junit import render_junit
    from adfs_readiness.report.markdown import render_markdown
    from adfs_readiness.report.metrics import render_metrics

    return {"json": render_json, "html": render_html, "junit": render_junit, "metrics": render_metrics,
            "csv": render_csv, "markdown": render_markdown, "action_plan": render_action_plan_csv}[fmt]


def render_report(result: RunResult, fmt: str) -> str:
    """The text of ``result`` in format ``fmt`` (a key of :data:`REPORT_FORMATS`)."""
    return _renderer(fmt)(result)


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically without following links (:func:`files.write_atomic`):
    a crash or a full disk leaves the previous report intact.

    Raises:
        OSError: naming ``path`` (not the temporary file) and the reason.
    """
    from adfs_readiness.files import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        # Name the report the admin asked for, not our temporary file.
        raise OSError(exc.errno, f"cannot write the report ({exc.strerror})", str(path.expanduser())) from None


#: Formats that list every finding whatever limits.max_report_rows says: CSV lists them all, and
#: the metrics are per check (their size does not grow with the findings).
UNBOUNDED_FORMATS = ("csv", "metrics")


def shown(result: RunResult, fmt: str, max_rows: int) -> RunResult:
    """What the report ``fmt`` shows of ``result``: at most ``max_rows`` findings per check
    (engine.bounds.bound_for_report), except the formats of :data:`UNBOUNDED_FORMATS`."""
    from adfs_readiness.engine.bounds import bound_for_report

    return result if fmt in UNBOUNDED_FORMATS else bound_for_report(result, max_rows)


def write_reports(result: RunResult, request: ReportRequest, max_rows: int) -> list[tuple[str, Path]]:
    """Render and write every report ``request`` asks for (each showing at most ``max_rows``
    findings per check, see :func:`shown`); returns [(label, path)] written.

    Raises:
        OSError: a report could not be written (the ones before it are written).
    """
    written = []
    for fmt, path in request.wanted():
        write_report(path, render_report(shown(result, fmt, max_rows), fmt))
        written.append((REPORT_FORMATS[fmt], path))
    return written


def day_thresholds_of(settings: Settings | None) -> dict[str, DayThresholds] | None:
    """Certificate day limits per purpose from ``settings.thresholds`` (None = the defaults), for
    the Nagios line's performance data."""
    if settings is None:
        return None
    t = settings.thresholds
    return {"token-signing": DayThresholds(t.token_signing_warn_days, t.token_signing_fail_days),
            "token-decrypting": DayThresholds(t.token_decrypting_warn_days, t.token_decrypting_fail_days),
            "tls": DayThresholds(t.tls_warn_days, t.tls_fail_days)}
