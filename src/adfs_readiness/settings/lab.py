"""``[lab]``: settings only the built-in demo lab uses (``adfs-readiness lab up`` writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import FilePath

__all__ = ["LabSettings"]


@dataclass(frozen=True)
class LabSettings:
    """The ``[lab]`` table.

    Attributes:
        directory_recording: replay the directory facts recorded from the lab's Samba DC (JSON made
            by ``scripts/record_lab_directory.py``) instead of reading a directory over LDAP; the
            report says the area was replayed. For the lab on a machine without Samba only.
    """

    directory_recording: Path | None = setting(None, FilePath("recorded directory facts (JSON)", must_exist=True))
