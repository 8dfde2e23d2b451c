"""The command line: one module per command over the plain functions of :mod:`adfs_readiness.app`.

``adfs-readiness check | demo | lab | collect | assess | history | init | list-checks | explain |
collector``. Each command module has ``register(subparsers)``, which declares its options (with a
help line each and examples) and sets its handler.

Exit codes follow the Nagios plugin convention so schedulers and monitoring can use them as they
are: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE or the tool could not run (bad
configuration, bad arguments, unwritable output).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from adfs_readiness import __version__
from adfs_readiness.cli import assess, catalog, check, collect, collector, demo, history, init, lab
from adfs_readiness.cli._common import EXIT_CANNOT_RUN, Parser, configure_logging

__all__ = ["main", "build_parser", "EXIT_CANNOT_RUN"]

_COMMANDS = (check, demo, lab, collect, assess, history, init, catalog, collector)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = Parser(prog="adfs-readiness",
                    description="Grade whether AD FS single sign-on for Microsoft 365 / Entra ID will work.",
                    epilog="examples:\n  adfs-readiness demo --html report.html\n"
                           "  adfs-readiness check --service-name sts.contoso.com\n"
                           "  adfs-readiness COMMAND --help")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log details to standard error (-v: debug, with tracebacks of failed probes/checks)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_CANNOT_RUN
    try:
        return _run(args)
    except BrokenPipeError:
        # "adfs-readiness explain X | head -1": the reader left; not an error of ours.
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


def _crashed(args: argparse.Namespace, error: BaseException, result: Any) -> int:
    """An unexpected exception: one line on standard error, the traceback in the debug log, and,
    when the run got as far as a result, every report asked for written with the verdict
    INCOMPLETE (crash.py). Exit 3."""
    from adfs_readiness import crash
    from adfs_readiness.app.reports import REPORT_FORMATS, render_report, shown, write_report
    from adfs_readiness.model import RunResult
    from adfs_readiness.settings import Settings

    crash.log_traceback(error)
    print(f"adfs-readiness: internal error, the run is INCOMPLETE (exit 3): {crash.crash_line(error)} "
          f"(-v shows the traceback)", file=sys.stderr)
    if result is not None:
        rows = Settings().limits.max_report_rows

        def renderer(fmt: str) -> Callable[[RunResult], str]:
            return lambda r: render_report(shown(r, fmt, rows), fmt)

        renderers = {fmt: renderer(fmt) for fmt in REPORT_FORMATS}
        outputs = [(fmt, path) for fmt in REPORT_FORMATS if isinstance(path := getattr(args, fmt, None), Path)]
        written = crash.write_incomplete_reports(crash.incomplete(result, error), outputs, renderers, write_report)
        for path in written:
            print(f"adfs-readiness: INCOMPLETE report written: {path}", file=sys.stderr)
    return crash.EXIT_CRASH


def _run(args: argparse.Namespace) -> int:
    from adfs_readiness.engine.registry import RegistryError
    from adfs_readiness.history import HistoryError
    from adfs_readiness.locking import LockBusy
    from adfs_readiness.settings import SettingsError
    from adfs_readiness.snapshot import SnapshotError
    from adfs_readiness.text import terminal_safe

    try:
        return int(args.handler(args))
    except SettingsError as exc:
        # One line per problem; each line made safe (values come from files and flags).
        text = "\n".join(terminal_safe(line) for line in str(exc).splitlines())
        print(f"adfs-readiness: configuration error: {text}", file=sys.stderr)
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
