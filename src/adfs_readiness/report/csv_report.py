"""The findings of a run as CSV (RFC 4180: comma-separated, double quotes, CRLF line ends), one row
per finding, for spreadsheets and ticketing imports.

Columns: target, started_at, check_id, area, title, status, severity, blocker, finding_target,
summary, remediation, suppressed, suppression_reason, accepted_by, suppression_expires, references.

Values come from servers and directories, so every cell goes through the one formula guard,
:func:`adfs_readiness.text.csv_cell` (a cell a spreadsheet would take for a formula is prefixed
with ``'``, as OWASP advises against CSV injection).
"""

from __future__ import annotations

import csv
from io import StringIO

from adfs_readiness.model import RunResult, Status
from adfs_readiness.report._common import iso_utc
from adfs_readiness.text import csv_cell

__all__ = ["render_csv", "CSV_COLUMNS"]

CSV_COLUMNS = ("target", "started_at", "check_id", "area", "title", "status", "severity", "blocker",
               "finding_target", "summary", "remediation", "suppressed", "suppression_reason", "accepted_by",
               "suppression_expires", "references")


def render_csv(result: RunResult) -> str:
    """The CSV text of ``result``'s findings, with a header row, in the run's check order."""
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    started = iso_utc(result.started_at)
    for f in result.findings:
        s = f.suppression
        writer.writerow([csv_cell(v) for v in (
            result.target, started, f.check_id, f.area.value, f.title, Status(f.status).value, f.severity.value,
            "yes" if f.blocker else "no", f.target or "", f.summary, f.remediation,
            "yes" if s else "no", s.reason if s else "", s.accepted_by if s else "",
            s.expires.isoformat() if s else "", " | ".join(r.url for r in f.references))])
    return out.getvalue()
