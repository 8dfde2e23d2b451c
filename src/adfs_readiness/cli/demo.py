"""``adfs-readiness demo``: start the built-in lab on loopback, check it, write the reports, stop
the lab — the one-command tour. (``lab up`` keeps a lab running for ``check`` and schedulers.)"""

from __future__ import annotations

import argparse
from typing import Any

from adfs_readiness.cli._common import add_command, add_output_options, add_verbose, emit, load_registry

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness demo --html report.html",
    "adfs-readiness demo --scenario token-signing-expired --json report.json",
    "adfs-readiness demo --list-scenarios",
)


def register(sub: Any) -> None:
    """Add ``demo`` to the subcommands ``sub``."""
    p = add_command(sub, "demo", "start the built-in lab on loopback, check it, write the reports", EXAMPLES)
    add_verbose(p)
    p.add_argument("--scenario", default="demo", help="lab scenario (see --list-scenarios; default: demo)")
    p.add_argument("--list-scenarios", action="store_true", help="list the lab scenarios and exit")
    p.add_argument("--directory", choices=("auto", "live", "recorded"), default="auto",
                   help="the directory area: a live Samba AD DC where Samba runs, else the facts recorded from it "
                        "(auto, the default); 'recorded' replays the recording even where Samba runs (faster)")
    p.add_argument("--no-directory", action="store_true",
                   help="leave the directory area out (no Samba DC, no recorded directory facts)")
    p.add_argument("--deadline", metavar="SECONDS", default="60",
                   help="finish the run within this many seconds (1 to 86400; default 60)")
    add_output_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the verdict's exit code."""
    from adfs_readiness.app.demo import run_demo
    from adfs_readiness.lab.scenarios import SCENARIOS
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.settings import COMMAND_LINE, SettingsError
    from adfs_readiness.settings.flags import parse_flag

    if args.list_scenarios:
        for name, scenario in SCENARIOS.items():
            print(f"{name:28} {scenario.description}")
        return 0
    if args.scenario not in SCENARIOS:
        raise SettingsError(COMMAND_LINE, "--scenario", args.scenario, f"one of: {', '.join(SCENARIOS)}")
    deadline = parse_flag("--deadline", args.deadline)
    talk = not args.quiet and args.format == "text" and not args.nagios
    demo = run_demo(load_registry(), all_probes(), args.scenario, deadline_seconds=deadline, as_of=args.as_of,
                    directory="none" if args.no_directory else args.directory,
                    log=print if talk else (lambda line: None))
    if talk:
        print(f"Demo lab scenario '{args.scenario}': {SCENARIOS[args.scenario].description}")
        for note in demo.notes:
            print(note)
    return emit(demo.result, args)
