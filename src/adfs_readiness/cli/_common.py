"""What the commands share: the parser class (usage errors exit 3), the settings flags (declared in
:mod:`adfs_readiness.settings.flags`, validated there), the report options and printing a result.

Exit codes follow the Nagios plugin convention so schedulers and monitoring can use them as they
are: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE or the tool could not run (bad
configuration, bad arguments, unwritable output).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from adfs_readiness.app.reports import ReportRequest, day_thresholds_of, write_reports
from adfs_readiness.model import RunResult
from adfs_readiness.settings import MAX_DEADLINE_SECONDS, SETTINGS_FLAGS, Settings, SettingsFlag
from adfs_readiness.text import terminal_safe

__all__ = ["EXIT_CANNOT_RUN", "Parser", "add_command", "add_verbose", "add_settings_flags", "flags_given",
           "add_output_options", "report_request", "emit", "configure_logging", "parse_when", "finite_seconds",
           "load_registry", "warn"]

#: Exit code when the tool could not run at all (Nagios UNKNOWN, like INCOMPLETE).
EXIT_CANNOT_RUN = 3


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, which would read as NOT_READY: exit 3 instead. Help
    texts keep their line breaks (the examples)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_CANNOT_RUN, f"{self.prog}: error: {message}\n")


def add_command(sub: Any, name: str, summary: str, examples: Sequence[str], description: str = "") -> Parser:
    """A subcommand parser with a one-line ``summary`` (shown in the command list), an optional
    longer ``description`` and ``examples`` (shown at the end of its ``--help``)."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    return sub.add_parser(name, help=summary, description=description or summary, epilog=epilog)


def add_verbose(p: argparse.ArgumentParser) -> None:
    """-v after the command too ("check -v"); SUPPRESS keeps a -v given before it."""
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="debug log on standard error (-vv: also the libraries' debug output)")


def add_settings_flags(p: argparse.ArgumentParser, groups: Sequence[str]) -> dict[str, Any]:
    """The settings flags of ``groups`` ("target", "run", "scheduled runs"), each kept as text:
    :func:`adfs_readiness.settings.apply_flags` validates them with the configuration's own rules.
    Returns the argument groups by name (a command adds its own options to them)."""
    titles = {"target": "target (override the configuration file)", "run": "run",
              "scheduled runs": "scheduled runs"}
    made = {}
    for group in groups:
        g = made[group] = p.add_argument_group(titles[group])
        for f in SETTINGS_FLAGS:
            if f.group == group:
                _add_flag(g, f)
    return made


def _add_flag(g: Any, f: SettingsFlag) -> None:
    help_text = f"{f.help} [{f.key}]"
    if f.mode == "switch_off":
        g.add_argument(f.option, dest=f.dest, action="store_true", help=help_text)
    elif f.mode in ("append", "extend"):
        g.add_argument(f.option, dest=f.dest, metavar=f.metavar, action="append", help=help_text)
    else:
        g.add_argument(f.option, dest=f.dest, metavar=f.metavar, help=help_text)


def flags_given(args: argparse.Namespace) -> dict[str, Any]:
    """option -> value of the settings flags on ``args`` (those the command has)."""
    return {f.option: getattr(args, f.dest) for f in SETTINGS_FLAGS if getattr(args, f.dest, None) is not None}


def parse_when(text: str) -> datetime:
    """argparse type of --as-of: a UTC date (YYYY-MM-DD) or an ISO 8601 datetime."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 datetime") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def finite_seconds(text: str) -> float:
    """argparse type: 0 <= seconds <= MAX_DEADLINE_SECONDS (float() accepts inf and nan)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_DEADLINE_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds from 0 to {MAX_DEADLINE_SECONDS}")
    return value


def add_output_options(p: argparse.ArgumentParser, *, as_of: Any = None, as_of_metavar: str = "DATE",
                       as_of_help: str = "judge expiry as of this UTC date or datetime instead of now "
                                         "(e.g. 2027-01-31: will it still pass then?)") -> None:
    """Reports (--json, --html, --junit, --metrics, --csv, --markdown), what goes to standard
    output (--format, --nagios, -q, --color) and --as-of (parsed by ``as_of``, default
    :func:`parse_when`)."""
    out = p.add_argument_group("output")
    out.add_argument("--json", metavar="PATH", type=Path, help="write the JSON report to PATH")
    out.add_argument("--html", metavar="PATH", type=Path, help="write the self-contained HTML report to PATH")
    out.add_argument("--junit", metavar="PATH", type=Path, help="write JUnit XML (one test case per finding)")
    out.add_argument("--metrics", metavar="PATH", type=Path,
                     help="write a Prometheus textfile (node_exporter textfile collector)")
    out.add_argument("--csv", metavar="PATH", type=Path, help="write the findings as CSV")
    out.add_argument("--markdown", metavar="PATH", type=Path, help="write a Markdown summary")
    out.add_argument("--action-plan", metavar="PATH", type=Path,
                     help="write the action plan as CSV: one row per action, in order (priority, check id, target, "
                          "what to do, command, due date)")
    out.add_argument("--format", choices=("text", "json"), default="text",
                     help="what to print on standard output (default: text summary)")
    out.add_argument("--nagios", action="store_true",
                     help="print one Nagios/Icinga plugin line with performance data instead of the summary")
    out.add_argument("-q", "--quiet", action="store_true", help="print nothing on standard output (for cron)")
    out.add_argument("--all", dest="all_findings", action="store_true",
                     help="print every finding on standard output, not the summary (like -v, without the debug log)")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour in the text summary (default: auto, when stdout is a terminal)")
    out.add_argument("--as-of", metavar=as_of_metavar, type=as_of or parse_when, help=as_of_help)


