"""The command line of scheduled use: the options ``check`` gets for history, accepted risks,
notifications, locking and fleets; the machine outputs of every run; and the ``history``,
``collect`` and ``assess`` commands. :mod:`adfs_readiness.cli` wires these in.

Exit codes stay those of ``check`` (0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE or
could not run); a fleet exits with its worst tenant's code; ``history`` and ``collect`` exit 0 on
success and 3 when they cannot do their job (``collect`` succeeds whatever the verdict: its job
is the snapshot).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from adfs_readiness.config import MAX_DEADLINE_SECONDS, Config, ConfigError
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.files import child_path, ensure_dir
from adfs_readiness.history import History, changes_between, data_dir, default_history_path
from adfs_readiness.model import RunResult
from adfs_readiness.report._outputs import DayThresholds
from adfs_readiness.text import terminal_safe
from adfs_readiness.scheduled import ScheduledRun, ScheduleOptions, run_scheduled
from adfs_readiness.suppressions import load_suppressions

__all__ = ["add_machine_output_options", "add_schedule_options", "add_schedule_commands", "SCHEDULE_COMMANDS",
           "is_fleet", "schedule_options", "run_check", "cmd_fleet", "run_schedule_command", "write_machine_outputs",
           "day_thresholds_of", "WEBHOOK_ENV"]

SCHEDULE_COMMANDS = ("history", "collect", "assess")
#: ``assess --as-of collected``: judge at the snapshot's own clock.
AS_OF_COLLECTED = "collected"
#: Environment variable with the webhook URL (keeps the URL, a credential, out of crontabs).
WEBHOOK_ENV = "ADFS_READINESS_WEBHOOK_URL"
_FLEET_REPORTS = {"html": "report.html", "json": "report.json", "junit": "junit.xml", "metrics": "metrics.prom",
                  "csv": "findings.csv", "markdown": "summary.md", "action_plan": "action-plan.csv"}


def add_machine_output_options(p: argparse.ArgumentParser) -> None:
    """--junit, --nagios, --metrics, --csv, --markdown (several at once is fine)."""
    out = p.add_argument_group("machine outputs (from the same run)")
    out.add_argument("--junit", metavar="PATH", type=Path, help="write JUnit XML (one test case per finding)")
    out.add_argument("--nagios", action="store_true",
                     help="print one Nagios/Icinga plugin line with performance data instead of the summary")
    out.add_argument("--metrics", metavar="PATH", type=Path,
                     help="write a Prometheus textfile (node_exporter textfile collector)")
    out.add_argument("--csv", metavar="PATH", type=Path, help="write the findings as CSV")
    out.add_argument("--markdown", metavar="PATH", type=Path, help="write a Markdown summary")
    out.add_argument("--action-plan", metavar="PATH", type=Path,
                     help="write the action plan as CSV: one row per action, in order (priority, check id, "
                          "target, what to do, command, due date)")


def _finite_seconds(text: str) -> float:
    """argparse type: 0 <= seconds <= MAX_DEADLINE_SECONDS (float() accepts inf and nan)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_DEADLINE_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds from 0 to {MAX_DEADLINE_SECONDS}")
    return value


def add_schedule_options(p: argparse.ArgumentParser) -> None:
    """The ``check`` options of scheduled runs and fleets."""
    g = p.add_argument_group("scheduled runs")
    g.add_argument("--history", metavar="PATH", type=Path,
                   help="run history database (default: history.path of the config, else the user data folder)")
    g.add_argument("--no-history", action="store_true", help="do not record this run nor compare with the last one")
    g.add_argument("--suppressions", metavar="PATH", type=Path, help="accepted risks file (TOML, see docs/scheduling.md)")
    g.add_argument("--notify-webhook", metavar="URL",
                   help=f"post a JSON summary (Teams/Slack) when the verdict or failing checks changed "
                        f"(or set ${WEBHOOK_ENV})")
    g.add_argument("--notify-timeout", metavar="SECONDS", type=_finite_seconds, default=10.0,
                   help="time limit of the webhook post (default 10)")
    g.add_argument("--lock-wait", metavar="SECONDS", type=_finite_seconds, default=0.0,
                   help="wait this long for another run of the same target to finish (default 0: refuse at once)")
    g.add_argument("--tenant", metavar="NAME", help="group this run's history and lock under NAME instead of the "
                                                     "service name")
    f = p.add_argument_group("fleets (--config repeated, or a folder of configs)")
    f.add_argument("--out-dir", metavar="DIR", type=Path, help="fleet: write each tenant's reports to DIR/<tenant>/ "
                                                              "and index.html + index.json to DIR")
    f.add_argument("--jobs", metavar="N", type=int, default=8, help="fleet: tenants run at the same time (default 8)")


