"""``adfs-readiness assess``: judge an evidence snapshot offline (the findings of the live run)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import add_command, add_output_options, add_verbose, emit, load_registry

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness assess evidence.json",
    "adfs-readiness assess evidence.json --html report.html --json report.json",
    "adfs-readiness assess evidence.json --as-of 2027-01-31    # will it still pass then?",
)


def register(sub: Any) -> None:
    """Add ``assess`` to the subcommands ``sub``."""
    p = add_command(sub, "assess", "judge an evidence snapshot offline (same findings as the live run)", EXAMPLES)
    add_verbose(p)
    p.add_argument("snapshot", metavar="FILE", type=Path, help="the evidence snapshot written by 'collect'")
    p.add_argument("--suppressions", metavar="PATH", type=Path,
                   help="accepted risks file (TOML; default: the one the snapshot's configuration named)")
    add_output_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``assess``; returns the verdict's exit code."""
    from adfs_readiness.app.evidence import assess_evidence
    from adfs_readiness.probes.catalog import all_probes

    result, settings = assess_evidence(load_registry(), all_probes(), args.snapshot, as_of=args.as_of,
                                       suppressions_file=args.suppressions)
    return emit(result, args, settings)
