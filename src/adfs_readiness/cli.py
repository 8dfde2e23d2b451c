"""The command line: ``check``, ``demo``, ``list-checks``, ``explain``, ``init``, and (cli_schedule.py)
``history``, ``collect``, ``assess``.

Exit codes follow the Nagios plugin convention so schedulers and monitoring can use them as they
are: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE or the tool could not run (bad
configuration, bad arguments, unwritable output).
"""

from __future__ import annotations

from dataclasses import replace

import argparse
import json
import logging
import math
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Sequence

from adfs_readiness import __version__, cli_schedule
from adfs_readiness.config import (EXAMPLE_CONFIG, LIMIT_BOUNDS, MAX_DEADLINE_SECONDS, MAX_TIMEOUT_SECONDS, Config,
                                   ConfigError, config_from_mapping, load_config, parse_host_port)
from adfs_readiness.engine.registry import CheckRegistry, RegistryError, discover_checks
from adfs_readiness.history import HistoryError
from adfs_readiness.locking import LockBusy
from adfs_readiness.model import RunResult
from adfs_readiness.redaction import RedactingFormatter
from adfs_readiness.text import terminal_safe
from adfs_readiness.snapshot import SnapshotError

__all__ = ["main", "build_parser", "EXIT_CANNOT_RUN"]

#: Exit code when the tool could not run at all (Nagios UNKNOWN, like INCOMPLETE).
EXIT_CANNOT_RUN = 3

