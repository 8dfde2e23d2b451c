"""The fleet index page: one self-contained HTML table with a row per tenant (grade, verdict,
blockers, soonest certificate expiry, change since the last run) linking to each tenant's report.

It renders the document of :func:`adfs_readiness.app.fleet.fleet_index` (plain JSON data), with jinja2
autoescape and StrictUndefined like the run report, and the same Content-Security-Policy stance:
nothing loads from the network and no script runs. Only relative report paths become links.
"""

from __future__ import annotations

from typing import Any, Mapping

import jinja2

__all__ = ["render_fleet_index_html"]


def render_fleet_index_html(index: Mapping[str, Any]) -> str:
    """The HTML page of a fleet index document (str)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("adfs_readiness.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    rows = []
    for row in index["rows"]:
        links = {fmt: path for fmt, path in (row.get("reports") or {}).items() if _relative(path)}
        rows.append({**row, "links": links, "css": (row["verdict"] or "incomplete").lower().replace("_", "-")})
    return env.get_template("fleet_index.html.j2").render(index=index, rows=rows, generated=_generated(index))


def _generated(index: Mapping[str, Any]) -> str:
    """When the index was made, as the run report shows a time (``2026-12-05 02:06:05 UTC``);
    index.json keeps the ISO 8601 value."""
    from datetime import datetime

    from adfs_readiness.report._common import human_utc

    try:
        return human_utc(datetime.fromisoformat(str(index["generated_at"])))
    except ValueError:
        return str(index["generated_at"])


def _relative(path: str) -> bool:
    # A report link must stay inside the fleet folder: no scheme, no absolute path, no "..".
    return bool(path) and ":" not in path and not path.startswith(("/", "\\")) and ".." not in path.split("/")
