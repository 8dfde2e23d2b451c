"""``adfs-readiness collect``: gather the facts (with every input ``check`` takes), judge them,
write an evidence snapshot (secrets redacted) to judge again later with ``assess``; exits with
the verdict's code, like ``check``."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import (add_command, add_output_options, add_settings_flags, add_verbose, emit,
                                        flags_given, load_registry)
from adfs_readiness.cli.check import add_run_options
from adfs_readiness.settings import COMMAND_LINE, SettingsError

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness collect --config adfs-readiness.toml --out evidence.json",
    "adfs-readiness collect --config c.toml --adfs-export adfs-export.json --entra-export entra.json --out e.json",
    "adfs-readiness assess evidence.json --html report.html    # later, elsewhere, offline",
)


def register(sub: Any) -> None:
    """Add ``collect`` to the subcommands ``sub``."""
    p = add_command(sub, "collect", "gather the facts and write an evidence snapshot (secrets redacted)", EXAMPLES,
                    "Gather the facts as 'check' does (same inputs), judge them, and write an evidence snapshot "
                    "(secrets redacted) that 'assess' judges again offline. Exits with the verdict's code.")
    add_verbose(p)
    add_run_options(p)
    p.add_argument("--out", metavar="FILE", type=Path, required=True, help="where to write the snapshot (JSON)")
    add_settings_flags(p, ("target", "run"))
    add_output_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``collect``; returns the verdict's exit code."""
    from adfs_readiness.app.evidence import collect_evidence
    from adfs_readiness.app.run import RunInputs, certificate_password, prepare_settings
    from adfs_readiness.cli.check import _prompt
    from adfs_readiness.probes.catalog import all_probes

    if args.config and len(args.config) > 1:
        raise SettingsError(COMMAND_LINE, "--config", str(args.config[1]), "one configuration: collect one tenant "
                            "at a time")
    registry = load_registry()
    settings = prepare_settings(registry, RunInputs(config=args.config[0] if args.config else None,
                                                    flags=flags_given(args), only=args.only))
    settings = certificate_password(settings, prompt=_prompt())
    now = args.as_of or datetime.now(timezone.utc)
    collected = collect_evidence(registry, all_probes(), settings, now, args.out, only=args.only)
    code = emit(collected.result, args, settings)
    if not args.quiet and not args.nagios and args.format == "text":
        print(f"Evidence snapshot: {args.out} ({collected.facts} facts; judge it with 'adfs-readiness assess "
              f"{args.out}')")
    return code