def add_schedule_commands(sub: Any, add_output_options: Callable[[argparse.ArgumentParser], None],
                          add_target_from: argparse.ArgumentParser, parser_class: type) -> None:
    """Add ``history``, ``collect`` and ``assess`` to the subparsers ``sub``. ``collect`` takes the
    target and run options of ``check`` (shared from ``add_target_from``, the check parser);
    ``parser_class`` is the CLI's parser (usage errors exit 3)."""
    h = sub.add_parser("history", help="list, show and compare recorded runs")
    h.add_argument("--history", metavar="PATH", type=Path, help="history database (default: the user data folder)")
    hs = h.add_subparsers(dest="history_command", metavar="ACTION", parser_class=parser_class)
    hl = hs.add_parser("list", help="recorded runs, newest first")
    hl.add_argument("--target", metavar="KEY", help="only runs of this target (service name or tenant)")
    hl.add_argument("--limit", metavar="N", type=int, default=50)
    hl.add_argument("--json", action="store_true")
    hsh = hs.add_parser("show", help="one run with its findings")
    hsh.add_argument("run_id", metavar="ID", type=int)
    hsh.add_argument("--json", action="store_true")
    hd = hs.add_parser("diff", help="what changed from run ID1 to run ID2")
    hd.add_argument("run_ids", metavar="ID", type=int, nargs=2)
    hd.add_argument("--json", action="store_true")

    c = sub.add_parser("collect", help="gather the facts and write an evidence snapshot (secrets redacted)")
    for action in add_target_from._actions:
        if action.dest in ("config", "service_name", "domain", "service_address", "metadata", "ca_bundle",
                           "skip", "only", "deadline", "timeout", "max_input_bytes"):
            c._add_action(action)
    c.add_argument("--out", metavar="FILE", type=Path, required=True, help="where to write the snapshot (JSON)")
    add_output_options(c)

    a = sub.add_parser("assess", help="judge an evidence snapshot offline (certificate dates at the time of "
                                      "assessing; --as-of collected: at the snapshot's clock)")
    a.add_argument("snapshot", metavar="FILE", type=Path)
    a.add_argument("--suppressions", metavar="PATH", type=Path, help="accepted risks file (TOML)")
    for action in add_target_from._actions:
        if action.dest == "max_input_bytes":
            a._add_action(action)
    add_output_options(a)
    for action in a._actions:  # assess also takes "collected": the snapshot's own clock
        if "--as-of" in action.option_strings:
            parse_date = action.type
            action.type = lambda text, parse=parse_date: AS_OF_COLLECTED if text == AS_OF_COLLECTED else parse(text)
            action.metavar = "DATE|collected"
            action.help = ("judge certificate dates as of this UTC date, or 'collected' for the snapshot's own clock "
                           "(default: the time of assessing)")


def is_fleet(args: argparse.Namespace) -> bool:
    """True when ``check`` was given several configs or a folder."""
    paths = args.config or []
    return len(paths) > 1 or any(p.is_dir() for p in paths)


def day_thresholds_of(config: Config | None) -> dict[str, DayThresholds] | None:
    """Certificate day limits per purpose from ``config.thresholds`` (None = the defaults)."""
    if config is None:
        return None
    t = config.thresholds
    return {"token-signing": DayThresholds(t.token_signing_warn_days, t.token_signing_fail_days),
            "token-decrypting": DayThresholds(t.token_decrypting_warn_days, t.token_decrypting_fail_days),
            "tls": DayThresholds(t.tls_warn_days, t.tls_fail_days)}


def schedule_options(args: argparse.Namespace, config: Config, tenant: str | None = None,
                     run_metadata: dict[str, Any] | None = None) -> ScheduleOptions:
    """ScheduleOptions from the flags and the config (flags win). Raises ConfigError for a bad
    suppressions file."""
    history_path = None
    if not args.no_history and config.history_enabled:
        history_path = args.history or config.history_path or default_history_path()
    suppressions_file = args.suppressions or config.suppressions_file
    suppressions = load_suppressions(suppressions_file) if suppressions_file else ()
    return ScheduleOptions(
        history_path=history_path,
        lock_dir=data_dir() / "locks",
        lock_wait_seconds=args.lock_wait,
        suppressions=suppressions,
        webhook_url=args.notify_webhook or os.environ.get(WEBHOOK_ENV) or None,
        webhook_timeout_seconds=args.notify_timeout,
        target_key=tenant or args.tenant,
        only=tuple(args.only),
        run_metadata=run_metadata or {},
        projection=getattr(args, "as_of", None) is not None,
    )


