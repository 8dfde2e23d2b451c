"""``adfs-readiness history``: list, show and compare the recorded runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import EXIT_CANNOT_RUN, Parser, add_command
from adfs_readiness.text import terminal_safe

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness history list",
    "adfs-readiness history list --history /var/lib/adfs-readiness/history.sqlite3 --target sts.contoso.com",
    "adfs-readiness history show 12",
    "adfs-readiness history diff 11 12 --json",
)


def _add_history_option(p: argparse.ArgumentParser, default: Any) -> None:
    # Accepted before and after the action ("history --history P list" and "history list --history P");
    # SUPPRESS on the action keeps a value given before it.
    p.add_argument("--history", metavar="PATH", type=Path, default=default,
                   help="history database (default: the user data folder; the path 'check' used with --history "
                        "or history.path)")


def register(sub: Any) -> None:
    """Add ``history`` and its actions to the subcommands ``sub``."""
    h = add_command(sub, "history", "list, show and compare recorded runs", EXAMPLES)
    _add_history_option(h, None)
    actions = h.add_subparsers(dest="history_command", metavar="ACTION", parser_class=Parser)
    hl = add_command(actions, "list", "recorded runs, newest first", EXAMPLES[:2])
    _add_history_option(hl, argparse.SUPPRESS)
    hl.add_argument("--target", metavar="KEY", help="only runs of this target (service name or tenant)")
    hl.add_argument("--limit", metavar="N", type=int, default=50, help="at most N runs (default 50)")
    hl.add_argument("--json", action="store_true", help="print JSON instead of a table")
    hs = add_command(actions, "show", "one run with its findings and certificates", (EXAMPLES[2],))
    _add_history_option(hs, argparse.SUPPRESS)
    hs.add_argument("run_id", metavar="ID", type=int, help="the run id (see 'history list')")
    hs.add_argument("--json", action="store_true", help="print JSON instead of text")
    hd = add_command(actions, "diff", "what changed from run ID1 to run ID2", (EXAMPLES[3],))
    _add_history_option(hd, argparse.SUPPRESS)
    hd.add_argument("run_ids", metavar="ID", type=int, nargs=2, help="the earlier and the later run id")
    hd.add_argument("--json", action="store_true", help="print JSON instead of text")
    h.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``history``; 0 on success, 3 when there is no such history or run."""
    from adfs_readiness.history import History, default_history_path

    path = args.history or default_history_path()
    if args.history_command is None:
        print("adfs-readiness history: choose list, show ID or diff ID1 ID2", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if not path.exists():
        print(f"adfs-readiness: no history yet at {path}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    with History(path) as history:
        try:
            if args.history_command == "list":
                return _list(history, args)
            if args.history_command == "show":
                return _show(history, args, path)
            return _diff(history, args, path)
        finally:
            for warning in history.warnings:
                print(f"adfs-readiness: warning: {terminal_safe(warning)}", file=sys.stderr)


def _list(history: Any, args: argparse.Namespace) -> int:
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


def _show(history: Any, args: argparse.Namespace, path: Path) -> int:
    run = history.get(args.run_id)
    if run is None:
        print(f"adfs-readiness: no run {args.run_id} in {path}", file=sys.stderr)
        return EXIT_CANNOT_RUN
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
        print(terminal_safe(f"  cert  {c['purpose']} {c['subject']} ({c['sha1'][:8]}): {c['days_left']} days left"))
    return 0


def _diff(history: Any, args: argparse.Namespace, path: Path) -> int:
    from adfs_readiness.history import changes_between

    first, second = (history.get(i) for i in args.run_ids)
    missing = [i for i, r in zip(args.run_ids, (first, second)) if r is None]
    if missing or first is None or second is None:
        print(f"adfs-readiness: no run {missing[0]} in {path}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    changes = changes_between(first, second.findings, second.certificates, (first.score, second.score))
    if args.json:
        from adfs_readiness.report.json_report import changes_dict

        not_checked = [{"check_id": c.check_id, "target": c.target, "before": c.before.value if c.before else None,
                        "after": c.after.value if c.after else None} for c in changes.not_checked]
        print(json.dumps({"from": first.id, "to": second.id, "verdict": [first.verdict.value, second.verdict.value],
                          **changes_dict(changes, second.score), "not_checked": not_checked},
                         indent=2, ensure_ascii=False))
        return 0
    print(f"run {first.id} -> run {second.id}: {first.verdict.value} -> {second.verdict.value}, "
          f"score {first.score} -> {second.score}")
    for label, items in (("new", changes.new), ("resolved", changes.resolved), ("changed", changes.changed),
                         ("not run", changes.not_checked)):
        for c in items:
            target = f" [{c.target}]" if c.target else ""
            print(terminal_safe(f"  {label:8} {c.check_id}{target}: {c.before.value if c.before else 'absent'} -> "
                                f"{c.after.value if c.after else 'absent'}: {c.summary}"))
    for cert in changes.certificates:
        print(terminal_safe(f"  closer   {cert.purpose} {cert.subject} ({cert.sha1[:8]}): {cert.days_left_before} -> "
                            f"{cert.days_left_after} days"))
    if changes.not_checked:
        print("  (not run: failing before, not run this time: skipped or outside the run's scope; not resolved)")
    if not (changes.any or changes.certificates or changes.not_checked) and first.verdict is second.verdict:
        print("  no change")
    return 0
