"""``adfs-readiness init``: write the commented example configuration. Its names are placeholders
under ``.invalid`` that the run refuses until they are edited."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import EXIT_CANNOT_RUN, add_command

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness init                        # writes ./adfs-readiness.toml",
    "adfs-readiness init /etc/adfs-readiness/contoso.toml",
    "adfs-readiness init - | less               # read it without writing",
)


def register(sub: Any) -> None:
    """Add ``init`` to the subcommands ``sub``."""
    p = add_command(sub, "init", "write a commented example configuration", EXAMPLES)
    p.add_argument("path", nargs="?", type=Path, default=Path("adfs-readiness.toml"),
                   help="where to write it (default: adfs-readiness.toml; '-' for standard output)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the example; 3 when the file exists (without --force)."""
    from adfs_readiness.app.reports import write_report
    from adfs_readiness.settings import EXAMPLE_CONFIG

    if str(args.path) == "-":
        sys.stdout.write(EXAMPLE_CONFIG)
        return 0
    if args.path.expanduser().exists() and not args.force:
        print(f"adfs-readiness: {args.path} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_CANNOT_RUN
    write_report(args.path, EXAMPLE_CONFIG)
    print(f"wrote {args.path}: replace the placeholders (federation.service_name, federation.domains: names under "
          f".invalid), then run 'adfs-readiness check --config {args.path}'")
    return 0
