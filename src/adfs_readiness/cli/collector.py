"""``adfs-readiness collector``: print the read-only AD FS collector (PowerShell)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from adfs_readiness.cli._common import add_command

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add ``collector`` to the subcommands ``sub``."""
    p = add_command(sub, "collector", "print the read-only AD FS collector (PowerShell) to run on an AD FS server",
                    ("adfs-readiness collector > collect-adfs.ps1",
                     "# on the AD FS server: .\\collect-adfs.ps1 -Path adfs-export.json",
                     "adfs-readiness check --config adfs-readiness.toml --adfs-export adfs-export.json"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the script to standard output."""
    from adfs_readiness.collector import collector_script

    sys.stdout.write(collector_script())
    return 0
