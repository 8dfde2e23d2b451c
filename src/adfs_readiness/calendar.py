"""The certificate calendar: every certificate seen in a run, in one list ordered by expiry.

Sources:
  * the federation metadata fact: token-signing and token-decrypting certificates (built in here,
    because that fact lives in the lead's core module);
  * any fact offering ``calendar_certificates()`` (an iterable of objects with ``role``,
    ``certificate`` (:class:`~adfs_readiness.facts.CertificateInfo`) and ``where``): the TLS fact
    (SSL certificate per node and proxy and the chains sent), the certificate-file fact, and
    whatever later areas add (LDAPS, trust certificates) — that method is the extension point,
    no registration needed.

Pure: no I/O; days are counted against the run's ``now``. The engine calls :func:`build_calendar`
and stores the result on :class:`~adfs_readiness.model.RunResult` (``certificates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from adfs_readiness.api import days_left
from adfs_readiness.facts import METADATA_FACT, CertificateInfo, FederationMetadata, KeyUse, ProbeError

__all__ = ["CalendarEntry", "build_calendar", "calendar_dicts"]


@dataclass(frozen=True)
class CalendarEntry:
    """One certificate of the calendar.

    Attributes:
        role: "SSL", "SSL chain", "token-signing", "token-decrypting", "SSL (file)", ... (as the
            source names it; several roles of one certificate are joined with " / ").
        subject: RFC 4514 subject (None when undecodable).
        sha1 / sha256: thumbprints (upper-case hex) of the DER bytes; SHA-1 is what AD FS and
            Entra show.
        not_after: aware UTC datetime (None when unreadable).
        days_left: whole days from the run's time to ``not_after`` (negative once expired).
        where: where it was seen ("service 10.0.0.10:443", "metadata https://...").
    """

    role: str
    subject: str | None
    sha1: str
    sha256: str
    not_after: datetime | None
    days_left: int | None
    where: tuple[str, ...]


def _metadata_certificates(fact: FederationMetadata) -> Iterable[tuple[str, CertificateInfo, str]]:
    document = fact.document
    if document is None:
        return []
    found = []
    for _, descriptor in document.key_descriptors():
        role = "token-decrypting" if descriptor.use is KeyUse.ENCRYPTION else "token-signing"
        found.extend((role, cert, f"metadata {fact.source}") for cert in descriptor.certificates)
    return found


def _seen(facts: Mapping[str, Any]) -> Iterable[tuple[str, CertificateInfo, str]]:
    for key, fact in facts.items():
        if fact is None or isinstance(fact, ProbeError):
            continue
        if key == METADATA_FACT and isinstance(fact, FederationMetadata):
            yield from _metadata_certificates(fact)
            continue
        provider = getattr(fact, "calendar_certificates", None)
        if callable(provider):
            for item in provider():
                yield item.role, item.certificate, item.where


def build_calendar(facts: Mapping[str, Any], now: datetime) -> tuple[CalendarEntry, ...]:
    """Every certificate of ``facts`` (fact key -> fact or ProbeError), one entry per (role,
    SHA-1) with every place it was seen, soonest expiry first (unreadable dates last). Never
    raises for a fact that cannot contribute."""
    merged: dict[tuple[str, str], tuple[CertificateInfo, list[str]]] = {}
    for role, cert, where in _seen(facts):
        if not cert.sha1:
            continue  # text that held no certificate: nothing to put on a calendar
        entry = merged.setdefault((role, cert.sha1), (cert, []))
        if where not in entry[1]:
            entry[1].append(where)
    entries = [
        CalendarEntry(role=role, subject=cert.subject, sha1=cert.sha1, sha256=cert.sha256, not_after=cert.not_after,
                      days_left=days_left(cert.not_after, now) if cert.not_after else None, where=tuple(where))
        for (role, _), (cert, where) in merged.items()
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return tuple(sorted(entries, key=lambda e: (e.not_after or far, e.role, e.sha1)))


def calendar_dicts(entries: Iterable[CalendarEntry]) -> list[dict[str, Any]]:
    """JSON-ready calendar entries (the report's ``certificates`` array)."""
    return [{"role": e.role, "subject": e.subject, "sha1": e.sha1, "sha256": e.sha256,
             "not_after": e.not_after.isoformat() if e.not_after else None, "days_left": e.days_left,
             "where": list(e.where)} for e in entries]
