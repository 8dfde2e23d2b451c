"""Fleets: many tenants (one configuration file each) in one run, concurrently with a bound.

``adfs-readiness check --config a.toml --config b.toml --out-dir reports/`` (or ``--config
tenants/``, every ``*.toml`` in the folder) runs each tenant as :func:`adfs_readiness.app.scheduled.run_scheduled`
does (its own lock, history key, accepted risks, notification), at most ``jobs`` at a time, and
writes each tenant's reports to ``<out-dir>/<tenant>/`` and an index of all tenants
(``index.json`` and ``index.html``): grade, verdict, blockers, soonest certificate expiry and the
change since the last run, one row per tenant, worst first.

A tenant is named after its configuration file (``contoso.toml`` -> ``contoso``); the name is the
history and lock key, so renaming the file starts a new history. A tenant whose run cannot start
(bad configuration, lock held) is a row with the reason and exit code 3; the others go on. The
fleet's exit code is the worst tenant's.

Threads, not processes: a tenant's run is network-bound (its probes already run on threads of
their own), so threads overlap the waiting without the cost of a process per tenant.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from adfs_readiness.app.reports import FLEET_REPORT_FILES, render_report, shown, write_report
from adfs_readiness.app.scheduled import ScheduledRun, ScheduleOptions, run_scheduled
from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.files import child_path, ensure_dir, safe_name
from adfs_readiness.locking import LockBusy
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.settings import Settings, SettingsError, load_settings

__all__ = ["Tenant", "TenantOutcome", "tenants_from_paths", "run_fleet", "run_fleet_into", "fleet_index",
           "fleet_exit_code"]

#: Exit code of a tenant whose run could not start (Nagios UNKNOWN).
_CANNOT_RUN = 3


@dataclass(frozen=True)
class Tenant:
    """One tenant of a fleet: ``name`` (unique, from the file name) and its ``config`` (or the
    ``error`` that kept it from loading)."""

    name: str
    source: Path
    config: Settings | None
    error: str | None = None


@dataclass(frozen=True)
class TenantOutcome:
    """A tenant's run: ``run`` (None when it could not start, see ``error``), wall ``seconds``,
    and the report files written, relative to the fleet's output folder."""

    tenant: Tenant
    run: ScheduledRun | None
    error: str | None
    seconds: float
    reports: Mapping[str, str]

    @property
    def exit_code(self) -> int:
        return self.run.result.grade.verdict.exit_code if self.run else _CANNOT_RUN


