"""Reading values out of ``ConvertTo-Json`` output, as Windows PowerShell 5.1 and PowerShell 7 write
it, without ever raising: every value that is missing, of the wrong type or cut off becomes a
problem (a sentence naming where it was) and None.

The shapes handled:

* dates: ``"\\/Date(1700000000000)\\/"`` (Windows PowerShell 5.1; the JSON parser already undid
  the ``\\/``), ISO 8601 (PowerShell 7 and the collector), or a ``{"value": ..., "DateTime": ...}``
  wrapper (a DateTime with extended type data);
* enums: names (the collector writes ``"$value"``) or numbers (a plain ConvertTo-Json): numbers
  are kept as their digits and reported;
* depth truncation: beyond ``-Depth`` ConvertTo-Json writes an object as its type name or as
  ``@{Name=...}`` text: reported as cut off;
* one-element arrays written as the bare element, and ``null`` for an empty pipeline.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from adfs_readiness.facts import CertificateInfo
from adfs_readiness.probes.certificates import certificate_from_base64

__all__ = ["parse_ps_date", "ci", "items", "ExportReader", "truncated"]

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
# What ConvertTo-Json writes for an object beyond its -Depth: "@{A=1; B=2}" (a PSCustomObject),
# "System.Collections.Hashtable", "System.Object[]", "Microsoft.IdentityServer...".
_CUT_OFF = re.compile(r"^(@\{.*\}|(System|Microsoft)(\.[A-Za-z0-9_`]+)+(\[\])?)$", re.S)


def parse_ps_date(value: Any) -> datetime | None:
    """A ConvertTo-Json date: ``"/Date(ms)/"`` (Windows PowerShell 5.1; the JSON escape ``\\/``
    is already undone by the JSON parser), an ISO 8601 string (PowerShell 7), or a
    ``{"value": ..., "DateTime": ...}`` wrapper. Aware UTC datetime, None when unreadable."""
    if isinstance(value, dict):
        value = value.get("value", value.get("DateTime"))
    if not isinstance(value, str):
        return None
    match = _MS_DATE.match(value.strip())
    if match:
        if len(match.group(1)) > 16:  # beyond year 300000: not a date (and int() of 5,000 digits raises)
            return None
        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match.group(1)))
        except OverflowError:
            return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def ci(obj: Any) -> dict[str, Any]:
    """A JSON object with lower-cased keys (PowerShell property names are case-insensitive)."""
    return {k.lower(): v for k, v in obj.items()} if isinstance(obj, dict) else {}


def items(value: Any) -> list:
    """A JSON array as a list: ConvertTo-Json writes a one-element pipeline as the bare element."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def truncated(value: Any) -> bool:
    """True for what ConvertTo-Json writes in place of an object beyond its -Depth."""
    return isinstance(value, str) and bool(_CUT_OFF.match(value.strip()))


class ExportReader:
    """Typed reads with problems collected in :attr:`problems` (``where`` prefixes each one)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def section(self, obj: dict, key: str, where: str) -> dict | None:
        """A nested object, None (with a problem) when it is cut off or not an object."""
        value = obj.get(key.lower())
        if value is None:
            return None
        if isinstance(value, dict):
            return ci(value)
        if truncated(value):
            self.problem(f"{where}.{key} was cut off by ConvertTo-Json's -Depth limit ({str(value)[:60]!r}); "
                         f"re-run the bundled collector")
        else:
            self.problem(f"{where}.{key} is not an object")
        return None

    def listing(self, obj: dict, key: str, where: str) -> list | None:
        """A list of objects (a bare object counts as one); None when absent."""
        value = obj.get(key.lower())
        if value is None:
            return None
        result = []
        for index, item in enumerate(items(value)):
            if isinstance(item, dict):
                result.append(ci(item))
            elif truncated(item):
                self.problem(f"{where}.{key}[{index}] was cut off by ConvertTo-Json's -Depth limit; re-run the "
                             f"bundled collector")
            else:
                self.problem(f"{where}.{key}[{index}] is not an object")
        return result

    def boolean(self, obj: dict, key: str, where: str) -> bool | None:
        value = obj.get(key.lower())
        if isinstance(value, bool):
            return value
        if value is not None:
            self.problem(f"{where}.{key} = {value!r} is not true/false")
        return None

    def integer(self, obj: dict, key: str, where: str) -> int | None:
        """A whole number; a string of digits counts (CIM writes some numbers as strings)."""
        value = obj.get(key.lower())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 18:
            return int(value.strip())
        if value is not None:
            self.problem(f"{where}.{key} = {value!r} is not a whole number")
        return None

    def text(self, obj: dict, key: str, where: str) -> str | None:
        """A string; None (with a problem) for a cut-off object or another type."""
        value = obj.get(key.lower())
        if isinstance(value, str):
            if truncated(value):
                self.problem(f"{where}.{key} was cut off by ConvertTo-Json's -Depth limit; re-run the bundled "
                             f"collector")
                return None
            return value
        if value is not None and not isinstance(value, (dict, list)):
            return str(value)
        if value is not None:
            self.problem(f"{where}.{key} is not text")
        return None

    def name(self, obj: dict, key: str, where: str) -> str | None:
        """An enum value's name. A number (ConvertTo-Json without the collector's conversion) is
        kept as its digits and reported."""
        value = obj.get(key.lower())
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("Value", value.get("value")), str):
            return value.get("Value", value.get("value"))
        if isinstance(value, int) and not isinstance(value, bool):
            self.problem(f"{where}.{key} is the number {value}, not a name (an enum serialised by "
                         f"ConvertTo-Json without the collector); re-run the bundled collector")
            return str(value)
        return None

    def text_list(self, obj: dict, key: str, where: str) -> tuple[str, ...] | None:
        value = obj.get(key.lower())
        if value is None:
            return None
        values = items(value)
        if all(isinstance(i, str) for i in values):
            return tuple(values)
        self.problem(f"{where}.{key} = {value!r} is not a list of names")
        return tuple(str(i) for i in values)

    def date(self, obj: dict, key: str, where: str) -> datetime | None:
        value = obj.get(key.lower())
        if value is None:
            return None
        parsed = parse_ps_date(value)
        if parsed is None:
            self.problem(f"{where}.{key} = {value!r} is not a date")
        return parsed

    def certificate(self, value: Any, where: str) -> CertificateInfo | None:
        """A certificate: ``{"RawData": "<base64>"}`` as the collector writes it, or the byte list a
        raw ConvertTo-Json of an X509Certificate2 gives."""
        obj = ci(value)
        raw = obj.get("rawdata") if obj else value
        if isinstance(raw, list) and all(isinstance(b, int) for b in raw):
            raw = base64.b64encode(bytes(b & 0xFF for b in raw)).decode("ascii")
        if not isinstance(raw, str) or not raw:
            self.problem(f"{where}: no certificate bytes (RawData)")
            return None
        info = certificate_from_base64(raw)
        if not info.decodable:
            self.problem(f"{where}: the certificate could not be decoded")
        return info