def run_check(registry: CheckRegistry, probes: Any, config: Config, now: datetime,
              args: argparse.Namespace, started_at: datetime | None = None) -> ScheduledRun:
    """``check`` for one target: lock, run, accepted risks, history, notification. Warnings
    (history, webhook) go to standard error even with ``-q``: cron mails standard error, and a
    failed notification must be seen."""
    from dataclasses import replace

    from adfs_readiness.progress import TerminalProgress

    options = schedule_options(args, config)
    progress = TerminalProgress() if sys.stderr.isatty() and not getattr(args, "quiet", False) else None
    try:
        run = run_scheduled(registry, probes, config, now, replace(options, progress=progress), started_at=started_at)
    finally:
        if progress is not None:
            progress.close()
    for warning in run.warnings:
        print(f"adfs-readiness: warning: {terminal_safe(warning)}", file=sys.stderr)
    return run


def write_machine_outputs(result: RunResult, args: argparse.Namespace, config: Config | None,
                          write: Callable[[Path, str], None], full: RunResult | None = None) -> list[tuple[str, Path]]:
    """Write --junit/--metrics/--csv/--markdown; returns [(label, path)] written. ``result`` is what
    the reports show (engine.bounds.bound_for_report); the CSV report lists every finding of
    ``full`` (default: ``result``)."""
    from adfs_readiness.report.csv_report import render_csv
    from adfs_readiness.report.junit import render_junit
    from adfs_readiness.report.markdown import render_markdown
    from adfs_readiness.report.action_plan import render_action_plan_csv
    from adfs_readiness.report.metrics import render_metrics

    written = []
    for label, path, render in (("Action plan", getattr(args, "action_plan", None), render_action_plan_csv),
                                ("JUnit", getattr(args, "junit", None), render_junit),
                                ("Metrics", getattr(args, "metrics", None), render_metrics),
                                ("CSV", getattr(args, "csv", None), render_csv),
                                ("Markdown", getattr(args, "markdown", None), render_markdown)):
        if path:
            # CSV lists every finding; metrics count every finding (their size is per check, not per finding).
            write(path, render(full if full is not None and render in (render_csv, render_metrics) else result))
            written.append((label, path))
    return written