def tenants_from_paths(paths: Iterable[Path], load: Callable[[Path], Settings] = load_settings) -> list[Tenant]:
    """Tenants from configuration files and folders (a folder contributes its ``*.toml`` files,
    sorted). Names come from file stems made safe as folder names (:func:`files.safe_name`), made
    unique with ``-2``, ``-3``...; a file that does not load is a tenant with ``error`` set (the
    fleet reports it and goes on).

    Raises:
        SettingsError: a path does not exist, or a folder holds no ``*.toml`` file.
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise SettingsError(str(path), "--config", str(path),
                                    "a folder with tenant configuration files (*.toml)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise SettingsError(str(path), "--config", str(path), "an existing configuration file or folder")
    tenants: list[Tenant] = []
    used: set[str] = set()
    for file in files:
        # The name becomes a folder under --out-dir: "...toml" must not name its parent.
        base = safe_name(file.stem, "tenant")
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        try:
            tenants.append(Tenant(name, file, load(file)))
        except SettingsError as exc:
            tenants.append(Tenant(name, file, None, str(exc)))
    return tenants


def run_fleet(
    registry: CheckRegistry,
    probes: Mapping[str, ProbeSpec],
    tenants: list[Tenant],
    now: datetime,
    options_for: Callable[[Tenant], ScheduleOptions],
    *,
    jobs: int = 8,
    write_reports: Callable[[Tenant, ScheduledRun], Mapping[str, str]] | None = None,
) -> list[TenantOutcome]:
    """Run every tenant at ``now``, at most ``jobs`` at a time; returns outcomes in tenant order.

    ``options_for(tenant)`` gives its ScheduleOptions (history, lock, suppressions, webhook);
    ``write_reports(tenant, run)`` writes its reports and returns {format: relative path}. An
    exception in one tenant (other than a probe or check failure, which are findings) becomes that
    tenant's ``error``; it never stops the others.
    """

    def one(tenant: Tenant) -> TenantOutcome:
        started = time.monotonic()
        if tenant.config is None:
            return TenantOutcome(tenant, None, tenant.error, 0.0, {})
        try:
            run = run_scheduled(registry, probes, tenant.config, now, options_for(tenant))
            reports = dict(write_reports(tenant, run)) if write_reports else {}
            return TenantOutcome(tenant, run, None, time.monotonic() - started, reports)
        except LockBusy as exc:
            return TenantOutcome(tenant, None, str(exc), time.monotonic() - started, {})
        except Exception as exc:  # isolate: one tenant's trouble must not sink the fleet
            return TenantOutcome(tenant, None, f"{type(exc).__name__}: {exc}", time.monotonic() - started, {})

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="tenant") as pool:
        return list(pool.map(one, tenants))


def run_fleet_into(out_dir: Path, registry: CheckRegistry, probes: Mapping[str, ProbeSpec], tenants: list[Tenant],
                   now: datetime, options_for: Callable[[Tenant], ScheduleOptions], *,
                   jobs: int = 8) -> tuple[list[TenantOutcome], dict[str, Any]]:
    """:func:`run_fleet` writing every report of each tenant to ``out_dir/<tenant>/``
    (:data:`~adfs_readiness.app.reports.FLEET_REPORT_FILES`) and the index to
    ``out_dir/index.json`` and ``out_dir/index.html``. Returns (outcomes, index document).

    Raises:
        OSError: ``out_dir`` or the index cannot be written (a tenant's unwritable report is that
            tenant's error).
    """
    import json

    from adfs_readiness.report.fleet_index import render_fleet_index_html

    def write_reports(tenant: Tenant, run: ScheduledRun) -> dict[str, str]:
        # The tenant name is already a safe folder name (tenants_from_paths); child_path keeps it
        # inside out_dir whatever it holds, and a symlink planted there is refused.
        folder = ensure_dir(child_path(out_dir, tenant.name), own=True)
        rows = tenant.config.limits.max_report_rows if tenant.config else Settings().limits.max_report_rows
        for fmt, name in FLEET_REPORT_FILES.items():
            write_report(folder / name, render_report(shown(run.result, fmt, rows), fmt))
        return {fmt: f"{folder.name}/{name}" for fmt, name in FLEET_REPORT_FILES.items()}

    ensure_dir(out_dir)
    outcomes = run_fleet(registry, probes, tenants, now, options_for, jobs=jobs, write_reports=write_reports)
    index = fleet_index(outcomes, now)
    write_report(out_dir / "index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    write_report(out_dir / "index.html", render_fleet_index_html(index))
    return outcomes, index


def fleet_exit_code(outcomes: Iterable[TenantOutcome]) -> int:
    """The worst tenant's exit code (0 for an empty fleet)."""
    return max((o.exit_code for o in outcomes), default=0)


def fleet_index(outcomes: list[TenantOutcome], now: datetime) -> dict[str, Any]:
    """The fleet index document (``index.json``): one row per tenant, worst exit code first, then
    by name. Each row: tenant, config, target, verdict, grade, score, exit_code, blockers (check
    ids), soonest_certificate {purpose, subject, sha1, not_after, days_left} or null, change
    (previous verdict/score, score delta, new/resolved/changed counts) or null, error, seconds,
    reports {format: path relative to the index}."""
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {"tenant": o.tenant.name, "config": str(o.tenant.source), "target": None,
                               "verdict": None, "grade": None, "score": None, "exit_code": o.exit_code,
                               "blockers": [], "soonest_certificate": None, "change": None, "error": o.error,
                               "seconds": round(o.seconds, 3), "reports": dict(o.reports)}
        if o.run is not None:
            r = o.run.result
            g = r.grade
            certs = run_certificates(r)
            row.update(target=r.target, verdict=g.verdict.value, grade=g.letter, score=g.score,
                       blockers=sorted({x.check_id for x in g.reasons
                                        if x.kind in ("blocker_failed", "blocker_undetermined") and x.check_id}))
            if certs:
                c = certs[0]
                row["soonest_certificate"] = {"purpose": c.purpose, "subject": c.subject, "sha1": c.sha1,
                                              "not_after": c.not_after.isoformat(), "days_left": c.days_left}
            if r.changes is not None:
                ch = r.changes
                row["change"] = {"previous_verdict": ch.previous_verdict.value, "previous_score": ch.previous_score,
                                 "score_delta": g.score - ch.previous_score, "new": len(ch.new),
                                 "resolved": len(ch.resolved), "changed": len(ch.changed)}
        rows.append(row)
    rows.sort(key=lambda r: (-r["exit_code"], r["tenant"]))
    counts: dict[str, int] = {}
    for item in rows:
        key = item["verdict"] or "NOT_RUN"
        counts[key] = counts.get(key, 0) + 1
    return {"generated_at": now.isoformat(), "tenants": len(rows), "exit_code": fleet_exit_code(outcomes),
            "verdicts": counts, "rows": rows}
