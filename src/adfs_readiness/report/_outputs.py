"""Helpers of the machine-output renderers (JUnit, Nagios, Prometheus, CSV, Markdown): one place
for "the worst status of each check", certificate thresholds and text clean-up.

Renderers only read the graded result (DESIGN.md, "Layers"); thresholds for certificate days are
passed in by the caller (the CLI reads them from the configuration), with CHECKS.md's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from adfs_readiness.model import STATUS_ORDER, Finding, RunResult, Status

__all__ = ["CheckStatus", "DayThresholds", "DEFAULT_DAY_THRESHOLDS", "check_statuses", "day_thresholds",
           "xml_safe"]


@dataclass(frozen=True)
class DayThresholds:
    """Days-left limits of a certificate purpose: below ``warn`` is a warning, below ``crit``
    critical (the check's warn / fail days)."""

    warn: int
    crit: int


#: CHECKS.md defaults (config ``[thresholds]``): token-signing / token-decrypting 90 / 14 days,
#: TLS 90 / 14 days; any other purpose uses the TLS limits.
DEFAULT_DAY_THRESHOLDS: Mapping[str, DayThresholds] = {
    "token-signing": DayThresholds(90, 14),
    "token-decrypting": DayThresholds(90, 14),
    "tls": DayThresholds(90, 14),
}


def day_thresholds(purpose: str, thresholds: Mapping[str, DayThresholds] | None = None) -> DayThresholds:
    """The limits for ``purpose`` from ``thresholds`` (default :data:`DEFAULT_DAY_THRESHOLDS`);
    an unknown purpose gets the ``tls`` limits."""
    table = thresholds or DEFAULT_DAY_THRESHOLDS
    return table.get(purpose) or table.get("tls") or DEFAULT_DAY_THRESHOLDS["tls"]


@dataclass(frozen=True)
class CheckStatus:
    """The worst status of one check over its findings. ``suppressed`` is True when every
    finding that does not pass is covered by an accepted risk (then ``status`` is the worst of
    those, reported as accepted)."""

    check_id: str
    title: str
    status: Status
    suppressed: bool
    findings: tuple[Finding, ...]


def check_statuses(result: RunResult) -> list[CheckStatus]:
    """One :class:`CheckStatus` per check id, in the run's check order. The status is the worst
    (``STATUS_ORDER``) of the findings no accepted risk covers; when all are covered, the worst of
    all, with ``suppressed`` set."""
    grouped: dict[str, list[Finding]] = {}
    for f in result.findings:
        grouped.setdefault(f.check_id, []).append(f)
    out = []
    for check_id, findings in grouped.items():
        open_ = [f for f in findings if f.suppression is None]
        pool = open_ or findings
        worst = min((Status(f.status) for f in pool), key=STATUS_ORDER.index)
        out.append(CheckStatus(check_id, findings[0].title, worst, not open_, tuple(findings)))
    return out


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters from a server)."""
    return _XML_BAD.sub("\ufffd", text)
