"""The certificates of a run and the days each has left, read generically from a RunResult.

Machine outputs (Nagios perfdata, Prometheus, CSV), the history ("moved closer to expiry") and
the fleet index all need "which certificates, and how long until each expires". The engine's
certificate calendar (``RunResult.certificates``, see :mod:`adfs_readiness.calendar`) is used as
it is. A result without one (built by hand, or from facts alone) is read from the gathered
facts' JSON form:

* the federation metadata fact: the certificates of ``KeyDescriptor use="signing"`` are
  token-signing, ``use="encryption"`` token-decrypting (an unspecified use serves both, as the
  SAML metadata specification says; it is listed as token-signing);
* any other object in any fact with a ``sha1`` thumbprint and a ``not_after`` date is a
  certificate; its purpose is the fact key, or ``tls`` when it sits under a ``tls`` / ``chain``
  key (a TLS peer chain).

Only model-level data is read (no probes, no engine), so renderers may import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

from adfs_readiness.api import days_left
from adfs_readiness.calendar import CalendarEntry
from adfs_readiness.model import RunResult

__all__ = ["CertificateRow", "run_certificates", "certificate_rows_from_json"]


@dataclass(frozen=True)
class CertificateRow:
    """One certificate of a run.

    Attributes:
        purpose: "token-signing", "token-decrypting", "tls", or the fact key it was found under.
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

    Prefers ``result.certificates`` when present and non-empty; else reads the facts (see the
    module docstring). Days left are counted from ``result.started_at`` (the run's clock).
    """
    now = _utc(result.started_at)
    rows = [r for r in (_from_calendar(entry, now) for entry in result.certificates) if r is not None]
    if not rows:
        rows = list(_from_facts(result.facts, now))
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


def _days_left(not_after: datetime, now: datetime) -> int:
    # One rule for days everywhere (the checks', the calendar's, the history's): api.days_left.
    return days_left(not_after, now)


def _from_calendar(entry: CalendarEntry, now: datetime) -> CertificateRow | None:
    """A row from the engine's certificate calendar (an entry without a readable expiry has none)."""
    if entry.not_after is None:
        return None
    not_after = _utc(entry.not_after)
    return CertificateRow(purpose=entry.role, subject=entry.subject or "", sha1=entry.sha1, not_after=not_after,
                          days_left=entry.days_left if entry.days_left is not None else _days_left(not_after, now))


def _cert_row(obj: Mapping[str, Any], purpose: str, now: datetime) -> CertificateRow | None:
    try:
        not_after = _utc(datetime.fromisoformat(str(obj["not_after"])))
    except (KeyError, ValueError):
        return None
    return CertificateRow(purpose, str(obj.get("subject") or obj.get("subject_cn") or ""), str(obj["sha1"]),
                          not_after, _days_left(not_after, now))


def _from_facts(facts: Mapping[str, Any], now: datetime) -> Iterator[CertificateRow]:
    for key, fact in facts.items():
        if not isinstance(fact, Mapping):
            continue
        document = fact.get("document") if key == "metadata" else None
        if isinstance(document, Mapping):
            for role in document.get("roles") or ():
                for kd in (role or {}).get("key_descriptors") or ():
                    purpose = "token-decrypting" if kd.get("use") == "encryption" else "token-signing"
                    for cert in kd.get("certificates") or ():
                        row = _cert_row(cert, purpose, now) if isinstance(cert, Mapping) else None
                        if row is not None:
                            yield row
        yield from _walk(fact, key, now, skip_document=isinstance(document, Mapping))


def _walk(value: Any, purpose: str, now: datetime, skip_document: bool = False) -> Iterator[CertificateRow]:
    if isinstance(value, Mapping):
        if "sha1" in value and "not_after" in value:
            row = _cert_row(value, purpose, now)
            if row is not None:
                yield row
            return
        for k, v in value.items():
            if skip_document and k == "document":
                continue
            yield from _walk(v, "tls" if k in ("tls", "chain") else purpose, now)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, purpose, now)