log = logging.getLogger("adfs_readiness")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, which would read as NOT_READY: exit 3 instead."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_CANNOT_RUN, f"{self.prog}: error: {message}\n")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group("output")
    out.add_argument("--json", metavar="PATH", type=Path, help="write the JSON report to PATH")
    out.add_argument("--html", metavar="PATH", type=Path, help="write the self-contained HTML report to PATH")
    out.add_argument("--format", choices=("text", "json"), default="text",
                     help="what to print on standard output (default: text summary)")
    out.add_argument("-q", "--quiet", action="store_true", help="print nothing on standard output (for cron)")
    out.add_argument("--all", dest="all_findings", action="store_true",
                     help="print every finding on standard output, not the summary (like -v, without the debug log)")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour in the text summary (default: auto, when stdout is a terminal)")
    out.add_argument("--as-of", metavar="DATE", type=_parse_when,
                     help="judge expiry as of this UTC date or datetime instead of now "
                          "(e.g. 2027-01-31: will it still pass then?)")
    cli_schedule.add_machine_output_options(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(prog="adfs-readiness",
                     description="Grade whether AD FS single sign-on for Microsoft 365 / Entra ID will work.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log details to standard error (-v: debug, with tracebacks of failed probes/checks)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="probe a federation service, judge it and write reports")
    _add_verbose(check)
    check.add_argument("--config", metavar="PATH", type=Path, action="append",
                       help="TOML configuration (see 'init'); repeat it, or give a folder, to check a fleet")
    target = check.add_argument_group("target (override the configuration file)")
    target.add_argument("--service-name", metavar="NAME", help="federation service name, e.g. sts.contoso.com")
    target.add_argument("--domain", metavar="DOMAIN", action="append", help="federated domain (repeatable)")
    target.add_argument("--service-address", metavar="HOST[:PORT]",
                        help="connect the federation service name to this address (like curl --resolve)")
    target.add_argument("--metadata", metavar="PATH|URL", help="read federation metadata from a file or URL")
    target.add_argument("--ca-bundle", metavar="PATH", type=Path, help="extra trusted CA certificates (PEM)")
    target.add_argument("--certificate", metavar="FILE", type=Path,
                        help="judge a new SSL certificate before deployment (PEM, DER or PFX/PKCS#12)")
    target.add_argument("--certificate-password-env", metavar="VAR",
                        help="environment variable holding the PFX / key password (else a prompt when interactive)")
    target.add_argument("--csv-dir", metavar="DIR", type=Path,
                        help="write every object-level directory problem to DIR/directory-problems.csv")
    target.add_argument("--adfs-export", metavar="FILE|DIR", type=Path, action="append",
                        help="an AD FS or WAP server export written by the collector (adfs-readiness collector); "
                             "repeat it for each server, or give a folder of them")
    target.add_argument("--sign-in-upn", metavar="UPN",
                        help="run endpoints.sign-in-test with this test account (password from "
                             "ADFS_READINESS_SIGNIN_PASSWORD or [sign_in_test] password_source)")
    target.add_argument("--entra-export", metavar="FILE", type=Path,
                        help="Entra federation settings: Get-MgDomainFederationConfiguration ... | ConvertTo-Json")
    run = check.add_argument_group("run")
    run.add_argument("--skip", metavar="CHECK_ID", action="append", default=[],
                     help="do not run this check (or 'area.*'); repeatable")
    run.add_argument("--only", metavar="CHECK_ID", action="append", default=[],
                     help="run only this check; repeatable")
    run.add_argument("--deadline", metavar="SECONDS", type=_positive_float,
                     help="finish the whole run within this many seconds (default 120)")
    run.add_argument("--timeout", metavar="SECONDS", type=_timeout_seconds,
                     help="per network operation (default 10)")
    run.add_argument("--max-input-bytes", metavar="BYTES", type=_input_bytes,
                     help="largest export, snapshot, CA bundle or key file read (default 64 MiB; limits.max_input_bytes)")
    _add_output_options(check)
    cli_schedule.add_schedule_options(check)

    demo = sub.add_parser("demo", help="start the built-in lab on loopback, check it, write the reports")
    _add_verbose(demo)
    demo.add_argument("--scenario", default="demo", help="lab scenario (see --list-scenarios; default: demo)")
    demo.add_argument("--list-scenarios", action="store_true", help="list the lab scenarios and exit")
    demo.add_argument("--no-directory", action="store_true",
                      help="do not start the Samba AD domain controller (the directory checks are skipped)")
    demo.add_argument("--deadline", metavar="SECONDS", type=_positive_float, default=60.0,
                      help="finish the run within this many seconds (default 60)")
    _add_output_options(demo)

    sub.add_parser("collector", help="print the read-only AD FS collector (PowerShell) to run on an AD FS server: "
                                     "adfs-readiness collector > collect-adfs.ps1")

    lc = sub.add_parser("list-checks", help="list the available checks")
    lc.add_argument("--json", action="store_true", help="as JSON")

    ex = sub.add_parser("explain", help="show what a check demands, why, how to fix it and its sources; "
                                        "or (--grading) how the grade is made")
    ex.add_argument("check_id", metavar="CHECK_ID", nargs="?")
    ex.add_argument("--grading", metavar="REPORT.json", nargs="?", const="", default=None,
                    help="explain the grading rules; with a JSON report, the points each of its findings cost")

    init = sub.add_parser("init", help="write a commented example configuration")
    init.add_argument("path", nargs="?", type=Path, default=Path("adfs-readiness.toml"),
                      help="where to write it (default: adfs-readiness.toml; '-' for standard output)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    cli_schedule.add_schedule_commands(sub, _add_output_options, check, _Parser)
    return parser


def _add_verbose(p: argparse.ArgumentParser) -> None:
    # Also accepted after the command ("check -v"); SUPPRESS keeps a -v given before it.
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="debug log on standard error (-vv: also the libraries' debug output)")


def _configure_logging(verbose: int) -> None:
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


def _positive_float(text: str, maximum: float = MAX_DEADLINE_SECONDS) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    if value > maximum:
        raise argparse.ArgumentTypeError(f"{text!r} must be at most {maximum} seconds")
    return value


def _timeout_seconds(text: str) -> float:
    return _positive_float(text, MAX_TIMEOUT_SECONDS)


def _input_bytes(text: str) -> int:
    low, high = LIMIT_BOUNDS["max_input_bytes"]
    if not text.isdigit() or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of bytes from {low} to {high}")
    return int(text)


def _parse_when(text: str) -> datetime:
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 datetime") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose or 0)
    try:
        return _dispatch(parser, args)
    except BrokenPipeError:
        # "adfs-readiness explain X | head -1": the reader left; not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("adfs-readiness: interrupted; the run is INCOMPLETE (exit 3)", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a crash is INCOMPLETE, never 0/1/2
        from adfs_readiness.crash import RunCrashed

        if isinstance(exc, RunCrashed):
            return _crashed(args, exc.error, exc.result)
        return _crashed(args, exc, None)


def _crashed(args: argparse.Namespace, error: BaseException, result: RunResult | None) -> int:
    """An unexpected exception: one line on standard error, the traceback in the debug log, and,
    when the run got as far as a result, every report asked for written with the verdict
    INCOMPLETE (crash.py). Exit 3."""
    from adfs_readiness import crash

    crash.log_traceback(error)
    print(f"adfs-readiness: internal error, the run is INCOMPLETE (exit 3): {crash.crash_line(error)} "
          f"(-v shows the traceback)", file=sys.stderr)
    if result is not None:
        from adfs_readiness.engine.bounds import bound_for_report
        from adfs_readiness.report import render_html, render_json
        from adfs_readiness.report.csv_report import render_csv
        from adfs_readiness.report.junit import render_junit
        from adfs_readiness.report.markdown import render_markdown
        from adfs_readiness.report.metrics import render_metrics

        rows = Config().limits.max_report_rows
        renderers = {"json": render_json, "html": render_html, "junit": render_junit, "markdown": render_markdown}
        bounded = {fmt: (lambda r, render=render: render(bound_for_report(r, rows))) for fmt, render in renderers.items()}
        outputs = [(fmt, path) for fmt in ("json", "html", "junit", "metrics", "csv", "markdown")
                   if isinstance(path := getattr(args, fmt, None), Path)]
        written = crash.write_incomplete_reports(crash.incomplete(result, error), outputs,
                                                 {**bounded, "metrics": render_metrics, "csv": render_csv}, _write)
        for path in written:
            print(f"adfs-readiness: INCOMPLETE report written: {path}", file=sys.stderr)
    return crash.EXIT_CRASH


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command is None:
        parser.print_help()
        return EXIT_CANNOT_RUN
    try:
        if args.command == "init":
            return _cmd_init(args)
        if args.command == "collector":
            from adfs_readiness.collector import collector_script

            sys.stdout.write(collector_script())
            return 0
        registry = discover_checks()
        for ep, reason in registry.load_errors:
            print(terminal_safe(f"adfs-readiness: warning: check plugin {ep} failed to load: {reason}"),
                  file=sys.stderr)
        if args.command == "list-checks":
            return _cmd_list_checks(registry, args)
        if args.command == "explain":
            return _cmd_explain(registry, args)
        if args.command == "check":
            return _cmd_check(registry, args)
        if args.command == "demo":
            return _cmd_demo(registry, args)
        if args.command in cli_schedule.SCHEDULE_COMMANDS:
            return cli_schedule.run_schedule_command(registry, args, _config_from_args, _emit, _write)
    except ConfigError as exc:
        # Keys and values of a configuration file are printed: escape sequences in them are shown,
        # not run by the terminal.
        print(terminal_safe(f"adfs-readiness: configuration error: {exc}"), file=sys.stderr)
        return EXIT_CANNOT_RUN
    except RegistryError as exc:
        print(terminal_safe(f"adfs-readiness: plugin error: {exc}"), file=sys.stderr)
        return EXIT_CANNOT_RUN
    except (LockBusy, HistoryError, SnapshotError) as exc:
        print(terminal_safe(f"adfs-readiness: {exc}"), file=sys.stderr)  # snapshot keys, history values
        return EXIT_CANNOT_RUN
    except BrokenPipeError:
        raise  # the reader of our output went away: handled quietly in main()
    except OSError as exc:
        print(terminal_safe(f"adfs-readiness: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")),
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    parser.error(f"unknown command {args.command!r}")
    return EXIT_CANNOT_RUN


def _cmd_init(args: argparse.Namespace) -> int:
    if str(args.path) == "-":
        sys.stdout.write(EXAMPLE_CONFIG)
        return 0
    if args.path.expanduser().exists() and not args.force:
        print(f"adfs-readiness: {args.path} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_CANNOT_RUN
    from adfs_readiness.files import write_atomic

    write_atomic(args.path, EXAMPLE_CONFIG)
    print(f"wrote {args.path}: edit federation.service_name and federation.domains, then run "
          f"'adfs-readiness check --config {args.path}'")
    return 0


def _cmd_list_checks(registry: CheckRegistry, args: argparse.Namespace) -> int:
    if args.json:
        rows = [{"id": c.id, "title": c.meta.title, "area": c.meta.area.value,
                 "severity": c.meta.severity.value, "blocker": c.meta.blocker,
                 "requires": list(c.meta.requires), "source": c.source} for c in registry.checks]
        print(json.dumps(rows, indent=2))
        return 0
    if not sys.stdout.isatty():
        # Piped or redirected: one line per check, tab-separated, so grep and cut work and nothing
        # is squeezed into 80 columns.
        for c in registry.checks:
            print("\t".join((c.id, c.meta.area.value, c.meta.severity.value, "blocker" if c.meta.blocker else "-",
                             terminal_safe(c.meta.title))))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(registry.checks)} checks", show_lines=False)
    # Ids are what people copy: never truncate or wrap them; the title wraps instead.
    table.add_column("id", no_wrap=True, min_width=max((len(i) for i in registry.ids), default=2))
    for column in ("area", "severity", "blocker"):
        table.add_column(column, no_wrap=True)
    table.add_column("title", overflow="fold")
    for c in registry.checks:
        # Plugins are third-party code: their strings are shown, never parsed as markup or escapes.
        table.add_row(Text(terminal_safe(c.id)), c.meta.area.value, c.meta.severity.value,
                      "yes" if c.meta.blocker else "", Text(terminal_safe(c.meta.title)))
    Console(highlight=False).print(table)
    return 0


def _cmd_explain(registry: CheckRegistry, args: argparse.Namespace) -> int:
    if args.grading is not None:
        from adfs_readiness.report.grading_text import (ReportFileError, grading_explanation_text,
                                                        grading_rules_text, load_report)

        try:
            run = grading_explanation_text(load_report(Path(args.grading))) if args.grading else ""
        except ReportFileError as exc:
            print(terminal_safe(f"adfs-readiness: {exc}"), file=sys.stderr)
            return EXIT_CANNOT_RUN
        sys.stdout.write(grading_rules_text() + ("\n" + run if run else ""))
        return 0
    if not args.check_id:
        print("adfs-readiness: explain needs a CHECK_ID (see 'adfs-readiness list-checks') or --grading",
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    c = registry.get(args.check_id)
    if c is None:
        close = [i for i in registry.ids if args.check_id.split(".")[0] in i]
        hint = f" (checks in that area: {', '.join(close)})" if close else ""
        print(terminal_safe(f"adfs-readiness: no check {args.check_id!r}{hint}; see 'adfs-readiness list-checks'"),
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    m = c.meta
    lines = [
        f"{m.id} — {m.title}",
        f"area: {m.area.value} ({m.area.title})   severity: {m.severity.value}   "
        f"blocks SSO when failing: {'yes' if m.blocker else 'no'}",
        "",
        "Rule:", f"  {m.rule}",
        "",
        "Remediation:", f"  {m.remediation}",
        "",
        "References:",
        *[f"  - {r.title}: {r.url}" for r in m.references],
        "",
        f"Facts read: {', '.join(m.requires) or '(none)'}    defined in: {c.source}",
    ]
    print("\n".join(terminal_safe(line) for line in lines))
    return 0


def _config_from_args(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else Config(source="command line")
    changes: dict = {}
    src = "command line"
    if args.service_name:
        given = {"federation": {"service_name": args.service_name}}
        changes["service_name"] = config_from_mapping(given, source=src).service_name
    if args.domain:
        changes["federated_domains"] = tuple(d.lower().rstrip(".") for d in args.domain)
    if args.service_address:
        try:
            changes["service_address"] = parse_host_port(args.service_address, 443)
        except ValueError as exc:
            raise ConfigError(src, "--service-address", args.service_address, f"host[:port] ({exc})") from None
    if args.metadata:
        changes["metadata_source"] = args.metadata
    if args.ca_bundle:
        if not args.ca_bundle.is_file():
            raise ConfigError(src, "--ca-bundle", str(args.ca_bundle), "an existing PEM file of CA certificates")
        changes["ca_bundle"] = args.ca_bundle
    if getattr(args, "certificate", None):
        if not args.certificate.is_file():
            raise ConfigError(src, "--certificate", str(args.certificate), "an existing certificate file")
        changes["certificate_file"] = args.certificate
        changes["certificate_password"] = _certificate_password(args)
    entra_export = getattr(args, "entra_export", None)
    if entra_export is not None and not entra_export.is_file():
        raise ConfigError(src, "--entra-export", str(entra_export), "an existing JSON file")
    for path in getattr(args, "adfs_export", None) or ():
        if not path.is_file() and not path.is_dir():
            raise ConfigError(src, "--adfs-export", str(path), "an existing JSON file or a folder of them")
    if getattr(args, "adfs_export", None):
        changes["adfs_export"] = tuple(args.adfs_export)
    if getattr(args, "sign_in_upn", None):
        given = {"sign_in_test": {"upn": args.sign_in_upn}}
        upn = config_from_mapping(given, source=src).sign_in_test.upn
        changes["sign_in_test"] = replace(config.sign_in_test, upn=upn)
    if getattr(args, "entra_export", None):
        changes["cloud"] = replace(config.cloud, federation_export=args.entra_export)
    if args.skip:
        changes["skip_checks"] = tuple(config.skip_checks) + tuple(args.skip)
    if args.deadline:
        changes["deadline_seconds"] = args.deadline
    if args.timeout:
        changes["timeout_seconds"] = args.timeout
    if getattr(args, "max_input_bytes", None):
        changes["limits"] = replace(config.limits, max_input_bytes=args.max_input_bytes)
    if getattr(args, "csv_dir", None):
        from dataclasses import replace as _replace

        changes["directory"] = _replace(config.directory, csv_dir=args.csv_dir)
    return config.with_overrides(**changes)


def _certificate_password(args: argparse.Namespace) -> str | None:
    """The password of the --certificate file: from the environment variable named by
    --certificate-password-env, else a getpass prompt when the file looks like PFX/PKCS#12 (not
    PEM, not a DER certificate) and stdin is a terminal, else None. Never from the command line."""
    import os  # noqa: PLC0415

    if args.certificate_password_env:
        value = os.environ.get(args.certificate_password_env)
        if value is None:
            raise ConfigError("command line", "--certificate-password-env", args.certificate_password_env,
                              "the name of a set environment variable holding the password")
        return value
    from adfs_readiness.files import read_head

    try:
        head = read_head(args.certificate, 4096)
    except OSError:
        return None
    looks_pem = b"-----BEGIN" in head
    if not looks_pem and args.certificate.suffix.lower() in (".pfx", ".p12") and sys.stdin.isatty():
        import getpass  # noqa: PLC0415

        return getpass.getpass(f"Password for {args.certificate} (empty for none): ")
    return None


def _cmd_check(registry: CheckRegistry, args: argparse.Namespace) -> int:
    from adfs_readiness.probes.catalog import all_probes

    if cli_schedule.is_fleet(args):
        return cli_schedule.cmd_fleet(registry, args, _config_from_args, _write)
    args.config = args.config[0] if args.config else None
    config = _config_from_args(args)
    cli_schedule.require_target_and_known_checks(registry, config, args.only)
    started = datetime.now(timezone.utc)
    run = cli_schedule.run_check(registry, all_probes(), config, args.as_of or started, args, started_at=started)
    return _emit(run.result, args, config)


def _cmd_demo(registry: CheckRegistry, args: argparse.Namespace) -> int:
    from adfs_readiness.demo import run_demo
    from adfs_readiness.lab.scenarios import SCENARIOS
    from adfs_readiness.probes.catalog import all_probes

    if args.list_scenarios:
        for name, scenario in SCENARIOS.items():
            print(f"{name:28} {scenario.description}")
        return 0
    if args.scenario not in SCENARIOS:
        raise ConfigError("command line", "--scenario", args.scenario,
                          f"one of: {', '.join(SCENARIOS)}")
    talk = not args.quiet and args.format == "text"
    demo = run_demo(registry, all_probes(), args.scenario, deadline_seconds=args.deadline, as_of=args.as_of,
                    with_directory=not args.no_directory, log=print if talk else (lambda line: None))
    if talk:
        print(f"Demo lab scenario '{args.scenario}': {SCENARIOS[args.scenario].description}")
        for note in demo.notes:
            print(note)
    return _emit(demo.result, args)


def _emit(result: RunResult, args: argparse.Namespace, config: Config | None = None) -> int:
    """Write the reports asked for and print the summary; returns the verdict's exit code.

    Raises:
        OSError: a report cannot be written (the CLI says so, exit 3).
        crash.RunCrashed: anything else failed while rendering (the CLI writes INCOMPLETE reports).
    """
    from adfs_readiness.crash import RunCrashed

    try:
        return _emit_reports(result, args, config)
    except (OSError, ConfigError):
        raise
    except Exception as exc:
        raise RunCrashed(result, exc) from exc


def _emit_reports(result: RunResult, args: argparse.Namespace, config: Config | None) -> int:
    from adfs_readiness.engine.bounds import bound_for_report
    from adfs_readiness.report import render_html, render_json, render_text
    from adfs_readiness.report.nagios import render_nagios

    # Reports show at most limits.max_report_rows findings per check (the CSV report gets all).
    full, result = result, bound_for_report(result, (config or Config()).limits.max_report_rows)
    if args.json:
        _write(args.json, render_json(result))
    if args.html:
        _write(args.html, render_html(result))
    machine = cli_schedule.write_machine_outputs(result, args, config, _write, full=full)
    if config is not None and config.directory.csv_dir is not None:
        from adfs_readiness.directory_csv import write_directory_csv

        write_directory_csv(config.directory.csv_dir, result.facts.get("directory"), config.federated_domains)
    if args.nagios:
        # A plugin prints exactly its one line; the exit code already follows the Nagios convention.
        sys.stdout.write(render_nagios(result, cli_schedule.day_thresholds_of(config)))
    elif not args.quiet:
        if args.format == "json":
            sys.stdout.write(render_json(result) + "\n")
        else:
            color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
            everything = bool(args.verbose) or getattr(args, "all_findings", False)
            sys.stdout.write(render_text(result, color=color, verbose=everything))
            for label, path in (("JSON", args.json), ("HTML", args.html), *machine):
                if path:
                    sys.stdout.write(f"{label} report: {path}\n")
    return result.grade.verdict.exit_code


def _write(path: Path, text: str) -> None:
    """Write a report atomically without following links (files.write_atomic): a crash or a full
    disk leaves the previous report intact."""
    from adfs_readiness.files import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        # Name the report the admin asked for, not our temporary file.
        raise OSError(exc.errno, f"cannot write the report ({exc.strerror})", str(path.expanduser())) from None

