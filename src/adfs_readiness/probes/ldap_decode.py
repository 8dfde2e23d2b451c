"""Decoding of Active Directory attribute values (pure functions, no I/O).

Sources: MS-DTYP 2.3.4 (GUID packet: Data1-3 little-endian), MS-DTYP 2.4.2 (SID binary form),
RFC 4517 3.3.13 (GeneralizedTime), MS-ADA1/MS-ADA3 (accountExpires, pwdLastSet, maxPwdAge as
FILETIME / negative 100-ns intervals). Entra Connect's ImmutableID is the base64 of the
objectGUID's raw 16 bytes (or of ms-DS-ConsistencyGuid, which holds the same bytes).
"""

from __future__ import annotations

import base64
import re
import struct
import uuid
from datetime import datetime, timedelta, timezone

__all__ = [
    "guid_from_bytes",
    "immutable_id",
    "sid_from_bytes",
    "parse_generalized_time",
    "parse_int",
    "interval_seconds",
    "text",
]

_GENERALIZED = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)?$")


def guid_from_bytes(raw: bytes) -> str:
    """objectGUID bytes -> the GUID string AD shows (Data1-3 little-endian). Raises ValueError
    unless ``raw`` is 16 bytes."""
    if len(raw) != 16:
        raise ValueError(f"a GUID has 16 bytes, got {len(raw)}")
    return str(uuid.UUID(bytes_le=raw))


def immutable_id(raw: bytes) -> str:
    """Entra ID's ImmutableID (sourceAnchor) of an objectGUID / ms-DS-ConsistencyGuid: base64 of
    the raw bytes, not of the GUID string."""
    return base64.b64encode(raw).decode("ascii")


def sid_from_bytes(raw: bytes) -> str:
    """objectSid bytes -> "S-1-5-21-...". Raises ValueError for malformed input."""
    if len(raw) < 8:
        raise ValueError("a SID has at least 8 bytes")
    revision, count = raw[0], raw[1]
    if len(raw) != 8 + 4 * count:
        raise ValueError(f"SID with {count} sub-authorities must have {8 + 4 * count} bytes, got {len(raw)}")
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack(f"<{count}I", raw[8:]) if count else ()
    return "S-" + "-".join(str(x) for x in (revision, authority, *subs))


def parse_generalized_time(value: str | bytes) -> datetime | None:
    """GeneralizedTime ("20261130120000.0Z", "20261130120000Z", with offsets) -> aware UTC
    datetime; None when malformed or outside datetime's range (year 10000 is not an error)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    m = _GENERALIZED.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5] or 0))
            moment -= sign * offset
    except (ValueError, OverflowError):
        return None
    return moment


def parse_int(value: str | bytes | None) -> int | None:
    """An INTEGER / LargeInteger attribute value -> int (None when absent or not a number)."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def interval_seconds(value: int | None) -> int | None:
    """A negative 100-ns interval (maxPwdAge, lockoutDuration) -> positive whole seconds; None for
    "never" (the minimum int64), for 0 (which also means "no limit" for maxPwdAge) and for None."""
    if value is None or value == -9223372036854775808 or value == 0:
        return None
    return abs(value) // 10**7


def text(raw: bytes) -> str:
    """A directory string value (UTF-8 on the wire); undecodable bytes are shown escaped."""
    return raw.decode("utf-8", "backslashreplace")