def cmd_fleet(registry: CheckRegistry, args: argparse.Namespace,
              config_from_args: Callable[[argparse.Namespace], Config],
              write: Callable[[Path, str], None]) -> int:
    """``check`` with several configs: run the fleet, write per-tenant reports and the index."""
    from adfs_readiness.engine.bounds import bound_for_report
    from adfs_readiness.fleet import fleet_exit_code, fleet_index, run_fleet, tenants_from_paths
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.report import render_html, render_json
    from adfs_readiness.report.action_plan import render_action_plan_csv
    from adfs_readiness.report.csv_report import render_csv
    from adfs_readiness.report.fleet_index import render_fleet_index_html
    from adfs_readiness.report.junit import render_junit
    from adfs_readiness.report.markdown import render_markdown
    from adfs_readiness.report.metrics import render_metrics

    if args.out_dir is None:
        raise ConfigError("command line", "--out-dir", "", "a folder for the fleet's reports (several --config given)")
    single = [flag for flag in ("json", "html", "junit", "metrics", "csv", "markdown", "action_plan")
              if getattr(args, flag, None)]
    if single or args.nagios or args.tenant:
        raise ConfigError("command line", f"--{(single or ['nagios' if args.nagios else 'tenant'])[0].replace('_', '-')}", "",
                          "no single-report option in a fleet: each tenant gets every report in --out-dir/<tenant>/")

    def load(path: Path) -> Config:
        return config_from_args(argparse.Namespace(**{**vars(args), "config": path}))

    tenants = tenants_from_paths(args.config, load=load)
    renderers = {"html": render_html, "json": render_json, "junit": render_junit, "metrics": render_metrics,
                 "csv": render_csv, "markdown": render_markdown, "action_plan": render_action_plan_csv}

    def write_reports(tenant: Any, run: ScheduledRun) -> dict[str, str]:
        # The tenant name is already a safe folder name (fleet.tenants_from_paths); child_path keeps
        # it inside --out-dir whatever it holds, and a symlink planted there is refused.
        folder = ensure_dir(child_path(args.out_dir, tenant.name), own=True)
        shown = bound_for_report(run.result, tenant.config.limits.max_report_rows)
        for fmt, name in _FLEET_REPORTS.items():
            write(folder / name, renderers[fmt](run.result if fmt in ("csv", "metrics") else shown))
        return {fmt: f"{folder.name}/{name}" for fmt, name in _FLEET_REPORTS.items()}

    now = args.as_of or datetime.now(timezone.utc)
    ensure_dir(args.out_dir)
    outcomes = run_fleet(registry, all_probes(), tenants, now,
                         lambda t: schedule_options(args, t.config, tenant=t.name, run_metadata={"tenant": t.name}),
                         jobs=args.jobs, write_reports=write_reports)
    index = fleet_index(outcomes, now)
    write(args.out_dir / "index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    write(args.out_dir / "index.html", render_fleet_index_html(index))
    for o in outcomes:
        for warning in (o.run.warnings if o.run else ()):
            print(terminal_safe(f"adfs-readiness: warning: {o.tenant.name}: {warning}"), file=sys.stderr)
        if o.error:
            print(terminal_safe(f"adfs-readiness: {o.tenant.name}: {o.error}"), file=sys.stderr)
    if not args.quiet:
        for row in index["rows"]:
            verdict = row["verdict"] or "NOT RUN"
            score = row["score"] if row["score"] is not None else "-"
            print(terminal_safe(f"{row['tenant']:24} {verdict:20} {row['grade'] or '-':2} {score:>3}"
                                f"  {', '.join(row['blockers'])}"))
        print(f"Fleet index: {args.out_dir / 'index.html'}")
    return fleet_exit_code(outcomes)


def run_schedule_command(registry: CheckRegistry, args: argparse.Namespace,
                         config_from_args: Callable[[argparse.Namespace], Config],
                         emit: Callable[..., int], write: Callable[[Path, str], None]) -> int:
    """Dispatch ``history``, ``collect`` and ``assess``."""
    if args.command == "history":
        return _cmd_history(args)
    if args.command == "collect":
        return _cmd_collect(registry, args, config_from_args, emit)
    return _cmd_assess(registry, args, emit)


def require_target_and_known_checks(registry: CheckRegistry, config: Config, only: Sequence[str]) -> None:
    """What a run needs before it starts (check, collect): something to look at (a federation
    service name, a metadata file or URL, or an AD FS export) and only check ids that exist.
    Raises ConfigError naming the missing setting or the unknown id."""
    if not (config.service_name or config.metadata_source or config.adfs_export or config.certificate_file):
        raise ConfigError(config.source, "federation.service_name", "",
                          "a federation service name (--service-name or the config file), --metadata PATH|URL, "
                          "--certificate FILE or --adfs-export FILE")
    unknown = [i for i in only if registry.get(i) is None]
    if unknown:
        raise ConfigError("command line", "--only", unknown[0], "a check id from 'adfs-readiness list-checks'")


def _cmd_collect(registry: CheckRegistry, args: argparse.Namespace,
                 config_from_args: Callable[[argparse.Namespace], Config], emit: Callable[..., int]) -> int:
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.snapshot import collect, write_snapshot

    if args.config and len(args.config) > 1:
        raise ConfigError("command line", "--config", str(args.config[1]), "one configuration: collect one tenant at a time")
    args.config = args.config[0] if args.config else None
    config = config_from_args(args)
    require_target_and_known_checks(registry, config, args.only)
    now = args.as_of or datetime.now(timezone.utc)
    result, doc = collect(registry, all_probes(), config, now, only=args.only)
    write_snapshot(args.out, doc)
    emit(result, args, config)
    if not args.quiet and not args.nagios:
        print(f"Evidence snapshot: {args.out} ({len(doc['facts'])} facts; judge it with 'adfs-readiness assess "
              f"{args.out}')")
    return 0


def _cmd_assess(registry: CheckRegistry, args: argparse.Namespace, emit: Callable[..., int]) -> int:
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.snapshot import assess, read_snapshot
    from adfs_readiness.suppressions import apply_suppressions

    from adfs_readiness.config import Limits

    limits = Limits(max_input_bytes=args.max_input_bytes) if args.max_input_bytes else Limits()
    snapshot = read_snapshot(args.snapshot, all_probes(), limits)
    # Certificate dates are judged now by default: a snapshot's old (or forged) clock must not
    # make expired certificates look valid. --as-of collected judges at the snapshot's clock.
    if args.as_of == AS_OF_COLLECTED:
        now, clock = snapshot.now, "collected"
    elif args.as_of is not None:
        now, clock = args.as_of, "as-of"
    else:
        now, clock = datetime.now(timezone.utc), "assessing"
    result = assess(registry, snapshot, now=now, run_metadata={"snapshot_file": str(args.snapshot)}, clock=clock)
    # Only an accepted-risks file given here, on this machine: a snapshot never chooses a local
    # file (snapshot.local_config empties its paths).
    if args.suppressions:
        result = apply_suppressions(result, load_suppressions(args.suppressions), now)
    return emit(result, args, snapshot.config)


def _cmd_history(args: argparse.Namespace) -> int:
    path = args.history or default_history_path()
    if args.history_command is None:
        print("adfs-readiness history: choose list, show ID or diff ID1 ID2", file=sys.stderr)
        return 3
    if not path.exists():
        print(f"adfs-readiness: no history yet at {path}", file=sys.stderr)
        return 3
    with History(path) as history:
        try:
            return _history_action(args, history, path)
        finally:
            for warning in history.warnings:
                print(f"adfs-readiness: warning: {terminal_safe(warning)}", file=sys.stderr)


def _history_action(args: argparse.Namespace, history: History, path: Path) -> int:
    if args.history_command == "list":
        runs = history.runs(args.target, args.limit)
        if args.json:
            print(json.dumps([{k: v for k, v in r.as_dict().items() if k not in ("findings", "certificates")}
                              for r in runs], indent=2))
            return 0
        print(f"{'id':>5}  {'started (UTC)':19}  {'target':32} {'verdict':20} grade score")
        for r in runs:
            print(f"{r.id:>5}  {r.started_at.strftime('%Y-%m-%d %H:%M:%S'):19}  {terminal_safe(r.target_key)[:32]:32} "
                  f"{r.verdict.value:20} {r.grade:5} {r.score:>5}")
        return 0
    if args.history_command == "show":
        run = history.get(args.run_id)
        if run is None:
            print(f"adfs-readiness: no run {args.run_id} in {path}", file=sys.stderr)
            return 3
        if args.json:
            print(json.dumps(run.as_dict(), indent=2, ensure_ascii=False))
            return 0
        print(f"run {run.id}: {terminal_safe(run.target_key)} at {run.started_at.isoformat()} — {run.verdict.value}, "
              f"grade {run.grade}, score {run.score}, exit code {run.exit_code}")
        for f in run.findings:
            mark = " (suppressed)" if f.get("suppressed") else ""
            target = f" [{f['target']}]" if f.get("target") else ""
            print(terminal_safe(f"  {f['status'].upper():5} {f['check_id']}{target}{mark}: {f['summary']}"))
        for c in run.certificates:
            print(terminal_safe(f"  cert  {c['purpose']} {c['subject']} ({c['sha1'][:8]}): {c['days_left']} days "
                                "left"))
        return 0
    first, second = (history.get(i) for i in args.run_ids)
    missing = [i for i, r in zip(args.run_ids, (first, second)) if r is None]
    if missing or first is None or second is None:
        print(f"adfs-readiness: no run {missing[0]} in {path}", file=sys.stderr)
        return 3
    changes = changes_between(first, second.findings, second.certificates, (first.score, second.score))
    if args.json:
        from adfs_readiness.report.json_report import changes_dict

        print(json.dumps({"from": first.id, "to": second.id, "verdict": [first.verdict.value, second.verdict.value],
                          **changes_dict(changes, second.score)}, indent=2, ensure_ascii=False))
        return 0
    print(f"run {first.id} -> run {second.id}: {first.verdict.value} -> {second.verdict.value}, "
          f"score {first.score} -> {second.score}")
    for label, items in (("new", changes.new), ("resolved", changes.resolved), ("changed", changes.changed)):
        for c in items:
            target = f" [{c.target}]" if c.target else ""
            print(terminal_safe(f"  {label:8} {c.check_id}{target}: {c.before.value if c.before else 'absent'} -> "
                                f"{c.after.value if c.after else 'absent'}: {c.summary}"))
    for c in changes.certificates:
        print(terminal_safe(f"  closer   {c.purpose} {c.subject} ({c.sha1[:8]}): {c.days_left_before} -> "
                            f"{c.days_left_after} days"))
    if not (changes.any or changes.certificates) and first.verdict is second.verdict:
        print("  no change")
    return 0
