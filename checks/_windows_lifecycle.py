"""Windows Server versions AD FS runs on, as data: how to recognise each one in an export (the
build number Win32_OperatingSystem reports), its end of extended support under Microsoft's Fixed
Lifecycle Policy, the farm behavior level AD FS on it supports, and the Microsoft page each fact
comes from. Dates are the "Extended End Date" of the product's lifecycle page (extended security
updates bought separately are not support: the page's own end date is what counts).

Builds: https://learn.microsoft.com/en-us/windows-server/get-started/windows-server-release-info
Farm behavior levels: https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/deployment/upgrading-to-ad-fs-in-windows-server
(Windows Server 2012 R2 = 1, 2016 = 3, "2019 and 2022" = 4; Windows Server 2025 is not in that
table: taken as 4, the level a node reports in Get-AdfsFarmInformation FarmNodes wins over it).
SCHANNEL defaults: "Protocols in TLS/SSL (Schannel SSP)"
(https://learn.microsoft.com/en-us/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp-): on
Windows Server 2008 and 2008 R2, TLS 1.1 and 1.2 are supported but not enabled by default (the
"disabled by default" state of Microsoft's TLS registry settings); from Windows Server 2012 on they
are enabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from adfs_readiness.api import Reference

__all__ = ["WindowsServerRelease", "RELEASES", "release_of", "RELEASE_INFO"]

RELEASE_INFO = Reference("Windows Server release information (build numbers)",
                         "https://learn.microsoft.com/en-us/windows-server/get-started/windows-server-release-info")


@dataclass(frozen=True)
class WindowsServerRelease:
    """One Windows Server version: ``name``, its RTM ``build``, ``extended_end`` (the last day of
    extended support), the highest AD FS farm ``behavior_level`` it supports (None: AD FS 2.x,
    before farm behavior levels), whether TLS 1.0/1.1 are off by default
    (``legacy_tls_off_by_default``), whether TLS 1.1/1.2 are only "disabled by default" until a
    registry value enables them (``modern_tls_disabled_by_default``: 2008 and 2008 R2) and
    ``source`` (its Microsoft lifecycle page)."""

    name: str
    build: int
    extended_end: date
    behavior_level: int | None
    legacy_tls_off_by_default: bool
    source: Reference
    modern_tls_disabled_by_default: bool = False


def _lifecycle(slug: str, name: str) -> Reference:
    return Reference(f"{name} - Microsoft Lifecycle", f"https://learn.microsoft.com/en-us/lifecycle/products/{slug}")


#: Oldest first. TLS 1.0 and 1.1 are disabled by default in Windows releases after September 2023
#: (Windows Server 2025): https://learn.microsoft.com/en-us/windows/whats-new/deprecated-features-resources
RELEASES: tuple[WindowsServerRelease, ...] = (
    WindowsServerRelease("Windows Server 2008", 6002, date(2020, 1, 14), None, False,
                         _lifecycle("windows-server-2008", "Windows Server 2008"), modern_tls_disabled_by_default=True),
    WindowsServerRelease("Windows Server 2008 R2", 7601, date(2020, 1, 14), None, False,
                         _lifecycle("windows-server-2008-r2", "Windows Server 2008 R2"),
                         modern_tls_disabled_by_default=True),
    WindowsServerRelease("Windows Server 2012", 9200, date(2023, 10, 10), None, False,
                         _lifecycle("windows-server-2012", "Windows Server 2012")),
    WindowsServerRelease("Windows Server 2012 R2", 9600, date(2023, 10, 10), 1, False,
                         _lifecycle("windows-server-2012-r2", "Windows Server 2012 R2")),
    WindowsServerRelease("Windows Server 2016", 14393, date(2027, 1, 12), 3, False,
                         _lifecycle("windows-server-2016", "Windows Server 2016")),
    WindowsServerRelease("Windows Server 2019", 17763, date(2029, 1, 9), 4, False,
                         _lifecycle("windows-server-2019", "Windows Server 2019")),
    WindowsServerRelease("Windows Server 2022", 20348, date(2031, 10, 14), 4, False,
                         _lifecycle("windows-server-2022", "Windows Server 2022")),
    WindowsServerRelease("Windows Server 2025", 26100, date(2034, 11, 14), 4, True,
                         _lifecycle("windows-server-2025", "Windows Server 2025")),
)

_BY_BUILD = {r.build: r for r in RELEASES}
_BY_BUILD[6003] = _BY_BUILD[6002]  # Windows Server 2008 SP2 after the 2019 servicing-stack update
_CAPTION = re.compile(r"Windows Server\D*(2008 R2|2012 R2|2008|2012|2016|2019|2022|2025)", re.I)


def release_of(build: int | None, caption: str | None) -> WindowsServerRelease | None:
    """The release of a server from its build number (exact), else from the Windows Server year in
    its caption (captions are localised, but the product name and year stay); None when neither is
    known (a Semi-Annual Channel build, an Insider build, a client OS)."""
    if build is not None and build in _BY_BUILD:
        return _BY_BUILD[build]
    match = _CAPTION.search(caption or "")
    if match:
        wanted = f"Windows Server {match.group(1).upper().replace('R2', 'R2')}"
        return next((r for r in RELEASES if r.name.lower() == wanted.lower()), None)
    return None
