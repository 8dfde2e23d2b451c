"""The certificate timeline of the HTML report: every certificate seen, on one time axis.

Each certificate is a bar that ends at its expiry, with the stretch where its check warns and the
stretch where it fails shaded (the thresholds the checks used, read from their evidence:
``warn_days`` / ``fail_days``; CHECKS.md's defaults otherwise), and for token-signing and
token-decrypting certificates the AD FS rollover window: AutoCertificateRollover generates the
successor CertificateGenerationThreshold days before expiry and promotes it
CertificatePromotionThreshold days later (20 and 5 by default; the AD FS export's values when
given; https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/ad-fs-certificates-overview
(Certificate requirements / automatic rollover)). A line marks today (the day the run judged at).
Positions are percentages of the axis, so the same markup fits a phone and a printed page; the
axis gives the next four months, where warnings and rollovers happen, almost half its width.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from adfs_readiness.model import RunResult
from adfs_readiness.report._common import jsonable, run_now, utc

__all__ = ["timeline_view"]

#: CHECKS.md defaults (config [thresholds]): warn / fail days left, by certificate role.
_DEFAULT_THRESHOLDS = {"token-signing": (90, 14), "token-decrypting": (90, 14), "tls": (90, 14)}
#: The checks whose evidence carries the thresholds of each role.
_THRESHOLD_CHECKS = {"token-signing.expiry": "token-signing", "token-decrypting.expiry": "token-decrypting",
                     "tls.certificate-expiry": "tls"}
#: AD FS defaults of CertificateGenerationThreshold / CertificatePromotionThreshold (days).
_ROLLOVER_DEFAULTS = (20, 5)
_ROLLOVER_ROLES = ("token-signing", "token-decrypting")
#: The axis runs from a little before today to the last expiry, at least a year, at most this long.
_MIN_SPAN_DAYS, _MAX_SPAN_DAYS, _LEAD_DAYS = 400, 760, 30
#: The next months are where warnings and rollovers happen: they get this share of the width
#: (the axis is linear in two pieces, with a tick at every month before the knee).
_NEAR_DAYS, _NEAR_SHARE = 120, 45.0


def timeline_view(result: RunResult) -> dict[str, Any] | None:
    """The timeline as template data, None when the run saw no certificate.

    Returns ``{"rows": [...], "ticks": [...], "today": {...}, "legend": {...}}``; every position
    is a percentage (0-100) of the axis width.
    """
    entries = [jsonable(e) for e in result.certificates]
    if not entries:
        return None
    today = utc(run_now(result))
    expiries = [e for e in (_when(x.get("not_after")) for x in entries) if e is not None]
    first = min([today - timedelta(days=_LEAD_DAYS)] + [max(e, today - timedelta(days=180)) for e in expiries])
    last = max([today + timedelta(days=_MIN_SPAN_DAYS)] + expiries)
    last = min(last, first + timedelta(days=_MAX_SPAN_DAYS))
    knee = today + timedelta(days=_NEAR_DAYS)
    near, far = (knee - first).total_seconds(), (last - knee).total_seconds()

    def at(moment: datetime) -> float:
        if moment <= knee:
            share = _NEAR_SHARE * (moment - first).total_seconds() / near
        else:
            share = _NEAR_SHARE + (100 - _NEAR_SHARE) * (moment - knee).total_seconds() / far
        return round(max(0.0, min(100.0, share)), 2)

    thresholds = _thresholds(result)
    generation, promotion = _rollover_thresholds(result.facts)
    rows = []
    for e in entries:
        role = str(e.get("role") or "certificate")
        not_after = _when(e.get("not_after"))
        days = e.get("days_left")
        kind = next((k for k in _ROLLOVER_ROLES if k in role), "tls")  # "SSL", "SSL chain (file)": tls
        warn_days, fail_days = thresholds[kind]
        row: dict[str, Any] = {
            "role": role, "subject": e.get("subject") or "(undecodable)", "sha1": e.get("sha1") or "",
            "where": e.get("where") or [], "not_after_iso": e.get("not_after"),
            "not_after_text": (e.get("not_after") or "unknown")[:10], "warn_days": warn_days,
            "fail_days": fail_days, "rollover": None, "clipped": False,
        }
        if not_after is None or not isinstance(days, int):
            row.update(band="error", days_text="expiry unreadable", end=0.0, warn_at=0.0, fail_at=0.0)
            rows.append(row)
            continue
        if days < 0:
            band, text = "fail", f"expired {-days} day{'s' if days != -1 else ''} ago"
        else:
            band = "fail" if days < fail_days else "warn" if days < warn_days else "pass"
            text = f"{days} day{'s' if days != 1 else ''} left"
        row.update(band=band, days_text=text, end=at(not_after), clipped=not_after > last,
                   warn_at=at(not_after - timedelta(days=warn_days)), fail_at=at(not_after - timedelta(days=fail_days)),
                   warn_from=(not_after - timedelta(days=warn_days)).date().isoformat(),
                   fail_from=(not_after - timedelta(days=fail_days)).date().isoformat())
        if kind in _ROLLOVER_ROLES:
            start, end = not_after - timedelta(days=generation), not_after - timedelta(days=generation - promotion)
            row["rollover"] = {"start": at(start), "width": max(0.6, at(end) - at(start)),
                               "text": f"{start.date().isoformat()} to {end.date().isoformat()}"}
        rows.append(row)
    return {
        "rows": rows,
        "today": {"at": at(today), "text": today.date().isoformat()},
        "ticks": _ticks(first, knee, last, at),
        "legend": {"generation": generation, "promotion": promotion},
    }


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _thresholds(result: RunResult) -> dict[str, tuple[int, int]]:
    """(warn, fail) days by role: what the expiry checks of this run used, else the defaults."""
    out = dict(_DEFAULT_THRESHOLDS)
    for f in result.findings:
        role = _THRESHOLD_CHECKS.get(f.check_id)
        warn, fail = f.evidence.get("warn_days"), f.evidence.get("fail_days")
        if role and isinstance(warn, int) and isinstance(fail, int):
            out[role] = (warn, fail)
    return out


def _rollover_thresholds(facts: Mapping[str, Any]) -> tuple[int, int]:
    """(generation, promotion) days from the AD FS export's properties, else AD FS's defaults."""
    export = facts.get("adfs_export")
    properties = export.get("properties") if isinstance(export, Mapping) else None
    if isinstance(properties, Mapping):
        generation = properties.get("certificate_generation_threshold")
        promotion = properties.get("certificate_promotion_threshold")
        if isinstance(generation, int) and isinstance(promotion, int) and 0 <= promotion <= generation <= 365:
            return generation, promotion
    return _ROLLOVER_DEFAULTS


def _ticks(first: datetime, knee: datetime, last: datetime, at: Any) -> list[dict[str, Any]]:
    """Axis marks: the first of every month before the knee, of every quarter after it; labelled
    with the year in January ("2027") and the month otherwise ("Apr", ``minor``: narrow screens
    leave those labels out)."""
    tick = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ticks = []
    while tick <= last:
        # A label too close to the end would run out of the axis.
        if tick >= first and (tick <= knee or (tick.month - 1) % 3 == 0) and at(tick) <= 94:
            ticks.append({"at": at(tick), "text": str(tick.year) if tick.month == 1 else tick.strftime("%b"),
                          "minor": tick.month != 1})
        tick = (tick + timedelta(days=32)).replace(day=1)
    return ticks
