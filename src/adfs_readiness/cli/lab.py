"""``adfs-readiness lab up | status | down``: the demo lab kept running in the background, with a
ready configuration, so ``check``, cron, systemd, Nagios, Prometheus and fleets can be tried on one
machine. (``demo`` starts, checks and stops it in one command.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import EXIT_CANNOT_RUN, Parser, add_command

__all__ = ["register", "run"]

DEFAULT_DIR = Path("adfs-readiness-lab")

EXAMPLES = (
    "adfs-readiness lab up --dir /tmp/lab",
    "adfs-readiness check --config /tmp/lab/adfs-readiness.toml --html /tmp/lab/report.html",
    "adfs-readiness lab status --dir /tmp/lab",
    "adfs-readiness lab down --dir /tmp/lab",
)


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, metavar="DIR",
                   help=f"the lab's folder: configuration, CA bundle, secrets, state and log "
                        f"(default: ./{DEFAULT_DIR})")


def register(sub: Any) -> None:
    """Add ``lab`` and its actions to the subcommands ``sub``."""
    lab = add_command(sub, "lab", "keep the demo lab running in the background to try check, schedulers, monitoring",
                      EXAMPLES)
    actions = lab.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=Parser)
    up = add_command(actions, "up", "start the lab in the background and write DIR/adfs-readiness.toml",
                     (EXAMPLES[0], "adfs-readiness lab up --scenario token-signing-expired --dir /tmp/lab-expired"))
    up.add_argument("--scenario", default="demo", help="lab scenario (see 'adfs-readiness demo --list-scenarios'; "
                                                       "default: demo)")
    up.add_argument("--directory", choices=("auto", "recorded"), default="auto",
                    help="the directory area: a live Samba AD DC on 127.0.0.1 where Samba runs and its ports are free, "
                         "else the facts recorded from it (auto, the default); 'recorded' always replays (fast)")
    _add_dir(up)
    status = add_command(actions, "status", "say whether the lab in DIR runs (exit 0) or not (exit 3)",
                         (EXAMPLES[2],))
    _add_dir(status)
    down = add_command(actions, "down", "stop exactly the processes 'lab up' started in DIR", (EXAMPLES[3],))
    _add_dir(down)
    lab.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``lab up``, ``lab status`` or ``lab down``."""
    from adfs_readiness.lab.background import LabError, lab_status, start_lab, stop_lab
    from adfs_readiness.lab.scenarios import SCENARIOS
    from adfs_readiness.settings import COMMAND_LINE, SettingsError

    if args.lab_command is None:
        print("adfs-readiness lab: choose up, status or down", file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        if args.lab_command == "up":
            if args.scenario not in SCENARIOS:
                raise SettingsError(COMMAND_LINE, "--scenario", args.scenario, f"one of: {', '.join(SCENARIOS)}")
            slow = " (with a Samba DC this takes ~30 s)" if args.directory == "auto" else ""
            print(f"Starting the lab '{args.scenario}' in {args.dir}{slow}...")
            state = start_lab(args.dir, args.scenario, directory=args.directory)
            print(f"Lab running (pid {state.pid}): {state.service_name} at {state.address}")
            print(state.directory_note)
            print(f"Configuration: {state.config}")
            print(f"Secrets: {state.env_file}   (systemd EnvironmentFile=, or: set -a; . {state.env_file}; set +a)")
            print(f"Check it:  set -a; . {state.env_file}; set +a; adfs-readiness check --config {state.config}")
            if state.lab_id:
                print(f"Its secret variables end in _{state.lab_id} (this lab's id): a fleet of labs loads every "
                      f"lab's lab.env (set -a; . DIR1/lab.env; . DIR2/lab.env; set +a)")
            print(f"Stop it:   adfs-readiness lab down --dir {state.dir}")
            return 0
        if args.lab_command == "status":
            status = lab_status(args.dir)
            if status.state is None:
                print(f"no lab in {args.dir}")
                return EXIT_CANNOT_RUN
            s = status.state
            print(f"lab in {s.dir}: scenario {s.scenario}, started {s.started_at}")
            print(f"  server pid {s.pid}: {'running' if status.server_running else 'NOT running'}")
            if s.dc_pid:
                print(f"  Samba DC pid {s.dc_pid}: {'running' if status.dc_running else 'NOT running'}")
            else:
                print(f"  directory: {s.directory} ({s.directory_note})")
            print(f"  configuration: {s.config}")
            return 0 if status.server_running else EXIT_CANNOT_RUN
        stopped = stop_lab(args.dir)
        if stopped is None:
            print(f"no lab in {args.dir}")
            return 0
        dc = f", Samba DC pid {stopped.dc_pid}" if stopped.dc_pid else ""
        print(f"stopped the lab in {stopped.dir} (pid {stopped.pid}{dc})")
        return 0
    except LabError as exc:
        print(f"adfs-readiness: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
