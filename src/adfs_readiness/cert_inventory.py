"""The certificates of a run and the days each has left, as machine outputs and history need them.

Machine outputs (Nagios perfdata, Prometheus, CSV), the history ("moved closer to expiry") and
the fleet index all need "which certificates, and how long until each expires": that is the
engine's certificate calendar (``RunResult.certificates``, built by
:func:`adfs_readiness.calendar.build_calendar` from the facts), flattened to one row per (role,
thumbprint) with a readable expiry. A result without a calendar has no certificates here: the
facts are not searched a second way.

Only model-level data is read (no probes, no engine), so renderers may import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from adfs_readiness.api import days_left
from adfs_readiness.calendar import CalendarEntry
from adfs_readiness.model import RunResult

__all__ = ["CertificateRow", "run_certificates", "certificate_rows_from_json"]


@dataclass(frozen=True)
class CertificateRow:
    """One certificate of a run.

    Attributes:
        purpose: the calendar role: "token-signing", "token-decrypting", "SSL", "SSL chain", the
            domain controller's LDAPS certificate, ... (:class:`adfs_readiness.calendar.CalendarEntry`).
        subject: RFC 4514 subject (or the common name) as found.
        sha1: SHA-1 thumbprint, upper-case hex.
        not_after: expiry, aware UTC.
        days_left: whole days from the run's start to ``not_after`` (negative once expired).
    """

    purpose: str
    subject: str
    sha1: str
    not_after: datetime
    days_left: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape stored in history)."""
        return {"purpose": self.purpose, "subject": self.subject, "sha1": self.sha1,
                "not_after": self.not_after.isoformat(), "days_left": self.days_left}


def run_certificates(result: RunResult) -> list[CertificateRow]:
    """The certificates of ``result``, soonest expiry first, one row per (purpose, thumbprint).

    Rows come from ``result.certificates`` (the calendar); entries without a readable expiry are
    left out. Days left are the calendar's, else counted from ``result.started_at``.
    """
    now = _utc(result.started_at)
    rows = [r for r in (_from_calendar(entry, now) for entry in result.certificates) if r is not None]
    return _dedupe(rows)


def certificate_rows_from_json(items: Any) -> list[CertificateRow]:
    """Rebuild rows from their :meth:`CertificateRow.as_dict` form (history); bad items skipped."""
    rows = []
    for item in items or ():
        try:
            rows.append(CertificateRow(str(item["purpose"]), str(item["subject"]), str(item["sha1"]),
                                       _utc(datetime.fromisoformat(item["not_after"])), int(item["days_left"])))
        except (KeyError, TypeError, ValueError):
            continue
    return rows


def _dedupe(rows: list[CertificateRow]) -> list[CertificateRow]:
    seen: dict[tuple[str, str], CertificateRow] = {}
    for row in rows:
        seen.setdefault((row.purpose, row.sha1), row)
    return sorted(seen.values(), key=lambda r: (r.not_after, r.purpose, r.sha1))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _from_calendar(entry: CalendarEntry, now: datetime) -> CertificateRow | None:
    """A row from the engine's certificate calendar (an entry without a readable expiry has none)."""
    if entry.not_after is None:
        return None
    not_after = _utc(entry.not_after)
    return CertificateRow(purpose=entry.role, subject=entry.subject or "", sha1=entry.sha1, not_after=not_after,
                          days_left=entry.days_left if entry.days_left is not None else days_left(not_after, now))
