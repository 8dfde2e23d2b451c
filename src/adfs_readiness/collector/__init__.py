"""The read-only PowerShell collector for AD FS servers, shipped as package data
(``collect-adfs.ps1``) and printed by ``adfs-readiness collector``."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["collector_script", "COLLECTOR_VERSION"]

#: Written into every export ("CollectorVersion"); bump when the export's shape changes.
COLLECTOR_VERSION = "1"


def collector_script() -> str:
    """The collector's text (PowerShell, UTF-8, CRLF-agnostic)."""
    return files(__name__).joinpath("collect-adfs.ps1").read_text(encoding="utf-8")
