"""``adfs-readiness assess``: judge an evidence snapshot offline (the findings of the live run)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import add_command, add_output_options, add_verbose, emit, load_registry, parse_when

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness assess evidence.json",
    "adfs-readiness assess evidence.json --html report.html --json report.json",
    "adfs-readiness assess evidence.json --as-of collected     # at the snapshot's own clock",
    "adfs-readiness assess evidence.json --as-of 2027-01-31    # will it still pass then?",
)


def register(sub: Any) -> None:
    """Add ``assess`` to the subcommands ``sub``."""
    p = add_command(sub, "assess", "judge an evidence snapshot offline (certificate dates at the time of assessing; "
                                   "--as-of collected: at the snapshot's clock)", EXAMPLES)
    add_verbose(p)
    p.add_argument("snapshot", metavar="FILE", type=Path, help="the evidence snapshot written by 'collect'")
    p.add_argument("--suppressions", metavar="PATH", type=Path,
                   help="accepted risks file (TOML) on this machine (a snapshot never names one)")
    p.add_argument("--max-input-bytes", metavar="BYTES",
                   help="largest snapshot read (default 64 MiB) [limits.max_input_bytes]")
    add_output_options(p, as_of=_as_of, as_of_metavar="DATE|collected",
                       as_of_help="judge certificate dates as of this UTC date, or 'collected' for the snapshot's "
                                  "own clock (default: the time of assessing)")
    p.set_defaults(handler=run)


def _as_of(text: str) -> Any:
    from adfs_readiness.app.evidence import AS_OF_COLLECTED

    return AS_OF_COLLECTED if text == AS_OF_COLLECTED else parse_when(text)


def run(args: argparse.Namespace) -> int:
    """Run ``assess``; returns the verdict's exit code."""
    from adfs_readiness.app.evidence import assess_evidence
    from adfs_readiness.probes.catalog import all_probes

    from adfs_readiness.settings import Limits
    from adfs_readiness.settings.flags import parse_flag

    limits = Limits(max_input_bytes=parse_flag("--max-input-bytes", args.max_input_bytes)) \
        if args.max_input_bytes else Limits()
    result, settings = assess_evidence(load_registry(), all_probes(), args.snapshot, as_of=args.as_of,
                                       suppressions_file=args.suppressions, limits=limits)
    return emit(result, args, settings)
