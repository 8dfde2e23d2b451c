"""``adfs-readiness list-checks`` and ``adfs-readiness explain CHECK``: what the installed checks
are and what one of them demands, why, how to fix it and its sources."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from typing import Any

from adfs_readiness.cli._common import EXIT_CANNOT_RUN, add_command, load_registry
from adfs_readiness.text import terminal_safe

__all__ = ["register", "run_list", "run_explain"]


def register(sub: Any) -> None:
    """Add ``list-checks`` and ``explain`` to the subcommands ``sub``."""
    lc = add_command(sub, "list-checks", "list the available checks",
                     ("adfs-readiness list-checks", "adfs-readiness list-checks | grep blocker",
                      "adfs-readiness list-checks --json"))
    lc.add_argument("--json", action="store_true",
                    help="as JSON (id, title, area, severity, blocker, requires, source)")
    lc.set_defaults(handler=run_list)
    ex = add_command(sub, "explain", "show what a check demands, why, how to fix it and its sources; "
                                     "or (--grading) how the grade is made",
                     ("adfs-readiness explain token-signing.expiry", "adfs-readiness explain dns.split-brain",
                      "adfs-readiness explain --grading report.json   # the points each finding cost"))
    ex.add_argument("check_id", metavar="CHECK_ID", nargs="?", help="a check id from 'list-checks'")
    ex.add_argument("--grading", metavar="REPORT.json", nargs="?", const="", default=None,
                    help="explain the grading rules; with a JSON report, the points each of its findings cost")
    ex.set_defaults(handler=run_explain)


def run_list(args: argparse.Namespace) -> int:
    """Print the checks: a table on a terminal, tab-separated lines when piped, or JSON."""
    registry = load_registry()
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


def run_explain(args: argparse.Namespace) -> int:
    """Print one check's rule, remediation and references; 3 for an unknown id (with suggestions).
    With ``--grading``: the grading rules, and the points each finding of a JSON report cost."""
    if args.grading is not None:
        from pathlib import Path

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
    registry = load_registry()
    c = registry.get(args.check_id)
    if c is None:
        close = difflib.get_close_matches(args.check_id, registry.ids, n=3, cutoff=0.6)
        close += [i for i in registry.ids if args.check_id.split(".")[0] in i and i not in close]
        hint = f" (did you mean: {', '.join(close)})" if close else ""
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