def report_request(args: argparse.Namespace) -> ReportRequest:
    """The report files asked for on the command line."""
    return ReportRequest(**{name: getattr(args, name, None)
                            for name in ("json", "html", "action_plan", "junit", "metrics", "csv", "markdown")})


def emit(result: RunResult, args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Write the reports asked for, print the summary (or the Nagios line, or JSON, or nothing with
    -q) and return the verdict's exit code. Reports show at most ``limits.max_report_rows``
    findings per check (the CSV report and the metrics get all).

    Raises:
        OSError: a report cannot be written (the CLI says so, exit 3).
        crash.RunCrashed: anything else failed while rendering (the CLI writes INCOMPLETE reports).
    """
    from adfs_readiness.crash import RunCrashed
    from adfs_readiness.settings import SettingsError

    try:
        return _emit(result, args, settings)
    except (OSError, SettingsError):
        raise
    except Exception as exc:
        raise RunCrashed(result, exc) from exc


def _emit(result: RunResult, args: argparse.Namespace, settings: Settings | None) -> int:
    from adfs_readiness.engine.bounds import bound_for_report
    from adfs_readiness.report import render_json, render_text
    from adfs_readiness.report.nagios import render_nagios

    rows = (settings or Settings()).limits.max_report_rows
    written = write_reports(result, report_request(args), rows)
    if settings is not None and settings.directory.csv_dir is not None:
        from adfs_readiness.directory_csv import write_directory_csv

        # Every object-level directory problem (the reports show counts and the first objects).
        write_directory_csv(settings.directory.csv_dir, result.facts.get("directory"), settings.federation.domains)
    result = bound_for_report(result, rows)
    if args.nagios:
        # A plugin prints exactly its one line; the exit code already follows the Nagios convention.
        sys.stdout.write(render_nagios(result, day_thresholds_of(settings)))
    elif not args.quiet:
        if args.format == "json":
            sys.stdout.write(render_json(result) + "\n")
        else:
            color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
            everything = bool(getattr(args, "verbose", 0)) or getattr(args, "all_findings", False)
            sys.stdout.write(render_text(result, color=color, verbose=everything))
            for label, path in written:
                sys.stdout.write(f"{label} report: {path}\n")
    return result.grade.verdict.exit_code


def configure_logging(verbose: int) -> None:
    """Log to standard error: warnings (e.g. a deprecated configuration key) always, debug with -v."""
    from adfs_readiness.redaction import RedactingFormatter

    handler = logging.StreamHandler(sys.stderr)
    # Log lines carry server and document content (signxml's debug log dumps whole documents) and,
    # at -vv, the libraries' own lines (URLs with a webhook's path): the run's secrets are
    # redacted (the run teaches the formatter its secrets) and control characters made visible.
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", finish=terminal_safe))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])
    # Library chatter is not the admin's business unless asked for twice: urllib3 logs a WARNING
    # with the whole peer certificate on a name mismatch (a finding we report ourselves), and
    # signxml's DEBUG log dumps the canonicalized document.
    quiet = logging.DEBUG if verbose >= 2 else logging.CRITICAL if not verbose else logging.WARNING
    for name in ("urllib3", "signxml", "requests"):
        logging.getLogger(name).setLevel(quiet)


def warn(message: str) -> None:
    """A warning for the operator on standard error (shown even with -q: cron mails standard error)."""
    print(terminal_safe(f"adfs-readiness: warning: {message}"), file=sys.stderr)


def load_registry() -> Any:
    """The installed checks; a plugin that fails to load is a warning, not a failed run."""
    from adfs_readiness.engine.registry import discover_checks

    registry = discover_checks()
    for ep, reason in registry.load_errors:
        warn(f"check plugin {ep} failed to load: {reason}")
    return registry
