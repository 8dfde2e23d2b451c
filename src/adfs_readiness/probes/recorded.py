"""Recorded facts: a fact gathered once from a real system, stored as JSON, and replayed by runs
that cannot reach that system — the demo lab's directory area on a machine without Samba.

A recording holds one fact (as :func:`adfs_readiness.facts.codec.encode` writes it), its type, when
it was recorded and with what. Replaying it decodes it with today's fact type (a recording made
before the fact's shape changed fails with the command that makes a new one) and moves every time
in it forward by (the run's clock - the recording's clock): a password set 400 days before the
recording is 400 days old on every replay, so the demo's findings do not drift with the calendar.

Times are found by shape, not by field name (the fact types change): ISO 8601 strings with a time
of day, and integers in the FILETIME range of the years 2000..2100 (100-ns intervals since 1601,
the unit AD stores times in; no count or size in a directory fact comes near 1.2e17). "Never"
values (0, the maximum int64) lie outside that range and stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.facts.codec import FactDecodeError, decode

if TYPE_CHECKING:
    from adfs_readiness.probes import ProbeContext
    from adfs_readiness.settings import Settings

__all__ = ["RECORDING_FORMAT", "RECORDING_VERSION", "Recording", "RecordingError", "read_recording",
           "replay", "shift_times", "recording_note", "recorded_or_live", "MAX_RECORDING_BYTES"]

RECORDING_FORMAT = "adfs-readiness-recorded-fact"
RECORDING_VERSION = 1
#: The lab's directory fact is a few hundred kilobytes at most.
MAX_RECORDING_BYTES = 16 * 1024 * 1024

#: FILETIME of 2000-01-01 and 2100-01-01 (100-ns intervals since 1601-01-01 UTC).
_FILETIME_2000 = 125911584000000000
_FILETIME_2100 = 157469184000000000
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?$")


class RecordingError(ValueError):
    """A recording cannot be used: ``str()`` says why and, when its shape is outdated, which
    command records it again."""


@dataclass(frozen=True)
class Recording:
    """A recorded fact.

    Attributes:
        fact_key: the fact it stands for (``directory``).
        fact_type: ``module:QualName`` of the fact's dataclass when recorded.
        recorded_at: the clock of the recording (aware UTC).
        recorded_with: free-form provenance (tool version, Samba version, seed, script).
        fact: the encoded fact (JSON-ready).
        path: where it was read from.
    """

    fact_key: str
    fact_type: str
    recorded_at: datetime
    recorded_with: Mapping[str, Any]
    fact: Any
    path: Path


def read_recording(path: Path) -> Recording:
    """Read a recording file.

    Raises:
        RecordingError: unreadable, too large, not JSON, not a recording, or a newer version.
    """
    from adfs_readiness.files import read_text_capped
    from adfs_readiness.json_input import parse_untrusted_json

    try:
        # A recording may come from anywhere a config points: read as untrusted JSON (depth,
        # item and number caps), as every other JSON input.
        doc = parse_untrusted_json(read_text_capped(path, MAX_RECORDING_BYTES, setting=None))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read the recording ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordingError(f"{path}: not a JSON recording ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != RECORDING_FORMAT:
        raise RecordingError(f"{path}: not an adfs-readiness recorded fact")
    if doc.get("version") != RECORDING_VERSION:
        raise RecordingError(f"{path}: recording version {doc.get('version')!r}; this release reads "
                             f"{RECORDING_VERSION}")
    try:
        recorded_at = datetime.fromisoformat(str(doc["recorded_at"]))
        if recorded_at.tzinfo is None:
            raise ValueError("no time zone")
        return Recording(fact_key=str(doc["fact_key"]), fact_type=str(doc["fact_type"]),
                         recorded_at=recorded_at.astimezone(timezone.utc),
                         recorded_with=dict(doc.get("recorded_with") or {}), fact=doc["fact"], path=Path(path))
    except (KeyError, ValueError, TypeError) as exc:
        raise RecordingError(f"{path}: malformed recording ({exc})") from None


def shift_times(value: Any, delta: timedelta) -> Any:
    """A copy of the JSON-ready ``value`` with every time in it moved by ``delta`` (see the module
    docstring for how times are recognised)."""
    if isinstance(value, dict):
        return {k: shift_times(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_times(v, delta) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and _FILETIME_2000 <= value <= _FILETIME_2100:
        return value + (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return (moment + delta).isoformat()
    return value


def replay(recording: Recording, fact_type: type, now: datetime, *, rerecord: str) -> Any:
    """The recorded fact as a ``fact_type`` object with its times moved to ``now``.

    Raises:
        RecordingError: the recording does not decode with today's ``fact_type``; the message says
            to run ``rerecord`` (the command that records it again).
    """
    shifted = shift_times(recording.fact, now - recording.recorded_at)
    try:
        return decode(fact_type, shifted, recording.fact_key)
    except FactDecodeError as exc:
        raise RecordingError(f"{recording.path}: the recorded {recording.fact_key} fact no longer fits "
                             f"{fact_type.__module__}:{fact_type.__qualname__} ({exc}); record it again with: "
                             f"{rerecord}") from None


def recording_note(recording: Recording) -> str:
    """One line for the report: what was replayed, recorded when, from what."""
    source = recording.recorded_with.get("source") or "a recording"
    return (f"{recording.fact_key} facts replayed from {source}, recorded "
            f"{recording.recorded_at:%Y-%m-%d} ({recording.path.name}); times moved to this run's clock")


def recorded_or_live(live: Callable[[ProbeContext], Any], fact_type: type,
                     recording_of: Callable[[Settings], Path | None], rerecord: str) -> Callable[[ProbeContext], Any]:
    """A probe function: the live probe ``live``, unless ``recording_of(settings)`` names a
    recording, which is then replayed at the probe's clock. A recording that cannot be replayed is
    a ProbeError of kind LOCAL (a file on this machine: the area is not determined, never failed)."""

    def probe(ctx: ProbeContext) -> Any:
        path = recording_of(ctx.config)
        if path is None:
            return live(ctx)
        try:
            return replay(read_recording(path), fact_type, ctx.now, rerecord=rerecord)
        except RecordingError as exc:
            return ProbeError(ProbeErrorKind.LOCAL, str(exc), str(path))

    probe.__doc__ = f"{live.__name__}, or a recording of its fact (settings: lab)"
    return probe
